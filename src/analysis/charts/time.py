"""Charts over time: the XmR control chart and the line chart, on a continuous month axis.

When the x values are months (``"YYYY-MM"`` text, timestamps or periods) the axis is true
calendar time: a month missing from a series leaves a gap (a NaN in the line's data, so no
line is drawn across it), the reported quarter can be shaded and the series can be cut at
the end of the quarter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.charts.base import (
    CATEGORICAL,
    DARK_BLUE,
    DARK_GREY,
    HOUSE_RC,
    ORANGE,
    PLAIN_FORMATTER,
    REFERENCE_GREY,
    SHADE_GREY,
    Chart,
    extremes,
    finish,
    labels_of,
    new_figure,
    number,
)

_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})(-\d{2})?$")
_MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def month_ordinal(value) -> int | None:
    """Months since year 0 (``year * 12 + month - 1``) of a month-like value, else None."""
    if isinstance(value, pd.Period):
        value = value.to_timestamp()
    if isinstance(value, pd.Timestamp | np.datetime64):
        value = pd.Timestamp(value)
        return value.year * 12 + value.month - 1
    if hasattr(value, "year") and hasattr(value, "month"):
        return int(value.year) * 12 + int(value.month) - 1
    m = _MONTH_TEXT.match(str(value))
    if m and 1 <= int(m[2]) <= 12:
        return int(m[1]) * 12 + int(m[2]) - 1
    return None


def month_text(ordinal: int) -> str:
    """``"YYYY-MM"`` of a :func:`month_ordinal`."""
    return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"


def _ordinals(values: Sequence) -> np.ndarray | None:
    out = [month_ordinal(v) for v in values]
    if not out or any(o is None for o in out):
        return None
    return np.asarray(out, dtype=int)


def quarter_months(quarter) -> list[str]:
    """The three ``"YYYY-MM"`` months of ``quarter``: a :class:`analysis.params.Quarter`, text
    such as ``"2022-Q4"`` or a quarterly :class:`pandas.Period`."""
    from analysis.params import Quarter

    if isinstance(quarter, pd.Period):
        quarter = Quarter(quarter.year, quarter.quarter)
    elif not isinstance(quarter, Quarter):
        quarter = Quarter.parse(str(quarter).replace("Q", "-Q").replace("--", "-"))
    return list(quarter.months)


def with_gaps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by ``x`` (month ordinals) and insert a NaN at every missing step.

    The series' step is its most common spacing (1 for monthly data, 3 for quarterly
    cohorts); each missing step between two held points becomes a NaN, so a line drawn from
    the result breaks there.
    """
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x)[order], np.asarray(y, dtype=float)[order]
    if len(x) < 2:
        return x, y
    diffs = np.diff(x)
    positive = diffs[diffs > 0]
    step = int(pd.Series(positive).mode().min()) if len(positive) else 1
    xs, ys = [x[0]], [y[0]]
    for prev, cur, value in zip(x[:-1], x[1:], y[1:], strict=True):
        for missing in range(prev + step, cur, step):
            xs.append(missing)
            ys.append(np.nan)
        xs.append(cur)
        ys.append(value)
    return np.asarray(xs), np.asarray(ys, dtype=float)


def month_axis(ax, first: int, last: int, max_ticks: int = 10) -> None:
    """Calendar ticks on a month-ordinal x axis: every 1, 2, 3, 6, 12 or 24 months (the first
    giving at most ``max_ticks``), labelled month over year (``2022`` alone when yearly)."""
    span = last - first + 1
    step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if span / s <= max_ticks), 120)
    start = first + (-first) % step
    ticks = list(range(start, last + 1, step)) or [first]

    def fmt(v, _):
        o = int(round(v))
        if step >= 12 and o % 12 == 0:
            return str(o // 12)
        return f"{_MONTH_NAMES[o % 12]}\n{o // 12}"

    ax.xaxis.set_major_locator(mticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(fmt))
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set_xlim(first - 0.6, last + 0.6)


def shade_quarter(ax, quarter) -> tuple[int, int]:
    """Shade the months of ``quarter`` (from half a month before its first month to half a
    month after its last) and return their ordinals."""
    from analysis.params import Quarter

    months = quarter_months(quarter)
    lo, hi = month_ordinal(months[0]), month_ordinal(months[-1])
    q = Quarter.of_month(months[0])
    ax.axvspan(
        lo - 0.5,
        hi + 0.5,
        facecolor=SHADE_GREY,
        edgecolor="none",
        zorder=0,
        label=f"Reported quarter ({q.label()})",
        gid="quarter_shading",
    )
    return lo, hi


def _end_ordinal(end, quarter) -> int | None:
    if end is not None:
        o = month_ordinal(end)
        if o is None:
            raise ValueError(f"end must be a month such as 2022-12, got {end!r}")
        return o
    if quarter is not None:
        return month_ordinal(quarter_months(quarter)[-1])
    return None


def _thin_ticks(ax: object, labels: list[str], max_ticks: int = 14) -> None:
    step = max(1, int(np.ceil(len(labels) / max_ticks)))
    positions = list(range(0, len(labels), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([labels[i] for i in positions], rotation=45, ha="right")


def _legend_below(fig, ax, title: str | None = None) -> None:
    """The legend in a row under the plot, so the plot keeps the figure's full width."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles, labels, title=title, loc="outside lower center", ncols=min(len(labels), 3),
        alignment="left",
    )  # fmt: skip


# --------------------------------------------------------------------------- SPC


def spc_chart(
    xmr: pd.DataFrame,
    title: str,
    y_label: str,
    source: str,
    quarter=None,
    end=None,
) -> Chart:
    """XmR control chart from :func:`analysis.stats.xmr_chart_data`.

    Draws the series, the mean (centre line), the natural process limits (dashed) and
    highlights special-cause points in orange. The alt text states the mean, the limits, the
    highest and lowest periods and which periods signalled.

    Parameters
    ----------
    quarter : Quarter or str, optional
        The reported quarter (``"2022-Q4"``): its months are shaded.
    end : str, optional
        Last month drawn (``"2022-12"``); later points are dropped. Default: the last month
        of ``quarter`` when given, else every point.

    When the index holds months the x axis is continuous calendar time: a month missing from
    the index leaves a gap in the line (no line is drawn across it).
    """
    from analysis.stats import spc_verdict

    xmr = xmr.copy()
    ords = _ordinals(xmr.index)
    stop = _end_ordinal(end, quarter)
    if ords is not None and stop is not None:
        keep = ords <= stop
        xmr, ords = xmr[keep], ords[keep]
    labels = labels_of(xmr.index)
    fig, ax = new_figure(9.0, 3.5)
    with mpl.rc_context(HOUSE_RC):
        if ords is None:
            x = np.arange(len(xmr), dtype=float)
            value = xmr["value"].to_numpy(dtype=float)
            cols = {c: xmr[c].to_numpy(dtype=float) for c in ("centre", "ucl", "lcl")}
            flagged = xmr["special_cause"].fillna(False).to_numpy(dtype=bool)
        else:
            x, value = with_gaps(ords, xmr["value"].to_numpy(dtype=float))
            frame = xmr.set_axis(ords).sort_index().reindex(x)
            cols = {c: frame[c].ffill().to_numpy(dtype=float) for c in ("centre", "ucl", "lcl")}
            flagged = frame["special_cause"].fillna(False).to_numpy(dtype=bool)
        if quarter is not None and ords is not None:
            shade_quarter(ax, quarter)
        ax.plot(x, value, color=DARK_BLUE, marker="o", markersize=4, lw=1.6, label=y_label)
        ax.plot(x, cols["centre"], color=DARK_GREY, lw=1.2, label="Mean")
        ax.plot(x, cols["ucl"], color=REFERENCE_GREY, lw=1.1, ls="--", label="Process limits")
        ax.plot(x, cols["lcl"], color=REFERENCE_GREY, lw=1.1, ls="--")
        if flagged.any():
            ax.scatter(
                x[flagged],
                value[flagged],
                s=60,
                color=ORANGE,
                edgecolor=DARK_GREY,
                zorder=3,
                label="Special cause",
            )
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(PLAIN_FORMATTER)
        ax.set_xlabel("")
        if ords is None:
            _thin_ticks(ax, labels)
        else:
            last = max(int(x[-1]), stop if (stop is not None and quarter is not None) else 0)
            month_axis(ax, int(x[0]), last)
        _legend_below(fig, ax)
        finish(fig, ax, title, source)
    values = pd.Series(xmr["value"].to_numpy(), index=labels)
    alt = (
        f"Control chart of {y_label} over {int(xmr['value'].notna().sum())} periods from {labels[0]} to {labels[-1]}. "
        f"Mean {number(xmr['centre'].iloc[0])}; process limits {number(xmr['lcl'].iloc[0])} "
        f"to {number(xmr['ucl'].iloc[0])}. {extremes(values.index, values.to_numpy())} "
        + spc_verdict(xmr, y_label)
    )
    if ords is not None:
        gaps = [month_text(int(o)) for o, v in zip(x, value, strict=True) if np.isnan(v)]
        if gaps:
            alt += f" No data for {', '.join(gaps)} (a gap in the line)."
    if quarter is not None:
        alt += f" The reported quarter ({', '.join(quarter_months(quarter))}) is shaded."
    return Chart(fig, title, alt, source, data=xmr)


# --------------------------------------------------------------------------- lines


def line_chart(
    table: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    y_label: str,
    source: str,
    hue: str | None = None,
    quarter=None,
    end=None,
) -> Chart:
    """Line chart of ``y`` over ``x`` (e.g. months), one line per ``hue`` value (at most six).

    When ``x`` holds months the axis is continuous calendar time and each line breaks at a
    missing period of its own spacing (a missing month of a monthly line, a missing
    quarter of a quarterly one). ``quarter`` shades the reported quarter's months; ``end``
    (default: the quarter's last month when ``quarter`` is given) drops later points.

    The alt text gives each line's first and last values and the overall highest point.
    """
    series_names = list(dict.fromkeys(table[hue].astype(str))) if hue else [y_label]
    if len(series_names) > len(CATEGORICAL):
        raise ValueError(
            f"line_chart shows at most {len(CATEGORICAL)} lines, got {len(series_names)}"
        )
    ords = _ordinals(table[x].tolist())
    stop = _end_ordinal(end, quarter)
    if ords is not None and stop is not None:
        table = table[ords <= stop]
        ords = ords[ords <= stop]
    if ords is None:
        xs = list(dict.fromkeys(labels_of(table[x])))
        pos = {v: i for i, v in enumerate(xs)}
    else:
        xs = [month_text(o) for o in sorted(set(ords.tolist()))]
    fig, ax = new_figure(9.0, 3.5)
    facts, gaps = [], []
    with mpl.rc_context(HOUSE_RC):
        if quarter is not None and ords is not None:
            shade_quarter(ax, quarter)
        for j, name in enumerate(series_names):
            part = table if not hue else table[table[hue].astype(str) == name]
            py = pd.to_numeric(part[y], errors="coerce").astype(float).to_numpy()
            if ords is None:
                px = np.asarray([pos[v] for v in labels_of(part[x])])
            else:
                px, py = with_gaps(np.asarray(_ordinals(part[x].tolist())), py)
                held = set(_ordinals(part[x].tolist()).tolist())
                gaps += [f"{month_text(int(o))} ({name})" for o in px if int(o) not in held]
            ax.plot(px, py, color=CATEGORICAL[j], marker="o", markersize=3.5, lw=1.8, label=name)
            valid = ~np.isnan(py)
            if valid.any():
                first, last = np.flatnonzero(valid)[[0, -1]]
                at = [
                    xs[int(px[i])] if ords is None else month_text(int(px[i]))
                    for i in (first, last)
                ]
                facts.append(
                    f"{name}: {number(py[first])} in {at[0]}, {number(py[last])} in {at[1]}"
                )
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(PLAIN_FORMATTER)
        if ords is None:
            _thin_ticks(ax, xs)
        elif len(ords):
            last = max(int(ords.max()), stop if (stop is not None and quarter is not None) else 0)
            month_axis(ax, int(ords.min()), last)
        if hue or quarter is not None:
            _legend_below(fig, ax, title=hue)
        finish(fig, ax, title, source)
    values = pd.to_numeric(table[y], errors="coerce").astype(float)
    where = labels_of(table[x])
    peak = ""
    if values.notna().any():
        i = int(np.nanargmax(values.to_numpy()))
        who = f" ({table[hue].astype(str).iloc[i]})" if hue else ""
        peak = f" Highest: {number(values.iloc[i])} in {where[i]}{who}."
    alt = (
        f"Line chart of {y_label} from {xs[0]} to {xs[-1]}"
        + (f", {len(series_names)} lines by {hue}" if hue else "")
        + f". {'; '.join(facts)}.{peak}"
    )
    if gaps:
        alt += f" No data for {', '.join(gaps)} (gaps in the lines)."
    if quarter is not None and ords is not None:
        alt += f" The reported quarter ({', '.join(quarter_months(quarter))}) is shaded."
    return Chart(fig, title, alt, source, data=table.copy())


# --------------------------------------------------------------------------- small multiples


def small_multiples(
    table: pd.DataFrame,
    x: str,
    y: str,
    facet: str,
    title: str,
    y_label: str,
    source: str,
    quarter=None,
    end=None,
    ncols: int = 3,
) -> Chart:
    """One small line chart per value of ``facet`` (e.g. crime type), on a shared month axis.

    Each panel has its own value scale (counts of different crimes differ a hundredfold),
    breaks at missing months, shades ``quarter`` and stops at ``end`` (default: the
    quarter's last month), like :func:`line_chart`. ``x`` must hold months. The figure
    grows with the number of panels (``ncols`` a row). The alt text gives each panel's value
    in its last month.
    """
    ords_all = _ordinals(table[x].tolist())
    if ords_all is None:
        raise ValueError(f"small_multiples needs months in {x!r}")
    stop = _end_ordinal(end, quarter)
    if stop is not None:
        table, ords_all = table[ords_all <= stop], ords_all[ords_all <= stop]
    names = list(dict.fromkeys(table[facet].astype(str)))
    nrows = max(1, int(np.ceil(len(names) / ncols)))
    first = int(ords_all.min())
    last = max(int(ords_all.max()), stop if (stop is not None and quarter is not None) else 0)
    facts = []
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(9.0, 1.9 * nrows + 0.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        for ax, name in zip(axes, names, strict=False):
            part = table[table[facet].astype(str) == name]
            px, py = with_gaps(
                np.asarray(_ordinals(part[x].tolist())),
                pd.to_numeric(part[y], errors="coerce").to_numpy(dtype=float),
            )
            if quarter is not None:
                shade_quarter(ax, quarter)
            ax.plot(px, py, color=DARK_BLUE, lw=1.5, marker="o", markersize=2)
            ax.set_title(name, loc="left", fontsize=10, fontweight="bold", color=DARK_GREY)
            ax.yaxis.set_major_formatter(PLAIN_FORMATTER)
            ax.yaxis.set_major_locator(mticker.MaxNLocator(3))
            ax.tick_params(labelsize=8)
            month_axis(ax, first, last, max_ticks=4)
            valid = ~np.isnan(py)
            ax.set_ylim(0, 1.12 * float(np.nanmax(py)) if valid.any() else 1.0)
            if valid.any():
                i = np.flatnonzero(valid)[-1]
                facts.append(f"{name} {number(py[i])} in {month_text(int(px[i]))}")
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        for ax in axes[max(0, len(names) - ncols) : len(names)]:
            ax.xaxis.set_tick_params(labelbottom=True)  # the last panel of each column
        fig.supylabel(y_label, fontsize=10, color=DARK_GREY)
        if quarter is not None:
            h, labels = axes[0].get_legend_handles_labels()
            fig.legend(h[:1], labels[:1], loc="outside lower left")
        finish(fig, axes[0], title, source)
    alt = (
        f"{len(names)} small line charts of {y_label} by month, one per {facet}, "
        f"{month_text(first)} to {month_text(int(ords_all.max()))}. Latest: {'; '.join(facts)}."
    )
    if quarter is not None:
        alt += f" The reported quarter ({', '.join(quarter_months(quarter))}) is shaded."
    return Chart(fig, title, alt, source, data=table.copy())
