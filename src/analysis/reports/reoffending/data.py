"""Reoffending: the one module that reads the store.

Source: Ministry of Justice, Proven Reoffending Statistics, England and Wales, cohorts
2000–2014 (store table ``reoffending_national``, long format); local breakdowns when a user has
supplied the MoJ tables (store table ``reoffending_local``, see
:mod:`analysis.ingest.reoffending_data`). :func:`national_wide` gives the national series its typed,
wide shape (one row per cohort).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import RunParameters
from analysis.reports import reasons

__all__ = [
    "LOCAL_COLUMNS",
    "ReoffendingData",
    "cohort_label",
    "load",
    "missing_data_reason",
    "national_wide",
    "read_local",
    "read_national",
]

LOCAL_COLUMNS = [
    "cohort", "breakdown", "area_code", "area_name", "offenders", "reoffenders", "reoffences",
    "source_file", "source_line",
]  # fmt: skip
"""Columns of the ``reoffending_local`` store table."""


@dataclass(frozen=True)
class ReoffendingData:
    """What the 04_reoffending notebook reads from the store.

    Attributes
    ----------
    run : RunParameters
    national : DataFrame
        One row per measure × temporal unit × group × cohort start (see :func:`national_wide`).
    local : DataFrame
        The ``reoffending_local`` store table; empty (same columns) when no file was supplied.
    """

    run: RunParameters
    national: pd.DataFrame
    local: pd.DataFrame


def cohort_label(start: pd.Timestamp, months: int) -> str:
    """``"YYYY-MM to YYYY-MM"``: the first and last month of a cohort of ``months`` months."""
    start = pd.Timestamp(start)
    end = start + pd.DateOffset(months=months - 1)
    return f"{start:%Y-%m} to {end:%Y-%m}"


def national_wide(long: pd.DataFrame) -> pd.DataFrame:
    """The national long series (``measure, temporal_unit, date, group, rate, value``) made wide.

    Returns
    -------
    DataFrame
        One row per ``measure, temporal_unit, group, cohort_start`` with ``cohort`` (label),
        ``offenders`` (MoJ ``cohort``), ``reoffenders``, ``reoffences``, ``binary_rate``
        (MoJ's published percentage), ``frequency`` (MoJ's published reoffences per
        reoffender), ``adjusted`` and ``ogrs4`` where published (adults, new measure). Cohorts
        without published figures are kept with missing values.
    """
    frame = long.copy()
    frame["cohort_start"] = pd.to_datetime(frame["date"])
    wide = frame.pivot_table(
        index=["measure", "temporal_unit", "group", "cohort_start"],
        columns="rate",
        values="value",
        aggfunc="first",
        dropna=False,
    )
    wide = wide.reset_index().rename(
        columns={"cohort": "offenders", "binary": "binary_rate", "OGRS4": "ogrs4"}
    )
    wide.columns.name = None
    for col in ("offenders", "reoffenders", "reoffences", "binary_rate", "frequency"):
        if col not in wide:
            wide[col] = np.nan
    months = np.where(wide["temporal_unit"].str.startswith("3"), 3, 12)
    wide["cohort"] = [cohort_label(s, m) for s, m in zip(wide["cohort_start"], months, strict=True)]
    # the full product of index levels is not wanted: keep combinations present in the source
    present = frame[["measure", "temporal_unit", "group", "cohort_start"]].drop_duplicates()
    wide = wide.merge(present, on=["measure", "temporal_unit", "group", "cohort_start"])
    return wide.sort_values(["measure", "temporal_unit", "group", "cohort_start"]).reset_index(
        drop=True
    )


def _local_parquet(store: object) -> Path:
    return Path(store.snapshot_dir) / "reoffending_local.parquet"


def _views(store: object) -> set[str]:
    return set(store.query("select table_name from information_schema.tables")["table_name"])


def _store_tables(store: object) -> set[str]:
    names = _views(store)
    if _local_parquet(store).is_file():
        names.add("reoffending_local")
    return names


def read_national(store: object) -> pd.DataFrame:
    """The national MoJ series of ``store`` made wide (:func:`national_wide`); empty when the
    store has no ``reoffending_national`` table."""
    if "reoffending_national" not in _views(store):
        return pd.DataFrame()
    return national_wide(store.table("reoffending_national"))


def read_local(store: object) -> pd.DataFrame:
    """The ``reoffending_local`` table of ``store`` (columns :data:`LOCAL_COLUMNS`).

    A store view when the store declares one, else the snapshot's Parquet file written by
    ingest (``analysis.store`` does not list it yet); empty with those columns when no local
    MoJ table was supplied.
    """
    if "reoffending_local" in _views(store):
        return store.query("select * from reoffending_local")
    if _local_parquet(store).is_file():
        return store.query("select * from read_parquet(?)", [_local_parquet(store).as_posix()])
    return pd.DataFrame({c: pd.Series(dtype="object") for c in LOCAL_COLUMNS})


def missing_data_reason(store: object, run: RunParameters) -> str | None:
    """None when the store holds the national MoJ series, else a one-sentence reason."""
    if "reoffending_national" not in _store_tables(store):
        return reasons.missing_reference(
            store,
            run,
            "no Ministry of Justice proven reoffending series (store table reoffending_national)",
            ("reoffending_national",),
        )
    return None


def load(run: RunParameters) -> ReoffendingData:
    """Read the national (and, when supplied, local) MoJ reoffending tables from the store.

    Raises
    ------
    CrimeplanError
        When the store has no ``reoffending_national`` table.
    """
    from analysis.store import Store

    with Store(run.processed_path) as store:
        reason = missing_data_reason(store, run)
        if reason:
            raise CrimeplanError(reason)
        national = read_national(store)
        local = read_local(store)
    return ReoffendingData(run=run, national=national, local=local)
