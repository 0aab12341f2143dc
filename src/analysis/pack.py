"""``crimeplan run``: the quarterly pack for one force and quarter, from raw files to PDFs.

Steps (:func:`run_pack`):

1. validate the parameters before anything runs (quarter format, force slug, ``--only`` names,
   ``--jobs``); Papermill renders parameters into notebooks as code, so only validated plain
   values ever reach a notebook;
2. bring the store up to date (incremental ``analysis.ingest.ingest``; no work when unchanged);
3. check the force and the quarter's three months are in the store (default quarter: the latest
   complete one);
4. execute each report notebook with Papermill into ``<output>/<force>/<quarter>/`` in parallel
   (up to ``--jobs`` processes), each notebook writing its own tables under ``tables/<NN_report>/``;
   a notebook whose data is absent for the period is skipped with its module's stated reason, a
   failing notebook never stops the others, and a notebook whose inputs are unchanged since the
   last run (same notebook, code, parameters and store snapshot) is reused, not re-run;
5. render each report to accessible HTML and a tagged PDF (PDF/UA-1), then the combined pack
   (scorecard first), an accessible ``index.html`` linking everything, and ``manifest.json``.

Exit codes (also in ``docs/scheduling.md``): 0 every report produced; 1 at least one report
failed; 2 bad parameters or unusable input (nothing executed); 4 some reports skipped for absent
data and none failed.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from analysis.errors import CrimeplanError
from analysis.params import FORCE_PATTERN, ParameterError, Quarter, RunParameters
from analysis.paths import NOTEBOOKS_DIR

REPORTS: tuple[str, ...] = (
    "00_plan_scorecard",
    "01_crime_by_area",
    "02_stop_search_disparity",
    "03_rural_crime",
    "04_reoffending",
    "05_justice_outcomes",
)
REPORT_MODULES: dict[str, str] = {
    "00_plan_scorecard": "scorecard",
    "01_crime_by_area": "crime_by_area",
    "02_stop_search_disparity": "stop_search",
    "03_rural_crime": "rural_crime",
    "04_reoffending": "reoffending",
    "05_justice_outcomes": "justice_outcomes",
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SKIPPED = 4
EXIT_MEANINGS = {
    EXIT_OK: "every report produced",
    EXIT_FAILED: "at least one report failed",
    EXIT_BAD_INPUT: "bad parameters or input; nothing executed",
    EXIT_SKIPPED: "some reports skipped for absent data; none failed",
}

PRODUCED, REUSED, SKIPPED, FAILED = "produced", "reused", "skipped", "failed"
BUILD_DIR = ".build"  # per-report HTML fragments for the combined pack
STREET = "street"


class PackInputError(CrimeplanError):
    """A run parameter or the data it needs is unusable; raised before any notebook runs."""

    exit_code = EXIT_BAD_INPUT


@dataclass
class ReportResult:
    """Outcome of one report in a pack run."""

    name: str
    status: str
    reason: str | None = None
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    title: str | None = None
    cache_key: str | None = None
    execute_seconds: float = 0.0
    render_seconds: float = 0.0
    produced_seconds: float | None = None  # seconds of the run that produced the outputs in use

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 2),
            "execute_seconds": round(self.execute_seconds, 2),
            "render_seconds": round(self.render_seconds, 2),
            "produced_seconds": round(self.seconds, 2)
            if self.status == PRODUCED
            else self.produced_seconds,
            "outputs": self.outputs,
            "cache_key": self.cache_key,
        }


# --- parameters -------------------------------------------------------------------------------


def select_reports(
    only: list[str] | tuple[str, ...], reports: tuple[str, ...] = REPORTS
) -> list[str]:
    """The reports ``--only`` asks for, in pack order (all of them when ``only`` is empty).

    Each item is a report name with or without its number (``stop_search_disparity``,
    ``02_stop_search_disparity``) or a unique prefix of one (``stop_search``, ``02``).
    """
    if not only:
        return list(reports)
    chosen: set[str] = set()
    for item in only:
        text = str(item).strip()
        matches = [
            r
            for r in reports
            if r == text
            or r.split("_", 1)[1] == text
            or r.startswith(text)
            or r.split("_", 1)[1].startswith(text)
        ]
        if not text or not matches:
            raise PackInputError(
                f"--only {item!r} names no report; reports are {', '.join(reports)}"
            )
        if len(matches) > 1:
            raise PackInputError(f"--only {item!r} is ambiguous: it matches {', '.join(matches)}")
        chosen.add(matches[0])
    return [r for r in reports if r in chosen]


def validate_quarter(text: str) -> Quarter:
    """Parse ``YYYY-Qn`` strictly; anything else raises :class:`PackInputError` (exit code 2)."""
    try:
        return Quarter.parse(text)
    except ParameterError as err:
        raise PackInputError(str(err)) from None


def validate_force(text: str) -> str:
    """A data.police.uk force slug (lower-case letters, digits, hyphens) or :class:`PackInputError`."""
    if not isinstance(text, str) or not FORCE_PATTERN.fullmatch(text):
        raise PackInputError(
            f"force must be a data.police.uk slug like 'northumbria', got {text!r}"
        )
    return text


def default_jobs() -> int:
    """Default parallelism: the number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def latest_complete_quarter(months: list[str]) -> Quarter | None:
    """The latest quarter all three of whose months are in ``months`` (``YYYY-MM``), else None."""
    held = set(months)
    quarters = sorted({Quarter.of_month(m) for m in held}, reverse=True)
    return next((q for q in quarters if all(m in held for m in q.months)), None)


def check_quarter_in_store(quarter: Quarter, months: list[str], force: str) -> None:
    """Raise :class:`PackInputError` unless every month of ``quarter`` is among ``months``."""
    missing = [m for m in quarter.months if m not in set(months)]
    if missing:
        span = f"{months[0]} to {months[-1]}" if months else "none"
        raise PackInputError(
            f"quarter {quarter} is not complete in the store for {force}: missing street months "
            f"{', '.join(missing)} (months held: {span})"
        )


# --- data: ingest and store ---------------------------------------------------------------------


def _has_raw_police_files(raw_dir: Path) -> bool:
    police = raw_dir / "police"
    return police.is_dir() and any(police.rglob("*.csv"))


def _store_exists(processed_dir: Path) -> bool:
    return (processed_dir / "CURRENT").exists()


def no_data_message(raw_dir: Path, processed_dir: Path, force: str) -> str:
    """The one sentence shown when there is neither raw data nor a processed store."""
    return (
        f"no police data: {raw_dir}/police holds no files and there is no processed store at "
        f"{processed_dir}. Fetch data with `crimeplan fetch --force {force} --from YYYY-MM --to "
        f"YYYY-MM --reference` (needs internet), or point at a folder holding police/ and "
        f"reference/ with `--raw-dir DIR` (make report RAW_DIR=DIR), e.g. ../shared/data"
    )


def likely_published_quarter(today: date) -> Quarter:
    """The latest quarter data.police.uk has most probably published by ``today``.

    A month is usually published 6-8 weeks after it ends, so the month two months before
    ``today`` is taken as the latest available; the answer is the latest quarter ending on or
    before that month.
    """
    index = today.year * 12 + today.month - 1 - 2
    year, month = divmod(index, 12)
    quarter = Quarter.of_month(f"{year}-{month + 1:02d}")
    return quarter if month + 1 == 3 * quarter.q else quarter.previous


def update_store(
    raw_dir: Path, processed_dir: Path, force: str, quarter: Quarter | None, console
) -> str:
    """Bring the processed store up to date; returns a one-line note of what was done.

    Raw police files present: incremental ingest (no work when unchanged). None, but a store
    exists: the store is used as it is. Neither: fetch the 24 months ending with ``quarter``
    (default :func:`likely_published_quarter`) plus the reference data, then ingest; when the
    download fails (offline) raise :class:`PackInputError` saying how to fetch or point at data.
    """
    from analysis import ingest as ingesting

    if not _has_raw_police_files(raw_dir):
        if _store_exists(processed_dir):
            return f"no raw files in {raw_dir}: using the processed store as it is"
        from analysis import fetch as fetching

        quarter = quarter or likely_published_quarter(datetime.now(timezone.utc).date())

        months = [m for k in range(-7, 1) for m in quarter.shift(k).months]
        console.print(f"No raw data in {raw_dir}: fetching {months[0]} to {months[-1]} for {force}")
        try:
            fetching.fetch_police(
                force=force, start=months[0], end=months[-1], raw_dir=raw_dir, base_url=None
            )
            fetching.fetch_reference(raw_dir=raw_dir)
        except CrimeplanError as err:
            raise PackInputError(
                f"{err}. {no_data_message(raw_dir, processed_dir, force)}"
            ) from None
    started = time.perf_counter()
    ingesting.ingest(raw_dir=raw_dir, processed_dir=processed_dir, progress=sys.stderr.isatty())
    return f"store brought up to date from {raw_dir} in {time.perf_counter() - started:.1f} s"


def missing_data_reasons(store, run: RunParameters, names: list[str]) -> dict[str, str | None]:
    """Each report module's ``missing_data_reason(store, run)`` (None: the report can run).

    A module that cannot be imported or whose check raises gives ``"error: ..."``: the report is
    then counted as failed, not skipped.
    """
    import importlib

    reasons: dict[str, str | None] = {}
    for name in names:
        module_name = f"analysis.reports.{REPORT_MODULES[name]}"
        try:
            module = importlib.import_module(module_name)
            reasons[name] = module.missing_data_reason(store, run)
        except Exception as err:  # a broken report module must not stop the others
            reasons[name] = (
                f"error: {module_name}.missing_data_reason failed: {type(err).__name__}: {err}"
            )
    return reasons


def pack_context(store, run: RunParameters, inputs, code: dict, snapshot: str, started: datetime):
    """:class:`analysis.pdf.PackContext` for this run: cover facts and the appendix tables.

    Appendix tables: the store's data-quality facts (``quality``) and ledger rows of the quarter's
    months for the force, the run's provenance, and the police input files of the quarter with
    their sha256 (the full list of inputs is in ``manifest.json``).
    """
    import pandas as pd

    from analysis.pdf import PackContext, html_table

    quarter = run.period
    quality = store.quality(run.force, months=quarter.months)
    quality = quality.drop(columns=[c for c in ("force",) if c in quality.columns])
    ledger = store.ledger()
    ledger = ledger[(ledger["force"] == run.force) & ledger["month"].isin(quarter.months)]
    ledger = ledger.drop(columns=[c for c in ("force", "sha256") if c in ledger.columns])
    provenance = pd.DataFrame(
        [
            ("Force", run.force),
            ("Quarter", f"{quarter} ({quarter.label()})"),
            ("Finest area level", run.area_level),
            ("Package version", str(code.get("version"))),
            (
                "Git commit",
                str(code.get("git_commit") or "not a git checkout")
                + (" (with local changes)" if code.get("git_dirty") else ""),
            ),
            ("Code fingerprint (sha256)", code["fingerprint"][:16]),
            ("Store snapshot", snapshot),
            ("Run started (UTC)", started.strftime("%Y-%m-%d %H:%M")),
        ],
        columns=["Item", "Value"],
    )
    used = inputs[
        inputs["path"]
        .astype(str)
        .str.contains("|".join(f"{m}-{run.force}-" for m in quarter.months), regex=True)
    ]
    used = used.assign(sha256=used["sha256"].astype(str).str[:16])
    force_name = _force_name(store, run.force)
    return PackContext(
        force=run.force,
        force_name=force_name,
        quarter=str(quarter),
        quarter_label=quarter.label(),
        published=started.date(),
        quality_table=html_table(
            quality, f"Data-quality facts, {force_name}, {quarter} (store table quality)"
        ),
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
            "Every input file's sha256, the package versions and each report's status and timing "
            "are listed in manifest.json beside this document."
        ),
    )


def _force_name(store, force: str) -> str:
    try:
        forces = store.table("forces")
        names = forces.loc[forces["force"] == force, "pfa_name"].dropna().unique()
        if len(names):
            return str(names[0])
    except Exception:  # reference table absent (e.g. a pseudo-force): fall back to the slug
        pass
    return force.replace("-", " ").title()


# --- one report (runs in a worker process) ------------------------------------------------------


def _relative(paths: list[Path], root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in paths if p.exists())


def report_outputs(name: str, run_dir: Path) -> list[Path]:
    """Every file report ``name`` has in ``run_dir``: executed notebook, HTML, PDF, tables."""
    candidates = [
        run_dir / "notebooks" / f"{name}.ipynb",
        run_dir / f"{name}.html",
        run_dir / f"{name}.pdf",
    ]
    tables = run_dir / "tables" / name
    if tables.is_dir():
        candidates += sorted(tables.rglob("*.csv"))
    return [p for p in candidates if p.exists()]


def _error_reason(err: BaseException) -> str:
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    cell = getattr(err, "exec_count", None)
    where = f"cell {cell}: " if cell is not None else ""
    text = f"{where}{ename}: {evalue}".strip()
    return text.splitlines()[0] if text else ename


def produce_report(task: dict) -> dict:
    """Execute one report notebook and write its web page (worker entry point; plain dict in and
    out). Its PDF is a separate job (:func:`render_report_pdf`) so PDFs and the combined pack
    share the workers with the notebooks still running.

    ``task`` keys: ``name``, ``notebooks_dir``, ``parameters`` (RunParameters fields), ``run_dir``,
    ``pdf``, ``context`` (PackContext), ``timeout``. The report's old tables and documents are
    removed first so nothing stale is published. Returns a :class:`ReportResult` as a dict.
    """
    from analysis.execute import execute_report
    from analysis.pdf import document_html, report_fragment, write_text

    started = time.perf_counter()
    name = task["name"]
    run_dir = Path(task["run_dir"])
    params = RunParameters(**task["parameters"])
    shutil.rmtree(run_dir / "tables" / name, ignore_errors=True)
    for stale in (run_dir / f"{name}.pdf", run_dir / f"{name}.html"):
        stale.unlink(missing_ok=True)
    executed = run_dir / "notebooks" / f"{name}.ipynb"
    result = ReportResult(name=name, status=FAILED)
    try:
        execute_report(
            name,
            params,
            executed,
            timeout=task["timeout"],
            notebooks_dir=Path(task["notebooks_dir"]),
        )
        result.execute_seconds = time.perf_counter() - started
        fragment = report_fragment(executed, name)
        result.title = fragment.title
        build = run_dir / BUILD_DIR
        write_text(
            json.dumps({"name": fragment.name, "title": fragment.title, "body": fragment.body,
                        "headings": [[h.level, h.text, h.id] for h in fragment.headings]}),
            build / f"{name}.fragment.json",
        )  # fmt: skip
        context = task["context"]
        document = document_html(
            fragment.title, f"{context.force_name}, {context.quarter_label}", [fragment], context
        )
        write_text(document, run_dir / f"{name}.html")
        result.status = PRODUCED
        result.render_seconds = time.perf_counter() - started - result.execute_seconds
    except Exception as err:  # one failing report never stops the others: record why
        result.reason = _error_reason(err)
        if not hasattr(err, "ename"):
            result.reason += (
                " | "
                + "".join(traceback.format_exception_only(type(err), err)).strip().splitlines()[-1]
            )
    result.seconds = time.perf_counter() - started
    result.outputs = _relative(report_outputs(name, run_dir), run_dir)
    return result.as_dict()


def render_report_pdf(task: dict) -> dict:
    """Print report ``task["name"]``'s web page to its PDF (worker entry point).

    Returns ``{"name", "seconds", "error"}`` (``error`` None on success).
    """
    from analysis.pdf import write_pdf

    started = time.perf_counter()
    run_dir, name = Path(task["run_dir"]), task["name"]
    error = None
    try:
        write_pdf((run_dir / f"{name}.html").read_text(encoding="utf-8"), run_dir / f"{name}.pdf")
    except Exception as err:  # recorded against the report; the others carry on
        error = f"PDF rendering failed: {type(err).__name__}: {err}".splitlines()[0]
    return {"name": name, "seconds": time.perf_counter() - started, "error": error}


def render_combined(task: dict) -> dict:
    """Write the combined pack for ``task`` (``run_dir``, ``results``, ``context``, ``pdf``)
    (worker entry point). Returns ``{"outputs", "seconds", "error"}``."""
    started = time.perf_counter()
    try:
        files = write_combined(Path(task["run_dir"]), task["results"], task["context"], task["pdf"])
        outputs, error = [p.name for p in files], None
    except Exception as err:  # recorded in the manifest and the exit code
        outputs, error = [], f"{type(err).__name__}: {err}".splitlines()[0]
    return {"outputs": outputs, "seconds": time.perf_counter() - started, "error": error}


def load_fragment(run_dir: Path, name: str):
    """The :class:`analysis.pdf.ReportFragment` a previous :func:`produce_report` saved."""
    from analysis.pdf import Heading, ReportFragment

    data = json.loads((run_dir / BUILD_DIR / f"{name}.fragment.json").read_text(encoding="utf-8"))
    return ReportFragment(
        name=data["name"], title=data["title"], body=data["body"],
        headings=tuple(Heading(int(lv), tx, i) for lv, tx, i in data["headings"]),
    )  # fmt: skip


# --- the pack -----------------------------------------------------------------------------------


def combined_pack_name(force: str, quarter: str) -> str:
    """File stem of the combined pack, e.g. ``northumbria_2022-Q4_pack``."""
    return f"{force}_{quarter}_pack"


def write_combined(run_dir: Path, results: list[ReportResult], context, pdf: bool) -> list[Path]:
    """The combined pack (HTML and, when ``pdf``, PDF): produced reports in pack order, scorecard
    first; skipped or failed reports are named on its contents page with their reason."""
    from analysis.pdf import document_html, write_pdf, write_text

    done = [r for r in results if r.status in (PRODUCED, REUSED)]
    fragments = [load_fragment(run_dir, r.name) for r in done]
    missing = [
        {"title": r.title or r.name, "status": r.status, "reason": r.reason or ""}
        for r in results
        if r.status not in (PRODUCED, REUSED)
    ]
    stem = combined_pack_name(context.force, context.quarter)
    document = document_html(
        f"Quarterly evidence pack: {context.force_name}, {context.quarter}",
        f"Police and Crime Plan evidence for {context.quarter_label}",
        fragments,
        context,
        not_included=missing,
    )
    written = [write_text(document, run_dir / f"{stem}.html")]
    if pdf:
        written.append(write_pdf(document, run_dir / f"{stem}.pdf"))
    return written


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def index_html(run_dir: Path, results: list[ReportResult], context, combined: list[Path]) -> str:
    """Accessible ``index.html``: language, title, headings, descriptive link text (format and
    size), every report's status, and every published table as a CSV link."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Quarterly evidence pack: {esc(context.force_name)}, {esc(context.quarter)}</title>",
        "<style>body{font-family:Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;color:#0b0c0c}a{color:#12436d}table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;border-bottom:1px solid #b1b4b6;padding:.4rem;vertical-align:top}"
        "caption{text-align:left;font-weight:bold;padding:.4rem 0}</style></head><body>",
        "<header>",
        f"<h1>Quarterly evidence pack: {esc(context.force_name)}, {esc(context.quarter)}</h1>",
        f"<p>Police and Crime Plan evidence for {esc(context.quarter_label)}, produced "
        f"{context.published.isoformat()} from police open data (data.police.uk) and ONS, MHCLG "
        "and Ministry of Justice reference data (Open Government Licence v3.0).</p>",
        "</header><main>",
        '<h2 id="pack">The whole pack</h2><ul>',
    ]
    for path in sorted(combined, key=lambda p: p.suffix != ".pdf"):
        kind = "PDF" if path.suffix == ".pdf" else "web page"
        parts.append(
            f'<li><a href="{esc(path.name)}">Complete quarterly pack ({kind}, {_size(path)})</a></li>'
        )
    parts.append(
        '<li><a href="manifest.json">Run manifest: parameters, code version, input checksums (JSON)</a></li></ul>'
    )
    parts.append('<h2 id="reports">Reports</h2>')
    parts.append("<table><caption>Reports in this pack, their status and documents</caption><thead><tr>"
                 '<th scope="col">Report</th><th scope="col">Status</th><th scope="col">Documents</th></tr></thead><tbody>')  # fmt: skip
    for r in results:
        title = r.title or r.name
        links = []
        for suffix, kind in ((".pdf", "PDF"), (".html", "web page")):
            path = run_dir / f"{r.name}{suffix}"
            if path.exists() and r.status in (PRODUCED, REUSED):
                links.append(f'<a href="{esc(path.name)}">{esc(title)} ({kind}, {_size(path)})</a>')
        status = "produced" if r.status in (PRODUCED, REUSED) else r.status
        reason = f": {esc(r.reason)}" if r.reason else ""
        parts.append(
            f"<tr><td>{esc(title)}</td><td>{esc(status)}{reason}</td><td>{'<br>'.join(links) or 'none'}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append('<h2 id="tables">Tables (CSV)</h2>')
    any_table = False
    for r in results:
        tables = (
            sorted((run_dir / "tables" / r.name).rglob("*.csv"))
            if r.status in (PRODUCED, REUSED)
            else []
        )
        if not tables:
            continue
        any_table = True
        parts.append(f"<h3>{esc(r.title or r.name)}</h3><ul>")
        for path in tables:
            rel = path.relative_to(run_dir).as_posix()
            label = path.stem.replace("_", " ")
            parts.append(f'<li><a href="{esc(rel)}">{esc(label)} (CSV, {_size(path)})</a></li>')
        parts.append("</ul>")
    if not any_table:
        parts.append("<p>No tables were produced.</p>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def summary_table(results: list[ReportResult]):
    """rich Table summarising the run: report, status, seconds, reason."""
    from rich.table import Table

    table = Table(title="Quarterly pack")
    for col in ("Report", "Status", "Seconds", "Reason"):
        table.add_column(col, justify="right" if col == "Seconds" else "left")
    colours = {PRODUCED: "green", REUSED: "green", SKIPPED: "yellow", FAILED: "red"}
    for r in results:
        table.add_row(
            r.name, f"[{colours[r.status]}]{r.status}[/]", f"{r.seconds:.1f}", r.reason or ""
        )
    return table


def pack_exit_code(results: list[ReportResult]) -> int:
    """1 when any report failed, else 4 when any was skipped, else 0."""
    statuses = {r.status for r in results}
    if FAILED in statuses:
        return EXIT_FAILED
    if SKIPPED in statuses:
        return EXIT_SKIPPED
    return EXIT_OK


@dataclass
class CombinedPlan:
    """What the combined pack needs this run: its cache key, files and whether to render."""

    key: str | None
    files: list[Path]
    render: bool


def plan_combined(run_dir: Path, ordered: list[ReportResult], context, pdf: bool, fingerprint: str,
                  previous: dict | None) -> CombinedPlan:  # fmt: skip
    """Decide the combined pack from the reports' final statuses: nothing to include (old files
    removed), unchanged since the previous run (reused), or to be rendered."""
    from analysis.manifest import combined_key

    stem = combined_pack_name(context.force, context.quarter)
    html_path, pdf_path = run_dir / f"{stem}.html", run_dir / f"{stem}.pdf"
    if not pdf:
        pdf_path.unlink(missing_ok=True)
    produced = [(r.name, r.cache_key or "") for r in ordered if r.status in (PRODUCED, REUSED)]
    if not produced:
        html_path.unlink(missing_ok=True)
        pdf_path.unlink(missing_ok=True)
        return CombinedPlan(None, [], False)
    left_out = [(r.name, r.status, r.reason) for r in ordered if r.status in (SKIPPED, FAILED)]
    key = combined_key([*produced, ("not-included", json.dumps(left_out))], fingerprint)
    files = [html_path] + ([pdf_path] if pdf else [])
    same = (previous or {}).get("combined", {}).get("cache_key") == key
    return CombinedPlan(key, files, not (same and all(p.exists() for p in files)))


def run_reports(tasks: list[dict], jobs: int, results: dict[str, ReportResult], console,
                combined: Callable[[], tuple[CombinedPlan, dict]]) -> dict:  # fmt: skip
    """Execute every task's notebook, print its PDF and render the combined pack, sharing up to
    ``jobs`` spawned worker processes (each notebook runs in its own kernel).

    A report's PDF job starts as soon as its notebook has run; the combined pack's job starts as
    soon as every notebook has run (``combined()`` is then called for its plan and job), so the
    last PDFs and the combined pack render side by side. Updates ``results`` and a progress
    display; returns the combined pack's manifest entry.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    pdf_jobs = sum(1 for t in tasks if t["pdf"])
    workers = max(1, min(jobs, len(tasks) + pdf_jobs))
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
    entry: dict = {"cache_key": None, "outputs": [], "seconds": 0.0, "reused": False, "error": None}

    def on_executed(done: dict) -> dict | None:
        r = results[done["name"]]
        for attr in (
            "status",
            "reason",
            "seconds",
            "outputs",
            "title",
            "execute_seconds",
            "render_seconds",
        ):
            setattr(r, attr, done.get(attr, getattr(r, attr)))
        timing = (
            f"notebook {r.execute_seconds:.1f} s" if r.status == PRODUCED else f"{r.seconds:.1f} s"
        )
        progress.console.print(
            f"  {r.name}: {r.status} ({timing})" + (f": {r.reason}" if r.reason else "")
        )
        progress.advance(bar)
        task = next(t for t in tasks if t["name"] == r.name)
        return task if (r.status == PRODUCED and task["pdf"]) else None

    def on_pdf(done: dict) -> None:
        r = results[done["name"]]
        r.render_seconds += done["seconds"]
        r.seconds += done["seconds"]
        if done["error"]:
            r.status, r.reason = FAILED, done["error"]
        r.outputs = _relative(
            report_outputs(r.name, Path(tasks[0]["run_dir"])), Path(tasks[0]["run_dir"])
        )
        progress.console.print(
            f"  {r.name}: PDF {'failed' if done['error'] else 'printed'} ({done['seconds']:.1f} s)"
        )
        progress.advance(bar)

    def start_combined() -> tuple[dict, dict] | None:
        plan, job = combined()
        entry["cache_key"], entry["outputs"] = plan.key, [p.name for p in plan.files]
        entry["reused"] = plan.key is not None and not plan.render
        if not plan.render:
            return None
        progress.console.print("  rendering the combined pack")
        progress.update(bar, total=progress.tasks[bar].total + 1)
        return job

    def on_combined(done: dict) -> None:
        entry["seconds"], entry["error"] = round(done["seconds"], 2), done["error"]
        if done["outputs"]:
            entry["outputs"] = done["outputs"]
        progress.console.print(
            f"  combined pack: {'failed: ' + done['error'] if done['error'] else 'done'} ({done['seconds']:.1f} s)"
        )
        progress.advance(bar)

    with progress:
        bar = progress.add_task(
            f"Running {len(tasks)} report(s) on {workers} worker(s)", total=len(tasks) + pdf_jobs
        )
        if workers == 1 or not tasks:
            pdfs = [t for t in (on_executed(produce_report(t)) for t in tasks) if t]
            for t in pdfs:
                on_pdf(render_report_pdf(t))
            job = start_combined()
            if job:
                on_combined(render_combined(job))
            return entry
        ctx = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending: dict[Future, tuple[str, str]] = {
                pool.submit(produce_report, t): ("execute", t["name"]) for t in tasks
            }
            executing = len(tasks)
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    kind, name = pending.pop(fut)
                    try:
                        done = fut.result()
                    except Exception as err:  # the worker process itself died
                        done = {"name": name, "status": FAILED, "error": f"worker crashed: {type(err).__name__}: {err}",
                                "reason": f"worker crashed: {type(err).__name__}: {err}", "seconds": 0.0, "outputs": []}  # fmt: skip
                    if kind == "execute":
                        executing -= 1
                        pdf_task = on_executed(done)
                        if pdf_task:
                            pending[pool.submit(render_report_pdf, pdf_task)] = ("pdf", name)
                        elif tasks and next(t for t in tasks if t["name"] == name)["pdf"]:
                            progress.advance(bar)  # no PDF to print for a failed report
                        if executing == 0:
                            job = start_combined()
                            if job:
                                pending[pool.submit(render_combined, job)] = ("combined", "")
                    elif kind == "pdf":
                        on_pdf(
                            {
                                "name": name,
                                "seconds": done.get("seconds", 0.0),
                                "error": done.get("error"),
                            }
                        )
                    else:
                        on_combined(
                            {
                                "seconds": done.get("seconds", 0.0),
                                "error": done.get("error"),
                                "outputs": done.get("outputs", []),
                            }
                        )
    return entry


def _reusable(previous: dict | None, name: str, key: str, run_dir: Path, pdf: bool) -> dict | None:
    """The previous manifest entry of ``name`` when its cache key equals ``key`` and, for a
    produced report, all its files are still there; else None."""
    if not previous:
        return None
    for entry in previous.get("notebooks", []):
        if entry.get("name") != name or entry.get("cache_key") != key:
            continue
        if entry.get("status") == SKIPPED:
            return entry
        if entry.get("status") in (PRODUCED, REUSED):
            needed = [
                run_dir / "notebooks" / f"{name}.ipynb",
                run_dir / f"{name}.html",
                run_dir / BUILD_DIR / f"{name}.fragment.json",
            ]
            needed += [run_dir / f"{name}.pdf"] if pdf else []
            needed += [run_dir / o for o in entry.get("outputs", [])]
            if all(p.exists() for p in needed):
                return entry
    return None


def run_pack(
    quarter: str | None,
    force: str,
    raw_dir: Path,
    processed_dir: Path,
    output_dir: Path,
    only: list[str],
    jobs: int | None,
    pdf: bool,
    *,
    notebooks_dir: Path | None = None,
    timeout: int = 900,
    console=None,
) -> int:
    """Produce the quarterly pack for ``force`` and ``quarter``; returns the exit code.

    Outputs in ``<output_dir>/<force>/<quarter>/``: ``notebooks/<NN_report>.ipynb`` (executed),
    ``<NN_report>.html`` and ``.pdf`` (PDF/UA-1), ``tables/<NN_report>/*.csv``, the combined
    ``<force>_<quarter>_pack.pdf``/``.html``, ``index.html`` and ``manifest.json``.

    Exit codes: 0 every report produced; 1 at least one failed; 4 some skipped for absent data
    (none failed). Bad parameters or input raise :class:`PackInputError` (exit code 2) before any
    notebook runs.
    """
    from rich.console import Console

    from analysis.manifest import (
        cache_key,
        code_version,
        package_versions,
        read_manifest,
        write_manifest,
    )
    from analysis.pdf import write_text
    from analysis.store import Store

    console = console or Console(stderr=True)
    started_at = datetime.now(timezone.utc)
    t0 = time.perf_counter()

    # 1. parameters, before anything runs
    force = validate_force(force)
    period = validate_quarter(quarter) if quarter is not None else None
    names = select_reports(only or [])
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise PackInputError(f"--jobs must be a positive whole number, got {jobs!r}")
    jobs = jobs or default_jobs()
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    raw_dir, processed_dir, output_dir = (
        Path(p).expanduser().resolve() for p in (raw_dir, processed_dir, output_dir)
    )

    # 2. the store
    store_note = update_store(raw_dir, processed_dir, force, period, console)
    store = Store(processed_dir)
    snapshot = store.snapshot_dir.name
    if force not in store.forces():
        raise PackInputError(
            f"force {force!r} has no police data in the store at {processed_dir} (forces held: {', '.join(store.forces()) or 'none'})"
        )
    street_months = store.months(force, STREET)
    if period is None:
        period = latest_complete_quarter(street_months)
        if period is None:
            raise PackInputError(
                f"no complete quarter of street data for {force} in the store at {processed_dir}"
            )
    check_quarter_in_store(period, street_months, force)

    run_dir = output_dir / force / str(period)
    try:
        run = RunParameters(
            force=force,
            quarter=str(period),
            area_level="ward",
            processed_dir=str(processed_dir),
            output_dir=str(run_dir),
        )
    except ParameterError as err:
        raise PackInputError(str(err)) from None
    run_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"Quarterly pack: {force} {period} -> {run_dir}\n{store_note}")

    # 3. plan: reuse, skip or run each report. A report's cache key covers everything its
    # outputs and its skip decision depend on, so a matching previous entry is reused as it is
    # (without even importing the report module).
    code = code_version()
    previous = read_manifest(run_dir)
    inputs = store.inputs()
    context = pack_context(store, run, inputs, code, snapshot, started_at)
    results: dict[str, ReportResult] = {}
    keys: dict[str, str] = {}
    for name in names:
        path = notebooks_dir / f"{name}.ipynb"
        if not path.exists():
            results[name] = ReportResult(name, FAILED, f"notebook {path} not found")
            continue
        keys[name] = cache_key(path, code["fingerprint"], run.as_papermill(), snapshot, pdf)
        entry = _reusable(previous, name, keys[name], run_dir, pdf)
        if entry is not None:
            status = SKIPPED if entry["status"] == SKIPPED else REUSED
            reason = (
                entry.get("reason")
                if status == SKIPPED
                else "inputs unchanged since the previous run"
            )
            results[name] = ReportResult(name, status, reason, 0.0, list(entry.get("outputs", [])), entry.get("title"), keys[name],
                                         produced_seconds=entry.get("produced_seconds"))  # fmt: skip
    undecided = [n for n in names if n not in results]
    reasons = missing_data_reasons(store, run, undecided)
    tasks: list[dict] = []
    for name in undecided:
        reason = reasons.get(name)
        if reason and reason.startswith("error: "):
            results[name] = ReportResult(name, FAILED, reason[len("error: ") :])
        elif reason:
            results[name] = ReportResult(name, SKIPPED, reason, cache_key=keys[name])
            shutil.rmtree(run_dir / "tables" / name, ignore_errors=True)
        else:
            results[name] = ReportResult(name, FAILED, "not run", cache_key=keys[name])
            tasks.append({"name": name, "notebooks_dir": str(notebooks_dir), "parameters": run.as_papermill(),
                          "run_dir": str(run_dir), "pdf": pdf, "context": context, "timeout": timeout})  # fmt: skip

    # 4. execute in parallel with a progress display, longest first when a previous run says
    # how long each took (so the last worker is not left running one long report alone)
    took = {
        e.get("name"): e.get("produced_seconds") or 0.0
        for e in (previous or {}).get("notebooks", [])
    }
    tasks.sort(key=lambda t: -took.get(t["name"], 0.0))

    def combined_job() -> tuple[CombinedPlan, dict]:
        ordered = [results[n] for n in names]
        plan = plan_combined(run_dir, ordered, context, pdf, code["fingerprint"], previous)
        return plan, {"run_dir": str(run_dir), "results": ordered, "context": context, "pdf": pdf}

    combined = run_reports(tasks, jobs, results, console, combined_job)
    ordered = [results[n] for n in names]

    # 5. index and manifest
    combined_files = [run_dir / name for name in combined["outputs"] if (run_dir / name).exists()]
    write_text(index_html(run_dir, ordered, context, combined_files), run_dir / "index.html")

    exit_code = pack_exit_code(ordered)
    if combined.get("error"):
        exit_code = EXIT_FAILED
    police_used = inputs["path"].astype(str).str.contains(f"-{force}-", regex=False)
    reference = ~inputs["path"].astype(str).str.startswith("police")
    manifest = {
        "schema": 1,
        "created": started_at.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "parameters": {
            **run.as_papermill(),
            "raw_dir": str(raw_dir),
            "only": names,
            "jobs": jobs,
            "pdf": pdf,
            "notebooks_dir": str(notebooks_dir),
        },  # fmt: skip
        "code": code,
        "store": {"processed_dir": str(processed_dir), "snapshot": snapshot, "note": store_note},
        # the folder the input paths are relative to (unknown when the store was used as it was)
        "inputs_root": str(raw_dir) if _has_raw_police_files(raw_dir) else None,
        "inputs": inputs[police_used | reference].to_dict(orient="records"),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "notebooks": [r.as_dict() for r in ordered],
        "combined": combined,
        "index": "index.html",
        "exit_code": exit_code,
        "exit_meaning": EXIT_MEANINGS[exit_code],
    }
    write_manifest(manifest, run_dir)

    console.print(summary_table(ordered))
    console.print(
        f"Pack in {run_dir} ({time.perf_counter() - t0:.1f} s): exit code {exit_code}, {EXIT_MEANINGS[exit_code]}"
    )
    return exit_code
