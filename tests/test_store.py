"""The Store query layer on the synthetic store."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from analysis.errors import CrimeplanError
from analysis.ingest import print_status
from analysis.store import Store


def test_missing_store_raises_clear_error(tmp_path):
    with pytest.raises(CrimeplanError, match="no processed store at .*; run crimeplan ingest"):
        Store(tmp_path / "nowhere")


def test_every_contract_table_is_a_view(fixture_store_dir):
    store = Store(fixture_store_dir)
    views = set(store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")["view_name"])
    contract = {
        "street", "outcomes", "stop_search", "quarantine", "ledger", "quality", "lsoa",
        "lsoa_2011_2021", "forces", "population_lad_ethnicity", "population_lsoa_age",
        "boundaries_lsoa", "boundaries_ward", "boundaries_lad", "boundaries_pfa",
        "reoffending_national",
    }  # fmt: skip
    assert contract <= views


def test_police_columns_follow_the_contract(fixture_store_dir):
    store = Store(fixture_store_dir)
    street = store.street("northumbria", ["2022-10"])
    assert list(street.columns)[:6] == [
        "force",
        "month",
        "crime_id",
        "crime_type",
        "is_asb",
        "last_outcome_category",
    ]
    assert list(street.columns)[-2:] == ["source_file", "source_line"]
    assert set(street["month"]) == {"2022-10"}
    outcomes = store.outcomes("northumbria", ["2022-10", "2022-11"])
    assert set(outcomes["month"]) == {"2022-10", "2022-11"}
    assert "outcome_type" in outcomes.columns
    ss = store.stop_search("northumbria")
    assert str(ss["datetime"].dtype).startswith("datetime64")
    assert {"officer_defined_ethnicity", "self_defined_ethnicity", "lsoa21_code"} <= set(ss.columns)


def test_months_forces_and_filters(fixture_raw_dir, fixture_store_dir):
    store = Store(fixture_store_dir)
    assert store.forces() == ["durham", "northumbria"]
    months = sorted(p.name for p in (fixture_raw_dir / "police").iterdir())
    assert store.months("northumbria", "stop_search") == months
    assert len(store.months("durham", "street")) == 2
    assert store.months("durham", "outcomes") == []
    with pytest.raises(CrimeplanError):
        store.months("northumbria", "crimes")
    with pytest.raises(CrimeplanError):
        store.table("no_such_table")


def test_boundaries_and_lsoa_by_force(fixture_store_dir):
    store = Store(fixture_store_dir)
    lsoa = store.boundaries("lsoa", "northumbria")
    assert len(lsoa) == 12 and lsoa.crs.to_epsg() == 4326
    assert {"code", "name", "geometry", "lad_code"} <= set(lsoa.columns)
    assert len(store.boundaries("ward", "northumbria")) == 4
    assert sorted(store.boundaries("lad", "northumbria")["code"]) == ["E06000057", "E08000021"]
    assert store.boundaries("pfa", "durham")["code"].tolist() == ["E23000008"]
    assert len(store.lsoa("northumbria")) == 12 and len(store.lsoa()) == 14


def test_inputs_list_every_raw_file_with_hash(fixture_raw_dir, fixture_store_dir):
    inputs = Store(fixture_store_dir).inputs().set_index("path")
    files = [p for p in fixture_raw_dir.rglob("*") if p.is_file()]
    assert sorted(inputs.index) == sorted(p.relative_to(fixture_raw_dir).as_posix() for p in files)
    for p in files[:10]:
        rel = p.relative_to(fixture_raw_dir).as_posix()
        assert inputs.loc[rel, "sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
        assert inputs.loc[rel, "bytes"] == p.stat().st_size


def test_quality_filter(fixture_store_dir):
    q = Store(fixture_store_dir).quality("northumbria", ["2022-10"])
    assert sorted(q["kind"]) == ["outcomes", "stop_search", "street"]
    assert set(q["month"]) == {"2022-10"}


def test_reference_population_tables(fixture_raw_dir, fixture_store_dir):
    store = Store(fixture_store_dir)
    age = store.table("population_lsoa_age")
    path = fixture_raw_dir / "reference/population/census21_pop_northumbria_lsoa21.csv"
    with open(path, newline="") as fh:
        total = sum(float(r["usual_residents"]) for r in csv.DictReader(fh))
    assert age["population"].sum() == total
    eth = store.table("population_lad_ethnicity")
    assert len(eth) == 3 * 19 and set(eth["broad_group"]) == {
        "Asian",
        "Black",
        "Mixed",
        "White",
        "Other",
    }


def test_print_status_shows_coverage(fixture_raw_dir, tmp_path, capsys):
    from analysis.ingest import ingest

    raw = Path(__import__("shutil").copytree(fixture_raw_dir, tmp_path / "raw"))
    (raw / "police/2022-07/2022-07-northumbria-street.csv").unlink()
    ingest(raw, tmp_path / "p")
    print_status(tmp_path / "p")
    out = capsys.readouterr().out
    assert "northumbria / street" in out and "MISSING" in out
    assert "ledger totals" in out and "quarantine by reason" in out


def test_ingest_keeps_a_snapshot_a_reader_holds(tmp_path):
    """A run reading snapshot A while an ingest makes snapshot B: A survives until released."""
    from fixture_tree import write_fixture_raw

    from analysis.ingest import ingest

    raw = write_fixture_raw(tmp_path / "raw")
    processed = tmp_path / "p"
    first = ingest(raw, processed)
    pinned = Store(processed / "snapshots" / first.snapshot_id)  # how the runner pins one
    assert pinned.snapshot_id == first.snapshot_id
    street = sorted((raw / "police").rglob("*-street.csv"))[0]
    lines = street.read_text(encoding="utf-8").splitlines()

    def grow() -> None:  # a changed input makes a new snapshot
        with street.open("a", encoding="utf-8", newline="") as handle:
            handle.write(lines[-1] + "\r\n")  # the file's own CRLF endings

    grow()
    second = ingest(raw, processed)
    assert second.snapshot_id != first.snapshot_id
    assert pinned.snapshot_dir.is_dir()
    assert len(pinned.street(pinned.forces()[0])) > 0  # still readable mid-run
    pinned.close()
    grow()
    third = ingest(raw, processed)
    snapshots = sorted(p.name for p in (processed / "snapshots").iterdir())
    assert snapshots == [third.snapshot_id]
