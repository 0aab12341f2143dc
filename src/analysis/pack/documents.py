"""The documents of a pack: each report's web page and PDF, the combined pack, the index page.

All HTML comes from jinja2 templates under ``src/analysis/templates/``: ``document.html.j2``
(report and combined pack, through :func:`analysis.pdf.document_html`), ``pack/index.html.j2``
(the index page) and ``pack/table.html.j2`` (appendix tables). Published text names a report's
status with a plain reason; exception details go to the log and the manifest only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from analysis.pack.plan import BUILD_DIR, FAILED, PRODUCED, REUSED, SKIPPED, ReportResult
from analysis.params import RunParameters
from analysis.pdf import PackContext, annex_letter

FILE_KINDS = {"street": "Street crime", "outcomes": "Outcomes", "stop_search": "Stop and search"}


def combined_pack_name(force: str, quarter: str) -> str:
    """File stem of the combined pack, e.g. ``northumbria_2022-Q4_pack``."""
    return f"{force}_{quarter}_pack"


def pack_context(
    store,
    run: RunParameters,
    inputs,
    code: dict,
    snapshot: str,
    started: datetime,
    published: date | None = None,
    next_publication: date | None = None,
) -> PackContext:
    """:class:`analysis.pdf.PackContext` for this run: cover facts and the appendix tables.

    Cover facts: the publication date (``published``, default the run date) and the next one
    (default by the rule of ``config/publication.yml``), the date the data was extracted (the
    store snapshot's creation date) with the latest month of police data, producer, contact and
    status line from ``config/publication.yml``.

    Appendix tables: the store's data-quality facts (``quality``) and ledger rows of the quarter's
    months for the force, the run's provenance, and the police input files of the quarter with
    their sha256 (the full list of inputs is in ``manifest.json``).
    """
    import pandas as pd

    from analysis.pdf import html_table, load_publication, long_date

    publication = load_publication()
    published = published or started.date()
    next_publication = next_publication or publication.next_publication(published)
    extracted, latest = _extraction(store, run.force)
    quarter = run.period
    quality = store.quality(run.force, months=quarter.months)
    quality = quality.drop(columns=[c for c in ("force",) if c in quality.columns])
    if "kind" in quality.columns:  # plain words, not the store's table names
        quality = quality.assign(kind=quality["kind"].map(FILE_KINDS).fillna(quality["kind"]))
    if "lsoa_vintage" in quality.columns:  # a year (2021), never a count (2,021)
        vintage = pd.to_numeric(quality["lsoa_vintage"], errors="coerce").astype("Int64")
        quality = quality.assign(lsoa_vintage=vintage.astype(str).replace("<NA>", ""))
    if "present" in quality.columns:  # plain words, not True/False
        quality = quality.assign(present=quality["present"].map({True: "yes", False: "no"}))
    ledger = store.ledger()
    ledger = ledger[(ledger["force"] == run.force) & ledger["month"].isin(quarter.months)]
    ledger = ledger.drop(columns=[c for c in ("force", "sha256") if c in ledger.columns])
    if "kind" in ledger.columns:  # plain words, not the store's table names
        ledger = ledger.assign(kind=ledger["kind"].map(FILE_KINDS).fillna(ledger["kind"]))
    commit = str(code.get("git_commit") or "not a git checkout")
    provenance = pd.DataFrame(  # the force, quarter and dates are on the cover
        [
            ("Finest area level", run.area_level),
            ("Package version", str(code.get("version"))),
            ("Git commit", commit + (" (with local changes)" if code.get("git_dirty") else "")),
            ("Code fingerprint (sha256)", code["fingerprint"][:16]),
            ("Data snapshot", snapshot),
            ("Data extracted", long_date(extracted) or "not recorded"),
            ("Run started (UTC)", started.strftime("%Y-%m-%d %H:%M")),
        ],
        columns=["Item", "Value"],
    )
    months = "|".join(f"{m}-{run.force}-" for m in quarter.months)
    used = inputs[inputs["path"].astype(str).str.contains(months, regex=True)]
    used = used.assign(sha256=used["sha256"].astype(str).str[:16])
    force_name = _force_name(store, run.force)
    return PackContext(
        force=run.force,
        force_name=force_name,
        quarter=str(quarter),
        quarter_label=quarter.label(),
        published=published,
        next_publication=next_publication,
        extracted=long_date(extracted),
        latest_month=latest,
        contact=publication.contact,
        status=publication.status,
        glossary=publication.glossary,
        publisher=publication.producer,
        quality_table=html_table(quality, f"Data-quality facts, {force_name}, {quarter}"),
        ledger_table=html_table(
            ledger, "Row ledger of the quarter's source files: rows read = loaded + quarantined"
        ),
        provenance_table=html_table(provenance, "How this pack was produced"),
        inputs_table=html_table(
            used, f"Police source files of {quarter} (sha256, first 16 hex digits)"
        ),
        quality_note=(
            "Rows without a location cannot be mapped to an area; rows outside the force are "
            "crimes the force recorded at locations outside its local authorities; quarantined "
            "rows failed validation and are counted here, never silently dropped."
        ),
        provenance_note=(
            "Every input and output file's sha256, the package versions and each report's "
            "status and timing are listed in manifest.json beside this document."
        ),
    )


def publication_facts(context: PackContext) -> dict:
    """The publication facts of the cover, for ``manifest.json``."""
    return {
        "published": context.published.isoformat(),
        "next_publication": context.next_publication.isoformat()
        if context.next_publication
        else None,
        "period": f"{context.quarter} ({context.quarter_label})",
        "data_extracted": context.extracted,
        "latest_police_month": context.latest_month,
        "producer": context.publisher,
        "contact": context.contact,
        "status": context.status,
    }


def _extraction(store, force: str) -> tuple[date | None, str]:
    """The date the store snapshot was built (its ``manifest.json``) and the latest month of the
    force's police files in it, e.g. ``December 2022``."""
    created = None
    manifest = Path(store.snapshot_dir) / "manifest.json"
    if manifest.is_file():
        stamp = json.loads(manifest.read_text(encoding="utf-8")).get("created")
        created = datetime.fromisoformat(stamp).date() if stamp else None
    months = store.months(force, "street")
    latest = datetime.strptime(months[-1], "%Y-%m").strftime("%B %Y") if months else ""
    return created, latest


def _force_name(store, force: str) -> str:
    forces = store.table("forces") if "forces" in _views(store) else None
    if forces is not None:
        names = forces.loc[forces["force"] == force, "pfa_name"].dropna().unique()
        if len(names):
            return str(names[0])
    return force.replace("-", " ").title()


def _views(store) -> set[str]:
    found = store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")
    return set(found["view_name"])


# --- one report (in a worker) -------------------------------------------------------------------


def write_report_html(executed: Path, name: str, staging: Path, context: PackContext) -> str:
    """Convert executed notebook ``name`` to its body (cached in ``.build/`` for the combined
    pack) and its own web page ``<name>.html``; returns the report's title."""
    from analysis.pdf import document_html, report_fragment, write_text

    fragment = report_fragment(executed, name)
    cached = {
        "name": fragment.name,
        "title": fragment.title,
        "body": fragment.body,
        "headings": [[h.level, h.text, h.id, h.printed] for h in fragment.headings],
    }
    write_text(json.dumps(cached), staging / BUILD_DIR / f"{name}.fragment.json")
    subtitle = f"{context.force_name}, {context.quarter_label}"
    document = document_html(fragment.title, subtitle, [fragment], context)
    write_text(document, staging / f"{name}.html")
    return fragment.title


def load_fragment(staging: Path, name: str):
    """The :class:`analysis.pdf.ReportFragment` :func:`write_report_html` cached."""
    from analysis.pdf import Heading, ReportFragment

    data = json.loads((staging / BUILD_DIR / f"{name}.fragment.json").read_text(encoding="utf-8"))
    headings = tuple(Heading(int(h[0]), h[1], h[2], bool(h[3])) for h in data["headings"])
    return ReportFragment(data["name"], data["title"], data["body"], headings)


# --- the whole pack -----------------------------------------------------------------------------


def front_section(names: Iterable[str]) -> str | None:
    """The first report of the front section (the main points, notebook ``00_...``)."""
    return next(iter(front_sections(names)), None)


def front_sections(names: Iterable[str]) -> list[str]:
    """The reports printed together as the front section, before the annexes: every notebook
    ``00_...`` (the main points, then the scorecard)."""
    return [n for n in names if n.startswith("00_")]


def write_combined(
    staging: Path, entries: Iterable, context: PackContext, pdf: bool, reports: Iterable[str] = ()
) -> tuple[list[Path], list[Path]]:
    """The combined pack (HTML and, when ``pdf``, PDF) and the PDFs of ``reports``.

    Included reports in pack order: the front section (main points, scorecard) first, every other report as
    an annex chapter, then the glossary and the technical appendix; the reports left out are
    named on its contents page with their plain reason. The pack is laid out once: each report's
    PDF is the cover and that report's pages of the same layout (so its page numbers are the
    pack's). Returns the combined files and the report PDFs written.
    """
    from analysis.pdf import (
        document_html,
        render_document,
        section_pages,
        write_rendered,
        write_text,
    )

    entries = list(entries)
    fragments = [load_fragment(staging, e.name) for e in entries if e.included]
    missing = [
        {"title": e.title, "status": e.status, "reason": e.reason}
        for e in entries
        if not e.included
    ]
    stem = combined_pack_name(context.force, context.quarter)
    document = document_html(
        f"Quarterly evidence pack: {context.force_name}, {context.quarter}",
        f"Police and Crime Plan evidence for {context.quarter_label}",
        fragments,
        context,
        not_included=missing,
        front=front_sections(f.name for f in fragments),
    )
    written = [write_text(document, staging / f"{stem}.html")]
    printed: list[Path] = []
    if pdf:
        rendered = render_document(document, staging)
        written.append(write_rendered(rendered, staging / f"{stem}.pdf"))
        # the glossary runs on from the last chapter's page, so that chapter ends at the appendix
        anchors = [f"report-{f.name}" for f in fragments] + ["appendix"]
        pages = section_pages(rendered, anchors)
        for name in reports:
            if f"report-{name}" in pages:
                chapter = [0, *pages[f"report-{name}"]]
                printed.append(write_rendered(rendered, staging / f"{name}.pdf", chapter))
    return written, printed


def workbook_name(force: str, quarter: str) -> str:
    """Path of the run's Excel workbook inside the publication."""
    return f"tables/{force}_{quarter}_tables.xlsx"


def published_csvs(staging: Path, name: str) -> list[Path]:
    """The data CSVs of report ``name`` (not their ``.meta.csv`` descriptions)."""
    folder = staging / "tables" / name
    return sorted(p for p in folder.rglob("*.csv") if not p.name.endswith(".meta.csv"))


def _cell(value: str):
    """A CSV cell for the workbook: a number when it is one, else the text (symbols)."""
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def write_tables_workbook(
    staging: Path, results: list[ReportResult], context: PackContext
) -> Path | None:
    """One accessible Excel workbook of every published table of the run (cover, contents, notes
    and one sheet per table: :func:`analysis.tidy.write_workbook`); ``None`` without tables."""
    return write_workbook_of(staging, [r.name for r in results if r.included], context)


def workbook_key(
    staging: Path, names: Iterable[str], context: PackContext, fingerprint: str
) -> str:
    """Cache key of the workbook of reports ``names``: sha256 over the code ``fingerprint``,
    the facts its cover prints (force, quarter, publication date, status, contact) and the
    name and sha256 of every CSV it is made from, in order. Equal keys mean an equal workbook
    (up to the creation time xlsx files carry), so a warm run keeps the one it has."""
    import hashlib

    from analysis.pack.manifest import file_sha256

    tables = [
        [path.relative_to(staging).as_posix(), file_sha256(path)]
        for name in names
        for path in published_csvs(staging, name)
    ]
    facts = [context.force, context.force_name, context.quarter, context.quarter_label,
             context.published.isoformat(), context.status, context.contact]  # fmt: skip
    payload = {"code": fingerprint, "facts": facts, "tables": tables}
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


def write_workbook_of(staging: Path, names: Iterable[str], context: PackContext) -> Path | None:
    """:func:`write_tables_workbook` of the reports ``names`` (notebook stems, in pack order):
    each sheet the tidy CSV as published (numbers as numbers, symbols as text)."""
    from analysis.tidy import read_published, write_workbook

    tables = {}
    for name in names:
        number = name.split("_", 1)[0]
        for path in published_csvs(staging, name):
            tables[f"r{number}_{path.stem}"] = read_published(path).map(_cell)  # tidy already
    if not tables:
        return None
    return write_workbook(
        tables,
        staging / workbook_name(context.force, context.quarter),
        title=f"Quarterly evidence pack tables: {context.force_name}, {context.quarter}",
        about=[
            f"Every table of the quarterly evidence pack for {context.force_name}, "
            f"{context.quarter} ({context.quarter_label}), one per sheet.",
            f"Publication date: {context.published.isoformat()}. {context.status}",
        ],
        contact=[context.contact] if context.contact else [],
        source="Police open data (data.police.uk); ONS and Ministry of Justice reference data",
    )


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def front_summary(staging: Path, results: list[ReportResult]) -> tuple[str, str]:
    """``(heading, html)`` for the index page from the front section's body: its "Main points"
    part when it has one, else its first table (the scorecard); empty when neither exists."""
    import re

    front = front_section(r.name for r in results if r.included)
    path = staging / BUILD_DIR / f"{front}.fragment.json"
    if front is None or not path.is_file():
        return "", ""
    body = load_fragment(staging, front).body
    heads = list(re.finditer(r"<h([1-3])[^>]*>(.*?)</h\1>", body, re.DOTALL))
    for i, head in enumerate(heads):
        if "main points" in re.sub(r"<[^>]+>", "", head.group(2)).lower():
            stop = next((h.start() for h in heads[i + 1 :] if h.group(1) <= head.group(1)), None)
            return "Main points", body[head.end() : stop]
    table = re.search(r"<table.*?</table>", body, re.DOTALL)
    return ("Scorecard", table.group(0)) if table else ("", "")


def table_description(path: Path) -> str:
    """One line describing a published CSV from its ``.meta.csv``: rows and figures given
    (confidence limits, ``*_low``/``*_high``, left out: they go with the figure before them)."""
    import csv
    import re

    with path.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in handle) - 1
    meta = path.with_name(f"{path.stem}.meta.csv")
    figures = []
    if meta.is_file():
        with meta.open(encoding="utf-8", newline="") as handle:
            figures = [
                r["label"]
                for r in csv.DictReader(handle)
                if r["col_type"] == "Indicator"
                and not re.fullmatch(r"(.+_)?(low|high)", r["col_name"])
            ]
    shown = ", ".join(f.lower() for f in figures[:4]) + (", ..." if len(figures) > 4 else "")
    return f"{rows:,} rows" + (f" of {shown}" if shown else "")


def write_index(
    staging: Path,
    results: list[ReportResult],
    context: PackContext,
    combined: list[Path],
    workbook: Path | None = None,
) -> Path:
    """The HTML edition, ``index.html`` (``templates/pack/index.html.j2``): publication dates and
    contact, the main points (or the scorecard) of the front section, each chapter's web page and
    PDF, every published table as a CSV with a one-line description, and the Excel workbook."""
    from markupsafe import Markup

    from analysis.pdf import jinja_environment, long_date, write_text

    def doc(path: Path, kind: str) -> dict:
        return {"href": path.relative_to(staging).as_posix(), "kind": kind, "size": _size(path)}

    from analysis.reports import REPORTS

    titles = {spec.notebook: spec.title for spec in REPORTS}
    fronts = front_sections(r.name for r in results if r.included)
    reports, annexes = [], 0
    for r in results:
        files = [(staging / f"{r.name}{sfx}", kind) for sfx, kind in ((".html", "web page"), (".pdf", "PDF"))]  # fmt: skip
        tables = published_csvs(staging, r.name) if r.included else []
        label = ""
        if r.included and fronts and r.name not in fronts:
            label, annexes = f"Annex {annex_letter(annexes)}", annexes + 1
        reports.append(
            {
                "title": r.title or titles.get(r.name, r.name),
                "label": label,
                "status": "produced" if r.included else r.status,
                "reason": None if r.included else r.reason,
                "documents": [doc(p, k) for p, k in files if r.included and p.is_file()],
                "tables": [
                    {
                        **doc(p, "CSV"),
                        "label": p.stem.replace("_", " ").capitalize(),
                        "description": table_description(p),
                    }
                    for p in tables
                ],
            }
        )
    heading, summary = front_summary(staging, results)
    ordered = sorted((p for p in combined if p.is_file()), key=lambda p: p.suffix != ".pdf")
    page = (
        jinja_environment()
        .get_template("pack/index.html.j2")
        .render(
            force_name=context.force_name,
            quarter=context.quarter,
            quarter_label=context.quarter_label,
            published=long_date(context.published),
            next_publication=long_date(context.next_publication),
            extracted=context.extracted,
            producer=context.publisher,
            contact=context.contact,
            status=context.status,
            summary_heading=heading,
            summary=Markup(summary),
            combined=[doc(p, "PDF" if p.suffix == ".pdf" else "web page") for p in ordered],
            workbook=doc(workbook, "Excel workbook") if workbook and workbook.is_file() else None,
            reports=reports,
        )
    )
    return write_text(page, staging / "index.html")


def summary_table(results: list[ReportResult]):
    """rich Table summarising the run for the terminal: report, status, seconds, reason."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Quarterly pack")
    for col in ("Report", "Status", "Seconds", "Reason"):
        table.add_column(col, justify="right" if col == "Seconds" else "left")
    colours = {PRODUCED: "green", REUSED: "green", SKIPPED: "yellow", FAILED: "red"}
    for r in results:
        reason = escape(r.reason or "") + (f" [dim]({escape(r.error)})[/]" if r.error else "")
        table.add_row(r.name, f"[{colours[r.status]}]{r.status}[/]", f"{r.seconds:.1f}", reason)
    return table
