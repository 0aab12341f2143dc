"""Tests of analysis.stats against independent computations (scipy, statsmodels, hand formulas).

The real-data tests recompute their inputs from the shared data.police.uk CSVs with the csv
module and check the statistics against a second computation written out here.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.optimize import linprog
from statsmodels.stats.contingency_tables import Table2x2

from analysis import stats
from analysis.paths import SHARED_DATA_DIR

Z = sps.norm.ppf(0.975)
POLICE = SHARED_DATA_DIR / "police"
REFERENCE = SHARED_DATA_DIR / "reference"

realdata = pytest.mark.skipif(
    not SHARED_DATA_DIR.is_dir(), reason=f"shared real data folder {SHARED_DATA_DIR} is absent"
)


# --------------------------------------------------------------------------- independent helpers


def byar(o: float) -> tuple[float, float]:
    """Byar's approximation written out."""
    low = o * (1 - 1 / (9 * o) - Z / (3 * math.sqrt(o))) ** 3
    high = (o + 1) * (1 - 1 / (9 * (o + 1)) + Z / (3 * math.sqrt(o + 1))) ** 3
    return low, high


def exact_poisson(o: int) -> tuple[float, float]:
    """Exact (Garwood) limits from gamma quantiles."""
    low = 0.0 if o == 0 else sps.gamma.ppf(0.025, o)
    return low, sps.gamma.ppf(0.975, o + 1)


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def recoverable(values: np.ndarray, mask: np.ndarray, row_totals: bool, col_totals: bool):
    """Suppressed cells whose value is pinned down by the published totals (via linprog).

    For every suppressed cell, minimise and maximise it subject to the published margins and
    non-negativity; the cell is recoverable when the two agree.
    """
    cells = list(zip(*np.nonzero(mask), strict=True))
    eq_rows, eq_rhs = [], []
    n_rows, n_cols = values.shape
    lines = []
    if row_totals:
        lines += [("row", r) for r in range(n_rows)]
    if col_totals:
        lines += [("col", c) for c in range(n_cols)]
    for kind, i in lines:
        coef = [1.0 if (r if kind == "row" else c) == i else 0.0 for r, c in cells]
        if not any(coef):
            continue
        known = values[i, :] if kind == "row" else values[:, i]
        known_mask = ~mask[i, :] if kind == "row" else ~mask[:, i]
        total = values[i, :].sum() if kind == "row" else values[:, i].sum()
        eq_rows.append(coef)
        eq_rhs.append(total - known[known_mask].sum())
    found = []
    for j, cell in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[j] = 1.0
        lo = linprog(objective, A_eq=eq_rows, b_eq=eq_rhs, bounds=(0, None), method="highs")
        hi = linprog(-objective, A_eq=eq_rows, b_eq=eq_rhs, bounds=(0, None), method="highs")
        assert lo.status == 0 and hi.status == 0
        if abs(lo.fun + hi.fun) < 1e-6:
            found.append(cell)
    return found


# --------------------------------------------------------------------------- rates


def test_poisson_rate_interval_exact_below_10_and_byar_from_10():
    counts = pd.Series([0, 1, 4, 9, 10, 57, 1234], index=list("abcdefg"))
    pop = pd.Series([2000, 2000, 500, 900, 1000, 10000, 250000], index=list("abcdefg"))
    got = stats.poisson_rate_interval(counts, pop, per=1000)
    assert list(got.index) == list("abcdefg")
    for key in counts.index:
        o, n = counts[key], pop[key]
        low, high = exact_poisson(o) if o < 10 else byar(o)
        assert got.loc[key, "rate"] == pytest.approx(o / n * 1000)
        assert got.loc[key, "low"] == pytest.approx(low / n * 1000, rel=1e-9)
        assert got.loc[key, "high"] == pytest.approx(high / n * 1000, rel=1e-9)
    assert got.loc["a", "low"] == 0.0


def test_exact_poisson_limits_match_published_table():
    # Garwood exact 95% limits for a Poisson count, as tabulated (e.g. Ulm 1990, AJE 131:373)
    published = {0: (0.0, 3.6889), 1: (0.0253, 5.5716), 5: (1.6235, 11.6683), 9: (4.1154, 17.0848)}
    got = stats.poisson_rate_interval(pd.Series(list(published)), 1, per=1)
    for i, (low, high) in enumerate(published.values()):
        assert got["low"][i] == pytest.approx(low, abs=6e-5)
        assert got["high"][i] == pytest.approx(high, abs=6e-5)


def test_byar_is_close_to_exact_at_10():
    # sanity check that the switch point does not jump: Byar within 2% of exact at 10
    got = stats.poisson_rate_interval(10, 1, per=1)
    exact_low, exact_high = exact_poisson(10)
    assert got["low"][0] == pytest.approx(exact_low, rel=0.02)
    assert got["high"][0] == pytest.approx(exact_high, rel=0.02)


def test_poisson_rate_interval_missing_or_zero_population_is_nan():
    got = stats.poisson_rate_interval(pd.Series([5, 5, 5]), pd.Series([0, np.nan, 100]))
    assert got.iloc[:2].isna().all().all()
    assert got["rate"].iloc[2] == pytest.approx(50.0)


def test_poisson_rate_interval_scalar():
    got = stats.poisson_rate_interval(3, 1500, per=100_000)
    low, high = exact_poisson(3)
    assert got.shape == (1, 3)
    assert got["rate"][0] == pytest.approx(200.0)
    assert got["low"][0] == pytest.approx(low / 1500 * 100_000)
    assert got["high"][0] == pytest.approx(high / 1500 * 100_000)


def test_poisson_rate_interval_rejects_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        stats.poisson_rate_interval(-1, 100)


def test_rate_per_1000_adds_columns_and_keeps_rows():
    table = pd.DataFrame({"area": ["x", "y"], "count": [25, 0], "population": [5000, 0]})
    out = stats.rate_per_1000(table)
    assert list(out.columns) == [
        "area",
        "count",
        "population",
        "rate_per_1000",
        "rate_low",
        "rate_high",
    ]
    low, high = byar(25)
    assert out["rate_per_1000"][0] == pytest.approx(5.0)
    assert out["rate_low"][0] == pytest.approx(low / 5)
    assert out["rate_high"][0] == pytest.approx(high / 5)
    assert out.iloc[1][["rate_per_1000", "rate_low", "rate_high"]].isna().all()
    assert "rate_per_1000" not in table.columns  # input untouched


# --------------------------------------------------------------------------- proportions


@pytest.mark.parametrize("k,n", [(0, 10), (1, 3), (17, 40), (200, 200), (512, 1300)])
def test_wilson_interval_matches_hand_formula(k, n):
    got = stats.wilson_interval(k, n)
    low, high = wilson(k, n)
    assert got["share"][0] == pytest.approx(k / n)
    assert got["low"][0] == pytest.approx(max(low, 0.0), abs=1e-12)
    assert got["high"][0] == pytest.approx(min(high, 1.0), abs=1e-12)


def test_wilson_interval_matches_newcombe_1998_examples():
    # Newcombe R.G. (1998) Stat Med 17:857-872, Table I, method 3 (score interval)
    published = [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ]
    k, n, low, high = (list(col) for col in zip(*published, strict=True))
    got = stats.wilson_interval(k, n)
    assert got["low"].tolist() == pytest.approx(low, abs=6e-5)
    assert got["high"].tolist() == pytest.approx(high, abs=6e-5)


def test_wilson_interval_zero_trials_is_nan_and_index_kept():
    got = stats.wilson_interval(
        pd.Series([0, 3], index=["p", "q"]), pd.Series([0, 6], index=["p", "q"])
    )
    assert list(got.index) == ["p", "q"]
    assert got.loc["p"].isna().all()
    assert got.loc["q", "share"] == 0.5


def test_proportion_with_interval_prefix():
    table = pd.DataFrame({"arrests": [12], "searches": [80]})
    out = stats.proportion_with_interval(table, "arrests", "searches", prefix="arrest_rate")
    low, high = wilson(12, 80)
    assert out["arrest_rate"][0] == pytest.approx(0.15)
    assert out["arrest_rate_low"][0] == pytest.approx(low)
    assert out["arrest_rate_high"][0] == pytest.approx(high)


# --------------------------------------------------------------------------- risk ratios


@pytest.mark.parametrize(
    "a,n1,c,n2", [(30, 1000, 10, 2000), (412, 29_000, 2100, 1_200_000), (1, 9, 1, 9)]
)
def test_risk_ratio_matches_statsmodels_table2x2(a, n1, c, n2):
    table = Table2x2(np.array([[a, n1 - a], [c, n2 - c]]))
    low, high = table.riskratio_confint(alpha=0.05)
    got = stats.risk_ratio(a, n1, c, n2)
    assert got.rr == pytest.approx(table.riskratio)
    assert got.low == pytest.approx(low)
    assert got.high == pytest.approx(high)
    assert got.flag == ""


def test_risk_ratio_hand_calculation():
    # 30/1000 vs 10/2000: RR = 6; SE = sqrt(1/30 - 1/1000 + 1/10 - 1/2000)
    se = math.sqrt(1 / 30 - 1 / 1000 + 1 / 10 - 1 / 2000)
    got = stats.risk_ratio(30, 1000, 10, 2000)
    assert got.rr == pytest.approx(6.0)
    assert got.low == pytest.approx(6 * math.exp(-1.959964 * se), rel=1e-6)
    assert got.high == pytest.approx(6 * math.exp(1.959964 * se), rel=1e-6)


def test_risk_ratio_zero_cells_are_flagged_not_corrected():
    zero_group = stats.risk_ratio(0, 100, 5, 100)
    assert zero_group.rr == 0.0
    assert math.isnan(zero_group.low) and math.isnan(zero_group.high)
    assert "zero count" in zero_group.flag
    zero_ref = stats.risk_ratio(5, 100, 0, 100)
    assert math.isnan(zero_ref.rr) and math.isnan(zero_ref.low)
    assert "not estimable" in zero_ref.flag
    no_pop = stats.risk_ratio(5, 0, 5, 100)
    assert math.isnan(no_pop.rr) and no_pop.flag


def test_risk_ratios_vs_reference_within_by_groups():
    table = pd.DataFrame(
        {
            "lad": ["A", "A", "A", "B", "B"],
            "group": ["White", "Black", "Asian", "Black", "White"],
            "count": [100, 30, 0, 12, 40],
            "population": [10_000, 1_000, 500, 300, 8_000],
        }
    )
    out = stats.risk_ratios_vs_reference(table, by=["lad"])
    assert list(out.columns[-4:]) == ["rr_vs_ref", "rr_low", "rr_high", "rr_flag"]
    black_b = Table2x2(np.array([[12, 288], [40, 7960]]))
    assert out.loc[3, "rr_vs_ref"] == pytest.approx(black_b.riskratio)
    assert out.loc[3, "rr_low"] == pytest.approx(black_b.riskratio_confint()[0])
    assert out.loc[1, "rr_vs_ref"] == pytest.approx((30 / 1000) / (100 / 10_000))
    assert out.loc[0, "rr_vs_ref"] == 1.0 and out.loc[0, "rr_flag"] == "reference group"
    assert np.isnan(out.loc[2, "rr_low"]) and "zero" in out.loc[2, "rr_flag"]


def test_risk_ratios_vs_reference_missing_reference_raises():
    table = pd.DataFrame({"group": ["Black"], "count": [3], "population": [100]})
    with pytest.raises(ValueError, match="reference row"):
        stats.risk_ratios_vs_reference(table)


# --------------------------------------------------------------------------- change tests


@pytest.mark.parametrize(
    "before,after,eb,ea",
    [(448, 412, 1, 1), (10, 30, 1, 1), (3, 0, 1, 1), (120, 150, 92, 91), (0, 7, 1, 1)],
)
def test_poisson_change_test_p_value_is_conditional_binomial(before, after, eb, ea):
    got = stats.poisson_change_test(before, after, eb, ea)
    expected = sps.binomtest(after, before + after, ea / (ea + eb)).pvalue
    assert got.p_value == pytest.approx(expected)
    assert got.sqrt_z == pytest.approx(2 * (math.sqrt(after) - math.sqrt(before * ea / eb)))
    if before:
        assert got.ratio == pytest.approx((after / ea) / (before / eb))
    else:
        assert math.isnan(got.ratio)


def test_poisson_change_test_verdicts():
    assert stats.poisson_change_test(448, 412).verdict == "no evidence of change"
    assert stats.poisson_change_test(10, 30).verdict == "increase unlikely to be chance"
    assert stats.poisson_change_test(60, 30).verdict == "decrease unlikely to be chance"
    both_zero = stats.poisson_change_test(0, 0)
    assert both_zero.p_value == 1.0 and both_zero.verdict == "no evidence of change"


def test_poisson_change_test_rejects_fractional_counts():
    with pytest.raises(ValueError):
        stats.poisson_change_test(2.5, 3)


def test_change_table_per_row():
    table = pd.DataFrame(
        {"type": ["x", "y", "z"], "count_before": [448, 10, None], "count_after": [412, 30, 4]}
    )
    out = stats.change_table(table)
    assert out.loc[0, "p_value"] == pytest.approx(sps.binomtest(412, 860, 0.5).pvalue)
    assert out.loc[1, "verdict"] == "increase unlikely to be chance"
    assert out.loc[1, "ratio"] == pytest.approx(3.0)
    assert np.isnan(out.loc[2, "p_value"]) and "missing" in out.loc[2, "verdict"]


# SPC tests: tests/test_stats_spc.py (NHS "Making Data Count" rules).

# --------------------------------------------------------------------------- funnels


def interpolated(dist, p):
    r = dist.ppf(p)
    return r - (dist.cdf(r) - p) / (dist.cdf(r) - dist.cdf(r - 1))


@pytest.mark.parametrize("n", [20, 150, 2000])
def test_funnel_limits_binomial_quantiles(n):
    target = 0.3
    got = stats.funnel_limits([n], target, kind="proportion")
    dist = sps.binom(n, target)
    for level, name in ((0.95, "95"), (0.998, "998")):
        p_lo, p_hi = (1 - level) / 2, (1 + level) / 2
        # bracketed by whole-count quantiles ...
        assert dist.ppf(p_lo) - 1 <= got[f"low{name}"][0] * n <= dist.ppf(p_lo)
        assert dist.ppf(p_hi) - 1 <= got[f"high{name}"][0] * n <= dist.ppf(p_hi)
        # ... and equal to the interpolated quantile written out
        assert got[f"high{name}"][0] == pytest.approx(interpolated(dist, p_hi) / n)
        assert got[f"low{name}"][0] == pytest.approx(max(interpolated(dist, p_lo), 0) / n)


def test_funnel_limits_poisson_rates_per_1000():
    got = stats.funnel_limits(pd.Series([5_000, 40_000]), 12.0, kind="rate", per=1000)
    for i, n in enumerate([5_000, 40_000]):
        dist = sps.poisson(12.0 / 1000 * n)
        assert dist.ppf(0.001) - 1 <= got["low998"][i] * n / 1000 <= dist.ppf(0.001)
        assert got["high95"][i] == pytest.approx(interpolated(dist, 0.975) / n * 1000)
    # the funnel narrows as the denominator grows
    assert got["high95"][1] < got["high95"][0] and got["low95"][1] > got["low95"][0]


def test_funnel_limits_overdispersed_normal():
    got = stats.funnel_limits([400], 20.0, kind="proportion", per=100, phi=1.0, tau2=4.0)
    sd = math.sqrt(0.2 * 0.8 / 400 * 100**2 + 4.0)
    assert got["high95"][0] == pytest.approx(20 + Z * sd)
    assert got["low998"][0] == pytest.approx(20 - sps.norm.ppf(0.999) * sd)


def test_funnel_table_pooled_target_and_outliers():
    table = pd.DataFrame(
        {
            "area": list("abcdef"),
            "crimes": [10, 50, 30, 200, 5, 80],
            "pop": [1000, 5000, 4000, 10000, 2000, 5000],
        }
    )
    out = stats.funnel_table(table, "crimes", "pop", kind="rate", per=1000, label="area")
    pooled = 375 / 27000
    assert out.attrs["target"] == pytest.approx(pooled * 1000)
    assert out["value"].tolist() == pytest.approx((table["crimes"] / table["pop"] * 1000).tolist())
    z_d = (200 / 10000 - pooled) / math.sqrt(pooled / 10000)
    assert out.loc[3, "z"] == pytest.approx(z_d)
    for i, row in table.iterrows():
        dist = sps.poisson(pooled * row["pop"])
        outside998 = row["crimes"] < interpolated(dist, 0.001) or row["crimes"] > interpolated(
            dist, 0.999
        )
        assert bool(out.loc[i, "outside998"]) == outside998
    assert out.loc[3, "outside998"] and out.loc[4, "outside998"] and not out.loc[0, "outside95"]
    assert out.attrs["phi"] == 1.0 and out.attrs["tau2"] == 0.0


def test_funnel_table_overdispersion_phi_and_tau2_by_hand():
    table = pd.DataFrame(
        {
            "k": [10, 50, 30, 200, 5, 80, 60, 44],
            "n": [1000, 5000, 4000, 10000, 2000, 5000, 3000, 4400],
        }
    )
    out = stats.funnel_table(table, "k", "n", kind="rate", per=1000, overdispersion=True)
    theta = table["k"].sum() / table["n"].sum()
    y = table["k"] / table["n"]
    var = theta / table["n"]
    z = ((y - theta) / np.sqrt(var)).to_numpy()
    lo, hi = np.percentile(z, [10, 90])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    k = len(z)
    assert k * phi > k - 1  # the example is over-dispersed
    w = 1 / var
    tau2 = (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert out.attrs["phi"] == pytest.approx(phi)
    assert out.attrs["tau2"] == pytest.approx(tau2 * 1000**2)
    sd = math.sqrt(var[3] + tau2) * 1000
    assert out.loc[3, "high95"] == pytest.approx(theta * 1000 + Z * sd)
    assert out.loc[3, "z"] == pytest.approx((y[3] - theta) / math.sqrt(var[3] + tau2))


def test_funnel_table_external_target():
    table = pd.DataFrame({"k": [30, 45, 12], "n": [100, 120, 60]})
    out = stats.funnel_table(table, "k", "n", kind="proportion", per=100, target=25.0)
    assert out.attrs["target"] == 25.0 and not out.attrs["target_is_pooled"]
    assert (out["target"] == 25.0).all()
    assert out.loc[1, "z"] == pytest.approx((45 / 120 - 0.25) / math.sqrt(0.25 * 0.75 / 120))
    dist = sps.binom(120, 0.25)
    assert out.loc[1, "high998"] == pytest.approx(interpolated(dist, 0.999) / 120 * 100)
    assert bool(out.loc[1, "outside998"]) == (45 > interpolated(dist, 0.999))


def test_funnel_table_zero_denominator_never_outside():
    table = pd.DataFrame({"k": [10, 3, 0], "n": [1000, 0, 500]})
    out = stats.funnel_table(table, "k", "n")
    assert np.isnan(out.loc[1, "value"]) and not out.loc[1, "outside95"]


# --------------------------------------------------------------------------- suppression


def test_suppress_small_counts_primary_and_secondary_per_group():
    table = pd.DataFrame(
        {
            "lad": ["A"] * 4 + ["B"] * 3 + ["C"] * 2,
            "crime": list("wxyz") + list("wxy") + list("wx"),
            "count": [3, 10, 20, 0, 2, 4, 50, 8, 9],
            "rate": [0.3, 1.0, 2.0, 0.0, 0.2, 0.4, 5.0, 0.8, 0.9],
        }
    )
    out = stats.suppress_small_counts(table, "count", by=["lad"], dependent=["rate"])
    assert str(out["count"].dtype) == "Int64"
    # A: 3 primary, 10 secondary (the smallest positive; 0 is left visible); B: 2 and 4 primary
    assert out["suppressed"].tolist() == [True, True, False, False, True, True, False, False, False]
    assert out["count"].isna().tolist() == out["suppressed"].tolist()
    assert out["rate"].isna().tolist() == out["suppressed"].tolist()
    assert (out.loc[~out["suppressed"], "count"] == table.loc[~out["suppressed"], "count"]).all()
    # no suppressed cell can be recovered from its group total
    for lad, part in table.groupby("lad"):
        values = part["count"].to_numpy(dtype=float)[None, :]
        mask = out.loc[part.index, "suppressed"].to_numpy()[None, :]
        assert recoverable(values, mask, row_totals=True, col_totals=False) == [], lad


def test_suppress_small_counts_threshold_zero_option_and_whole_table_group():
    table = pd.DataFrame({"count": [0, 6, 7, 100]})
    kept = stats.suppress_small_counts(table, "count")
    assert not kept["suppressed"].any() and kept["count"].tolist() == [0, 6, 7, 100]
    zeros = stats.suppress_small_counts(table, "count", suppress_zero=True)
    assert zeros["suppressed"].tolist() == [True, True, False, False]
    high = stats.suppress_small_counts(table, "count", threshold=10)
    assert high["suppressed"].tolist() == [False, True, True, False]


def test_suppress_small_counts_never_writes_zero_and_combines_flags():
    table = pd.DataFrame({"g": ["a", "a", "a"], "x": [1, 20, 30], "y": [40, 2, 30]})
    once = stats.suppress_small_counts(table, "x", by=["g"])
    twice = stats.suppress_small_counts(once, "y", by=["g"])
    assert once["x"].isna().sum() == 2 and (once["x"].fillna(-1) != 0).all()
    assert twice["suppressed"].tolist() == [True, True, True]


def test_suppress_crosstab_no_cell_recoverable_from_margins():
    wide = pd.DataFrame(
        [[3, 10, 20, 7], [12, 15, 30, 40], [40, 2, 8, 11], [6, 9, 1, 25]],
        index=["N", "S", "E", "W"],
        columns=["burglary", "robbery", "theft", "violence"],
    )
    out = stats.suppress_crosstab(wide)
    mask = out.isna().to_numpy()
    values = wide.to_numpy(dtype=float)
    assert mask[values < 5].all() and ((values < 5) | ~mask).any()
    assert recoverable(values, mask, row_totals=True, col_totals=True) == []
    assert (out.to_numpy()[~mask] == values[~mask]).all()


def test_suppress_crosstab_breaks_a_bridge():
    # primary cells form two separate 2x2 blocks joined through row 'b' would leave a bridge;
    # whatever the pattern, no suppressed cell may be recoverable
    rng = np.random.default_rng(7)
    for _ in range(20):
        values = rng.integers(0, 30, size=(6, 5)).astype(float)
        values[rng.random(values.shape) < 0.2] = rng.integers(1, 5)
        wide = pd.DataFrame(values)
        out = stats.suppress_crosstab(wide)
        mask = out.isna().to_numpy()
        assert mask[(values >= 1) & (values < 5)].all()
        assert recoverable(values, mask, row_totals=True, col_totals=True) == []


# --------------------------------------------------------------------------- real data


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def street_counts(force: str, month: str) -> Counter:
    path = POLICE / force / month / f"{month}-{force}-street.csv"
    return Counter(row["Crime type"] for row in read_csv_rows(path))


@realdata
@pytest.mark.realdata
def test_real_change_test_quarter_on_quarter_all_crime_types():
    q3 = sum((street_counts("northumbria", f"2022-{m:02d}") for m in (7, 8, 9)), Counter())
    q4 = sum((street_counts("northumbria", f"2022-{m:02d}") for m in (10, 11, 12)), Counter())
    types = sorted(set(q3) | set(q4))
    table = pd.DataFrame(
        {
            "crime_type": types,
            "count_before": [q3[t] for t in types],
            "count_after": [q4[t] for t in types],
        }
    )
    out = stats.change_table(table)
    assert len(out) == len(types) >= 10
    for _, row in out.iterrows():
        b, a = int(row["count_before"]), int(row["count_after"])
        p = sps.binomtest(a, a + b, 0.5).pvalue if a + b else 1.0
        assert row["p_value"] == pytest.approx(p)
        expected = (
            "no evidence of change"
            if p >= 0.05
            else ("increase unlikely to be chance" if a > b else "decrease unlikely to be chance")
        )
        assert row["verdict"] == expected


NORTHUMBRIA_LADS = {
    "Newcastle upon Tyne",
    "Gateshead",
    "North Tyneside",
    "South Tyneside",
    "Sunderland",
    "Northumberland",
}


@realdata
@pytest.mark.realdata
def test_real_stop_search_risk_ratio_black_vs_white():
    searches = Counter()
    for m in ("2022-10", "2022-11", "2022-12"):
        path = POLICE / "northumbria" / m / f"{m}-northumbria-stop-and-search.csv"
        searches.update(row["Officer-defined ethnicity"] for row in read_csv_rows(path))
    population = Counter()
    for row in read_csv_rows(REFERENCE / "ethnicity" / "ethnicity21_ltla21.csv"):
        if row["ltla21_name"] in NORTHUMBRIA_LADS and row["ethnic_group"].endswith("(number)"):
            broad = row["ethnic_group"].split(",")[0].split(":")[0].strip()
            population[broad] += float(row["value"])
    black = next(v for k, v in population.items() if k.startswith("Black"))
    white = population["White"]
    assert 1_000_000 < white < 1_500_000 and black > 5_000
    a, c = searches["Black"], searches["White"]
    table = pd.DataFrame(
        {"group": ["White", "Black"], "count": [c, a], "population": [white, black]}
    )
    out = stats.risk_ratios_vs_reference(table)
    check = Table2x2(np.array([[a, black - a], [c, white - c]]))
    assert out.loc[1, "rr_vs_ref"] == pytest.approx(check.riskratio)
    assert (out.loc[1, "rr_low"], out.loc[1, "rr_high"]) == pytest.approx(check.riskratio_confint())
    assert out.loc[1, "rr_low"] < out.loc[1, "rr_vs_ref"] < out.loc[1, "rr_high"]


@realdata
@pytest.mark.realdata
def test_real_lsoa_by_crime_type_suppression_is_not_recoverable():
    rows = read_csv_rows(POLICE / "northumbria" / "2022-10" / "2022-10-northumbria-street.csv")
    picked = [
        r
        for r in rows
        if r["LSOA name"].startswith(("Gateshead 001", "Gateshead 002", "Gateshead 003"))
    ]
    cells = Counter((r["LSOA code"], r["Crime type"]) for r in picked)
    wide = pd.Series(cells).unstack(fill_value=0)
    assert wide.shape[0] >= 6 and wide.shape[1] >= 8
    out = stats.suppress_crosstab(wide)
    values = wide.to_numpy(dtype=float)
    mask = out.isna().to_numpy()
    assert mask[(values >= 1) & (values < 5)].all()
    assert recoverable(values, mask, row_totals=True, col_totals=True) == []
    long = wide.stack().rename("count").reset_index()
    long.columns = ["lsoa", "crime_type", "count"]
    one_way = stats.suppress_small_counts(long, "count", by=["lsoa"])
    for lsoa, part in long.groupby("lsoa"):
        flags = one_way.loc[part.index, "suppressed"].to_numpy()
        assert flags.sum() != 1, lsoa  # never exactly one suppressed cell against a total
        assert one_way.loc[part.index, "count"].isna().sum() == flags.sum()


@realdata
@pytest.mark.realdata
def test_real_funnel_of_lad_crime_rates():
    crimes = Counter()
    for m in ("2022-10", "2022-11", "2022-12"):
        for row in read_csv_rows(POLICE / "northumbria" / m / f"{m}-northumbria-street.csv"):
            lad = row["LSOA name"].rsplit(" ", 1)[0]
            if lad in NORTHUMBRIA_LADS:
                crimes[lad] += 1
    population = {}
    for row in read_csv_rows(REFERENCE / "population" / "census2021-ts007-ltla.csv"):
        if row["geography"] in NORTHUMBRIA_LADS:
            population[row["geography"]] = int(row["Age: Total; measures: Value"])
    assert set(population) == NORTHUMBRIA_LADS
    table = pd.DataFrame({"lad": sorted(crimes), "crimes": [crimes[k] for k in sorted(crimes)]})
    table["population"] = table["lad"].map(population)
    out = stats.funnel_table(table, "crimes", "population", per=1000, label="lad")
    pooled = sum(crimes.values()) / sum(population.values())
    assert out.attrs["target"] == pytest.approx(pooled * 1000)
    for i, row in table.iterrows():
        dist = sps.poisson(pooled * row["population"])
        assert (
            dist.ppf(0.999) - 1
            <= out.loc[i, "high998"] * row["population"] / 1000
            <= dist.ppf(0.999)
        )
