"""Rates, proportions and risk ratios with 95% intervals."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from analysis.stats._common import Z95, _broadcast, _check_non_negative


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


# --------------------------------------------------------------------------- rate ratios of events


class EventRateRatio(NamedTuple):
    """Ratio of event rates per head (e.g. searches per resident) with a 95% interval.

    ``dispersion`` is the quasi-Poisson scale used (at least 1), ``df`` its degrees of
    freedom, ``months`` the months used; ``flag`` is ``""`` or a reason in words.
    """

    rr: float
    low: float
    high: float
    dispersion: float
    df: int
    months: int
    flag: str


def event_rate_ratio(
    events: object, population: float, ref_events: object, ref_population: float
) -> EventRateRatio:
    """Rate ratio of events (not people) from monthly counts, allowing for over-dispersion.

    Parameters
    ----------
    events, ref_events : Series or array
        Monthly event counts (e.g. searches) of the group and of the reference group, over the
        same months (a Series is aligned on its index; months missing from either are
        dropped).
    population, ref_population : float
        Residents of each group (Census 2021); the same every month.

    Returns
    -------
    EventRateRatio
        ``rr = (Σa / n₁) / (Σc / n₂)``, the estimate of a Poisson GLM of the monthly counts of
        both groups with a term per month (removing month-to-month swings common to both), a
        group term and ``log(population)`` as offset. Searches are events, not people: one
        person can be searched many times and a group can have more searches than residents,
        so no binomial (people-based) assumption is made. The variance is inflated by the
        quasi-Poisson scale φ = Pearson χ² / (months − 1), floored at 1 (how much more the
        group's share of each month's events varies than Poisson allows), and the interval
        is ``exp(log rr ± t × SE × √φ)`` with Student's t on ``months − 1`` df. With a
        single month, φ cannot be estimated: the Poisson interval is given with a flag.
        Zero events in the reference group: not estimable; zero in the group: rr 0, no
        interval.
    """
    import statsmodels.api as sm

    a = pd.Series(events, dtype=float)
    c = pd.Series(ref_events, dtype=float)
    if isinstance(events, pd.Series) and isinstance(ref_events, pd.Series):
        a, c = a.align(c, join="inner")
    if len(a) != len(c):
        raise ValueError("events and ref_events must cover the same months")
    keep = a.notna().to_numpy() & c.notna().to_numpy()
    a, c = a.to_numpy()[keep], c.to_numpy()[keep]
    k = len(a)
    nan = float("nan")
    if k == 0 or not population or not ref_population:
        return EventRateRatio(nan, nan, nan, nan, 0, k, "no months or no population")
    if min(a.min(), c.min()) < 0 or population < 0 or ref_population < 0:
        raise ValueError("event_rate_ratio needs non-negative counts and populations")
    if c.sum() == 0:
        return EventRateRatio(nan, nan, nan, nan, 0, k, "zero count in reference group")
    rr = (a.sum() / population) / (c.sum() / ref_population)
    if a.sum() == 0:
        return EventRateRatio(0.0, nan, nan, nan, 0, k, "zero count: no interval")
    y = np.concatenate([a, c])
    month_terms = np.vstack([np.eye(k), np.eye(k)])
    group = np.concatenate([np.ones(k), np.zeros(k)])
    x = np.column_stack([month_terms, group])
    offset = np.log(np.concatenate([np.full(k, population), np.full(k, ref_population)]))
    # months with no events at all carry no information about the ratio
    informative = np.concatenate([(a + c) > 0, (a + c) > 0])
    x, y, offset = x[informative], y[informative], offset[informative]
    x = x[:, np.concatenate([x[:, :-1].any(axis=0), [True]])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a perfect fit (constant shares) warns; φ is then 1
        fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
    used = int(x.shape[1] - 1)
    df = used - 1
    se = float(fit.bse[-1])
    if df >= 1:
        phi = max(float(fit.pearson_chi2) / df, 1.0)
        q = float(sps.t.ppf(0.975, df))
        flag = ""
    else:
        phi, q, flag = 1.0, Z95, "one month only: Poisson interval, over-dispersion not estimated"
    half = q * se * np.sqrt(phi)
    return EventRateRatio(
        float(rr), float(rr * np.exp(-half)), float(rr * np.exp(half)), phi, max(df, 0), used, flag
    )


def event_rate_ratios_vs_reference(
    monthly: pd.DataFrame,
    group: str = "group",
    count: str = "count",
    population: str = "population",
    month: str = "month",
    reference: str = "White",
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`event_rate_ratio` of every group against ``reference``, within each ``by`` group.

    ``monthly`` is long: one row per ``by`` × ``group`` × ``month`` with the month's ``count``
    of events and the group's ``population`` (constant over months). Returns one row per
    ``by`` × group with ``events`` (total), ``population``, ``rr_vs_ref``, ``rr_low``,
    ``rr_high``, ``dispersion``, ``df``, ``months`` and ``rr_flag`` (``"reference group"`` on
    the reference row).
    """
    by = list(by or [])
    rows = []
    parts = monthly.groupby(by, sort=True) if by else [((), monthly)]
    for key, part in parts:
        key = key if isinstance(key, tuple) else (key,)
        series = {g: p.set_index(month)[count] for g, p in part.groupby(group, sort=True)}
        pops = part.groupby(group)[population].first()
        if reference not in series:
            where = dict(zip(by, key, strict=True))
            raise ValueError(f"no reference group {reference!r} in {where}")
        for g, s in series.items():
            row = dict(zip(by, key, strict=True))
            row.update({group: g, "events": float(s.sum()), "population": float(pops[g])})
            if g == reference:
                res = EventRateRatio(1.0, np.nan, np.nan, np.nan, 0, len(s), "reference group")
            else:
                res = event_rate_ratio(s, pops[g], series[reference], pops[reference])
            row.update({"rr_vs_ref": res.rr, "rr_low": res.low, "rr_high": res.high,
                        "dispersion": res.dispersion, "df": res.df, "months": res.months,
                        "rr_flag": res.flag})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)
