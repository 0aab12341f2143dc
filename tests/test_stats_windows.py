"""Honest windows (analysis.stats.windows): months held, labels, annualised rates."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from analysis import stats

HELD = [f"2021-{m:02d}" for m in range(1, 13)] + [f"2022-{m:02d}" for m in range(2, 13)]


def test_full_window_is_labelled_12_months():
    w = stats.window("2021-12", HELD)
    assert w.held == tuple(f"2021-{m:02d}" for m in range(1, 13)) and w.missing == ()
    assert w.label == "12 months to December 2021" and w.annualise == 1.0


def test_window_with_a_missing_month_says_so():
    w = stats.window("2022-12", HELD)
    assert len(w.nominal) == 12 and len(w.held) == 11 and w.missing == ("2022-01",)
    assert w.label == "11 of the 12 months to December 2022 (January 2022 missing)"
    assert "12 months to" not in w.label.replace("of the 12 months", "")
    assert w.annualise == pytest.approx(12 / 11)
    q = stats.window("2022-03", HELD, length=3)
    assert q.label == "2 of the 3 months to March 2022 (January 2022 missing)"


def test_annualised_rate_by_hand():
    # 2.9 per 1,000 over 11 months is about 8% low as a yearly rate
    count, population = 3190, 1_100_000
    out = stats.annualised_rate(count, population, 11)
    raw = count / population * 1000
    assert raw == pytest.approx(2.9)
    assert out["rate"].iloc[0] == pytest.approx(raw * 12 / 11)
    assert out["rate"].iloc[0] / raw - 1 == pytest.approx(1 / 11)
    low = 3190 * (1 - 1 / (9 * 3190) - 1.959964 / (3 * math.sqrt(3190))) ** 3
    assert out["low"].iloc[0] == pytest.approx(low / population * 1000 * 12 / 11, rel=1e-6)
    assert bool(out["annualised"].iloc[0])
    full = stats.annualised_rate(7, 5000, 12)
    assert full["rate"].iloc[0] == pytest.approx(7 / 5000 * 1000)
    assert full["high"].iloc[0] == pytest.approx(sps.chi2.ppf(0.975, 16) / 2 / 5000 * 1000)
    assert not bool(full["annualised"].iloc[0])
    with pytest.raises(ValueError):
        stats.annualised_rate(7, 5000, 0)
