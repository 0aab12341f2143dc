"""XmR charts by NHS England "Making Data Count" rules (analysis.stats.spc).

Every expectation is computed here independently: limits by hand, and each rule by a
brute-force check of every window of points (a different formulation from the code's runs).
One constructed series per rule, with series that must not signal.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import stats
from analysis.paths import SHARED_DATA_DIR

DATA = Path(os.environ.get("CRIMEPLAN_SHARED_DATA", SHARED_DATA_DIR))


def months(n: int, start: str = "2015-01") -> list[str]:
    first = pd.Period(start, freq="M")
    return [str(first + i) for i in range(n)]


def alternating(n, centre=100, amp=5):
    return [centre + (amp if i % 2 else -amp) for i in range(n)]


def xmr(values, start="2015-01", **kw):
    return stats.xmr_chart_data(pd.Series(values, index=months(len(values), start)), **kw)


def limits_by_hand(values):
    """Mean, and mean moving range after screening ranges >= 3.267 × the first mean."""
    mean = sum(values) / len(values)
    mr = [abs(values[i] - values[i - 1]) for i in range(1, len(values))]
    first = sum(mr) / len(mr)
    kept = [r for r in mr if r < 3.267 * first]
    return mean, sum(kept) / len(kept)


def brute_force(values, mean, amr):
    """Each rule by checking every window that contains each point."""
    n = len(values)
    side = [np.sign(v - mean) for v in values]
    ucl, lcl = mean + 2.66 * amr, mean - 2.66 * amr
    outside = [v > ucl or v < lcl for v in values]
    close = [not outside[i] and abs(values[i] - mean) > 2.66 * amr * 2 / 3 for i in range(n)]
    shift = [False] * n
    trend = [False] * n
    two3 = [False] * n
    for i in range(n):
        for s in range(i - 6, i + 1):
            w = range(s, s + 7)
            if s < 0 or s + 7 > n:
                continue
            if all(side[j] == 1 for j in w) or all(side[j] == -1 for j in w):
                shift[i] = True
            if all(values[j + 1] > values[j] for j in range(s, s + 6)) or all(
                values[j + 1] < values[j] for j in range(s, s + 6)
            ):
                trend[i] = True
        for s in range(i - 2, i + 1):
            if s < 0 or s + 3 > n or not close[i]:
                continue
            w = range(s, s + 3)
            if abs(sum(side[j] for j in w)) == 3 and sum(close[j] for j in w) >= 2:
                two3[i] = True
    return {"rule_outside": outside, "rule_run": shift, "rule_trend": trend,
            "rule_two_of_three": two3}  # fmt: skip


def check_against_brute_force(values, chart):
    mean, amr = limits_by_hand(values)
    assert chart["centre"].iloc[0] == pytest.approx(mean)
    assert chart["ucl"].iloc[0] == pytest.approx(mean + 2.66 * amr)
    assert chart["lcl"].iloc[0] == pytest.approx(mean - 2.66 * amr)
    expected = brute_force(values, mean, amr)
    for rule, flags in expected.items():
        assert chart[rule].tolist() == flags, rule
    return expected


# --------------------------------------------------------------------------- limits


def test_limits_by_hand_and_moving_range_screening():
    values = [52, 47, 55, 49, 61, 50, 44, 53, 58, 51, 150, 54, 48, 50]
    chart = xmr(values)
    mean, amr = limits_by_hand(values)
    mr = [abs(values[i] - values[i - 1]) for i in range(1, len(values))]
    assert sum(r >= 3.267 * sum(mr) / len(mr) for r in mr) == 2  # the jumps to and from 150
    assert amr < sum(mr) / len(mr)
    assert chart["ucl"].iloc[0] == pytest.approx(mean + 2.66 * amr)
    assert chart.attrs["screened"] == 2
    assert chart["moving_range"].iloc[1:].tolist() == pytest.approx(mr)
    unscreened = xmr(values, screen=False)
    assert unscreened["ucl"].iloc[0] == pytest.approx(mean + 2.66 * sum(mr) / len(mr))
    assert chart["rule_outside"].tolist() == [v == 150 for v in values]


def test_quiet_series_does_not_signal():
    values = alternating(30)
    chart = xmr(values)
    check_against_brute_force(values, chart)
    assert not chart["special_cause"].any()


# --------------------------------------------------------------------------- one series per rule


def test_shift_of_seven_flags_all_seven_and_six_does_not():
    base = alternating(9)
    seven = base + [101, 102, 101, 103, 101, 102, 101] + alternating(8)
    chart = xmr(seven)
    expected = check_against_brute_force(seven, chart)
    assert chart["rule_run"].tolist() == [9 <= i < 16 for i in range(len(seven))]
    assert expected["rule_run"] == chart["rule_run"].tolist()
    six = base + [101, 102, 101, 103, 101, 102] + alternating(8)
    six_chart = xmr(six)
    check_against_brute_force(six, six_chart)
    assert not six_chart["rule_run"].any()


def test_a_point_on_the_mean_breaks_a_shift():
    values = alternating(10) + [103] * 3 + [100] + [103] * 3 + [94] * 3 + alternating(10)
    assert sum(values) / len(values) == 100 == values[13]  # point 13 is exactly on the mean
    chart = xmr(values)
    check_against_brute_force(values, chart)
    assert not chart["rule_run"].any()


def test_trend_of_seven_points_flags_and_six_points_do_not():
    noise = [100, 104, 96, 103, 97, 104, 96]
    seven = noise + [92, 94, 96, 98, 100, 102, 104] + noise  # 7 points, 6 rises
    chart = xmr(seven)
    check_against_brute_force(seven, chart)
    assert chart["rule_trend"].tolist() == [7 <= i < 14 for i in range(len(seven))]
    six = noise + [94, 96, 98, 100, 102, 104] + noise  # 6 points, 5 rises
    six_chart = xmr(six)
    check_against_brute_force(six, six_chart)
    assert not six_chart["rule_trend"].any()
    down = noise + [104, 102, 100, 98, 96, 94, 92] + noise
    assert xmr(down)["rule_trend"].sum() == 7
    tie = noise + [92, 94, 96, 96, 98, 100, 102] + noise
    assert not xmr(tie)["rule_trend"].any()


def test_two_of_three_close_to_the_limit_on_one_side():
    values = alternating(40)  # mean about 101, mean MR about 11: two sigma about +19
    values[20], values[21], values[22] = 124, 104, 125
    chart = xmr(values)
    mean, amr = limits_by_hand(values)
    near, ucl = mean + 2.66 * amr * 2 / 3, mean + 2.66 * amr
    assert all(near < values[i] < ucl for i in (20, 22)) and values[21] > mean
    check_against_brute_force(values, chart)
    assert chart["rule_two_of_three"].tolist() == [i in (20, 22) for i in range(40)]
    assert not chart["rule_outside"].any()


def test_two_of_three_must_not_signal():
    # middle point on the other side of the mean: not all three on one side
    values = alternating(40)
    values[20], values[21], values[22] = 120, 95, 121
    chart = xmr(values)
    check_against_brute_force(values, chart)
    assert not chart["rule_two_of_three"].any()
    # one point outside the limits and one close: outside points do not count
    values = alternating(40)
    values[20], values[21], values[22] = 160, 101, 121
    chart = xmr(values)
    check_against_brute_force(values, chart)
    assert chart["rule_outside"].iloc[20] and not chart["rule_two_of_three"].any()
    # close points on opposite sides
    values = alternating(40)
    values[20], values[22] = 120, 80
    assert not xmr(values)["rule_two_of_three"].any()


def test_outside_limits_flags_only_the_spike():
    values = [10, 12, 11, 13, 12, 11, 40, 12, 11, 10, 12, 13, 11, 12]
    chart = xmr(values)
    check_against_brute_force(values, chart)
    assert chart["rule_outside"].tolist() == [v == 40 for v in values]
    assert chart["special_cause"].tolist() == chart[stats.spc.RULE_COLUMNS].any(axis=1).tolist()


# --------------------------------------------------------------------------- gaps and baseline


def test_missing_month_is_a_gap_no_run_and_no_moving_range_across_it():
    labels = months(30, "2021-01")
    values = alternating(30)
    values[11:18] = [103, 104, 103, 104, 103, 104, 103]  # 7 above the mean ...
    series = pd.Series(values, index=labels).drop(labels[14])  # ... broken by a missing month
    chart = stats.xmr_chart_data(series, exclude=())
    assert len(chart) == 30 and chart.loc[labels[14], "missing"]
    assert np.isnan(chart.loc[labels[14], "value"])
    assert np.isnan(chart.loc[labels[15], "moving_range"])  # not bridged
    assert not chart["rule_run"].any()
    assert chart.loc[labels[13], "segment"] != chart.loc[labels[15], "segment"]
    assert chart.attrs["missing"] == [labels[14]]
    kept = [v for i, v in enumerate(values) if i != 14]
    mr = [abs(values[i] - values[i - 1]) for i in range(1, 30) if 14 not in (i, i - 1)]
    assert chart["centre"].iloc[0] == pytest.approx(sum(kept) / len(kept))
    assert chart["ucl"].iloc[0] == pytest.approx(sum(kept) / len(kept) + 2.66 * np.mean(mr))
    # without the gap the same seven points are a shift
    whole = stats.xmr_chart_data(pd.Series(values, index=labels), exclude=())
    assert whole["rule_run"].sum() == 7


def test_lockdown_months_from_config_are_left_out_of_the_baseline():
    labels = months(36, "2019-07")
    values = alternating(36, centre=400, amp=20)
    lockdown = {"2020-03", "2020-04", "2020-05", "2020-06", "2020-11", "2021-01", "2021-02",
                "2021-03"}  # fmt: skip
    values = [250 if m in lockdown else v for m, v in zip(labels, values, strict=True)]
    chart = stats.xmr_chart_data(pd.Series(values, index=labels))  # default: config/spc.yml
    base = [v for m, v in zip(labels, values, strict=True) if m not in lockdown]
    assert chart["excluded"].tolist() == [m in lockdown for m in labels]
    assert chart["centre"].iloc[0] == pytest.approx(sum(base) / len(base))
    mr = [
        abs(values[i] - values[i - 1])
        for i in range(1, 36)
        if labels[i] not in lockdown and labels[i - 1] not in lockdown
    ]
    assert chart["ucl"].iloc[0] == pytest.approx(sum(base) / len(base) + 2.66 * np.mean(mr))
    assert not chart["special_cause"].any()  # excluded months are not judged
    assert "2020-04" in chart.attrs["excluded"]
    assert "lockdown" in chart.attrs["excluded"]["2020-04"]
    everything = stats.xmr_chart_data(pd.Series(values, index=labels), exclude=())
    assert everything["special_cause"].any()  # the lockdown drags the baseline


def test_rebase_gives_each_period_its_own_limits():
    values = alternating(18, centre=100) + alternating(18, centre=160)
    chart = xmr(values, rebase=[months(36)[18]])
    assert chart["period"].tolist() == [0] * 18 + [1] * 18
    assert chart["centre"].iloc[0] == pytest.approx(np.mean(values[:18]))
    assert chart["centre"].iloc[-1] == pytest.approx(np.mean(values[18:]))
    assert not chart["special_cause"].any()
    assert xmr(values)["rule_run"].all()  # without the re-base every point is in a shift


def test_warning_under_12_points_and_verdict_sentences():
    short = xmr(alternating(10))
    assert any("fewer than 12" in w for w in short.attrs["warnings"])
    assert "unreliable" in stats.spc_verdict(short, "Robbery")
    assert xmr(alternating(12)).attrs["warnings"] == []
    quiet = xmr(alternating(32, centre=410, amp=20) + [410])
    assert stats.spc_verdict(quiet, "Burglary") == (
        "Burglary: common-cause variation only over 33 months (mean 410 a month)."
    )
    values = alternating(24, centre=50, amp=6)
    values[6] = 110
    text = stats.spc_verdict(xmr(values, start="2017-01"), "Robbery")
    assert text.startswith("Robbery: special-cause variation over 24 months")
    assert "outside the limits (2017-07)" in text
    assert "latest point (2018-12) does not signal" in text


def test_quarterly_index_stays_quarterly():
    labels = [str(pd.Period("2015Q1", freq="Q") + i).replace("Q", "-Q") for i in range(16)]
    cohorts = [f"{2015 + i // 4}-{(i % 4) * 3 + 1:02d}" for i in range(16)]
    assert labels  # quarterly cohorts indexed by their first month
    series = pd.Series(alternating(16, 30, 1), index=cohorts).drop(cohorts[5])
    chart = stats.xmr_chart_data(series)
    assert len(chart) == 16 and chart["missing"].sum() == 1
    assert not chart["excluded"].any()  # exceptional months apply to monthly series only


@pytest.mark.realdata
def test_real_northumbria_burglary_with_the_missing_month():
    base = DATA / "police" / "northumbria"
    if not base.is_dir():
        pytest.skip(f"real data {base} is absent")
    span = months(14, "2021-09")  # 2021-09 .. 2022-10, 2022-01 missing from the source
    counts = {}
    for m in span:
        path = base / m / f"{m}-northumbria-street.csv"
        if path.exists():
            with path.open(newline="", encoding="utf-8-sig") as handle:
                counts[m] = sum(r["Crime type"] == "Burglary" for r in csv.DictReader(handle))
    assert "2022-01" not in counts and len(counts) == 13
    chart = stats.xmr_chart_data(pd.Series(counts))
    assert chart.attrs["missing"] == ["2022-01"] and len(chart) == 14
    vals = [counts[m] for m in span if m in counts]
    mr = [
        abs(counts[m] - counts[p])
        for p, m in zip(span[:-1], span[1:], strict=True)
        if m in counts and p in counts
    ]
    first = np.mean(mr)
    amr = np.mean([r for r in mr if r < 3.267 * first])
    assert len(mr) == 11  # the two ranges touching 2022-01 do not exist
    assert chart["centre"].iloc[0] == pytest.approx(np.mean(vals))
    assert chart["ucl"].iloc[0] == pytest.approx(np.mean(vals) + 2.66 * amr)
    assert "missing, not bridged: 2022-01" in stats.spc_verdict(chart, "Burglary")
