"""Ingest speed paths: background hashing on a first build, linked reference tables, one parse."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.catalog import load_catalog
from analysis.ingest import build, ingest, police
from analysis.store import Store

STREET = Path("police/2022-05/2022-05-northumbria-street.csv")


@pytest.fixture
def raw(fixture_raw_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture_raw_dir, tmp_path / "raw"))


def test_first_build_ledger_and_inputs_carry_every_file_hash(raw, tmp_path):
    processed = tmp_path / "p"
    ingest(raw, processed)
    ledger = Store(processed).ledger()
    assert len(ledger) > 0
    for rel, sha in zip(ledger["source_file"], ledger["sha256"], strict=True):
        assert sha == hashlib.sha256((raw / rel).read_bytes()).hexdigest(), rel
    snap = processed / "snapshots" / (processed / "CURRENT").read_text().strip()
    inputs = pd.read_parquet(snap / "inputs.parquet").set_index("path")
    police_files = sorted(p.relative_to(raw).as_posix() for p in (raw / "police").rglob("*.csv"))
    assert set(police_files) <= set(inputs.index)
    for rel in police_files:
        assert inputs.loc[rel, "sha256"] == hashlib.sha256((raw / rel).read_bytes()).hexdigest()


def test_unchanged_reference_is_linked_not_rebuilt(raw, tmp_path, monkeypatch):
    processed = tmp_path / "p"
    first = ingest(raw, processed)
    first_snap = processed / "snapshots" / first.snapshot_id
    names = json.loads((first_snap / "manifest.json").read_text())["reference_tables"]
    assert {"lsoa", "lsoa_2011_2021", "forces", "boundaries_lsoa"} <= set(names)
    before = {n: pd.read_parquet(first_snap / f"{n}.parquet") for n in names}
    inodes = {n: (first_snap / f"{n}.parquet").stat().st_ino for n in names}

    def no_loading(*args, **kwargs):
        raise AssertionError("reference data was re-read although its inputs are unchanged")

    monkeypatch.setattr(build, "load_reference", no_loading)
    lines = (raw / STREET).read_bytes().split(b"\r\n")
    (raw / STREET).write_bytes(b"\r\n".join(lines[:-3] + [b""]))  # drop the last 2 rows
    second = ingest(raw, processed)
    assert second.changed and second.files_parsed == 1
    snap = processed / "snapshots" / second.snapshot_id
    for name in names:
        assert (snap / f"{name}.parquet").stat().st_ino == inodes[name], name
        pd.testing.assert_frame_equal(pd.read_parquet(snap / f"{name}.parquet"), before[name])
    ledger = Store(processed).ledger().set_index("source_file")
    assert ledger.loc[STREET.as_posix(), "rows_read"] == len(lines) - 4  # header, 2 dropped, ""


def test_changed_reference_is_rebuilt(raw, tmp_path, monkeypatch):
    processed = tmp_path / "p"
    ingest(raw, processed)
    calls = []
    real = build.load_reference

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "load_reference", counting)
    (raw / STREET).write_bytes((raw / STREET).read_bytes())  # same police bytes, new mtime
    ingest(raw, processed)
    assert calls == []  # up to date: nothing loaded
    bridge = load_catalog().reference_files(raw, "lsoa11_lsoa21")[0]
    bridge.write_bytes(bridge.read_bytes() + b"\r\n")  # new bytes (a blank line), same rows
    report = ingest(raw, processed, accept_reference_change=True)  # differs from its pin
    assert report.changed and report.files_parsed == report.files
    assert calls == [1]
    manifest = json.loads(
        (processed / "snapshots" / report.snapshot_id / "manifest.json").read_text()
    )
    assert [c["path"] for c in manifest["accepted_reference_changes"]] == [
        bridge.relative_to(raw).as_posix()
    ]


def test_each_police_csv_is_parsed_once(raw, tmp_path, monkeypatch):
    """Every police file is in exactly one batch (one stage_files call), whatever its reads."""
    staged = []
    real = police.stage_files

    def counting(con, kind, files, header, *args):
        staged.extend(f.rel for f in files)
        return real(con, kind, files, header, *args)

    monkeypatch.setattr(police, "stage_files", counting)
    with open(raw / STREET, newline="", encoding="utf-8-sig") as fh:
        row = list(csv.reader(fh))[1]
    with open(raw / STREET, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow([*row[:4], "-1.6", "40.0", *row[6:]])
    report = ingest(raw, tmp_path / "p")
    assert report.quarantined_by_reason.get("coordinates-outside-uk") == 1
    n_files = len(list((raw / "police").rglob("*.csv")))
    assert len(staged) == n_files and len(set(staged)) == n_files
    assert report.rows_read == report.rows_loaded + report.rows_quarantined


def test_a_new_reference_loader_rebuilds_instead_of_linking(raw, tmp_path, monkeypatch):
    processed = tmp_path / "p"
    ingest(raw, processed)
    extra = pd.DataFrame({"code": ["X1", "X2"], "value": [1, 2]})
    monkeypatch.setitem(build.REFERENCE_LOADERS, "extra_table", lambda raw_dir, catalog: {
        "extra_table": extra
    })  # fmt: skip
    lines = (raw / STREET).read_bytes().split(b"\r\n")
    (raw / STREET).write_bytes(b"\r\n".join(lines[:-3] + [b""]))  # a police change as well
    report = ingest(raw, processed)
    snap = processed / "snapshots" / report.snapshot_id
    assert "extra_table" in report.reference_tables
    pd.testing.assert_frame_equal(pd.read_parquet(snap / "extra_table.parquet"), extra)


def test_wrongly_predicted_vintage_is_measured_and_written_again(raw, tmp_path, monkeypatch):
    """Street files are read once with predicted LSOA vintages; a wrong prediction is caught
    by the read-back (vintages measured from every row) and the batch is written again."""
    expected = Store(ingest(raw, tmp_path / "right").processed_dir).query("SELECT * FROM street")
    writes = []
    real_write = build._write_part

    def counting(con, kind, part):
        writes.append(kind)
        return real_write(con, kind, part)

    # every file predicted 2021: wrong for the files whose codes are 2011 codes only
    monkeypatch.setattr(police, "predict_vintages", lambda files, *a: {f.rel: None for f in files})
    monkeypatch.setattr(build, "_write_part", counting)
    got = Store(ingest(raw, tmp_path / "wrong").processed_dir).query("SELECT * FROM street")
    from analysis.ingest.reference import load_reference

    reference = load_reference(raw, load_catalog())
    codes11 = set(reference["lsoa_2011_2021"]["lsoa11_code"])
    codes21 = set(reference["lsoa"]["lsoa21_code"])
    files_2011 = set()  # files with codes only in 2011 and none only in 2021 (csv module)
    for path in (raw / "police").rglob("*-street.csv"):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            codes = {row["LSOA code"] for row in csv.DictReader(fh)}
        if codes & (codes11 - codes21) and not codes & (codes21 - codes11):
            files_2011.add(path.relative_to(raw).as_posix())
    assert files_2011
    n_parts = len(list((tmp_path / "wrong").glob("snapshots/*/street/part-*.parquet")))
    assert writes.count("street") == 2 * n_parts  # the fixture's one street batch, twice
    both = got[got["source_file"].isin(files_2011) & got["lsoa_code_raw"].isin(codes11 & codes21)]
    assert len(both) and set(both["lsoa_vintage"]) == {2011}
    pd.testing.assert_frame_equal(
        got.sort_values(["source_file", "source_line"], ignore_index=True),
        expected.sort_values(["source_file", "source_line"], ignore_index=True),
    )


def test_split_locator_keeps_the_match_sjoin_keeps(fixture_raw_dir):
    """Points of split or irregular 2011 codes get the child a geopandas ``sjoin`` (within,
    first match) gives, including points outside every child and on a child's edge."""
    import geopandas as gpd
    import numpy as np

    from analysis.ingest.reference import load_reference

    reference = load_reference(fixture_raw_dir, load_catalog())
    bridge, bounds = reference["lsoa_2011_2021"], reference["boundaries_lsoa"]
    split = bridge[bridge["chgind"].isin(["S", "X"])]
    children = bounds.merge(split, left_on="code", right_on="lsoa21_code")
    assert len(children) >= 2
    rng = np.random.default_rng(7)
    points = []
    for code11, geom in zip(children["lsoa11_code"], children["geometry"], strict=True):
        x0, y0, x1, y1 = geom.bounds
        pts = rng.uniform([x0, y0], [x1, y1], size=(20, 2))
        points += [(code11, float(x), float(y)) for x, y in pts]
        vx, vy = geom.exterior.coords[0] if geom.geom_type == "Polygon" else (x0, y0)
        points.append((code11, float(vx), float(vy)))  # on the edge: in no child
    frame = pd.DataFrame(points, columns=["code", "longitude", "latitude"]).drop_duplicates()
    polys = gpd.GeoDataFrame(
        children[["lsoa11_code", "lsoa21_code"]], geometry=children["geometry"], crs=4326
    )
    geo = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326
    )
    hit = gpd.sjoin(geo, polys, predicate="within")
    hit = hit[hit["code"] == hit["lsoa11_code"]]
    hit = hit[~hit.index.duplicated(keep="first")]
    expected = dict.fromkeys(map(tuple, frame.itertuples(index=False)))
    for code, x, y, child in zip(
        hit["code"], hit["longitude"], hit["latitude"], hit["lsoa21_code"], strict=True
    ):
        expected[(code, x, y)] = child
    assert 0 < sum(v is not None for v in expected.values()) < len(expected)
    locator = police.SplitLocator(bounds, bridge)
    keys = list(expected)
    assert [locator.locate(*k) for k in keys] == [expected[k] for k in keys]
    assert [locator.locate(*k) for k in keys] == [expected[k] for k in keys]  # from the cache


def test_a_category_police_uk_never_used_is_stored_as_written(raw, tmp_path, monkeypatch):
    """Crime types and outcome categories are written from ENUM types seeded with the known
    police.uk values; a new value (here in a street file, and one only in a quarantined row)
    makes the batch be written again with it added, and is stored as the CSV has it."""
    with open(raw / STREET, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    ct, lo = header.index("Crime type"), header.index("Last outcome category")
    crime = next(r for r in rows[1:] if r[0] and r[ct] != police.ASB)  # has a Crime ID
    new = crime[:]
    new[ct], new[lo] = "Fraud (new category)", "Referred to another force; outcome pending"
    bad = crime[:]
    bad[ct], bad[4], bad[5] = "Only in a quarantined row", "-1.6", "40.0"  # outside the UK
    with open(raw / STREET, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([new, bad])
    writes = []
    real_write = build._write_part

    def counting(con, kind, part):
        writes.append(kind)
        return real_write(con, kind, part)

    monkeypatch.setattr(build, "_write_part", counting)
    report = ingest(raw, tmp_path / "p")
    assert report.quarantined_by_reason == {"coordinates-outside-uk": 1}
    street = Store(tmp_path / "p").query("SELECT * FROM street")
    line = len(rows) + 1  # the appended row: header is line 1
    got = street[(street["source_file"] == STREET.as_posix()) & (street["source_line"] == line)]
    assert got[["crime_type", "last_outcome_category"]].values.tolist() == [
        ["Fraud (new category)", "Referred to another force; outcome pending"]
    ]
    assert writes.count("street") == 2  # the fixture's one street batch, written again once
    expected = {r[ct] for r in rows[1:]} | {"Fraud (new category)"}
    assert set(street["crime_type"]) == expected
    assert set(police.CATEGORIES["crime_type"]) >= {r[ct] for r in rows[1:]}  # seeds cover it


def test_duplicate_crime_ids_are_counted_per_file(raw, tmp_path):
    """Street duplicates are looked for once per part (distinct hashes); when any repeat, every
    file is counted exactly: rows whose Crime ID repeats an earlier row of the same file. A
    Crime ID found in two files is not a duplicate of either."""
    street = sorted((raw / "police").rglob("*-street.csv"))
    assert len(street) >= 2
    with open(street[0], newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    crimes = [r for r in rows[1:] if r[0]]
    with open(street[0], "a", newline="", encoding="utf-8") as fh:  # two repeats of one ID,
        csv.writer(fh, lineterminator="\r\n").writerows([crimes[0], crimes[0], crimes[1]])
    other = [crimes[2][0], street[1].name[:7], *crimes[2][2:]]  # an ID of the first file
    with open(street[1], "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow(other)
    expected = {}
    for path in street:  # independent count with the csv module
        with open(path, newline="", encoding="utf-8-sig") as fh:
            ids = [r["Crime ID"].strip() for r in csv.DictReader(fh) if r["Crime ID"].strip()]
        expected[path.relative_to(raw).as_posix()] = len(ids) - len(set(ids))
    assert expected[street[0].relative_to(raw).as_posix()] == 3
    ingest(raw, tmp_path / "p")
    quality = Store(tmp_path / "p").quality()
    got = quality[quality["kind"] == "street"]
    for path in street:
        force, month = path.name.split("-", 2)[2].rsplit("-street", 1)[0], path.name[:7]
        row = got[(got["force"] == force) & (got["month"] == month)]
        assert row["duplicate_crime_ids"].tolist() == [expected[path.relative_to(raw).as_posix()]]


def test_trimmed_equals_duckdb_trim_on_every_character():
    """``police.trimmed`` skips ``trim`` on ASCII text without a space: equal to ``trim`` for
    every code point below U+3100 at either end (spaces, NBSP, ideographic space, tabs...)."""
    import duckdb

    con = duckdb.connect()
    values = [f"{chr(i)}ab{chr(i)}" for i in range(1, 0x3100)] + ["", " ", "a b", " x "]
    values += [f"ab{chr(i)}" for i in range(1, 0x3100)] + [f"{chr(0x3000)}ID"]
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS s", [values])
    differ = con.execute(
        f"SELECT count(*) FROM t WHERE trim(s) IS DISTINCT FROM ({police.trimmed('s')})"
    ).fetchone()[0]
    changed = con.execute("SELECT count(*) FROM t WHERE trim(s) <> s").fetchone()[0]
    assert differ == 0
    assert changed > 30  # the values trim changes are among them (spaces of several kinds)
