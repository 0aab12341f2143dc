"""Any force, honestly (issue 14, item 10): the pack for Durham 2024-Q1 on the real shared data.

../shared/data holds Durham's street files for 2024-01..04 but no outcomes, no stop-and-search
files for 2024, and population and LSOA/ward boundaries only for Northumbria's local
authorities. What the pack must then do is worked out here from the raw files with the csv
module and the file system, not from the code under test: which reports cannot run, and which
file each reason must name.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from analysis.pack import run_pack

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

EXCEPTION_TEXT = re.compile(
    r"Traceback|\w+Error\b|\w+Exception\b|NAType|\bnan\b|<NA>|File \"", re.IGNORECASE
)
"""Anything that reads as a Python failure; none may reach a reader."""

NONE = {"", "[x]", "[z]"}
"""How a published CSV writes "no value" (blank, not available, not applicable)."""


@pytest.fixture(scope="module")
def durham_pack(real_raw_dir: Path, real_store_dir: Path, tmp_path_factory) -> tuple[int, Path]:
    """One run of the pack for Durham 2024-Q1 (every report; the skipped ones cost nothing)."""
    out = tmp_path_factory.mktemp("durham_pack")
    code = run_pack(
        "2024-Q1", "durham", None, real_store_dir, out, [], 1, True, use_store=True
    )  # fmt: skip
    return code, out / "durham" / "2024-Q1"


def _durham_lads(raw: Path) -> set[str]:
    path = raw / "reference" / "lookups" / "lookup_ltla24_csp24_pfa24.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["ltla24_code"] for r in csv.DictReader(handle) if r["pfa24_name"] == "Durham"}


def _expected_skips(raw: Path) -> dict[str, str]:
    """``{notebook: a file name its reason must contain}``, from the raw files alone."""
    lads = _durham_lads(raw)
    assert lads, "the PFA lookup names Durham's local authorities"
    lookup = next((raw / "reference" / "lookups").glob("LSOA_(2021)_to_Electoral_Ward*.csv"))
    with lookup.open(newline="", encoding="utf-8-sig") as handle:
        durham_lsoas = {r["LSOA21CD"] for r in csv.DictReader(handle) if r["LAD24CD"] in lads}
    population = raw / "reference" / "population" / "census21_pop_northumbria_lsoa21.csv"
    with population.open(newline="", encoding="utf-8") as handle:
        with_population = {r["lsoa21_code"] for r in csv.DictReader(handle)}
    boundaries = {p.stem for p in (raw / "reference/boundaries/lsoa2021_bgc_by_lad").iterdir()}
    months = ["2024-01", "2024-02", "2024-03"]
    held = {p.name for m in months for p in (raw / "police" / "durham" / m).glob("*.csv")}
    skips = {}
    if not durham_lsoas & with_population:  # no Durham LSOA has a population
        for notebook in ("00_main_points", "01_crime_by_area", "03_rural_crime"):
            skips[notebook] = population.name
    elif not lads & boundaries:
        for notebook in ("00_main_points", "01_crime_by_area", "03_rural_crime"):
            skips[notebook] = "lsoa2021_bgc_by_lad"
    if not any(name.endswith("-stop-and-search.csv") for name in held):
        skips["02_stop_search_disparity"] = "-durham-stop-and-search.csv"
    if not any(name.endswith("-outcomes.csv") for name in held):
        skips["05_justice_outcomes"] = "-durham-outcomes.csv"
    return skips


def _reader_texts(run_dir: Path) -> dict[str, str]:
    """Every text a reader sees: web pages, PDF text, manifest reasons."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in run_dir.glob("*.html")}
    for pdf in run_dir.glob("*.pdf"):
        if shutil.which("pdftotext"):
            done = subprocess.run(
                ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
            )
            texts[pdf.name] = done.stdout
        else:
            texts[pdf.name] = "\n".join(p.extract_text() or "" for p in PdfReader(pdf).pages)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    texts["manifest reasons"] = "\n".join(r["reason"] or "" for r in manifest["notebooks"])
    return texts


def test_durham_pack_exits_4_and_skips_exactly_what_the_data_lack(durham_pack, real_raw_dir):
    code, run_dir = durham_pack
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    status = {r["name"]: r["status"] for r in manifest["notebooks"]}
    expected = _expected_skips(real_raw_dir)
    assert code == 4 == manifest["exit_code"]  # some skipped for absent data, none failed
    assert {n for n, s in status.items() if s == "skipped"} == set(expected)
    assert {n for n, s in status.items() if s != "skipped"} == {
        "00_plan_scorecard",
        "04_reoffending",
    }
    assert all(status[n] == "produced" for n in ("00_plan_scorecard", "04_reoffending"))


def test_each_skip_reason_names_the_file_to_supply_and_the_command(durham_pack, real_raw_dir):
    _, run_dir = durham_pack
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    reasons = {r["name"]: r["reason"] for r in manifest["notebooks"] if r["status"] == "skipped"}
    for notebook, file_name in _expected_skips(real_raw_dir).items():
        reason = reasons[notebook]
        assert "\n" not in reason
        assert reason.split(": supply ")[0].endswith(" for Durham 2024-Q1"), reason
        assert file_name in reason, (notebook, reason)
        assert re.search(r"\(crimeplan fetch --(reference|force durham) [^()]*\)$", reason), reason
        assert reason in _reader_texts(run_dir)["index.html"].replace("&#x27;", "'").replace(
            "&lt;", "<"
        ).replace("&gt;", ">").replace("&#39;", "'")


def test_no_exception_text_reaches_a_reader(durham_pack):
    _, run_dir = durham_pack
    for name, text in _reader_texts(run_dir).items():
        found = EXCEPTION_TEXT.search(text)
        assert not found, f"{name}: {text[max(0, found.start() - 80) : found.end() + 80]!r}"


def test_scorecard_cites_only_tables_the_pack_published(durham_pack):
    _, run_dir = durham_pack
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    produced = {r["name"] for r in manifest["notebooks"] if r["status"] == "produced"}
    with (run_dir / "tables" / "00_plan_scorecard" / "scorecard.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    cited = [
        (r["source_report"], r["source_table"]) for r in rows if r["source_report"] not in NONE
    ]
    for report, table in cited:
        assert report in produced, report
        assert (run_dir / "tables" / report / f"{table}.csv").is_file(), (report, table)
    # Durham has no plan: the generic indicators, labelled so, and counts from the street files
    texts = _reader_texts(run_dir)
    assert (
        "generic indicators (no Police and Crime Plan configured for this force)"
        in texts["00_plan_scorecard.html"]
    )
    burglary = next(r for r in rows if r["id"] == "burglary")
    assert burglary["source_report"] in NONE and burglary["source_table"] in NONE
    assert burglary["value"] not in NONE  # counted from the street files all the same


def test_the_cover_and_titles_name_durham_not_northumbria(durham_pack):
    _, run_dir = durham_pack
    pdf = next(run_dir.glob("*_pack.pdf"))
    assert pdf.name == "durham_2024-Q1_pack.pdf"
    text = _reader_texts(run_dir)[pdf.name]
    cover = text.split("\f")[0]
    assert "Durham, 2024-Q1" in cover and "Northumbria" not in cover
    # Northumbria appears only where its own plan is quoted, and says so
    for match in re.finditer(r"Northumbria\S*", text):
        assert match.group(0).startswith("Northumbria's"), text[match.start() - 60 : match.end()]
