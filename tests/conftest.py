"""Session fixtures shared by every test module: synthetic and real raw trees and their stores."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fixture_tree import write_fixture_raw

from analysis.ingest import ingest
from analysis.paths import SHARED_DATA_DIR


@pytest.fixture(scope="session")
def fixture_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic raw tree (``fixture_tree.write_fixture_raw``); treat as read-only."""
    return write_fixture_raw(tmp_path_factory.mktemp("fixture_raw"))


@pytest.fixture(scope="session")
def fixture_store_dir(fixture_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``fixture_raw_dir`` ingested into a processed store; treat as read-only."""
    processed = tmp_path_factory.mktemp("fixture_store")
    ingest(fixture_raw_dir, processed)
    return processed


@pytest.fixture(scope="session")
def real_raw_dir() -> Path:
    """The real shared data (``analysis.paths.SHARED_DATA_DIR``); skips when it is absent."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip("../shared/data absent")
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def real_store_dir(real_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real shared data ingested once per test session; treat as read-only.

    Under pytest-xdist the workers share one store in the session's temp folder: ingest
    serialises itself with its lock, so the first worker builds it and the others find it up to
    date instead of each ingesting the real data again.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        processed = tmp_path_factory.getbasetemp().parent / "real_store"
    else:
        processed = tmp_path_factory.mktemp("real_store")
    ingest(real_raw_dir, processed)
    return processed


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder ``name`` that ``build(folder)`` fills once per test session.

    Under pytest-xdist every worker gets the same folder: the first to take the lock builds it
    and the others wait and reuse it. A failed build leaves no completion mark, so the next
    caller tries again. The folder is read-only to tests.
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    done = root.with_name(f"{name}.done")
    with open(root.with_name(f"{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build(root)
            done.touch()
    return root


def _report_notebooks_present() -> bool:
    from analysis.paths import NOTEBOOKS_DIR
    from analysis.reports import REPORTS

    return all((NOTEBOOKS_DIR / f"{r.notebook}.ipynb").exists() for r in REPORTS)


PACK_PUBLISHED, PACK_NEXT = date(2023, 2, 23), date(2023, 5, 25)
"""Publication and next-publication dates given to the shared 2022-Q4 packs."""


@pytest.fixture(scope="session")
def fixture_pack_dir(tmp_path_factory, fixture_raw_dir: Path, fixture_store_dir: Path) -> Path:
    """The 2022-Q4 run folder of the whole pack (every report notebook, PDFs, workbook) on the
    synthetic store, built once per session and shared by every test file; treat as read-only.
    ``run_dir.parents[1] / "exit_code"`` holds ``run_pack``'s exit code."""
    from analysis.pack import run_pack

    if not _report_notebooks_present():
        pytest.skip("not every report notebook is in notebooks/ yet")

    def build(out: Path) -> None:
        code = run_pack("2022-Q4", "northumbria", fixture_raw_dir, fixture_store_dir, out, [], 2,
                        True, published=PACK_PUBLISHED, next_publication=PACK_NEXT)  # fmt: skip
        (out / "exit_code").write_text(str(code))

    return built_once(tmp_path_factory, "fixture_pack", build) / "northumbria" / "2022-Q4"


@pytest.fixture(scope="session")
def real_pack_dir(tmp_path_factory, real_raw_dir: Path, real_store_dir: Path) -> Path:
    """The real Northumbria 2022-Q4 run folder, built once per session from the real data and
    shared by every test file (the pack is the slowest thing the tests make); read-only.
    ``run_dir.parents[1] / "exit_code"`` holds ``run_pack``'s exit code."""
    from analysis.pack import run_pack

    if not _report_notebooks_present():
        pytest.skip("not every report notebook is in notebooks/ yet")

    def build(out: Path) -> None:
        code = run_pack("2022-Q4", "northumbria", real_raw_dir, real_store_dir, out, [], 2, True,
                        published=PACK_PUBLISHED)  # fmt: skip
        (out / "exit_code").write_text(str(code))

    return built_once(tmp_path_factory, "real_pack", build) / "northumbria" / "2022-Q4"


@pytest.fixture(scope="session", autouse=True)
def _shared_packs_built_first(request: pytest.FixtureRequest) -> None:
    """Build the shared packs at the start, one per xdist worker (the real pack on ``gw0``, the
    fixture pack on ``gw1``), when a selected test needs them: no worker then sits waiting on
    the other's lock in the middle of the session."""
    needed = {name for item in request.session.items for name in item.fixturenames}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    first = {"gw0": ["real_pack_dir"], "gw1": ["fixture_pack_dir"]}.get(worker, [])
    for name in first:
        if name in needed:
            try:
                request.getfixturevalue(name)
            except (pytest.skip.Exception, Exception):  # noqa: BLE001
                # no real data, or the build failed: pytest keeps the fixture's outcome, so
                # every test that needs the pack reports it; the other tests go on
                pass


def forbid_writes(monkeypatch) -> None:
    """Make every usual way of writing a file fail (for tests that sections write nothing)."""
    import builtins
    import pathlib

    import pandas as pd

    real_open = builtins.open

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            raise AssertionError(f"a section opened {file} for writing")
        return real_open(file, mode, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("a section tried to write a file")

    monkeypatch.setattr(builtins, "open", guarded_open)
    for name in ("write_text", "write_bytes", "mkdir", "touch"):
        monkeypatch.setattr(pathlib.Path, name, refuse)
    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", refuse)


TIDY_HEAD = ["time_period", "time_identifier", "geographic_level", "area_code", "area_name"]
"""The first five columns of every published CSV (time, then geography)."""
GEOGRAPHIC_LEVELS = {
    "force": "Police force area",
    "lad": "Local authority district",
    "ward": "Ward",
    "lsoa": "LSOA",
}
"""Published ``geographic_level`` of each report ``area_level``."""


def read_tidy(path: Path):
    """A published (tidy) CSV for arithmetic in tests: the symbols ``[c]``, ``[x]`` and ``[z]``
    read as missing, codes and periods kept as text, figures as numbers."""
    import pandas as pd

    text = {c: str for c in (*TIDY_HEAD, "ruc_class", "lsoa_vintage")}
    return pd.read_csv(path, na_values=["[c]", "[x]", "[z]"], keep_default_na=False, dtype=text)


def tidy_columns(own: list[str]) -> list[str]:
    """Published columns of a table whose report columns are ``own``: time and geography
    first, the report's ``window``/``month``/``area_level``/``area_code``/``area_name``
    columns replaced by them, the rest in order."""
    replaced = {"window", "month", "area_level", "area_code", "area_name"}
    return TIDY_HEAD + [c for c in own if c not in replaced]
