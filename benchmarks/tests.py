"""Test-suite benchmark: the README's test tiers at this checkout against a baseline revision.

Each tier (``unit``: ``-m "not realdata and not slow"``; ``all``: every test) runs as
``pytest -n <workers> --dist loadfile`` in a fresh process, first at the baseline revision (a
detached git worktree, its own ``src`` first on ``PYTHONPATH``, this checkout's ``.venv``), then
here. Printed: wall and CPU seconds (user + system of pytest and its workers), the ratio
here/baseline, the targets of issue 14 (``all`` <= 6 min, ``unit`` <= 1 min on a quiet 2-core
machine) and the load average at the start. Run it alone on a quiet machine.

Usage::

    .venv/bin/python benchmarks/tests.py --rev 8ad2982              # unit tier, both revisions
    .venv/bin/python benchmarks/tests.py --rev 8ad2982 --tier all   # the whole suite (long)
    .venv/bin/python benchmarks/tests.py --tier unit --no-baseline  # this checkout only
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TIERS = {"unit": ["-m", "not realdata and not slow"], "all": []}
TARGETS = {"unit": 60.0, "all": 360.0}


def run_tier(tree: Path, tier: str, workers: str, log: Path):
    """Run one tier of ``tree``'s tests (its own source first on the path); a Measurement.
    The names of failed tests are appended to ``log`` (a JUnit XML report beside it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree / "src")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
           "--dist", "loadfile", "--rootdir", str(tree), str(tree / "tests"),
           "--junitxml", str(log.with_suffix(".xml")), *TIERS[tier]]  # fmt: skip
    old = Path.cwd()
    os.chdir(tree)  # relative paths in tests are taken from the tree's root
    try:
        measured = run_measured(f"{tier} @ {tree.name}", cmd, log_path=log, env=env)
    finally:
        os.chdir(old)
    if not measured.ok and log.with_suffix(".xml").is_file():
        import xml.etree.ElementTree as ET

        cases = ET.parse(log.with_suffix(".xml")).getroot().iter("testcase")
        bad = [f"{c.get('classname')}::{c.get('name')}: {(c.find('failure') if c.find('failure') is not None else c.find('error')).get('message', '')[:300]}"
               for c in cases if c.find("failure") is not None or c.find("error") is not None]  # fmt: skip
        measured.stderr_tail += "\n" + "\n".join(bad)
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="baseline revision (commit, tag or branch)")
    parser.add_argument("--no-baseline", action="store_true", help="time this checkout only")
    parser.add_argument("--tier", choices=[*TIERS, "both"], default="unit")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default auto)")
    args = parser.parse_args(argv)
    if not args.no_baseline and not args.rev:
        parser.error("give --rev REV for the baseline, or --no-baseline")
    tiers = list(TIERS) if args.tier == "both" else [args.tier]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench_tests_"))
    base = work / "baseline"
    try:
        shared = ROOT.parent / "shared"
        if shared.is_dir():  # the baseline tree finds the real data beside it, as this one does
            (work / "shared").symlink_to(shared.resolve())
        if not args.no_baseline:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                            str(base), args.rev], check=True)  # fmt: skip
        rows = []
        for tier in tiers:
            before = (
                None if args.no_baseline else run_tier(base, tier, args.workers, work / "b.log")
            )
            here = run_tier(ROOT, tier, args.workers, work / "h.log")
            rows.append((tier, before, here))
        print(f"{'tier':<6} {'baseline wall':>14} {'cpu':>8} {'here wall':>10} {'cpu':>8} "
              f"{'wall ratio':>10} {'target':>8}")  # fmt: skip
        failed = False
        for tier, before, here in rows:
            for m in (before, here):
                if m is not None and not m.ok:
                    failed = True
                    print(f"{m.name}: exit {m.returncode}\n{m.stderr_tail}")
            bw = f"{before.seconds:.0f} s" if before else "-"
            bc = f"{before.cpu_seconds:.0f} s" if before else "-"
            ratio = f"{here.seconds / before.seconds:.2f}" if before else "-"
            met = "met" if here.seconds <= TARGETS[tier] else "missed"
            print(f"{tier:<6} {bw:>14} {bc:>8} {here.seconds:>8.0f} s {here.cpu_seconds:>6.0f} s "
                  f"{ratio:>10} {TARGETS[tier]:>6.0f} s {met}")  # fmt: skip
        return 1 if failed else 0
    finally:
        if base.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           check=False)  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
