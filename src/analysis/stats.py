"""Statistical methods behind every published figure.

Each function is pure (numbers or a DataFrame in, a new DataFrame or a small named tuple out)
and vectorised over pandas where that makes sense. The plain-English account of every method,
with its formulas and limits, is ``docs/methodology/statistics.md``.

Conventions
-----------
* Intervals are two-sided 95% intervals unless a function says otherwise.
* Missing or zero denominators give ``NaN`` estimates, never an error and never a zero.
* Nothing is silently corrected: a zero cell in a risk ratio yields ``NaN`` limits and a
  flag in words.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import test_poisson_2indep

Z95 = 1.959963984540054
"""Standard normal quantile for a two-sided 95% interval."""

XMR_SCALE = 2.66
"""Natural process limits of an XmR chart: mean ± 2.66 × mean moving range (3 / 1.128)."""

SPC_RUN_LENGTH = 7
SPC_TREND_LENGTH = 7

__all__ = [
    "ChangeTest",
    "RiskRatio",
    "change_table",
    "funnel_limits",
    "funnel_table",
    "poisson_change_test",
    "poisson_rate_interval",
    "proportion_with_interval",
    "rate_per_1000",
    "risk_ratio",
    "risk_ratios_vs_reference",
    "spc_verdict",
    "suppress_crosstab",
    "suppress_small_counts",
    "wilson_interval",
    "xmr_chart_data",
]


# --------------------------------------------------------------------------- helpers


def _as_float_array(values: object) -> np.ndarray:
    """Float array from a scalar, list, array or Series (pandas NA → NaN)."""
    if isinstance(values, pd.Series | pd.Index):
        return (
            pd.to_numeric(values, errors="raise")
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
    arr = np.asarray(values, dtype=object)
    flat = [np.nan if v is None or v is pd.NA else v for v in arr.ravel()]
    return np.asarray(flat, dtype=float).reshape(arr.shape)


def _result_index(*inputs: object, length: int) -> pd.Index:
    """Index of the first Series among ``inputs`` (else a RangeIndex of ``length``)."""
    for value in inputs:
        if isinstance(value, pd.Series):
            return value.index
    return pd.RangeIndex(length)


def _broadcast(*inputs: object) -> tuple[list[np.ndarray], pd.Index]:
    arrays = [np.atleast_1d(_as_float_array(v)) for v in inputs]
    shaped = np.broadcast_arrays(*arrays)
    length = shaped[0].shape[0]
    return [np.array(a, dtype=float) for a in shaped], _result_index(*inputs, length=length)


def _check_non_negative(name: str, values: np.ndarray) -> None:
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError(f"{name} must not be negative")


# --------------------------------------------------------------------------- rates


def poisson_rate_interval(count: object, population: object, per: float = 1000.0) -> pd.DataFrame:
    """Rate per ``per`` people with a 95% Poisson confidence interval.

    Parameters
    ----------
    count : scalar, array or Series
        Number of events (crimes, searches...).
    population : scalar, array or Series
        People at risk (the denominator), e.g. Census 2021 usual residents.
    per : float
        Rate multiplier, 1000 gives "per 1,000 residents".

    Returns
    -------
    DataFrame
        Columns ``rate, low, high`` (index of the Series input, if any).
        ``rate = count / population × per``. Limits: exact Poisson (chi-square quantiles,
        ``low = χ²(0.025; 2O)/2``, ``high = χ²(0.975; 2O+2)/2``) for counts below 10 and
        Byar's approximation for counts of 10 or more; a count of 0 has ``low = 0``.
        ``NaN`` where the population is missing or 0 or the count is missing.
    """
    (obs, pop), index = _broadcast(count, population)
    _check_non_negative("count", obs)
    _check_non_negative("population", pop)
    valid = ~np.isnan(obs) & ~np.isnan(pop) & (pop > 0)
    low_o = np.full_like(obs, np.nan)
    high_o = np.full_like(obs, np.nan)

    exact = valid & (obs < 10)
    o = obs[exact]
    low_o[exact] = np.where(o > 0, sps.chi2.ppf(0.025, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    high_o[exact] = sps.chi2.ppf(0.975, 2 * (o + 1)) / 2

    byar = valid & (obs >= 10)
    o = obs[byar]
    low_o[byar] = o * (1 - 1 / (9 * o) - Z95 / (3 * np.sqrt(o))) ** 3
    o1 = o + 1
    high_o[byar] = o1 * (1 - 1 / (9 * o1) + Z95 / (3 * np.sqrt(o1))) ** 3

    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(valid, per / pop, np.nan)
    return pd.DataFrame(
        {"rate": obs * scale, "low": low_o * scale, "high": high_o * scale}, index=index
    )


def rate_per_1000(
    table: pd.DataFrame, count: str = "count", population: str = "population"
) -> pd.DataFrame:
    """Copy of ``table`` with ``rate_per_1000, rate_low, rate_high`` added.

    The rate is ``count / population × 1000`` with the 95% Poisson interval of
    :func:`poisson_rate_interval`; missing or zero populations give ``NaN``.
    """
    out = table.copy()
    ci = poisson_rate_interval(out[count], out[population], per=1000.0)
    out["rate_per_1000"] = ci["rate"].to_numpy()
    out["rate_low"] = ci["low"].to_numpy()
    out["rate_high"] = ci["high"].to_numpy()
    return out


# --------------------------------------------------------------------------- proportions


def wilson_interval(successes: object, trials: object) -> pd.DataFrame:
    """Share ``successes / trials`` with its 95% Wilson score interval.

    Returns
    -------
    DataFrame
        Columns ``share, low, high`` as fractions (0–1); ``NaN`` where trials is 0 or missing.
        Limits from :func:`statsmodels.stats.proportion.proportion_confint` (``method="wilson"``).
    """
    (k, n), index = _broadcast(successes, trials)
    _check_non_negative("successes", k)
    _check_non_negative("trials", n)
    valid = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    if np.any(k[valid] > n[valid]):
        raise ValueError("successes must not exceed trials")
    share = np.full_like(k, np.nan)
    low = np.full_like(k, np.nan)
    high = np.full_like(k, np.nan)
    if valid.any():
        share[valid] = k[valid] / n[valid]
        lo, hi = proportion_confint(k[valid], n[valid], alpha=0.05, method="wilson")
        low[valid] = lo
        high[valid] = hi
    return pd.DataFrame({"share": share, "low": low, "high": high}, index=index)


def proportion_with_interval(
    table: pd.DataFrame, successes: str, trials: str, prefix: str = "share"
) -> pd.DataFrame:
    """Copy of ``table`` with ``<prefix>, <prefix>_low, <prefix>_high`` (Wilson 95%) added.

    The share is ``table[successes] / table[trials]`` as a fraction (0–1).
    """
    out = table.copy()
    ci = wilson_interval(out[successes], out[trials])
    out[prefix] = ci["share"].to_numpy()
    out[f"{prefix}_low"] = ci["low"].to_numpy()
    out[f"{prefix}_high"] = ci["high"].to_numpy()
    return out


# --------------------------------------------------------------------------- risk ratios


class RiskRatio(NamedTuple):
    """Risk ratio of a group against a reference group, with its 95% interval.

    ``flag`` is ``""`` when the ratio and interval are estimable, else a reason in words.
    """

    rr: float
    low: float
    high: float
    flag: str


def risk_ratio(a: float, n1: float, c: float, n2: float) -> RiskRatio:
    """Risk ratio ``(a / n1) / (c / n2)`` with the 95% log-normal (Katz) interval.

    Parameters
    ----------
    a, n1 : number
        Events and population of the group of interest.
    c, n2 : number
        Events and population of the reference group.

    Returns
    -------
    RiskRatio
        ``rr`` and ``low, high = rr × exp(∓1.959964 × SE)`` with
        ``SE = sqrt(1/a − 1/n1 + 1/c − 1/n2)``. A zero count (``a == 0`` or ``c == 0``)
        gives no interval (``NaN``) and a flag; no continuity correction is applied. With
        ``a == 0`` the ratio itself is 0; with ``c == 0`` it is not estimable (``NaN``).
        A missing or zero population gives ``NaN`` and a flag.
    """
    values = [float(v) if v is not None and v is not pd.NA else np.nan for v in (a, n1, c, n2)]
    a, n1, c, n2 = values
    nan = float("nan")
    if any(np.isnan(v) for v in values):
        return RiskRatio(nan, nan, nan, "missing count or population: ratio not estimable")
    if min(values) < 0:
        raise ValueError(
            f"risk_ratio needs non-negative numbers, got a={a}, n1={n1}, c={c}, n2={n2}"
        )
    if n1 == 0 or n2 == 0:
        return RiskRatio(nan, nan, nan, "zero population: ratio not estimable")
    if a > n1 or c > n2:
        raise ValueError(f"events exceed population (a={a}, n1={n1}, c={c}, n2={n2})")
    if c == 0:
        return RiskRatio(nan, nan, nan, "zero count in reference group: ratio not estimable")
    rr = (a / n1) / (c / n2)
    if a == 0:
        return RiskRatio(0.0, nan, nan, "zero count: no interval")
    se = np.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    return RiskRatio(float(rr), float(rr * np.exp(-Z95 * se)), float(rr * np.exp(Z95 * se)), "")


def risk_ratios_vs_reference(
    table: pd.DataFrame,
    group: str = "group",
    count: str = "count",
    population: str = "population",
    reference: str = "White",
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Copy of ``table`` with each row's risk ratio against the reference group's row.

    Adds ``rr_vs_ref, rr_low, rr_high, rr_flag`` (see :func:`risk_ratio`). Within each
    combination of the ``by`` columns (e.g. ``["lad_code"]``) exactly one row must have
    ``group == reference``; the reference row itself gets ``rr_vs_ref = 1`` with no interval
    and the flag ``"reference group"``.

    Raises
    ------
    ValueError
        When a ``by`` group has no reference row or more than one.
    """
    out = table.copy()
    by = list(by or [])
    rr = np.full(len(out), np.nan)
    low = np.full(len(out), np.nan)
    high = np.full(len(out), np.nan)
    flags = np.full(len(out), "", dtype=object)
    work = out.reset_index(drop=True)
    keys = by if len(by) != 1 else by[0]
    groups = work.groupby(keys, sort=False, dropna=False).groups if by else {(): work.index}
    for key, rows in groups.items():
        part = work.loc[rows]
        ref = part[part[group] == reference]
        if len(ref) != 1:
            keys = key if isinstance(key, tuple) else (key,)
            where = f" in {dict(zip(by, keys, strict=True))}" if by else ""
            raise ValueError(
                f"expected exactly one reference row {group} == {reference!r}{where}, "
                f"found {len(ref)}"
            )
        c = ref[count].iloc[0]
        n2 = ref[population].iloc[0]
        for pos, row in part.iterrows():
            if row[group] == reference:
                rr[pos], flags[pos] = 1.0, "reference group"
                continue
            rr[pos], low[pos], high[pos], flags[pos] = risk_ratio(
                row[count], row[population], c, n2
            )
    out["rr_vs_ref"] = rr
    out["rr_low"] = low
    out["rr_high"] = high
    out["rr_flag"] = flags
    return out


# --------------------------------------------------------------------------- change tests


class ChangeTest(NamedTuple):
    """Comparison of two Poisson counts (e.g. this quarter against the previous one).

    ``ratio`` is the ratio of rates after / before; ``p_value`` the two-sided exact
    conditional test; ``sqrt_z`` the square-root z statistic; ``verdict`` in words.
    """

    before: float
    after: float
    ratio: float
    p_value: float
    sqrt_z: float
    verdict: str


VERDICT_NONE = "no evidence of change"
VERDICT_UP = "increase unlikely to be chance"
VERDICT_DOWN = "decrease unlikely to be chance"


def poisson_change_test(
    before: float,
    after: float,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
) -> ChangeTest:
    """Exact test of whether the rate of events changed between two periods.

    Parameters
    ----------
    before, after : int
        Event counts in the earlier and later period.
    exposure_before, exposure_after : float
        Exposure of each period (months, population); equal by default.

    Returns
    -------
    ChangeTest
        ``ratio = (after / exposure_after) / (before / exposure_before)`` (``NaN`` when
        ``before`` is 0); ``p_value`` from the exact conditional test — given the total
        ``before + after``, ``after`` is binomial with probability
        ``exposure_after / (exposure_before + exposure_after)`` under no change
        (statsmodels ``test_poisson_2indep(method="exact-cond")``); ``sqrt_z =
        2(√after − √(before × exposure_after / exposure_before))``, which is roughly
        standard normal under no change; ``verdict`` at the 5% level.
    """
    b, a = float(before), float(after)
    eb, ea = float(exposure_before), float(exposure_after)
    if min(a, b) < 0 or min(ea, eb) <= 0 or np.isnan([a, b, ea, eb]).any():
        raise ValueError(
            f"poisson_change_test needs counts >= 0 and exposures > 0, got before={before}, "
            f"after={after}, exposures={exposure_before}, {exposure_after}"
        )
    if a != round(a) or b != round(b):
        raise ValueError(f"counts must be whole numbers, got before={before}, after={after}")
    rate_b, rate_a = b / eb, a / ea
    ratio = rate_a / rate_b if b > 0 else float("nan")
    if a + b == 0:
        p_value = 1.0
    else:
        with warnings.catch_warnings():  # statsmodels divides by a zero 'before' rate
            warnings.simplefilter("ignore", RuntimeWarning)
            res = test_poisson_2indep(int(a), ea, int(b), eb, method="exact-cond")
        p_value = float(min(max(res.pvalue, 0.0), 1.0))
    sqrt_z = 2.0 * (np.sqrt(a) - np.sqrt(b * ea / eb))
    if p_value >= 0.05:
        verdict = VERDICT_NONE
    elif rate_a > rate_b:
        verdict = VERDICT_UP
    else:
        verdict = VERDICT_DOWN
    return ChangeTest(b, a, float(ratio), p_value, float(sqrt_z), verdict)


def change_table(
    table: pd.DataFrame,
    before: str = "count_before",
    after: str = "count_after",
    exposure_before: float | str = 1.0,
    exposure_after: float | str = 1.0,
) -> pd.DataFrame:
    """Copy of ``table`` with ``ratio, p_value, sqrt_z, verdict`` per row.

    Each row is tested with :func:`poisson_change_test`. ``exposure_before`` and
    ``exposure_after`` are numbers or names of columns holding them. Rows with a missing
    count get ``NaN`` and the verdict ``"not tested (missing count)"``.
    """
    out = table.copy()
    results = []
    for _, row in out.iterrows():
        eb = row[exposure_before] if isinstance(exposure_before, str) else exposure_before
        ea = row[exposure_after] if isinstance(exposure_after, str) else exposure_after
        if pd.isna(row[before]) or pd.isna(row[after]):
            results.append((np.nan, np.nan, np.nan, "not tested (missing count)"))
            continue
        t = poisson_change_test(row[before], row[after], eb, ea)
        results.append((t.ratio, t.p_value, t.sqrt_z, t.verdict))
    cols = ["ratio", "p_value", "sqrt_z", "verdict"]
    res = pd.DataFrame(results, columns=cols, index=out.index)
    for col in cols:
        out[col] = res[col] if len(res) else pd.Series(dtype=float if col != "verdict" else object)
    return out


# --------------------------------------------------------------------------- SPC (XmR)


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


# --------------------------------------------------------------------------- funnel plots


def _level_name(level: float) -> str:
    text = f"{level * 100:.4f}".rstrip("0").rstrip(".")
    return text.replace(".", "")


def _interpolated_quantile(dist: object, p: float) -> np.ndarray:
    """Spiegelhalter's (2005) interpolated quantile of a discrete distribution.

    ``r = ppf(p)``; ``α = (F(r) − p) / (F(r) − F(r − 1))``; limit count ``r − α``.
    """
    r = dist.ppf(p)
    f_r = dist.cdf(r)
    f_prev = dist.cdf(r - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    return np.maximum(r - alpha, 0.0)


def funnel_limits(
    denominators: object,
    target: float,
    kind: str = "proportion",
    per: float = 1.0,
    levels: Iterable[float] = (0.95, 0.998),
    phi: float = 1.0,
    tau2: float = 0.0,
) -> pd.DataFrame:
    """Funnel-plot control limits around ``target`` at each denominator.

    Parameters
    ----------
    denominators : array or Series
        Unit sizes (trials for proportions; population or exposure for rates).
    target : float
        The target value on the published scale (a proportion × ``per``, or a rate per
        ``per``), usually the pooled value of all units.
    kind : {"proportion", "rate"}
        Binomial limits for proportions, Poisson limits for rates.
    per : float
        Scale of ``target`` and the limits (1 = fraction, 100 = percent, 1000 = per 1,000).
    levels : floats
        Two-sided coverage of each pair of limits; column names drop the point,
        e.g. 0.95 → ``low95, high95`` and 0.998 → ``low998, high998``.
    phi, tau2 : float
        Over-dispersion: multiplicative factor φ and additive between-unit variance τ²
        (on the ``per`` scale squared).

    Returns
    -------
    DataFrame
        ``denominator, target`` and the limits. Without over-dispersion (φ = 1, τ² = 0) the
        limits are exact binomial or Poisson quantiles, interpolated between whole counts
        (Spiegelhalter 2005), divided by the denominator. With over-dispersion they use the
        normal approximation ``target ± z × sqrt(φ × V + τ²)`` with ``V = θ(1 − θ)/n``
        (proportions) or ``θ/n`` (rates). Limits are clipped to the possible range.
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    (n,), index = _broadcast(denominators)
    theta = float(target) / per
    if kind == "proportion" and not 0 <= theta <= 1:
        raise ValueError(f"a proportion target must lie in [0, {per}], got {target}")
    out = pd.DataFrame({"denominator": n, "target": float(target)}, index=index)
    valid = ~np.isnan(n) & (n > 0)
    exact = phi == 1.0 and tau2 == 0.0
    for level in levels:
        name = _level_name(level)
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        low = np.full(len(n), np.nan)
        high = np.full(len(n), np.nan)
        nv = n[valid]
        if exact:
            if kind == "proportion":
                dist = sps.binom(np.round(nv).astype(int), theta)
            else:
                dist = sps.poisson(theta * nv)
            low[valid] = _interpolated_quantile(dist, lo_p) / nv * per
            high[valid] = _interpolated_quantile(dist, hi_p) / nv * per
        else:
            var = theta * (1 - theta) / nv if kind == "proportion" else theta / nv
            sd = np.sqrt(phi * var * per**2 + tau2)
            z = sps.norm.ppf(hi_p)
            low[valid] = float(target) - z * sd
            high[valid] = float(target) + z * sd
        low = np.maximum(low, 0.0)
        if kind == "proportion":
            high = np.minimum(high, per)
        out[f"low{name}"] = low
        out[f"high{name}"] = high
    return out


def funnel_table(
    table: pd.DataFrame,
    count: str,
    denominator: str,
    kind: str = "rate",
    per: float = 1000.0,
    label: str | None = None,
    overdispersion: bool = False,
    levels: Iterable[float] = (0.95, 0.998),
    target: float | None = None,
) -> pd.DataFrame:
    """Funnel-plot table: each unit's value against the pooled value, with limits.

    Parameters
    ----------
    table : DataFrame
        One row per unit (area, force...).
    count, denominator : str
        Columns of events (or successes) and of the denominator.
    kind : {"rate", "proportion"}
        Poisson rate per ``per`` or binomial proportion × ``per``.
    label : str, optional
        Column naming the units (kept; recorded in ``attrs["label"]`` for the plot).
    overdispersion : bool
        Apply Spiegelhalter's (2005) additive random-effects adjustment: z-scores are
        winsorised at their 10th and 90th percentiles, ``φ = mean(z²)``; when ``nφ > n − 1``,
        ``τ² = (nφ − (n − 1)) / (Σw − Σw²/Σw)`` with ``w = 1/V`` and the limits and z-scores
        use ``V + τ²``.
    target : float, optional
        Compare against this value (on the published scale, e.g. a national rate per
        ``per``) instead of the pooled value of the units.

    Returns
    -------
    DataFrame
        Copy of ``table`` with ``value`` (count / denominator × per), ``target`` (pooled:
        Σcount / Σdenominator × per), ``z`` (``(value − target) / sqrt(V + τ²)``), the limits of
        :func:`funnel_limits` at each unit's denominator, ``outside95`` and ``outside998``.
        ``attrs`` holds ``target, phi, tau2, kind, per, count, denominator, label, levels,
        target_is_pooled``.
        Units with a zero or missing denominator get ``NaN`` values and are never outside.
    """
    out = table.copy()
    y = _as_float_array(out[count])
    n = _as_float_array(out[denominator])
    valid = ~np.isnan(y) & ~np.isnan(n) & (n > 0)
    if not valid.any():
        raise ValueError(f"funnel_table: no unit has a positive {denominator!r}")
    theta = y[valid].sum() / n[valid].sum() if target is None else float(target) / per
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(valid, y / n, np.nan)
        var = theta * (1 - theta) / n if kind == "proportion" else theta / n
        var = np.where(valid, var, np.nan)
        z_raw = (value - theta) / np.sqrt(var)

    phi, tau2 = 1.0, 0.0
    if overdispersion:
        zv = z_raw[valid]
        lo, hi = np.percentile(zv, [10, 90])
        zw = np.clip(zv, lo, hi)
        k = zv.size
        phi = float(np.mean(zw**2))
        if k * phi > k - 1:
            w = 1 / var[valid]
            tau2 = float((k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (value - theta) / np.sqrt(var + tau2)

    limits = funnel_limits(n, theta * per, kind=kind, per=per, levels=levels, tau2=tau2 * per**2)
    out["value"] = value * per
    out["target"] = theta * per
    out["z"] = z
    level_names = []
    for level in levels:
        name = _level_name(level)
        level_names.append(name)
        out[f"low{name}"] = limits[f"low{name}"].to_numpy()
        out[f"high{name}"] = limits[f"high{name}"].to_numpy()
        out[f"outside{name}"] = (
            valid & ((out["value"] < out[f"low{name}"]) | (out["value"] > out[f"high{name}"]))
        ).to_numpy()
    out.attrs.update(
        {
            "target": float(theta * per),
            "phi": phi,
            "tau2": float(tau2 * per**2),
            "kind": kind,
            "per": per,
            "count": count,
            "denominator": denominator,
            "label": label,
            "levels": level_names,
            "target_is_pooled": target is None,
        }
    )
    return out


# --------------------------------------------------------------------------- suppression


def _primary_mask(counts: pd.Series, threshold: int, suppress_zero: bool) -> np.ndarray:
    c = counts.to_numpy(dtype=float, na_value=np.nan)
    lower = 0 if suppress_zero else 1
    return ~np.isnan(c) & (c >= lower) & (c < threshold)


def suppress_small_counts(
    table: pd.DataFrame,
    count: str,
    by: Sequence[str] | None = None,
    threshold: int = 5,
    dependent: Sequence[str] = (),
    suppress_zero: bool = False,
    secondary: bool = True,
) -> pd.DataFrame:
    """Copy of ``table`` with small counts suppressed so that none can be recovered.

    Parameters
    ----------
    table : DataFrame
        Rows as they will be published.
    count : str
        Count column to protect.
    by : list of str, optional
        Columns whose groups have a published (or derivable) total, e.g. each area's total
        over crime types. ``None`` treats the whole table as one group with a total.
    threshold : int
        Counts from 1 to ``threshold − 1`` are suppressed (primary suppression); 0 is shown
        unless ``suppress_zero``.
    dependent : list of str
        Columns derived from the count (rates, intervals, ratios) blanked on suppressed rows.
    secondary : bool
        Secondary suppression: in a group with exactly one suppressed cell, the next
        smallest cell (the smallest positive count, else a zero) is also suppressed, so the
        suppressed cell cannot be found by subtraction from the group total. A group of one
        row cannot be protected this way: its total is the cell, so suppress the total too.

    Returns
    -------
    DataFrame
        ``count`` as nullable ``Int64`` with ``<NA>`` in suppressed cells (never 0), the
        ``dependent`` columns blanked, and a bool column ``suppressed`` (OR-ed with an existing
        one, so several count columns can be protected in turn).
    """
    out = table.copy()
    counts = pd.to_numeric(out[count], errors="raise")
    mask = pd.Series(_primary_mask(counts, threshold, suppress_zero), index=out.index)
    if secondary and mask.any():
        keys = list(by) if by else None
        if keys and len(keys) == 1:
            keys = keys[0]
        groups = out.groupby(keys, sort=False, dropna=False).groups if keys else {(): out.index}
        values = counts.astype("Float64")
        for idx in groups.values():
            idx = pd.Index(idx)
            if mask.loc[idx].sum() != 1:
                continue
            candidates = values.loc[idx][~mask.loc[idx] & values.loc[idx].notna()]
            if candidates.empty:
                continue
            positive = candidates[candidates > 0]
            pick = (positive if not positive.empty else candidates).astype(float).idxmin()
            mask.loc[pick] = True
    out[count] = counts.round().astype("Int64").mask(mask)
    for col in dependent:
        out[col] = out[col].mask(mask)
    previous = out["suppressed"].astype(bool) if "suppressed" in out.columns else False
    out["suppressed"] = mask | previous
    return out


def _determined_cells(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells recoverable from row and column totals.

    Build the bipartite graph whose nodes are the rows and columns and whose edges are the
    suppressed cells. A cell can be solved for from the margins exactly when its unit vector
    lies in the span of the margin constraints, which for this graph means its edge lies on no
    cycle: it is a bridge. Bridges are found with :func:`networkx.bridges`.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from(
        (("row", int(r)), ("col", int(c))) for r, c in zip(*np.nonzero(mask), strict=True)
    )
    found = []
    for u, v in nx.bridges(graph):
        r, c = (u, v) if u[0] == "row" else (v, u)
        found.append((r[1], c[1]))
    return sorted(found)


def suppress_crosstab(
    wide: pd.DataFrame, threshold: int = 5, suppress_zero: bool = False
) -> pd.DataFrame:
    """Suppress small cells of a two-way table whose row and column totals are published.

    Parameters
    ----------
    wide : DataFrame
        Interior cells only (counts), rows × columns; totals are assumed to be published.
    threshold : int
        Cells from 1 to ``threshold − 1`` are suppressed (0 too when ``suppress_zero``).

    Returns
    -------
    DataFrame
        Same shape, nullable ``Int64``, ``<NA>`` in suppressed cells. Secondary suppression is
        repeated until no suppressed cell can be solved for from any combination of row and
        column totals: for each recoverable cell, the smallest positive unsuppressed cell in
        its row (preferring columns that already hold a suppressed cell) is suppressed, then
        in its column, and so on. Totals themselves are not suppressed here.
    """
    values = wide.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    lower = 0 if suppress_zero else 1
    mask = ~np.isnan(values) & (values >= lower) & (values < threshold)
    turn = 0
    while True:
        determined = _determined_cells(mask)
        if not determined:
            break
        # protect several cells per pass, but only one per row and column, so one secondary
        # cell is not added where an earlier one in this pass may already have closed a cycle
        touched_rows: set[int] = set()
        touched_cols: set[int] = set()
        for r, c in determined:
            if r in touched_rows or c in touched_cols:
                continue
            pick = _secondary_for(values, mask, r, c, along_row=turn % 2 == 0)
            turn += 1
            if pick is None:
                raise ValueError(
                    f"suppress_crosstab: cell ({wide.index[r]!r}, {wide.columns[c]!r}) cannot be "
                    "protected; suppress its row or column total instead"
                )
            mask[pick] = True
            touched_rows.update((r, pick[0]))
            touched_cols.update((c, pick[1]))
    out = wide.apply(pd.to_numeric).round().astype("Int64")
    return out.mask(mask)


def _secondary_for(
    values: np.ndarray, mask: np.ndarray, r: int, c: int, along_row: bool
) -> tuple[int, int] | None:
    """Cell to suppress so that suppressed cell ``(r, c)`` joins a cycle, or None.

    Looks along row ``r`` (or column ``c``) first and the other direction second.
    """
    for row_first in (along_row, not along_row):
        if row_first:
            line = values[r, :]
            free = ~mask[r, :] & ~np.isnan(line)
            choice = _pick_secondary(line, free, mask.any(axis=0))
            if choice is not None:
                return r, choice
        else:
            line = values[:, c]
            free = ~mask[:, c] & ~np.isnan(line)
            choice = _pick_secondary(line, free, mask.any(axis=1))
            if choice is not None:
                return choice, c
    return None


def _pick_secondary(line: np.ndarray, free: np.ndarray, partner: np.ndarray) -> int | None:
    """Index of the cell to suppress next on one row or column, or None."""
    for pool in (free & partner & (line > 0), free & (line > 0), free):
        if pool.any():
            candidates = np.flatnonzero(pool)
            return int(candidates[np.argmin(line[candidates])])
    return None
