"""Tests of change between periods."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.rates import test_poisson_2indep


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


# --------------------------------------------------------------------------- p-values


def format_p(p: float, alpha: float = 0.05) -> str:
    """A p-value in words to sensible precision, on the right side of ``alpha``.

    ``"p < 0.001"`` below 0.001; three decimals below 0.01; two decimals from 0.01;
    ``"p > 0.99"`` above 0.99. More decimals are shown whenever rounding would land on
    ``alpha`` or on the wrong side of it, so ``"p = 0.05"`` is never printed (0.0496 →
    ``"p = 0.050"`` is avoided: it becomes ``"p = 0.0496"``). ``"p not available"`` for NaN.
    """
    if p is None or not np.isfinite(p):
        return "p not available"
    if not 0 <= p <= 1:
        raise ValueError(f"a p-value lies in [0, 1], got {p}")
    if p < 0.001:
        return "p < 0.001"
    if p > 0.99:
        return "p > 0.99"
    if abs(p - alpha) < 1e-12:
        return f"p = {alpha:g}"
    digits = 3 if p < 0.01 else 2
    while digits < 8:
        shown = round(p, digits)
        if shown != alpha and (shown < alpha) == (p < alpha) and shown > 0:
            break
        digits += 1
    return f"p = {p:.{digits}f}"


# --------------------------------------------------------------------------- seasonal change

SIG_UP = "statistically significant increase"
SIG_DOWN = "statistically significant decrease"
SIG_NONE = "no statistically significant change"
NOT_TESTED = "not tested"

COMPARISONS = ("year_earlier_quarter", "year_ending", "previous_quarter")

MIN_SEASONAL_HISTORY = 24
"""Months before the quarter needed to fit month-of-year terms and a trend."""

MIN_HISTORY = 12
"""Months before the quarter needed to estimate the over-dispersion at all (trend only)."""


class Dispersion(NamedTuple):
    """Over-dispersion of a monthly series around its seasonal trend.

    ``phi`` is the quasi-Poisson scale (variance / mean, at least 1), ``df`` its residual
    degrees of freedom, ``mean`` the mean fitted monthly count of the history, ``model`` the
    model in words and ``months`` the number of history months used.
    """

    phi: float
    df: int
    mean: float
    model: str
    months: int


class SeasonalChange(NamedTuple):
    """Result of :func:`change_test` (see there for each field)."""

    comparison: str
    months_after: tuple[str, ...]
    months_before: tuple[str, ...]
    after: float
    before: float
    ratio: float
    ratio_low: float
    ratio_high: float
    p_value: float
    dispersion: float
    dispersion_df: int
    expected: float
    expected_low: float
    expected_high: float
    method: str
    verdict: str


def _code(month: object) -> int:
    """Month as an integer ``year × 12 + month − 1`` (from ``"YYYY-MM"``, a Period or date)."""
    if isinstance(month, str | np.str_) and len(month) >= 7 and month[4] == "-":
        return int(month[:4]) * 12 + int(month[5:7]) - 1
    period = pd.Period(str(month), freq="M")
    return period.year * 12 + period.month - 1


def _label(code: int) -> str:
    return f"{code // 12}-{code % 12 + 1:02d}"


def _quarter_months(quarter: object) -> list[int]:
    """Month codes of ``quarter``: a ``"2022Q4"``/``"2022-Q4"`` label or a sequence of months."""
    if isinstance(quarter, str):
        q = pd.Period(quarter.replace("-", ""), freq="Q")
        first = q.year * 12 + (q.quarter - 1) * 3
        return [first, first + 1, first + 2]
    months = sorted(_code(m) for m in quarter)
    if not months:
        raise ValueError("change_test needs at least one month in the quarter")
    return months


def _clean_series(monthly: pd.Series) -> pd.Series:
    """Counts indexed by month code, sorted, missing months dropped."""
    values = pd.to_numeric(monthly, errors="raise").to_numpy(dtype=float)
    s = pd.Series(values, index=[_code(m) for m in monthly.index])
    s = s[~np.isnan(values)].sort_index()
    if (s < 0).any():
        raise ValueError("monthly counts must not be negative")
    if s.index.has_duplicates:
        raise ValueError("monthly counts have a month twice")
    return s


def _design(months: object, origin: int, seasonal: bool) -> np.ndarray:
    codes = np.asarray(months, dtype=int)
    cols = [np.ones(len(codes)), (codes - origin) / 12.0]
    if seasonal:
        moy = codes % 12
        cols += [(moy == k).astype(float) for k in range(1, 12)]
    return np.column_stack(cols)


def history_dispersion(monthly: pd.Series, before: object) -> Dispersion | None:
    """Over-dispersion of ``monthly`` counts in the months before ``before`` (a month).

    A Poisson GLM (log link) with a linear trend and, given at least
    :data:`MIN_SEASONAL_HISTORY` months, month-of-year terms, is fitted to the history;
    ``phi`` = Pearson χ² / residual df (the quasi-Poisson scale), floored at 1. With
    :data:`MIN_HISTORY` to 23 months the model has a trend only (seasonal swings then count as
    noise, which makes the tests more cautious). ``None`` with fewer than 12 months, or with
    no events at all.
    """
    model = _history_model(_clean_series(monthly), _code(before))
    return None if model is None else model[0]


def _history_model(s: pd.Series, cut: int, models: dict | None = None):
    """``(Dispersion, fit, seasonal, origin)`` of the history before ``cut``, or None.

    ``models`` (optional) remembers the result per ``cut`` for one series ``s``: the tests of
    one series share its history model instead of fitting the same GLM again."""
    if models is not None:
        if cut not in models:
            models[cut] = _history_model(s, cut)
        return models[cut]
    hist = s[s.index < cut]
    if len(hist) < MIN_HISTORY or hist.sum() == 0:
        return None
    seasonal = len(hist) >= MIN_SEASONAL_HISTORY
    origin = hist.index[0]
    x = _design(hist.index, origin, seasonal)
    y = hist.to_numpy()
    fit = _poisson_fit(y, x)
    mu = fit.fittedvalues
    df = int(len(y) - x.shape[1])
    phi = float(np.sum((y - mu) ** 2 / mu) / df)
    model = (
        "quasi-Poisson GLM with month-of-year and linear trend"
        if seasonal
        else "quasi-Poisson GLM with linear trend only (under 24 months of history)"
    )
    disp = Dispersion(max(phi, 1.0), df, float(np.mean(mu)), model, int(len(hist)))
    return disp, fit, seasonal, origin


def _poisson_fit(y: np.ndarray, x: np.ndarray, scale: float | str | None = None):
    # the GLM classes themselves, not statsmodels.api (which also imports graphics and time
    # series modules: about a second per kernel); the same fit
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # perfect fits of tiny series warn; handled by callers
        return GLM(y, x, family=Poisson()).fit(scale=scale)


def borrowed_dispersion(reference: Dispersion, mean_count: float) -> Dispersion:
    """Dispersion for a short or sparse series, borrowed from a longer ``reference`` series.

    The reference's relative (negative-binomial) over-dispersion
    ``α = (φ_ref − 1) / mean_ref`` is carried over, so a series whose monthly mean is
    ``mean_count`` gets ``φ = 1 + α × mean_count`` (variance ``μ + αμ²``): a small area
    series is close to Poisson, a large one as noisy as the reference. Degrees of freedom are
    the reference's.
    """
    alpha = max(reference.phi - 1.0, 0.0) / max(reference.mean, 1e-9)
    return Dispersion(
        1.0 + alpha * max(float(mean_count), 0.0),
        reference.df,
        float(mean_count),
        f"borrowed from the reference series ({reference.model})",
        reference.months,
    )


def _verdict(p: float, ratio: float, alpha: float) -> str:
    if not np.isfinite(p):
        return NOT_TESTED
    if p >= alpha:
        return SIG_NONE
    return SIG_UP if ratio > 1 else SIG_DOWN


def _expected(model, after: list[int], phi: float) -> tuple[float, float, float]:
    """Prediction of the total over ``after`` from the history model, with a 95% interval.

    Delta-method variance of the fitted mean (parameter covariance scaled by φ) plus the
    quasi-Poisson variance φμ of the new counts; Student's t with φ's df.
    """
    if model is None:
        return (np.nan, np.nan, np.nan)
    disp, fit, seasonal, origin = model
    xn = _design(after, origin, seasonal)
    mu = np.exp(xn @ fit.params)
    grad = (mu[:, None] * xn).sum(axis=0)
    cov = fit.cov_params() * phi  # the fit has scale 1
    var = float(grad @ cov @ grad + phi * mu.sum())
    total = float(mu.sum())
    q = sps.t.ppf(0.975, disp.df)
    return total, max(total - q * np.sqrt(var), 0.0), total + q * np.sqrt(var)


def change_test(
    monthly: pd.Series,
    quarter: object,
    comparison: str = "year_earlier_quarter",
    dispersion: Dispersion | None = None,
    alpha: float = 0.05,
) -> SeasonalChange:
    """Has the count changed, allowing for over-dispersion and season?

    Parameters
    ----------
    monthly : Series
        Monthly counts indexed by month (``"YYYY-MM"`` strings or monthly Periods); missing
        months are absent or ``NaN`` and are never filled.
    quarter : str or sequence
        The latest period: ``"2022Q4"`` or its months.
    comparison : {"year_earlier_quarter", "year_ending", "previous_quarter"}
        * ``year_earlier_quarter`` — the quarter against the same months a year earlier;
        * ``year_ending`` — the 12 months ending with the quarter against the 12 before;
        * ``previous_quarter`` — the quarter against the 3 months before it, each adjusted
          for month of year (seasonally adjusted quarter-on-quarter).
    dispersion : Dispersion, optional
        Use this over-dispersion instead of the series' own (see
        :func:`borrowed_dispersion`, :func:`family_change_tests`).
    alpha : float
        Significance level of the verdict.

    Returns
    -------
    SeasonalChange
        ``after``/``before`` totals over the months compared (``months_after``,
        ``months_before``); ``ratio`` after / before with its 95% interval; ``p_value``;
        ``dispersion`` φ and its df; ``expected`` (with ``expected_low/high``) — the quarter's
        total predicted by the history model, a 95% prediction interval; ``method`` in words;
        ``verdict``: ``"statistically significant increase"``, ``"statistically significant
        decrease"``, ``"no statistically significant change"`` or ``"not tested: <why>"``.

    Notes
    -----
    The over-dispersion φ comes from the series' own history (:func:`history_dispersion`:
    quasi-Poisson GLM with month-of-year and trend on the months before the quarter).

    *Same-season comparisons* (year earlier, year ending): months are paired by month of year
    and a month is used only when its partner a year earlier is held (a missing month drops
    its pair, so 11 months are compared with 11). With ``A`` and ``B`` the totals, this is the
    quasi-Poisson GLM with a term per month of year and an after/before term, whose estimate
    is ``log(A / B)``; its score test is ``z = (A − B) / sqrt(φ (A + B))`` and the p-value is
    two-sided from Student's t with φ's df. The 95% interval of the ratio is
    ``exp(log(A/B) ± t × sqrt(φ (1/A + 1/B)))``.

    *Previous quarter*: a quasi-Poisson GLM with month-of-year terms, a linear trend and one
    term each for the previous quarter and the quarter is fitted to every month up to the
    quarter, scale fixed at φ; the ratio is ``exp(δ_quarter − δ_previous)``, the seasonally
    adjusted quarter-on-quarter change, with a Wald t test. It needs 24 months of history;
    raw quarter-on-quarter counts are never tested because they mostly show the season.

    Fallbacks: 12–23 months of history give a trend-only dispersion (stated in ``method``);
    fewer than 12 months and no ``dispersion`` given → ``"not tested: ..."``.
    """
    return _change_test(_clean_series(monthly), quarter, comparison, dispersion, alpha)


def _change_test(
    s: pd.Series,
    quarter: object,
    comparison: str,
    dispersion: Dispersion | None,
    alpha: float,
    models: dict | None = None,
) -> SeasonalChange:
    """:func:`change_test` of a cleaned series ``s`` (:func:`_clean_series`); ``models`` as in
    :func:`_history_model`."""
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS}, got {comparison!r}")
    wanted = _quarter_months(quarter)
    after = [m for m in wanted if m in s.index]
    labels = tuple(_label(m) for m in wanted)
    nan = float("nan")

    def not_tested(why: str, before: tuple[str, ...] = ()) -> SeasonalChange:
        return SeasonalChange(
            comparison, labels, before, nan, nan, nan, nan, nan, nan, nan, 0,
            nan, nan, nan, "", f"{NOT_TESTED}: {why}",
        )  # fmt: skip

    if len(after) < len(wanted):
        missing = ", ".join(_label(m) for m in wanted if m not in s.index)
        return not_tested(f"month(s) of the quarter missing ({missing})")
    model = _history_model(s, after[0], models)
    disp = dispersion if dispersion is not None else (None if model is None else model[0])
    if disp is None:
        held = int((s.index < after[0]).sum())
        return not_tested(f"{held} months of history before the quarter; {MIN_HISTORY} needed")
    expected = _expected(model, after, disp.phi)
    q = float(sps.t.ppf(0.975, disp.df))

    if comparison in ("year_earlier_quarter", "year_ending"):
        if comparison == "year_ending":
            end = after[-1]
            window = [end - k for k in range(11, -1, -1)]
        else:
            window = after
        pairs = [(m, m - 12) for m in window if m in s.index and (m - 12) in s.index]
        if not pairs:
            return not_tested("no month of the earlier period is held")
        a = float(sum(s[m] for m, _ in pairs))
        b = float(sum(s[p] for _, p in pairs))
        months_after = tuple(_label(m) for m, _ in pairs)
        months_before = tuple(_label(p) for _, p in pairs)
        if a + b == 0:
            return SeasonalChange(
                comparison, months_after, months_before, a, b, nan, nan, nan, 1.0,
                disp.phi, disp.df, *expected, disp.model, SIG_NONE,
            )  # fmt: skip
        z = (a - b) / np.sqrt(disp.phi * (a + b))
        p = float(2 * sps.t.sf(abs(z), disp.df))
        ratio = a / b if b > 0 else nan
        if a > 0 and b > 0:
            half = q * np.sqrt(disp.phi * (1 / a + 1 / b))
            low, high = ratio * np.exp(-half), ratio * np.exp(half)
        else:
            low = high = nan
        method = (
            f"quasi-Poisson score test, same months a year apart (φ = {disp.phi:.1f} from "
            f"{disp.model})"
        )
        return SeasonalChange(
            comparison, months_after, months_before, a, b, float(ratio), float(low),
            float(high), p, disp.phi, disp.df, *expected, method,
            _verdict(p, a / b if b > 0 else np.inf, alpha),
        )  # fmt: skip

    # previous quarter, seasonally adjusted
    prev = [after[0] - k for k in range(len(after), 0, -1)]
    prev_held = [m for m in prev if m in s.index]
    months_before = tuple(_label(m) for m in prev_held)
    history = s[s.index < prev[0]]
    if len(history) < MIN_SEASONAL_HISTORY - len(prev):
        return not_tested(
            f"previous-quarter comparison needs {MIN_SEASONAL_HISTORY} months before the "
            "quarter to allow for season",
            months_before,
        )
    if not prev_held:
        return not_tested("no month of the previous quarter is held")
    data = s[s.index <= after[-1]]
    x = _design(data.index, data.index[0], seasonal=True)
    in_prev = np.array([m in prev_held for m in data.index], dtype=float)
    in_after = np.array([m in after for m in data.index], dtype=float)
    x = np.column_stack([x, in_prev, in_after])
    y = data.to_numpy()
    if y[in_prev == 1].sum() == 0 or y[in_after == 1].sum() == 0:
        return not_tested("no events in one of the two quarters", months_before)
    fit = _poisson_fit(y, x, scale=disp.phi)
    contrast = np.zeros(x.shape[1])
    contrast[-1], contrast[-2] = 1.0, -1.0
    est = float(contrast @ fit.params)
    se = float(np.sqrt(contrast @ fit.cov_params() @ contrast))
    p = float(2 * sps.t.sf(abs(est / se), disp.df))
    ratio = float(np.exp(est))
    method = (
        "quasi-Poisson GLM with month-of-year, trend and a term per quarter (seasonally "
        f"adjusted quarter-on-quarter; φ = {disp.phi:.1f} from {disp.model})"
    )
    return SeasonalChange(
        comparison, labels, months_before, float(y[in_after == 1].sum()),
        float(y[in_prev == 1].sum()), ratio, float(np.exp(est - q * se)),
        float(np.exp(est + q * se)), p, disp.phi, disp.df, *expected, method,
        _verdict(p, ratio, alpha),
    )  # fmt: skip


def change_test_table(result: SeasonalChange) -> dict[str, object]:
    """One row (a dict) of a tests table from a :class:`SeasonalChange`, with ``p_text``."""
    row = result._asdict()
    row["months_after"] = ", ".join(result.months_after)
    row["months_before"] = ", ".join(result.months_before)
    row["p_text"] = format_p(result.p_value)
    return row


def family_change_tests(
    counts: pd.DataFrame,
    by: list[str],
    quarter: object,
    comparison: str = "year_earlier_quarter",
    reference: pd.DataFrame | None = None,
    reference_by: list[str] | None = None,
    month: str = "month",
    count: str = "count",
    min_own_history: int = MIN_SEASONAL_HISTORY,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`change_test` for every series of a family (e.g. every area × crime type).

    Parameters
    ----------
    counts : DataFrame
        Long table: the ``by`` columns, ``month`` (``"YYYY-MM"``) and ``count``. A month
        absent for a series is missing, not zero: give zeros explicitly.
    by : list of str
        Columns identifying one series (e.g. ``["area_code", "crime_type"]``).
    reference : DataFrame, optional
        Long table of reference series (e.g. the force's monthly count of each crime type)
        with ``reference_by`` columns (a subset of ``by``, e.g. ``["crime_type"]``), ``month``
        and ``count``.
    min_own_history : int
        A series with fewer months of history than this before the quarter borrows its
        dispersion from its reference series (:func:`borrowed_dispersion`: the reference's
        relative over-dispersion applied at the series' own monthly mean).

    Returns
    -------
    DataFrame
        One row per series: the ``by`` columns, every field of :class:`SeasonalChange`,
        ``p_text`` and ``dispersion_source`` (``"own history"``, ``"borrowed from
        reference"`` or ``"none"``). Adjust within the family with :func:`adjust_family`.
    """
    return family_change_tests_by_comparison(
        counts, by, quarter, (comparison,), reference, reference_by, month, count,
        min_own_history, alpha,
    )[comparison]  # fmt: skip


def family_change_tests_by_comparison(
    counts: pd.DataFrame,
    by: list[str],
    quarter: object,
    comparisons: tuple[str, ...] = COMPARISONS,
    reference: pd.DataFrame | None = None,
    reference_by: list[str] | None = None,
    month: str = "month",
    count: str = "count",
    min_own_history: int = MIN_SEASONAL_HISTORY,
    alpha: float = 0.05,
) -> dict[str, pd.DataFrame]:
    """:func:`family_change_tests` of every comparison in ``comparisons``, ``{comparison:
    DataFrame}``: the same rows, but each series' history model (:func:`history_dispersion`) is
    fitted once and shared by its comparisons instead of once per test."""
    reference_by = list(reference_by or [])
    ref_disp: dict[tuple, Dispersion | None] = {}
    first = _quarter_months(quarter)[0]
    if reference is not None:
        groups = reference.groupby(reference_by, sort=False) if reference_by else [((), reference)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            ref_disp[key] = history_dispersion(part.set_index(month)[count], _label(first))
    rows: dict[str, list[dict]] = {c: [] for c in comparisons}
    for key, part in counts.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        s = _clean_series(part.set_index(month)[count])
        models: dict = {}  # this series' history model, fitted at most once

        def own() -> Dispersion | None:
            model = _history_model(s, first, models)  # noqa: B023 (used within the iteration)
            return None if model is None else model[0]

        held = int((s.index < first).sum())
        disp, source = None, "none"
        if held >= min_own_history:
            disp, source = own(), "own history"
        if disp is None and reference is not None:
            ref_key = tuple(k for k, col in zip(key, by, strict=True) if col in reference_by)
            ref = ref_disp.get(ref_key)
            if ref is not None:
                recent = s[s.index < first].tail(12)
                mean = float(recent.mean()) if len(recent) else float(s.mean())
                disp, source = borrowed_dispersion(ref, mean), "borrowed from reference"
        if disp is None and held >= MIN_HISTORY:
            disp, source = own(), "own history"
        for comparison in comparisons:
            result = _change_test(s, quarter, comparison, disp, alpha, models)
            row = dict(zip(by, key, strict=True))
            row.update(change_test_table(result))
            row["dispersion_source"] = source if np.isfinite(result.p_value) else "none"
            rows[comparison].append(row)
    return {comparison: pd.DataFrame(found) for comparison, found in rows.items()}


# --------------------------------------------------------------------------- multiple tests


def adjust_family(
    tests: pd.DataFrame,
    family: str | list[str] | None = "family",
    p_value: str = "p_value",
    ratio: str = "ratio",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Benjamini-Hochberg false-discovery-rate control within each family of tests.

    Parameters
    ----------
    tests : DataFrame
        One row per test with a p-value column and a ``ratio`` (after / before; its side of 1
        gives the direction).
    family : str or list of str or None
        Column(s) naming each row's family (e.g. the report and comparison); ``None`` makes
        the whole table one family.

    Returns
    -------
    DataFrame
        Copy with ``p_adjusted`` (BH-adjusted p-value, statsmodels ``multipletests`` with
        ``method="fdr_bh"``, within the family; NaN p-values are left out of the family and
        stay NaN), ``p_adjusted_text`` (:func:`format_p`), ``family_size`` (tests with a
        p-value in the family), and ``verdict_adjusted`` ("statistically significant
        increase/decrease" when ``p_adjusted < alpha``, else "no statistically significant
        change"; "not tested" without a p-value).
    """
    from statsmodels.stats.multitest import multipletests

    out = tests.copy()
    p = pd.to_numeric(out[p_value], errors="coerce").to_numpy(dtype=float)
    adjusted = np.full(len(out), np.nan)
    size = np.zeros(len(out), dtype=int)
    positions = pd.RangeIndex(len(out))
    if family is None:
        groups = [positions.to_numpy()]
    else:
        cols = [family] if isinstance(family, str) else list(family)
        keys = out[cols].reset_index(drop=True)
        grouped = keys.groupby(cols, dropna=False, sort=False).indices
        groups = [np.asarray(v) for v in grouped.values()]
    for rows in groups:
        rows = rows[np.isfinite(p[rows])]
        if rows.size:
            adjusted[rows] = multipletests(p[rows], alpha=alpha, method="fdr_bh")[1]
            size[rows] = rows.size
    r = pd.to_numeric(out[ratio], errors="coerce").to_numpy(dtype=float)
    out["p_adjusted"] = adjusted
    out["p_adjusted_text"] = [format_p(v) for v in adjusted]
    out["family_size"] = size
    out["verdict_adjusted"] = [
        _verdict(v, ratio_v if np.isfinite(ratio_v) else np.inf, alpha)
        for v, ratio_v in zip(adjusted, r, strict=True)
    ]
    return out
