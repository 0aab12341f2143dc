"""Kaplan-Meier medians (analysis.stats.survival) against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import stats

Z = 1.959963984540054

# days to charge; False = still open at the end of follow-up (censored)
TIMES = [5, 8, 8, 12, 15, 20, 20, 25, 30, 40, 45, 60]
EVENT = [True, True, False, True, False, True, True, False, True, True, False, True]


def km_by_hand(times, events):
    """Event times, S(t) and Greenwood standard errors written out."""
    out = []
    s, greenwood = 1.0, 0.0
    for t in sorted(set(times)):
        at_risk = sum(1 for u in times if u >= t)
        d = sum(1 for u, e in zip(times, events, strict=True) if u == t and e)
        if d == 0:
            continue
        s *= 1 - d / at_risk
        greenwood += d / (at_risk * (at_risk - d)) if at_risk > d else 0.0
        out.append((t, s, s * math.sqrt(greenwood)))
    return out


def test_km_median_and_interval_by_hand():
    curve = km_by_hand(TIMES, EVENT)
    # S: 5→11/12, 8→(11/12)(10/11)=10/12, 12→(10/12)(8/9), 20→ ×(4/6), ...
    assert curve[0][1] == pytest.approx(11 / 12)
    assert curve[2][1] == pytest.approx(10 / 12 * 8 / 9)
    median = next(t for t, s, _ in curve if s < 0.5)
    # S(20) = 11/12 × 10/11 × 8/9 × 5/7 = 0.529; S(30) = 0.529 × 3/4 = 0.397
    assert median == 30
    inside = []
    for t, s, se in curve:
        if 0 < s < 1:
            r = (math.log(-math.log(s)) - math.log(-math.log(0.5))) / (-1 / (s * math.log(s)) * se)
            if abs(r) <= Z:
                inside.append(t)
    low = inside[0]
    times = [t for t, _, _ in curve]
    after = times.index(inside[-1]) + 1
    high = times[after] if after < len(times) else math.inf
    got = stats.km_median(TIMES, EVENT)
    assert (got.n, got.events, got.censored) == (12, 8, 4)
    assert got.median == median
    assert (got.low, got.high) == (low, high)
    closed_only = float(np.median([t for t, e in zip(TIMES, EVENT, strict=True) if e]))
    assert closed_only < got.median  # ignoring the open cases understates the time


def test_median_not_reached_and_no_cases():
    got = stats.km_median([10, 20, 30, 40], [True, False, False, False])
    assert math.isnan(got.median) and got.flag == "median not reached"
    assert stats.km_median([], []).flag == "no cases"
    assert stats.km_median([3, 4], [False, False]).flag.startswith("median not reached")


def test_km_median_table_by_group():
    table = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 3, "t": TIMES + [1, 2, 3],
                          "e": EVENT + [True, True, True]})  # fmt: skip
    out = stats.km_median_table(table, "t", "e", by=["g"])
    assert out["g"].tolist() == ["a", "b"]
    assert out.loc[1, "median"] == 2  # first time with S < 0.5: S(2) = 1/3
    assert out.loc[0, "median"] == stats.km_median(TIMES, EVENT).median
