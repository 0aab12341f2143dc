"""The pack as a publication: structure and pages of the PDF, cover facts, plain language, tables
as published data (tidy CSVs, column descriptions, one workbook) and the index page as the HTML
edition, checked in a real browser."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import PACK_NEXT as NEXT
from conftest import PACK_PUBLISHED as PUBLISHED
from pypdf import PdfReader

from analysis.params import RunParameters
from analysis.paths import CONFIG_DIR
from analysis.pdf import PackContext, ReportFragment, document_html, load_publication
from analysis.tidy import check_tidy, tidy_table

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CODE_WORDS = (
    "store", "crimeplan", "config/", ".yml", ".py", "statsmodels", "DuckDB", "pandas", "esda",
    "Traceback", "NaN", "None", "snake_case",
)  # fmt: skip
SNAKE_WORD = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # crime_by_area, rate_per_1000


def page_texts(path: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages]


def is_tagged(path: Path) -> bool:
    root = PdfReader(path).trailer["/Root"]
    return bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root


def outline_pages(path: Path) -> list[tuple[int, str, int]]:
    """Every bookmark as ``(depth, title, 1-based page)``, in document order."""
    reader = PdfReader(path)
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


def code_words(text: str) -> list[str]:
    """Code identifiers, file paths and library names in published text (what a reader of a
    panel pack should never meet)."""

    def pattern(word: str) -> str:
        before = r"(?<![A-Za-z])" if word[0].isalpha() else ""
        after = r"(?![a-z])" if word[-1].isalpha() else ""
        return before + re.escape(word) + after

    hits = [w for w in CODE_WORDS if re.search(pattern(w), text)]
    return hits + sorted(set(SNAKE_WORD.findall(text)))


def test_code_word_finder_finds_what_it_should():
    text = "Rows per store table; see config/plan.yml and crime_by_area. Value NaN."
    assert code_words(text) == ["store", "config/", ".yml", "NaN", "crime_by_area"]
    assert code_words("Restored crime storeys; none of the rates; 1,000 residents") == []


# --- configuration ------------------------------------------------------------------------------


def test_publication_config_and_next_publication_rule():
    publication = load_publication(CONFIG_DIR / "publication.yml")
    assert (
        publication.status == "Statistics derived from police open data; not official statistics."
    )
    assert publication.producer and "@" in publication.contact
    terms = {t.lower() for t, _ in publication.glossary}
    for needed in ("statistically significant", "confidence interval", "control chart", "lsoa",
                   "rate per 1,000", "positive outcome", "disparity ratio", "hot spot"):  # fmt: skip
        assert needed in terms, needed
    # three months on; a day that does not exist in the target month becomes its last day
    assert publication.next_publication(date(2023, 2, 23)) == date(2023, 5, 23)
    assert publication.next_publication(date(2023, 11, 30)) == date(2024, 2, 29)
    assert publication.next_publication(date(2023, 12, 31)) == date(2024, 3, 31)


# --- pages ---------------------------------------------------------------------------------------


def _context(**kw) -> PackContext:
    publication = load_publication()
    return PackContext(
        force="northumbria", force_name="Northumbria", quarter="2022-Q4",
        quarter_label="October to December 2022", published=PUBLISHED, next_publication=NEXT,
        extracted="2 December 2026", latest_month="December 2022", contact=publication.contact,
        status=publication.status, glossary=publication.glossary, **kw,
    )  # fmt: skip


def test_rows_are_never_split_and_titles_stay_with_their_table(tmp_path):
    """A chapter of long tables: every row's label and its last cell on the same page, and each
    table's title on the page where the table starts."""
    from analysis.pdf import render_document, section_pages, write_rendered

    parts = ["<h1>Front section</h1><p>Main points.</p>"]
    for t in range(4):
        parts.append(f"<p>Filler paragraph before table {t}. " + "Words fill the line. " * 30)
        rows = "".join(
            f"<tr><td>Lbl{t}k{i}z</td><td>{'tall cell text ' * 25}</td><td>End{t}k{i}z</td></tr>"
            for i in range(14)
        )
        parts.append(
            f"<table><caption>Table title {t}</caption><thead><tr><th scope='col'>Area</th>"
            f"<th scope='col'>Note</th><th scope='col'>Value</th></tr></thead><tbody>{rows}"
            "</tbody></table>"
        )
    front = ReportFragment("00_front", "Front section", "".join(parts), ())
    annex = ReportFragment("01_annex", "Annex report", "<h1>Annex report</h1><p>Text.</p>", ())
    document = document_html("Pack", "Sub", [front, annex], _context(), front="00_front")
    rendered = render_document(document, tmp_path)
    pdf = write_rendered(rendered, tmp_path / "pack.pdf")
    pages = page_texts(pdf)
    assert len(pages) > 6
    for t in range(4):
        for i in range(14):
            where = [n for n, text in enumerate(pages) if f"Lbl{t}k{i}z" in text]
            assert len(where) == 1 and f"End{t}k{i}z" in pages[where[0]], (t, i)
        title = next(n for n, text in enumerate(pages) if f"Table title {t}" in text)
        assert f"Lbl{t}k0z" in pages[title]
    # the annex starts on a page of its own, labelled, and its PDF is those pages of one layout
    chapters = section_pages(rendered, ["report-00_front", "report-01_annex", "appendix"])
    first = chapters["report-01_annex"][0]
    assert "annex a" in pages[first].lower() and "Annex report" in pages[first]
    assert "Lbl3k13z" in pages[first - 1]
    one = write_rendered(rendered, tmp_path / "annex.pdf", [0, *chapters["report-01_annex"]])
    assert is_tagged(one) and len(PdfReader(one).pages) == 1 + len(chapters["report-01_annex"])


def test_cover_states_dates_extraction_contact_and_status(tmp_path):
    from analysis.pdf import render_document, write_rendered

    front = ReportFragment("00_front", "Front", "<h1>Front</h1><p>Main points.</p>", ())
    document = document_html("Pack", "Sub", [front], _context(), front="00_front")
    cover = page_texts(write_rendered(render_document(document, tmp_path), tmp_path / "c.pdf"))[0]
    for fact in ("Publication date", "23 February 2023", "Next publication", "25 May 2023",
                 "Data extracted", "2 December 2026", "December 2022", "Period covered",
                 "October to December 2022", "evidence@", "not official statistics"):  # fmt: skip
        assert fact in cover, fact
    assert "Published 2" not in cover  # a date is always named as the publication date


# --- tables as published data --------------------------------------------------------------------


def test_tidy_table_levels_from_codes_and_months(tmp_path):
    run = RunParameters(force="northumbria", quarter="2022-Q4", processed_dir=str(tmp_path))
    hot = pd.DataFrame({"area_code": ["E01008162", "E05001100"], "count": [84, 3]})
    out = tidy_table(hot, run)
    assert out["geographic_level"].tolist() == ["LSOA", "Ward"]
    assert out["area_name"].tolist() == ["[x]", "[x]"]  # no store to name them: not the force
    monthly = pd.DataFrame({"month": ["2022-10", "2023-01"], "rows": [5, 6]})
    out = tidy_table(monthly, run)
    assert out[["time_period", "time_identifier"]].values.tolist() == [
        ["2022", "October"], ["2023", "January"],
    ]  # fmt: skip
    assert out.loc[0, "area_name"] == "Northumbria" and check_tidy(out) == []


@pytest.fixture(scope="module")
def fixture_pack(fixture_pack_dir) -> Path:
    """The real report notebooks run on the synthetic store, PDFs included (shared run)."""
    return fixture_pack_dir


def check_published_tables(run_dir: Path) -> list[Path]:
    """Every CSV of a publication is tidy as written (:func:`analysis.tidy.check_tidy` on the
    file's own text, no file skipped), has a ``.meta.csv`` listing exactly its columns, and is
    one sheet of the workbook, which opens with openpyxl after its cover, contents and notes
    sheets. Returns the data CSVs."""
    import csv

    import openpyxl

    tables = run_dir / "tables"
    every = sorted(tables.rglob("*.csv"))
    csvs = [p for p in every if not p.name.endswith(".meta.csv")]
    metas = [p for p in every if p.name.endswith(".meta.csv")]
    assert csvs and len(metas) == len(csvs)  # one description per table, none left over
    problems = []
    for path in csvs:
        name = path.relative_to(run_dir).as_posix()
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) > 1, f"{name}: no rows"
        assert len({len(r) for r in rows}) == 1, f"{name}: ragged rows"
        problems += check_tidy(pd.DataFrame(rows[1:], columns=rows[0]), name)
        with path.with_name(f"{path.stem}.meta.csv").open(newline="", encoding="utf-8") as h:
            meta = list(csv.DictReader(h))
        assert [m["col_name"] for m in meta] == rows[0], name
        assert all(m["label"] and m["col_type"] in ("Filter", "Indicator") for m in meta), name
        for i, m in enumerate(meta):  # every symbol a column holds is explained beside it
            used = {r[i] for r in rows[1:]}
            for symbol in ("[c]", "[x]", "[z]"):
                assert (symbol in used) == (symbol in m["symbols"]), (name, m["col_name"])
    assert not problems, "\n".join(problems[:40])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    workbook = run_dir / manifest["combined"]["workbook"]
    assert manifest["combined"]["workbook"] in manifest["files"]
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    sheets = book.sheetnames[3:]
    assert sorted(sheets) == sorted(f"r{p.parent.name[:2]}_{p.stem}"[:31] for p in csvs)
    for path in csvs:  # each sheet holds its CSV's header and as many rows
        sheet = book[f"r{path.parent.name[:2]}_{path.stem}"[:31]]
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        values = [
            row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)
        ]
        header = next(i for i, row in enumerate(values) if list(row[: len(rows[0])]) == rows[0])
        assert len(values) - header == len(rows), path.name
    return csvs


@pytest.mark.slow
def test_every_table_of_a_run_is_tidy_and_in_the_workbook(fixture_pack):
    csvs = check_published_tables(fixture_pack)
    assert len(csvs) >= 10  # every report's tables
    manifest = json.loads((fixture_pack / "manifest.json").read_text())
    assert Path(manifest["combined"]["workbook"]).name == "northumbria_2022-Q4_tables.xlsx"
    assert manifest["publication"]["published"] == "2023-02-23"
    assert manifest["publication"]["next_publication"] == "2023-05-25"


@pytest.mark.slow
def test_index_page_in_a_real_browser_has_no_serious_accessibility_violation(fixture_pack):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("/usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, "
                    "chromium-driver) are not installed")  # fmt: skip
    from axe_selenium_python import Axe
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    index = (fixture_pack / "index.html").read_text(encoding="utf-8")
    assert "23 February 2023" in index and "25 May 2023" in index and "evidence@" in index
    assert "northumbria_2022-Q4_tables.xlsx" in index
    assert not re.search(r'href="[^"]*\.meta\.csv"', index)  # descriptions sit beside, unlisted
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1280,2400"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get((fixture_pack / "index.html").as_uri())
        assert driver.title.startswith("Quarterly evidence pack")
        shot = fixture_pack.parent / "index.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        keep = Path("/tmp/pack2")  # a copy to look at by eye when that folder exists
        if keep.is_dir():
            shutil.copy(shot, keep / "index.png")
        links = driver.find_elements("css selector", "main a")
        assert links and all(a.text.strip() for a in links)
        axe = Axe(driver)
        axe.inject()
        results = axe.run()
    finally:
        driver.quit()
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, Axe(None).report(bad)


# --- the real 2022-Q4 pack -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pack(real_pack_dir) -> Path:
    """The combined PDF of the real 2022-Q4 pack (shared run)."""
    return real_pack_dir / "northumbria_2022-Q4_pack.pdf"


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pack_outline_main_points_first_and_at_most_35_pages(real_pack):
    assert is_tagged(real_pack)
    outline = outline_pages(real_pack)
    pages = len(PdfReader(real_pack).pages)
    main = [p for _, t, p in outline if "Main points" in t]
    assert main and main[0] <= 3, outline
    # top level: the cover's title, the front section (main points, scorecard), then the
    # first annex chapter
    top = [(t, p) for depth, t, p in outline if depth == 0]
    texts = page_texts(real_pack)
    annexes = [p for _, p in top if "annex a" in texts[p - 1].lower()]
    assert annexes and annexes[0] <= 8, top
    assert [t for t, p in top if p < annexes[0]][1:] == [
        "Main points",
        "Police and Crime Plan scorecard",
    ], top
    assert pages <= 35, pages


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pack_text_has_no_code_words(real_pack):
    found = {}
    for number, text in enumerate(page_texts(real_pack), start=1):
        for word in code_words(text):
            found.setdefault(word, []).append(number)
    assert not found, "; ".join(f"{w!r} on pages {p}" for w, p in sorted(found.items()))


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pack_is_tagged_with_cover_facts(real_pack):
    assert is_tagged(real_pack)
    cover = page_texts(real_pack)[0]
    assert "23 February 2023" in cover and "Publication date" in cover
    assert "not official statistics" in cover


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pack_tables_are_tidy_with_descriptions_and_one_workbook(real_pack):
    """Every CSV of the real 2022-Q4 run, checked as published (no file skipped)."""
    run_dir = real_pack.parent
    csvs = check_published_tables(run_dir)
    names = {p.relative_to(run_dir / "tables").as_posix() for p in csvs}
    assert {"04_reoffending/reoffending_rates.csv", "03_rural_crime/rural_urban.csv"} <= names
    # the national MoJ series: national rows dated by their own cohorts
    rates = pd.read_csv(run_dir / "tables/04_reoffending/reoffending_rates.csv", dtype=str)
    assert set(rates["geographic_level"]) == {"National"}
    assert set(rates["area_code"]) == {"K04000001"}
    assert set(rates["area_name"]) == {"England and Wales"}
    periods = set((rates["time_period"] + " " + rates["time_identifier"]).tolist())
    assert {"2014 Calendar year Q1", "201314 Financial year", "2005 Calendar year"} <= periods
