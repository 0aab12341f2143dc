"""The local MoJ reoffending loader: long layout, header mapping from the catalog, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analysis.catalog import load_catalog
from analysis.errors import InputError
from analysis.ingest.reoffending_data import (
    ALL_OFFENDERS,
    load_reoffending_local,
    read_reoffending_local_file,
    reoffending_local_columns,
)

CATALOG = load_catalog()

PCC_ROWS = [
    ["Cohort period", "PCC area code", "PCC area name", "Number of offenders in cohort",
     "Number of reoffenders", "Number of proven reoffences"],
    ["Apr 2019 to Jun 2019", "E23000007", "Northumbria", "2,412", "671", "2,310"],
    ["Apr 2019 to Jun 2019", "E23000008", "Durham", "1,104", "318", "*"],
    ["Apr 2019 to Jun 2019", "E23000013", "Cleveland", "1,288", "402", "1,377"],
]  # fmt: skip
DISPOSAL_ROWS = [
    ["Cohort", "Index disposal", "Offenders", "Reoffenders", "Reoffences"],
    ["2019 Q2", "Custody less than 12 months", "7000", "4100", "20500"],
    ["2019 Q2", "Community order", "9000", "3300", "11000"],
]


def _write(path: Path, rows: list[list[str]], bom: bool = False, crlf: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    return path


def _raw_tree(tmp_path: Path) -> Path:
    folder = tmp_path / "reference" / "reoffending"
    _write(folder / "pcc_areas.csv", PCC_ROWS, bom=True)
    _write(folder / "disposal.csv", DISPOSAL_ROWS, crlf=False)
    # the national series sits in the same folder and must be left to its own loader
    _write(
        folder / "proven_reoffending_data.csv",
        [["measure", "rate", "value"], ["new", "binary", "30"]],
    )
    return tmp_path


def test_mapping_comes_from_the_catalog_and_targets_are_the_long_columns():
    mapping = reoffending_local_columns(CATALOG)
    assert mapping["number of offenders in cohort"] == "offenders"
    assert mapping["index disposal"] == "breakdown"
    assert set(mapping.values()) == {
        "cohort", "breakdown", "area_code", "area_name", "offenders", "reoffenders", "reoffences",
    }  # fmt: skip


def test_loader_reads_every_local_file_into_one_long_table(tmp_path):
    raw = _raw_tree(tmp_path)
    tables = load_reoffending_local(raw, CATALOG)
    assert list(tables) == ["reoffending_local"]
    table = tables["reoffending_local"]
    # national file excluded: 3 PCC rows + 2 disposal rows
    assert len(table) == len(PCC_ROWS) - 1 + len(DISPOSAL_ROWS) - 1
    assert set(table["source_file"]) == {"pcc_areas.csv", "disposal.csv"}
    north = table[table["area_code"] == "E23000007"].iloc[0]
    assert (north["offenders"], north["reoffenders"], north["reoffences"]) == (2412, 671, 2310)
    assert north["cohort"] == "Apr 2019 to Jun 2019"
    assert north["breakdown"] == ALL_OFFENDERS  # no breakdown column in that file
    assert north["source_line"] == 2
    durham = table[table["area_code"] == "E23000008"].iloc[0]
    assert pd.isna(durham["reoffences"])  # '*' is MoJ's suppression mark, kept as <NA>
    custody = table[table["breakdown"] == "Custody less than 12 months"].iloc[0]
    assert pd.isna(custody["area_code"]) and custody["reoffenders"] == 4100
    assert str(table["offenders"].dtype) == "Int64"
    # totals agree with a csv-module sum of the fixture rows
    expected = sum(int(r[3].replace(",", "")) for r in PCC_ROWS[1:]) + sum(
        int(r[2]) for r in DISPOSAL_ROWS[1:]
    )
    assert int(table["offenders"].sum()) == expected


def test_no_local_file_gives_an_empty_dict(tmp_path):
    folder = tmp_path / "reference" / "reoffending"
    _write(folder / "proven_reoffending_data.csv", [["measure", "rate", "value"]])
    assert load_reoffending_local(tmp_path, CATALOG) == {}
    assert load_reoffending_local(tmp_path / "nowhere", CATALOG) == {}


def test_header_that_does_not_match_names_the_file(tmp_path):
    raw = tmp_path
    bad = _write(
        raw / "reference" / "reoffending" / "moj_tool.csv",
        [["Quarter", "Area", "People", "Reoffended"], ["2019 Q2", "Northumbria", "10", "3"]],
    )
    with pytest.raises(InputError) as err:
        load_reoffending_local(raw, CATALOG)
    message = str(err.value)
    assert str(bad) in message and ":1:" in message
    assert "cohort" in message and "offenders" in message and "catalog" in message


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (["2019 Q2", "Community order", "9000", "3300"], "4 fields"),
        (["2019 Q2", "Community order", "9000", "lots", "11000"], "not a number"),
        (["2019 Q2", "Community order", "9000", "3.5", "11000"], "whole count"),
        (["2019 Q2", "Community order", "900", "3300", "11000"], "exceed offenders"),
        (["", "Community order", "900", "300", "1100"], "blank cohort"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, row, words):
    path = _write(tmp_path / "d.csv", [DISPOSAL_ROWS[0], DISPOSAL_ROWS[1], row])
    with pytest.raises(InputError) as err:
        read_reoffending_local_file(path, reoffending_local_columns(CATALOG))
    assert f"{path}:3:" in str(err.value) and words in str(err.value)


def test_non_utf8_and_empty_files_are_refused(tmp_path):
    mapping = reoffending_local_columns(CATALOG)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Cohort,Offenders,Reoffenders,Reoffences\nJan\xe9,1,0,0\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_reoffending_local_file(latin, mapping)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_reoffending_local_file(empty, mapping)
