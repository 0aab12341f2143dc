"""The synthetic raw tree: real layouts and formats, deterministic, tiny, fast."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from fixture_tree import (
    CRIME_TYPES,
    DEFAULT_MONTHS,
    MERGED_2011,
    SPLIT_2011,
    write_fixture_raw,
)

from analysis.catalog import load_catalog
from analysis.paths import SHARED_DATA_DIR


def test_deterministic_small_and_fast(tmp_path, fixture_raw_dir):
    start = time.perf_counter()
    write_fixture_raw(tmp_path / "a")
    assert time.perf_counter() - start < 2.0
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(fixture_raw_dir) for p in fixture_raw_dir.rglob("*") if p.is_file()
    )
    assert files_a == files_b
    assert all(
        (tmp_path / "a" / f).read_bytes() == (fixture_raw_dir / f).read_bytes() for f in files_a
    )
    assert sum((tmp_path / "a" / f).stat().st_size for f in files_a) < 1_000_000
    write_fixture_raw(tmp_path / "c", seed=1)
    other = (tmp_path / "c/police/2022-05/2022-05-northumbria-street.csv").read_bytes()
    assert other != (fixture_raw_dir / "police/2022-05/2022-05-northumbria-street.csv").read_bytes()


def test_police_files_have_real_headers_and_crlf(fixture_raw_dir):
    catalog = load_catalog()
    files = sorted((fixture_raw_dir / "police").rglob("*.csv"))
    assert len(files) > 40
    for path in files:
        m = catalog.file_pattern.fullmatch(path.name)
        assert m and path.parent.name == m["month"]
        data = path.read_bytes()
        assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n")
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert header == catalog.header(m["kind"])


def test_street_content_is_rich_enough(fixture_raw_dir):
    rows = []
    for path in sorted((fixture_raw_dir / "police").rglob("*-northumbria-street.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    assert {r["Crime type"] for r in rows} == set(CRIME_TYPES)
    assert all((r["Crime ID"] == "") == (r["Crime type"] == "Anti-social behaviour") for r in rows)
    assert any(r["LSOA code"] == "" for r in rows)
    assert sorted({r["Month"] for r in rows}) == list(DEFAULT_MONTHS)
    assert any(r["LSOA code"] == SPLIT_2011 for r in rows)
    assert any(r["LSOA code"] in MERGED_2011 for r in rows)


@pytest.mark.realdata
def test_reference_files_mirror_real_layout(fixture_raw_dir):
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip("../shared/data absent")
    catalog = load_catalog()
    for key in catalog.reference:
        fixture_files = catalog.reference_files(fixture_raw_dir, key)
        real_files = catalog.reference_files(SHARED_DATA_DIR, key)
        if not fixture_files:
            continue
        real = real_files[0]
        fake = fixture_files[0]
        if real.suffix == ".csv":
            assert fake.read_bytes()[:3] == real.read_bytes()[:3] or (
                real.read_bytes()[:3] != b"\xef\xbb\xbf"
                and fake.read_bytes()[:3] != b"\xef\xbb\xbf"
            ), key
            with open(real, newline="", encoding="utf-8-sig") as fh:
                real_header = next(csv.reader(fh))
            with open(fake, newline="", encoding="utf-8-sig") as fh:
                fake_header = next(csv.reader(fh))
            assert set(fake_header) <= set(real_header), key
    assert Path(fixture_raw_dir / "reference").is_dir()
