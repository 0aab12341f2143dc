"""Ingest benchmark: ``crimeplan ingest`` against a naive pandas loop and DuckDB alone.

Builds a scaled raw tree in a temporary folder: the real Northumbria street files in
``../shared/data/police`` replicated as pseudo-forces ``force01`` ... ``force43``. Every file is a
symlink named ``<YYYY-MM>-<slug>-street.csv`` pointing at the real file of that month (so the
``Month`` column matches the name), and ``reference`` is a symlink to the real reference folder;
nothing is copied. Then each candidate runs in a fresh subprocess:

(a) ``crimeplan ingest`` (the real CLI),
(b) a naive pandas loop: ``read_csv`` every file, ``concat``, ``to_parquet``,
(c) DuckDB alone: ``read_csv`` over all files, ``COPY ... TO`` Parquet.

Wall time and the child's peak RSS (``ru_maxrss``) are printed with the ratios b/a and a/c and
the targets: (a) at least 3x faster than (b), at most 1.5x the time of (c), peak RSS <= 3 GiB.

Usage::

    .venv/bin/python benchmarks/ingest.py                      # 43 forces x all months
    .venv/bin/python benchmarks/ingest.py --forces 2 --months 6 --json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import GIB, Measurement, run_measured  # noqa: E402

from analysis.paths import SHARED_DATA_DIR  # noqa: E402

SOURCE_FORCE = "northumbria"
TARGET_SPEEDUP_OVER_PANDAS = 3.0
TARGET_RATIO_TO_DUCKDB = 1.5
TARGET_PEAK_RSS_BYTES = 3 * GIB
CANDIDATES = ("duckdb", "ingest", "pandas")


# --------------------------------------------------------------------------------------------
# The scaled tree
# --------------------------------------------------------------------------------------------


def source_street_files(shared: Path = SHARED_DATA_DIR) -> list[tuple[str, Path, int]]:
    """``(month, path, data rows)`` of every real Northumbria street file, oldest first.

    Row counts come from ``police/manifest.csv``.
    """
    police = shared / "police"
    with open(police / "manifest.csv", newline="") as fh:
        rows = {r["file"]: int(r["rows"]) for r in csv.DictReader(fh)}
    out = []
    for path in sorted((police / SOURCE_FORCE).glob(f"*/*-{SOURCE_FORCE}-street.csv")):
        month = path.parent.name
        out.append((month, path, rows[path.relative_to(police).as_posix()]))
    return out


def build_scaled_tree(
    root: Path, forces: int, months: int | None, shared: Path = SHARED_DATA_DIR
) -> dict:
    """Create ``root/raw`` with ``forces`` pseudo-forces x ``months`` months of symlinked street files.

    Returns
    -------
    dict
        ``raw_dir``, ``files`` (count), ``rows`` (expected data rows), ``months`` (list),
        ``forces`` (count), ``bytes`` (total size of the files the links point at).
    """
    sources = source_street_files(shared)
    if months is not None:
        sources = sources[:months]
    raw = root / "raw"
    police = raw / "police"
    police.mkdir(parents=True)
    (raw / "reference").symlink_to(shared / "reference", target_is_directory=True)
    n_files = n_rows = n_bytes = 0
    for month, path, rows in sources:
        folder = police / month
        folder.mkdir()
        for i in range(1, forces + 1):
            (folder / f"{month}-force{i:02d}-street.csv").symlink_to(path)
            n_files += 1
            n_rows += rows
            n_bytes += path.stat().st_size
    return {
        "raw_dir": str(raw),
        "files": n_files,
        "rows": n_rows,
        "bytes": n_bytes,
        "forces": forces,
        "months": [m for m, _, _ in sources],
    }


# --------------------------------------------------------------------------------------------
# Candidates (b) and (c), run as `python benchmarks/ingest.py --child NAME RAW OUT`
# --------------------------------------------------------------------------------------------


def child_pandas(raw: Path, out: Path) -> None:
    """Naive pandas: read every street file, add its force, concatenate, write one Parquet file."""
    import pandas as pd

    frames = []
    for path in sorted(raw.glob("police/*/*-street.csv")):
        frame = pd.read_csv(path)
        frame["force"] = path.name[8:].removesuffix("-street.csv")
        frames.append(frame)
    pd.concat(frames, ignore_index=True).to_parquet(out / "street.parquet", index=False)


def child_duckdb(raw: Path, out: Path) -> None:
    """DuckDB alone: one ``read_csv`` over every street file, ``COPY`` to one Parquet file."""
    import duckdb

    pattern = str(raw / "police" / "*" / "*-street.csv")
    target = str(out / "street.parquet")
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{pattern}', header=true, filename=true)) "
        f"TO '{target}' (FORMAT parquet)"
    )


def export_revision(rev: str, dest: Path) -> Path:
    """Export ``src/`` and ``config/`` of git revision ``rev`` into ``dest`` (``git archive``)."""
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev, "src", "config"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _crimeplan_command(raw: Path, out: Path) -> list[str]:
    """``crimeplan ingest`` run as ``python -m analysis.cli`` (the same Typer app as the script)."""
    return [
        sys.executable,
        "-m",
        "analysis.cli",
        "ingest",
        "--raw-dir",
        str(raw),
        "--processed-dir",
        str(out),
    ]


def command_for(name: str, raw: Path, out: Path) -> list[str]:
    """The command line that runs candidate ``name`` in a fresh process."""
    if name == "ingest":
        return _crimeplan_command(raw, out)
    return [sys.executable, str(Path(__file__).resolve()), "--child", name, str(raw), str(out)]


# --------------------------------------------------------------------------------------------
# Checking and reporting
# --------------------------------------------------------------------------------------------


def street_rows_written(name: str, out: Path) -> int | None:
    """Rows in the street Parquet output of a candidate (``None`` when none is found)."""
    import duckdb

    if name == "ingest":
        current = out / "CURRENT"
        if not current.exists():
            return None
        snapshot = out / "snapshots" / current.read_text().strip()
        files = sorted(snapshot.glob("street*.parquet")) + sorted(
            snapshot.glob("street/**/*.parquet")
        )
    else:
        files = [out / "street.parquet"]
    files = [f for f in files if f.is_file()]
    if not files:
        return None
    paths = ", ".join(f"'{f}'" for f in files)
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet([{paths}])").fetchone()[0]


def summarise(tree: dict, results: dict[str, Measurement], rows: dict[str, int | None]) -> dict:
    """Ratios and pass/fail against the targets (``None`` where a candidate is missing or failed).

    When the pandas loop was killed for exceeding the RSS cap, b/a is computed from the time it
    had run, so it is a lower bound (``pandas_ratio_is_lower_bound``).
    """
    a, b, c = (results.get(k) for k in ("ingest", "pandas", "duckdb"))
    a_ok = a is not None and a.ok
    speedup = b.seconds / a.seconds if a_ok and b and (b.ok or b.killed_over_cap) else None
    to_duckdb = a.seconds / c.seconds if a_ok and c and c.ok else None
    checks = {
        "ingest >= 3x faster than pandas (b/a)": None
        if speedup is None
        else speedup >= TARGET_SPEEDUP_OVER_PANDAS,
        "ingest <= 1.5x DuckDB time (a/c)": None
        if to_duckdb is None
        else to_duckdb <= TARGET_RATIO_TO_DUCKDB,
        "ingest peak RSS <= 3 GiB": None
        if a is None
        else a_ok and a.peak_rss_bytes <= TARGET_PEAK_RSS_BYTES,
        "every finished candidate wrote every row": all(
            rows.get(k) == tree["rows"] for k, m in results.items() if m.ok
        ),
    }
    return {
        "ratio_pandas_over_ingest": speedup,
        "pandas_ratio_is_lower_bound": bool(b and b.killed_over_cap),
        "ratio_ingest_over_duckdb": to_duckdb,
        "checks": checks,
    }


def _fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def print_report(
    tree: dict, results: dict[str, Measurement], rows: dict, summary: dict, env: dict
) -> None:
    labels = {
        "ingest": "(a) crimeplan ingest",
        "pandas": "(b) naive pandas",
        "duckdb": "(c) DuckDB alone",
    }
    print(
        f"scaled tree: {tree['forces']} pseudo-forces x {len(tree['months'])} months = {tree['files']:,} files, "
        f"{tree['rows']:,} rows, {tree['bytes'] / GIB:.2f} GiB of CSV ({tree['months'][0]}..{tree['months'][-1]})"
    )
    print(
        f"machine: {env['cpus']} CPUs, load average at start {env['load_at_start']} (shared machine)"
    )
    print(f"{'candidate':<24}{'wall s':>10}{'peak RSS GiB':>14}{'rows':>14}  status")
    for name in ("ingest", "pandas", "duckdb"):
        m = results.get(name)
        if m is None:
            continue
        status = (
            "ok"
            if m.ok
            else ("killed: over RSS cap" if m.killed_over_cap else f"exit {m.returncode}")
        )
        n = rows.get(name)
        print(
            f"{labels[name]:<24}{m.seconds:>10.1f}{m.peak_rss_bytes / GIB:>14.2f}"
            f"{'n/a' if n is None else f'{n:,}':>14}  {status}"
        )
        if m.stderr_tail:
            print("    " + m.stderr_tail.replace("\n", "\n    "))
    bound = ">= " if summary["pandas_ratio_is_lower_bound"] else ""
    print(
        f"b/a (target >= {TARGET_SPEEDUP_OVER_PANDAS}): {bound}{_fmt_ratio(summary['ratio_pandas_over_ingest'])}"
    )
    print(
        f"a/c (target <= {TARGET_RATIO_TO_DUCKDB}): {_fmt_ratio(summary['ratio_ingest_over_duckdb'])}"
    )
    for check, passed in summary["checks"].items():
        print(f"  [{'n/a' if passed is None else 'PASS' if passed else 'FAIL'}] {check}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forces", type=int, default=43, help="pseudo-forces (default 43)")
    parser.add_argument(
        "--months", type=int, default=None, help="months per force (default: all available)"
    )
    parser.add_argument(
        "--only", default=",".join(CANDIDATES), help="comma list of: ingest, pandas, duckdb"
    )
    parser.add_argument(
        "--rss-cap-gb", type=float, default=12.0, help="kill a candidate above this RSS (GiB)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to build the tree (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the tree and outputs")
    parser.add_argument(
        "--rev",
        default=None,
        help="benchmark the ingest of this git revision (exported with git archive) instead of the working tree",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON results here")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "RAW", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        name, raw, out = args.child
        {"pandas": child_pandas, "duckdb": child_duckdb}[name](Path(raw), Path(out))
        return 0
    if not (SHARED_DATA_DIR / "police").is_dir():
        print(f"error: real data folder {SHARED_DATA_DIR} is absent", file=sys.stderr)
        return 2
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = set(only) - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown candidate(s): {', '.join(sorted(unknown))}")

    base = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.workdir))
    try:
        tree = build_scaled_tree(base, args.forces, args.months)
        for _, path, _ in source_street_files():  # warm the page cache so no candidate pays for it
            path.read_bytes()
        child_env = None
        if args.rev:
            child_env = {
                **os.environ,
                "PYTHONPATH": str(export_revision(args.rev, base / "code") / "src"),
            }
        env = {
            "cpus": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in os.getloadavg()],
            "ingest_code": args.rev or "working tree",
        }
        results: dict[str, Measurement] = {}
        rows: dict[str, int | None] = {}
        for name in [c for c in CANDIDATES if c in only]:
            out = base / f"out-{name}"
            out.mkdir()
            results[name] = run_measured(
                name,
                command_for(name, Path(tree["raw_dir"]), out),
                rss_cap_bytes=int(args.rss_cap_gb * GIB),
                log_path=base / f"{name}.log",
                env=child_env if name == "ingest" else None,
            )
            rows[name] = street_rows_written(name, out) if results[name].ok else None
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
        summary = summarise(tree, results, rows)
        document = json.dumps(
            {
                "tree": tree,
                "env": env,
                "results": {k: {**m.as_dict(), "rows": rows.get(k)} for k, m in results.items()},
                **summary,
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        if args.save:
            args.save.parent.mkdir(parents=True, exist_ok=True)
            args.save.write_text(document + "\n")
        if args.json:
            print(document)
        else:
            print_report(tree, results, rows, summary, env)
        return 0
    finally:
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
