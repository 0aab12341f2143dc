"""Run the work of a pack on worker processes: the notebooks, then the combined pack and the
tables workbook.

Tasks and results crossing between processes are frozen dataclasses: :class:`ExecuteTask` ->
:class:`ExecuteResult`, :class:`CombinedTask` -> :class:`CombinedResult`, :class:`WorkbookTask`
-> :class:`WorkbookResult`. Notebooks run side by side, longest first; once every notebook has
run, the combined pack is laid out once and every report's PDF is written from that same layout
(no report is laid out twice), while the workbook is written on the other worker.
Workers are spawned (no fork of a process holding DuckDB threads) and die with their parent
(:func:`analysis.pack.publish.die_with_parent`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from analysis.params import RunParameters
from analysis.pdf import PackContext


@dataclass(frozen=True)
class ExecuteTask:
    """Execute notebook ``name`` into ``staging`` and write its web page."""

    name: str
    notebooks_dir: Path
    parameters: RunParameters
    staging: Path
    context: PackContext
    timeout: int


@dataclass(frozen=True)
class ExecuteResult:
    name: str
    ok: bool
    title: str | None = None
    error: str | None = None  # details for the log and the manifest, never published
    execute_seconds: float = 0.0
    render_seconds: float = 0.0


@dataclass(frozen=True)
class CombinedEntry:
    """One report as the combined pack lists it."""

    name: str
    title: str
    included: bool
    status: str
    reason: str


@dataclass(frozen=True)
class CombinedTask:
    """Write the combined pack of ``entries`` into ``staging`` and the PDFs of ``reports``."""

    staging: Path
    entries: tuple[CombinedEntry, ...]
    context: PackContext
    pdf: bool
    reports: tuple[str, ...] = ()


@dataclass(frozen=True)
class CombinedResult:
    outputs: tuple[str, ...]
    seconds: float
    error: str | None = None
    reports: tuple[str, ...] = ()  # reports whose PDF was written


@dataclass(frozen=True)
class WorkbookTask:
    """Write the Excel workbook of the tables of ``reports`` into ``staging``."""

    staging: Path
    reports: tuple[str, ...]
    context: PackContext


@dataclass(frozen=True)
class WorkbookResult:
    path: str | None  # relative to staging; None when there was no table
    seconds: float
    error: str | None = None
    reports: tuple[str, ...] = ()  # the reports whose tables it holds


Task = ExecuteTask | CombinedTask | WorkbookTask
Result = ExecuteResult | CombinedResult | WorkbookResult


def _first_line(err: BaseException) -> str:
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    cell = getattr(err, "exec_count", None)
    where = f"cell {cell}: " if cell is not None else ""
    text = f"{where}{ename}: {evalue}".strip()
    return text.splitlines()[0] if text else ename


def execute(task: ExecuteTask) -> ExecuteResult:
    """Worker entry point: run the notebook, then write its HTML fragment and web page."""
    from analysis.execute import execute_report
    from analysis.pack import documents

    started = time.perf_counter()
    executed = task.staging / "notebooks" / f"{task.name}.ipynb"
    try:
        execute_report(task.name, task.parameters, executed, task.timeout, task.notebooks_dir)
        ran = time.perf_counter() - started
        title = documents.write_report_html(executed, task.name, task.staging, task.context)
    except Exception as err:  # one failing report never stops the others: record why
        return ExecuteResult(task.name, False, error=_first_line(err),
                             execute_seconds=time.perf_counter() - started)  # fmt: skip
    return ExecuteResult(task.name, True, title, None, ran, time.perf_counter() - started - ran)


def combine(task: CombinedTask) -> CombinedResult:
    """Worker entry point: write the combined pack (HTML, and PDF when asked) and the reports'
    PDFs."""
    from analysis.pack import documents

    started = time.perf_counter()
    try:
        files, printed = documents.write_combined(
            task.staging, task.entries, task.context, task.pdf, task.reports
        )
    except Exception as err:  # recorded in the manifest and the exit code
        return CombinedResult((), time.perf_counter() - started, _first_line(err))
    reports = tuple(p.stem for p in printed)
    return CombinedResult(
        tuple(p.name for p in files), time.perf_counter() - started, None, reports
    )


def workbook(task: WorkbookTask) -> WorkbookResult:
    """Worker entry point: write the tables workbook (beside the combined pack's layout, which
    runs on the other worker)."""
    from analysis.pack import documents

    started = time.perf_counter()
    try:
        path = documents.write_workbook_of(task.staging, task.reports, task.context)
    except Exception as err:  # the runner writes it again itself, where an error stops the run
        return WorkbookResult(None, time.perf_counter() - started, _first_line(err), task.reports)
    rel = path.relative_to(task.staging).as_posix() if path else None
    return WorkbookResult(rel, time.perf_counter() - started, None, task.reports)


WORKERS: dict[type, Callable] = {
    ExecuteTask: execute,
    CombinedTask: combine,
    WorkbookTask: workbook,
}


def crashed(task: Task, err: BaseException) -> Result:
    """The result of ``task`` when its worker process died."""
    message = f"worker crashed: {type(err).__name__}: {err}".splitlines()[0]
    if isinstance(task, ExecuteTask):
        return ExecuteResult(task.name, False, error=message)
    if isinstance(task, WorkbookTask):
        return WorkbookResult(None, 0.0, message, task.reports)
    return CombinedResult((), 0.0, message)


def _worker_init(parent_pid: int) -> None:
    from analysis.pack.publish import die_with_parent

    die_with_parent(parent_pid)


def run(
    tasks: list[ExecuteTask],
    jobs: int,
    on_result: Callable[[Task, Result], list[Task]],
    on_all_executed: Callable[[], list[Task]],
) -> None:
    """Run ``tasks`` and whatever follows them on up to ``jobs`` processes.

    ``on_result(task, result)`` returns follow-up tasks (none today);
    ``on_all_executed()`` is called once every notebook has run and returns the last tasks (the
    combined pack). With one job everything runs in this process.
    """
    if jobs == 1 or not tasks:
        queue: list[Task] = list(tasks)
        executing = len(tasks)
        if not executing:
            queue += on_all_executed()
        while queue:
            task = queue.pop(0)
            queue += on_result(task, WORKERS[type(task)](task))
            if isinstance(task, ExecuteTask):
                executing -= 1
                if executing == 0:
                    queue += on_all_executed()
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                             initargs=(os.getpid(),)) as pool:  # fmt: skip
        pending: dict[Future, Task] = {pool.submit(WORKERS[type(t)], t): t for t in tasks}
        executing = len(tasks)
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    result = future.result()
                except Exception as err:  # the worker process itself died
                    result = crashed(task, err)
                follow = on_result(task, result)
                if isinstance(task, ExecuteTask):
                    executing -= 1
                    if executing == 0:
                        follow += on_all_executed()
                for nxt in follow:
                    pending[pool.submit(WORKERS[type(nxt)], nxt)] = nxt
