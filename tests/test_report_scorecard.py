"""Plan scorecard: status rules on constructed inputs, indicators against independent counts."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, chi2_contingency

from analysis import stats
from analysis.params import Quarter, RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import scorecard as sc

RULES = {"alpha": 0.05, "min_spc_months": 12}


def change(before: int, after: int) -> stats.ChangeTest:
    return stats.poisson_change_test(before, after)


# ------------------------------------------------------------------ rules


def test_constructed_changes_are_what_the_rules_assume():
    # independent check of the inputs used below: exact conditional binomial p-values
    assert binomtest(60, 160, 0.5).pvalue < 0.05  # 100 -> 60: a real fall
    assert binomtest(140, 240, 0.5).pvalue < 0.05  # 100 -> 140: a real rise
    assert binomtest(105, 205, 0.5).pvalue > 0.05  # 100 -> 105: chance
    assert change(100, 60).p_value == pytest.approx(binomtest(60, 160, 0.5).pvalue)


@pytest.mark.parametrize(
    ("year", "previous", "spc", "good", "expected"),
    [
        ((100, 60), (100, 105), None, "down", sc.IMPROVING),
        ((100, 60), (100, 105), None, "up", sc.DETERIORATING),
        ((100, 140), (100, 105), None, "down", sc.DETERIORATING),
        ((100, 140), (100, 60), "down", "up", sc.IMPROVING),  # year-on-year decides
        ((100, 105), (100, 140), "up", "down", sc.DETERIORATING),  # quarter + chart agree
        ((100, 105), (100, 140), None, "down", sc.NO_CHANGE),  # chart silent
        ((100, 105), (100, 140), "down", "down", sc.NO_CHANGE),  # chart on the other side
        ((100, 105), (100, 105), "up", "down", sc.NO_CHANGE),
        (None, (100, 60), None, "down", sc.IMPROVING),  # no year-earlier quarter held
        (None, (100, 105), None, "down", sc.NO_CHANGE),
        (None, None, None, "down", sc.NO_DATA),
    ],
)
def test_count_status_rules(year, previous, spc, good, expected):
    year_test = change(*year) if year else None
    previous_test = change(*previous) if previous else None
    assert sc.count_status(year_test, previous_test, spc, good) == expected


@pytest.mark.parametrize(
    ("p", "before", "after", "good", "expected"),
    [
        (0.01, 0.15, 0.25, "up", sc.IMPROVING),
        (0.01, 0.25, 0.15, "up", sc.DETERIORATING),
        (0.01, 0.25, 0.15, "down", sc.IMPROVING),
        (0.30, 0.15, 0.25, "up", sc.NO_CHANGE),
        (np.nan, 0.15, 0.25, "up", sc.NO_DATA),
    ],
)
def test_proportion_status_rules(p, before, after, good, expected):
    assert sc.proportion_status(p, before, after, good) == expected


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        ((1.5, 1.2, 1.9), (3.0, 2.5, 3.6), sc.IMPROVING),  # lower, no overlap
        ((3.0, 2.5, 3.6), (1.5, 1.2, 1.9), sc.DETERIORATING),  # higher, no overlap
        ((2.2, 1.6, 3.2), (1.2, 0.7, 2.1), sc.NO_CHANGE),  # overlap
        ((np.nan, np.nan, np.nan), (1.2, 0.7, 2.1), sc.NO_DATA),  # not estimable
    ],
)
def test_ratio_status_rules(now, before, expected):
    assert sc.ratio_status(now, before, "down") == expected


def test_spc_direction_reads_the_side_of_the_signal():
    months = [str(pd.Period("2021-01", freq="M") + k) for k in range(24)]
    flat = pd.Series([100.0, 104, 98, 101, 99, 103, 97, 102] * 3, index=months)
    assert sc.spc_direction(stats.xmr_chart_data(flat), months[-3:]) is None
    spike = flat.copy()
    spike.iloc[-1] = 200.0
    xmr = stats.xmr_chart_data(spike)
    assert bool(xmr["rule_outside"].iloc[-1])  # the constructed spike is beyond the limits
    assert sc.spc_direction(xmr, months[-3:]) == "up"
    dip = flat.copy()
    dip.iloc[-2] = 10.0
    assert sc.spc_direction(stats.xmr_chart_data(dip), months[-3:]) == "down"


def test_comparison_quarter_falls_back_to_the_previous_quarter():
    q = Quarter(2022, 4)
    all_months = [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)]
    assert sc.comparison_quarter(q, all_months) == Quarter(2021, 4)
    without = [m for m in all_months if m != "2021-11"]
    assert sc.comparison_quarter(q, without) == Quarter(2022, 3)
    assert sc.comparison_quarter(q, q.months) is None


# ------------------------------------------------------------------ indicators


def monthly(values: dict[str, int]) -> pd.Series:
    return pd.Series(values, dtype="int64").sort_index()


def test_count_indicator_against_scipy_and_hand_sums():
    q = Quarter(2022, 4)
    months = sc.analysis_months(q, 24)
    counts = {m: 100 for m in months}
    counts.update({"2021-10": 120, "2021-11": 130, "2021-12": 110})  # year earlier: 360
    counts.update({"2022-10": 90, "2022-11": 95, "2022-12": 85})  # this quarter: 270
    result = sc.count_indicator(monthly(counts), q, "down", RULES)
    assert result["count"] == 270
    assert result["p_value"] == pytest.approx(binomtest(270, 630, 0.5).pvalue)
    assert result["status"] == sc.IMPROVING
    assert result["value_this_quarter"] == "270 in October to December 2022"
    assert result["ratio"] == pytest.approx(270 / 360)
    assert result["ratio_low"] < 270 / 360 < result["ratio_high"] < 1
    assert "Year on year" in result["comparison"] and "Quarter on quarter" in result["comparison"]
    assert result["test"] == sc.COUNT_TEST


def test_count_indicator_without_a_month_of_the_quarter_is_no_data():
    q = Quarter(2022, 4)
    counts = {m: 50 for m in sc.analysis_months(q, 24) if m != "2022-11"}
    result = sc.count_indicator(monthly(counts), q, "down", RULES)
    assert result["status"] == sc.NO_DATA
    assert np.isnan(result["p_value"])


def test_count_indicator_without_any_comparison_quarter_is_no_data_but_shows_the_count():
    q = Quarter(2024, 1)
    result = sc.count_indicator(
        monthly({"2024-01": 5, "2024-02": 6, "2024-03": 7}), q, "down", RULES
    )
    assert result["status"] == sc.NO_DATA
    assert result["value_this_quarter"] == "18 in January to March 2024"


def test_monthly_series_never_turns_a_missing_month_into_zero():
    rows = pd.DataFrame({"month": ["2022-10", "2022-10", "2022-12"], "n": [3, 4, 5]})
    series = sc.monthly_series(rows, held=["2022-10", "2022-11", "2022-12"], months=
                               ["2022-09", "2022-10", "2022-11", "2022-12"])  # fmt: skip
    assert series.to_dict() == {"2022-10": 7, "2022-11": 0, "2022-12": 5}


def test_select_street_by_type_and_asb():
    street = pd.DataFrame(
        {
            "month": ["2022-10"] * 3,
            "crime_type": ["Burglary", "Anti-social behaviour", "Robbery"],
            "is_asb": [False, True, False],
            "lad_code": ["E1"] * 3,
            "lsoa21_code": ["L1"] * 3,
            "n": [5, 7, 11],
        }
    )
    assert sc.select_street(street, {"asb": True}, pd.DataFrame())["n"].sum() == 7
    assert sc.select_street(street, {"asb": False}, pd.DataFrame())["n"].sum() == 16
    assert sc.select_street(street, {"crime_type": "Burglary"}, pd.DataFrame())["n"].sum() == 5


def _searches(month: str, found: int, total: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [month] * total,
            "type": ["Person search"] * total,
            "outcome": ["Arrest"] * found + ["A no further action disposal"] * (total - found),
            "outcome_linked_to_object": [True] * found + [False] * (total - found),
        }
    )


def test_linked_find_rate_against_a_pearson_chi_square():
    q = Quarter(2022, 4)
    searches = pd.concat(
        [_searches("2022-10", 60, 200), _searches("2021-10", 30, 200)], ignore_index=True
    )
    held = q.months + q.year_earlier.months
    data = sc.ScorecardData(
        run=RunParameters(), plan={}, street=pd.DataFrame(), positive=pd.Series(dtype=int),
        searches=searches, population=pd.DataFrame(), lads=pd.DataFrame(), lsoa=pd.DataFrame(),
        national_reoffending=pd.DataFrame(), local_reoffending=pd.DataFrame(),
        months={"stop_search": held},
    )  # fmt: skip
    result = sc.linked_find_indicator(data, "up")
    expected_p = chi2_contingency(np.array([[60, 140], [30, 170]]), correction=False)[1]
    assert result["p_value"] == pytest.approx(expected_p)
    assert result["status"] == sc.IMPROVING  # 30% vs 15%: higher is better
    assert result["value_this_quarter"].startswith("30.0 (")
    assert "60 of 200" in result["value_this_quarter"]


def test_plan_file_is_complete():
    plan = sc.load_plan()
    kinds = {i["kind"] for i in plan["indicators"]}
    assert kinds <= {
        "count", "count_by_lad", "outcome_count", "linked_find_rate", "disparity_ratio",
        "reoffending",
    }  # fmt: skip
    goods = {i["id"]: i["good"] for i in plan["indicators"]}
    assert goods["linked_find_rate"] == "up" and goods["positive_outcomes"] == "up"
    assert goods["burglary"] == "down" and goods["disparity"] == "down"
    weapons = next(i for i in plan["indicators"] if i["id"] == "weapons")
    assert "proxy" in weapons["indicator"].lower() and "knife" in weapons["definition"].lower()
    assert len(plan["no_data"]) >= 6 and all(item["extract"] for item in plan["no_data"])


# ------------------------------------------------------------------ notebook execution


def _status_counts(rows: list[dict]) -> set[str]:
    return {r["status"] for r in rows}


def _street_count(folder, months: list[str], crime_type: str) -> int:
    total = 0
    for month in months:
        path = folder / month / f"{month}-northumbria-street.csv"
        with path.open(newline="", encoding="utf-8-sig") as handle:
            total += sum(1 for r in csv.DictReader(handle) if r["Crime type"] == crime_type)
    return total


def _leading_count(text: str) -> int:
    return int(re.match(r"([\d,]+) in ", text).group(1).replace(",", ""))


@pytest.mark.slow
def test_notebook_runs_on_the_fixture_store(fixture_raw_dir, fixture_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        quarter="2022-Q4", processed_dir=str(fixture_store_dir), output_dir=str(tmp_path)
    )
    execute_report("00_plan_scorecard", run, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "00_plan_scorecard" / "scorecard.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == sc.SCORECARD_COLUMNS
    assert _status_counts(rows) <= set(sc.STATUSES)
    plan = sc.load_plan()
    assert sum(r["status"] == sc.NO_DATA_SUPPLIED for r in rows) == len(plan["no_data"])
    burglary = next(r for r in rows if r["indicator"] == "Burglary recorded")
    police = next(fixture_raw_dir.rglob("2022-10-northumbria-street.csv")).parent.parent
    expected = _street_count(police, Quarter(2022, 4).months, "Burglary")
    assert _leading_count(burglary["value_this_quarter"]) == expected
    # the fixture holds no 2021-Q4, so the previous quarter is the comparison
    before = _street_count(police, Quarter(2022, 3).months, "Burglary")
    assert float(burglary["p_value"]) == pytest.approx(
        binomtest(expected, expected + before, 0.5).pvalue
    )


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_data_matches_independent_counts(real_store_dir, tmp_path):
    from analysis.execute import execute_report

    run = RunParameters(
        quarter="2022-Q4", processed_dir=str(real_store_dir), output_dir=str(tmp_path)
    )
    execute_report("00_plan_scorecard", run, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "00_plan_scorecard" / "scorecard.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    police = SHARED_DATA_DIR / "police" / "northumbria"
    q = Quarter(2022, 4)
    for indicator, crime_type in [
        ("Burglary recorded", "Burglary"),
        ("Anti-social behaviour incidents recorded", "Anti-social behaviour"),
    ]:
        row = next(r for r in rows if r["indicator"] == indicator)
        now = _street_count(police, q.months, crime_type)
        before = _street_count(police, q.year_earlier.months, crime_type)
        assert _leading_count(row["value_this_quarter"]) == now
        p = binomtest(now, now + before, 0.5).pvalue
        assert float(row["p_value"]) == pytest.approx(p, rel=1e-6)
        assert row["test"] == sc.COUNT_TEST
        if p < 0.05:
            assert row["status"] == (sc.IMPROVING if now < before else sc.DETERIORATING)
    # linked-find rate from the raw stop-and-search files (csv module) and a chi-square test
    finds = {}
    for quarter in (q, q.year_earlier):
        x = n = 0
        for month in quarter.months:
            path = police / month / f"{month}-northumbria-stop-and-search.csv"
            with path.open(newline="", encoding="utf-8-sig") as handle:
                for r in csv.DictReader(handle):
                    if r["Type"] == "Vehicle search":
                        continue
                    n += 1
                    outcome = r["Outcome"].strip()
                    linked = r["Outcome linked to object of search"].strip().lower() == "true"
                    x += outcome not in ("", "A no further action disposal") and linked
        finds[quarter] = (x, n)
    row = next(r for r in rows if r["indicator"] == "Linked-find rate of searches of people")
    (x1, n1), (x0, n0) = finds[q], finds[q.year_earlier]
    assert f"{x1:,} of {n1:,} searches of people" in row["value_this_quarter"]
    table = np.array([[x1, n1 - x1], [x0, n0 - x0]])
    assert float(row["p_value"]) == pytest.approx(chi2_contingency(table, correction=False)[1])
    reoffending = next(r for r in rows if r["source_notebook"] == "04_reoffending")
    assert reoffending["status"] == sc.NO_DATA
    assert sum(r["status"] == sc.NO_DATA_SUPPLIED for r in rows) == 6
