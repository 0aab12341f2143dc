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
