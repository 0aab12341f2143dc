"""``crimeplan run``: the quarterly pack for one force and quarter, from raw files to PDFs.

:func:`run_pack` in order: validate every parameter once (:mod:`.plan`); bring the store up to
date and pin one snapshot for the whole run; lock the run folder and prepare a staging folder
beside it (:mod:`.publish`); decide per report whether to reuse, skip or run it (:mod:`.plan`);
run the notebooks, their PDFs and the combined pack on worker processes (:mod:`.scheduler`,
:mod:`.documents`); write the index page and, last, ``manifest.json`` with the sha256 of every
output (:mod:`.manifest`); swap the staging folder in whole.

Exit codes (also in ``crimeplan --help``, README and ``docs/scheduling.md``): 0 every report
produced; 1 at least one report failed; 2 bad parameters or unusable input (nothing published);
4 some reports skipped for absent data and none failed.
"""

from __future__ import annotations

import errno
import json
import logging
import signal
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from analysis.pack import documents, plan, scheduler
from analysis.pack.manifest import code_version, file_checksums, package_versions
from analysis.pack.plan import FAILED, PRODUCED, SKIPPED, PackInputError, ReportResult
from analysis.pack.publish import Publication, kill_children
from analysis.params import RunParameters
from analysis.reports import REPORTS

__all__ = ["EXIT_MEANINGS", "PackInputError", "run_pack"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_SKIPPED = 0, 1, 2, 4
EXIT_MEANINGS = {
    EXIT_OK: "every report produced",
    EXIT_FAILED: "at least one report failed",
    EXIT_BAD_INPUT: "bad parameters or input; nothing published",
    EXIT_SKIPPED: "some reports skipped for absent data; none failed",
}
log = logging.getLogger("analysis.pack")


def run_pack(quarter: str | None, force: str, raw_dir: Path | None, processed_dir: Path,
             output_dir: Path, only: list[str], jobs: int | None, pdf: bool, *,
             area_level: str = "ward", use_store: bool = False, notebooks_dir: Path | None = None,
             timeout: int = 900, console=None, published: date | None = None,
             next_publication: date | None = None) -> int:  # fmt: skip
    """Produce and publish the quarterly pack in ``<output_dir>/<force>/<quarter>/``; return the
    exit code. ``published`` and ``next_publication`` are the dates printed on the cover and
    recorded in the manifest (default: the run date, and the rule of ``config/publication.yml``).
    Bad parameters raise :class:`analysis.params.ParameterError`, unusable input
    :class:`PackInputError` (both exit code 2), before anything is published."""
    from rich.console import Console

    console = console or Console(stderr=True)
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    request = plan.validate(quarter, force, raw_dir, processed_dir, output_dir, only, jobs, pdf,
                            area_level=area_level, use_store=use_store,
                            notebooks_dir=notebooks_dir, timeout=timeout)  # fmt: skip
    update = plan.update_store(request, console)
    store = plan.pin_store(request.processed_dir)  # one snapshot, locked, for the whole run
    run_dir = request.output_dir
    try:
        period = plan.resolve_quarter(request, store)
        run_dir = request.output_dir / request.force / str(period)
        with Publication(run_dir) as pub, _children_die_with_run():
            plan.check_only_fits(request, pub.previous, store.snapshot_id)
            run = RunParameters(request.force, str(period), request.area_level,
                                str(store.snapshot_dir), str(pub.staging))  # fmt: skip
            console.print(f"Quarterly pack: {force} {period} -> {run_dir}\n{update.note}; "
                          f"store snapshot {store.snapshot_id}")  # fmt: skip
            code = code_version()
            run_params = {**run.as_papermill(), "output_dir": str(run_dir)}
            key = {k: v for k, v in run_params.items() if k != "output_dir"}  # not in outputs
            reports = plan.plan_reports(request, run, store, pub.previous, pub.staging,
                                        code["fingerprint"], key)  # fmt: skip
            context = documents.pack_context(store, run, store.inputs(), code, store.snapshot_id,
                                             started, published, next_publication)  # fmt: skip
            combined = _produce(request, run, reports, context, pub, code["fingerprint"], console)
            results = reports.ordered()
            workbook, combined["workbook_cache_key"] = _workbook(
                pub.staging, results, context, combined.pop("_workbook"), code["fingerprint"]
            )
            combined["workbook"] = (
                workbook.relative_to(pub.staging).as_posix() if workbook else None
            )
            documents.write_index(pub.staging, results, context, [pub.staging / f for f in combined["outputs"]], workbook)  # fmt: skip
            ran = [r for r in results if not r.kept]  # the exit code speaks for this run's reports
            exit_code = EXIT_FAILED if combined["error"] else pack_exit_code(ran)
            manifest = _manifest(request, run_params, store, update, code, results, combined,
                                 exit_code, started, t0, pub.staging)  # fmt: skip
            manifest["publication"] = documents.publication_facts(context)
            pub.publish(manifest)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise PackInputError(
            f"no space left on the device while writing {err.filename or run_dir}; the previous "
            f"publication in {run_dir} is unchanged and the partial run was removed"
        ) from err
    finally:
        store.close()
    console.print(documents.summary_table(results))
    console.print(f"Pack in {run_dir} ({time.perf_counter() - t0:.1f} s): exit code {exit_code}, "
                  f"{EXIT_MEANINGS[exit_code]}")  # fmt: skip
    return exit_code


def pack_exit_code(results: list[ReportResult]) -> int:
    """1 when any report failed, else 4 when any was skipped, else 0."""
    statuses = {r.status for r in results}
    if FAILED in statuses:
        return EXIT_FAILED
    return EXIT_SKIPPED if SKIPPED in statuses else EXIT_OK


@contextmanager
def _children_die_with_run():
    """SIGTERM ends the run like Ctrl-C; on any exit every worker and kernel is killed. (A
    SIGKILL cannot be caught: workers then die through ``PR_SET_PDEATHSIG`` and kernels through
    their own parent polling.)"""

    import threading

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        yield
    except BaseException:
        kill_children()
        raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


EXPECTED_SECONDS = {
    "01_crime_by_area": 30.0,
    "00_main_points": 12.0,
    "00_plan_scorecard": 12.0,
    "05_justice_outcomes": 10.0,
    "02_stop_search_disparity": 9.0,
    "03_rural_crime": 9.0,
    "04_reoffending": 3.0,
}
"""Rough seconds of each notebook (Northumbria, a quiet 2-core machine), to order a first run
longest first; later runs use the seconds the previous manifest recorded."""


def run_order(names: list[str], previous: dict | None) -> list[str]:
    """``names`` longest first (longest-processing-time scheduling: the long notebooks start
    while the short ones fill the other worker, so no worker idles at the end), by the
    seconds the previous run recorded, else :data:`EXPECTED_SECONDS`, else last."""
    took = {e.get("name"): e.get("produced_seconds") or 0.0 for e in (previous or {}).get("notebooks", [])}  # fmt: skip
    return sorted(names, key=lambda n: -(took.get(n) or EXPECTED_SECONDS.get(n, 0.0)))


def _produce(request, run, reports, context, pub, fingerprint, console) -> dict:
    """Run the planned notebooks, their PDFs, the combined pack and the tables workbook with a
    progress display; update ``reports.results`` and return the combined pack's manifest entry
    (with ``_workbook``: what :func:`_workbook` needs)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    results, staging = reports.results, pub.staging
    stem = documents.combined_pack_name(run.force, run.quarter)
    entry = {"cache_key": None, "outputs": [], "seconds": 0.0, "reused": False, "error": None}
    book = {"cache_key": None, "reports": None, "path": None, "seconds": 0.0}
    entry["_workbook"] = book
    names = run_order(list(reports.to_run), pub.previous)
    tasks = [scheduler.ExecuteTask(n, request.notebooks_dir, run, staging, context, request.timeout) for n in names]  # fmt: skip
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console)  # fmt: skip
    bar = progress.add_task(f"Running {len(tasks)} report(s)", total=len(tasks) + 2)
    printing: list[str] = []  # reports whose PDF the combined pack writes

    def note(r: ReportResult, what: str) -> None:
        progress.console.print(f"  {r.name}: {what}" + (f" ({r.error})" if r.error else ""))

    def on_result(task, result) -> list:
        progress.advance(bar)
        if isinstance(result, scheduler.WorkbookResult):
            if result.error is None:
                book.update(path=result.path, reports=result.reports, seconds=result.seconds)
            else:  # written again by the runner itself (see _workbook)
                log.warning("tables workbook: %s; writing it again", result.error)
            return []
        if isinstance(result, scheduler.CombinedResult):
            entry.update(seconds=round(result.seconds, 2), error=result.error)
            entry["outputs"] = list(result.outputs) if not result.error else []
            progress.console.print(f"  combined pack: {'failed: ' + result.error if result.error else 'done'}")  # fmt: skip
            for name in printing:  # a report is published with its PDF or not at all
                r = results[name]
                if name not in result.reports:
                    r.status, r.reason = FAILED, "its PDF could not be printed (details in manifest.json)"  # fmt: skip
                    r.error = result.error or "no pages of this report in the combined pack"
                    plan.remove_report_files(r.name, staging)
                r.outputs = plan.relative(plan.report_files(r.name, staging), staging)
            return []
        r = results[result.name]
        r.execute_seconds, r.render_seconds = result.execute_seconds, result.render_seconds
        r.seconds = result.execute_seconds + result.render_seconds
        if result.ok:
            r.status, r.reason, r.title = PRODUCED, None, result.title
        else:
            r.status, r.error = FAILED, result.error
            r.reason = "the notebook stopped with an error (details in manifest.json)"
            plan.remove_report_files(r.name, staging)  # nothing of a failed report is published
        r.outputs = plan.relative(plan.report_files(r.name, staging), staging)
        note(r, f"{r.status} (notebook {r.execute_seconds:.1f} s)")
        return []

    def on_all_executed() -> list:
        ordered = reports.ordered()
        follow = plan_workbook(staging, ordered, context, fingerprint, pub.previous, book)
        if not follow:
            progress.advance(bar)
        # the dates on the cover are part of what the combined pack depends on
        cover = json.dumps(documents.publication_facts(context), sort_keys=True)
        combined = plan.plan_combined(staging, ordered, stem, request.pdf, f"{fingerprint}|{cover}", pub.previous)  # fmt: skip
        entry.update(cache_key=combined.key, outputs=combined.files, reused=combined.key is not None and not combined.render)  # fmt: skip
        if request.pdf:
            printing[:] = [r.name for r in ordered if r.status == PRODUCED and r.name in names]
        if not (combined.render or printing):
            progress.advance(bar)
            return follow
        entry["reused"] = False
        titles = {spec.notebook: spec.title for spec in REPORTS}
        listed = tuple(scheduler.CombinedEntry(r.name, r.title or titles.get(r.name, r.name), r.included, r.status, r.reason or "") for r in ordered)  # fmt: skip
        # the combined pack first: it is the longer of the two
        return [scheduler.CombinedTask(staging, listed, context, request.pdf, tuple(printing)), *follow]  # fmt: skip

    with progress:
        scheduler.run(tasks, max(1, min(request.jobs, len(tasks) * 2 or 1)), on_result, on_all_executed)  # fmt: skip
    return entry


def plan_workbook(staging: Path, ordered: list[ReportResult], context, fingerprint: str,
                  previous: dict | None, book: dict) -> list:  # fmt: skip
    """Decide the tables workbook once every notebook has run: kept when its cache key
    (:func:`analysis.pack.documents.workbook_key`) equals the previous run's and the file still
    has the sha256 the previous manifest recorded (``book`` then holds it, and no task is
    returned); else the old file is removed and a :class:`.scheduler.WorkbookTask` returned."""
    names = tuple(r.name for r in ordered if r.included)
    key = documents.workbook_key(staging, names, context, fingerprint)
    book.update(cache_key=key, reports=None, path=None)
    before = (previous or {}).get("combined", {})
    rel = before.get("workbook")
    if rel and before.get("workbook_cache_key") == key:
        if plan.outputs_match(staging, [rel], (previous or {}).get("files", {})):
            book.update(path=rel, reports=names)
            return []
    if rel:
        (staging / rel).unlink(missing_ok=True)
    return [scheduler.WorkbookTask(staging, names, context)]


def _workbook(staging: Path, results: list[ReportResult], context, book: dict,
              fingerprint: str) -> tuple[Path | None, str]:  # fmt: skip
    """The tables workbook of the included reports and its cache key: the one written beside
    the combined pack (or kept from the previous run) when it holds exactly those reports, else
    written here (a report lost its PDF after the workbook started, or the worker failed)."""
    names = tuple(r.name for r in results if r.included)
    if book.get("reports") == names:
        return (staging / book["path"] if book.get("path") else None), book["cache_key"]
    written = documents.write_tables_workbook(staging, results, context)
    return written, documents.workbook_key(staging, names, context, fingerprint)


def _manifest(request, published, store, update, code, results, combined, exit_code,
              started, t0, staging) -> dict:  # fmt: skip
    """The run's manifest; its ``files`` are the sha256 of every file of the publication."""
    keep = {o for r in results for o in r.outputs} | set(combined["outputs"]) | {"index.html"}
    keep |= {combined["workbook"]} if combined.get("workbook") else set()
    for path in staging.rglob("*"):  # nothing unaccounted for is published
        if path.is_file() and path.relative_to(staging).as_posix() not in keep:
            path.unlink()
    inputs = store.inputs()
    paths = inputs["path"].astype(str)
    used = paths.str.contains(f"-{request.force}-", regex=False) | ~paths.str.startswith("police")
    return {
        "schema": 2,
        "created": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "parameters": {
            **published,
            "raw_dir": str(request.raw_dir),
            "use_store": request.use_store,
            "only": [s.notebook for s in request.reports] if request.only else [],
            "jobs": request.jobs,
            "pdf": request.pdf,
            "notebooks_dir": str(request.notebooks_dir),
        },  # fmt: skip
        "code": code,
        "store": {
            "processed_dir": str(request.processed_dir),
            "snapshot": store.snapshot_id,
            "snapshot_dir": str(store.snapshot_dir),
            "note": update.note,
        },  # fmt: skip
        # the folder the input paths are relative to (unknown when the store was used as it was)
        "inputs_root": str(update.raw_dir) if update.raw_dir else None,
        "inputs": inputs[used].to_dict(orient="records"),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "notebooks": [r.as_dict() for r in results],
        "combined": combined,
        "index": "index.html",
        "exit_code": exit_code,
        "exit_meaning": EXIT_MEANINGS[exit_code],
        "files": file_checksums(staging),
    }
