"""Plan scorecard: status rules, plans per force, and every value equal to its source report's
published figure (real 2022-Q4 data)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from conftest import TIDY_HEAD, forbid_writes, read_tidy

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters
from analysis.paths import SHARED_DATA_DIR
from analysis.reports.scorecard import data as sd
from analysis.reports.scorecard import metrics as sm
from analysis.reports.scorecard import sections as ss
from analysis.stats.change import NOT_TESTED, SIG_DOWN, SIG_NONE, SIG_UP

# ------------------------------------------------------------------ status rules


@pytest.mark.parametrize(
    ("verdict", "good", "expected"),
    [
        (SIG_DOWN, "down", sm.IMPROVING),
        (SIG_DOWN, "up", sm.DETERIORATING),
        (SIG_UP, "down", sm.DETERIORATING),
        (SIG_UP, "up", sm.IMPROVING),
        (SIG_NONE, "down", sm.NO_CHANGE),
        (NOT_TESTED, "down", sm.NO_DATA),
        ("not tested: fewer than 12 months of history", "down", sm.NO_DATA),
        # the wording of the exact Poisson test (before the over-dispersed tests)
        ("decrease unlikely to be chance", "down", sm.IMPROVING),
        ("increase unlikely to be chance", "down", sm.DETERIORATING),
        ("no evidence of change", "down", sm.NO_CHANGE),
        (np.nan, "down", sm.NO_DATA),
    ],
)
def test_status_follows_the_source_verdict(verdict, good, expected):
    assert sm.status_of(verdict, good) == expected


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        ((1.5, 1.2, 1.9), (3.0, 2.5, 3.6), sm.IMPROVING),  # lower, no overlap
        ((3.0, 2.5, 3.6), (1.5, 1.2, 1.9), sm.DETERIORATING),  # higher, no overlap
        ((2.2, 1.6, 3.2), (1.2, 0.7, 2.1), sm.NO_CHANGE),  # overlap
        ((np.nan, np.nan, np.nan), (1.2, 0.7, 2.1), sm.NO_DATA),  # not estimable
    ],
)
def test_ratio_status_rules(now, before, expected):
    assert sm.ratio_status(now, before, "down") == expected


def test_adjusted_verdict_is_used_when_the_source_publishes_one():
    change = pd.DataFrame(
        {"verdict": [SIG_UP], "p_value": [0.01], "verdict_adjusted": [SIG_NONE],
         "p_adjusted": [0.2]}
    )  # fmt: skip
    assert sm._verdict_column(change) == ("verdict_adjusted", "p_adjusted")
    # a report whose "verdict" is already the adjusted one (rural crime) publishes p_adjusted
    assert sm._verdict_column(change.drop(columns=["verdict_adjusted"])) == (
        "verdict",
        "p_adjusted",
    )
    assert sm._verdict_column(change.drop(columns=["verdict_adjusted", "p_adjusted"])) == (
        "verdict",
        "p_value",
    )


def _count_figures(verdict_adjusted: str | None) -> dict:
    table = pd.DataFrame(
        {
            "window": ["quarter", "year_earlier_quarter"],
            "area_level": ["force", "force"],
            "area_code": ["testforce", "testforce"],
            "area_name": ["Force", "Force"],
            "crime_type": ["Burglary", "Burglary"],
            "count": [80, 120],
        }
    )
    change = pd.DataFrame(
        {
            "area_level": ["force"],
            "area_code": ["testforce"],
            "crime_type": ["Burglary"],
            "comparison": ["year_earlier_quarter"],
            "count_before": [120],
            "count_after": [80],
            "p_value": [0.01],
            "verdict": [SIG_DOWN],
        }
    )
    if verdict_adjusted is not None:
        change = change.assign(p_adjusted=0.2, verdict_adjusted=verdict_adjusted)
    return {"table": table, "change": change}


def _plan(indicators: list[dict], generic: bool = False) -> dict:
    return {"plan": "Test plan", "label": "Test plan", "indicators": indicators,
            "no_data": [], "generic": generic}  # fmt: skip


BURGLARY = {"id": "burglary", "commitment": "Reduce burglary", "indicator": "Burglary",
            "kind": "count", "crime_type": "Burglary", "good": "down", "definition": "d"}  # fmt: skip


def _data(plan: dict, sources=None, reasons=None) -> sd.ScorecardData:
    run = RunParameters(force="testforce", quarter="2022-Q4")
    config = {"rules": {}, "generic": {}}
    return sd.ScorecardData(run, plan, config, sources or {}, reasons or {})


def test_count_status_comes_from_the_adjusted_verdict():
    data = _data(_plan([BURGLARY]), sources={"crime_by_area": object()})
    raw_only = sm.scorecard_table(data, {"crime_by_area": _count_figures(None)}).iloc[0]
    assert raw_only["status"] == sm.IMPROVING and raw_only["p_value"] == 0.01
    adjusted = sm.scorecard_table(data, {"crime_by_area": _count_figures(SIG_NONE)}).iloc[0]
    # significant before adjustment, not after: the scorecard says no significant change
    assert adjusted["status"] == sm.NO_CHANGE and adjusted["p_value"] == 0.2
    assert (adjusted["value"], adjusted["comparison_value"]) == (80, 120)
    assert adjusted["comparison_text"] == "120 (33% fewer)"


def test_a_skipped_source_gives_no_data_with_its_reason_and_no_table():
    reason = "the store has no stop-and-search file for 2022-10"
    disparity = {**BURGLARY, "id": "disparity", "kind": "disparity_ratio", "good": "down"}
    data = _data(_plan([disparity]), reasons={"stop_search": reason})
    row = sm.scorecard_table(data, {}).iloc[0]
    assert row["status"] == sm.NO_DATA
    assert row["note"] == f"no data: {reason}"
    assert row["source_report"] == "" and row["source_table"] == ""
    assert list(sm.scorecard_table(data, {}).columns) == sm.SCORECARD_COLUMNS


# ------------------------------------------------------------------ plans per force


def test_northumbria_has_its_plan_and_other_forces_get_generic_indicators(tmp_path):
    plan, config = sd.load_plan("northumbria")
    assert not plan["generic"] and "Northumbria" in plan["label"]
    ids = {i["id"] for i in plan["indicators"]}
    assert {"asb", "burglary", "positive_outcomes", "disparity", "rural_crime"} <= ids
    assert len(plan["no_data"]) >= 6 and all(item["extract"] for item in plan["no_data"])
    generic, _ = sd.load_plan("durham")
    assert generic["generic"]
    assert generic["label"] == (
        "generic indicators (no Police and Crime Plan configured for this force)"
    )
    assert [i["kind"] for i in generic["indicators"]] == [
        "count", "count", "count", "count", "positive_outcomes", "linked_find_rate",
        "disparity_ratio",
    ]  # fmt: skip
    assert {i["crime_type"] for i in generic["indicators"] if i["kind"] == "count"} == {
        "All crime", "Anti-social behaviour", "Burglary", "Violence and sexual offences",
    }  # fmt: skip
    assert config["alpha"] == 0.05


def test_a_malformed_plan_is_a_clear_error(tmp_path):
    (tmp_path / "testforce.yml").write_text(
        "indicators:\n  - {id: x, commitment: c, indicator: i, kind: nonsense, good: down, "
        "definition: d}\n",
        encoding="utf-8",
    )
    with pytest.raises(CrimeplanError, match="unknown kind 'nonsense'"):
        sd.load_plan("testforce", plans_dir=tmp_path)


def test_no_text_a_reader_sees_names_code_or_files():
    plan, config = sd.load_plan("northumbria")
    generic, _ = sd.load_plan("durham")
    texts = [" ".join(str(v).split()) for v in config["rules"].values()]
    for p in (plan, generic):
        texts += [i[k] for i in p["indicators"] for k in ("commitment", "indicator", "label")]
    for text in texts:
        for word in ("analysis.", ".py", ".csv", ".yml", "statsmodels", "scipy", "_"):
            assert word not in text, (word, text)


# ------------------------------------------------------------------ sections write nothing


def test_sections_write_no_file(tmp_path, monkeypatch):
    plan, config = sd.load_plan("northumbria")
    plan = {**plan, "indicators": [BURGLARY]}
    data = sd.ScorecardData(RunParameters(quarter="2022-Q4"), plan, config)
    data = sd.ScorecardData(
        RunParameters(force="testforce", quarter="2022-Q4"),
        plan,
        config,
        {"crime_by_area": object()},
    )
    table = sm.scorecard_table(data, {"crime_by_area": _count_figures(SIG_NONE)})
    monkeypatch.chdir(tmp_path)
    forbid_writes(monkeypatch)
    made = [
        ss.headline(table, data),
        ss.scorecard(table, data),
        ss.no_data(table),
        ss.caveats(data),
        ss.published({"scorecard": table}),
    ]
    for section in made:
        assert "<section" in section._repr_html_()
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    shown = made[1].tables[
        f"{plan['label']}: October to December 2022 against October to December 2021"
    ]
    assert shown["status"].tolist() == [sm.NO_CHANGE, *[sm.NO_DATA_SUPPLIED] * len(plan["no_data"])]
    html = made[1]._repr_html_()
    display = made[1].items[0].display
    assert display["Report"].tolist() == ["01"] and display["Status"].tolist() == [sm.NO_CHANGE]
    for word in ("01_crime_by_area", ".csv", "analysis."):
        assert word not in html


# ------------------------------------------------------------------ real data

Q = Quarter(2022, 4)
POLICE = SHARED_DATA_DIR / "police" / "northumbria"


def _street_count(months: list[str], crime_type: str | None) -> int:
    """Street rows of the months of that type (None: every type except ASB), csv module."""
    total = 0
    for month in months:
        with (POLICE / month / f"{month}-northumbria-street.csv").open(
            newline="", encoding="utf-8-sig"
        ) as handle:
            for r in csv.DictReader(handle):
                kind = r["Crime type"]
                total += kind == crime_type if crime_type else kind != "Anti-social behaviour"
    return total


def _linked_finds(months: list[str]) -> tuple[int, int]:
    x = n = 0
    for month in months:
        with (POLICE / month / f"{month}-northumbria-stop-and-search.csv").open(
            newline="", encoding="utf-8-sig"
        ) as handle:
            for r in csv.DictReader(handle):
                if r["Type"] == "Vehicle search":
                    continue
                n += 1
                outcome = r["Outcome"].strip()
                linked = r["Outcome linked to object of search"].strip().lower() == "true"
                x += outcome not in ("", "A no further action disposal") and linked
    return x, n


@pytest.mark.realdata
@pytest.mark.slow
def test_every_scorecard_value_equals_its_source_reports_published_figure(real_pack_dir):
    """The real 2022-Q4 pack as published: each scorecard row against the CSV of the report and
    table it cites, read back from the run folder (figures at publication precision)."""
    tables = real_pack_dir / "tables"
    scorecard = read_tidy(tables / "00_plan_scorecard" / "scorecard.csv")
    rows = scorecard[scorecard["status"] != sm.NO_DATA_SUPPLIED].set_index("id")
    assert rows.index.is_unique
    for ident, row in rows.iterrows():  # every cited table was published
        assert (tables / row["source_report"] / f"{row['source_table']}.csv").is_file(), ident

    def source(report: str, table: str) -> pd.DataFrame:
        frame = read_tidy(tables / report / f"{table}.csv")
        return frame[(frame["time_period"] == "2022") & (frame["time_identifier"] == QUARTER_ID)]

    counts = source("01_crime_by_area", "crime_by_area")
    change = source("01_crime_by_area", "change")
    change = change[change["comparison"] == "year_earlier_quarter"]
    checked = set()
    for ident, row in rows[rows["source_report"] == "01_crime_by_area"].iterrows():
        crime_type = PLAN_CRIME_TYPES[ident.split(":")[0]]
        place = (
            (counts["area_code"] == row["area_code"])
            & (counts["geographic_level"] == row["geographic_level"])
            & (counts["crime_type"] == crime_type)
        )
        assert row["value"] == counts[place]["count"].item(), ident
        test = change[
            (change["area_code"] == row["area_code"])
            & (change["geographic_level"] == row["geographic_level"])
            & (change["crime_type"] == crime_type)
        ].iloc[0]
        assert row["comparison_value"] == test["count_before"], ident
        assert row["verdict"] == test["verdict_adjusted"], ident
        assert row["p_value"] == test["p_adjusted"], ident
        assert row["source_table"] == "change"
        checked.add(ident)
    assert sum(i.startswith("crime_by_lad:") for i in checked) == 6  # every local authority

    positive = source("05_justice_outcomes", "positive_outcomes")
    force = positive[positive["geographic_level"] == "Police force area"].iloc[0]
    row = rows.loc["positive_outcomes"]
    # the scorecard shows percent to 4 decimals, the report the fraction to 4 decimals
    assert row["value"] == pytest.approx(force["share_after"] * 100, abs=0.006)
    assert row["comparison_value"] == pytest.approx(force["share_before"] * 100, abs=0.006)
    assert f"{force['positive_after']:,.0f} of {force['crimes_after']:,.0f})" in row["value_text"]
    assert row["verdict"] == force["verdict_adjusted"]
    assert row["status"] == sm.status_of(force["verdict_adjusted"], "up")

    outcomes = source("02_stop_search_disparity", "outcomes_by_group")
    every = outcomes[
        (outcomes["group"] == "All searches") & (outcomes["ethnicity_definition"] == "self")
    ]
    assert rows.loc["linked_find_rate", "value"] == pytest.approx(
        every["linked_find_rate"].item() * 100, abs=0.006
    )
    assert (
        f"({every['linked_finds'].item():,.0f} of {every['searches'].item():,.0f})"
        in (rows.loc["linked_find_rate", "value_text"])
    )
    rates = source("02_stop_search_disparity", "search_rates")
    black = rates[
        (rates["geographic_level"] == "Police force area")
        & (rates["ethnicity_definition"] == "self")
        & (rates["group"] == "Black")
    ]
    assert rows.loc["disparity", "value"] == pytest.approx(black["rr_vs_white"].item(), abs=6e-4)
    assert rows.loc["disparity", "value_low"] == pytest.approx(black["rr_low"].item(), abs=6e-4)

    rural = source("03_rural_crime", "rural_urban")
    cell = rural[
        (rural["ruc_class"] == "RURAL") & (rural["crime_type"] == "All crime (excluding ASB)")
    ]
    assert rows.loc["rural_crime", "value"] == cell["count"].item()

    reoffending = read_tidy(tables / "04_reoffending" / "reoffending_rates.csv")
    cohort = rows.loc["reoffending"]  # "England and Wales, 2014-01 to 2014-03": a 3-month cohort
    start = rows.loc["reoffending", "value_text"].split("England and Wales, ")[1][:7]
    national = reoffending[
        (reoffending["offender_group"] == "All offenders")
        & (reoffending["reoffending_measure"] == "New measure")
        & (reoffending["cohort_length"] == "3 months")
        & (reoffending["time_period"] == start[:4])
        & (reoffending["time_identifier"] == f"Calendar year Q{(int(start[5:]) + 2) // 3}")
    ]
    assert cohort["value"] == pytest.approx(national["binary_rate"].item(), abs=0.006)
    assert cohort["status"] == sm.NO_DATA
    checked |= {"positive_outcomes", "linked_find_rate", "disparity", "rural_crime", "reoffending"}
    assert checked == set(rows.index)  # every indicator was compared


QUARTER_ID = "Calendar year Q4"
"""``time_identifier`` of the quarter's rows in the 2022-Q4 pack's tables."""
PLAN_CRIME_TYPES = {
    "asb": "Anti-social behaviour",
    "all_crime": "All crime",
    "crime_by_lad": "All crime",
    "burglary": "Burglary",
    "violence": "Violence and sexual offences",
    "weapons": "Possession of weapons",
}
"""Crime type of each count indicator of config/plans/northumbria.yml (read by hand)."""


@pytest.mark.realdata
@pytest.mark.slow
def test_real_scorecard_values_against_the_raw_csvs(real_pack_dir):
    table = read_tidy(real_pack_dir / "tables" / "00_plan_scorecard" / "scorecard.csv")
    rows = table.set_index("id")
    for ident, crime_type in [
        ("burglary", "Burglary"),
        ("asb", "Anti-social behaviour"),
        ("all_crime", None),
    ]:
        assert rows.loc[ident, "value"] == _street_count(Q.months, crime_type)
        assert rows.loc[ident, "comparison_value"] == _street_count(
            Q.year_earlier.months, crime_type
        )
    x1, n1 = _linked_finds(Q.months)
    assert f"({x1:,} of {n1:,})" in rows.loc["linked_find_rate", "value_text"]
    # one definition of positive outcomes: 2,023 crimes of 2022-Q4 (the report's figure; the
    # old scorecard's 2,281 counted first positive outcomes by outcome month)
    assert rows.loc["positive_outcomes", "value_text"] == "5.8% (2,023 of 35,026)"
    assert rows.loc["reoffending", "status"] == sm.NO_DATA
    assert (table["status"] == sm.NO_DATA_SUPPLIED).sum() == 6
    assert set(table["status"]) <= set(sm.STATUSES)


@pytest.mark.realdata
@pytest.mark.slow
def test_a_force_without_a_plan_gets_generic_indicators_and_no_uncited_tables(real_store_dir):
    # durham has police files for 2024-Q1 but no stop-and-search or outcomes files then
    run = RunParameters(force="durham", quarter="2024-Q1", processed_dir=str(real_store_dir))
    data = sd.load(run)
    table = sm.scorecard_table(data)
    assert data.plan["generic"]
    assert table["id"].tolist() == [i["id"] for i in data.plan["indicators"]]
    skipped = table[table["id"].isin(["positive_outcomes", "linked_find_rate", "disparity"])]
    assert (skipped["status"] == sm.NO_DATA).all()
    assert (skipped["source_table"] == "").all() and (skipped["source_report"] == "").all()
    assert skipped["note"].str.startswith("no data: ").all()
    assert set(data.reasons) == {"justice_outcomes", "stop_search"}
    burglary = table.set_index("id").loc["burglary"]
    durham = SHARED_DATA_DIR / "police" / "durham"
    expected = 0
    for month in Quarter(2024, 1).months:
        with (durham / month / f"{month}-durham-street.csv").open(
            newline="", encoding="utf-8-sig"
        ) as handle:
            expected += sum(1 for r in csv.DictReader(handle) if r["Crime type"] == "Burglary")
    assert burglary["value"] == expected
    assert burglary["status"] == sm.NO_DATA  # no year-earlier quarter held for durham
    # report 01 cannot run for durham (no LSOA population or boundaries): the counts come from
    # the street files and cite no report or table of the pack
    assert set(data.uncited) == {"crime_by_area"}
    assert "census21_pop_northumbria_lsoa21.csv" in data.uncited["crime_by_area"]
    assert burglary["source_report"] == "" and burglary["source_table"] == ""
    assert burglary["note"].startswith(sm.UNCITED_NOTE)
    section = ss.headline(table, data)
    assert any("No Police and Crime Plan is configured" in f for f in section.findings)


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_real_data_writes_the_scorecard_table(real_pack_dir):
    """The scorecard table the real 2022-Q4 pack published."""
    path = real_pack_dir / "tables" / "00_plan_scorecard" / "scorecard.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # the scorecard's area column stays (it names a part of the force: "Rural areas")
    assert list(rows[0]) == TIDY_HEAD + sm.SCORECARD_COLUMNS
    burglary = next(r for r in rows if r["id"] == "burglary")
    assert burglary["value"] == str(_street_count(Q.months, "Burglary"))  # a count, whole
    assert (burglary["area_code"], burglary["area_name"]) == ("E23000007", "Northumbria")
    by_lad = [r for r in rows if r["id"].startswith("crime_by_lad:")]
    assert by_lad and all(r["id"].endswith(":" + r["area_code"]) for r in by_lad)
    assert {r["geographic_level"] for r in by_lad} == {"Local authority district"}
    national = next(r for r in rows if r["area"] == "England and Wales")
    assert (national["geographic_level"], national["area_code"]) == ("National", "K04000001")
    assert "" not in {cell for r in rows for cell in r.values()}  # no blank cell
