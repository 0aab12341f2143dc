"""House-style charts: colour-blind-safe, titled, sourced, and carrying alt text.

Every chart function returns a :class:`Chart`. Figures are built with
:class:`matplotlib.figure.Figure` directly (not ``pyplot``), so nothing is registered with
pyplot, nothing is shown twice in Jupyter, and nothing needs closing: Jupyter, nbconvert HTML
and the PDF render the chart through :meth:`Chart._repr_html_`, an HTML ``<figure>`` with an
embedded PNG, its ``alt`` text and a caption.

Colours follow the UK Government Analysis Function guidance on data visualisation colours
(categorical palette in its recommended order; a single-hue blue ramp for maps).
"""

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
from matplotlib.patches import Patch

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

__all__ = [
    "CATEGORICAL",
    "SEQUENTIAL_BLUES",
    "Chart",
    "apply_house_style",
    "bar_by_group",
    "choropleth",
    "forest_plot",
    "funnel_plot",
    "line_chart",
    "sequential_colours",
    "spc_chart",
]


def apply_house_style() -> None:
    """Set matplotlib rcParams to the house style (font sizes, no top/right spines, light grid).

    The chart functions below apply the same settings locally, so calling this is only
    needed for figures drawn by hand.
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

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    title : str
        Shown above the chart and in the caption.
    alt_text : str
        Plain-English description stating the key facts (highest, lowest, signals...).
    source : str
        Data source and year, shown on the figure and in the caption.
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
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt_text)}" '
            'style="max-width:100%;height:auto">'
            f"<figcaption><strong>{html.escape(self.title)}</strong><br>"
            f"Source: {html.escape(self.source)}</figcaption></figure>"
        )

    def save(self, path: str | Path, dpi: int = 150) -> Path:
        """Write the figure (format from the suffix: .png, .svg, .pdf) and return the path.

        A ``.png`` or ``.svg`` also gets a sibling ``.alt.txt`` holding the alt text.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
        if path.suffix.lower() in (".png", ".svg"):
            path.with_suffix(".alt.txt").write_text(self.alt_text + "\n", encoding="utf-8")
        return path


# --------------------------------------------------------------------------- helpers


def _new_figure(width: float = 9.0, height: float = 5.0) -> tuple[Figure, object]:
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.subplots()
    return fig, ax


def _finish(fig: Figure, ax: object, title: str, source: str) -> None:
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold", color=DARK_GREY, wrap=True)
    engine = fig.get_layout_engine()
    if engine is not None:  # keep a strip at the bottom for the source note
        engine.set(rect=(0, 0.045, 1, 0.955))
    fig.text(
        0.01, 0.005, f"Source: {source}", fontsize=8.5, color=DARK_GREY, ha="left", va="bottom"
    )


def _number(x: float) -> str:
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


def _labels(index: Sequence) -> list[str]:
    out = []
    for value in index:
        if isinstance(value, pd.Timestamp | pd.Period):
            out.append(value.strftime("%Y-%m"))
        else:
            out.append(str(value))
    return out


def _thin_ticks(ax: object, labels: list[str], max_ticks: int = 14) -> None:
    step = max(1, int(np.ceil(len(labels) / max_ticks)))
    positions = list(range(0, len(labels), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([labels[i] for i in positions], rotation=45, ha="right")


def _extremes(names: Sequence[str], values: Sequence[float]) -> str:
    series = pd.Series(list(values), index=list(names), dtype=float).dropna()
    if series.empty:
        return "No values to show."
    hi, lo = series.idxmax(), series.idxmin()
    return f"Highest: {hi} ({_number(series[hi])}). Lowest: {lo} ({_number(series[lo])})."


# --------------------------------------------------------------------------- SPC


def spc_chart(xmr: pd.DataFrame, title: str, y_label: str, source: str) -> Chart:
    """XmR control chart from :func:`analysis.stats.xmr_chart_data`.

    Draws the series, the mean (centre line), the natural process limits (dashed) and
    highlights special-cause points in orange. The alt text states the mean, the limits, the
    highest and lowest periods and which periods signalled.
    """
    from analysis.stats import spc_verdict

    labels = _labels(xmr.index)
    x = np.arange(len(xmr))
    fig, ax = _new_figure()
    with mpl.rc_context(HOUSE_RC):
        ax.plot(x, xmr["value"], color=DARK_BLUE, marker="o", markersize=4, lw=1.6, label=y_label)
        ax.plot(x, xmr["centre"], color=DARK_GREY, lw=1.2, label="Mean")
        ax.plot(x, xmr["ucl"], color=REFERENCE_GREY, lw=1.1, ls="--", label="Process limits")
        ax.plot(x, xmr["lcl"], color=REFERENCE_GREY, lw=1.1, ls="--")
        flagged = xmr["special_cause"].to_numpy(dtype=bool)
        if flagged.any():
            ax.scatter(
                x[flagged],
                xmr["value"].to_numpy()[flagged],
                s=60,
                color=ORANGE,
                edgecolor=DARK_GREY,
                zorder=3,
                label="Special cause",
            )
        ax.set_ylabel(y_label)
        ax.set_xlabel("")
        _thin_ticks(ax, labels)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _finish(fig, ax, title, source)
    values = pd.Series(xmr["value"].to_numpy(), index=labels)
    alt = (
        f"Control chart of {y_label} over {len(xmr)} periods from {labels[0]} to {labels[-1]}. "
        f"Mean {_number(xmr['centre'].iloc[0])}; process limits {_number(xmr['lcl'].iloc[0])} "
        f"to {_number(xmr['ucl'].iloc[0])}. {_extremes(values.index, values.to_numpy())} "
        + spc_verdict(xmr, y_label)
    )
    return Chart(fig, title, alt, source)


# --------------------------------------------------------------------------- forest plot


def forest_plot(
    table: pd.DataFrame,
    label: str,
    estimate: str,
    low: str,
    high: str,
    title: str,
    x_label: str,
    source: str,
    reference: float = 1.0,
    log_scale: bool = True,
) -> Chart:
    """Dot-and-interval plot, one row per group, with a vertical reference line.

    Rows without an estimate (e.g. not estimable because of a zero count) are listed on the
    axis with "not estimable" and named in the alt text; on a log scale estimates ≤ 0 are
    treated the same way.
    """
    data = table[[label, estimate, low, high]].copy().reset_index(drop=True)
    est = pd.to_numeric(data[estimate], errors="coerce").astype(float)
    lo = pd.to_numeric(data[low], errors="coerce").astype(float)
    hi = pd.to_numeric(data[high], errors="coerce").astype(float)
    plottable = est.notna() & ((est > 0) if log_scale else True)
    names = data[label].astype(str).tolist()
    y = np.arange(len(data))[::-1]
    fig, ax = _new_figure(8.0, max(2.5, 0.45 * len(data) + 1.5))
    with mpl.rc_context(HOUSE_RC):
        ax.axvline(reference, color=REFERENCE_GREY, lw=1.2, ls="--", zorder=1)
        for i in np.flatnonzero(plottable.to_numpy()):
            e = est[i]
            if not np.isnan(lo[i]) and not np.isnan(hi[i]):
                ax.plot([lo[i], hi[i]], [y[i], y[i]], color=DARK_BLUE, lw=2, zorder=2)
            ax.scatter([e], [y[i]], color=DARK_BLUE, s=45, zorder=3)
        ax.set_yticks(y)
        ax.set_yticklabels(
            [n if ok else f"{n} (not estimable)" for n, ok in zip(names, plottable, strict=True)]
        )
        if log_scale:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(x_label)
        _finish(fig, ax, title, source)
    parts = []
    shown = pd.Series(
        est[plottable].to_numpy(), index=[names[i] for i in np.flatnonzero(plottable)]
    )
    if not shown.empty:
        for name in dict.fromkeys([shown.idxmax(), shown.idxmin()]):
            i = names.index(name)
            interval = (
                f" (95% interval {_number(lo[i])} to {_number(hi[i])})"
                if not (np.isnan(lo[i]) or np.isnan(hi[i]))
                else ""
            )
            parts.append(f"{name} {_number(est[i])}{interval}")
    missing = [n for n, ok in zip(names, plottable, strict=True) if not ok]
    alt = (
        f"Dot and interval chart of {x_label} for {len(data)} groups against a reference of "
        f"{_number(reference)}. Highest and lowest: {'; '.join(parts) if parts else 'none'}."
    )
    above = int(((lo > reference) & plottable).sum())
    below = int(((hi < reference) & plottable).sum())
    alt += f" {above} interval(s) wholly above and {below} wholly below the reference."
    if missing:
        alt += f" Not estimable: {', '.join(missing)}."
    return Chart(fig, title, alt, source)


# --------------------------------------------------------------------------- map


def choropleth(
    gdf: object,
    column: str,
    title: str,
    source: str,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    outline: object | None = None,
    highlight: object | None = None,
    label: str | None = None,
    legend_title: str | None = None,
) -> Chart:
    """Filled map of ``column`` in ``k`` mapclassify classes (``scheme``), pale to dark blue.

    Parameters
    ----------
    gdf : GeoDataFrame
        Areas to shade.
    column : str
        Value to classify; missing values are hatched grey and counted in the legend.
    outline : GeoDataFrame, optional
        Drawn on top as a dark outline (e.g. the force boundary).
    highlight : GeoDataFrame or str, optional
        Areas to outline in orange (e.g. hot spots): a GeoDataFrame or the name of a boolean
        column of ``gdf``.
    label : str, optional
        Column naming the areas in the alt text (default: the first text column).

    The map has equal aspect, no axes and no web tiles; the legend gives each class's bounds
    and the number of areas in it.
    """
    import mapclassify

    values = pd.to_numeric(gdf[column], errors="coerce").astype(float)
    present = values.notna().to_numpy()
    if label is None:
        text_cols = [
            c
            for c in gdf.columns
            if c not in (column, gdf.geometry.name) and pd.api.types.is_string_dtype(gdf[c])
        ]
        label = text_cols[0] if text_cols else None
    names = gdf[label].astype(str).tolist() if label else [str(i) for i in gdf.index]

    minx, miny, maxx, maxy = gdf.total_bounds
    ratio = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
    fig, ax = _new_figure(9.0, float(np.clip(5.5 * ratio + 1.2, 3.5, 10.0)))
    handles = []
    with mpl.rc_context(HOUSE_RC):
        if present.any():
            k_eff = int(min(k, np.unique(values[present]).size))
            classifier = mapclassify.classify(values[present].to_numpy(), scheme=scheme, k=k_eff)
            bins = np.asarray(classifier.bins, dtype=float)
            colours = sequential_colours(len(bins))
            yb = np.asarray(classifier.yb)
            counts = np.bincount(yb, minlength=len(bins))
            shaded = gdf[present]
            shaded.plot(ax=ax, color=[colours[c] for c in yb], edgecolor="white", linewidth=0.3)
            lower = float(values[present].min())
            for i, upper in enumerate(bins):
                lo_b = lower if i == 0 else bins[i - 1]
                handles.append(
                    Patch(
                        facecolor=colours[i],
                        edgecolor="none",
                        label=f"{_number(lo_b)} to {_number(upper)} ({counts[i]} areas)",
                    )
                )
        if (~present).any():
            gdf[~present].plot(
                ax=ax, facecolor=MISSING_GREY, edgecolor="#8C8C8C", hatch="///", linewidth=0.3
            )
            handles.append(
                Patch(
                    facecolor=MISSING_GREY,
                    edgecolor="#8C8C8C",
                    hatch="///",
                    label=f"No data ({int((~present).sum())} areas)",
                )
            )
        n_highlight = 0
        if highlight is not None:
            if isinstance(highlight, str):
                marked = gdf[gdf[highlight].fillna(False).astype(bool)]
            else:
                marked = highlight
            n_highlight = len(marked)
            if n_highlight:
                marked.boundary.plot(ax=ax, color=ORANGE, linewidth=1.8)
                handles.append(
                    Patch(facecolor="none", edgecolor=ORANGE, linewidth=1.8, label="Highlighted")
                )
        if outline is not None:
            outline.boundary.plot(ax=ax, color=DARK_GREY, linewidth=1.2)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.legend(
            handles=handles,
            title=legend_title or column,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )
        _finish(fig, ax, title, source)
    alt = (
        f"Map of {legend_title or column} for {len(gdf)} areas, shaded in "
        f"{len(handles) - int((~present).any()) - int(n_highlight > 0)} classes "
        f"({scheme}); darker is higher. {_extremes(names, values.to_numpy())}"
    )
    if (~present).any():
        alt += f" {int((~present).sum())} areas have no data (hatched grey)."
    if n_highlight:
        alt += f" {n_highlight} areas are outlined in orange."
    return Chart(fig, title, alt, source)


# --------------------------------------------------------------------------- funnel plot


def funnel_plot(
    funnel: pd.DataFrame,
    title: str,
    x_label: str,
    y_label: str,
    source: str,
    label: str | None = None,
    denominator: str | None = None,
    kind: str | None = None,
    per: float | None = None,
) -> Chart:
    """Funnel plot from :func:`analysis.stats.funnel_table` output.

    Each unit is a dot at (denominator, value); the pooled value is a solid line and the 95%
    and 99.8% limits are dashed and dotted curves. Units outside the 99.8% limits are
    labelled (with ``label``, default ``funnel.attrs["label"]``). The limit curves are drawn
    from ``funnel.attrs`` (``kind``, ``per``, ``tau2``, ``denominator``), which
    ``funnel_table`` sets; pass ``denominator``, ``kind`` and ``per`` when they were lost.
    """
    from analysis.stats import funnel_limits

    attrs = funnel.attrs
    denominator = denominator or attrs.get("denominator")
    kind = kind or attrs.get("kind")
    per = per or attrs.get("per")
    if denominator is None or kind is None or per is None:
        raise ValueError(
            "funnel_plot needs funnel_table output (its attrs) or explicit denominator, kind, per"
        )
    label = label or attrs.get("label")
    n = pd.to_numeric(funnel[denominator], errors="coerce").astype(float)
    value = funnel["value"].astype(float)
    target = float(funnel["target"].iloc[0])
    ok = n.notna() & (n > 0) & value.notna()
    grid = np.geomspace(max(n[ok].min() * 0.8, 1e-9), n[ok].max() * 1.1, 200)
    curves = funnel_limits(
        grid,
        target,
        kind=kind,
        per=per,
        tau2=attrs.get("tau2", 0.0),
    )
    names = funnel[label].astype(str).tolist() if label else [str(i) for i in funnel.index]
    out998 = funnel["outside998"].to_numpy(dtype=bool)
    out95 = funnel["outside95"].to_numpy(dtype=bool)
    fig, ax = _new_figure(9.0, 5.5)
    with mpl.rc_context(HOUSE_RC):
        ax.axhline(target, color=DARK_GREY, lw=1.2, label=f"Overall {_number(target)}")
        ax.plot(grid, curves["high95"], color=REFERENCE_GREY, ls="--", lw=1, label="95% limits")
        ax.plot(grid, curves["low95"], color=REFERENCE_GREY, ls="--", lw=1)
        ax.plot(grid, curves["high998"], color=DARK_GREY, ls=":", lw=1.3, label="99.8% limits")
        ax.plot(grid, curves["low998"], color=DARK_GREY, ls=":", lw=1.3)
        inside = ok.to_numpy() & ~out998
        ax.scatter(n[inside], value[inside], color=DARK_BLUE, s=30, zorder=3, label="Unit")
        if out998.any():
            ax.scatter(
                n[out998], value[out998], color=ORANGE, s=45, zorder=4,
                edgecolor=DARK_GREY, label="Outside 99.8% limits",
            )  # fmt: skip
            for i in np.flatnonzero(out998):
                ax.annotate(
                    names[i], (n.iloc[i], value.iloc[i]), xytext=(4, 4),
                    textcoords="offset points", fontsize=9, color=DARK_GREY,
                )  # fmt: skip
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _finish(fig, ax, title, source)
    above = [names[i] for i in np.flatnonzero(out998) if value.iloc[i] > target]
    below = [names[i] for i in np.flatnonzero(out998) if value.iloc[i] < target]
    alt = (
        f"Funnel plot of {y_label} against {x_label} for {int(ok.sum())} units; overall value "
        f"{_number(target)}. {int(out95.sum())} units lie outside the 95% limits and "
        f"{int(out998.sum())} outside the 99.8% limits"
    )
    alt += (
        f" (above: {', '.join(above) or 'none'}; below: {', '.join(below) or 'none'})."
        if out998.any()
        else "."
    )
    alt += " " + _extremes(names, value.to_numpy())
    return Chart(fig, title, alt, source)


# --------------------------------------------------------------------------- bars and lines


def bar_by_group(
    table: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    source: str,
    hue: str | None = None,
    low: str | None = None,
    high: str | None = None,
    horizontal: bool = True,
    value_label: str | None = None,
) -> Chart:
    """Bar chart of ``y`` by the categories in ``x`` (grouped by ``hue``), with error bars.

    Categories keep the order of ``table``. Missing values (e.g. suppressed) draw no bar and
    are named in the alt text. ``value_label`` labels the value axis (default ``y``).
    """
    value_label = value_label or y
    cats = list(dict.fromkeys(table[x].astype(str)))
    hues = list(dict.fromkeys(table[hue].astype(str))) if hue else [None]
    width = 0.8 / len(hues)
    fig, ax = _new_figure(8.5, max(3.0, 0.4 * len(cats) * max(1, len(hues) / 2) + 1.5))
    missing = []
    with mpl.rc_context(HOUSE_RC):
        for j, h in enumerate(hues):
            part = table if h is None else table[table[hue].astype(str) == h]
            part = part.assign(_cat=part[x].astype(str)).set_index("_cat")
            pos = np.arange(len(cats)) + (j - (len(hues) - 1) / 2) * width
            vals = pd.to_numeric(part[y].reindex(cats), errors="coerce").astype(float).to_numpy()
            err = None
            if low and high:
                lo = pd.to_numeric(part[low].reindex(cats), errors="coerce").astype(float)
                hi = pd.to_numeric(part[high].reindex(cats), errors="coerce").astype(float)
                err = np.vstack([vals - lo.to_numpy(), hi.to_numpy() - vals])
                err = np.where(np.isnan(err), 0.0, np.maximum(err, 0.0))
            colour = CATEGORICAL[j % len(CATEGORICAL)]
            kwargs = {"color": colour, "label": h, "error_kw": {"ecolor": DARK_GREY, "lw": 1.2}}
            shown = np.nan_to_num(vals, nan=0.0)
            if horizontal:
                ax.barh(pos, shown, height=width, xerr=err, **kwargs)
            else:
                ax.bar(pos, shown, width=width, yerr=err, **kwargs)
            for p, v in zip(pos, vals, strict=True):
                if np.isnan(v):
                    where = (0, p) if horizontal else (p, 0)
                    ax.annotate(
                        "[c]", where, xytext=(3, 0) if horizontal else (0, 3),
                        textcoords="offset points", fontsize=8, color=DARK_GREY,
                        va="center" if horizontal else "bottom",
                    )  # fmt: skip
            missing += [
                f"{c}{'' if h is None else f' ({h})'}"
                for c, v in zip(cats, vals, strict=True)
                if np.isnan(v)
            ]
        ticks = np.arange(len(cats))
        if horizontal:
            ax.set_yticks(ticks)
            ax.set_yticklabels(cats)
            ax.invert_yaxis()
            ax.set_xlabel(value_label)
            ax.grid(axis="y", visible=False)
        else:
            ax.set_xticks(ticks)
            ax.set_xticklabels(
                cats, rotation=45 if len(cats) > 6 else 0, ha="right" if len(cats) > 6 else "center"
            )
            ax.set_ylabel(value_label)
            ax.grid(axis="x", visible=False)
        if hue:
            ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _finish(fig, ax, title, source)
    names = table[x].astype(str) + (" (" + table[hue].astype(str) + ")" if hue else "")
    alt = (
        f"Bar chart of {value_label} for {len(cats)} categories of {x}"
        + (f" by {hue}" if hue else "")
        + (" with 95% intervals" if low and high else "")
        + f". {_extremes(names.tolist(), pd.to_numeric(table[y], errors='coerce').to_numpy(dtype=float))}"
    )
    if missing:
        alt += f" No value shown (suppressed or missing) for: {', '.join(missing)}."
    return Chart(fig, title, alt, source)


def line_chart(
    table: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    y_label: str,
    source: str,
    hue: str | None = None,
) -> Chart:
    """Line chart of ``y`` over ``x`` (e.g. months), one line per ``hue`` value (at most six).

    The alt text gives each line's first and last values and the overall highest point.
    """
    series_names = list(dict.fromkeys(table[hue].astype(str))) if hue else [y_label]
    if len(series_names) > len(CATEGORICAL):
        raise ValueError(
            f"line_chart shows at most {len(CATEGORICAL)} lines, got {len(series_names)}"
        )
    xs = list(dict.fromkeys(_labels(table[x])))
    pos = {v: i for i, v in enumerate(xs)}
    fig, ax = _new_figure()
    facts = []
    with mpl.rc_context(HOUSE_RC):
        for j, name in enumerate(series_names):
            part = table if not hue else table[table[hue].astype(str) == name]
            px = [pos[v] for v in _labels(part[x])]
            py = pd.to_numeric(part[y], errors="coerce").astype(float).to_numpy()
            ax.plot(px, py, color=CATEGORICAL[j], marker="o", markersize=3.5, lw=1.8, label=name)
            valid = ~np.isnan(py)
            if valid.any():
                first, last = np.flatnonzero(valid)[[0, -1]]
                facts.append(
                    f"{name}: {_number(py[first])} in {xs[px[first]]}, "
                    f"{_number(py[last])} in {xs[px[last]]}"
                )
        ax.set_ylabel(y_label)
        _thin_ticks(ax, xs)
        if hue:
            ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _finish(fig, ax, title, source)
    values = pd.to_numeric(table[y], errors="coerce").astype(float)
    where = _labels(table[x])
    peak = ""
    if values.notna().any():
        i = int(np.nanargmax(values.to_numpy()))
        who = f" ({table[hue].astype(str).iloc[i]})" if hue else ""
        peak = f" Highest: {_number(values.iloc[i])} in {where[i]}{who}."
    alt = (
        f"Line chart of {y_label} from {xs[0]} to {xs[-1]}"
        + (f", {len(series_names)} lines by {hue}" if hue else "")
        + f". {'; '.join(facts)}.{peak}"
    )
    return Chart(fig, title, alt, source)
