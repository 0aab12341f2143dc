"""Statistical process control: XmR (individuals) charts and their verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd

XMR_SCALE = 2.66
"""Natural process limits of an XmR chart: mean ± 2.66 × mean moving range (3 / 1.128)."""

SPC_RUN_LENGTH = 7
SPC_TREND_LENGTH = 7


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
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


def xmr_chart_data(values: pd.Series) -> pd.DataFrame:
    """XmR (individuals) control-chart table of a series, e.g. monthly counts.

    Parameters
    ----------
    values : Series
        One value per period, in time order; the index (e.g. ``"YYYY-MM"``) is kept.

    Returns
    -------
    DataFrame
        ``value``; ``centre`` = mean of the values; ``moving_range`` = |xᵢ − xᵢ₋₁| (``NaN`` for
        the first point); ``ucl, lcl`` = centre ± 2.66 × mean moving range (not clipped at 0);
        rule columns:

        * ``rule_outside`` – the point lies above ``ucl`` or below ``lcl``;
        * ``rule_run`` – the point belongs to a run of 7 or more consecutive points on the
          same side of the centre (a point on the centre line breaks a run);
        * ``rule_trend`` – the point belongs to 7 or more consecutive increases (or
          decreases), i.e. 8 or more points each above (below) the one before; a tie
          breaks the trend;
        * ``rule_two_of_three`` – 2 of 3 consecutive points lie beyond two thirds of the way
          from the centre to a limit on the same side; the points beyond are flagged;
        * ``special_cause`` – any rule.

    Raises
    ------
    ValueError
        With fewer than 2 values or any missing value (fill or drop months explicitly).
    """
    series = pd.Series(values)
    if series.isna().any():
        missing = ", ".join(str(i) for i in series.index[series.isna()])
        raise ValueError(f"xmr_chart_data: missing values at {missing}; fill or drop them first")
    if len(series) < 2:
        raise ValueError("xmr_chart_data needs at least 2 values")
    x = series.to_numpy(dtype=float)
    centre = x.mean()
    mr = np.abs(np.diff(x))
    mr_bar = mr.mean()
    ucl = centre + XMR_SCALE * mr_bar
    lcl = centre - XMR_SCALE * mr_bar

    outside = (x > ucl) | (x < lcl)
    run = _runs(x > centre, SPC_RUN_LENGTH) | _runs(x < centre, SPC_RUN_LENGTH)

    step = np.sign(np.diff(x))
    trend = np.zeros(len(x), dtype=bool)
    for direction in (1, -1):
        steps = _runs(step == direction, SPC_TREND_LENGTH)
        # a flagged step i joins points i and i+1
        trend[:-1] |= steps
        trend[1:] |= steps

    upper_zone = centre + (ucl - centre) * 2 / 3
    lower_zone = centre - (centre - lcl) * 2 / 3
    two3 = np.zeros(len(x), dtype=bool)
    for beyond in (x > upper_zone, x < lower_zone):
        for i in range(len(x) - 2):
            window = beyond[i : i + 3]
            if window.sum() >= 2:
                two3[i : i + 3] |= window
    if mr_bar == 0:  # a flat series has no variation to signal
        two3[:] = False

    return pd.DataFrame(
        {
            "value": x,
            "centre": centre,
            "moving_range": np.concatenate([[np.nan], mr]),
            "ucl": ucl,
            "lcl": lcl,
            "rule_outside": outside,
            "rule_run": run,
            "rule_trend": trend,
            "rule_two_of_three": two3,
            "special_cause": outside | run | trend | two3,
        },
        index=series.index,
    )


_RULE_WORDS = {
    "rule_outside": "outside the limits",
    "rule_run": f"a run of {SPC_RUN_LENGTH} or more on one side of the mean",
    "rule_trend": f"{SPC_TREND_LENGTH} or more consecutive rises or falls",
    "rule_two_of_three": "2 of 3 points near a limit",
}


def _period_label(value: object) -> str:
    if isinstance(value, pd.Timestamp | pd.Period):
        return value.strftime("%Y-%m")
    return str(value)


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

    Names each rule that signalled and the periods it flagged, and says whether the latest
    point signals, e.g. ``"Burglary: common-cause variation only over 33 months (mean 410 a
    month)."``.
    """
    n = len(xmr)
    mean = float(xmr["centre"].iloc[0])
    mean_text = f"{mean:,.0f}" if abs(mean) >= 10 else f"{mean:,.1f}"
    head = f"{measure}: "
    span = f"over {n} {'month' if unit == 'a month' else 'period'}{'s' if n != 1 else ''}"
    mean_part = f"(mean {mean_text} {unit})"
    if not xmr["special_cause"].any():
        return f"{head}common-cause variation only {span} {mean_part}."
    labels = [_period_label(i) for i in xmr.index]
    signals = []
    for rule, words in _RULE_WORDS.items():
        flagged = np.flatnonzero(xmr[rule].to_numpy())
        if flagged.size:
            signals.append(f"{words} ({_periods_text(labels, flagged)})")
    latest = labels[-1]
    last_rules = [words for rule, words in _RULE_WORDS.items() if bool(xmr[rule].iloc[-1])]
    if last_rules:
        tail = f"the latest point ({latest}) signals ({'; '.join(last_rules)})"
    else:
        tail = f"the latest point ({latest}) does not signal"
    return f"{head}special-cause variation {span} {mean_part}: {'; '.join(signals)}; {tail}."
