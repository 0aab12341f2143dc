"""The ingest benchmark's export of another revision (``benchmarks/ingest.py --rev``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.realdata
def test_distinct_ids_tree_gives_each_pseudo_force_its_own_crime_ids(tmp_path, real_raw_dir):
    """``--distinct-ids``: copies whose Crime IDs differ between pseudo-forces and nothing else."""
    import csv as csv_module

    bench = _bench()
    shared = real_raw_dir
    tree = bench.build_scaled_tree(tmp_path, 3, 1, shared, distinct_ids=True)
    files = sorted(Path(tree["raw_dir"]).rglob("*-street.csv"))
    assert len(files) == 3 and not any(f.is_symlink() for f in files)
    source = bench.source_street_files(shared)[0][1]
    with open(source, newline="", encoding="utf-8-sig") as fh:
        original = list(csv_module.reader(fh))
    ids = []
    for i, path in enumerate(files, start=1):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv_module.reader(fh))
        assert len(rows) == len(original)
        for got, want in zip(rows[1:], original[1:], strict=True):
            assert got[1:] == want[1:]  # every other field as it was
            if want[0]:
                assert got[0] == f"{i:02x}" + want[0][2:]
            else:
                assert got[0] == ""
        ids.append({r[0] for r in rows[1:] if r[0]})
    assert not (ids[0] & ids[1]) and not (ids[1] & ids[2])
