"""`crimeplan run` (analysis.pack): parameters, exit codes, parallel runs, cache, PDFs, index, manifest.

Publication safety (atomic swap, kill -9, locks, verify, --only) is in tests/test_publish.py.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pack_notebooks import write_report_notebook
from pypdf import PdfReader
from typer.testing import CliRunner

from analysis.pack import EXIT_MEANINGS, PackInputError, pack_exit_code, plan, run_pack
from analysis.pack import manifest as manifest_mod
from analysis.pack.manifest import cache_key
from analysis.pack.plan import (
    ReportResult,
    check_quarter_in_store,
    data_check,
    latest_complete_quarter,
    likely_published_quarter,
    select_reports,
)
from analysis.params import ParameterError, Quarter, RunParameters
from analysis.paths import NOTEBOOKS_DIR, SHARED_DATA_DIR
from analysis.reports import REPORTS, ReportSpec

EXIT_OK, EXIT_FAILED, EXIT_SKIPPED = 0, 1, 4


def published_month(row: dict) -> str:
    """``YYYY-MM`` of a monthly row of a published (tidy) CSV: its year and month name."""
    return f"{row['time_period']}-{list(calendar.month_name).index(row['time_identifier']):02d}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href = None
        self._text = ""
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a":
            self._href, self._text = attrs.get("href"), ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def is_tagged(path: Path) -> bool:
    root = PdfReader(path).trailer["/Root"]
    return bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root


# --- parameters --------------------------------------------------------------------------------


def _stems(specs):
    return [s.notebook for s in specs]


def test_select_reports_by_name_number_or_unique_prefix():
    assert select_reports([]) == list(REPORTS)
    assert _stems(select_reports(["stop_search"])) == ["02_stop_search_disparity"]
    assert _stems(select_reports(["stop_search_disparity"])) == ["02_stop_search_disparity"]
    assert _stems(select_reports(["05_justice_outcomes", "plan"])) == [
        "00_plan_scorecard",
        "05_justice_outcomes",
    ]
    assert _stems(select_reports(["04"])) == ["04_reoffending"]
    assert _stems(select_reports(["rural", "rural_crime"])) == ["03_rural_crime"]
    assert _stems(select_reports(["scorecard"])) == ["00_plan_scorecard"]  # package name


@pytest.mark.parametrize("bad", ["0", "nope", "", "crime_by_area; rm -rf /"])
def test_select_reports_rejects_unknown_or_ambiguous(bad):
    with pytest.raises(ParameterError):
        select_reports([bad])


MALICIOUS = [
    '2022-Q4"\nimport os; os.system("touch pwned")  #',
    "2022-Q4; import os",
    "2022-Q4\n",
    "2022-Q5",
    "2022-q4",
    "22-Q4",
    "__import__('os').system('id')",
]


@pytest.mark.parametrize("quarter", MALICIOUS)
def test_malicious_quarter_is_rejected_before_anything_runs(quarter, tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(plan, "update_store", lambda *a, **k: called.append("ingest"))
    with pytest.raises(ParameterError):
        run_pack(
            quarter,
            "northumbria",
            tmp_path / "raw",
            tmp_path / "processed",
            tmp_path / "out",
            [],
            1,
            False,
        )
    assert called == []
    assert not (tmp_path / "out").exists()
    assert not Path("pwned").exists()


def test_cli_rejects_bad_quarter_and_force_with_exit_code_2(tmp_path):
    from analysis.cli import app

    runner = CliRunner()
    args = [
        "run",
        "--raw-dir",
        str(tmp_path),
        "--processed-dir",
        str(tmp_path / "p"),
        "--output-dir",
        str(tmp_path / "o"),
    ]
    result = runner.invoke(app, [*args, "--quarter", '2022-Q4"; import os #'])
    assert result.exit_code == 2
    assert "quarter must look like 2024-Q1" in result.output
    result = runner.invoke(app, [*args, "--quarter", "2022-Q4", "--force", "Northumbria Police"])
    assert result.exit_code == 2
    result = runner.invoke(app, [*args, "--area-level", "county"])
    assert result.exit_code == 2 and "area_level must be one of" in result.output
    result = runner.invoke(app, [*args, "--jobs", "0"])
    assert result.exit_code == 2 and "--jobs must be a positive whole number" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_help_lists_every_exit_code_and_shows_flags_as_flags():
    from analysis.cli import app

    runner = CliRunner()
    for args in (["--help"], ["run", "--help"]):
        text = " ".join(runner.invoke(app, args, terminal_width=200).output.split())
        for code in ("0 (all)", "1 (run, verify)", "2 (all)", "3 (fetch)", "4 (run)"):
            assert code in text, (args, code)
    text = runner.invoke(app, ["run", "--help"], terminal_width=200).output
    for flag in ("--pdf", "--use-store"):
        line = next(line for line in text.splitlines() if flag in line)
        assert "<bool>" not in line, line
    assert "--area-level" in text


def test_no_data_and_offline_gives_one_clear_message(tmp_path, monkeypatch):
    from analysis import fetch
    from analysis.errors import FetchError

    asked = []

    def offline(**kwargs):
        asked.append(kwargs)
        raise FetchError("cannot reach https://data.police.uk/data/archive/2022-12.zip")

    monkeypatch.setattr(fetch, "fetch_police", offline)
    monkeypatch.setattr(plan, "DEFAULT_RAW_DIR", tmp_path / "raw")  # no --raw-dir given
    out = tmp_path / "out"
    with pytest.raises(PackInputError) as err:
        run_pack("2022-Q4", "northumbria", None, tmp_path / "p", out, [], 1, False)
    message = str(err.value)
    assert err.value.exit_code == 2
    assert "crimeplan fetch" in message and "--raw-dir" in message and "\n" not in message
    assert "data.police.uk/data/archive" in message
    # it tried the 24 months ending with the quarter
    assert asked[0]["start"] == "2021-01" and asked[0]["end"] == "2022-12"
    assert asked[0]["force"] == "northumbria"
    assert not out.exists()


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 11, 25), Quarter(2026, 3)),  # September 2026 is two months back: Q3 complete
        (date(2026, 12, 1), Quarter(2026, 3)),  # October: Q4 not complete yet
        (date(2027, 2, 28), Quarter(2026, 4)),  # December 2026
        (date(2027, 1, 10), Quarter(2026, 3)),  # November 2026: Q4 incomplete
        (date(2027, 5, 2), Quarter(2027, 1)),  # March 2027
    ],
)
def test_likely_published_quarter(today, expected):
    assert likely_published_quarter(today) == expected


def test_latest_complete_quarter():
    months = ["2022-06", "2022-07", "2022-08", "2022-09", "2022-10", "2022-11", "2023-01"]
    # Q3 2022 has July, August and September; Q4 lacks December; Q1 2023 lacks two months
    assert latest_complete_quarter(months) == Quarter(2022, 3)
    assert latest_complete_quarter(["2022-01", "2022-03"]) is None
    check_quarter_in_store(Quarter(2022, 3), months, "northumbria")
    with pytest.raises(PackInputError, match="missing street months 2022-12"):
        check_quarter_in_store(Quarter(2022, 4), months, "northumbria")


def test_exit_codes():
    assert set(EXIT_MEANINGS) == {0, 1, 2, 4}
    ok, skip, fail = (ReportResult("a", s) for s in ("produced", "skipped", "failed"))
    reused = ReportResult("b", "reused")
    assert pack_exit_code([ok, reused]) == EXIT_OK == 0
    assert pack_exit_code([ok, skip]) == EXIT_SKIPPED == 4
    assert pack_exit_code([ok, skip, fail]) == EXIT_FAILED == 1


def test_cache_key_changes_with_each_input(tmp_path):
    nb = tmp_path / "01_x.ipynb"
    nb.write_text("{}")
    params = {"force": "northumbria", "quarter": "2022-Q4"}
    base = cache_key(nb, "code1", params, "snap1", True)
    assert base == cache_key(nb, "code1", dict(params), "snap1", True)
    variants = {
        cache_key(nb, "code2", params, "snap1", True),
        cache_key(nb, "code1", {**params, "quarter": "2022-Q3"}, "snap1", True),
        cache_key(nb, "code1", params, "snap2", True),
        cache_key(nb, "code1", params, "snap1", False),
    }
    nb.write_text('{"cells": []}')
    variants.add(cache_key(nb, "code1", params, "snap1", True))
    assert base not in variants and len(variants) == 5


def test_code_fingerprint_follows_file_content(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    first = manifest_mod.code_fingerprint([tmp_path / "pkg"])
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert manifest_mod.code_fingerprint([tmp_path / "pkg"]) != first


def test_run_order_is_longest_first_from_the_previous_run_else_expected_seconds():
    from analysis.pack import EXPECTED_SECONDS, run_order

    names = ["04_reoffending", "00_main_points", "01_crime_by_area", "99_new_report"]
    first = run_order(names, None)
    assert first[0] == "01_crime_by_area" and first[-1] == "99_new_report"
    assert EXPECTED_SECONDS["01_crime_by_area"] > EXPECTED_SECONDS["00_main_points"]
    previous = {
        "notebooks": [
            {"name": "04_reoffending", "produced_seconds": 50.0},
            {"name": "01_crime_by_area", "produced_seconds": 20.0},
            {"name": "00_main_points", "produced_seconds": 0.0},  # reused: its expected seconds
        ]
    }
    assert run_order(names, previous) == [
        "04_reoffending", "01_crime_by_area", "00_main_points", "99_new_report"
    ]  # fmt: skip


def test_workbook_is_kept_only_when_its_tables_facts_and_file_are_unchanged(tmp_path):
    import dataclasses
    from datetime import date

    from analysis.pack import plan_workbook
    from analysis.pack.documents import workbook_key
    from analysis.pack.plan import ReportResult
    from analysis.pack.scheduler import WorkbookTask
    from analysis.pdf import PackContext

    staging = tmp_path / "staging"
    (staging / "tables" / "01_crime_by_area").mkdir(parents=True)
    table = staging / "tables" / "01_crime_by_area" / "change.csv"
    table.write_text("a,b\n1,2\n")
    (staging / "tables" / "01_crime_by_area" / "change.meta.csv").write_text("col_name\na\n")
    book = staging / "tables" / "northumbria_2022-Q4_tables.xlsx"
    book.write_bytes(b"workbook bytes")
    context = PackContext(force="northumbria", force_name="Northumbria", quarter="2022-Q4",
                          quarter_label="October to December 2022", published=date(2026, 12, 1))  # fmt: skip
    produced = ReportResult("01_crime_by_area", "produced")
    skipped = ReportResult("04_reoffending", "skipped")
    key = workbook_key(staging, ["01_crime_by_area"], context, "code")
    previous = {
        "combined": {"workbook": "tables/northumbria_2022-Q4_tables.xlsx", "workbook_cache_key": key},
        "files": {"tables/northumbria_2022-Q4_tables.xlsx": sha256(book)},
    }  # fmt: skip
    state: dict = {}
    assert plan_workbook(staging, [produced, skipped], context, "code", previous, state) == []
    assert state == {"cache_key": key, "reports": ("01_crime_by_area",),
                     "path": "tables/northumbria_2022-Q4_tables.xlsx"}  # fmt: skip
    assert book.read_bytes() == b"workbook bytes"
    # each input of the key: the code, a table's bytes, the cover facts
    assert workbook_key(staging, ["01_crime_by_area"], context, "other code") != key
    later = dataclasses.replace(context, published=date(2027, 3, 1))
    assert workbook_key(staging, ["01_crime_by_area"], later, "code") != key
    table.write_text("a,b\n1,3\n")
    assert workbook_key(staging, ["01_crime_by_area"], context, "code") != key
    tasks = plan_workbook(staging, [produced, skipped], context, "code", previous, state)
    assert tasks == [WorkbookTask(staging, ("01_crime_by_area",), context)]
    assert not book.exists() and state["reports"] is None  # the stale workbook is removed
    # same key but an edited workbook file: written again
    table.write_text("a,b\n1,2\n")
    book.write_bytes(b"edited")
    assert plan_workbook(staging, [produced], context, "code", previous, {}) != []


# --- a whole pack on the synthetic store, with small test notebooks -----------------------------


@pytest.fixture
def stable_code(monkeypatch):
    """Other engineers edit src/ while tests run here; pin the fingerprint so reuse is testable."""
    monkeypatch.setattr(manifest_mod, "code_fingerprint", lambda *a, **k: "pinned-for-test")


def skip_only(notebook: str, reason: str):
    """``ReportSpec.missing_data_reason`` that skips ``notebook`` with ``reason``."""
    return lambda spec, store, run: reason if spec.notebook == notebook else None


@pytest.mark.slow
def test_pack_with_one_failing_and_one_skipped_report(
    tmp_path, fixture_raw_dir, fixture_store_dir, monkeypatch, stable_code
):
    nbs = tmp_path / "notebooks"
    write_report_notebook(nbs, "00_plan_scorecard", "Plan scorecard (test)")
    write_report_notebook(nbs, "01_crime_by_area", "Crime by area (test)")
    write_report_notebook(nbs, "03_rural_crime", "Rural crime (test)", fail=True)
    write_report_notebook(nbs, "04_reoffending", "Reoffending (test)")
    reason = "no reoffending data supplied for this force"
    monkeypatch.setattr(ReportSpec, "missing_data_reason", skip_only("04_reoffending", reason))
    out = tmp_path / "outputs"
    only = ["plan", "crime_by_area", "rural", "reoffending"]
    code = run_pack(
        "2022-Q4",
        "northumbria",
        fixture_raw_dir,
        fixture_store_dir,
        out,
        only,
        2,
        True,
        notebooks_dir=nbs,
    )
    run_dir = out / "northumbria" / "2022-Q4"
    assert code == EXIT_FAILED

    manifest = json.loads((run_dir / "manifest.json").read_text())
    status = {n["name"]: n for n in manifest["notebooks"]}
    assert {k: v["status"] for k, v in status.items()} == {
        "00_plan_scorecard": "produced", "01_crime_by_area": "produced",
        "03_rural_crime": "failed", "04_reoffending": "skipped",
    }  # fmt: skip
    # the exception goes to the manifest's error field, the published reason is a plain sentence
    assert "deliberate failure in a test notebook" in status["03_rural_crime"]["error"]
    assert "RuntimeError" not in status["03_rural_crime"]["reason"]
    assert status["04_reoffending"]["reason"] == reason
    assert manifest["exit_code"] == 1
    assert (
        manifest["parameters"]["quarter"] == "2022-Q4"
        and manifest["parameters"]["force"] == "northumbria"
    )
    assert manifest["code"]["version"] and manifest["packages"]["papermill"]
    # every input checksum in the manifest matches the raw file, and the quarter's files are there
    assert manifest["inputs"], "manifest lists no inputs"
    for entry in manifest["inputs"]:
        assert sha256(fixture_raw_dir / entry["path"]) == entry["sha256"], entry["path"]
    listed = {Path(e["path"]).name for e in manifest["inputs"]}
    for month in ("2022-10", "2022-11", "2022-12"):
        assert f"{month}-northumbria-street.csv" in listed

    # the produced reports: PDFs (tagged), HTML, executed notebook, tables with independent counts
    for name in ("00_plan_scorecard", "01_crime_by_area"):
        assert is_tagged(run_dir / f"{name}.pdf")
        assert (run_dir / "notebooks" / f"{name}.ipynb").exists()
        with open(run_dir / "tables" / name / "street_rows.csv", newline="") as handle:
            published = {published_month(r): int(r["rows"]) for r in csv.DictReader(handle)}
        for month in ("2022-10", "2022-11", "2022-12"):
            raw = fixture_raw_dir / "police" / month / f"{month}-northumbria-street.csv"
            with open(raw, newline="", encoding="utf-8-sig") as handle:
                assert published[month] == sum(1 for _ in csv.DictReader(handle))
    assert not (run_dir / "03_rural_crime.pdf").exists()
    assert not (run_dir / "notebooks" / "03_rural_crime.ipynb").exists()  # nothing of a failure
    assert not (run_dir / "tables" / "04_reoffending").exists()

    # the combined pack: scorecard first, names what is missing and why, no Python
    combined = run_dir / "northumbria_2022-Q4_pack.pdf"
    assert is_tagged(combined)
    text = pdf_text(combined)
    assert text.index("Plan scorecard (test)") < text.index("Crime by area (test)")
    assert reason in text
    assert "deliberate failure" not in text and "RuntimeError" not in text  # no exception text
    for leaked in ("import ", "write_table(", "RunParameters(", "Store("):
        assert leaked not in text

    # index.html: accessible and every link resolves
    index = (run_dir / "index.html").read_text()
    assert "failed" in index and "deliberate failure" not in index and "RuntimeError" not in index
    parser = Links()
    parser.feed(index)
    assert parser.lang == "en-GB"
    hrefs = [h for h, _ in parser.links]
    for href, label in parser.links:
        assert (run_dir / href).exists(), href
        assert label and label.lower() not in {"here", "click here", "link"}
    assert "northumbria_2022-Q4_pack.pdf" in hrefs and "manifest.json" in hrefs
    assert "tables/01_crime_by_area/street_rows.csv" in hrefs

    # warm run: nothing changed -> the produced reports are reused, not re-executed; with
    # --only, the other reports of the publication are kept as they were
    executed = run_dir / "notebooks" / "01_crime_by_area.ipynb"
    before = executed.stat().st_mtime_ns
    book = run_dir / manifest["combined"]["workbook"]
    book_before = (
        book.stat().st_mtime_ns,
        sha256(book),
        manifest["combined"]["workbook_cache_key"],
    )
    code = run_pack(
        "2022-Q4",
        "northumbria",
        fixture_raw_dir,
        fixture_store_dir,
        out,
        ["plan", "crime_by_area"],
        2,
        True,
        notebooks_dir=nbs,
    )
    assert code == EXIT_OK  # the exit code speaks for the reports asked for
    again = {
        n["name"]: n["status"]
        for n in json.loads((run_dir / "manifest.json").read_text())["notebooks"]
    }
    assert again == {
        "00_plan_scorecard": "reused", "01_crime_by_area": "reused",
        "03_rural_crime": "failed", "04_reoffending": "skipped",
    }  # fmt: skip
    assert executed.stat().st_mtime_ns == before
    text = pdf_text(combined)
    assert "Crime by area (test)" in text and "deliberate failure" not in text
    # the workbook of unchanged tables is kept, not written again
    warm = json.loads((run_dir / "manifest.json").read_text())
    assert (
        book.stat().st_mtime_ns,
        sha256(book),
        warm["combined"]["workbook_cache_key"],
    ) == book_before
    assert warm["files"][warm["combined"]["workbook"]] == book_before[1]

    # a changed notebook is re-run; --no-pdf: no stale PDF is left beside the new HTML
    write_report_notebook(nbs, "01_crime_by_area", "Crime by area (test, edited)")
    write_report_notebook(nbs, "03_rural_crime", "Rural crime (test)")
    code = run_pack(
        "2022-Q4", "northumbria", fixture_raw_dir, fixture_store_dir, out, [], 2, False,
        notebooks_dir=nbs,
    )  # fmt: skip
    again = {
        n["name"]: n["status"]
        for n in json.loads((run_dir / "manifest.json").read_text())["notebooks"]
    }
    assert again["00_plan_scorecard"] == again["01_crime_by_area"] == "produced"
    assert again["03_rural_crime"] == "produced" and again["04_reoffending"] == "skipped"
    assert again["02_stop_search_disparity"] == "failed"  # no such test notebook
    assert code == EXIT_FAILED
    assert not combined.exists() and not (run_dir / "00_plan_scorecard.pdf").exists()
    assert "Crime by area (test, edited)" in (run_dir / "northumbria_2022-Q4_pack.html").read_text()
    # rural crime now publishes tables too: a new workbook, which has its sheet
    last = json.loads((run_dir / "manifest.json").read_text())
    assert last["combined"]["workbook_cache_key"] != book_before[2]
    import openpyxl

    sheets = openpyxl.load_workbook(run_dir / last["combined"]["workbook"], read_only=True)
    assert any(name.startswith("r03_") for name in sheets.sheetnames), sheets.sheetnames


# --- the real report notebooks ------------------------------------------------------------------


def _real_notebooks_present() -> bool:
    return all((NOTEBOOKS_DIR / f"{r.notebook}.ipynb").exists() for r in REPORTS)


@pytest.mark.slow
@pytest.mark.skipif(
    not _real_notebooks_present(), reason="not every report notebook is in notebooks/ yet"
)
def test_full_pack_on_fixtures(fixture_pack_dir, fixture_raw_dir):
    run_dir = fixture_pack_dir
    code = int((run_dir.parents[1] / "exit_code").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    statuses = {n["name"]: (n["status"], n["reason"]) for n in manifest["notebooks"]}
    failed = {k: v for k, v in statuses.items() if v[0] == "failed"}
    assert not failed, failed
    assert code in (EXIT_OK, EXIT_SKIPPED)
    for entry in manifest["inputs"]:
        assert sha256(fixture_raw_dir / entry["path"]) == entry["sha256"]
    produced = [n for n, (s, _) in statuses.items() if s == "produced"]
    assert produced, statuses
    for name in produced:
        pdf = run_dir / f"{name}.pdf"
        assert is_tagged(pdf)
        text = pdf_text(pdf)
        nb = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text())
        headings = [
            line.lstrip("#").strip()
            for cell in nb["cells"]
            if cell["cell_type"] == "markdown"
            and "web-only" not in cell.get("metadata", {}).get("tags", [])  # web edition only
            for line in "".join(cell["source"]).splitlines()
            if re.match(r"#{1,2} ", line)
        ]
        for heading in headings:
            plain = re.sub(r"[*_`]", "", heading)
            assert " ".join(plain.split()) in text, (
                f"{name}: heading {heading!r} missing from the PDF"
            )
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                for line in "".join(cell["source"]).splitlines():
                    if len(line.strip()) > 12 and not line.strip().startswith("#"):
                        assert line.strip() not in text, (
                            f"{name}: code leaked into the PDF: {line!r}"
                        )
        assert any((run_dir / "tables" / name).rglob("*.csv")), f"{name}: no tables"
    assert is_tagged(run_dir / "northumbria_2022-Q4_pack.pdf")


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.skipif(
    not _real_notebooks_present(), reason="not every report notebook is in notebooks/ yet"
)
def test_real_pack_for_2022_q4(real_pack_dir):
    run_dir = real_pack_dir
    code = int((run_dir.parents[1] / "exit_code").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    failed = {n["name"]: n["reason"] for n in manifest["notebooks"] if n["status"] == "failed"}
    assert not failed, failed
    assert code in (EXIT_OK, EXIT_SKIPPED)
    assert manifest["notebooks"][0]["name"] == "00_main_points"

    # the quarter's raw files: the manifest checksums and the appendix row ledger, both recomputed
    police = SHARED_DATA_DIR / "police" / "northumbria"
    by_name = {Path(e["path"]).name: e for e in manifest["inputs"]}
    combined_html = (run_dir / "northumbria_2022-Q4_pack.html").read_text()
    for month in ("2022-10", "2022-11", "2022-12"):
        raw = police / month / f"{month}-northumbria-street.csv"
        assert by_name[raw.name]["sha256"] == sha256(raw)
        with open(raw, newline="", encoding="utf-8-sig") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
        row = re.search(
            rf"<tr><td>Street crime</td><td>{month}</td><td>[^<]*{raw.name}</td><td class=\"num\">([\d,]+)</td>",
            combined_html,
        )
        assert row, f"ledger row for {raw.name} missing from the appendix"
        assert int(row.group(1).replace(",", "")) == rows

    combined = run_dir / "northumbria_2022-Q4_pack.pdf"
    assert is_tagged(combined)
    text = pdf_text(combined)
    assert "Northumbria" in text and "October to December 2022" in text
    assert "import " not in text


def test_data_check_asks_each_report_module(monkeypatch, fixture_store_dir):
    import sys
    import types

    from analysis.store import Store

    def absent(store, run):
        return f"no local reoffending data for {run.force}"

    def broken(store, run):
        raise KeyError("boom")

    def ready(store, run):
        return None

    for module, fn in (("reoffending", absent), ("rural_crime", broken), ("crime_by_area", ready)):
        monkeypatch.setitem(
            sys.modules,
            f"analysis.reports.{module}.data",
            types.SimpleNamespace(missing_data_reason=fn),
        )
    store = Store(fixture_store_dir)
    try:
        run = RunParameters()
        spec = {s.name: s for s in REPORTS}
        assert data_check(spec["crime_by_area"], store, run) == (None, None, None)
        assert data_check(spec["reoffending"], store, run) == (
            "no local reoffending data for northumbria", None, "skipped",
        )  # fmt: skip
        reason, error, status = data_check(spec["rural_crime"], store, run)
        assert status == "failed" and "KeyError" in error and "KeyError" not in reason
        # a store table the report needs is absent: skipped, naming the table
        missing = ReportSpec("09", "crime_by_area", "09_x", "X", ("street", "no_such_table"))
        reason, _, status = data_check(missing, store, run)
        assert status == "skipped" and "no_such_table" in reason
    finally:
        store.close()


def test_every_needed_table_is_in_a_fixture_store(fixture_store_dir):
    """The registry's ``needs`` name real store views (a typo would skip a report for ever)."""
    from analysis.store import Store

    store = Store(fixture_store_dir)
    try:
        views = set(
            store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")["view_name"]
        )
    finally:
        store.close()
    for spec in REPORTS:
        assert set(spec.needs) <= views, (spec.name, set(spec.needs) - views)
