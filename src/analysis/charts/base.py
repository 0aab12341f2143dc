"""House style, the :class:`Chart` container and small helpers shared by every chart module."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure

DARK_BLUE = "#12436D"
TURQUOISE = "#28A197"
DARK_PINK = "#801650"
ORANGE = "#F46A25"
DARK_GREY = "#3D3D3D"
LIGHT_PURPLE = "#A285D1"
CATEGORICAL = [DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE]
"""Categorical colours, to be used in this order (at most six series on one chart)."""

MID_BLUE = "#2073BC"
LIGHT_BLUE = "#6BACE6"
PALE_BLUE = "#DCEBF8"
SEQUENTIAL_BLUES = LinearSegmentedColormap.from_list(
    "house_blues", [PALE_BLUE, LIGHT_BLUE, MID_BLUE, DARK_BLUE]
)
"""Single-hue sequential ramp (pale to dark blue) for maps and ordered classes."""

MISSING_GREY = "#D9D9D9"
REFERENCE_GREY = "#6F6F6F"
SHADE_GREY = "#EEEEEE"

HOUSE_RC = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 11,
    "axes.labelcolor": DARK_GREY,
    "axes.edgecolor": "#8C8C8C",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E1E1E1",
    "grid.linewidth": 0.7,
    "xtick.color": DARK_GREY,
    "ytick.color": DARK_GREY,
    "legend.frameon": False,
    "legend.fontsize": 10,
    "axes.prop_cycle": cycler(color=CATEGORICAL),
    "figure.dpi": 100,
    "savefig.dpi": 150,
}


def apply_house_style() -> None:
    """Set matplotlib rcParams to the house style (font sizes, no top/right spines, light grid).

    The chart functions apply the same settings locally, so calling this is only needed for
    figures drawn by hand.
    """
    mpl.rcParams.update(HOUSE_RC)


def sequential_colours(k: int) -> list[str]:
    """``k`` hex colours from pale to dark blue (the map ramp)."""
    if k < 1:
        return []
    if k == 1:
        return [MID_BLUE]
    return [to_hex(SEQUENTIAL_BLUES(v)) for v in np.linspace(0.12, 1.0, k)]


@dataclass
class Chart:
    """A finished figure with what a reader needs to understand it without seeing it.

    The title and the source are printed once, as text next to the image (the HTML
    ``<figure>`` of :meth:`_repr_html_`: the title in its ``<figcaption>`` above the image,
    the source in a note below it), never drawn inside the figure, so a PDF or web page
    shows each once and screen readers and text search find them.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    title : str
        The chart's title (the caption).
    alt_text : str
        Plain-English description stating the key facts (highest, lowest, signals...).
    source : str
        Data source and year, shown below the chart.
    data : DataFrame or None
        The figures drawn, so an analyst can inspect or re-plot them.
    """

    figure: Figure
    title: str
    alt_text: str
    source: str
    data: pd.DataFrame | None = None

    def to_png(self, dpi: int = 150) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.to_png()).decode("ascii")
        return (
            '<figure class="chart">'
            f'<figcaption class="chart-title"><strong>{html.escape(self.title)}</strong>'
            "</figcaption>"
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt_text)}" '
            'style="max-width:100%;height:auto">'
            '<p class="chart-source" style="font-size:9pt;color:#3d3d3d;margin:1mm 0 0 0">'
            f"Source: {html.escape(self.source)}</p></figure>"
        )

    def save(self, path: str | Path, dpi: int = 150) -> Path:
        """Write the figure (format from the suffix: .png, .svg, .pdf) and return the path.

        A ``.png`` or ``.svg`` also gets a sibling ``.alt.txt`` holding the alt text. The
        file holds the figure only: its title and source are :attr:`title` and
        :attr:`source` (print them next to it).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
        if path.suffix.lower() in (".png", ".svg"):
            path.with_suffix(".alt.txt").write_text(self.alt_text + "\n", encoding="utf-8")
        return path


# --------------------------------------------------------------------------- helpers


def new_figure(width: float = 9.0, height: float = 5.0) -> tuple[Figure, object]:
    """A house-style figure (not registered with pyplot) with one axes."""
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.subplots()
    return fig, ax


def finish(fig: Figure, ax: object, title: str, source: str) -> None:
    """Last touches common to every chart. The title and the source are not drawn on the
    figure (see :class:`Chart`); they are kept on it as metadata for anyone saving it."""
    fig.set_label(title)
    ax.set_gid("chart")


def rows_height(n_rows: int, per_row: float = 0.32, base: float = 1.4, least: float = 2.5) -> float:
    """Figure height (inches) for a chart with ``n_rows`` category rows: grows with the rows
    so long lists (24 crime types) keep readable row spacing."""
    return max(least, per_row * n_rows + base)


def plain_number(v: float) -> str:
    """A tick label as a plain number: 0.5, 1, 2, 1,000 (never 5 × 10⁻¹)."""
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else ""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.6g}"


PLAIN_FORMATTER = mticker.FuncFormatter(lambda v, _: plain_number(v))


def plain_log_axis(axis: object, low: float, high: float) -> list[float]:
    """Put plain-number ticks on a log ``axis`` (``ax.xaxis`` or ``ax.yaxis``) covering
    ``low`` to ``high``: doublings (0.25, 0.5, 1, 2, 4) when the range spans less than a
    factor of 64, else 1-2-5 steps (0.1, 0.2, 0.5, 1, 2, 5...); at most 9 ticks, no minor
    labels. Returns the tick values."""
    low, high = float(min(low, high)), float(max(low, high))
    if high / low <= 64:
        k0, k1 = int(np.floor(np.log2(low))), int(np.ceil(np.log2(high)))
        candidates = [2.0**k for k in range(k0, k1 + 1)]
    else:
        candidates = [
            m * 10.0**e
            for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
            for m in (1, 2, 5)
        ]
    ticks = [t for t in candidates if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
    if len(ticks) < 2:  # a very narrow range: a few plain steps inside it
        ticks = [float(t) for t in mticker.MaxNLocator(4).tick_values(low, high) if t > 0]
    while len(ticks) > 9:
        ticks = ticks[::2]
    axis.set_major_locator(mticker.FixedLocator(ticks))
    axis.set_major_formatter(PLAIN_FORMATTER)
    axis.set_minor_locator(mticker.NullLocator())
    axis.set_minor_formatter(mticker.NullFormatter())
    return ticks


def number(x: float) -> str:
    """A number for alt text: thousands separators, sensible decimals."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "not available"
    x = float(x)
    if x == int(x):
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:,.2f}"


def labels_of(index: Sequence) -> list[str]:
    """Labels of an index: months as ``YYYY-MM``, anything else as text."""
    out = []
    for value in index:
        if isinstance(value, pd.Timestamp | pd.Period):
            out.append(value.strftime("%Y-%m"))
        else:
            out.append(str(value))
    return out


def extremes(names: Sequence[str], values: Sequence[float]) -> str:
    """``"Highest: a (3). Lowest: b (1)."`` for alt text."""
    series = pd.Series(list(values), index=list(names), dtype=float).dropna()
    if series.empty:
        return "No values to show."
    hi, lo = series.idxmax(), series.idxmin()
    return f"Highest: {hi} ({number(series[hi])}). Lowest: {lo} ({number(series[lo])})."
