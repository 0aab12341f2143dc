"""The ingest benchmark's export of another revision (``benchmarks/ingest.py --rev``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_ingest", REPO / "benchmarks" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exported_revision_runs_as_a_checkout(tmp_path):
    """The exported tree of HEAD is what the code needs to find its own configuration."""
    dest = _bench().export_revision("HEAD", tmp_path / "code")
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", "HEAD"],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert sorted(p.name for p in dest.iterdir()) == sorted(listed)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import analysis, analysis.paths as p; print(analysis.__file__); "
         "print(p.IS_CHECKOUT); print(p.CONFIG_DIR)"],
        env={**os.environ, "PYTHONPATH": str(dest / "src")},
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.splitlines()  # fmt: skip
    assert probe == [str(dest / "src" / "analysis" / "__init__.py"), "True", str(dest / "config")]
    assert (dest / "config" / "catalog.yml").is_file()


def test_paired_ratios_take_the_median_of_each_rounds_own_ratio():
    bench = _bench()
    Measurement = bench.Measurement

    def m(seconds, cpu, rc=0):
        return Measurement("x", seconds, 1, rc, cpu_seconds=cpu)

    runs = {
        "ingest": [m(30.0, 60.0), m(36.0, 70.0), m(31.0, 58.0), m(10.0, 10.0, rc=1)],
        "duckdb": [m(20.0, 40.0), m(18.0, 35.0), m(24.0, 40.0), m(18.0, 30.0)],
    }
    out = bench.paired_ratios(runs)
    # rounds: 30/20 = 1.5, 36/18 = 2.0, 31/24 = 1.2917; the failed fourth round is left out
    assert out["ratio_ingest_over_duckdb_rounds"] == [1.5, 2.0, 1.292]
    assert out["ratio_ingest_over_duckdb"] == 1.5
    assert out["cpu_ratio_ingest_over_duckdb"] == 1.5  # 60/40, 70/35 = 2, 58/40 = 1.45
    assert out["ratio_ingest_over_duckdb_fastest"] == 30.0 / 18.0  # failed round left out
    assert "ratio_ingest_over_duckdb_sorted" not in out
