"""Ingest on the synthetic tree: quarantine, ledger, harmonisation, idempotency, incremental, atomicity."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from fixture_tree import MERGED_2011, MERGED_CHILD, SPLIT_2011, SPLIT_CHILDREN
from shapely.geometry import Point, shape

from analysis.catalog import load_catalog
from analysis.ingest import build, ingest
from analysis.store import Store

STREET = Path("police/2022-05/2022-05-northumbria-street.csv")
SEARCH = Path("police/2022-05/2022-05-northumbria-stop-and-search.csv")


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))[1:]


@pytest.fixture
def raw(fixture_raw_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture_raw_dir, tmp_path / "raw"))


def _append(path: Path, rows: list[list[str]]) -> list[int]:
    """Append CSV rows (CRLF); return their file line numbers."""
    first = len(
        path.read_bytes().split(b"\r\n")
    )  # header + n rows + trailing empty -> next line no.
    with open(path, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return list(range(first, first + len(rows)))


def test_quarantine_reasons_and_ledger_balance(raw, tmp_path):
    base = next(r for r in _rows(raw / STREET) if r[9] == "Burglary")
    asb = next(r for r in _rows(raw / STREET) if r[9] == "Anti-social behaviour")
    bad_street = [
        [base[0][:-1] + "1", *base[1:4], "-1.6", "40.0", *base[6:]],  # latitude south of the UK
        [base[0][:-1] + "2", *base[1:4], "-1.6", "", *base[6:]],  # only one coordinate
        [base[0][:-1] + "3", *base[1:7], "E01999999", *base[8:]],  # unknown LSOA code
        ["", *base[1:9], "Burglary", *base[10:]],  # non-ASB without Crime ID
        ["", *asb[1:]],  # valid ASB row (loads)
    ]
    street_lines = _append(raw / STREET, bad_street)
    search = _rows(raw / SEARCH)[0]
    search_lines = _append(raw / SEARCH, [[*search[:4], "62.5", "-1.6", *search[6:]]])
    processed = tmp_path / "processed"
    report = ingest(raw, processed)
    store = Store(processed)
    q = store.quarantine()
    mine = q[q["source_file"] == STREET.as_posix()].sort_values("source_line")
    assert mine["source_line"].tolist() == street_lines[:4]
    assert mine["reason"].tolist() == [
        "coordinates-outside-uk",
        "only-one-coordinate",
        "unknown-lsoa",
        "missing-crime-id",
    ]
    assert json.loads(mine["record"].iloc[2])["LSOA code"] == "E01999999"
    s = q[q["source_file"] == SEARCH.as_posix()]
    assert s["source_line"].tolist() == search_lines and s["reason"].tolist() == [
        "coordinates-outside-uk"
    ]
    ledger = store.ledger().set_index("source_file")
    for rel, n_bad in ((STREET, 4), (SEARCH, 1)):
        row = ledger.loc[rel.as_posix()]
        assert row["rows_read"] == len(_rows(raw / rel))
        assert row["rows_quarantined"] == n_bad
        assert row["rows_loaded"] == len(_rows(raw / rel)) - n_bad
    assert (ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"]).all()
    assert report.rows_quarantined == 5
    assert report.quarantined_by_reason["unknown-lsoa"] == 1
    loaded_last = store.query(
        "SELECT crime_id, is_asb FROM street WHERE source_file = ? AND source_line = ?",
        [STREET.as_posix(), street_lines[4]],
    )
    assert loaded_last["crime_id"].isna().all() and loaded_last["is_asb"].all()


def test_every_row_accounted_for(fixture_raw_dir, fixture_store_dir):
    store = Store(fixture_store_dir)
    ledger = store.ledger()
    police = sorted((fixture_raw_dir / "police").rglob("*.csv"))
    assert len(ledger) == len(police)
    counts = {p.relative_to(fixture_raw_dir).as_posix(): len(_rows(p)) for p in police}
    assert dict(zip(ledger["source_file"], ledger["rows_read"], strict=True)) == counts
    loaded = store.query(
        "SELECT source_file, count(*) AS n FROM (SELECT source_file FROM street UNION ALL "
        "SELECT source_file FROM outcomes UNION ALL SELECT source_file FROM stop_search) GROUP BY 1"
    )
    assert dict(zip(loaded["source_file"], loaded["n"], strict=True)) == dict(
        zip(ledger["source_file"], ledger["rows_loaded"], strict=True)
    )


def test_source_line_points_at_the_raw_row(fixture_raw_dir, fixture_store_dir):
    store = Store(fixture_store_dir)
    rows = _rows(fixture_raw_dir / STREET)
    got = store.street("northumbria", ["2022-05"])
    for rec in got.itertuples():
        raw = rows[rec.source_line - 2]
        assert raw[0] == (rec.crime_id if isinstance(rec.crime_id, str) else "")
        assert raw[9] == rec.crime_type
        assert raw[7] == (rec.lsoa_code_raw if isinstance(rec.lsoa_code_raw, str) else "")


def _polygons(raw: Path) -> dict[str, object]:
    out = {}
    for path in (raw / "reference/boundaries/lsoa2021_bgc_by_lad").glob("*.geojson"):
        for feat in json.loads(path.read_text())["features"]:
            out[feat["properties"]["LSOA21CD"]] = shape(feat["geometry"])
    return out


def test_lsoa_harmonisation(fixture_raw_dir, fixture_store_dir):
    street = Store(fixture_store_dir).street("northumbria")
    polys = _polygons(fixture_raw_dir)
    split = street[street["lsoa_code_raw"] == SPLIT_2011]
    assert set(split["lsoa_allocation"]) == {"split-point", "split-population"}
    for rec in split.itertuples():
        inside = [
            c for c in SPLIT_CHILDREN if polys[c].contains(Point(rec.longitude, rec.latitude))
        ]
        if inside:
            assert rec.lsoa_allocation == "split-point" and rec.lsoa21_code == inside[0]
        else:
            assert rec.lsoa_allocation == "split-population"
    # split-population: the child with the larger Census 2021 population (read independently)
    pop = Counter()
    for r in _rows(fixture_raw_dir / load_catalog().reference["population_lsoa21_age"]["path"]):
        pop[r[0]] += float(r[3])
    biggest = max(SPLIT_CHILDREN, key=lambda c: pop[c])
    assert set(split.loc[split["lsoa_allocation"] == "split-population", "lsoa21_code"]) == {
        biggest
    }
    merged = street[street["lsoa_code_raw"].isin(MERGED_2011)]
    assert len(merged) and set(merged["lsoa21_code"]) == {MERGED_CHILD}
    assert set(merged["lsoa_allocation"]) == {"merged"}
    new = street[street["month"] >= "2023-01"].dropna(subset=["lsoa_code_raw"])
    assert (new["lsoa21_code"] == new["lsoa_code_raw"]).all()
    assert set(new["lsoa_allocation"]) == {"2021-code"} and set(new["lsoa_vintage"]) == {2021}
    old = street[street["month"] < "2023-01"].dropna(subset=["lsoa_code_raw"])
    assert set(old["lsoa_vintage"]) == {2011}
    unchanged = old[~old["lsoa_code_raw"].isin([SPLIT_2011, *MERGED_2011])]
    assert (unchanged["lsoa21_code"] == unchanged["lsoa_code_raw"]).all()
    noloc = street[street["lsoa_code_raw"].isna()]
    assert len(noloc) and set(noloc["lsoa_allocation"]) == {"no-location"}
    assert noloc["lsoa21_code"].isna().all() and noloc["in_force_area"].isna().all()


def test_in_force_area_and_geography(fixture_store_dir):
    store = Store(fixture_store_dir)
    street = store.street("northumbria").dropna(subset=["lsoa21_code"])
    own = {"E08000021", "E06000057"}
    assert (street["in_force_area"] == street["lad_code"].isin(own)).all()
    assert (~street["in_force_area"]).sum() > 0
    lsoa = store.lsoa().set_index("lsoa21_code")
    assert (
        street["ward_code"].to_numpy() == lsoa.loc[street["lsoa21_code"], "ward_code"].to_numpy()
    ).all()
    searches = store.stop_search("northumbria")
    located = searches.dropna(subset=["longitude"])
    assert located["lsoa21_code"].notna().all()
    assert searches.loc[searches["longitude"].isna(), "lsoa21_code"].isna().all()


def test_stop_search_point_in_polygon(fixture_raw_dir, fixture_store_dir):
    polys = _polygons(fixture_raw_dir)
    searches = Store(fixture_store_dir).stop_search("northumbria").dropna(subset=["longitude"])
    for rec in searches.head(60).itertuples():
        assert polys[rec.lsoa21_code].contains(Point(rec.longitude, rec.latitude))


def test_quality_table(fixture_raw_dir, fixture_store_dir):
    store = Store(fixture_store_dir)
    q = store.quality("northumbria").set_index(["kind", "month"])
    rows = _rows(fixture_raw_dir / STREET)
    row = q.loc[("street", "2022-05")]
    assert bool(row["present"]) and row["rows"] == len(rows)
    assert row["asb_rows"] == sum(r[9] == "Anti-social behaviour" for r in rows)
    assert row["no_location_rows"] == sum(r[7] == "" for r in rows)
    assert row["lsoa_vintage"] == 2011
    assert row["outside_force_rows"] == sum(r[7] in {"E01990021", "E01990022"} for r in rows)
    assert q.loc[("street", "2023-02"), "lsoa_vintage"] == 2021
    assert store.months("northumbria", "street") == sorted(
        p.name for p in (fixture_raw_dir / "police").iterdir()
    )


def test_quality_marks_missing_month(raw, tmp_path):
    (raw / "police/2022-07/2022-07-northumbria-street.csv").unlink()
    ingest(raw, tmp_path / "p")
    q = Store(tmp_path / "p").quality("northumbria").set_index(["kind", "month"])
    assert not q.loc[("street", "2022-07"), "present"]
    assert q.loc[("street", "2022-07"), "rows"] == 0
    assert q.loc[("outcomes", "2022-07"), "present"]


def test_second_run_does_no_work_and_change_reparses_one_file(raw, tmp_path):
    processed = tmp_path / "p"
    first = ingest(raw, processed)
    assert first.changed and first.files_parsed == first.files
    again = ingest(raw, processed)
    assert not again.changed and again.snapshot_id == first.snapshot_id and again.files_parsed == 0
    snap1 = processed / "snapshots" / first.snapshot_id
    inodes = {p.relative_to(snap1): p.stat().st_ino for p in snap1.glob("outcomes/part-*")}
    assert inodes
    before = Store(processed).street("northumbria", ["2022-03"])
    lines = (raw / STREET).read_bytes().split(b"\r\n")
    (raw / STREET).write_bytes(b"\r\n".join(lines[:-4] + [b""]))  # drop the last 3 rows
    third = ingest(raw, processed)
    assert third.changed and third.files_parsed == 1 and third.files_reused == first.files - 1
    assert third.snapshot_id != first.snapshot_id
    assert sorted(p.name for p in (processed / "snapshots").iterdir()) == [third.snapshot_id]
    snap3 = processed / "snapshots" / third.snapshot_id
    for rel, inode in inodes.items():  # parts of unchanged files: hard-linked, not rewritten
        assert (snap3 / rel).stat().st_ino == inode
    after = Store(processed).street("northumbria", ["2022-03"])  # street part rewritten
    pd.testing.assert_frame_equal(after, before)
    ledger = Store(processed).ledger().set_index("source_file")
    assert ledger.loc[STREET.as_posix(), "rows_read"] == len(_rows(raw / STREET))
    assert third.rows_read == first.rows_read - 3
    assert third.rows_read == third.rows_loaded + third.rows_quarantined


def test_crash_mid_build_leaves_previous_store(raw, tmp_path, monkeypatch):
    processed = tmp_path / "p"
    first = ingest(raw, processed)
    before = Store(processed).ledger()
    lines = (raw / STREET).read_bytes().split(b"\r\n")
    (raw / STREET).write_bytes(b"\r\n".join(lines[:-2] + [b""]))

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash while writing quality")

    monkeypatch.setattr(build, "quality_table", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(raw, processed)
    assert (processed / "CURRENT").read_text().strip() == first.snapshot_id
    assert sorted(p.name for p in (processed / "snapshots").iterdir()) == [first.snapshot_id]
    assert Store(processed).ledger().equals(before)


def test_stale_half_written_snapshot_is_cleaned_next_run(raw, tmp_path):
    processed = tmp_path / "p"
    first = ingest(raw, processed)
    stale = processed / "snapshots" / "20990101T000000-dead00"
    (stale / "street").mkdir(parents=True)
    (stale / "street" / "part.parquet").write_bytes(b"half")
    (processed / ".work-20990101T000000-dead00").mkdir()
    (processed / "CURRENT.tmp-20990101T000000-dead00").write_text("20990101T000000-dead00")
    assert Store(processed).snapshot_dir.name == first.snapshot_id  # readers ignore the stale dir
    again = ingest(raw, processed)
    assert not again.changed
    assert sorted(p.name for p in processed.iterdir()) == [
        ".lock",
        "CURRENT",
        "readers",
        "snapshots",
    ]
    assert sorted(p.name for p in (processed / "snapshots").iterdir()) == [first.snapshot_id]


def test_unknown_force_ingests_with_null_in_force_area(raw, tmp_path):
    src = raw / STREET
    dst = raw / "police/2022-05/2022-05-pseudo-force-07-street.csv"
    shutil.copy(src, dst)
    report = ingest(raw, tmp_path / "p")
    assert any("pseudo-force-07" in w for w in report.warnings)
    street = Store(tmp_path / "p").street("pseudo-force-07")
    assert len(street) == len(_rows(src))
    assert street["in_force_area"].isna().all()
    assert street["lad_code"].notna().sum() > 0


def test_neighbour_force_has_its_own_area(fixture_store_dir):
    durham = Store(fixture_store_dir).street("durham")
    assert len(durham) and durham["in_force_area"].all()
    assert set(durham["lad_code"]) == {"E06000047"}


def test_concurrent_ingests_are_serialised(raw, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    processed = tmp_path / "p"
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: ingest(raw, processed), range(2)))
    assert sorted(r.changed for r in reports) == [False, True]
    assert reports[0].snapshot_id == reports[1].snapshot_id
    assert Store(processed).snapshot_dir.name == reports[0].snapshot_id
    assert len(list((processed / "snapshots").iterdir())) == 1


def test_header_only_file_is_a_present_month_with_no_rows(raw, tmp_path):
    path = raw / SEARCH
    path.write_bytes(path.read_bytes().split(b"\r\n", 1)[0] + b"\r\n")
    ingest(raw, tmp_path / "p")
    store = Store(tmp_path / "p")
    ledger = store.ledger().set_index("source_file")
    assert ledger.loc[
        SEARCH.as_posix(), ["rows_read", "rows_loaded", "rows_quarantined"]
    ].tolist() == [0, 0, 0]
    assert "2022-05" in store.months("northumbria", "stop_search")
    q = store.quality("northumbria", ["2022-05"]).set_index("kind")
    assert bool(q.loc["stop_search", "present"]) and q.loc["stop_search", "rows"] == 0
    assert store.stop_search("northumbria", ["2022-05"]).empty
