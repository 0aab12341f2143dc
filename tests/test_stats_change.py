"""Tests of the over-dispersed, seasonal change tests and FDR control (analysis.stats.change).

Expected values come from statsmodels' formula interface, scipy and hand formulas written out
here, never from the functions under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps

from analysis import stats


def month_labels(start: str, n: int) -> list[str]:
    first = pd.Period(start, freq="M")
    return [str(first + i) for i in range(n)]


SEASON = np.array([0.9, 0.85, 1.0, 1.0, 1.05, 1.1, 1.15, 1.15, 1.05, 1.0, 0.95, 0.8])


def seasonal_series(n=36, start="2020-01", level=500, seed=1, phi=4.0, step=None):
    """Negative-binomial-like monthly counts with a seasonal pattern (and an optional step)."""
    rng = np.random.default_rng(seed)
    labels = month_labels(start, n)
    mu = np.array([level * SEASON[pd.Period(m).month - 1] for m in labels])
    if step is not None:
        months, factor = step
        mu = np.where(np.isin(labels, months), mu * factor, mu)
    # gamma-Poisson with variance phi * mu: shape mu / (phi - 1), scale phi - 1
    lam = rng.gamma(mu / (phi - 1), phi - 1)
    return pd.Series(rng.poisson(lam).astype(float), index=labels)


def history_phi(series: pd.Series, before: str) -> tuple[float, int]:
    """Pearson φ of a Poisson GLM with month-of-year and trend, by the formula interface."""
    frame = pd.DataFrame({"y": series.to_numpy()}, index=pd.PeriodIndex(series.index, freq="M"))
    frame = frame[frame.index < pd.Period(before, freq="M")]
    frame["moy"] = frame.index.month
    frame["t"] = [(p - frame.index[0]).n for p in frame.index]
    fit = smf.glm("y ~ C(moy) + t", frame, family=sm.families.Poisson()).fit()
    return max(fit.pearson_chi2 / fit.df_resid, 1.0), int(fit.df_resid)


# --------------------------------------------------------------------------- p-values


@pytest.mark.parametrize(
    "p,text",
    [
        (0.0000012, "p < 0.001"),
        (0.0042, "p = 0.004"),
        (0.0312, "p = 0.03"),
        (0.43, "p = 0.43"),
        (0.049, "p = 0.049"),
        (0.0504, "p = 0.0504"),
        (0.0496, "p = 0.0496"),
        (0.051, "p = 0.051"),
        (0.995, "p > 0.99"),
        (float("nan"), "p not available"),
    ],
)
def test_format_p(p, text):
    assert stats.format_p(p) == text


def test_format_p_never_prints_the_threshold_for_any_p():
    for p in np.linspace(0.04, 0.06, 2001):
        if abs(p - 0.05) < 1e-12:
            continue  # exactly 0.05 is printed as it is
        text = stats.format_p(float(p))
        shown = float(text.split("= ")[1])
        assert shown != 0.05
        assert (shown < 0.05) == (p < 0.05), (p, text)


# --------------------------------------------------------------------------- dispersion


def test_history_dispersion_is_pearson_phi_of_seasonal_trend_glm():
    series = seasonal_series(seed=3)
    got = stats.history_dispersion(series, "2022-10")
    phi, df = history_phi(series, "2022-10")
    assert got.phi == pytest.approx(phi) and got.df == df == 33 - 13
    assert "month-of-year" in got.model and got.months == 33


def test_history_dispersion_fallbacks():
    series = seasonal_series(n=30, seed=2)
    short = stats.history_dispersion(series, "2021-05")  # 16 months before
    assert "trend only" in short.model and short.df == 16 - 2
    assert stats.history_dispersion(series, "2020-11") is None  # 10 months


def test_borrowed_dispersion_keeps_relative_overdispersion():
    ref = stats.Dispersion(phi=41.0, df=20, mean=4000.0, model="m", months=33)
    got = stats.borrowed_dispersion(ref, 100.0)
    assert got.phi == pytest.approx(1 + (41 - 1) / 4000 * 100)  # variance mu + alpha mu^2
    assert got.df == 20 and "borrowed" in got.model


# --------------------------------------------------------------------------- change tests


def test_year_earlier_quarter_is_quasi_poisson_score_test():
    series = seasonal_series(n=36, seed=5)
    got = stats.change_test(series, "2022Q4", "year_earlier_quarter")
    phi, df = history_phi(series, "2022-10")
    a = series[["2022-10", "2022-11", "2022-12"]].sum()
    b = series[["2021-10", "2021-11", "2021-12"]].sum()
    z = (a - b) / math.sqrt(phi * (a + b))
    assert (got.after, got.before) == (a, b)
    assert got.p_value == pytest.approx(2 * sps.t.sf(abs(z), df))
    assert got.ratio == pytest.approx(a / b)
    half = sps.t.ppf(0.975, df) * math.sqrt(phi * (1 / a + 1 / b))
    assert got.ratio_low == pytest.approx(a / b * math.exp(-half))
    assert got.months_before == ("2021-10", "2021-11", "2021-12")


def test_same_months_glm_estimate_is_log_ratio_of_totals():
    """The documented equivalence: month-of-year terms + an after term give log(A / B)."""
    series = seasonal_series(n=36, seed=6)
    months = ["2021-10", "2021-11", "2021-12", "2022-10", "2022-11", "2022-12"]
    frame = pd.DataFrame(
        {"y": series[months].to_numpy(), "moy": [10, 11, 12] * 2, "after": [0] * 3 + [1] * 3}
    )
    fit = smf.glm("y ~ C(moy) + after", frame, family=sm.families.Poisson()).fit()
    got = stats.change_test(series, "2022Q4")
    assert math.exp(fit.params["after"]) == pytest.approx(got.ratio)


def test_verdict_words_and_a_real_step_is_found():
    q4 = ["2022-10", "2022-11", "2022-12"]
    up = seasonal_series(n=36, seed=7, phi=2.0, step=(q4, 1.6))
    got = stats.change_test(up, "2022Q4")
    assert got.verdict == "statistically significant increase" and got.p_value < 0.05
    down = seasonal_series(n=36, seed=7, phi=2.0, step=(q4, 0.6))
    assert stats.change_test(down, "2022Q4").verdict == "statistically significant decrease"
    flat = seasonal_series(n=36, seed=8, phi=30.0)
    flat_res = stats.change_test(flat, "2022Q4")
    assert flat_res.verdict == "no statistically significant change"


def test_overdispersion_widens_the_test_compared_with_exact_poisson():
    series = seasonal_series(n=36, seed=9, phi=40.0)
    got = stats.change_test(series, "2022Q4")
    a, b = got.after, got.before
    exact = sps.binomtest(int(a), int(a + b), 0.5).pvalue
    assert got.dispersion > 5
    assert got.p_value > exact  # the Poisson test is over-confident on over-dispersed counts


def test_year_ending_pairs_months_and_drops_a_missing_month_with_its_partner():
    series = seasonal_series(n=36, seed=10).drop("2022-01")
    got = stats.change_test(series, "2022Q4", "year_ending")
    assert len(got.months_after) == len(got.months_before) == 11
    assert "2022-01" not in got.months_after and "2021-01" not in got.months_before
    assert got.after == series.loc["2022-02":"2022-12"].sum()
    assert got.before == series.loc["2021-02":"2021-12"].sum()


def test_previous_quarter_allows_for_season():
    # a strong seasonal fall from Q3 to Q4 every year, nothing else
    labels = month_labels("2019-10", 39)
    season = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.3, 1.3, 0.8, 0.8, 0.8])
    rng = np.random.default_rng(11)
    mu = np.array([600 * season[pd.Period(m).month - 1] for m in labels])
    series = pd.Series(rng.poisson(mu).astype(float), index=labels)
    got = stats.change_test(series, "2022Q4", "previous_quarter")
    raw = sps.binomtest(int(got.after), int(got.after + got.before), 0.5).pvalue
    assert raw < 1e-10  # quarter-on-quarter raw counts "change" a lot
    assert got.verdict == "no statistically significant change"
    assert got.ratio == pytest.approx(1.0, abs=0.08)  # seasonally adjusted ratio near 1
    # the same series with a real 25% drop in 2022 Q4
    stepped = series.copy()
    stepped.loc[["2022-10", "2022-11", "2022-12"]] = rng.poisson(mu[-3:] * 0.75)
    res = stats.change_test(stepped, "2022Q4", "previous_quarter")
    assert res.verdict == "statistically significant decrease"
    assert 0.65 < res.ratio < 0.85


def test_previous_quarter_matches_formula_glm_contrast():
    series = seasonal_series(n=40, seed=12, phi=3.0)
    got = stats.change_test(series, "2022Q4", "previous_quarter")
    frame = pd.DataFrame({"y": series.loc[:"2022-12"].to_numpy()})
    periods = pd.PeriodIndex(series.loc[:"2022-12"].index, freq="M")
    frame["moy"] = periods.month
    frame["t"] = [(p - periods[0]).n for p in periods]
    frame["prev"] = [str(p) in ("2022-07", "2022-08", "2022-09") for p in periods]
    frame["now"] = [str(p) in ("2022-10", "2022-11", "2022-12") for p in periods]
    frame[["prev", "now"]] = frame[["prev", "now"]].astype(float)
    phi, df = history_phi(series, "2022-10")
    fit = smf.glm("y ~ C(moy) + t + prev + now", frame, family=sm.families.Poisson()).fit(scale=phi)
    diff = fit.params["now"] - fit.params["prev"]
    cov = fit.cov_params()
    se = math.sqrt(cov.loc["now", "now"] + cov.loc["prev", "prev"] - 2 * cov.loc["now", "prev"])
    assert got.ratio == pytest.approx(math.exp(diff))
    assert got.p_value == pytest.approx(2 * sps.t.sf(abs(diff / se), df))


def test_short_history_fallbacks_are_stated():
    series = seasonal_series(n=20, start="2021-05", seed=13)  # 17 months before 2022-10
    same = stats.change_test(series, "2022Q4", "year_earlier_quarter")
    assert "trend only" in same.method and math.isfinite(same.p_value)
    prev = stats.change_test(series, "2022Q4", "previous_quarter")
    assert prev.verdict.startswith("not tested") and "season" in prev.verdict
    tiny = seasonal_series(n=13, start="2021-12", seed=13)
    res = stats.change_test(tiny, "2022Q4")
    assert res.verdict.startswith("not tested") and "12 needed" in res.verdict
    missing = seasonal_series(n=36, seed=13).drop("2022-11")
    assert "missing" in stats.change_test(missing, "2022Q4").verdict


def test_expected_prediction_interval_covers_a_no_change_quarter():
    series = seasonal_series(n=36, seed=14, phi=3.0)
    got = stats.change_test(series, "2022Q4")
    assert got.expected_low < got.expected < got.expected_high
    assert got.expected_low < got.after < got.expected_high


# --------------------------------------------------------------------------- families, FDR


def bh_by_hand(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        adjusted[i] = running
    return adjusted


def test_adjust_family_is_benjamini_hochberg_within_each_family():
    p_a = [0.001, 0.01, 0.028, 0.042, 0.2]
    p_b = [0.02, 0.5]
    table = pd.DataFrame(
        {
            "family": ["a"] * 5 + ["b"] * 2 + ["b"],
            "p_value": p_a + p_b + [np.nan],
            "ratio": [1.2, 0.8, 1.1, 0.9, 1.0, 1.3, 1.0, np.nan],
        }
    )
    out = stats.adjust_family(table)
    assert out["p_adjusted"].iloc[:5].tolist() == pytest.approx(bh_by_hand(p_a))
    assert out["p_adjusted"].iloc[5:7].tolist() == pytest.approx(bh_by_hand(p_b))
    assert np.isnan(out["p_adjusted"].iloc[7]) and out["family_size"].iloc[5] == 2
    assert out["verdict_adjusted"].iloc[0] == "statistically significant increase"
    assert out["verdict_adjusted"].iloc[1] == "statistically significant decrease"
    # 0.042 × 5 / 4 = 0.0525: no longer significant after adjustment; 0.028 × 5 / 3 still is
    assert out["verdict_adjusted"].iloc[2] == "statistically significant increase"
    assert out["verdict_adjusted"].iloc[3] == "no statistically significant change"
    assert out["verdict_adjusted"].iloc[5] == "statistically significant increase"  # 0.04
    assert out["verdict_adjusted"].iloc[7] == "not tested"


def test_family_change_tests_borrows_dispersion_for_short_area_series():
    force = seasonal_series(n=36, seed=20, level=5000, phi=30.0)
    long_area = seasonal_series(n=36, seed=21, level=300, phi=3.0)
    short_area = seasonal_series(n=18, start="2021-07", seed=22, level=40, phi=1.5)
    rows = []
    for name, s in (("long", long_area), ("short", short_area)):
        rows += [{"area": name, "type": "x", "month": m, "count": v} for m, v in s.items()]
    ref = pd.DataFrame({"type": "x", "month": force.index, "count": force.to_numpy()})
    out = stats.family_change_tests(
        pd.DataFrame(rows), ["area", "type"], "2022Q4", reference=ref, reference_by=["type"]
    )
    by_area = out.set_index("area")
    assert by_area.loc["long", "dispersion_source"] == "own history"
    assert by_area.loc["long", "dispersion"] == pytest.approx(history_phi(long_area, "2022-10")[0])
    assert by_area.loc["short", "dispersion_source"] == "borrowed from reference"
    ref_phi, ref_df = history_phi(force, "2022-10")
    frame_mu = stats.history_dispersion(force, "2022-10").mean
    mean_short = short_area.loc["2021-10":"2022-09"].mean()
    expected_phi = 1 + (ref_phi - 1) / frame_mu * mean_short
    assert by_area.loc["short", "dispersion"] == pytest.approx(expected_phi)
    assert by_area.loc["short", "dispersion_df"] == ref_df


def test_family_tests_of_every_comparison_equal_change_test_and_fit_each_history_once(
    monkeypatch,
):
    """The shared history model changes no figure: every row equals ``change_test`` of the
    series on its own, and each series' history GLM is fitted once (plus the previous-quarter
    model), not once per comparison."""
    from analysis.stats import change as change_module

    series = {
        ("a", "x"): seasonal_series(n=36, seed=31, level=400, phi=3.0, step=(["2022-11"], 1.6)),
        ("a", "y"): seasonal_series(n=36, seed=32, level=60, phi=1.5),
        ("b", "x"): seasonal_series(n=36, seed=33, level=900, phi=6.0),
    }
    rows = [
        {"area": area, "type": kind, "month": month, "count": value}
        for (area, kind), s in series.items()
        for month, value in s.items()
    ]
    fits = []
    real_fit = change_module._poisson_fit
    monkeypatch.setattr(
        change_module, "_poisson_fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k)
    )
    out = stats.family_change_tests_by_comparison(
        pd.DataFrame(rows), ["area", "type"], "2022Q4", stats.change.COMPARISONS
    )
    # one history model and one previous-quarter model per series
    assert len(fits) == 2 * len(series)
    monkeypatch.setattr(change_module, "_poisson_fit", real_fit)
    assert list(out) == list(stats.change.COMPARISONS)
    for comparison, table in out.items():
        assert table[["area", "type"]].apply(tuple, axis=1).tolist() == sorted(series)
        for (area, kind), s in series.items():
            row = table[(table["area"] == area) & (table["type"] == kind)].iloc[0]
            expected = stats.change_test(s, "2022Q4", comparison)
            assert row["p_value"] == expected.p_value
            assert row["ratio"] == expected.ratio
            assert row["ratio_low"] == expected.ratio_low
            assert row["expected"] == expected.expected
            assert row["verdict"] == expected.verdict
            assert row["dispersion_source"] == "own history"
        single = stats.family_change_tests(
            pd.DataFrame(rows), ["area", "type"], "2022Q4", comparison
        )
        pd.testing.assert_frame_equal(single, table)
