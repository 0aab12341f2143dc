"""Tests of the justice outcomes report (notebook 05_justice_outcomes)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import GEOGRAPHIC_LEVELS, forbid_writes, read_tidy, tidy_columns
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import CrimeplanError
from analysis.execute import execute_report
from analysis.params import Quarter, RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports import get
from analysis.reports.justice_outcomes import data as jd
from analysis.reports.justice_outcomes import metrics as jm
from analysis.reports.justice_outcomes import sections as js


def _data(crimes, outcomes, outcome_months=None, quarter="2022-Q4"):
    lads = pd.DataFrame(
        {"lad_code": ["E06000057", "E08000021"], "lad_name": ["Northumberland", "Newcastle"]}
    )
    months = sorted(set(outcomes["month"])) if outcome_months is None else outcome_months
    return jd.JusticeData(
        run=RunParameters(quarter=quarter),
        crimes=crimes,
        outcomes=outcomes,
        force_lads=lads,
        street_months=sorted(set(crimes["month"])),
        outcome_months=months,
    )


def _headline_text(data) -> str:
    return "\n".join(js.headline(jm.headline_figures(data), data).findings)


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
    groups = jm.outcome_group(pd.Series(seen))
    assert set(groups) <= set(jm.GROUP_ORDER)
    assert groups.tolist()[:4] == [jm.NO_SUSPECT, jm.CHARGED, jm.CAUTION, jm.COMMUNITY]
    assert groups.iloc[8] == jm.PENDING and groups.iloc[10] == jm.CHARGED
    assert jm.outcome_group(pd.Series([None])).iloc[0] == jm.PENDING


def test_unknown_outcome_type_is_an_error_naming_it():
    with pytest.raises(CrimeplanError, match="Offender abducted by aliens"):
        jm.outcome_group(pd.Series(["Suspect charged", "Offender abducted by aliens"]))


def test_latest_outcomes_picks_latest_month_then_precedence():
    out = jm.latest_outcomes(CRIMES, OUTCOMES).set_index("crime_id")
    assert out.loc["a", "outcome_type"] == "Suspect charged"  # later month wins
    assert out.loc["a", "first_charge_month"] == "2023-01"
    assert out.loc["c", "outcome_group"] == jm.COMMUNITY  # same month: positive group first
    assert out.loc["f", "outcome_group"] == jm.PENDING and pd.isna(out.loc["f", "outcome_type"])
    assert out.loc["d", "outcome_group"] == jm.PENDING
    assert out["positive"].tolist() == [True, True, True, False, True, False, False]
    assert out.loc["e", "first_positive_month"] == "2022-05"


def test_duplicate_crime_ids_are_an_error():
    with pytest.raises(CrimeplanError, match="more than once"):
        jm.latest_outcomes(pd.concat([CRIMES, CRIMES.head(1)]), OUTCOMES)


def test_outcome_rates_table_shares_sum_to_one_and_match_counts():
    table = jm.outcome_rates(_data(CRIMES, OUTCOMES))
    assert list(table.columns) == jm.TABLE_COLUMNS
    sums = table.groupby(["window", "area_level", "area_code", "crime_type"])["share"].sum()
    assert np.allclose(sums, 1.0)
    q = table[(table["window"] == "quarter") & (table["area_level"] == "force")]
    burg = q[q["crime_type"] == "Burglary"].set_index("outcome_group")
    # quarter burglaries: a (charged), b (caution), d (pending), g (none -> pending)
    assert burg["crimes"].iloc[0] == 4
    assert burg.loc[jm.CHARGED, "count"] == 1 and burg.loc[jm.PENDING, "count"] == 2
    low, high = proportion_confint(2, 4, method="wilson")
    assert burg.loc[jm.PENDING, ["low", "high"]].tolist() == pytest.approx([low, high])
    # LAD rows only hold crimes located in the force's own authorities
    lad = table[(table["window"] == "quarter") & (table["area_level"] == "lad")]
    assert set(lad["area_code"]) == {"E06000057", "E08000021"}
    allc = lad[lad["crime_type"] == jm.ALL_CRIME].groupby("area_code")["crimes"].first()
    assert allc.to_dict() == {"E06000057": 2, "E08000021": 2}
    # the 12 months include the March crime e
    y = table[(table["window"] == "12m") & (table["area_level"] == "force")]
    assert y[y["crime_type"] == jm.ALL_CRIME]["crimes"].iloc[0] == 7


def test_positive_rates_by_area():
    rates = jm.positive_rates(_data(CRIMES, OUTCOMES)).set_index(["window", "area_code"])
    force = rates.loc[("quarter", "northumbria")]
    assert (force["crimes"], force["positive"]) == (6, 3)
    ncl = rates.loc[("12m", "E08000021")]
    assert (ncl["crimes"], ncl["positive"]) == (2, 1)
    low, high = proportion_confint(3, 6, method="wilson")
    assert [force["share_low"], force["share_high"]] == pytest.approx([low, high])


def test_positive_by_months_since_is_cumulative_and_censored():
    data = _data(CRIMES, OUTCOMES, outcome_months=[f"2022-{m:02d}" for m in range(3, 13)]
                 + ["2023-01", "2023-02"])  # fmt: skip
    table = jm.positive_by_months_since(data, cohort="month")
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
    table = jm.time_to_charge(_data(crimes, outcomes)).set_index("band")
    # lags: 0, 3, 5, 1; t is cautioned, not charged
    assert table["charged"].iloc[0] == 4
    assert table.loc["Same month", "count"] == 1
    assert table.loc["3 months", "count"] == 1
    assert table.loc["4 to 6 months", "count"] == 1
    assert table["count"].sum() == 4
    assert table.attrs["negative_lags"] == 0


def _charge_case(lags_charged, open_months, closed=0, negative=0):
    """Crimes of 2022 charged after the given lags, open crimes of the given months and
    ``closed`` crimes with no suspect; outcomes files run to 2022-12."""
    rows, outs = [], []
    for i, lag in enumerate(lags_charged + [-1] * negative):
        month = 6 if lag >= 0 else 8
        rows.append((f"c{i}", f"2022-{month:02d}"))
        outs.append((f"c{i}", f"2022-{month + lag:02d}", "Suspect charged"))
    for i, month in enumerate(open_months):
        rows.append((f"o{i}", month))
    for i in range(closed):
        rows.append((f"n{i}", "2022-03"))
        outs.append((f"n{i}", "2022-04", "Investigation complete; no suspect identified"))
    crimes = pd.DataFrame(rows, columns=["crime_id", "month"]).assign(
        crime_type="Burglary", lad_code="E06000057", lad_name="Northumberland",
        in_force_area=True,
    )  # fmt: skip
    outcomes = pd.DataFrame(outs, columns=["crime_id", "month", "outcome_type"])
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    return _data(crimes, outcomes, outcome_months=months)


def test_time_to_charge_km_median_by_hand():
    # charged after 0, 1, 1 and 3 months (crimes of 2022-06); open crimes of 2022-10 and
    # 2022-08 are followed to 2022-12: censored at 2 and 4 months; the no-suspect crime is
    # not at risk of a charge. Kaplan-Meier by hand: S(0) = 5/6; S(1) = 5/6 x (1 - 2/5) =
    # 1/2 (not below a half); S(3) = 1/2 x (1 - 1/2) = 1/4 -> median 3 months.
    data = _charge_case([0, 1, 1, 3], ["2022-10", "2022-08"], closed=1)
    km = jm.time_to_charge_km(data, min_charged=1)
    row = km.set_index("crime_type").loc[jm.ALL_CRIME]
    assert (row["n"], row["events"], row["censored"]) == (6, 4, 2)
    assert row["median"] == 3
    assert row["low"] <= 3 <= row["high"]
    # a median of the charges alone would say 1 month
    assert np.median([0, 1, 1, 3]) == 1


def test_negative_charge_lags_are_counted_not_fatal():
    data = _charge_case([0, 2, 5], [], negative=3)
    bands = jm.time_to_charge(data)
    assert bands.attrs["negative_lags"] == 3
    assert bands["charged"].iloc[0] == 3
    km = jm.time_to_charge_km(data, min_charged=1).set_index("crime_type")
    assert km.loc[jm.ALL_CRIME, "events"] == 3
    quality = jm.data_quality(data).set_index("issue")
    row = quality[quality.index.str.startswith("Charge outcome dated before")]
    assert row["count"].iloc[0] == 3
    section = js.time_to_charge(bands, km.reset_index(), jm.data_quality(data), data)
    assert any("3 charge outcomes are dated before" in c for c in section.caveats)
    assert "dated before the month of its crime" in section._repr_html_()


def test_outcome_table_merges_no_further_action_with_a_caveat():
    data = _data(CRIMES, OUTCOMES)
    rates = jm.outcome_rates(data)
    section = js.outcome_groups(rates, data)
    frame = next(iter(section.tables.values()))
    html = section._repr_html_()
    assert js.NO_FURTHER_ACTION in html
    assert "barely use" in section.caveats[0]
    # the merged share is the sum of the two recorded groups (force, quarter, all crime)
    cell = rates[
        (rates["window"] == "quarter") & (rates["area_level"] == "force")
        & (rates["crime_type"] == jm.ALL_CRIME)
    ].set_index("outcome_group")  # fmt: skip
    merged = cell.loc[[jm.UNABLE, jm.NO_SUSPECT], "count"].sum() / cell["crimes"].iloc[0]
    shown = frame.set_index("crime_type")
    col = [c for c in shown.columns if str(c).startswith("share_")][3]
    assert shown.loc[jm.ALL_CRIME, col] == pytest.approx(100 * merged)
    # the published table keeps the six recorded groups
    assert set(rates["outcome_group"]) == set(jm.GROUP_ORDER)


# --------------------------------------------------------------------------- notebook runs

FORCE_LEVEL, LAD_LEVEL = GEOGRAPHIC_LEVELS["force"], GEOGRAPHIC_LEVELS["lad"]


def _run_notebook(store_dir: Path, tmp_path: Path, quarter: str = "2022-Q4") -> pd.DataFrame:
    params = RunParameters(
        force="northumbria", quarter=quarter, processed_dir=str(store_dir), output_dir=str(tmp_path)
    )
    execute_report(get("justice_outcomes").notebook, params, tmp_path / "out.ipynb")
    return _outcome_rates(tmp_path)


def _outcome_rates(run_dir: Path) -> pd.DataFrame:
    """The published outcome_rates table of a run folder, with a ``period`` column."""
    path = run_dir / "tables" / "05_justice_outcomes" / "outcome_rates.csv"
    assert path.exists()
    table = read_tidy(path)
    assert list(table.columns) == tidy_columns(jm.TABLE_COLUMNS)
    assert table["area_name"].notna().all()  # every area named, wards included
    return table.assign(period=table["time_period"] + " " + table["time_identifier"])


def _check_table(table: pd.DataFrame) -> None:
    cells = table.groupby(["period", "geographic_level", "area_code", "crime_type"])
    assert np.allclose(cells["share"].sum(), 1.0, atol=1e-3)  # shares published to 4 dp
    assert (cells["count"].sum() == cells["crimes"].first()).all()
    assert (cells.size() == len(jm.GROUP_ORDER)).all()
    assert (
        (table["low"] <= table["share"] + 1e-9) & (table["share"] <= table["high"] + 1e-9)
    ).all()
    assert set(table["outcome_group"]) == set(jm.GROUP_ORDER)
    # LAD rows never exceed the force rows
    level = table["geographic_level"]
    force = table[level == FORCE_LEVEL].groupby(["period", "crime_type"])["crimes"].first()
    lad = table[level == LAD_LEVEL].groupby(["period", "crime_type", "area_code"])
    lad_sum = lad["crimes"].first().groupby(["period", "crime_type"]).sum()
    assert (lad_sum <= force.reindex(lad_sum.index)).all()
    ward = table[level == "Ward"].groupby(["period", "crime_type", "area_code"])
    ward_sum = ward["crimes"].first().groupby(["period", "crime_type"]).sum()
    assert (ward_sum <= lad_sum.reindex(ward_sum.index)).all()


@pytest.mark.slow
def test_notebook_runs_on_fixture_store(fixture_store_dir, tmp_path):
    table = _run_notebook(fixture_store_dir, tmp_path)
    assert set(table["period"]) == {"2022 Calendar year Q4", "2022 Calendar year"}
    assert set(table["geographic_level"]) == {FORCE_LEVEL, LAD_LEVEL, "Ward"}
    assert set(table.loc[table["geographic_level"] == FORCE_LEVEL, "area_code"]) == {"E23000007"}
    assert table["crimes"].max() > 0
    _check_table(table)


# --------------------------------------------------------------------------- real data

POLICE = SHARED_DATA_DIR / "police" / "northumbria"
CHARGE_TYPES = {"Suspect charged", "Suspect charged as part of another case"}
NO_SUSPECT_TYPE = "Investigation complete; no suspect identified"
POSITIVE_TYPES = {
    # charge or summons and what follows it at court
    "Suspect charged", "Suspect charged as part of another case", "Awaiting court outcome",
    "Court result unavailable", "Court case unable to proceed", "Defendant found not guilty",
    "Defendant sent to Crown Court", "Offender sent to prison",
    "Offender given suspended prison sentence", "Offender given community sentence",
    "Offender fined", "Offender given absolute discharge", "Offender given conditional discharge",
    "Offender ordered to pay compensation", "Offender deprived of property",
    "Offender otherwise dealt with",
    # cautions, community resolutions, penalty notices, drugs warnings
    "Offender given a caution", "Offender given conditional caution", "Local resolution",
    "Offender given community resolution", "Offender given a drugs possession warning",
    "Offender given penalty notice", "Offender given a penalty notice",
}  # fmt: skip


def _rows(kind: str):
    for path in sorted(POLICE.glob(f"*/*-northumbria-{kind}.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)


def _independent_join(months: list[str], up_to: str = "9999-12"):
    """Crime ID -> crime type for the window's crimes, and Crime ID -> the outcome types of
    its latest outcome month (outcome records up to ``up_to``), from the raw CSVs with the csv
    module."""
    crimes = {}
    for row in _rows("street"):
        if row["Month"] in months and row["Crime type"] != "Anti-social behaviour":
            assert row["Crime ID"] and row["Crime ID"] not in crimes
            crimes[row["Crime ID"]] = row["Crime type"]
    latest: dict[str, tuple[str, set]] = {}
    for row in _rows("outcomes"):
        cid = row["Crime ID"]
        if cid not in crimes or row["Month"] > up_to:
            continue
        month, types = latest.get(cid, ("", set()))
        if row["Month"] > month:
            latest[cid] = (row["Month"], {row["Outcome type"]})
        elif row["Month"] == month:
            types.add(row["Outcome type"])
    return crimes, {cid: types for cid, (_, types) in latest.items()}


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_northumbria_2022_q4(real_pack_dir):
    """The table the real 2022-Q4 pack published, against the raw CSVs joined here."""
    table = _outcome_rates(real_pack_dir)
    _check_table(table)
    crimes, latest = _independent_join(Quarter(2022, 4).months)
    by_type = Counter(crimes.values())
    no_record = Counter(t for cid, t in crimes.items() if cid not in latest)
    charged = Counter(t for cid, t in crimes.items() if latest.get(cid, set()) & CHARGE_TYPES)
    no_suspect = Counter(t for cid, t in crimes.items() if latest.get(cid) == {NO_SUSPECT_TYPE})
    q = table[
        (table["period"] == "2022 Calendar year Q4") & (table["geographic_level"] == FORCE_LEVEL)
    ]
    q = q.set_index(["crime_type", "outcome_group"])
    for crime_type, n in by_type.items():
        assert q.loc[(crime_type, jm.CHARGED), "crimes"] == n
        assert q.loc[(crime_type, jm.CHARGED), "count"] == charged[crime_type], crime_type
        assert q.loc[(crime_type, jm.NO_SUSPECT), "count"] == no_suspect[crime_type], crime_type
        # the outcomes files hold no "Under investigation" records, so the open group is
        # exactly the crimes with no outcome record
        assert q.loc[(crime_type, jm.PENDING), "count"] == no_record[crime_type], crime_type
    assert q.loc[(jm.ALL_CRIME, jm.CHARGED), "crimes"] == len(crimes)
    assert q.loc[(jm.ALL_CRIME, jm.PENDING), "count"] == len(crimes) - len(latest)


@pytest.mark.realdata
def test_real_outcome_types_all_have_groups(real_raw_dir):
    seen = {row["Outcome type"] for row in _rows("outcomes")}
    seen |= {
        row["Last outcome category"] for row in _rows("street") if row["Last outcome category"]
    }
    groups = jm.outcome_group(pd.Series(sorted(seen)))
    assert groups.notna().all() and len(seen) >= 10
    mapping = dict(zip(sorted(seen), groups, strict=True))
    assert mapping["Suspect charged"] == jm.CHARGED
    assert mapping[NO_SUSPECT_TYPE] == jm.NO_SUSPECT
    assert mapping["Offender given a drugs possession warning"] == jm.COMMUNITY


@pytest.mark.realdata
def test_time_to_charge_on_real_data(real_store_dir):
    data = jd.load(
        RunParameters(quarter="2022-Q4", processed_dir=str(real_store_dir), output_dir="/tmp/x")
    )
    table = jm.time_to_charge(data)
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
    assert table.attrs["negative_lags"] == sum(x < 0 for x in lags) == 0
    km = jm.time_to_charge_km(data).set_index("crime_type")
    assert km.loc[jm.ALL_CRIME, "events"] == len(lags)


@pytest.mark.realdata
@pytest.mark.parametrize("quarter", ["2021-Q4", "2022-Q3"])
def test_report_runs_where_charges_predate_their_crime(real_store_dir, tmp_path, quarter):
    """The source files date 12 charges before their crime month (crimes of 2021-10..12);
    the report counts them as a data-quality issue instead of stopping. The notebook runs for
    the quarter of those crimes; both quarters whose 12 months hold them are checked in the
    metrics."""
    if quarter == "2021-Q4":
        _check_table(_run_notebook(real_store_dir, tmp_path, quarter))
    data = jd.load(
        RunParameters(quarter=quarter, processed_dir=str(real_store_dir), output_dir="/tmp/x")
    )
    months = set(Quarter.parse(quarter).twelve_months)
    crime_month = {}
    for row in _rows("street"):
        if row["Month"] in months and row["Crime type"] != "Anti-social behaviour":
            crime_month[row["Crime ID"]] = row["Month"]
    first_charge: dict[str, str] = {}
    for row in _rows("outcomes"):
        cid = row["Crime ID"]
        if cid in crime_month and row["Outcome type"] in CHARGE_TYPES:
            first_charge[cid] = min(first_charge.get(cid, "9999-99"), row["Month"])
    negative = sum(m < crime_month[c] for c, m in first_charge.items())
    assert negative == 12
    assert jm.time_to_charge(data).attrs["negative_lags"] == negative
    assert len(jm.negative_charge_lags(data)) == negative


def test_missing_data_reason_and_load_on_fixture_store(fixture_store_dir):
    from analysis.store import Store

    store = Store(fixture_store_dir)
    run = RunParameters(quarter="2022-Q4", processed_dir=str(fixture_store_dir))
    assert jd.missing_data_reason(store, run) is None
    absent = RunParameters(quarter="2019-Q1", processed_dir=str(fixture_store_dir))
    assert "2019-Q1" in jd.missing_data_reason(store, absent)
    with pytest.raises(CrimeplanError, match="2019-Q1"):
        jd.load(absent)
    data = jd.load(run)
    street = store.street("northumbria", jd.analysis_months(Quarter(2022, 4)))
    assert len(data.crimes) == int((~street["is_asb"]).sum())
    assert set(data.outcomes["crime_id"]) <= set(data.crimes["crime_id"])


def test_positive_by_months_since_blanks_cells_spanning_a_missing_outcome_month():
    held = [f"2022-{m:02d}" for m in range(3, 13) if m != 11] + ["2023-01", "2023-02"]
    data = _data(CRIMES, OUTCOMES, outcome_months=held)
    table = jm.positive_by_months_since(data, cohort="month")
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
    table = jm.outcome_rates(data)
    wards = table[(table["area_level"] == "ward") & (table["window"] == "quarter")]
    assert set(wards["area_code"]) == {"W1", "W2"}  # W9 lies outside the force's LADs
    w1 = wards[(wards["area_code"] == "W1") & (wards["crime_type"] == jm.ALL_CRIME)]
    assert w1["crimes"].iloc[0] == 2 and w1["share"].sum() == pytest.approx(1.0)
    lad_only = jm.outcome_rates(
        jd.JusticeData(**{**data.__dict__, "run": RunParameters(area_level="lad")})
    )
    assert "ward" not in set(lad_only["area_level"])


def test_headline_states_counts_and_wilson_intervals():
    text = _headline_text(_data(CRIMES, OUTCOMES))
    low, high = proportion_confint(3, 6, method="wilson")
    assert "of 6 crimes recorded in October to December 2022, 3 (50.0%, 95% CI" in text
    assert f"{100 * low:.1f}\u2013{100 * high:.1f}%" in text
    assert "by the latest outcomes file (2023-02)" in text


# --------------------------------------------------------------------------- report layer


def test_headline_figures_on_hand_made_frames():
    # quarter crimes a..d, f, g: positive a (charged), b (caution), c (community resolution);
    # no suspect: none (a's no-suspect record is superseded); open: d, f, g
    figures = jm.headline_figures(_data(CRIMES, OUTCOMES)).set_index("measure")
    assert list(figures.index) == [jm.POSITIVE, jm.NO_SUSPECT, jm.PENDING]
    assert figures["crimes"].tolist() == [6, 6, 6]
    assert figures["count"].tolist() == [3, 0, 3]
    for measure, k in ((jm.POSITIVE, 3), (jm.NO_SUSPECT, 0), (jm.PENDING, 3)):
        low, high = proportion_confint(k, 6, method="wilson")
        row = figures.loc[measure]
        assert [row["share"], row["low"], row["high"]] == pytest.approx([k / 6, low, high])
    assert figures.attrs["last_outcome_month"] == "2023-02"


def test_outcome_distribution_counts_every_group_by_hand():
    joined = pd.DataFrame(
        {
            "area": ["x", "x", "x", "y"],
            "outcome_group": [jm.CHARGED, jm.CHARGED, jm.NO_SUSPECT, jm.PENDING],
        }
    )
    dist = jm.outcome_distribution(joined, ["area"]).set_index(["area", "outcome_group"])
    assert len(dist) == 2 * len(jm.GROUP_ORDER)
    assert dist.loc[("x", jm.CHARGED), "count"] == 2 and dist.loc[("x", jm.CAUTION), "count"] == 0
    assert dist.loc[("y", jm.PENDING), ["crimes", "count", "share"]].tolist() == [1, 1, 1.0]
    low, high = proportion_confint(1, 3, method="wilson")
    assert dist.loc[("x", jm.NO_SUSPECT), ["low", "high"]].tolist() == pytest.approx([low, high])


def test_published_tables_stems_and_columns():
    tables = jm.published_tables(_data(CRIMES, OUTCOMES))
    assert list(tables) == ["outcome_rates", "positive_outcomes"]
    assert list(tables["positive_outcomes"].columns) == jm.POSITIVE_CHANGE_COLUMNS
    table = tables["outcome_rates"]
    assert list(table.columns) == jm.TABLE_COLUMNS
    # rounded to 6 decimals as published
    assert (table["share"] == table["share"].round(6)).all()
    listing = next(iter(js.published(tables).tables.values()))
    assert listing["file"].tolist() == ["outcome_rates.csv", "positive_outcomes.csv"]
    assert listing["rows"].tolist() == [len(table), len(tables["positive_outcomes"])]


def _listing(*folders: Path) -> list[str]:
    return sorted(str(p) for folder in folders for p in folder.rglob("*"))


def test_sections_write_no_file(fixture_store_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    run = RunParameters(
        quarter="2022-Q4", processed_dir=str(fixture_store_dir), output_dir=str(out)
    )
    data = jd.load(run)
    before = _listing(tmp_path, fixture_store_dir)
    forbid_writes(monkeypatch)
    shown = [
        js.headline(jm.headline_figures(data), data),
        js.outcome_groups(jm.outcome_rates(data), data),
        js.positive_rates(jm.positive_rates(data), data),
        js.months_since(jm.positive_by_months_since(data, max_lag=12, cohort="month")),
        js.time_to_charge(
            jm.time_to_charge(data), jm.time_to_charge_km(data), jm.data_quality(data), data
        ),
        js.published(jm.published_tables(data)),
    ]
    for section in shown:
        assert "<section" in section._repr_html_()
    monkeypatch.undo()
    assert _listing(tmp_path, fixture_store_dir) == before
    # every table and chart keeps the frame it shows
    assert all(frame is not None for s in shown for frame in s.tables.values())
    chart = shown[3].charts
    assert len(chart) == 1 and set(next(iter(chart.values()))["months_since"]) <= {0, 1, 3, 6, 12}


# ------------------------------------------------------------ positive outcomes: one definition


def test_positive_outcome_rate_counts_each_quarter_with_the_same_follow_up():
    crimes = pd.DataFrame(
        {
            "crime_id": ["p", "q", "r", "s", "t"],
            "month": ["2021-10", "2021-11", "2021-12", "2022-10", "2022-12"],
            "crime_type": ["Burglary"] * 5,
            "lad_code": ["E06000057"] * 5,
            "lad_name": ["Northumberland"] * 5,
        }
    )
    outcomes = pd.DataFrame(
        {
            "crime_id": ["p", "q", "q", "r", "s", "t"],
            "month": ["2022-01", "2021-12", "2022-02", "2022-06", "2023-01", "2022-12"],
            "outcome_type": [
                "Suspect charged",  # p: positive within one month of 2021-Q4's end
                "Offender given a caution",  # q: positive, then ...
                "Unable to prosecute suspect",  # ... no longer positive by 2022-02 (too late)
                "Suspect charged",  # r: positive, but 6 months after the quarter: not seen
                "Offender given community resolution",  # s: positive in 2023-01
                "Investigation complete; no suspect identified",  # t: not positive
            ],
        }
    )
    held = [f"2021-{m:02d}" for m in range(10, 13)] + [f"2022-{m:02d}" for m in range(1, 13)]
    data = _data(crimes, outcomes, outcome_months=[*held, "2023-01"])
    assert jm.follow_up_months(data) == 1  # outcomes held up to one month after 2022-Q4
    rates = jm.positive_outcome_rate(data).set_index(["window", "area_code"])
    now = rates.loc[("quarter", "northumbria")]
    then = rates.loc[("year_earlier_quarter", "northumbria")]
    # 2022-Q4: s positive (2023-01), t not: 1 of 2
    assert (now["crimes"], now["positive"], now["outcomes_to"]) == (2, 1, "2023-01")
    # 2021-Q4 with outcomes up to 2022-01 only: p and q positive (q's 2022-02 record is later
    # than the follow-up), r has no outcome yet: 2 of 3
    assert (then["crimes"], then["positive"], then["outcomes_to"]) == (3, 2, "2022-01")
    assert then["share"] == pytest.approx(2 / 3)
    low, high = proportion_confint(2, 3, method="wilson")
    assert (then["share_low"], then["share_high"]) == pytest.approx((low, high))
    # with every outcome held (the old definition for the comparison quarter), q would not be
    # positive and r would: the same-follow-up rule changes the comparison
    longer = jm.positive_outcome_rate(data, follow_up=6).set_index(["window", "area_code"])
    assert longer.loc[("year_earlier_quarter", "northumbria"), "positive"] == 2


def test_positive_rates_and_headline_use_the_one_definition():
    data = _data(CRIMES, OUTCOMES)
    one = jm.positive_outcome_rate(data, ("quarter", "12m"))
    rates = jm.positive_rates(data)
    assert rates["positive"].tolist() == one["positive"].tolist()
    figures = jm.headline_figures(data).set_index("measure")
    force = one[(one["window"] == "quarter") & (one["area_code"] == "northumbria")].iloc[0]
    assert figures.loc[jm.POSITIVE, "count"] == force["positive"]


def test_proportion_change_test_without_extra_variation_is_the_wald_test():
    from scipy import stats as sps

    from analysis.stats.proportion import proportion_change_test

    # every month of a period has the same rate: no over-dispersion, so phi = 1 and the test
    # is the Wald test of the log odds ratio, judged by t with (6 - 2) df
    monthly = pd.DataFrame(
        {
            "successes": [20, 20, 20, 30, 30, 30],
            "trials": [100, 100, 100, 100, 100, 100],
            "after": [False] * 3 + [True] * 3,
        }
    )
    log_or = np.log((90 / 210) / (60 / 240))
    se = np.sqrt(1 / 60 + 1 / 240 + 1 / 90 + 1 / 210)
    expected = 2 * sps.t.sf(log_or / se, 4)
    assert proportion_change_test(monthly) == pytest.approx(expected, rel=1e-5)
    # months that disagree within each period widen the test
    noisy = monthly.assign(successes=[5, 20, 35, 15, 30, 45])
    assert proportion_change_test(noisy) > expected


@pytest.mark.realdata
@pytest.mark.slow
def test_positive_outcome_rate_real_2022_q4_against_the_raw_csvs(real_pack_dir):
    """The force row the real 2022-Q4 pack published, against the raw CSVs joined here."""
    published = read_tidy(real_pack_dir / "tables/05_justice_outcomes/positive_outcomes.csv")
    table = published[published["geographic_level"] == FORCE_LEVEL].iloc[0]
    assert table["area_name"] == "Northumbria"
    last = max(p.name for p in (SHARED_DATA_DIR / "police" / "northumbria").iterdir()
               if any(p.glob("*-outcomes.csv")))  # fmt: skip
    assert last == "2023-03"  # three months of outcomes after 2022-Q4
    assert table["follow_up_months"] == 3
    for quarter, up_to, crimes_col, positive_col in (
        (Quarter(2022, 4), "2023-03", "crimes_after", "positive_after"),
        (Quarter(2021, 4), "2022-03", "crimes_before", "positive_before"),
    ):
        crimes, latest = _independent_join(quarter.months, up_to)
        positive = sum(1 for cid in crimes if latest.get(cid, set()) & POSITIVE_TYPES)
        assert table[crimes_col] == len(crimes)
        assert table[positive_col] == positive
    assert table["positive_after"] == 2023  # the figure the report has always published
