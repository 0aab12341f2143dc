"""Session fixtures shared by every test module: synthetic and real raw trees and their stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.fixtures import write_fixture_raw
from analysis.ingest import ingest
from analysis.paths import SHARED_DATA_DIR


@pytest.fixture(scope="session")
def fixture_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic raw tree (``analysis.fixtures.write_fixture_raw``); treat as read-only."""
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


def read_report_table(path, quarter: str, columns: list[str], force: str = "northumbria"):
    """A published (tidy) CSV read back into the report's own columns, for tests that check a
    notebook's tables: time columns back to ``window``/``month``, ``geographic_level`` back to
    ``area_level`` (force rows keep the force slug as code), symbols to missing, numbers typed.
    Figures keep their publication precision, so compare them with that tolerance."""
    import numpy as np
    import pandas as pd

    from analysis.params import Quarter
    from analysis.tidy import LEVELS, MONTHS, SYMBOLS, window_time

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = table.replace(dict.fromkeys(SYMBOLS, np.nan))
    q = Quarter.parse(quarter)
    if "window" in columns:
        back = {
            window_time(w, q): w
            for w in ("quarter", "previous_quarter", "year_earlier_quarter", "12m")
        }
        table["window"] = [
            back[(p, i)]
            for p, i in zip(table["time_period"], table["time_identifier"], strict=True)
        ]
    if "month" in columns:
        table["month"] = [
            f"{p}-{MONTHS.index(i) + 1:02d}"
            for p, i in zip(table["time_period"], table["time_identifier"], strict=True)
        ]
    if "area_level" in columns:
        levels = {v: k for k, v in LEVELS.items() if k not in ("pfa",)}
        table["area_level"] = table["geographic_level"].map(levels)
        at_force = table["area_level"] == "force"
        table.loc[at_force, "area_code"] = force
    for column in table.columns:
        if column in ("area_code", "time_period"):
            continue
        values = table[column]
        if values.isin(["true", "false"]).all():
            table[column] = values == "true"
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().sum() == values.notna().sum():
            table[column] = numbers
    return table[columns]
