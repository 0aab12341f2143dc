"""Real-data checks of the store built from ../shared/data; expectations computed here with csv."""

from __future__ import annotations

import csv
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from analysis.catalog import load_catalog
from analysis.ingest import ingest
from analysis.store import Store

pytestmark = pytest.mark.realdata

SIX_LADS = {"E08000021", "E08000037", "E08000022", "E08000023", "E08000024", "E06000057"}


def _police_files(raw: Path) -> list[Path]:
    pattern = load_catalog().file_pattern
    return sorted(p for p in (raw / "police").rglob("*.csv") if pattern.fullmatch(p.name))


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def store(real_store_dir: Path) -> Store:
    return Store(real_store_dir)


@pytest.fixture(scope="module")
def raw_rows(real_raw_dir: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {p.relative_to(real_raw_dir).as_posix(): _read(p) for p in _police_files(real_raw_dir)}


def _text(value: object) -> str:
    """A store string cell as it appeared in the CSV (missing -> empty string)."""
    return value if isinstance(value, str) else ""


def test_every_police_row_is_loaded_or_quarantined(store, raw_rows):
    ledger = store.ledger()
    assert sorted(ledger["source_file"]) == sorted(raw_rows)
    expected = {rel: len(rows) for rel, (_h, rows) in raw_rows.items()}
    assert dict(zip(ledger["source_file"], ledger["rows_read"], strict=True)) == expected
    assert (ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"]).all()
    loaded = store.query(
        "SELECT source_file, count(*) AS n FROM (SELECT source_file FROM street UNION ALL "
        "SELECT source_file FROM outcomes UNION ALL SELECT source_file FROM stop_search) GROUP BY 1"
    )
    quarantined = Counter(store.quarantine()["source_file"])
    got = dict(zip(loaded["source_file"], loaded["n"], strict=True))
    for rel, n in expected.items():
        assert got.get(rel, 0) + quarantined.get(rel, 0) == n, rel


def test_ledger_matches_published_manifest(store, real_raw_dir):
    """Cross-check against the row counts and hashes in police/manifest.csv (the data's own record)."""
    with open(real_raw_dir / "police" / "manifest.csv", newline="") as fh:
        manifest = {f"police/{r['file']}": r for r in csv.DictReader(fh)}
    ledger = store.ledger().set_index("source_file")
    for rel, row in manifest.items():
        assert ledger.loc[rel, "rows_read"] == int(row["rows"]), rel
        assert ledger.loc[rel, "sha256"] == row["sha256"], rel


def test_asb_rows_are_exactly_blank_crime_id_rows(store, raw_rows):
    blank = Counter()
    asb = Counter()
    for rel, (header, rows) in raw_rows.items():
        if not rel.endswith("-street.csv"):
            continue
        cid, ctype = header.index("Crime ID"), header.index("Crime type")
        blank[rel] = sum(r[cid] == "" for r in rows)
        asb[rel] = sum(r[ctype] == "Anti-social behaviour" for r in rows)
        assert blank[rel] == asb[rel], rel
    got = store.query(
        "SELECT source_file, count(*) FILTER (WHERE is_asb) AS asb, "
        "count(*) FILTER (WHERE crime_id IS NULL) AS blank FROM street GROUP BY 1"
    ).set_index("source_file")
    for rel in asb:
        assert got.loc[rel, "asb"] == asb[rel] and got.loc[rel, "blank"] == blank[rel], rel
    assert sum(asb.values()) > 100_000


def test_harmonised_codes_exist_in_ons_2021_lookup(store, real_raw_dir):
    path = real_raw_dir / load_catalog().reference["lsoa21_ward24_lad24"]["path"]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        codes21 = {r["LSOA21CD"] for r in csv.DictReader(fh)}
    assert len(codes21) == 35672
    for table in ("street", "outcomes", "stop_search"):
        used = set(
            store.query(f"SELECT DISTINCT lsoa21_code FROM {table} WHERE lsoa21_code IS NOT NULL")[
                "lsoa21_code"
            ]
        )
        assert used and used <= codes21, table
    no_code = store.query(
        "SELECT count(*) AS n FROM street WHERE lsoa_code_raw IS NOT NULL AND lsoa21_code IS NULL"
    )["n"].iloc[0]
    assert no_code == 0


def test_northumbria_out_of_force_rows_match_independent_count(store, raw_rows, real_raw_dir):
    ref = load_catalog().reference
    lad_of: dict[str, str] = {}
    with open(real_raw_dir / ref["lsoa11_lsoa21"]["path"], newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            lad_of[r["LSOA11CD"]] = r["LAD22CD"]
    with open(
        real_raw_dir / ref["lsoa21_ward24_lad24"]["path"], newline="", encoding="utf-8-sig"
    ) as fh:
        for r in csv.DictReader(fh):
            lad_of.setdefault(r["LSOA21CD"], r["LAD24CD"])
    outside = 0
    inside = 0
    for rel, (header, rows) in raw_rows.items():
        if "-northumbria-street" not in rel:
            continue
        col = header.index("LSOA code")
        for r in rows:
            if r[col]:
                if lad_of[r[col]] in SIX_LADS:
                    inside += 1
                else:
                    outside += 1
    got = store.query(
        "SELECT count(*) FILTER (WHERE in_force_area = false) AS outside, "
        "count(*) FILTER (WHERE in_force_area) AS inside, "
        "count(*) FILTER (WHERE in_force_area AND lad_code NOT IN "
        "('E08000021','E08000037','E08000022','E08000023','E08000024','E06000057')) AS wrong "
        "FROM street WHERE force = 'northumbria'"
    ).iloc[0]
    assert got["outside"] == outside and outside > 0
    assert got["inside"] == inside
    assert got["wrong"] == 0


def test_source_lines_point_at_raw_rows(store, raw_rows):
    rng = random.Random(7)
    for rel in rng.sample(sorted(r for r in raw_rows if r.endswith("-street.csv")), 4):
        header, rows = raw_rows[rel]
        got = store.query(
            "SELECT source_line, crime_id, location, crime_type FROM street WHERE source_file = ? "
            "USING SAMPLE 50 ROWS",
            [rel],
        )
        for rec in got.itertuples():
            raw = rows[rec.source_line - 2]
            assert raw[header.index("Crime ID")] == _text(rec.crime_id)
            assert raw[header.index("Location")] == _text(rec.location)
            assert raw[header.index("Crime type")] == rec.crime_type


def test_vintages_and_allocations(store):
    q = store.quality()
    street = q[(q["kind"] == "street") & q["present"]]
    assert set(street.loc[street["force"] == "northumbria", "lsoa_vintage"]) == {2011}
    assert set(street.loc[street["force"].isin(["durham", "cleveland"]), "lsoa_vintage"]) == {2021}
    alloc = store.query("SELECT lsoa_allocation, count(*) AS n FROM street GROUP BY 1").set_index(
        "lsoa_allocation"
    )["n"]
    assert {"unchanged", "merged", "split-point", "2021-code", "no-location"} <= set(alloc.index)
    missing = q[(q["force"] == "northumbria") & ~q["present"]]
    assert set(missing["month"]) == {"2022-01"}


def test_stop_search_points_fall_in_their_lsoa(store, real_raw_dir):
    import geopandas as gpd

    searches = store.stop_search("northumbria", ["2022-10"]).dropna(subset=["lsoa21_code"])
    polys = store.boundaries("lsoa").set_index("code")
    pts = gpd.GeoSeries(gpd.points_from_xy(searches["longitude"], searches["latitude"]), crs=4326)
    inside = [
        polys.loc[c, "geometry"].covers(p)
        for c, p in zip(searches["lsoa21_code"], pts, strict=True)
    ]
    assert all(inside) and len(inside) > 300


def test_force_lookup_covers_unnamed_forces(store):
    forces = store.table("forces")
    assert set(forces.loc[forces["force"] == "northumbria", "lad_code"]) == SIX_LADS
    assert "E08000025" in set(
        forces.loc[forces["force"] == "west-midlands", "lad_code"]
    )  # Birmingham
    pop = forces.loc[forces["force"] == "northumbria"].set_index("lad_code")["lad_population"]
    assert pop["E08000021"] == 300131  # Census 2021 TS007, Newcastle (reference SOURCES.md)


def test_reference_tables(store):
    eth = store.table("population_lad_ethnicity")
    assert eth.groupby("lad_code").size().eq(19).all()
    newcastle = eth[eth["lad_code"] == "E08000021"]
    assert newcastle["population"].sum() == 300127  # SOURCES.md 4d
    assert set(eth["broad_group"]) == {"Asian", "Black", "Mixed", "White", "Other"}
    lsoa = store.lsoa("northumbria")
    assert len(lsoa) == 927 and lsoa["population"].sum() == 1447785  # SOURCES.md 4a
    assert lsoa["urban_rural"].value_counts()["Urban"] == 820  # 811 + 9, SOURCES.md 3b
    assert lsoa["imd_decile"].between(1, 10).all()
    assert len(store.boundaries("ward", "northumbria")) == 177
    assert len(store.boundaries("lsoa", "northumbria")) == 927
    assert store.boundaries("pfa", "northumbria")["code"].tolist() == ["E23000007"]


def test_rerun_is_no_op_and_one_changed_file_reparses_only_it(
    real_raw_dir, real_store_dir, tmp_path
):
    assert not ingest(real_raw_dir, real_store_dir).changed
    raw = tmp_path / "raw"
    (raw / "police").mkdir(parents=True)
    os.symlink(real_raw_dir / "reference", raw / "reference")
    files = _police_files(real_raw_dir)
    for p in files:
        dst = raw / p.relative_to(real_raw_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(p, dst)
    target = raw / "police/northumbria/2022-10/2022-10-northumbria-street.csv"
    data = target.read_bytes().split(b"\r\n")
    target.unlink()
    target.write_bytes(b"\r\n".join(data[:-11] + [b""]))  # drop the last 10 rows
    processed = Path(shutil.copytree(real_store_dir, tmp_path / "p", copy_function=os.link))
    report = ingest(raw, processed)
    assert report.files_parsed == 1 and report.files_reused == len(files) - 1
    ledger = Store(processed).ledger().set_index("source_file")
    assert (
        ledger.loc["police/northumbria/2022-10/2022-10-northumbria-street.csv", "rows_read"]
        == len(data) - 12
    )
    before = Store(real_store_dir).ledger()
    assert report.rows_read == before["rows_read"].sum() - 10
    assert (ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"]).all()
