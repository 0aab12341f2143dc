"""Tests of the justice outcomes report (notebook 05_justice_outcomes)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import CrimeplanError
from analysis.execute import execute_report
from analysis.params import Quarter, RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import justice_outcomes as jo


def _data(crimes, outcomes, outcome_months=None, quarter="2022-Q4"):
    lads = pd.DataFrame(
        {"lad_code": ["E06000057", "E08000021"], "lad_name": ["Northumberland", "Newcastle"]}
    )
    months = sorted(set(outcomes["month"])) if outcome_months is None else outcome_months
    return jo.JusticeData(
        run=RunParameters(quarter=quarter),
        crimes=crimes,
        outcomes=outcomes,
        force_lads=lads,
        street_months=sorted(set(crimes["month"])),
        outcome_months=months,
    )


CRIMES = pd.DataFrame(
    {
        "crime_id": ["a", "b", "c", "d", "e", "f", "g"],
        "month": ["2022-10", "2022-10", "2022-11", "2022-12", "2022-03", "2022-12", "2022-11"],
        "crime_type": [
            "Burglary",
            "Burglary",
            "Shoplifting",
            "Burglary",
            "Shoplifting",
            "Shoplifting",
            "Burglary",
        ],  # fmt: skip
        "lad_code": [
            "E06000057",
            "E08000021",
            "E06000057",
            "E08000021",
            "E06000057",
            "E99999999",
            None,
        ],  # fmt: skip
        "lad_name": [
            "Northumberland",
            "Newcastle",
            "Northumberland",
            "Newcastle",
            "Northumberland",
            "Elsewhere",
            None,
        ],  # fmt: skip
        "in_force_area": [True, True, True, True, True, False, None],
    }
)
OUTCOMES = pd.DataFrame(
    {
        "crime_id": ["a", "a", "b", "c", "c", "e", "d"],
        "month": ["2022-10", "2023-01", "2022-11", "2022-12", "2022-12", "2022-05", "2023-02"],
        "outcome_type": [
            "Investigation complete; no suspect identified",
            "Suspect charged",
            "Offender given a caution",
            "Unable to prosecute suspect",
            "Local resolution",
            "Offender given penalty notice",
            "Under investigation",
        ],
    }
)


def test_every_real_outcome_type_has_a_group():
    # the outcome types seen in the Northumbria files (see police/SOURCES.md) and the
    # street file's Last outcome category values
    seen = [
        "Investigation complete; no suspect identified", "Suspect charged",
        "Offender given a caution", "Local resolution", "Offender given a drugs possession warning",
        "Offender given penalty notice", "Suspect charged as part of another case",
        "Unable to prosecute suspect", "Status update unavailable", "Under investigation",
        "Court result unavailable", "Awaiting court outcome",
    ]  # fmt: skip
    groups = jo.outcome_group(pd.Series(seen))
    assert set(groups) <= set(jo.GROUP_ORDER)
    assert groups.tolist()[:4] == [jo.NO_SUSPECT, jo.CHARGED, jo.CAUTION, jo.COMMUNITY]
    assert groups.iloc[8] == jo.PENDING and groups.iloc[10] == jo.CHARGED
    assert jo.outcome_group(pd.Series([None])).iloc[0] == jo.PENDING


def test_unknown_outcome_type_is_an_error_naming_it():
    with pytest.raises(CrimeplanError, match="Offender abducted by aliens"):
        jo.outcome_group(pd.Series(["Suspect charged", "Offender abducted by aliens"]))


def test_latest_outcomes_picks_latest_month_then_precedence():
    out = jo.latest_outcomes(CRIMES, OUTCOMES).set_index("crime_id")
    assert out.loc["a", "outcome_type"] == "Suspect charged"  # later month wins
    assert out.loc["a", "first_charge_month"] == "2023-01"
    assert out.loc["c", "outcome_group"] == jo.COMMUNITY  # same month: positive group first
    assert out.loc["f", "outcome_group"] == jo.PENDING and pd.isna(out.loc["f", "outcome_type"])
    assert out.loc["d", "outcome_group"] == jo.PENDING
    assert out["positive"].tolist() == [True, True, True, False, True, False, False]
    assert out.loc["e", "first_positive_month"] == "2022-05"


def test_duplicate_crime_ids_are_an_error():
    with pytest.raises(CrimeplanError, match="more than once"):
        jo.latest_outcomes(pd.concat([CRIMES, CRIMES.head(1)]), OUTCOMES)


def test_outcome_rates_table_shares_sum_to_one_and_match_counts():
    table = jo.outcome_rates_table(_data(CRIMES, OUTCOMES))
    assert list(table.columns) == jo.TABLE_COLUMNS
    sums = table.groupby(["window", "area_level", "area_code", "crime_type"])["share"].sum()
    assert np.allclose(sums, 1.0)
    q = table[(table["window"] == "quarter") & (table["area_level"] == "force")]
    burg = q[q["crime_type"] == "Burglary"].set_index("outcome_group")
    # quarter burglaries: a (charged), b (caution), d (pending), g (none -> pending)
    assert burg["crimes"].iloc[0] == 4
    assert burg.loc[jo.CHARGED, "count"] == 1 and burg.loc[jo.PENDING, "count"] == 2
    low, high = proportion_confint(2, 4, method="wilson")
    assert burg.loc[jo.PENDING, ["low", "high"]].tolist() == pytest.approx([low, high])
    # LAD rows only hold crimes located in the force's own authorities
    lad = table[(table["window"] == "quarter") & (table["area_level"] == "lad")]
    assert set(lad["area_code"]) == {"E06000057", "E08000021"}
    allc = lad[lad["crime_type"] == jo.ALL_CRIME].groupby("area_code")["crimes"].first()
    assert allc.to_dict() == {"E06000057": 2, "E08000021": 2}
    # the 12 months include the March crime e
    y = table[(table["window"] == "12m") & (table["area_level"] == "force")]
    assert y[y["crime_type"] == jo.ALL_CRIME]["crimes"].iloc[0] == 7


def test_positive_rates_by_area():
    rates = jo.positive_rates(_data(CRIMES, OUTCOMES)).set_index(["window", "area_code"])
    force = rates.loc[("quarter", "northumbria")]
    assert (force["crimes"], force["positive"]) == (6, 3)
    ncl = rates.loc[("12m", "E08000021")]
    assert (ncl["crimes"], ncl["positive"]) == (2, 1)
    low, high = proportion_confint(3, 6, method="wilson")
    assert [force["share_low"], force["share_high"]] == pytest.approx([low, high])


def test_positive_by_months_since_is_cumulative_and_censored():
    data = _data(CRIMES, OUTCOMES, outcome_months=[f"2022-{m:02d}" for m in range(3, 13)]
                 + ["2023-01", "2023-02"])  # fmt: skip
    table = jo.positive_by_months_since(data, cohort="month")
    oct_ = table[table["cohort"] == "2022-10"].set_index("months_since")
    # crimes a (positive 2023-01: lag 3) and b (positive 2022-11: lag 1)
    assert oct_["positive"].tolist()[:5] == [0, 1, 1, 2, 2]
    assert (oct_["crimes"] == 2).all()
    # last outcome month 2023-02: October crimes observable for at most 4 months
    assert oct_.index.max() == 4
    dec = table[table["cohort"] == "2022-12"]
    assert dec["months_since"].max() == 2
    assert (table.groupby("cohort")["positive"].diff().dropna() >= 0).all()


def test_time_to_charge_bands():
    crimes = pd.DataFrame(
        {
            "crime_id": list("pqrst"),
            "month": ["2022-01", "2022-02", "2022-06", "2022-09", "2022-12"],
            "crime_type": ["Burglary"] * 5,
            "lad_code": ["E06000057"] * 5,
            "lad_name": ["Northumberland"] * 5,
            "in_force_area": [True] * 5,
        }
    )
    outcomes = pd.DataFrame(
        {
            "crime_id": list("pqrst"),
            "month": ["2022-01", "2022-05", "2022-11", "2022-10", "2022-12"],
            "outcome_type": ["Suspect charged"] * 4 + ["Offender given a caution"],
        }
    )
    table = jo.time_to_charge(_data(crimes, outcomes)).set_index("band")
    # lags: 0, 3, 5, 1; t is cautioned, not charged
    assert table["charged"].iloc[0] == 4
    assert table.loc["Same month", "count"] == 1
    assert table.loc["3 months", "count"] == 1
    assert table.loc["4 to 6 months", "count"] == 1
    assert table["count"].sum() == 4
    assert table.attrs["median"] == pytest.approx(np.median([0, 3, 5, 1]))


# --------------------------------------------------------------------------- notebook runs


def _run_notebook(store_dir: Path, tmp_path: Path, quarter: str = "2022-Q4") -> pd.DataFrame:
    params = RunParameters(
        force="northumbria", quarter=quarter, processed_dir=str(store_dir), output_dir=str(tmp_path)
    )
    execute_report("05_justice_outcomes", params, tmp_path / "out.ipynb")
    path = tmp_path / "tables" / "05_justice_outcomes" / "outcome_rates.csv"
    assert path.exists()
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(table.columns) == jo.TABLE_COLUMNS
    return table


def _check_table(table: pd.DataFrame) -> None:
    cells = table.groupby(["window", "area_level", "area_code", "crime_type"])
    assert np.allclose(cells["share"].sum(), 1.0, atol=1e-5)
    assert (cells["count"].sum() == cells["crimes"].first()).all()
    assert (cells.size() == len(jo.GROUP_ORDER)).all()
    assert (
        (table["low"] <= table["share"] + 1e-9) & (table["share"] <= table["high"] + 1e-9)
    ).all()
    assert set(table["outcome_group"]) == set(jo.GROUP_ORDER)
    # LAD rows never exceed the force rows
    force = (
        table[table["area_level"] == "force"].groupby(["window", "crime_type"])["crimes"].first()
    )
    lad = table[table["area_level"] == "lad"].groupby(["window", "crime_type", "area_code"])
    lad_sum = lad["crimes"].first().groupby(["window", "crime_type"]).sum()
    assert (lad_sum <= force.reindex(lad_sum.index)).all()
    ward = table[table["area_level"] == "ward"].groupby(["window", "crime_type", "area_code"])
    ward_sum = ward["crimes"].first().groupby(["window", "crime_type"]).sum()
    assert (ward_sum <= lad_sum.reindex(ward_sum.index)).all()


@pytest.mark.slow
def test_notebook_runs_on_fixture_store(fixture_store_dir, tmp_path):
    table = _run_notebook(fixture_store_dir, tmp_path)
    assert set(table["window"]) == {"quarter", "12m"}
    assert set(table["area_level"]) == {"force", "lad", "ward"}
    assert table["crimes"].max() > 0
    _check_table(table)


# --------------------------------------------------------------------------- real data

POLICE = SHARED_DATA_DIR / "police" / "northumbria"
CHARGE_TYPES = {"Suspect charged", "Suspect charged as part of another case"}
NO_SUSPECT_TYPE = "Investigation complete; no suspect identified"


def _rows(kind: str):
    for path in sorted(POLICE.glob(f"*/*-northumbria-{kind}.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)


def _independent_join(months: list[str]):
    """Crime ID -> crime type for the window's crimes, and Crime ID -> the outcome types of
    its latest outcome month, from the raw CSVs with the csv module."""
    crimes = {}
    for row in _rows("street"):
        if row["Month"] in months and row["Crime type"] != "Anti-social behaviour":
            assert row["Crime ID"] and row["Crime ID"] not in crimes
            crimes[row["Crime ID"]] = row["Crime type"]
    latest: dict[str, tuple[str, set]] = {}
    for row in _rows("outcomes"):
        cid = row["Crime ID"]
        if cid not in crimes:
            continue
        month, types = latest.get(cid, ("", set()))
        if row["Month"] > month:
            latest[cid] = (row["Month"], {row["Outcome type"]})
        elif row["Month"] == month:
            types.add(row["Outcome type"])
    return crimes, {cid: types for cid, (_, types) in latest.items()}


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_northumbria_2022_q4(real_store_dir, tmp_path):
    table = _run_notebook(real_store_dir, tmp_path, quarter="2022-Q4")
    _check_table(table)
    crimes, latest = _independent_join(Quarter(2022, 4).months)
    by_type = Counter(crimes.values())
    no_record = Counter(t for cid, t in crimes.items() if cid not in latest)
    charged = Counter(t for cid, t in crimes.items() if latest.get(cid, set()) & CHARGE_TYPES)
    no_suspect = Counter(t for cid, t in crimes.items() if latest.get(cid) == {NO_SUSPECT_TYPE})
    q = table[(table["window"] == "quarter") & (table["area_level"] == "force")]
    q = q.set_index(["crime_type", "outcome_group"])
    for crime_type, n in by_type.items():
        assert q.loc[(crime_type, jo.CHARGED), "crimes"] == n
        assert q.loc[(crime_type, jo.CHARGED), "count"] == charged[crime_type], crime_type
        assert q.loc[(crime_type, jo.NO_SUSPECT), "count"] == no_suspect[crime_type], crime_type
        # the outcomes files hold no "Under investigation" records, so the open group is
        # exactly the crimes with no outcome record
        assert q.loc[(crime_type, jo.PENDING), "count"] == no_record[crime_type], crime_type
    assert q.loc[(jo.ALL_CRIME, jo.CHARGED), "crimes"] == len(crimes)
    assert q.loc[(jo.ALL_CRIME, jo.PENDING), "count"] == len(crimes) - len(latest)


@pytest.mark.realdata
def test_real_outcome_types_all_have_groups(real_raw_dir):
    seen = {row["Outcome type"] for row in _rows("outcomes")}
    seen |= {
        row["Last outcome category"] for row in _rows("street") if row["Last outcome category"]
    }
    groups = jo.outcome_group(pd.Series(sorted(seen)))
    assert groups.notna().all() and len(seen) >= 10
    mapping = dict(zip(sorted(seen), groups, strict=True))
    assert mapping["Suspect charged"] == jo.CHARGED
    assert mapping[NO_SUSPECT_TYPE] == jo.NO_SUSPECT
    assert mapping["Offender given a drugs possession warning"] == jo.COMMUNITY


@pytest.mark.realdata
def test_time_to_charge_on_real_data(real_store_dir):
    data = jo.load(
        RunParameters(quarter="2022-Q4", processed_dir=str(real_store_dir), output_dir="/tmp/x")
    )
    table = jo.time_to_charge(data)
    months = set(Quarter(2022, 4).twelve_months)
    crime_month = {}
    for row in _rows("street"):
        if row["Month"] in months and row["Crime type"] != "Anti-social behaviour":
            crime_month[row["Crime ID"]] = row["Month"]
    first_charge: dict[str, str] = defaultdict(lambda: "9999-99")
    for row in _rows("outcomes"):
        if row["Crime ID"] in crime_month and row["Outcome type"] in CHARGE_TYPES:
            first_charge[row["Crime ID"]] = min(first_charge[row["Crime ID"]], row["Month"])

    def lag(a: str, b: str) -> int:
        return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:]) - int(a[5:])

    lags = [lag(crime_month[c], m) for c, m in first_charge.items()]
    assert table["charged"].iloc[0] == len(lags)
    band = table.set_index("band")["count"]
    assert band["Same month"] == sum(x == 0 for x in lags)
    assert band["4 to 6 months"] == sum(4 <= x <= 6 for x in lags)
    assert table.attrs["median"] == pytest.approx(float(np.median(lags)))


def test_missing_data_reason_and_load_on_fixture_store(fixture_store_dir):
    from analysis.store import Store

    store = Store(fixture_store_dir)
    run = RunParameters(quarter="2022-Q4", processed_dir=str(fixture_store_dir))
    assert jo.missing_data_reason(store, run) is None
    absent = RunParameters(quarter="2019-Q1", processed_dir=str(fixture_store_dir))
    assert "2019-Q1" in jo.missing_data_reason(store, absent)
    with pytest.raises(CrimeplanError, match="2019-Q1"):
        jo.load(absent)
    data = jo.load(run)
    street = store.street("northumbria", jo.analysis_months(Quarter(2022, 4)))
    assert len(data.crimes) == int((~street["is_asb"]).sum())
    assert set(data.outcomes["crime_id"]) <= set(data.crimes["crime_id"])


def test_positive_by_months_since_blanks_cells_spanning_a_missing_outcome_month():
    held = [f"2022-{m:02d}" for m in range(3, 13) if m != 11] + ["2023-01", "2023-02"]
    data = _data(CRIMES, OUTCOMES, outcome_months=held)
    table = jo.positive_by_months_since(data, cohort="month")
    oct_ = table[table["cohort"] == "2022-10"].set_index("months_since")
    # 2022-11 is missing: lag 0 (October only) is complete, lags 1.. span November
    assert oct_.loc[0, "positive"] == 0
    assert oct_.loc[1:, "share"].isna().all() and oct_.loc[1:, "low"].isna().all()
    assert (oct_["crimes"] == 2).all()
    dec = table[table["cohort"] == "2022-12"].set_index("months_since")
    assert dec["positive"].tolist() == [0, 0, 0]


def test_ward_rows_follow_the_area_level_parameter():
    crimes = CRIMES.assign(ward_code=["W1", "W2", "W1", None, "W1", "W9", None])
    data = _data(crimes, OUTCOMES)
    table = jo.outcome_rates_table(data)
    wards = table[(table["area_level"] == "ward") & (table["window"] == "quarter")]
    assert set(wards["area_code"]) == {"W1", "W2"}  # W9 lies outside the force's LADs
    w1 = wards[(wards["area_code"] == "W1") & (wards["crime_type"] == jo.ALL_CRIME)]
    assert w1["crimes"].iloc[0] == 2 and w1["share"].sum() == pytest.approx(1.0)
    lad_only = jo.outcome_rates_table(
        jo.JusticeData(**{**data.__dict__, "run": RunParameters(area_level="lad")})
    )
    assert "ward" not in set(lad_only["area_level"])


def test_headline_states_counts_and_wilson_intervals():
    text = jo.headline(_data(CRIMES, OUTCOMES)).data
    low, high = proportion_confint(3, 6, method="wilson")
    assert "of 6 crimes recorded in October to December 2022, 3 (50.0%, 95% CI" in text
    assert f"{100 * low:.1f}\u2013{100 * high:.1f}%" in text
    assert "by the latest outcomes file (2023-02)" in text
