"""Comparison charts: forest (dot-and-interval) plot, funnel plot and bar chart."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from analysis.charts.base import (
    CATEGORICAL,
    DARK_BLUE,
    DARK_GREY,
    HOUSE_RC,
    ORANGE,
    REFERENCE_GREY,
    Chart,
    extremes,
    finish,
    new_figure,
    number,
    plain_log_axis,
    plain_number,
    rows_height,
)
from analysis.charts.labels import place_labels

THOUSANDS = mticker.FuncFormatter(lambda v, _: plain_number(v))

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
    treated the same way. A log axis is labelled with plain numbers (0.5, 1, 2, 4), never
    powers of ten. The figure grows with the number of rows.
    """
    data = table[[label, estimate, low, high]].copy().reset_index(drop=True)
    est = pd.to_numeric(data[estimate], errors="coerce").astype(float)
    lo = pd.to_numeric(data[low], errors="coerce").astype(float)
    hi = pd.to_numeric(data[high], errors="coerce").astype(float)
    plottable = est.notna() & ((est > 0) if log_scale else True)
    names = data[label].astype(str).tolist()
    y = np.arange(len(data))[::-1]
    fig, ax = new_figure(8.0, rows_height(len(data), per_row=0.3, base=1.2))
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
        ax.set_ylim(-0.7, len(data) - 0.3)
        if log_scale:
            ax.set_xscale("log")
            shown = pd.concat([est[plottable], lo[plottable], hi[plottable]])
            shown = shown[(shown > 0) & np.isfinite(shown)]
            low_v = min(float(shown.min()) if len(shown) else reference, reference)
            high_v = max(float(shown.max()) if len(shown) else reference, reference)
            ax.set_xlim(low_v / 1.15, high_v * 1.15)
            plain_log_axis(ax.xaxis, low_v / 1.15, high_v * 1.15)
        else:
            ax.xaxis.set_major_formatter(THOUSANDS)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(x_label)
        finish(fig, ax, title, source)
    parts = []
    shown = pd.Series(
        est[plottable].to_numpy(), index=[names[i] for i in np.flatnonzero(plottable)]
    )
    if not shown.empty:
        for name in dict.fromkeys([shown.idxmax(), shown.idxmin()]):
            i = names.index(name)
            interval = (
                f" (95% interval {number(lo[i])} to {number(hi[i])})"
                if not (np.isnan(lo[i]) or np.isnan(hi[i]))
                else ""
            )
            parts.append(f"{name} {number(est[i])}{interval}")
    missing = [n for n, ok in zip(names, plottable, strict=True) if not ok]
    alt = (
        f"Dot and interval chart of {x_label} for {len(data)} groups against a reference of "
        f"{number(reference)}. Highest and lowest: {'; '.join(parts) if parts else 'none'}."
    )
    above = int(((lo > reference) & plottable).sum())
    below = int(((hi < reference) & plottable).sum())
    alt += f" {above} interval(s) wholly above and {below} wholly below the reference."
    if missing:
        alt += f" Not estimable: {', '.join(missing)}."
    return Chart(fig, title, alt, source, data=data)


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
    caveat: str | None = None,
    caveat_units: Sequence[str] = (),
    point_label: str | None = None,
) -> Chart:
    """Funnel plot from :func:`analysis.stats.funnel_table` output.

    Each unit is a dot at (denominator, value); the pooled value is a solid line and the 95%
    and 99.8% limits are dashed and dotted curves. Units outside the 99.8% limits are drawn
    in orange and labelled with their names (``label``, default ``funnel.attrs["label"]``),
    placed so no two labels overlap. The limit curves are drawn from ``funnel.attrs``
    (``kind``, ``per``, ``tau2``, ``denominator``), which ``funnel_table`` sets; pass
    ``denominator``, ``kind`` and ``per`` when they were lost.

    Parameters
    ----------
    caveat : str, optional
        A note printed under the plot (and added to the alt text), e.g. why a resident
        denominator misleads for a city-centre ward.
    caveat_units : sequence of str
        Names of units the caveat is about: their labels get an asterisk (they are labelled
        even when inside the limits).
    point_label : str, optional
        Legend entry for the ordinary points (e.g. ``"Ward"``); default none.
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
    curves = funnel_limits(grid, target, kind=kind, per=per, tau2=attrs.get("tau2", 0.0))
    names = funnel[label].astype(str).tolist() if label else [str(i) for i in funnel.index]
    out998 = funnel["outside998"].fillna(False).to_numpy(dtype=bool)
    out95 = funnel["outside95"].fillna(False).to_numpy(dtype=bool)
    flagged = set(caveat_units)
    fig, ax = new_figure(9.0, 5.0)
    with mpl.rc_context(HOUSE_RC):
        ax.axhline(target, color=DARK_GREY, lw=1.2, label=f"Overall {number(target)}")
        ax.plot(grid, curves["high95"], color=REFERENCE_GREY, ls="--", lw=1, label="95% limits")
        ax.plot(grid, curves["low95"], color=REFERENCE_GREY, ls="--", lw=1)
        ax.plot(grid, curves["high998"], color=DARK_GREY, ls=":", lw=1.3, label="99.8% limits")
        ax.plot(grid, curves["low998"], color=DARK_GREY, ls=":", lw=1.3)
        inside = ok.to_numpy() & ~out998
        ax.scatter(n[inside], value[inside], color=DARK_BLUE, s=28, zorder=3, label=point_label)
        if out998.any():
            ax.scatter(
                n[out998], value[out998], color=ORANGE, s=45, zorder=4,
                edgecolor=DARK_GREY, label="Outside 99.8% limits",
            )  # fmt: skip
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.xaxis.set_major_formatter(THOUSANDS)
        ax.yaxis.set_major_formatter(THOUSANDS)
        handles, texts = ax.get_legend_handles_labels()
        keep = [(h, t) for h, t in zip(handles, texts, strict=True) if not t.startswith("_")]
        ax.legend(*zip(*keep, strict=True), loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if caveat:
            fig.text(
                0.01, 0.0, caveat, fontsize=9, color=DARK_GREY, ha="left", va="top",
                wrap=True, style="italic", gid="caveat",
            )  # fmt: skip
        finish(fig, ax, title, source)
        # most extreme (by distance from the target) first, so they get the nearest places
        pick = [i for i in range(len(names)) if ok.iloc[i] and (out998[i] or names[i] in flagged)]
        pick.sort(key=lambda i: -abs(value.iloc[i] - target) / max(target, 1e-9))
        place_labels(
            ax,
            [n.iloc[i] for i in pick],
            [value.iloc[i] for i in pick],
            [names[i] + (" *" if names[i] in flagged else "") for i in pick],
            gid="outlier_label",
            obstacles=(n[inside].tolist(), value[inside].tolist()),
        )
    above = [names[i] for i in np.flatnonzero(out998) if value.iloc[i] > target]
    below = [names[i] for i in np.flatnonzero(out998) if value.iloc[i] < target]
    alt = (
        f"Funnel plot of {y_label} against {x_label} for {int(ok.sum())} units; overall value "
        f"{number(target)}. {int(out95.sum())} units lie outside the 95% limits and "
        f"{int(out998.sum())} outside the 99.8% limits"
    )
    alt += (
        f" (above: {', '.join(above) or 'none'}; below: {', '.join(below) or 'none'})."
        if out998.any()
        else "."
    )
    alt += " " + extremes(names, value.to_numpy())
    if caveat:
        alt += f" Note: {caveat}"
    return Chart(fig, title, alt, source, data=funnel.copy())


# --------------------------------------------------------------------------- bars


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
    are named in the alt text. ``value_label`` labels the value axis (default ``y``). A
    horizontal chart's height grows with the number of rows.
    """
    value_label = value_label or y
    cats = list(dict.fromkeys(table[x].astype(str)))
    hues = list(dict.fromkeys(table[hue].astype(str))) if hue else [None]
    width = 0.8 / len(hues)
    if horizontal:
        height = rows_height(len(cats) * max(1.0, len(hues) / 2), per_row=0.36)
    else:
        height = 5.0
    fig, ax = new_figure(8.5, height)
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
            ax.set_ylim(len(cats) - 0.5, -0.5)
            ax.set_xlabel(value_label)
            ax.xaxis.set_major_formatter(THOUSANDS)
            ax.grid(axis="y", visible=False)
        else:
            ax.set_xticks(ticks)
            ax.set_xticklabels(
                cats, rotation=45 if len(cats) > 6 else 0, ha="right" if len(cats) > 6 else "center"
            )
            ax.set_ylabel(value_label)
            ax.yaxis.set_major_formatter(THOUSANDS)
            ax.grid(axis="x", visible=False)
        if hue:
            ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        finish(fig, ax, title, source)
    names = table[x].astype(str) + (" (" + table[hue].astype(str) + ")" if hue else "")
    alt = (
        f"Bar chart of {value_label} for {len(cats)} categories of {x}"
        + (f" by {hue}" if hue else "")
        + (" with 95% intervals" if low and high else "")
        + f". {extremes(names.tolist(), pd.to_numeric(table[y], errors='coerce').to_numpy(dtype=float))}"
    )
    if missing:
        alt += f" No value shown (suppressed or missing) for: {', '.join(missing)}."
    return Chart(fig, title, alt, source, data=table.copy())
