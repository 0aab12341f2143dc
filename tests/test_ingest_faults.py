"""Issue 14: every user-caused or environmental fault of an ingest gives one clear line (exit 2,
file:line where there is one) and leaves the previous store current and intact; nothing is lost
without a word. One test per case (docs/faults.md lists them)."""

from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from fixture_tree import write_local_pins
from typer.testing import CliRunner

from analysis.catalog import load_catalog
from analysis.cli import app
from analysis.errors import InputError
from analysis.ingest import build, checks, files, ingest
from analysis.store import Store

STREET = Path("police/2022-05/2022-05-northumbria-street.csv")
BOUNDARY = "reference/boundaries/lsoa2021_bgc_by_lad"


@pytest.fixture
def raw(fixture_raw_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture_raw_dir, tmp_path / "raw", symlinks=True))


@pytest.fixture
def store(fixture_store_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fixture_store_dir, tmp_path / "processed"))


def _state(processed: Path) -> tuple[str, list[str], list[str]]:
    """CURRENT, the snapshot folders and every other entry of the store folder."""
    current = (processed / "CURRENT").read_text()
    snaps = sorted(p.name for p in (processed / "snapshots").iterdir())
    others = sorted(p.name for p in processed.iterdir() if p.name not in {"snapshots", "readers"})
    return current, snaps, others


def _fails(raw: Path, store: Path, words: str, line: int | None = None, **options) -> InputError:
    before = _state(store)
    with pytest.raises(InputError) as info:
        ingest(raw, store, **options)
    err = info.value
    assert words in err.message, err.message
    if line is not None:
        assert err.line == line, str(err)
    assert "\n" not in str(err)
    assert _state(store) == before  # previous store current, nothing left behind
    assert not checks.verify_snapshot(store / "snapshots" / before[0].strip())
    return err


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")[:-1]


def _cli(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


# ------------------------------------------------------------------ line endings and lengths


def test_mixed_crlf_and_lf(raw, store):
    lines = _lines(raw / STREET)
    data = b"".join(line + (b"\n" if i == 6 else b"\r\n") for i, line in enumerate(lines))
    (raw / STREET).write_bytes(data)
    err = _fails(raw, store, "mixed CRLF and LF", line=7)
    assert err.path.endswith(str(STREET))


def test_cr_cr_lf(raw, store):
    lines = _lines(raw / STREET)
    data = b"".join(line + (b"\r\r\n" if i == 3 else b"\r\n") for i, line in enumerate(lines))
    (raw / STREET).write_bytes(data)
    _fails(raw, store, "\\r\\r\\n line ending", line=4)


def test_cr_only_line_endings(raw, store):
    (raw / STREET).write_bytes(b"".join(line + b"\r" for line in _lines(raw / STREET)) + b"\n")
    _fails(raw, store, "CR-only", line=1)


def test_field_of_50_mb_on_one_line_is_refused_not_dropped(raw, store):
    lines = _lines(raw / STREET)
    fields = lines[5].split(b",")
    fields[6] = b"x" * 50_000_000  # Location
    lines[5] = b",".join(fields)
    (raw / STREET).write_bytes(b"".join(line + b"\r\n" for line in lines))
    _fails(raw, store, "over the 1,048,576-byte line limit", line=6)


@pytest.mark.parametrize(
    "step, view, expected",
    [
        # the one numbered read of street files, which classifies and writes: the rows it
        # loads and quarantines are compared with the independent line count
        ("number_rows", "stage", "the CSV parser read"),
    ],
)
def test_parser_and_independent_count_must_agree(raw, store, monkeypatch, step, view, expected):
    """A parser that silently loses a row (as DuckDB did with a 50 MB field) is caught."""
    from analysis.ingest import police

    real = getattr(police, step)
    ids = [line.split(b",")[0].decode() for line in _lines(raw / STREET)[1:]]
    lost = next(i for i in ids if i and ids.count(i) == 1 and i != ids[-1])  # a unique Crime ID

    def lossy(con, kind, *args, **kwargs):
        real(con, kind, *args, **kwargs)
        if kind == "street":  # this read of the street files loses one row
            sql = con.execute(
                "SELECT sql FROM duckdb_views() WHERE view_name = ?", [f"{view}_{kind}"]
            ).fetchone()[0]
            con.execute(
                f"CREATE OR REPLACE VIEW {view}_{kind} AS SELECT * FROM ("
                + sql.split(" AS ", 1)[1].rstrip().rstrip(";")
                + f") WHERE c_crime_id IS DISTINCT FROM '{lost}'"
            )

    monkeypatch.setattr(police, step, lossy)
    (raw / STREET).write_bytes((raw / STREET).read_bytes() + _lines(raw / STREET)[-1] + b"\r\n")
    err = _fails(raw, store, expected)
    assert err.path.endswith(str(STREET))
    assert f"{len(_lines(raw / STREET)) - 1:,} data lines" in err.message
    assert f"read {len(_lines(raw / STREET)) - 2:,} rows" in err.message


def test_independent_count_equals_the_csv_module(fixture_raw_dir):
    for path in sorted((fixture_raw_dir / "police").rglob("*.csv"))[:12]:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            expected = sum(1 for _ in csv.reader(fh)) - 1
        assert files.count_records(path) == expected, path


def test_quoted_field_spanning_lines(raw, store):
    lines = _lines(raw / STREET)
    lines[8] = lines[8].replace(b"On or near", b'"On or near', 1)  # quote never closed
    (raw / STREET).write_bytes(b"".join(line + b"\r\n" for line in lines))
    _fails(raw, store, "quoted field spans lines", line=9)


# ------------------------------------------------------------------ police folder and names


def test_month_13_in_a_file_name(raw, store):
    bad = raw / "police" / "2022-13" / "2022-13-northumbria-street.csv"
    bad.parent.mkdir()
    shutil.copy(raw / STREET, bad)
    _fails(raw, store, "month 2022-13 in the file name is not a month")


def test_dangling_symlink_named_like_a_police_file(raw, store):
    (raw / "police" / "2022-05" / "2022-05-northumbria-outcomes.csv").unlink()
    (raw / "police" / "2022-05" / "2022-05-northumbria-outcomes.csv").symlink_to(
        raw / "nowhere.csv"
    )
    _fails(raw, store, "dangling symlink", allow_removal=True)


def test_empty_police_folder_is_an_error(raw, store):
    shutil.rmtree(raw / "police")
    (raw / "police").mkdir()
    _fails(raw, store, "no police files")


def test_missing_police_folder_is_an_error(raw, store):
    shutil.rmtree(raw / "police")
    _fails(raw, store, "no police folder")


def test_symlinked_month_and_force_folders_are_followed_loop_safe(raw, tmp_path, fixture_raw_dir):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    month = raw / "police" / "2022-05"
    shutil.move(month, outside / "2022-05")
    month.symlink_to(outside / "2022-05", target_is_directory=True)
    (outside / "2022-05" / "loop").symlink_to(raw / "police", target_is_directory=True)
    report = ingest(raw, tmp_path / "p")
    months = Store(tmp_path / "p").months("northumbria", "street")
    assert "2022-05" in months
    with open(month / STREET.name, newline="", encoding="utf-8") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    ledger = Store(tmp_path / "p").ledger().set_index("source_file")
    assert ledger.loc[STREET.as_posix(), "rows_read"] == rows
    assert report.files == len(list((fixture_raw_dir / "police").rglob("*.csv")))  # each once


def test_near_miss_names_warn_one_line_each(raw, tmp_path):
    shutil.copy(raw / STREET, raw / "police" / "2022-05" / "2022-05-Northumbria-Street.csv")
    (raw / "police" / "2022-05" / "2022-06-durham-street.csv").mkdir()
    report = ingest(raw, tmp_path / "p")
    near = [w for w in report.warnings if "Northumbria-Street" in w]
    folder = [w for w in report.warnings if "2022-06-durham-street.csv" in w]
    assert len(near) == 1 and "does not match the file-name pattern" in near[0]
    assert len(folder) == 1 and "folder named like a police file" in folder[0]
    assert all("\n" not in w for w in report.warnings)


# ------------------------------------------------------------------ store folder and disk


def test_processed_dir_that_is_a_file(raw, tmp_path):
    target = tmp_path / "store.txt"
    target.write_text("not a folder")
    code, lines = _cli("ingest", "--raw-dir", str(raw), "--processed-dir", str(target))
    assert code == 2 and len(lines) == 1 and "is a file, not a folder" in lines[0]
    assert target.read_text() == "not a folder"


def test_full_disk_keeps_the_old_store_and_cleans_up(raw, store, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build, "_write_part", full)
    (raw / STREET).write_bytes((raw / STREET).read_bytes() + _lines(raw / STREET)[-1] + b"\r\n")
    _fails(raw, store, "no space left on device")
    assert not list(store.glob(".work-*"))


def test_full_disk_inside_duckdb(raw, store, monkeypatch):
    import duckdb

    def full(*args, **kwargs):
        raise duckdb.IOException('Could not write file "x": No space left on device')

    monkeypatch.setattr(build, "_write_part", full)
    (raw / STREET).write_bytes((raw / STREET).read_bytes() + _lines(raw / STREET)[-1] + b"\r\n")
    _fails(raw, store, "no space left on device")


# ------------------------------------------------------------------ reference inputs


def test_truncated_gzip_reference_file(raw, store):
    path = load_catalog().reference_files(raw, "imd2019")[0]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    write_local_pins(raw)  # pinned as is: the parse must still catch it
    err = _fails(raw, store, "cannot parse reference CSV")
    assert err.path.endswith(".csv.gz")
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(path.read_bytes())


def test_missing_boundary_file_of_one_lad(raw, store):
    gone = next((raw / BOUNDARY).glob("*.geojson"))
    gone.unlink()
    err = _fails(raw, store, "is missing")
    assert err.path.endswith(gone.name)


def test_partial_boundary_coverage_of_a_force_is_refused(raw, store):
    forces = Store(store).table("forces")
    lads = sorted(forces.loc[forces["force"] == "northumbria", "lad_code"])
    gone = raw / BOUNDARY / f"{lads[0]}.geojson"
    gone.unlink()
    write_local_pins(raw)  # the tree's own list no longer names it: coverage must catch it
    err = _fails(raw, store, f"{len(lads) - 1} of its {len(lads)} local authorities")
    assert err.path.endswith(gone.name)


def test_truncated_lookup_differs_from_its_pin(raw, store):
    path = load_catalog().reference_files(raw, "lsoa11_lsoa21")[0]
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    err = _fails(raw, store, "differs from the reference/pins.yml pin")
    assert err.path == str(path) and "--accept-reference-change" in err.message


def test_accepted_reference_change_is_recorded(raw, store):
    path = load_catalog().reference_files(raw, "lsoa11_lsoa21")[0]
    path.write_bytes(path.read_bytes() + b"\r\n")
    report = ingest(raw, store, accept_reference_change=True)
    manifest = json.loads((store / "snapshots" / report.snapshot_id / "manifest.json").read_text())
    (change,) = manifest["accepted_reference_changes"]
    assert change["path"] == path.relative_to(raw).as_posix()
    assert change["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_catalog_pins_apply_without_local_pins(raw, store):
    """Without pins.yml the catalog's list applies: the synthetic tree lacks its named files."""
    (raw / checks.LOCAL_PINS).unlink()
    _fails(raw, store, "is missing (the catalog lists it")


# ------------------------------------------------------------------ removal


def test_dropping_a_month_is_refused_unless_allowed(raw, store):
    for path in (raw / "police" / "2022-05").iterdir():
        path.unlink()
    err = _fails(raw, store, "would remove")
    assert "2022-05" in err.message and "--allow-removal" in err.message
    report = ingest(raw, store, allow_removal=True)
    assert "2022-05" not in Store(store).months("northumbria", "street")
    assert report.changed


def test_dropping_a_force_is_refused(raw, store):
    for path in (raw / "police").rglob("*-durham-*.csv"):
        path.unlink()
    _fails(raw, store, "force durham (all its police files)")


# ------------------------------------------------------------------ store integrity


def _damage(store: Path) -> Path:
    sid = (store / "CURRENT").read_text().strip()
    victim = sorted((store / "snapshots" / sid / "street").rglob("*.parquet"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, valid magic
    victim.unlink()  # break the hard link shared with other copies
    victim.write_bytes(bytes(data))
    return victim


def test_manifest_checksums_every_snapshot_file(store):
    sid = (store / "CURRENT").read_text().strip()
    snap = store / "snapshots" / sid
    recorded = json.loads((snap / "manifest.json").read_text())["files"]
    on_disk = sorted(
        p.relative_to(snap).as_posix()
        for p in snap.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert sorted(recorded) == on_disk
    for rel in on_disk[:20]:
        assert recorded[rel]["sha256"] == hashlib.sha256((snap / rel).read_bytes()).hexdigest()


def test_status_check_detects_a_damaged_file(store):
    code, lines = _cli("status", "--processed-dir", str(store), "--check")
    assert code == 0, lines
    victim = _damage(store)
    code, lines = _cli("status", "--processed-dir", str(store), "--check")
    assert code == 1
    assert any(str(victim) in line and "sha256 differs" in line for line in lines)
    assert lines[-1].startswith("error: 1 damaged store file")


def test_repair_rebuilds_a_damaged_store(raw, store):
    _damage(store)
    report = ingest(raw, store, repair=True)
    assert report.changed and report.files_reused == 0
    assert checks.verify_store(store) == []


def test_normal_ingest_noticing_damage_rebuilds(raw, store):
    sid = (store / "CURRENT").read_text().strip()
    victim = sorted((store / "snapshots" / sid / "outcomes").rglob("*.parquet"))[0]
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data[: len(data) - 100])  # truncated: size and footer differ
    report = ingest(raw, store)
    assert report.changed and report.files_reused == 0
    assert any("store damaged" in w for w in report.warnings)
    assert checks.verify_store(store) == []


def test_status_on_a_damaged_store_is_one_line(store):
    sid = (store / "CURRENT").read_text().strip()
    (store / "snapshots" / sid / "ledger.parquet").write_bytes(b"PAR1 garbage")
    code, lines = _cli("status", "--processed-dir", str(store))
    assert code == 1 and len(lines) == 1 and "status --check" in lines[0]


# ------------------------------------------------------------------ paths are data


def test_paths_with_quotes_spaces_and_semicolons(fixture_raw_dir, tmp_path):
    weird = tmp_path / "a b'c; SELECT 1; --\"d"
    raw = Path(shutil.copytree(fixture_raw_dir, weird / "raw 'x';"))
    processed = weird / "proc'; COPY (SELECT 42) TO 'pwned.csv'; SELECT '"
    code, lines = _cli("ingest", "--raw-dir", str(raw), "--processed-dir", str(processed))
    assert code == 0, lines
    store = Store(processed)
    assert len(store.street("northumbria")) > 0
    assert store.ledger()["rows_read"].sum() > 0
    store.close()
    assert not list(Path(os.getcwd()).glob("pwned.csv"))
    assert not list(tmp_path.rglob("pwned.csv"))
    code, lines = _cli("status", "--processed-dir", str(processed), "--check")
    assert code == 0, lines


# ------------------------------------------------------------------ kill -9 during an ingest


@pytest.mark.slow
def test_kill_9_at_random_moments_of_an_ingest_leaves_a_complete_store(raw, tmp_path):
    """Ten ingests, each changing one street file and killed (SIGKILL) at a random moment: after
    every kill the current snapshot is complete (every file matches its build checksum), it
    holds the old or the new version of the file (ledger row count and input checksum agree
    with one of them), and a final ingest succeeds and leaves nothing half-made behind."""
    import random
    import subprocess
    import sys
    import time

    import analysis

    processed = tmp_path / "processed"
    src = str(Path(analysis.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "analysis.cli", "ingest", "--raw-dir", str(raw),
             "--processed-dir", str(processed)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    lines = _lines(raw / STREET)
    versions = {}  # sha256 of each version of the file -> its data rows
    for keep in range(len(lines), len(lines) - 11, -1):  # drop 0..10 last rows in turn
        data = b"".join(line + b"\r\n" for line in lines[:keep])
        versions[hashlib.sha256(data).hexdigest()] = (keep - 1, data)
    order = list(versions)
    (raw / STREET).write_bytes(versions[order[0]][1])
    began = time.monotonic()
    first = start()
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()[-2000:]
    duration = time.monotonic() - began
    rng = random.Random(20221231)
    outcomes = []
    for i in range(1, 11):
        (raw / STREET).write_bytes(versions[order[i]][1])
        proc = start()
        time.sleep(rng.uniform(0.05, duration))
        proc.kill()
        proc.wait()
        current = (processed / "CURRENT").read_text().strip()
        snap = processed / "snapshots" / current
        assert checks.verify_snapshot(snap, full=True) == []  # complete, matches its checksums
        with Store(processed) as store:
            inputs = store.inputs()
            ledger = store.ledger()
        sha = inputs.loc[inputs["path"] == STREET.as_posix(), "sha256"].item()
        assert sha in order[: i + 1]  # a version ingested before, or the new one
        entry = ledger[ledger["source_file"] == STREET.as_posix()].iloc[0]
        assert entry["sha256"] == sha  # the ledger and the inputs name one version
        assert entry["rows_read"] == versions[sha][0]  # and count that version's rows
        outcomes.append("new" if sha == order[i] else "previous")
    final = start()
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()[-2000:]
    current = (processed / "CURRENT").read_text().strip()
    assert checks.verify_snapshot(processed / "snapshots" / current, full=True) == []
    with Store(processed) as store:
        inputs, ledger = store.inputs(), store.ledger()
    assert inputs.loc[inputs["path"] == STREET.as_posix(), "sha256"].item() == order[10]
    entry = ledger[ledger["source_file"] == STREET.as_posix()].iloc[0]
    assert (entry["sha256"], entry["rows_read"]) == (order[10], versions[order[10]][0])
    leftovers = [p.name for p in processed.iterdir() if p.name.startswith((".work-", "CURRENT."))]
    assert leftovers == []
    assert "previous" in outcomes, outcomes  # at least one kill fell inside an ingest
    print(f"ingest {duration:.1f} s; after each kill the store held: {outcomes}")
