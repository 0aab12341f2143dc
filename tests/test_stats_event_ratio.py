"""Rate ratios of events with over-dispersion (analysis.stats.intervals.event_rate_ratio)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps

from analysis import stats

MONTHS = [f"2022-{m:02d}" for m in range(1, 13)]


def test_matches_a_quasi_poisson_glm_fitted_by_formula():
    rng = np.random.default_rng(1)
    swings = rng.gamma(20, 1 / 20, 12)  # month-to-month swings common to both groups
    black = pd.Series(rng.poisson(40 * swings * rng.gamma(5, 0.2, 12)), index=MONTHS)
    white = pd.Series(rng.poisson(300 * swings * rng.gamma(5, 0.2, 12)), index=MONTHS)
    got = stats.event_rate_ratio(black, 9_000, white, 1_200_000)
    frame = pd.DataFrame(
        {
            "y": np.concatenate([black, white]),
            "month": MONTHS * 2,
            "black": [1] * 12 + [0] * 12,
            "pop": [9_000] * 12 + [1_200_000] * 12,
        }
    )
    fit = smf.glm(
        "y ~ C(month) + black", frame, family=sm.families.Poisson(), offset=np.log(frame["pop"])
    ).fit()
    phi = max(fit.pearson_chi2 / fit.df_resid, 1)
    assert fit.df_resid == 11 and got.df == 11
    assert got.rr == pytest.approx((black.sum() / 9_000) / (white.sum() / 1_200_000))
    assert got.rr == pytest.approx(math.exp(fit.params["black"]))
    assert got.dispersion == pytest.approx(phi)
    half = sps.t.ppf(0.975, 11) * fit.bse["black"] * math.sqrt(phi)
    assert (got.low, got.high) == pytest.approx((got.rr * math.exp(-half), got.rr * math.exp(half)))
    # wider than the people-based (Katz) interval, which assumes independent people
    katz = stats.risk_ratio(black.sum(), 9_000, white.sum(), 1_200_000)
    assert got.high - got.low > katz.high - katz.low


def test_more_events_than_residents_is_allowed():
    # 30 searches a month of a group of 100 residents: 360 searches in the year
    got = stats.event_rate_ratio([30] * 12, 100, [500] * 12, 100_000)
    assert got.rr == pytest.approx((360 / 100) / (6000 / 100_000))
    assert got.low < got.rr < got.high and got.flag == ""
    with pytest.raises(ValueError):
        stats.risk_ratio(360, 100, 6000, 100_000)  # the people-based ratio refuses it


def test_zero_counts_and_one_month():
    assert stats.event_rate_ratio([0, 0], 10, [0, 0], 10).flag.startswith("zero count")
    zero = stats.event_rate_ratio([0, 0, 0], 100, [5, 6, 7], 1000)
    assert zero.rr == 0 and math.isnan(zero.low)
    one = stats.event_rate_ratio([12], 1000, [100], 50_000)
    assert "one month" in one.flag and one.dispersion == 1.0
    se = math.sqrt(1 / 12 + 1 / 100)
    assert one.low == pytest.approx(one.rr * math.exp(-1.959964 * se), rel=1e-5)


def test_table_version_against_the_scalar_one():
    rows = []
    rng = np.random.default_rng(4)
    for area in ("N", "S"):
        for g, pop, mean in (("White", 100_000, 200), ("Black", 2_000, 15), ("Asian", 5_000, 8)):
            for m in MONTHS:
                rows.append((area, g, m, int(rng.poisson(mean)), pop))
    monthly = pd.DataFrame(rows, columns=["area", "group", "month", "count", "population"])
    out = stats.event_rate_ratios_vs_reference(monthly, by=["area"])
    assert len(out) == 6
    ref = out[(out["area"] == "N") & (out["group"] == "White")].iloc[0]
    assert ref["rr_vs_ref"] == 1 and ref["rr_flag"] == "reference group"
    row = out[(out["area"] == "S") & (out["group"] == "Black")].iloc[0]
    part = monthly[monthly["area"] == "S"]
    black = part[part["group"] == "Black"].set_index("month")["count"]
    white = part[part["group"] == "White"].set_index("month")["count"]
    direct = stats.event_rate_ratio(black, 2_000, white, 100_000)
    assert (row["rr_vs_ref"], row["rr_low"], row["rr_high"]) == pytest.approx(direct[:3])
    assert row["events"] == black.sum()
