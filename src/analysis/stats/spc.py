"""Statistical process control: XmR charts by NHS England's "Making Data Count" rules.

The rules follow the NHS-R community's ``NHSRplotthedots`` (the reference implementation of
"Making Data Count"), re-expressed here; see ``docs/methodology/statistics.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd
import yaml

from analysis.paths import CONFIG_DIR

XMR_SCALE = 2.66
"""Natural process limits of an XmR chart: mean ± 2.66 × mean moving range (3 / 1.128)."""

NEAR_SCALE = XMR_SCALE * 2 / 3
"""Two sigma: the "close to the limits" line of the two-of-three rule."""

SCREEN_FACTOR = 3.267
"""Moving ranges at or above 3.267 × the mean moving range are screened out of the limits."""

SPC_RUN_LENGTH = 7
"""Shift: 7 consecutive points on the same side of the mean."""

SPC_TREND_LENGTH = 7
"""Trend: 7 consecutive points each higher (or each lower) than the one before (6 steps)."""

MIN_POINTS = 12
"""Fewer baseline points than this and the limits are flagged as unreliable."""

SPC_CONFIG = CONFIG_DIR / "spc.yml"

RULE_COLUMNS = ["rule_outside", "rule_run", "rule_trend", "rule_two_of_three"]


@lru_cache(maxsize=4)
def _config(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def exceptional_months(path: object = None) -> dict[str, str]:
    """Months declared exceptional in ``config/spc.yml`` → the reason in words."""
    cfg = _config(str(path or SPC_CONFIG))
    out: dict[str, str] = {}
    for entry in cfg.get("exceptional_months", []) or []:
        for month in entry.get("months", []):
            out[str(month)] = str(entry.get("reason", "declared exceptional"))
    return out


def _month_code(label: object) -> int | None:
    """``year × 12 + month − 1`` for a ``"YYYY-MM"`` string, Period or Timestamp, else None."""
    if isinstance(label, pd.Period | pd.Timestamp):
        return label.year * 12 + label.month - 1
    text = str(label)
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        return int(text[:4]) * 12 + int(text[5:]) - 1
    return None


def _with_gaps(series: pd.Series) -> tuple[pd.Series, int | None]:
    """Insert the periods missing between the first and last (monthly or regular index).

    The step is the smallest gap (in months) between consecutive labels; labels on that grid
    that are absent are inserted as ``NaN``. Returns the series and the step (None when the
    index is not made of months).
    """
    codes = [_month_code(i) for i in series.index]
    if not codes or any(c is None for c in codes):
        return series, None
    diffs = np.diff(codes)
    if len(diffs) and (diffs <= 0).any():
        raise ValueError("xmr_chart_data: periods must be in time order without repeats")
    step = int(diffs.min()) if len(diffs) else 1
    grid = range(codes[0], codes[-1] + 1, step)
    present = dict(zip(codes, series.to_numpy(dtype=float), strict=True))
    labels = [f"{c // 12}-{c % 12 + 1:02d}" for c in grid]
    if isinstance(series.index[0], pd.Period | pd.Timestamp):
        labels = [pd.Period(lab, freq="M") for lab in labels]
        if isinstance(series.index[0], pd.Timestamp):
            labels = [p.to_timestamp() for p in labels]
    if len(grid) == len(codes) and all(g == c for g, c in zip(grid, codes, strict=True)):
        return series.astype(float), step
    return pd.Series([present.get(c, np.nan) for c in grid], index=labels, dtype=float), step


def _flag_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Flag every element of a run of ``length`` or more consecutive True values."""
    flags = np.zeros(len(mask), dtype=bool)
    start = None
    for i, value in enumerate(list(mask) + [False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if i - start >= length:
                flags[start:i] = True
            start = None
    return flags


def _segment_rules(x: np.ndarray, centre: np.ndarray, ucl, lcl, near_hi, near_lo) -> dict:
    """Shift, trend and two-of-three flags of one unbroken stretch of assessed points."""
    n = len(x)
    side = np.sign(x - centre)
    run = _flag_runs(side > 0, SPC_RUN_LENGTH) | _flag_runs(side < 0, SPC_RUN_LENGTH)
    trend = np.zeros(n, dtype=bool)
    if n >= 2:
        step = np.sign(np.diff(x))
        for direction in (1, -1):
            steps = _flag_runs(step == direction, SPC_TREND_LENGTH - 1)
            trend[:-1] |= steps  # step i joins points i and i + 1
            trend[1:] |= steps
    outside = (x > ucl) | (x < lcl)
    close = ~outside & ((x > near_hi) | (x < near_lo))
    two3 = np.zeros(n, dtype=bool)
    for i in range(n - 2):
        window = slice(i, i + 3)
        same_side = abs(side[window].sum()) == 3
        if same_side and close[window].sum() >= 2:
            two3[window] |= close[window]
    return {"rule_run": run, "rule_trend": trend, "rule_two_of_three": two3}


def xmr_chart_data(
    values: pd.Series,
    exclude: Iterable[object] | None = None,
    rebase: Iterable[object] = (),
    screen: bool = True,
    min_points: int = MIN_POINTS,
) -> pd.DataFrame:
    """XmR (individuals) control-chart table by the NHS "Making Data Count" rules.

    Parameters
    ----------
    values : Series
        One value per period in time order, indexed by period (``"YYYY-MM"`` strings, monthly
        Periods or Timestamps, or any labels). ``NaN`` marks a missing period; for a month
        index, periods absent between the first and the last are inserted as missing (the
        step is the smallest gap, so a quarterly series stays quarterly).
    exclude : iterable, optional
        Periods declared exceptional: shown, but not in the baseline (they do not set the mean
        or limits), not judged and they break runs. ``None`` (default) takes the months of
        ``config/spc.yml`` for a monthly series (none otherwise); ``()`` excludes nothing.
    rebase : iterable
        Periods at which the process is re-based (e.g. after a sustained shift with a known
        cause): each period from one re-base to the next has its own mean and limits.
    screen : bool
        Screen moving ranges at or above 3.267 × their mean out of the limit calculation.
    min_points : int
        Fewer baseline points in a period than this adds a warning (``attrs["warnings"]``,
        repeated by :func:`spc_verdict`).

    Returns
    -------
    DataFrame
        One row per period (missing ones included, value ``NaN``): ``value``; ``centre`` (mean
        of the period's baseline points); ``moving_range`` (|xᵢ − xᵢ₋₁| between adjacent
        periods only, NaN across a gap); ``ucl, lcl`` (centre ± 2.66 × mean moving range of the
        baseline after screening; not clipped at 0); ``missing``, ``excluded`` (declared
        exceptional), ``segment`` (number of the unbroken stretch; runs never cross a missing or
        excluded period), ``period`` (re-base period, 0 first); rule columns (False on missing
        and excluded rows):

        * ``rule_outside`` – above ``ucl`` or below ``lcl``;
        * ``rule_run`` (shift) – one of 7 or more consecutive points on the same side of the
          centre (a point on the centre breaks it);
        * ``rule_trend`` – one of 7 or more consecutive points each higher (or each lower)
          than the one before, i.e. 6 rises or falls in a row; a tie breaks it;
        * ``rule_two_of_three`` – a point between two sigma (2/3 of the way to the limit) and
          the limit, with another such point among 3 consecutive points that all lie on the
          same side of the centre; points outside the limits do not count;
        * ``special_cause`` – any rule.

        ``attrs``: ``warnings`` (list of str), ``excluded`` (period → reason), ``missing``
        (list), ``screened`` (number of moving ranges screened out), ``rules`` (a dict of the
        rule parameters).
    """
    series = pd.Series(values, dtype=float)
    series, step = _with_gaps(series)
    labels = list(series.index)
    n = len(series)
    if series.notna().sum() < 2:
        raise ValueError("xmr_chart_data needs at least 2 values")
    reasons: dict[str, str] = {}
    if exclude is None:
        exclude_labels = exceptional_months() if step == 1 else {}
    else:
        exclude_labels = {str(m): "declared exceptional" for m in exclude}
    key = [_label_of(i) for i in labels]
    excluded = np.array([k in exclude_labels for k in key])
    for k, flag in zip(key, excluded, strict=True):
        if flag:
            reasons[k] = exclude_labels[k]
    x = series.to_numpy(dtype=float)
    missing = np.isnan(x)
    assessed = ~missing & ~excluded
    rebase_keys = {_label_of(m) for m in rebase}
    period = np.cumsum([k in rebase_keys for k in key]).astype(int)
    # segments: unbroken stretches of assessed points
    segment = np.full(n, -1)
    seg = -1
    for i in range(n):
        if assessed[i]:
            if i == 0 or not assessed[i - 1] or period[i] != period[i - 1]:
                seg += 1
            segment[i] = seg
    mr = np.full(n, np.nan)
    adjacent = ~missing[1:] & ~missing[:-1]
    mr[1:][adjacent] = np.abs(np.diff(x))[adjacent]

    centre = np.full(n, np.nan)
    ucl = np.full(n, np.nan)
    lcl = np.full(n, np.nan)
    near_hi = np.full(n, np.nan)
    near_lo = np.full(n, np.nan)
    notes: list[str] = []
    screened_total = 0
    for p in np.unique(period):
        rows = period == p
        base = rows & assessed
        if base.sum() < 2:
            notes.append(f"period {p}: fewer than 2 baseline points, no limits")
            continue
        mean = x[base].mean()
        # moving ranges between consecutive baseline points of one segment
        base_mr = np.array(
            [mr[i] for i in range(1, n) if base[i] and base[i - 1] and segment[i] == segment[i - 1]]
        )
        if base_mr.size == 0:
            notes.append(f"period {p}: no two adjacent baseline points, no limits")
            continue
        amr = base_mr.mean()
        if screen and amr > 0:
            kept = base_mr[base_mr < SCREEN_FACTOR * amr]
            screened_total += int(base_mr.size - kept.size)
            amr = kept.mean()
        centre[rows] = mean
        ucl[rows] = mean + XMR_SCALE * amr
        lcl[rows] = mean - XMR_SCALE * amr
        near_hi[rows] = mean + NEAR_SCALE * amr
        near_lo[rows] = mean - NEAR_SCALE * amr
        if base.sum() < min_points:
            first = _label_of(labels[np.flatnonzero(rows)[0]])
            notes.append(
                f"only {int(base.sum())} baseline points from {first} (fewer than {min_points}): "
                "the limits are unreliable"
            )

    flags = {col: np.zeros(n, dtype=bool) for col in RULE_COLUMNS}
    has_limits = assessed & ~np.isnan(centre)
    flags["rule_outside"] = has_limits & ((x > ucl) | (x < lcl))
    for s in np.unique(segment[segment >= 0]):
        idx = np.flatnonzero((segment == s) & has_limits)
        if idx.size == 0:
            continue
        amr_zero = ucl[idx[0]] == centre[idx[0]]
        found = _segment_rules(x[idx], centre[idx], ucl[idx], lcl[idx], near_hi[idx], near_lo[idx])
        for col, value in found.items():
            if col == "rule_two_of_three" and amr_zero:
                continue  # a flat series has no variation to signal
            flags[col][idx] = value
    out = pd.DataFrame(
        {
            "value": x,
            "centre": centre,
            "moving_range": mr,
            "ucl": ucl,
            "lcl": lcl,
            **flags,
            "special_cause": np.logical_or.reduce([flags[c] for c in RULE_COLUMNS]),
            "missing": missing,
            "excluded": excluded,
            "segment": segment,
            "period": period,
        },
        index=series.index,
    )
    out.attrs.update(
        {
            "warnings": notes,
            "excluded": reasons,
            "missing": [_label_of(labels[i]) for i in np.flatnonzero(missing)],
            "screened": screened_total,
            "rules": {
                "shift": SPC_RUN_LENGTH,
                "trend": SPC_TREND_LENGTH,
                "screen_factor": SCREEN_FACTOR if screen else None,
                "min_points": min_points,
            },
        }
    )
    return out


def _label_of(value: object) -> str:
    if isinstance(value, pd.Timestamp | pd.Period):
        return value.strftime("%Y-%m")
    return str(value)


_RULE_WORDS = {
    "rule_outside": "outside the limits",
    "rule_run": f"a shift of {SPC_RUN_LENGTH} or more points on one side of the mean",
    "rule_trend": f"a trend of {SPC_TREND_LENGTH} or more points rising or falling",
    "rule_two_of_three": "2 of 3 points close to a limit",
}


def _periods_text(labels: list[str], positions: np.ndarray) -> str:
    """``"2021-01 to 2021-08, 2022-10"`` from flagged positions (consecutive ones joined)."""
    parts: list[str] = []
    start = prev = None
    for p in list(positions) + [None]:
        if p is not None and prev is not None and p == prev + 1:
            prev = p
            continue
        if start is not None:
            parts.append(labels[start] if start == prev else f"{labels[start]} to {labels[prev]}")
        start = prev = p
    return ", ".join(parts)


def spc_verdict(xmr: pd.DataFrame, measure: str, unit: str = "a month") -> str:
    """One plain-English sentence summarising an XmR chart from :func:`xmr_chart_data`.

    Names each rule that signalled and the periods it flagged, says whether the latest point
    signals, and names missing and excluded periods and any warning, e.g. ``"Burglary:
    common-cause variation only over 33 months (mean 410 a month)."``. The mean is that of
    the latest period (after any re-base); the count is of the points judged.
    """
    judged = ~xmr["missing"] & ~xmr["excluded"] if "missing" in xmr else xmr["value"].notna()
    n = int(judged.sum())
    centre = xmr["centre"].dropna()
    mean = float(centre.iloc[-1]) if len(centre) else float("nan")
    mean_text = f"{mean:,.0f}" if abs(mean) >= 10 else f"{mean:,.1f}"
    head = f"{measure}: "
    span = f"over {n} {'month' if unit == 'a month' else 'period'}{'s' if n != 1 else ''}"
    mean_part = f"(mean {mean_text} {unit})"
    extras = []
    missing = xmr.attrs.get("missing", [])
    if missing:
        extras.append(f"missing, not bridged: {', '.join(missing)}")
    excluded = xmr.attrs.get("excluded", {})
    if excluded:
        extras.append(f"left out of the baseline as exceptional: {', '.join(excluded)}")
    extras += xmr.attrs.get("warnings", [])
    tail_extra = f"; {'; '.join(extras)}" if extras else ""
    if not xmr["special_cause"].any():
        return f"{head}common-cause variation only {span} {mean_part}{tail_extra}."
    labels = [_label_of(i) for i in xmr.index]
    signals = []
    for rule, words in _RULE_WORDS.items():
        flagged = np.flatnonzero(xmr[rule].to_numpy())
        if flagged.size:
            signals.append(f"{words} ({_periods_text(labels, flagged)})")
    last_pos = int(np.flatnonzero(judged.to_numpy())[-1])
    latest = labels[last_pos]
    last_rules = [w for rule, w in _RULE_WORDS.items() if bool(xmr[rule].iloc[last_pos])]
    if last_rules:
        tail = f"the latest point ({latest}) signals ({'; '.join(last_rules)})"
    else:
        tail = f"the latest point ({latest}) does not signal"
    return f"{head}special-cause variation {span} {mean_part}: {'; '.join(signals)}; {tail}{tail_extra}."
