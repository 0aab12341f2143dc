"""``Store``: the read-only query layer over the processed Parquet store (DuckDB).

Every store table of docs/architecture.md is a DuckDB view of the same name; police tables
are hive-style folders ``<table>/force=<f>/month=<m>/*.parquet`` read without partition
inference (the columns are inside the files).
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

    def __init__(self, processed_dir: str | Path) -> None:
        self.processed_dir = Path(processed_dir)
        pointer = self.processed_dir / "CURRENT"
        sid = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
        snapshot = self.processed_dir / "snapshots" / sid
        if not sid or not snapshot.is_dir():
            raise CrimeplanError(
                f"no processed store at {self.processed_dir}; run crimeplan ingest"
            )
        self.snapshot_dir: Path = snapshot
        self._con = duckdb.connect()
        for name in POLICE_TABLES:
            glob = (snapshot / name / "**" / "*.parquet").as_posix()
            self._con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=false, union_by_name=true)"
            )
        for path in sorted(snapshot.glob("*.parquet")):  # reference, ledger, ... and added loaders
            self._con.execute(
                f"CREATE VIEW \"{path.stem}\" AS SELECT * FROM read_parquet('{path.as_posix()}')"
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

    def close(self) -> None:
        self._con.close()
