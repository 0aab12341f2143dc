"""The one wording of a report's "cannot run" reason (``analysis.reports.reasons``).

Expected strings are written out by hand from the documented format
``<what> for <Force> <quarter>: supply <file> (<command>)``; catalog paths are read from
config/catalog.yml with the yaml module, not through the code under test.
"""

from __future__ import annotations

import re

import pytest
import yaml

from analysis.params import RunParameters
from analysis.paths import CONFIG_DIR
from analysis.reports import REPORTS, reasons

REASON = re.compile(r"^[a-z].* for [A-Z][A-Za-z ,]+ \d{4}-Q[1-4]: supply \S.* \((crimeplan .+)\)$")
"""The documented form: lower-case start, force and quarter, the file, the command in brackets."""


def _catalog_path(key: str) -> str:
    with open(CONFIG_DIR / "catalog.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["reference"][key]["path"]


class _NoSqlStore:
    """A stand-in store with no SQL: the force name falls back to the slug in title case."""


class _SqlStore:
    """A stand-in store answering the two queries the helper makes (views, forces)."""

    def __init__(self, views: set[str], forces: list[tuple[str, str, str]]):
        self._views = views
        self._forces = forces  # (force, pfa_name, lad_code)

    def query(self, sql: str, params: list | None = None):
        import pandas as pd

        if "duckdb_views" in sql:
            return pd.DataFrame({"view_name": sorted(self._views)})
        force = params[0]
        if "pfa_name" in sql:
            names = sorted({n for f, n, _ in self._forces if f == force})
            return pd.DataFrame({"pfa_name": names})
        if "lad_code" in sql and "count" not in sql:
            lads = sorted({lad for f, _, lad in self._forces if f == force})
            return pd.DataFrame({"lad_code": lads})
        return pd.DataFrame({"n": [0]})  # no area rows held for the force


def test_cannot_run_is_one_line_in_the_documented_form():
    line = reasons.cannot_run(
        "No outcomes.", "Durham", "2024-Q1", "police/x.csv\n", "crimeplan fetch --reference"
    )
    assert (
        line == "no outcomes. for Durham 2024-Q1: supply police/x.csv (crimeplan fetch --reference)"
    )
    assert "\n" not in line and not line.endswith(".")
    assert REASON.match(line)


def test_police_files_name_the_file_pattern_months_and_fetch_command():
    run = RunParameters(force="city-of-london", quarter="2023-Q2")
    line = reasons.missing_police_files(_NoSqlStore(), run, "outcomes", ["2023-06", "2023-04"])
    assert line == (
        "no outcomes for City Of London 2023-Q2: supply "
        "police/<month>/<month>-city-of-london-outcomes.csv for 2023-04, 2023-06 "
        "(crimeplan fetch --force city-of-london --from 2023-04 --to 2023-06)"
    )


def test_force_name_comes_from_the_store_when_it_holds_one():
    store = _SqlStore({"forces"}, [("durham", "Durham", "E06000047")])
    run = RunParameters(force="durham", quarter="2024-Q1")
    line = reasons.missing_police_files(store, run, "stop_search", ["2024-01"])
    assert line.startswith("no stop-and-search records for Durham 2024-Q1: supply ")
    assert "police/<month>/<month>-durham-stop-and-search.csv for 2024-01 " in line


def test_area_data_names_every_absent_file_and_the_force_lads():
    store = _SqlStore(
        {"forces", "lsoa", "boundaries_lsoa", "boundaries_lad"},
        [("durham", "Durham", "E06000047"), ("durham", "Durham", "E06000005")],
    )
    run = RunParameters(force="durham", quarter="2024-Q1")
    line = reasons.missing_area_data(store, run, ("population", "boundaries_lsoa"))
    population = _catalog_path("population_lsoa21_age")
    lsoa = _catalog_path("boundaries_lsoa21").replace("*", "<LAD code>")
    assert line == (
        "no Census 2021 population of its LSOAs or LSOA boundaries for Durham 2024-Q1: supply "
        f"{population} with rows for Durham's LSOAs; {lsoa} for E06000005, E06000047 "
        "(crimeplan fetch --reference lists how)"
    )
    assert reasons.missing_area_data(store, run, ()) is None


@pytest.mark.parametrize(
    ("tables", "names"),
    [
        (["population_lad_ethnicity"], [_catalog_path("ethnicity_ltla_20cat")]),
        (["boundaries_pfa"], [_catalog_path("boundaries_pfa")]),
        (["reoffending_national"], [_catalog_path("reoffending_national")]),
        (["stop_search"], ["-durham-stop-and-search.csv", "crimeplan fetch --force durham"]),
        (["ledger"], ["crimeplan ingest"]),
    ],
)
def test_absent_store_tables_name_what_to_supply(tables, names):
    run = RunParameters(force="durham", quarter="2024-Q1")
    line = reasons.missing_store_tables(_NoSqlStore(), run, tables)
    assert REASON.match(line), line
    for name in names:
        assert name in line


def test_every_report_uses_the_helper(fixture_store_dir):
    """On a store without the quarter, each report's own check gives a reason in the one form."""
    from analysis.store import Store

    run = RunParameters(quarter="2019-Q1", processed_dir=str(fixture_store_dir))
    with Store(fixture_store_dir) as store:
        for spec in REPORTS:
            if spec.name == "reoffending":  # national series: no quarter to miss
                continue
            line = spec.missing_data_reason(store, run)
            assert line and REASON.match(line), (spec.name, line)
            assert "2019-Q1" in line and "2019-01" in line
