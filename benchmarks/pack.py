"""Pack benchmark: ``crimeplan run`` cold and warm against a plain sequential loop.

For one force-quarter on the same processed store (built once before timing, not timed):

(a) cold: ``crimeplan run`` into an empty output folder (parallel notebooks, per-report PDFs, the
    combined pack, index and manifest);
(b) warm: the same command again with nothing changed (every report reused from the cache);
(c) sequential: a plain loop in one process -- Papermill each notebook, then nbconvert each
    executed notebook to HTML (stock ``lab`` template, inputs hidden) and print it with WeasyPrint.
    It makes per-report PDFs only: less work than (a), which also prints the combined pack.

Each candidate runs in a fresh subprocess; wall time is printed with the ratios c/a and the
targets: cold <= 30 s on 2 cores, warm <= 5 s, cold at least 1.8x faster than sequential.

Usage::

    .venv/bin/python benchmarks/pack.py                       # northumbria 2022-Q4, ../shared/data
    .venv/bin/python benchmarks/pack.py --only crime_by_area --only rural --json
    .venv/bin/python benchmarks/pack.py --processed-dir data/processed --raw-dir /empty/folder
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import run_measured  # noqa: E402

from analysis.paths import DEFAULT_RAW_DIR, PROJECT_ROOT, SHARED_DATA_DIR  # noqa: E402

TARGET_COLD_SECONDS = 30.0


def measured(name: str, cmd: list[str], **kwargs):
    """:func:`run_measured` plus the CPU seconds (user + system) the child and every process it
    waited for (kernels, workers) used, from ``RUSAGE_CHILDREN`` before and after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_measured(name, cmd, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


TARGET_WARM_SECONDS = 5.0
TARGET_SPEEDUP = 1.8


def sequential_loop(
    force: str, quarter: str, processed_dir: Path, output_dir: Path, names: list[str]
) -> None:
    """The baseline: Papermill every notebook, then nbconvert + WeasyPrint every executed notebook."""
    import nbformat
    from nbconvert import HTMLExporter
    from weasyprint import HTML

    from analysis.execute import execute_report
    from analysis.params import RunParameters

    run_dir = output_dir / force / quarter
    params = RunParameters(
        force=force,
        quarter=quarter,
        area_level="ward",
        processed_dir=str(processed_dir),
        output_dir=str(run_dir),
    )
    executed = []
    for name in names:
        path = run_dir / "notebooks" / f"{name}.ipynb"
        execute_report(name, params, path)
        executed.append(path)
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    for path in executed:
        body, _ = exporter.from_notebook_node(nbformat.read(str(path), as_version=4))
        HTML(string=body, base_url=str(run_dir)).write_pdf(
            str(run_dir / f"{path.stem}.pdf"), pdf_variant="pdf/ua-1"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", default="northumbria")
    parser.add_argument("--quarter", default="2022-Q4")
    default_raw = SHARED_DATA_DIR if SHARED_DATA_DIR.is_dir() else DEFAULT_RAW_DIR
    parser.add_argument(
        "--raw-dir", type=Path, default=default_raw, help="raw folder (default ../shared/data)"
    )
    parser.add_argument(
        "--processed-dir",
        type=Path,
        default=None,
        help="existing store (default: build one in a temp folder)",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="report name or prefix (repeatable)"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="parallel notebooks for crimeplan run"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--sequential-worker",
        nargs=3,
        metavar=("PROCESSED", "OUTPUT", "NAMES"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)

    if args.sequential_worker:
        processed, output, names = args.sequential_worker
        sequential_loop(args.force, args.quarter, Path(processed), Path(output), names.split(","))
        return 0

    from analysis.pack.plan import select_reports

    names = [spec.notebook for spec in select_reports(args.only)]
    work = Path(tempfile.mkdtemp(prefix="crimeplan-pack-bench-"))
    python = sys.executable
    crimeplan = [python, "-m", "analysis.cli"]
    try:
        processed = args.processed_dir
        prep = None
        if processed is None:
            processed = work / "processed"
            started = time.perf_counter()
            prep = run_measured(
                "ingest (setup, not compared)",
                [
                    *crimeplan,
                    "ingest",
                    "--raw-dir",
                    str(args.raw_dir),
                    "--processed-dir",
                    str(processed),
                ],
                log_path=work / "ingest.log",
            )
            prep.seconds = time.perf_counter() - started
            if not prep.ok:
                print(
                    f"ingest failed (exit {prep.returncode}):\n{prep.stderr_tail}", file=sys.stderr
                )
                return 1
        only = [a for n in names for a in ("--only", n)]
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        # a raw folder without police files: publish from the store as it is (--use-store)
        has_raw = any((Path(args.raw_dir) / "police").rglob("*.csv"))
        source = ["--raw-dir", str(args.raw_dir)] if has_raw else ["--use-store"]
        run = [*crimeplan, "run", "--force", args.force, "--quarter", args.quarter, *source,
               "--processed-dir", str(processed), "--output-dir", str(work / "pack"), *only, *jobs]  # fmt: skip
        load_before = os.getloadavg()
        cold = measured("cold: crimeplan run", run, log_path=work / "cold.log")
        run_dir = work / "pack" / args.force / args.quarter
        cold_manifest = (
            json.loads((run_dir / "manifest.json").read_text())
            if (run_dir / "manifest.json").exists()
            else {}
        )
        warm = measured("warm: crimeplan run, nothing changed", run, log_path=work / "warm.log")
        seq = measured(
            "sequential: papermill + nbconvert each",
            [python, str(Path(__file__).resolve()), "--force", args.force, "--quarter", args.quarter,
             "--sequential-worker", str(processed), str(work / "sequential"), ",".join(names)],
            log_path=work / "sequential.log",
        )  # fmt: skip
        manifest = json.loads((run_dir / "manifest.json").read_text())
        statuses = {n["name"]: n["status"] for n in manifest["notebooks"]}
        results = {
            "force": args.force,
            "quarter": args.quarter,
            "reports": names,
            "jobs": manifest["parameters"]["jobs"],
            "cold": cold.as_dict(),
            "warm": warm.as_dict(),
            "sequential": seq.as_dict(),
            "load_average_before_and_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "cores": os.cpu_count(),
            "setup_ingest_seconds": round(prep.seconds, 1) if prep else None,
            "warm_statuses": statuses,
            "cpu_seconds": {k: round(m.cpu_seconds, 1) for k, m in (("cold", cold), ("warm", warm), ("sequential", seq))},
            "cores_busy_on_average": {k: round(m.cpu_seconds / m.seconds, 2) for k, m in (("cold", cold), ("warm", warm), ("sequential", seq)) if m.seconds},
            "speedup_sequential_over_cold": round(seq.seconds / cold.seconds, 2) if cold.seconds else None,
            "targets": {"cold_seconds": TARGET_COLD_SECONDS, "warm_seconds": TARGET_WARM_SECONDS, "speedup": TARGET_SPEEDUP},
            "cold_per_report": {n["name"]: {k: n.get(k) for k in ("status", "seconds", "execute_seconds", "render_seconds")}
                                for n in cold_manifest.get("notebooks", [])},
            "cold_combined_seconds": cold_manifest.get("combined", {}).get("seconds"),
        }  # fmt: skip
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print(
                f"Pack benchmark: {args.force} {args.quarter}, {len(names)} report(s), jobs={results['jobs']}, project {PROJECT_ROOT}"
            )
            print(
                f"  1-minute load average before/after: {results['load_average_before_and_after']} on {results['cores']} cores (other work on the machine slows every candidate)"
            )
            if prep:
                print(f"  setup ingest (not compared): {prep.seconds:7.1f} s")
            for m, target in (
                (cold, TARGET_COLD_SECONDS),
                (warm, TARGET_WARM_SECONDS),
                (seq, None),
            ):
                verdict = (
                    ""
                    if target is None
                    else (" meets" if m.seconds <= target else " MISSES")
                    + f" target <= {target:.0f} s"
                )
                print(
                    f"  {m.name:42s} {m.seconds:7.1f} s  exit {m.returncode}  CPU {m.cpu_seconds:6.1f} s ({m.cpu_seconds / m.seconds:.2f} cores busy){verdict}"
                )
            ratio = results["speedup_sequential_over_cold"]
            print(
                f"  sequential / cold = {ratio:.2f}x ({'meets' if ratio >= TARGET_SPEEDUP else 'MISSES'} target >= {TARGET_SPEEDUP}x)"
            )
            print(f"  warm run statuses: {statuses}")
            for name, r in results["cold_per_report"].items():
                print(
                    f"  cold {name:26s} {r['status']:9s} notebook {r['execute_seconds'] or 0:6.1f} s, documents {r['render_seconds'] or 0:5.1f} s"
                )
            print(f"  cold combined pack rendering {results['cold_combined_seconds']} s")
            for m in (cold, warm, seq):
                if m.returncode not in (0, 4):
                    print(f"  {m.name} failed:\n{m.stderr_tail}")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
