"""``Store``: the read-only query layer over the processed Parquet store (DuckDB).

Every store table of docs/architecture.md is a DuckDB view of the same name; police tables
are folders of Parquet part files ``<table>/part-<snapshot>-<n>.parquet`` (one per ingest batch,
rows in source-file order so row-group statistics on ``force`` and ``month`` skip what a query
does not need) plus an empty ``_schema.parquet``; every column is inside the files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd

from analysis.errors import CrimeplanError

POLICE_TABLES = ("street", "outcomes", "stop_search")
BOUNDARY_LEVELS = ("lsoa", "ward", "lad", "pfa")


class Store:
    """A complete snapshot of the processed store, resolved through ``<processed>/CURRENT``.

    Parameters
    ----------
    processed_dir : path
        The store folder given to ``crimeplan ingest --processed-dir``.

    Raises
    ------
    CrimeplanError
        No complete store there (``crimeplan ingest`` has not run).
    """

    def __init__(self, processed_dir: str | Path, snapshot: str | None = None) -> None:
        self.processed_dir, sid = _resolve(Path(processed_dir), snapshot)
        snapshot_dir = self.processed_dir / "snapshots" / sid
        self.snapshot_id: str = sid
        self.snapshot_dir: Path = snapshot_dir
        # Readers hold a shared lock on their snapshot for as long as the Store is open; an
        # ingest never deletes a snapshot whose lock it cannot take exclusively.
        self._lock = reader_lock(self.processed_dir, sid)
        self._con = duckdb.connect()
        for name in POLICE_TABLES:
            glob = (snapshot_dir / name / "**" / "*.parquet").as_posix()
            self._con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_string(glob)}, "
                "hive_partitioning=false, union_by_name=true)"
            )
        for path in sorted(snapshot_dir.glob("*.parquet")):  # reference, ledger, ... and loaders
            self._con.execute(
                f'CREATE VIEW "{path.stem}" AS SELECT * FROM read_parquet('
                f"{_sql_string(path.as_posix())})"
            )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run ``sql`` (DuckDB dialect) against the store views; ``?`` placeholders take ``params``."""
        return self._con.execute(sql, params or []).df()

    def table(self, name: str) -> pd.DataFrame:
        """A whole non-geographic table by name (``lsoa``, ``forces``, ``quality``, ...)."""
        if name not in self._views():
            raise CrimeplanError(f"store table {name!r} is absent from {self.snapshot_dir}")
        return self.query(f'SELECT * FROM "{name}"')

    def _views(self) -> set[str]:
        return set(
            self._con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").df()[
                "view_name"
            ]
        )

    def _police(self, name: str, force: str, months: list[str] | None) -> pd.DataFrame:
        sql = f"SELECT * FROM {name} WHERE force = ?"
        params: list = [force]
        if months is not None:
            sql += " AND list_contains(?, month)"
            params.append(list(months))
        return self.query(sql + " ORDER BY month, source_line", params)

    def street(self, force: str, months: list[str] | None = None) -> pd.DataFrame:
        """Street-level crimes and ASB of ``force`` (all months, or ``months``)."""
        return self._police("street", force, months)

    def outcomes(self, force: str, months: list[str] | None = None) -> pd.DataFrame:
        """Outcome records of ``force`` by outcome month."""
        return self._police("outcomes", force, months)

    def stop_search(self, force: str, months: list[str] | None = None) -> pd.DataFrame:
        """Stop-and-search records of ``force`` by file month."""
        return self._police("stop_search", force, months)

    def lsoa(self, force: str | None = None) -> pd.DataFrame:
        """LSOA 2021 reference rows; with ``force``, only LSOAs in the force's own LADs."""
        if force is None:
            return self.query("SELECT * FROM lsoa ORDER BY lsoa21_code")
        return self.query(
            """SELECT * FROM lsoa WHERE lad_code IN (SELECT lad_code FROM forces WHERE force = ?)
               ORDER BY lsoa21_code""",
            [force],
        )

    def boundaries(self, level: str, force: str | None = None) -> gpd.GeoDataFrame:
        """Boundaries at ``level`` (lsoa|ward|lad|pfa), EPSG:4326: ``code, name, geometry`` (+ ``lad_code``).

        With ``force``: LSOAs/wards/LADs in the force's LADs, or the force's own PFA.
        """
        if level not in BOUNDARY_LEVELS:
            raise CrimeplanError(f"boundary level must be one of {BOUNDARY_LEVELS}, got {level!r}")
        path = self.snapshot_dir / f"boundaries_{level}.parquet"
        if not path.exists():
            raise CrimeplanError(f"no {level} boundaries in {self.snapshot_dir}")
        frame = gpd.read_parquet(path)
        if force is not None:
            forces = self.table("forces")
            mine = forces[forces["force"] == force]
            if level == "pfa":
                frame = frame[frame["code"].isin(mine["pfa_code"])]
            elif level == "lad":
                frame = frame[frame["code"].isin(mine["lad_code"])]
            else:
                frame = frame[frame["lad_code"].isin(mine["lad_code"])]
        return frame.reset_index(drop=True)

    def months(self, force: str, kind: str) -> list[str]:
        """Sorted months for which ``force`` has a ``kind`` file (street|outcomes|stop_search)."""
        if kind not in POLICE_TABLES:
            raise CrimeplanError(f"kind must be one of {POLICE_TABLES}, got {kind!r}")
        rows = self.query(
            "SELECT DISTINCT month FROM ledger WHERE force = ? AND kind = ? ORDER BY month",
            [force, kind],
        )
        return rows["month"].tolist()

    def forces(self) -> list[str]:
        """Forces with any police data in the store."""
        return self.query("SELECT DISTINCT force FROM ledger ORDER BY force")["force"].tolist()

    def ledger(self) -> pd.DataFrame:
        """One row per source file: rows read, loaded and quarantined."""
        return self.table("ledger")

    def quarantine(self) -> pd.DataFrame:
        """Rows not loaded, with the reason and the raw row as JSON."""
        return self.table("quarantine")

    def quality(self, force: str | None = None, months: list[str] | None = None) -> pd.DataFrame:
        """Data-quality facts per force x month x kind (missing months have ``present`` false)."""
        sql, params = "SELECT * FROM quality WHERE true", []
        if force is not None:
            sql += " AND force = ?"
            params.append(force)
        if months is not None:
            sql += " AND list_contains(?, month)"
            params.append(list(months))
        return self.query(sql + " ORDER BY force, kind, month", params)

    def inputs(self) -> pd.DataFrame:
        """Every raw input file used: ``path`` (relative to the raw folder), ``sha256``, ``bytes``."""
        return self.table("inputs")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()
        if self._lock is not None:
            self._lock.close()  # releases the shared lock
            self._lock = None


def _sql_string(text: str) -> str:
    """``text`` as a DuckDB string literal (quotes doubled): paths are data, never SQL."""
    return "'" + str(text).replace("'", "''") + "'"


def _resolve(path: Path, snapshot: str | None) -> tuple[Path, str]:
    """``(processed_dir, snapshot id)`` for a store folder (via ``CURRENT`` or ``snapshot``) or
    for a snapshot folder itself (``<processed>/snapshots/<id>``, as the runner pins it)."""
    if snapshot is None and path.parent.name == "snapshots" and (path / "manifest.json").is_file():
        return path.parent.parent, path.name
    if snapshot is None:
        pointer = path / "CURRENT"
        snapshot = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
    if not snapshot or not (path / "snapshots" / snapshot).is_dir():
        raise CrimeplanError(f"no processed store at {path}; run crimeplan ingest")
    return path, snapshot


def reader_lock(processed_dir: Path, snapshot_id: str):
    """Take a shared lock on snapshot ``snapshot_id`` (``<processed>/readers/<id>.lock``);
    return the open lock file (closing it releases the lock), or None on a read-only store."""
    import fcntl

    path = Path(processed_dir) / "readers" / f"{snapshot_id}.lock"
    try:
        path.parent.mkdir(exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - held open for the Store's lifetime
    except OSError:
        return None  # read-only store: nobody can delete the snapshot under us either
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def snapshot_in_use(processed_dir: Path, snapshot_id: str) -> bool:
    """True when a reader holds ``snapshot_id``'s shared lock (so it must not be deleted)."""
    import fcntl

    path = Path(processed_dir) / "readers" / f"{snapshot_id}.lock"
    if not path.exists():
        return False
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
