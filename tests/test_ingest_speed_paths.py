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

    def counting(con, kind, files, header, data_rows=None):
        staged.extend(f.rel for f in files)
        return real(con, kind, files, header, data_rows)

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
