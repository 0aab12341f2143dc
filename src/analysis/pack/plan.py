"""What a pack run does: its validated request, the store snapshot it pins, and per report
whether to reuse, skip or run it.

Parameters are validated once, in :func:`validate`, before anything runs: a malformed value
raises :class:`analysis.params.ParameterError` (the CLI maps it to exit code 2). Papermill
renders parameters into notebooks as code, so only these validated plain values reach one.
Unusable input (no data, an incomplete quarter, a raw folder given but empty) raises
:class:`PackInputError`, also exit code 2.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from analysis.errors import CrimeplanError
from analysis.ingest.checks import damaged_tables
from analysis.pack.manifest import cache_key, outputs_match
from analysis.params import ParameterError, Quarter, RunParameters
from analysis.paths import DEFAULT_RAW_DIR, NOTEBOOKS_DIR
from analysis.reports import REPORTS, ReportSpec

log = logging.getLogger("analysis.pack")

PRODUCED, REUSED, SKIPPED, FAILED = "produced", "reused", "skipped", "failed"
BUILD_DIR = ".build"  # per-report HTML fragments for the combined pack
STREET = "street"


class PackInputError(CrimeplanError):
    """The data a run needs is unusable or absent; raised before any notebook runs."""

    exit_code = 2


# --- the request, validated once ----------------------------------------------------------------


@dataclass(frozen=True)
class PackRequest:
    """Every parameter of ``crimeplan run``, validated (see :func:`validate`)."""

    force: str
    quarter: Quarter | None  # None: the latest complete quarter in the store
    area_level: str
    reports: tuple[ReportSpec, ...]
    only: bool  # True when --only chose the reports (the other published reports are kept)
    jobs: int
    pdf: bool
    raw_dir: Path
    raw_dir_given: bool
    use_store: bool
    processed_dir: Path
    output_dir: Path
    notebooks_dir: Path
    timeout: int


def validate(
    quarter: str | None,
    force: str,
    raw_dir: Path | None,
    processed_dir: Path,
    output_dir: Path,
    only: list[str] | tuple[str, ...],
    jobs: int | None,
    pdf: bool,
    *,
    area_level: str = "ward",
    use_store: bool = False,
    notebooks_dir: Path | None = None,
    timeout: int = 900,
) -> PackRequest:
    """Check every parameter once; raise :class:`ParameterError` on the first malformed one.

    Force and area level are checked by :class:`RunParameters` itself (the one contract), the
    quarter by :meth:`Quarter.parse`, ``only`` against the report registry.
    """
    RunParameters(force=force, area_level=area_level)  # raises ParameterError
    period = Quarter.parse(quarter) if quarter is not None else None
    reports = select_reports(only or [])
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"--jobs must be a positive whole number, got {jobs!r}")
    if not isinstance(timeout, int) or timeout < 1:
        raise ParameterError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return PackRequest(
        force=force,
        quarter=period,
        area_level=area_level,
        reports=tuple(reports),
        only=bool(only),
        jobs=jobs or default_jobs(),
        pdf=bool(pdf),
        raw_dir=Path(raw_dir or DEFAULT_RAW_DIR).expanduser().resolve(),
        raw_dir_given=raw_dir is not None,
        use_store=bool(use_store),
        processed_dir=Path(processed_dir).expanduser().resolve(),
        output_dir=Path(output_dir).expanduser().resolve(),
        notebooks_dir=Path(notebooks_dir or NOTEBOOKS_DIR).expanduser().resolve(),
        timeout=timeout,
    )


def select_reports(
    only: list[str] | tuple[str, ...], reports: tuple[ReportSpec, ...] = REPORTS
) -> list[ReportSpec]:
    """The reports ``--only`` asks for, in pack order (all of them when ``only`` is empty).

    Each item is a notebook stem (``02_stop_search_disparity``), the stem without its number
    (``stop_search_disparity``), the report's package name (``stop_search``) or a unique prefix
    of one of these (``stop``, ``02``).
    """
    if not only:
        return list(reports)
    chosen: set[str] = set()
    for item in only:
        text = str(item).strip()
        matches = [
            r
            for r in reports
            if text
            and any(
                key.startswith(text) for key in (r.notebook, r.notebook.split("_", 1)[1], r.name)
            )
        ]
        exact = [r for r in matches if text in (r.notebook, r.notebook.split("_", 1)[1], r.name)]
        matches = exact or matches
        if not matches:
            names = ", ".join(r.notebook for r in reports)
            raise ParameterError(f"--only {item!r} names no report; reports are {names}")
        if len(matches) > 1:
            names = ", ".join(r.notebook for r in matches)
            raise ParameterError(f"--only {item!r} is ambiguous: it matches {names}")
        chosen.add(matches[0].notebook)
    return [r for r in reports if r.notebook in chosen]


def default_jobs() -> int:
    """Default parallelism: the number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# --- the store: brought up to date, then one snapshot pinned for the whole run ------------------


def _has_raw_police_files(raw_dir: Path) -> bool:
    police = raw_dir / "police"
    return police.is_dir() and any(police.rglob("*.csv"))


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


@dataclass(frozen=True)
class StoreUpdate:
    """What :func:`update_store` did: a one-line note, and the raw folder the store was brought
    up to date from (None when the store was used as it was)."""

    note: str
    raw_dir: Path | None


def update_store(request: PackRequest, console) -> StoreUpdate:
    """Bring the processed store up to date and say what was done.

    - ``--use-store``: the store is used as it is (it must exist);
    - ``--raw-dir`` given: it must hold police files (else :class:`PackInputError`: a typo must
      not republish old data); incremental ingest, no work when unchanged;
    - default raw folder with files: incremental ingest; without files but with a store: the
      store as it is; neither: fetch the 24 months ending with the quarter (default
      :func:`likely_published_quarter`) and the reference data, then ingest.
    """
    from analysis import ingest as ingesting

    raw, processed, force = request.raw_dir, request.processed_dir, request.force
    store_exists = (processed / "CURRENT").is_file()
    if request.use_store:
        if not store_exists:
            raise PackInputError(f"--use-store: there is no processed store at {processed}")
        return StoreUpdate(f"store at {processed} used as it is (--use-store)", None)
    if not _has_raw_police_files(raw):
        if request.raw_dir_given:
            state = "does not exist" if not raw.exists() else "holds no police files"
            raise PackInputError(
                f"--raw-dir {raw} {state}; give the folder holding police/ and reference/, or "
                "pass --use-store to publish from the processed store as it is"
            )
        if store_exists:
            return StoreUpdate(f"no raw files in {raw}: using the processed store as it is", None)
        from analysis import fetch as fetching

        quarter = request.quarter or likely_published_quarter(datetime.now(timezone.utc).date())
        months = [m for k in range(-7, 1) for m in quarter.shift(k).months]
        console.print(f"No raw data in {raw}: fetching {months[0]} to {months[-1]} for {force}")
        try:
            fetching.fetch_police(
                force=force, start=months[0], end=months[-1], raw_dir=raw, base_url=None
            )
            fetching.fetch_reference(raw_dir=raw)
        except CrimeplanError as err:
            raise PackInputError(f"{err}. {no_data_message(raw, processed, force)}") from None
    started = time.perf_counter()
    ingesting.ingest(raw_dir=raw, processed_dir=processed, progress=sys.stderr.isatty())
    return StoreUpdate(
        f"store brought up to date from {raw} in {time.perf_counter() - started:.1f} s", raw
    )


def pin_store(processed_dir: Path, attempts: int = 3):
    """Open the current snapshot of the store and hold it for the whole run.

    The returned :class:`analysis.store.Store` holds a shared lock on its snapshot, so an ingest
    during the run never deletes it; every notebook is then given the snapshot folder itself as
    ``processed_dir``, so all reports read this one snapshot. An ingest that swapped and cleaned
    between reading ``CURRENT`` and taking the lock is noticed and the new snapshot is pinned.
    """
    from analysis.store import Store

    for _ in range(attempts):
        store = Store(processed_dir)
        if (store.snapshot_dir / "manifest.json").is_file():
            return store
        store.close()
    raise PackInputError(f"the store at {processed_dir} keeps changing; try again")


def resolve_quarter(request: PackRequest, store) -> Quarter:
    """The run's quarter: the one asked for, or the latest complete one in the store; checks the
    force and all three months of the quarter are in the store (else :class:`PackInputError`)."""
    forces = store.forces()
    if request.force not in forces:
        raise PackInputError(
            f"force {request.force!r} has no police data in the store at {request.processed_dir} "
            f"(forces held: {', '.join(forces) or 'none'})"
        )
    months = store.months(request.force, STREET)
    period = request.quarter or latest_complete_quarter(months)
    if period is None:
        raise PackInputError(
            f"no complete quarter of street data for {request.force} in the store at "
            f"{request.processed_dir}"
        )
    check_quarter_in_store(period, months, request.force)
    return period


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


# --- per report: reuse, skip or run -------------------------------------------------------------


@dataclass
class ReportResult:
    """Outcome of one report in a pack run.

    ``reason`` is the plain sentence published (index, contents page of the pack); ``error``
    holds the details of a failure (exception text), kept for the log and the manifest only.
    """

    name: str
    status: str
    reason: str | None = None
    error: str | None = None
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    title: str | None = None
    cache_key: str | None = None
    execute_seconds: float = 0.0
    render_seconds: float = 0.0
    produced_seconds: float | None = None  # seconds of the run that produced the outputs in use
    snapshot: str | None = None
    kept: bool = False  # carried over from the publication, not chosen by --only this run

    @property
    def included(self) -> bool:
        """True when the report is in the publication (produced now or earlier)."""
        return self.status in (PRODUCED, REUSED)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
            "seconds": round(self.seconds, 2),
            "execute_seconds": round(self.execute_seconds, 2),
            "render_seconds": round(self.render_seconds, 2),
            "produced_seconds": round(self.seconds, 2)
            if self.status == PRODUCED
            else self.produced_seconds,
            "outputs": self.outputs,
            "cache_key": self.cache_key,
            "snapshot": self.snapshot,
            "kept": self.kept,
        }

    @classmethod
    def from_entry(cls, entry: dict, status: str, reason: str | None) -> ReportResult:
        """A previous manifest entry carried into this run as ``status``."""
        return cls(
            name=entry["name"],
            status=status,
            reason=reason,
            error=entry.get("error"),
            outputs=list(entry.get("outputs", [])),
            title=entry.get("title"),
            cache_key=entry.get("cache_key"),
            produced_seconds=entry.get("produced_seconds"),
            snapshot=entry.get("snapshot"),
        )


def report_files(name: str, run_dir: Path) -> list[Path]:
    """Every file report ``name`` has in ``run_dir``: executed notebook, HTML, PDF, the body
    cached for the combined pack, and its tables."""
    candidates = [
        run_dir / "notebooks" / f"{name}.ipynb",
        run_dir / f"{name}.html",
        run_dir / f"{name}.pdf",
        run_dir / BUILD_DIR / f"{name}.fragment.json",
    ]
    tables = run_dir / "tables" / name
    if tables.is_dir():
        candidates += sorted(tables.rglob("*.csv"))
    return [p for p in candidates if p.is_file()]


def relative(paths: list[Path], root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def remove_report_files(name: str, run_dir: Path) -> None:
    """Delete every file of report ``name`` from ``run_dir`` (so nothing stale is published)."""
    for path in report_files(name, run_dir):
        path.unlink()
    shutil.rmtree(run_dir / "tables" / name, ignore_errors=True)


@dataclass
class ReportPlan:
    """The decision for every report of the publication, in pack order."""

    results: dict[str, ReportResult]
    to_run: list[str]

    def ordered(self) -> list[ReportResult]:
        return list(self.results.values())


def check_only_fits(request: PackRequest, previous: dict | None, snapshot: str) -> None:
    """``--only`` updates reports inside a publication: refuse when the kept reports would come
    from another store snapshot or PDF setting (one publication reads one snapshot)."""
    if not (request.only and previous):
        return
    before = previous.get("store", {}).get("snapshot")
    if before != snapshot:
        raise PackInputError(
            f"--only would mix store snapshots: the publication was built from snapshot "
            f"{before}, the store is now at {snapshot}; run the whole pack (without --only) or "
            "use another --output-dir"
        )
    if bool(previous.get("parameters", {}).get("pdf")) != request.pdf:
        raise PackInputError(
            "--only would mix documents with and without PDFs: the publication was made with "
            f"{'--pdf' if previous['parameters'].get('pdf') else '--no-pdf'}; use the same flag "
            "or run the whole pack"
        )


def plan_reports(
    request: PackRequest,
    run: RunParameters,
    store,
    previous: dict | None,
    staging: Path,
    fingerprint: str,
    key_parameters: dict,
) -> ReportPlan:
    """Decide each report: reuse, skip or run (``staging`` holds the previous publication).

    A report is reused only when its cache key (notebook, code, parameters, store snapshot, PDF
    setting) equals the previous run's and every one of its outputs still has the sha256 the
    previous manifest recorded. With ``--only`` the other reports of the publication are kept as
    they are, provided their outputs are intact (else they are run again too). A report is
    skipped, with a reason naming it, when a store table it needs is absent or its module says
    its data is absent for the period.
    """
    entries = {e.get("name"): e for e in (previous or {}).get("notebooks", [])}
    checksums = (previous or {}).get("files", {})
    chosen = {spec.notebook for spec in request.reports}
    kept = set(entries) - chosen if request.only else set()
    snapshot = store.snapshot_id
    results: dict[str, ReportResult] = {}
    to_check: list[str] = []
    for spec in REPORTS:
        name = spec.notebook
        if name not in chosen and name not in kept:
            continue
        entry = entries.get(name)
        intact = entry is not None and outputs_match(staging, entry.get("outputs", []), checksums)
        if name in kept and intact:
            results[name] = kept_result(entry)
            continue
        notebook = request.notebooks_dir / f"{name}.ipynb"
        if not notebook.is_file():
            results[name] = ReportResult(
                name, FAILED, "its notebook is missing", f"notebook {notebook} not found"
            )
            continue
        key = cache_key(notebook, fingerprint, key_parameters, snapshot, request.pdf)
        same = entry is not None and entry.get("cache_key") == key
        if same and intact and entry.get("status") == SKIPPED:
            results[name] = ReportResult.from_entry(entry, SKIPPED, entry.get("reason"))
            continue
        if same and intact and entry.get("status") in (PRODUCED, REUSED):
            reason = "inputs unchanged since the previous run"
            results[name] = ReportResult.from_entry(entry, REUSED, reason)
            continue
        if same:
            log.warning("%s: outputs differ from the published checksums; running it again", name)
        results[name] = ReportResult(name, FAILED, cache_key=key, snapshot=snapshot)
        to_check.append(name)
    to_run = []
    damaged = damaged_tables(store.snapshot_dir) if to_check else {}
    for table, problem in sorted(damaged.items()):
        log.error("damaged store table %s: %s", table, problem)
    for name in to_check:
        remove_report_files(name, staging)
        result = results[name]
        result.reason, result.error, status = data_check(
            REPORT_BY_NOTEBOOK[name], store, run, damaged
        )
        result.status = status or FAILED
        if status is None:
            result.reason = "not run"
            to_run.append(name)
    return ReportPlan(results, to_run)


def kept_result(entry: dict) -> ReportResult:
    """A report of the publication that ``--only`` did not choose, carried over as it was."""
    if entry.get("status") in (PRODUCED, REUSED):
        kept = ReportResult.from_entry(entry, REUSED, "kept from the previous publication")
    else:
        kept = ReportResult.from_entry(entry, entry["status"], entry.get("reason"))
    kept.kept = True
    return kept


REPORT_BY_NOTEBOOK = {spec.notebook: spec for spec in REPORTS}


def data_check(
    spec: ReportSpec, store, run: RunParameters, damaged: dict[str, str] | None = None
) -> tuple[str | None, str | None, str | None]:
    """``(reason, error, status)`` before running ``spec``: status None when it can run,
    :data:`SKIPPED` when a store table it needs is absent or its module says its data is absent,
    :data:`FAILED` when a table it needs is in ``damaged`` (``{table: problem}``, from
    :func:`analysis.ingest.checks.damaged_tables`) or the check itself raised (details in
    ``error``, never in ``reason``)."""
    damaged = damaged or {}
    bad = [t for t in spec.needs if t in damaged or "*" in damaged]
    if bad:
        reason = (
            f"its processed data files are damaged ({', '.join(bad)}); rebuild them with "
            "crimeplan ingest --repair"
        )
        return reason, "; ".join(damaged.get(t) or damaged["*"] for t in bad), FAILED
    views = set(store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")["view_name"])
    absent = [t for t in spec.needs if t not in views]
    if absent:
        from analysis.reports.reasons import missing_store_tables

        return missing_store_tables(store, run, absent), None, SKIPPED
    try:
        reason = spec.missing_data_reason(store, run)
    except Exception as err:  # a broken report module must not stop the others
        detail = f"{type(err).__name__}: {err}".splitlines()[0]
        log.error("%s: missing_data_reason failed: %s", spec.notebook, detail)
        return "its data check failed (details in manifest.json)", detail, FAILED
    return (reason, None, SKIPPED) if reason else (None, None, None)


@dataclass
class CombinedPlan:
    """The combined pack this run: its cache key, its files and whether to render it."""

    key: str | None
    files: list[str]
    render: bool


def plan_combined(
    staging: Path,
    results: list[ReportResult],
    stem: str,
    pdf: bool,
    fingerprint: str,
    previous: dict | None,
) -> CombinedPlan:
    """Decide the combined pack from the reports' final statuses: nothing to include (old files
    removed), unchanged since the previous run with intact files (reused), or to be rendered."""
    from analysis.pack.manifest import combined_key

    files = [f"{stem}.html"] + ([f"{stem}.pdf"] if pdf else [])
    for name in (f"{stem}.html", f"{stem}.pdf"):
        if name not in files or not any(r.included for r in results):
            (staging / name).unlink(missing_ok=True)
    included = [(r.name, r.cache_key or "") for r in results if r.included]
    if not included:
        return CombinedPlan(None, [], False)
    left_out = [(r.name, r.status, r.reason) for r in results if not r.included]
    key = combined_key([*included, ("not-included", json.dumps(left_out))], fingerprint)
    before = (previous or {}).get("combined", {})
    same = before.get("cache_key") == key and outputs_match(
        staging, files, (previous or {}).get("files", {})
    )
    if not same:
        for name in files:
            (staging / name).unlink(missing_ok=True)
    return CombinedPlan(key, files, not same)
