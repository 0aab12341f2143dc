"""Published tables as reusable statistical data files (analysis.tidy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.params import RunParameters
from analysis.tidy import check_tidy, meta_table, tidy_table, window_time, write_workbook

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
    assert window_time("12m", q1) == ("2023", "Year ending March")
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
