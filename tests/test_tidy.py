"""Published tables as reusable statistical data files (analysis.tidy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.params import RunParameters
from analysis.tidy import (
    check_tidy,
    cohort_span,
    meta_table,
    read_published,
    span_time,
    tidy_table,
    window_time,
    write_workbook,
)

RUN = RunParameters(force="northumbria", quarter="2022-Q4")


def _report_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "window": ["quarter", "previous_quarter", "year_earlier_quarter", "12m"],
            "area_level": ["force", "lad", "ward", "lsoa"],
            "area_code": ["northumbria", "E08000021", "E05000001", "E01000001"],
            "area_name": ["Northumbria", "Newcastle upon Tyne", "Ward A", "LSOA A"],
            "count": [35026.0, 12.0, np.nan, 3.0],
            "rate_per_1000": [24.18234, 1.0, np.nan, 2.5],
            "p_value": [0.000123456, 0.5, 0.04999, np.nan],
            "suppressed": [False, False, True, False],
        }
    )


def test_time_columns_follow_the_government_identifiers():
    quarter = RUN.period
    assert window_time("quarter", quarter) == ("2022", "Calendar year Q4")
    assert window_time("previous_quarter", quarter) == ("2022", "Calendar year Q3")
    assert window_time("year_earlier_quarter", quarter) == ("2021", "Calendar year Q4")
    assert window_time("12m", quarter) == ("2022", "Calendar year")
    q1 = RunParameters(quarter="2023-Q1").period
    assert window_time("12m", q1) == ("202223", "Financial year")  # April 2022 to March 2023
    q2 = RunParameters(quarter="2023-Q2").period
    assert window_time("12m", q2) == ("2023", "Year ending June")
    with pytest.raises(KeyError):
        window_time("fortnight", quarter)


def test_tidy_table_fills_every_cell_and_maps_geography():
    out = tidy_table(_report_table(), RUN)
    assert list(out.columns[:5]) == [
        "time_period",
        "time_identifier",
        "geographic_level",
        "area_code",
        "area_name",
    ]
    assert "window" not in out.columns and "suppressed" not in out.columns
    assert out["geographic_level"].tolist() == [
        "Police force area",
        "Local authority district",
        "Ward",
        "LSOA",
    ]
    assert out.loc[0, "area_code"] == "E23000007"  # the force's ONS code, not its slug
    assert out.loc[0, "count"] == "35026"  # whole numbers without ".0"
    assert out.loc[0, "rate_per_1000"] == "24.18"  # 2 decimals for rates
    assert out.loc[0, "p_value"] == "0.0001"  # 4 decimals for p-values
    assert out.loc[1, "p_value"] == "0.5000"
    assert out.loc[2, "count"] == "[c]"  # suppressed row: hidden value is [c]
    assert out.loc[3, "p_value"] == "[x]"  # missing but not suppressed: [x]
    assert check_tidy(out, "t") == []


def test_check_tidy_names_each_broken_rule():
    bad = pd.DataFrame({"Crime Type": ["a", ""], "count": [1, None], "flag": ["c", "x"]})
    problems = "\n".join(check_tidy(bad, "bad"))
    assert "'Crime Type' is not snake_case" in problems
    assert "no time_period column" in problems and "no geographic_level column" in problems
    assert "blank or NA cells in 'count'" in problems
    assert "blank or NA cells in 'Crime Type'" in problems
    assert "unbracketed symbols in 'flag'" in problems


def test_meta_table_types_and_decimals():
    out = tidy_table(_report_table(), RUN)
    meta = meta_table(out).set_index("col_name")
    assert meta.loc["count", "col_type"] == "Indicator"
    assert meta.loc["area_name", "col_type"] == "Filter"
    assert meta.loc["time_period", "col_type"] == "Filter"
    assert meta.loc["rate_per_1000", "indicator_dp"] == 2
    assert meta.loc["p_value", "indicator_dp"] == 4
    assert set(meta.index) == set(out.columns)


def test_workbook_has_cover_contents_notes_and_one_sheet_per_table(tmp_path):
    from openpyxl import load_workbook

    tables = {"crime_by_area": tidy_table(_report_table(), RUN)}
    path = write_workbook(
        tables,
        tmp_path / "tables.xlsx",
        title="Northumbria 2022-Q4 tables",
        about=["Police open data."],
        contact=["Office of the PCC"],
        source="data.police.uk",
    )
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    assert "crime_by_area" in book.sheetnames
    sheet = book["crime_by_area"]
    values = [c.value for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "[c]" in values and "E23000007" in values


def test_spans_of_months_and_cohorts():
    assert span_time("2022-11", "2022-11") == ("2022", "November")
    assert span_time("2013-07", "2013-09") == ("2013", "Calendar year Q3")
    assert span_time("2013-01", "2013-12") == ("2013", "Calendar year")
    assert span_time("2019-04", "2020-03") == ("201920", "Financial year")
    assert span_time("2021-11", "2022-10") == ("2022", "Year ending October")
    assert span_time("2022-01", "2022-06") == ("2022", "6 months ending June")
    assert cohort_span("2013-10 to 2013-12") == ("2013-10", "2013-12")
    assert cohort_span("Jan 2019 to Mar 2019") == ("2019-01", "2019-03")
    with pytest.raises(ValueError, match="cohort 'last year'"):
        cohort_span("last year")
    with pytest.raises(ValueError, match="ends before it starts"):
        span_time("2022-05", "2022-04")


def test_national_reoffending_cohorts_are_national_rows_of_their_own_period():
    table = pd.DataFrame(
        {
            "cohort": ["2014-01 to 2014-03", "2012-04 to 2013-03", "2005-01 to 2005-12",
                       "Jan 2019 to Mar 2019", "Jan 2019 to Mar 2019"],
            "breakdown": ["All; new measure; 3-month cohort", "Adult; old measure; 12-month cohort",
                          "Juvenile; new measure; 12-month cohort", "All offenders",
                          "All offenders"],
            "area": ["England and Wales", "England and Wales", "England and Wales",
                     "Northumbria", "Somewhere unheard of"],
            "offenders": pd.array([800, 1000, None, 3000, 10], dtype="Int64"),
            "binary_rate": [25.0, 30.123, np.nan, 30.0, np.nan],
            "low": [22.1234, 27.3, np.nan, 28.4, np.nan],
            "high": [28.1, 33.0, np.nan, 31.7, np.nan],
        }
    )  # fmt: skip
    out = tidy_table(table, RUN)
    assert out[["time_period", "time_identifier"]].values.tolist() == [
        ["2014", "Calendar year Q1"], ["201213", "Financial year"], ["2005", "Calendar year"],
        ["2019", "Calendar year Q1"], ["2019", "Calendar year Q1"],
    ]  # fmt: skip
    assert out["geographic_level"].tolist()[:4] == ["National"] * 3 + ["Police force area"]
    assert out["area_code"].tolist() == ["K04000001"] * 3 + ["E23000007", "[x]"]
    assert out["area_name"].tolist()[:4] == ["England and Wales"] * 3 + ["Northumbria"]
    assert out["offender_group"].tolist() == [
        "All offenders", "Adults", "Juveniles", "All offenders", "All offenders",
    ]  # fmt: skip
    assert out["reoffending_measure"].tolist()[:4] == [
        "New measure", "Old measure", "New measure", "[x]",
    ]  # fmt: skip
    assert out["cohort_length"].tolist()[:4] == ["3 months", "12 months", "12 months", "3 months"]
    assert "cohort" not in out.columns and "area" not in out.columns
    assert "breakdown" not in out.columns
    assert out.loc[0, "low"] == "22.12"  # bare interval columns: the places of the rate before
    assert out.loc[1, "binary_rate"] == "30.12" and out.loc[2, "offenders"] == "[x]"
    assert check_tidy(out, "reoffending") == []


def test_rural_classes_forces_and_named_areas():
    rural = pd.DataFrame(
        {"window": ["quarter", "12m"], "ruc_class": ["RLN1", "URBAN"],
         "ruc_label": ["Rural: Nearer to a major town or city", "All urban LSOAs"],
         "lq_low": [0.91234, 1.0], "rate_low": [1.23456, 2.0]}
    )  # fmt: skip
    out = tidy_table(rural, RUN)
    # classes group the force's LSOAs (with totals): rows of the force, the class a filter
    assert out["geographic_level"].tolist() == ["Police force area"] * 2
    assert out["area_code"].tolist() == ["E23000007"] * 2
    assert out["ruc_class"].tolist() == ["RLN1", "URBAN"]
    assert out.loc[1, "time_identifier"] == "Calendar year"
    assert out.loc[0, "lq_low"] == "0.912" and out.loc[0, "rate_low"] == "1.23"
    assert "window" not in out.columns
    forces = pd.DataFrame({"force": ["northumbria", "city-of-london"], "count": [3, 4]})
    out = tidy_table(forces, RUN)
    assert out["area_code"].tolist() == ["E23000007", "E23000034"]
    assert out["area_name"].tolist() == ["Northumbria", "London, City of"]
    named = pd.DataFrame(
        {"id": ["a", "lad:E08000021", "r", "n"],
         "area": ["Whole force", "Newcastle upon Tyne", "Rural areas", None],
         "comparison": ["year_ending", "year_earlier_quarter", None, None],
         "value": [9389.0, 0.057757, 2.2331, np.nan]}
    )  # fmt: skip
    out = tidy_table(named, RUN)
    assert out["geographic_level"].tolist() == [
        "Police force area", "Local authority district", "Police force area", "Police force area",
    ]  # fmt: skip
    assert out["area_code"].tolist() == ["E23000007", "E08000021", "E23000007", "E23000007"]
    assert out.loc[2, "area"] == "Rural areas"  # kept: it says which part of the force
    assert out["area_name"].tolist()[:2] == ["Northumbria", "Newcastle upon Tyne"]
    assert out["time_identifier"].tolist() == ["Calendar year"] + ["Calendar year Q4"] * 3
    assert out["value"].tolist() == ["9389", "0.0578", "2.2331", "[x]"]  # mixed indicators


def test_small_p_values_never_print_as_zero_and_tidy_is_idempotent(tmp_path):
    table = _report_table().assign(p_value=[3.2e-12, 0.5, 0.04999, 1.0])
    out = tidy_table(table, RUN)
    assert out.loc[0, "p_value"] == "3.2e-12" and float(out.loc[0, "p_value"]) > 0
    assert tidy_table(out, RUN).equals(out)
    path = tmp_path / "t.csv"
    out.to_csv(path, index=False)
    again = read_published(path)
    assert tidy_table(again, RUN).values.tolist() == out.values.tolist()
    meta = meta_table(out).set_index("col_name")
    assert meta.loc["p_value", "indicator_dp"] == 4
    assert meta.loc["count", "symbols"].startswith("[c] confidential")
    assert meta.loc["area_code", "col_type"] == "Filter" and meta.loc["area_code", "symbols"] == ""


def test_area_names_missing_from_a_table_come_from_the_store(fixture_store_dir):
    from analysis.store import Store

    with Store(fixture_store_dir) as store:
        lsoa = store.table("lsoa")
    ward = lsoa[lsoa["force"] == "northumbria"].iloc[0]
    run = RunParameters(processed_dir=str(fixture_store_dir))
    table = pd.DataFrame(
        {"area_level": ["force", "lad", "ward"],
         "area_code": ["northumbria", ward["lad_code"], ward["ward_code"]], "crimes": [9, 5, 1]}
    )  # fmt: skip
    out = tidy_table(table, run)
    assert out["area_name"].tolist() == ["Northumbria", ward["lad_name"], ward["ward_name"]]
    unknown = tidy_table(table, RunParameters(processed_dir=str(fixture_store_dir / "nowhere")))
    assert unknown["area_name"].tolist() == ["Northumbria", "[x]", "[x]"]


def test_write_tables_publishes_the_tidy_form_and_leaves_the_frame_alone(tmp_path):
    from analysis.outputs import write_tables
    from analysis.pack.documents import table_description

    run = RunParameters(force="northumbria", quarter="2022-Q4", output_dir=str(tmp_path),
                        processed_dir=str(tmp_path / "no_store"))  # fmt: skip
    table = _report_table()
    before = table.copy()
    (path,) = write_tables({"crime_by_area": table}, run, "01_crime_by_area")
    assert table.equals(before)  # the notebook's frame keeps the report's own columns
    published = read_published(path)
    assert published.values.tolist() == tidy_table(before, run).values.tolist()
    assert check_tidy(published, path.name) == []
    meta = read_published(path.with_name("crime_by_area.meta.csv"))
    assert meta["col_name"].tolist() == list(published.columns)
    assert meta.columns.tolist() == ["col_name", "col_type", "label", "indicator_dp", "symbols"]
    # the index page's line: 4 rows, the figures without their confidence limits
    assert table_description(path) == (
        "4 rows of count, rate per 1,000 residents, p-value of the test"
    )


def test_figures_among_suppression_symbols_keep_their_precision():
    table = pd.DataFrame(
        {"rr_vs_white": pd.Series([1.0, "[c]", 2.23456, None], dtype=object),
         "searches": pd.Series([12, "[c]", 7, 0], dtype=object),
         "group": ["White", "Black", "Asian", "Mixed"]}
    )  # fmt: skip
    out = tidy_table(table, RUN)
    assert out["rr_vs_white"].tolist() == ["1.000", "[c]", "2.235", "[x]"]
    assert out["searches"].tolist() == ["12", "[c]", "7", "0"]
    assert out["group"].tolist() == ["White", "Black", "Asian", "Mixed"]
