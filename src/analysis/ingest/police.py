"""Police CSVs -> typed, harmonised rows, in bulk with DuckDB (no per-row Python).

Steps per kind: (1) one ``read_csv`` over all the kind's changed files into a staging table
(all VARCHAR, rejects stored so ragged rows and invalid UTF-8 name their file and line);
(2) data checks that are fatal (row count vs line count, file month vs ``Month`` column);
(3) point in polygon, in geopandas, only for the few distinct points that need it (split or
irregular 2011 LSOAs; stop-and-search); (4) one SQL statement that types, quarantines,
harmonises LSOA 2011 -> 2021 and attaches ward/LAD/force area.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import geopandas as gpd
import pandas as pd

from analysis.errors import InputError
from analysis.ingest.files import PoliceFile
from analysis.ingest.reference import UK_BBOX
from analysis.store import _sql_string

ASB = "Anti-social behaviour"


def raw_column(header_name: str) -> str:
    """Staging column name of a CSV header field (``"LSOA code"`` -> ``c_lsoa_code``)."""
    return "c_" + re.sub(r"[^a-z0-9]+", "_", header_name.lower()).strip("_")


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_sql_string(i) for i in items) + "]"


def stage_files(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    files: list[PoliceFile],
    header: list[str],
    data_rows: dict[str, int] | None = None,
) -> None:
    """Parse ``files`` once into table ``staged_<kind>``; define view ``stage_<kind>`` and ``files_<kind>``.

    One ``read_csv`` over the files (all VARCHAR, rejects stored) is materialised in file order
    (insertion order preserved), so every later check, classification and write reads the
    table, not the CSVs. ``stage_<kind>`` yields ``file_index, rn`` (row number over the whole
    batch, in file order: ``rowid + 1``) and one VARCHAR column per header field.
    ``files_<kind>`` maps ``file_index`` to the file, with ``row_offset`` so that
    ``source_line = rn - row_offset + 1`` and ``data_rows``; both are filled by
    :func:`scan_checks` when ``data_rows`` (rows per file) is not known yet.
    """
    data_rows = data_rows or {f.rel: 0 for f in files}
    offsets, total = [], 0
    for pf in files:
        offsets.append(total)
        total += data_rows[pf.rel]
    meta = pd.DataFrame(
        {
            "file_index": range(len(files)),
            "source_file": [f.rel for f in files],
            "path": [str(f.path) for f in files],
            "force": [f.force for f in files],
            "month": [f.month for f in files],
            "row_offset": offsets,
            "data_rows": [data_rows[f.rel] for f in files],
        }
    )
    con.register("meta_df", meta)
    con.execute(
        f"""CREATE OR REPLACE TABLE files_{kind} AS
            SELECT m.*, f.lads IS NOT NULL AS force_known, coalesce(f.lads, []) AS force_lads
            FROM meta_df m
            LEFT JOIN (SELECT force, list(lad_code) AS lads FROM force_lads GROUP BY 1) f USING (force)
            ORDER BY m.file_index"""
    )
    con.unregister("meta_df")
    cols = ", ".join(f"'{raw_column(h)}': 'VARCHAR'" for h in header)
    paths = _sql_list([str(f.path) for f in files])
    con.execute(f"DROP VIEW IF EXISTS stage_{kind}")
    con.execute("SET preserve_insertion_order = true")  # rowid follows the files' row order
    con.execute(
        f"""
        CREATE OR REPLACE TABLE staged_{kind} AS
        SELECT CAST(file_index AS INTEGER) AS file_index, * EXCLUDE (filename)
        FROM read_csv({paths}, columns={{{cols}}}, header=true, delim=',', quote='"', escape='"',
                      auto_detect=false, filename=true, null_padding=false,
                      store_rejects=true, rejects_table='rej_{kind}', rejects_scan='rejscan_{kind}',
                      max_line_size=1048576)
        """
    )
    con.execute(
        f"""CREATE VIEW stage_{kind} AS
            SELECT file_index, rowid + 1 AS rn, * EXCLUDE (file_index) FROM staged_{kind}"""
    )


def scan_checks(
    con: duckdb.DuckDBPyConnection, kind: str, header: list[str]
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """One pass over ``stage_<kind>`` (no writing): fatal checks, file vintages, points to locate.

    Creates ``vintage_<kind>(source_file, vintage)``: 2011 when the file has codes that exist
    only in 2011 and none only in 2021; 2021 when the reverse or every code is valid in both
    (unchanged LSOAs); null when it mixes both.

    Returns
    -------
    points : DataFrame
        Distinct ``code, longitude, latitude`` needing point in polygon: rows whose 2011 code was
        split or irregular (street, outcomes) or every located row (stop and search, code null).
    quarantined : dict
        ``source_file -> rows that will be quarantined``.
    rows : dict
        ``source_file -> data rows parsed`` (also written to ``files_<kind>``).

    Raises
    ------
    InputError
        A rejected row (wrong number of fields) naming its file and line; a ``Month`` value
        that differs from the month in the file name.
    """
    has_lsoa = kind != "stop_search"
    month_check = "s.c_month IS DISTINCT FROM m.month" if "Month" in header else "false"
    lsoa_cols = (
        """cc.is11 AND NOT cc.is21 AS only11, cc.is21 AND NOT cc.is11 AS only21,
           CASE WHEN cc.chgind IN ('S', 'X') THEN cc.code END AS code,"""
        if has_lsoa
        else "false AS only11, false AS only21, NULL::VARCHAR AS code,"
    )
    joins = "LEFT JOIN codes cc ON cc.code = NULLIF(s.c_lsoa_code, '')" if has_lsoa else ""
    point_filter = "code IS NOT NULL" if has_lsoa else "longitude IS NOT NULL"
    raise_rejects(con, kind)
    # rows that need no point in polygon all fall into one (null) point group
    facts = con.execute(
        f"""
        WITH t AS (
          SELECT s.file_index, s.rn, {month_check} AS bad_month, {lsoa_cols}
                 TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE) AS longitude,
                 TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE) AS latitude,
                 {reason_sql(kind)} AS reason
          FROM stage_{kind} s JOIN files_{kind} m USING (file_index) {joins}
        ), p AS (
          SELECT * EXCLUDE (longitude, latitude),
                 CASE WHEN {point_filter} THEN longitude END AS longitude,
                 CASE WHEN {point_filter} THEN latitude END AS latitude
          FROM t
        )
        SELECT GROUPING(file_index) AS is_point, file_index, code, longitude, latitude,
               count(*) AS parsed, min(rn) FILTER (WHERE bad_month) AS bad_month_rn,
               count(*) FILTER (WHERE only11) AS n11, count(*) FILTER (WHERE only21) AS n21,
               count(*) FILTER (WHERE reason IS NOT NULL) AS n_quarantined
        FROM p
        GROUP BY GROUPING SETS ((file_index), (code, longitude, latitude))
        HAVING GROUPING(file_index) = 0 OR ({point_filter})
        """
    ).df()
    meta = con.execute(f"SELECT * FROM files_{kind} ORDER BY file_index").df()
    per_file = meta.merge(facts[facts["is_point"] == 0], on="file_index", how="left")
    per_file[["parsed", "n11", "n21", "n_quarantined"]] = (
        per_file[["parsed", "n11", "n21", "n_quarantined"]].fillna(0).astype("int64")
    )
    per_file["row_offset"] = per_file["parsed"].cumsum() - per_file["parsed"]
    per_file["data_rows"] = per_file["parsed"]
    con.register("counts_df", per_file[["file_index", "row_offset", "data_rows"]])
    con.execute(
        f"""UPDATE files_{kind} f SET row_offset = c.row_offset, data_rows = c.data_rows
            FROM counts_df c WHERE f.file_index = c.file_index"""
    )
    con.unregister("counts_df")
    bad = per_file[per_file["bad_month_rn"].notna()]
    if len(bad):
        row = bad.iloc[0]
        line = int(row["bad_month_rn"] - row["row_offset"] + 1)
        raise InputError(
            row["path"], f"Month differs from the file name's month {row['month']}", line
        )
    vintage = per_file[["source_file"]].assign(
        vintage=[
            2011 if n11 > 0 and n21 == 0 else 2021 if n11 == 0 else None
            for n11, n21 in zip(per_file["n11"], per_file["n21"], strict=True)
        ]
    )
    vintage["vintage"] = vintage["vintage"].astype("Int16")
    con.register("vintage_df", vintage)
    con.execute(f"CREATE OR REPLACE TABLE vintage_{kind} AS SELECT * FROM vintage_df")
    con.unregister("vintage_df")
    points = facts.loc[facts["is_point"] == 1, ["code", "longitude", "latitude"]]
    points = points.dropna(subset=["longitude", "latitude"]).reset_index(drop=True)
    quarantined = dict(zip(per_file["source_file"], per_file["n_quarantined"], strict=True))
    rows = dict(zip(per_file["source_file"], per_file["parsed"], strict=True))
    return points, quarantined, rows


def raise_rejects(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Raise :class:`InputError` for the first row the last scan of ``stage_<kind>`` rejected.

    Rejected rows: wrong number of fields (checked on every scan) and bytes that are not UTF-8
    (checked in the columns the scan reads, so this runs after the full write too).
    """
    rejects = con.execute(
        f"""SELECT s.file_path, r.line, r.error_type, r.error_message
            FROM rej_{kind} r JOIN rejscan_{kind} s USING (scan_id, file_id)
            ORDER BY s.file_path, r.line LIMIT 1"""
    ).fetchall()
    if rejects:
        path, line, etype, message = rejects[0]
        what = {
            "INVALID UNICODE": "bytes that are not UTF-8",
            "INVALID ENCODING": "bytes that are not UTF-8",
            "TOO MANY COLUMNS": "more fields than the header (ragged row)",
            "MISSING COLUMNS": "fewer fields than the header (ragged row)",
        }.get(str(etype), f"{etype}: {str(message).splitlines()[0]}")
        raise InputError(path, what, int(line))


def register_lookups(con: duckdb.DuckDBPyConnection, reference: dict[str, pd.DataFrame]) -> None:
    """Create ``lsoa``, ``codes`` (every 2011/2021 LSOA code: vintages, change, largest child)
    and ``force_lads`` in ``con``.

    ``codes.target`` is the LSOA 2021 a code maps to without a point: itself when it is a 2021
    code, else the 2011 code's largest child (its only child when unchanged or merged); the
    ward/LAD columns are those of ``target``.
    """
    lsoa = reference["lsoa"]
    bridge = reference["lsoa_2011_2021"]
    forces = reference["forces"]
    con.register("lsoa_df", lsoa)
    con.register("bridge_df", bridge)
    con.register("forces_df", forces)
    con.execute("CREATE OR REPLACE TABLE lsoa AS SELECT * FROM lsoa_df")
    con.execute(
        """CREATE OR REPLACE TABLE code11 AS
           SELECT b.lsoa11_code AS code, any_value(b.chgind) AS chgind, count(*) AS n_children,
                  first(b.lsoa21_code ORDER BY l.population DESC NULLS LAST, b.lsoa21_code) AS pop_child
           FROM bridge_df b LEFT JOIN lsoa_df l USING (lsoa21_code) GROUP BY 1"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE codes AS
           WITH c AS (
             SELECT coalesce(c11.code, c21.code) AS code, c11.code IS NOT NULL AS is11,
                    c21.code IS NOT NULL AS is21, c11.chgind,
                    CASE WHEN c21.code IS NOT NULL THEN c21.code ELSE c11.pop_child END AS target
             FROM code11 c11
             FULL OUTER JOIN (SELECT DISTINCT lsoa21_code AS code FROM lsoa_df) c21 USING (code))
           SELECT c.*, l.ward_code, l.ward_name, l.lad_code, l.lad_name
           FROM c LEFT JOIN lsoa_df l ON l.lsoa21_code = c.target"""
    )
    con.execute(
        "CREATE OR REPLACE TABLE force_lads AS SELECT DISTINCT force, lad_code FROM forces_df"
    )
    for name in ("lsoa_df", "bridge_df", "forces_df"):
        con.unregister(name)


def _points_in_polygons(points: pd.DataFrame, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """For each point (``longitude, latitude`` + keys), the ``code`` of the polygon containing it."""
    if points.empty or polygons is None or polygons.empty:
        return points.assign(code=pd.Series([None] * len(points), dtype=object))
    geo = gpd.GeoDataFrame(
        points, geometry=gpd.points_from_xy(points["longitude"], points["latitude"]), crs=4326
    )
    hit = gpd.sjoin(geo, polygons[["code", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    return pd.DataFrame(hit.drop(columns=["geometry", "index_right"], errors="ignore"))


def split_points(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    points: pd.DataFrame,
    lsoa_boundaries: gpd.GeoDataFrame | None,
    bridge: pd.DataFrame,
) -> None:
    """Table ``split_<kind>(code, longitude, latitude, lsoa21_code)``: 2021 child containing the point.

    ``points`` are the distinct points of rows whose 2011 code was split or irregular; each is
    tested only against that code's own 2021 children.
    """
    result = pd.DataFrame({"code": [], "longitude": [], "latitude": [], "lsoa21_code": []}).astype(
        {"code": object, "lsoa21_code": object}
    )
    if not points.empty and lsoa_boundaries is not None:
        candidates = bridge[bridge["chgind"].isin(["S", "X"])][["lsoa11_code", "lsoa21_code"]]
        polys = lsoa_boundaries[["code", "geometry"]].merge(
            candidates, left_on="code", right_on="lsoa21_code"
        )
        polys = gpd.GeoDataFrame(
            polys[["lsoa11_code", "lsoa21_code", "geometry"]], geometry="geometry", crs=4326
        )
        geo = gpd.GeoDataFrame(
            points, geometry=gpd.points_from_xy(points["longitude"], points["latitude"]), crs=4326
        )
        hit = gpd.sjoin(geo, polys, predicate="within")
        hit = hit[hit["code"] == hit["lsoa11_code"]]
        hit = hit[~hit.index.duplicated(keep="first")]
        result = pd.DataFrame(
            {
                "code": hit["code"],
                "longitude": hit["longitude"],
                "latitude": hit["latitude"],
                "lsoa21_code": hit["lsoa21_code"],
            }
        )
    con.register("split_df", result.astype({"longitude": "float64", "latitude": "float64"}))
    con.execute(
        """CREATE TEMP VIEW split_new AS SELECT n.*, l.ward_code, l.ward_name, l.lad_code, l.lad_name
            FROM split_df n LEFT JOIN lsoa l USING (lsoa21_code)"""
    )
    con.execute(f"CREATE TABLE IF NOT EXISTS split_{kind} AS SELECT * FROM split_new WHERE false")
    con.execute(
        f"""INSERT INTO split_{kind} SELECT * FROM split_new n WHERE NOT EXISTS (
              SELECT 1 FROM split_{kind} o WHERE o.code = n.code
              AND o.longitude = n.longitude AND o.latitude = n.latitude)"""
    )
    con.execute("DROP VIEW split_new")
    con.unregister("split_df")


def stop_search_points(
    con: duckdb.DuckDBPyConnection, points: pd.DataFrame, lsoa_boundaries: gpd.GeoDataFrame | None
) -> None:
    """Table ``points_stop_search(longitude, latitude, lsoa21_code)`` by point in polygon (LSOA 2021)."""
    hit = _points_in_polygons(points[["longitude", "latitude"]], lsoa_boundaries)
    hit = hit.rename(columns={"code": "lsoa21_code"})[["longitude", "latitude", "lsoa21_code"]]
    con.register(
        "pts_df", hit.astype({"longitude": "float64", "latitude": "float64", "lsoa21_code": object})
    )
    con.execute(
        """CREATE TEMP VIEW pts_new AS SELECT n.*, l.ward_code, l.ward_name, l.lad_code, l.lad_name
           FROM pts_df n LEFT JOIN lsoa l USING (lsoa21_code)"""
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS points_stop_search AS SELECT * FROM pts_new WHERE false"
    )
    con.execute(
        """INSERT INTO points_stop_search SELECT * FROM pts_new n WHERE NOT EXISTS (
             SELECT 1 FROM points_stop_search o
             WHERE o.longitude = n.longitude AND o.latitude = n.latitude)"""
    )
    con.execute("DROP VIEW pts_new")
    con.unregister("pts_df")


_LON, _LAT = f"BETWEEN {UK_BBOX[0]} AND {UK_BBOX[2]}", f"BETWEEN {UK_BBOX[1]} AND {UK_BBOX[3]}"

_COORD_REASONS = f"""
    WHEN (NULLIF(s.c_longitude, '') IS NULL) <> (NULLIF(s.c_latitude, '') IS NULL) THEN 'only-one-coordinate'
    WHEN NULLIF(s.c_longitude, '') IS NOT NULL
         AND (TRY_CAST(s.c_longitude AS DOUBLE) IS NULL OR TRY_CAST(s.c_latitude AS DOUBLE) IS NULL)
         THEN 'unparseable-coordinates'
    WHEN NULLIF(s.c_longitude, '') IS NOT NULL
         AND NOT (TRY_CAST(s.c_longitude AS DOUBLE) {_LON} AND TRY_CAST(s.c_latitude AS DOUBLE) {_LAT})
         THEN 'coordinates-outside-uk'
"""


def reason_sql(kind: str) -> str:
    """SQL ``CASE`` giving the quarantine reason of a staged row ``s`` (null: the row loads).

    Street and outcomes need ``cc`` (table ``codes``) joined on the LSOA code.
    """
    if kind == "stop_search":
        return f"""CASE {_COORD_REASONS}
               WHEN NULLIF(s.c_date, '') IS NULL OR TRY_CAST(s.c_date AS TIMESTAMPTZ) IS NULL
                    THEN 'unparseable-date'
               ELSE NULL END"""
    if kind == "street":
        ids = f"""WHEN NULLIF(s.c_crime_type, '') IS NULL THEN 'missing-crime-type'
            WHEN NULLIF(trim(s.c_crime_id), '') IS NULL AND s.c_crime_type <> '{ASB}' THEN 'missing-crime-id'
            WHEN NULLIF(trim(s.c_crime_id), '') IS NOT NULL AND s.c_crime_type = '{ASB}' THEN 'asb-with-crime-id'"""
    else:
        ids = """WHEN NULLIF(trim(s.c_crime_id), '') IS NULL THEN 'missing-crime-id'
                WHEN NULLIF(s.c_outcome_type, '') IS NULL THEN 'missing-outcome-type'"""
    return f"""CASE {_COORD_REASONS}
             {ids}
             WHEN NULLIF(s.c_lsoa_code, '') IS NOT NULL AND cc.code IS NULL
                  THEN 'unknown-lsoa'
             ELSE NULL END"""


def classified_sql(kind: str, header: list[str]) -> str:
    """SQL of every staged row of ``kind`` with its store columns, ``reason`` and ``record``.

    ``reason`` is null for rows that load; ``record`` is the raw row as JSON (header names as
    keys), computed only when selected (quarantine).
    """
    record = (
        "json_object(" + ", ".join(f"{_sql_string(h)}, s.{raw_column(h)}" for h in header) + ")"
    )
    prov = f"""s.file_index, m.force, m.month, m.source_file,
              CAST(s.rn - m.row_offset + 1 AS INTEGER) AS source_line, {record} AS record"""
    if kind == "stop_search":
        return f"""
        SELECT {prov},
          NULLIF(s.c_type, '') AS type,
          CAST(TRY_CAST(NULLIF(s.c_date, '') AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS datetime,
          CASE lower(s.c_part_of_a_policing_operation) WHEN 'true' THEN true WHEN 'false' THEN false END AS part_of_operation,
          NULLIF(s.c_policing_operation, '') AS policing_operation,
          NULLIF(s.c_gender, '') AS gender,
          NULLIF(s.c_age_range, '') AS age_range,
          NULLIF(s.c_self_defined_ethnicity, '') AS self_defined_ethnicity,
          NULLIF(s.c_officer_defined_ethnicity, '') AS officer_defined_ethnicity,
          NULLIF(s.c_legislation, '') AS legislation,
          NULLIF(s.c_object_of_search, '') AS object_of_search,
          NULLIF(s.c_outcome, '') AS outcome,
          CASE lower(s.c_outcome_linked_to_object_of_search) WHEN 'true' THEN true WHEN 'false' THEN false END
            AS outcome_linked_to_object,
          CASE lower(s.c_removal_of_more_than_just_outer_clothing) WHEN 'true' THEN true WHEN 'false' THEN false END
            AS removal_of_more_than_outer_clothing,
          TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE) AS longitude,
          TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE) AS latitude,
          p.lsoa21_code, p.ward_code, p.ward_name, p.lad_code, p.lad_name,
          CASE WHEN p.lsoa21_code IS NULL OR NOT m.force_known THEN NULL
               ELSE list_contains(m.force_lads, p.lad_code) END AS in_force_area,
          {reason_sql(kind)} AS reason
        FROM stage_stop_search s JOIN files_stop_search m USING (file_index)
        LEFT JOIN points_stop_search p
          ON p.longitude = TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE)
         AND p.latitude = TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE)
        """
    specific = (
        """NULLIF(s.c_crime_type, '') AS crime_type, NULLIF(s.c_crime_type, '') = 'Anti-social behaviour' AS is_asb,
           NULLIF(s.c_last_outcome_category, '') AS last_outcome_category,"""
        if kind == "street"
        else "NULLIF(s.c_outcome_type, '') AS outcome_type,"
    )
    return f"""
    WITH t AS (
      SELECT {prov},
        NULLIF(trim(s.c_crime_id), '') AS crime_id,
        {specific}
        TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE) AS longitude,
        TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE) AS latitude,
        NULLIF(s.c_location, '') AS location,
        NULLIF(s.c_lsoa_code, '') AS lsoa_code_raw,
        NULLIF(s.c_lsoa_name, '') AS lsoa_name_raw,
        CASE WHEN NULLIF(s.c_lsoa_code, '') IS NULL THEN NULL
             WHEN cc.is11 AND NOT cc.is21 THEN 2011
             WHEN cc.is21 AND NOT cc.is11 THEN 2021
             ELSE coalesce(v.vintage, 2021) END::SMALLINT AS lsoa_vintage,
        cc.chgind, cc.target, sp.lsoa21_code AS point_child, m.force_known, m.force_lads,
        CASE WHEN sp.lsoa21_code IS NOT NULL THEN sp.ward_code ELSE cc.ward_code END AS ward_code,
        CASE WHEN sp.lsoa21_code IS NOT NULL THEN sp.ward_name ELSE cc.ward_name END AS ward_name,
        CASE WHEN sp.lsoa21_code IS NOT NULL THEN sp.lad_code ELSE cc.lad_code END AS lad_code,
        CASE WHEN sp.lsoa21_code IS NOT NULL THEN sp.lad_name ELSE cc.lad_name END AS lad_name,
        cc.code IS NULL AS cc_code_missing,
        {reason_sql(kind)} AS reason
      FROM stage_{kind} s JOIN files_{kind} m USING (file_index)
      LEFT JOIN vintage_{kind} v ON v.source_file = m.source_file
      LEFT JOIN codes cc ON cc.code = NULLIF(s.c_lsoa_code, '')
      LEFT JOIN split_{kind} sp ON sp.code = NULLIF(s.c_lsoa_code, '')
            AND sp.longitude = TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE)
            AND sp.latitude = TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE)
    )
    SELECT t.* EXCLUDE (chgind, target, point_child, force_known, force_lads, cc_code_missing),
      CASE WHEN lsoa_code_raw IS NULL THEN NULL
           WHEN lsoa_vintage = 2021 THEN lsoa_code_raw
           ELSE coalesce(point_child, target) END AS lsoa21_code,
      CASE WHEN lsoa_code_raw IS NULL OR cc_code_missing OR NOT force_known THEN NULL
           ELSE list_contains(force_lads, lad_code) END AS in_force_area,
      CASE WHEN lsoa_code_raw IS NULL THEN 'no-location'
           WHEN lsoa_vintage = 2021 THEN '2021-code'
           WHEN chgind = 'U' THEN 'unchanged'
           WHEN chgind = 'M' THEN 'merged'
           WHEN chgind = 'S' THEN CASE WHEN point_child IS NOT NULL THEN 'split-point' ELSE 'split-population' END
           ELSE CASE WHEN point_child IS NOT NULL THEN 'irregular-point' ELSE 'irregular-population' END
      END AS lsoa_allocation
    FROM t
    """


STREET_COLUMNS = [
    "force", "month", "crime_id", "crime_type", "is_asb", "last_outcome_category", "longitude",
    "latitude", "location", "lsoa_code_raw", "lsoa_name_raw", "lsoa_vintage", "lsoa21_code",
    "lsoa_allocation", "ward_code", "ward_name", "lad_code", "lad_name", "in_force_area",
    "source_file", "source_line",
]  # fmt: skip
OUTCOMES_COLUMNS = [
    "force", "month", "crime_id", "outcome_type", "longitude", "latitude", "location",
    "lsoa_code_raw", "lsoa_name_raw", "lsoa_vintage", "lsoa21_code", "lsoa_allocation",
    "ward_code", "ward_name", "lad_code", "lad_name", "in_force_area", "source_file", "source_line",
]  # fmt: skip
STOP_SEARCH_COLUMNS = [
    "force", "month", "type", "datetime", "part_of_operation", "policing_operation", "gender",
    "age_range", "self_defined_ethnicity", "officer_defined_ethnicity", "legislation",
    "object_of_search", "outcome", "outcome_linked_to_object", "removal_of_more_than_outer_clothing",
    "longitude", "latitude", "lsoa21_code", "ward_code", "ward_name", "lad_code", "lad_name",
    "in_force_area", "source_file", "source_line",
]  # fmt: skip
COLUMNS = {
    "street": STREET_COLUMNS,
    "outcomes": OUTCOMES_COLUMNS,
    "stop_search": STOP_SEARCH_COLUMNS,
}
QUARANTINE_COLUMNS = ["kind", "force", "month", "source_file", "source_line", "reason", "record"]


def classify(con: duckdb.DuckDBPyConnection, kind: str, header: list[str]) -> None:
    """View ``classified_<kind>``: every staged row, ``file_index``, store columns, ``reason``, ``record``."""
    cols = ", ".join(COLUMNS[kind])
    con.execute(
        f"""CREATE OR REPLACE VIEW classified_{kind} AS
        SELECT file_index, {cols}, reason, record FROM ({classified_sql(kind, header)})"""
    )


def quarantine_sql(kind: str, source_files: Sequence[str] | None = None) -> str:
    """SQL of the quarantined rows in ``classified_<kind>`` (quarantine table columns).

    ``source_files`` limits it to those files of the batch (the ones known to have such rows).
    """
    files = f"AND list_contains({_sql_list(source_files)}, source_file)" if source_files else ""
    return f"""SELECT '{kind}' AS kind, force, month, source_file, source_line, reason, record
               FROM classified_{kind} WHERE reason IS NOT NULL {files}
               ORDER BY source_file, source_line"""
