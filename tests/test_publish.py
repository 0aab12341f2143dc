"""A run folder is published whole or not at all: staging and swap, kill -9, the folder lock,
verified reuse, ``crimeplan verify``, ``--only`` inside a publication, the pinned snapshot, and
notebooks outside ``crimeplan run`` never writing into a publication."""

from __future__ import annotations

import calendar
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psutil
import pytest
from pack_notebooks import write_report_notebook
from typer.testing import CliRunner

import analysis
from analysis.cli import app
from analysis.pack import manifest as manifest_mod
from analysis.pack import run_pack
from analysis.pack.manifest import file_checksums, verify_publication
from analysis.pack.publish import Publication
from analysis.params import RunParameters

QUARTER = "2022-Q4"
ONLY = ["plan", "crime_by_area"]
TITLES = {"00_plan_scorecard": "Plan scorecard (test)", "01_crime_by_area": "Crime by area (test)"}


def published_month(row: dict) -> str:
    """``YYYY-MM`` of a monthly row of a published (tidy) CSV: its year and month name."""
    return f"{row['time_period']}-{list(calendar.month_name).index(row['time_identifier']):02d}"


def statuses(run_dir: Path) -> dict[str, str]:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {n["name"]: n["status"] for n in manifest["notebooks"]}


def raw_street_rows(raw_dir: Path, month: str) -> int:
    path = raw_dir / "police" / month / f"{month}-northumbria-street.csv"
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.DictReader(handle))


@pytest.fixture(scope="module")
def pinned_code():
    """Pin the code fingerprint so edits to src/ elsewhere never defeat reuse in these tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_mod, "code_fingerprint", lambda *a, **k: "pinned-for-test")
        yield


@pytest.fixture(scope="module")
def built(tmp_path_factory, fixture_store_dir, pinned_code) -> tuple[Path, Path]:
    """``(outputs root, notebooks)`` of one publication of two small test reports; copy it."""
    root = tmp_path_factory.mktemp("published")
    nbs = root / "notebooks"
    for name, title in TITLES.items():
        write_report_notebook(nbs, name, title)
    out = root / "outputs"
    code = run_pack(QUARTER, "northumbria", None, fixture_store_dir, out, ONLY, 1, False,
                    use_store=True, notebooks_dir=nbs)  # fmt: skip
    assert code == 0
    return out, nbs


@pytest.fixture
def published(built, tmp_path) -> tuple[Path, Path, Path]:
    """A private copy: ``(outputs root, run folder, notebooks)``."""
    out, nbs = tmp_path / "outputs", tmp_path / "notebooks"
    shutil.copytree(built[0], out)
    shutil.copytree(built[1], nbs)
    return out, out / "northumbria" / QUARTER, nbs


def rerun(published, store, only=ONLY, **kwargs) -> int:
    out, _, nbs = published
    return run_pack(QUARTER, "northumbria", None, store, out, only, 1, False, use_store=True,
                    notebooks_dir=nbs, **kwargs)  # fmt: skip


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_manifest_records_every_output_checksum_and_the_pinned_snapshot(
    published, fixture_store_dir
):
    _, run_dir, _ = published
    manifest = json.loads((run_dir / "manifest.json").read_text())
    current = (fixture_store_dir / "CURRENT").read_text().strip()
    assert manifest["store"]["snapshot"] == current
    # every notebook read the pinned snapshot folder, not the store through CURRENT
    assert manifest["parameters"]["processed_dir"] == str(fixture_store_dir / "snapshots" / current)
    on_disk = {
        p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in run_dir.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert manifest["files"] == on_disk
    assert "tables/01_crime_by_area/street_rows.csv" in on_disk and "index.html" in on_disk
    # nothing but the publication is left beside it (no staging folder)
    assert sorted(p.name for p in run_dir.parent.iterdir()) == [f".{QUARTER}.lock", QUARTER]


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_verify_detects_changed_missing_and_unexpected_files(published, tmp_path):
    _, run_dir, _ = published
    runner = CliRunner()
    clean = runner.invoke(app, ["verify", str(run_dir)])
    assert clean.exit_code == 0 and "every file matches" in clean.output
    table = run_dir / "tables" / "01_crime_by_area" / "street_rows.csv"
    table.write_text(table.read_text().replace("ward", "lsoa"))
    (run_dir / "00_plan_scorecard.html").unlink()
    (run_dir / "notes.txt").write_text("added by hand")
    expected = [
        "missing: 00_plan_scorecard.html",
        "changed: tables/01_crime_by_area/street_rows.csv",
        "unexpected: notes.txt",
    ]
    assert verify_publication(run_dir) == expected
    dirty = runner.invoke(app, ["verify", str(run_dir)])
    assert dirty.exit_code == 1
    assert [line for line in dirty.stdout.splitlines() if line] == expected
    not_a_run = runner.invoke(app, ["verify", str(tmp_path)])
    assert not_a_run.exit_code == 2 and "not a crimeplan publication" in not_a_run.output


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_reuse_refused_after_an_output_is_edited(published, fixture_store_dir, pinned_code):
    _, run_dir, _ = published
    table = run_dir / "tables" / "01_crime_by_area" / "street_rows.csv"
    original = table.read_bytes()
    assert rerun(published, fixture_store_dir) == 0
    assert statuses(run_dir) == {"00_plan_scorecard": "reused", "01_crime_by_area": "reused"}
    assert "2022,October" in original.decode()  # a monthly row: year, then the month's name
    table.write_text(original.decode().replace("2022,October", "2021,October"))  # same size
    assert rerun(published, fixture_store_dir) == 0
    assert statuses(run_dir) == {"00_plan_scorecard": "reused", "01_crime_by_area": "produced"}
    assert table.read_bytes() == original
    assert verify_publication(run_dir) == []


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_only_updates_one_report_and_keeps_the_others(published, fixture_store_dir, pinned_code):
    _, run_dir, nbs = published
    write_report_notebook(nbs, "01_crime_by_area", "Crime by area (edited)")
    assert rerun(published, fixture_store_dir, only=["crime_by_area"]) == 0
    assert statuses(run_dir) == {"00_plan_scorecard": "reused", "01_crime_by_area": "produced"}
    for name in TITLES:
        assert (run_dir / f"{name}.html").is_file()
        assert f'href="{name}.html"' in (run_dir / "index.html").read_text()
    combined = (run_dir / f"northumbria_{QUARTER}_pack.html").read_text()
    assert "Plan scorecard (test)" in combined and "Crime by area (edited)" in combined
    assert verify_publication(run_dir) == []


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_only_refuses_to_mix_pdf_settings(published, fixture_store_dir, pinned_code):
    out, run_dir, nbs = published
    before = file_checksums(run_dir)
    with pytest.raises(analysis.pack.PackInputError, match="--no-pdf"):
        run_pack(QUARTER, "northumbria", None, fixture_store_dir, out, ["crime_by_area"], 1,
                 True, use_store=True, notebooks_dir=nbs)  # fmt: skip
    assert file_checksums(run_dir) == before


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_notebook_outside_a_run_cannot_write_into_a_publication(
    published, fixture_store_dir, tmp_path
):
    from papermill.exceptions import PapermillExecutionError

    from analysis.execute import execute_report
    from analysis.outputs import PublishedRunError, write_tables

    _, run_dir, nbs = published
    before = file_checksums(run_dir)
    run = RunParameters(processed_dir=str(fixture_store_dir), output_dir=str(run_dir))
    with pytest.raises(PublishedRunError):
        write_tables({"street_rows": pd.DataFrame({"rows": [1]})}, run, "01_crime_by_area")
    # the same report notebook run as an analyst would, pointed at the published folder
    with pytest.raises(PapermillExecutionError) as err:
        execute_report("01_crime_by_area", run, tmp_path / "run.ipynb", notebooks_dir=nbs)
    assert err.value.ename == "PublishedRunError"
    assert file_checksums(run_dir) == before and verify_publication(run_dir) == []


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_second_run_into_the_same_folder_exits_2(published, fixture_store_dir):
    out, run_dir, nbs = published
    before = file_checksums(run_dir)
    args = ["run", "--quarter", QUARTER, "--processed-dir", str(fixture_store_dir),
            "--output-dir", str(out), "--use-store", "--no-pdf", "--notebooks-dir", str(nbs)]  # fmt: skip
    with Publication(run_dir):  # another run holds the folder
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "another crimeplan run" in result.output and str(run_dir) in result.output
    assert file_checksums(run_dir) == before


@pytest.mark.slow  # builds a publication (executes notebooks) once per module
def test_a_publication_moved_aside_by_a_killed_swap_is_restored(published):
    _, run_dir, _ = published
    before = file_checksums(run_dir)
    aside = run_dir.parent / f".{QUARTER}.previous-999"
    run_dir.rename(aside)  # killed between the two renames of the fallback swap
    (run_dir.parent / f".{QUARTER}.staging-999").mkdir()
    with Publication(run_dir) as pub:
        assert pub.previous is not None
    assert file_checksums(run_dir) == before and verify_publication(run_dir) == []
    assert sorted(p.name for p in run_dir.parent.iterdir()) == [f".{QUARTER}.lock", QUARTER]


@pytest.mark.slow
def test_a_damaged_store_table_stops_only_the_reports_that_need_it(
    built, fixture_raw_dir, fixture_store_dir, tmp_path
):
    """One byte changed in ``reoffending_national.parquet`` (read by the scorecard, not by report
    01): the scorecard fails naming the table and the repair, report 01 is produced, exit 1;
    after ``ingest --repair`` both are produced."""
    from analysis.ingest import ingest

    _, nbs = built
    store = tmp_path / "store"
    shutil.copytree(fixture_store_dir, store)
    snap = store / "snapshots" / (store / "CURRENT").read_text().strip()
    target = snap / "reoffending_national.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same Parquet magic at both ends
    target.write_bytes(bytes(data))
    out = tmp_path / "out"
    code = run_pack(QUARTER, "northumbria", None, store, out, ONLY, 1, False, use_store=True,
                    notebooks_dir=nbs)  # fmt: skip
    assert code == 1
    manifest = json.loads((out / "northumbria" / QUARTER / "manifest.json").read_text())
    entry = {n["name"]: n for n in manifest["notebooks"]}
    assert entry["01_crime_by_area"]["status"] == "produced"
    assert entry["00_plan_scorecard"]["status"] == "failed"
    reason = entry["00_plan_scorecard"]["reason"]
    assert "reoffending_national" in reason and "crimeplan ingest --repair" in reason
    assert str(target) in entry["00_plan_scorecard"]["error"]  # the file, for the analyst
    ingest(fixture_raw_dir, store, repair=True)
    run_dir = out / "northumbria" / QUARTER
    before = file_checksums(run_dir)
    with pytest.raises(analysis.pack.PackInputError, match="would mix store snapshots"):
        run_pack(QUARTER, "northumbria", None, store, out, ONLY, 1, False, use_store=True,
                 notebooks_dir=nbs)  # fmt: skip
    assert file_checksums(run_dir) == before  # --only never mixes two snapshots in one folder
    again = tmp_path / "again"
    code = run_pack(QUARTER, "northumbria", None, store, again, ONLY, 1, False, use_store=True,
                    notebooks_dir=nbs)  # fmt: skip
    assert code == 0
    assert set(statuses(again / "northumbria" / QUARTER).values()) == {"produced"}


@pytest.mark.slow
def test_a_full_disk_while_publishing_is_one_line_and_keeps_the_publication(
    published, fixture_store_dir, monkeypatch
):
    import errno

    from analysis.pack import documents

    out, run_dir, nbs = published
    before = file_checksums(run_dir)

    def full(staging, *args, **kwargs):
        (staging / "index.html").write_text("<html>half")  # a partial file, then the disk fills
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staging / "index.html"))

    monkeypatch.setattr(documents, "write_index", full)
    args = ["run", "--quarter", QUARTER, "--processed-dir", str(fixture_store_dir),
            "--output-dir", str(out), "--use-store", "--no-pdf", "--notebooks-dir", str(nbs),
            "--only", "plan", "--only", "crime_by_area"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "no space left" in lines[0], result.output
    assert "Traceback" not in result.output
    assert file_checksums(run_dir) == before and verify_publication(run_dir) == []
    assert sorted(p.name for p in run_dir.parent.iterdir()) == [f".{QUARTER}.lock", QUARTER]


def test_output_dir_under_a_file_is_one_line_exit_2(fixture_store_dir, tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    args = ["run", "--quarter", QUARTER, "--processed-dir", str(fixture_store_dir), "--use-store",
            "--output-dir", str(tmp_path / "afile" / "out"), "--no-pdf"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot write the output folder")
    assert "Not a directory" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_run_with_quotes_spaces_and_semicolons_in_every_path(fixture_raw_dir, tmp_path):
    """Paths are data, never SQL: a run whose raw, store, output and notebook folders hold
    quotes, spaces and semicolons publishes, and no injected statement ran."""
    weird = tmp_path / "a b'c; SELECT 1; --\"d"
    raw = Path(shutil.copytree(fixture_raw_dir, weird / "raw 'x';"))
    store = weird / "proc'; COPY (SELECT 42) TO 'pwned.csv'; SELECT '"
    out = weird / "out'; COPY (SELECT 42) TO 'pwned2.csv'; SELECT '"
    nbs = weird / "nb's; x"
    for name, title in TITLES.items():
        write_report_notebook(nbs, name, title)
    args = ["run", "--quarter", QUARTER, "--raw-dir", str(raw), "--processed-dir", str(store),
            "--output-dir", str(out), "--no-pdf", "--notebooks-dir", str(nbs),
            "--only", "plan", "--only", "crime_by_area"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert statuses(out / "northumbria" / QUARTER) == dict.fromkeys(TITLES, "produced")
    assert verify_publication(out / "northumbria" / QUARTER) == []
    assert not list(tmp_path.rglob("pwned*.csv")) and not list(Path.cwd().glob("pwned*.csv"))


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_raw_dir_given_but_missing_or_empty_is_exit_2(state, tmp_path, fixture_store_dir):
    raw = tmp_path / "raw"
    if state == "empty":
        (raw / "police").mkdir(parents=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--quarter", QUARTER, "--raw-dir", str(raw),
                                      "--processed-dir", str(fixture_store_dir), "--output-dir",
                                      str(out)])  # fmt: skip
    assert result.exit_code == 2
    assert "--use-store" in result.output and str(raw) in result.output
    assert not out.exists()


# --- subprocess runs: kill -9 and ingest during a run -------------------------------------------


def cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    src = str(Path(analysis.__file__).resolve().parents[1])
    env = {**os.environ, **env, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "analysis.cli", "run", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def tagged(tag: str) -> list[psutil.Process]:
    """Processes (the run, its workers, their kernels) started with ``RUN_TAG=tag``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("RUN_TAG") == tag:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def wait_gone(tag: str, seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_a_worker_dies_with_its_parent(tmp_path):
    """``die_with_parent`` (run in every pool worker): SIGKILL the parent, the child goes too."""
    pidfile = tmp_path / "child.pid"
    parent_code = f"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import os; from analysis.pack.publish import die_with_parent; die_with_parent(os.getppid()); open({str(pidfile)!r}, 'w').write(str(os.getpid())); import time; time.sleep(120)"])
time.sleep(120)
"""
    src = str(Path(analysis.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env)
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    child = psutil.Process(int(pidfile.read_text()))
    parent.kill()
    parent.wait()
    assert dead_within(child, 5), "the child outlived its killed parent"


def dead_within(proc: psutil.Process, seconds: float) -> bool:
    """True once ``proc`` has exited (a zombie not yet reaped by init counts as exited)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_kill_9_at_random_moments_leaves_a_complete_publication(tmp_path, fixture_store_dir):
    nbs = tmp_path / "notebooks"
    for name, title in TITLES.items():
        write_report_notebook(nbs, name, title)
    out = tmp_path / "out"
    run_dir = out / "northumbria" / QUARTER
    tag = uuid.uuid4().hex

    def start(level: str) -> subprocess.Popen:
        return cli(["--quarter", QUARTER, "--processed-dir", str(fixture_store_dir),
                    "--output-dir", str(out), "--use-store", "--no-pdf", "--jobs", "2",
                    "--area-level", level, "--notebooks-dir", str(nbs), "--timeout", "120",
                    "--only", "plan", "--only", "crime_by_area"], {"RUN_TAG": tag})  # fmt: skip

    began = time.monotonic()
    first = start("ward")
    assert first.wait(timeout=600) == 0, first.stderr.read().decode()[-2000:]
    duration = time.monotonic() - began
    manifest = json.loads((run_dir / "manifest.json").read_text())
    rng = random.Random(20221231)
    outcomes = []
    for i in range(10):
        level = ("lsoa", "ward")[i % 2]  # a different publication each time: every report re-runs
        proc = start(level)
        time.sleep(rng.uniform(0.2, duration))
        proc.kill()
        proc.wait()
        assert wait_gone(tag, 15) == [], "workers or kernels outlived the killed run"
        assert verify_publication(run_dir) == []  # complete and consistent with its checksums
        now = json.loads((run_dir / "manifest.json").read_text())
        assert now == manifest or now["parameters"]["area_level"] == level
        outcomes.append("new" if now != manifest else "previous")
        manifest = now
        with open(run_dir / "tables" / "01_crime_by_area" / "street_rows.csv") as handle:
            assert {r["run_area_level"] for r in csv.DictReader(handle)} == {
                manifest["parameters"]["area_level"]
            }
    final = start("lad")
    assert final.wait(timeout=600) == 0, final.stderr.read().decode()[-2000:]
    assert verify_publication(run_dir) == []
    assert json.loads((run_dir / "manifest.json").read_text())["parameters"]["area_level"] == "lad"
    assert sorted(p.name for p in run_dir.parent.iterdir()) == [f".{QUARTER}.lock", QUARTER]
    assert "previous" in outcomes, outcomes  # at least one kill fell inside a run
    print(f"run {duration:.1f} s; after each kill the publication was: {outcomes}")


@pytest.mark.slow
def test_an_ingest_during_a_run_does_not_break_it(tmp_path, fixture_raw_dir):
    from analysis.ingest import ingest

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    shutil.copytree(fixture_raw_dir, raw)
    ingest(raw, processed)
    pinned = (processed / "CURRENT").read_text().strip()
    months = ["2022-10", "2022-11", "2022-12"]
    expected = {m: raw_street_rows(raw, m) for m in months}
    nbs = tmp_path / "notebooks"
    write_report_notebook(nbs, "01_crime_by_area", "Crime by area (test)")
    gate = str(tmp_path / "gate")
    out = tmp_path / "out"
    proc = cli(["--quarter", QUARTER, "--processed-dir", str(processed), "--output-dir", str(out),
                "--use-store", "--no-pdf", "--jobs", "1", "--notebooks-dir", str(nbs),
                "--only", "crime_by_area"], {"TEST_GATE": gate})  # fmt: skip
    started = Path(gate + ".01_crime_by_area.started")
    deadline = time.monotonic() + 300
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert started.exists(), proc.stderr.read().decode()[-2000:]

    # new data arrives while the report runs: December loses its last row
    december = raw / "police" / "2022-12" / "2022-12-northumbria-street.csv"
    lines = december.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    december.write_text("".join(lines[:-1]), encoding="utf-8")
    ingest(raw, processed)
    assert (processed / "CURRENT").read_text().strip() != pinned
    assert (processed / "snapshots" / pinned).is_dir()  # the run's snapshot is kept

    Path(gate + ".go").touch()
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-2000:]
    run_dir = out / "northumbria" / QUARTER
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["store"]["snapshot"] == pinned
    with open(run_dir / "tables" / "01_crime_by_area" / "street_rows.csv") as handle:
        published = {published_month(r): int(r["rows"]) for r in csv.DictReader(handle)}
    assert published == expected  # read from the pinned snapshot, not the new one
    assert raw_street_rows(raw, "2022-12") == expected["2022-12"] - 1
