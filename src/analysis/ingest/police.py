"""Police CSVs -> typed, harmonised rows, in bulk with DuckDB (no Python per row but the few
rows that need point in polygon).

Street and outcomes files are read from CSV once per batch, nothing staged: one ``read_csv``
(all VARCHAR, rejects stored so ragged rows and invalid UTF-8 name their file and line),
numbered row by row (line numbers from the independent row counts), and one SQL statement
that types, quarantines, harmonises LSOA 2011 -> 2021 and attaches ward/LAD/force area,
written by ``COPY``. What that statement needs from the batch is known without reading it
first: the LSOA, ward and LAD columns take reference-wide ENUM types
(:func:`register_lookups`); points of split or irregular 2011 LSOAs are located as the rows
stream (:class:`SplitLocator`, a DuckDB function); each file's LSOA vintage is predicted from
lines spread over it (:func:`predict_vintages`) and measured from every row when the written
part is read back (the batch is written again when a prediction was wrong). Stop-and-search
files are read twice: once for their points (:func:`scan_checks`), then for the write.
"""

from __future__ import annotations

import csv
import mmap
import os
import re
import threading
from collections.abc import Sequence
from contextlib import nullcontext

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.errors import InputError
from analysis.ingest import schemas
from analysis.ingest.files import PoliceFile
from analysis.ingest.reference import UK_BBOX
from analysis.store import _sql_string

ASB = "Anti-social behaviour"


def raw_column(header_name: str) -> str:
    """Staging column name of a CSV header field (``"LSOA code"`` -> ``c_lsoa_code``)."""
    return "c_" + re.sub(r"[^a-z0-9]+", "_", header_name.lower()).strip("_")


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_sql_string(i) for i in items) + "]"


def _read_csv(kind: str, files: Sequence[PoliceFile], header: list[str]) -> str:
    """``read_csv`` of ``files`` (all VARCHAR, rejects stored in ``rej_<kind>``), file order kept."""
    cols = ", ".join(f"'{raw_column(h)}': 'VARCHAR'" for h in header)
    paths = _sql_list([str(f.path) for f in files])
    return f"""read_csv({paths}, columns={{{cols}}}, header=true, delim=',', quote='"', escape='"',
                      auto_detect=false, null_padding=false,
                      store_rejects=true, rejects_table='rej_{kind}', rejects_scan='rejscan_{kind}',
                      max_line_size=1048576)"""


def stage_files(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    files: list[PoliceFile],
    header: list[str],
    data_rows: dict[str, int] | None = None,
    vintages: dict[str, int | None] | None = None,
) -> None:
    """Define table ``files_<kind>`` and view ``scan_<kind>`` over the CSVs of one batch.

    Nothing is materialised: ``scan_<kind>`` is a ``read_csv`` over the files (all VARCHAR,
    rejects stored so ragged rows and invalid UTF-8 name their file and line) yielding
    ``file_index`` and one VARCHAR column per header field, in no particular order (the checks
    of :func:`scan_checks` read it in parallel). :func:`number_rows` then defines the numbered
    view the classification reads. ``files_<kind>`` maps ``file_index`` to the file, with
    ``data_rows`` filled by :func:`scan_checks` when ``data_rows`` (rows per file) is not
    known yet. ``vintages`` sets ``files_<kind>.vintage``, the LSOA vintage a file's codes that
    are valid in both vintages are read as (2011, or null for 2021: :func:`predict_vintages`).
    """
    data_rows = data_rows or {f.rel: 0 for f in files}
    vintages = vintages or {}
    meta = pd.DataFrame(
        {
            "file_index": range(len(files)),
            "source_file": [f.rel for f in files],
            "path": [str(f.path) for f in files],
            "force": [f.force for f in files],
            "month": [f.month for f in files],
            "data_rows": [data_rows[f.rel] for f in files],
            "vintage": pd.array([vintages.get(f.rel) for f in files], dtype="Int16"),
        }
    )
    con.register("meta_df", meta)
    con.execute(
        f"""CREATE OR REPLACE TABLE files_{kind} AS
            SELECT m.* EXCLUDE (vintage), m.vintage::SMALLINT AS vintage,
                   f.lads IS NOT NULL AS force_known,
                   coalesce(f.lads, []) AS force_lads
            FROM meta_df m
            LEFT JOIN (SELECT force, list(lad_code) AS lads FROM force_lads GROUP BY 1) f USING (force)
            ORDER BY m.file_index"""
    )
    con.unregister("meta_df")
    con.execute(f"DROP VIEW IF EXISTS stage_{kind}")
    con.execute(
        f"""CREATE OR REPLACE VIEW scan_{kind} AS
            SELECT CAST(file_index AS INTEGER) AS file_index, *
            FROM {_read_csv(kind, files, header)}"""
    )


def number_rows(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    files: list[PoliceFile],
    header: list[str],
    only: Sequence[str] | None = None,
) -> None:
    """Define view ``stage_<kind>``: the rows of the batch ``files`` (or of its files ``only``)
    numbered within their file, for classification.

    ``stage_<kind>`` yields ``file_index`` (the batch's), ``rn`` (1 for the first data row of a
    file, so ``source_line = rn + 1``) and one VARCHAR column per header field. The numbering
    is ``row_number() OVER ()`` over one ``read_csv`` in file order (the CSV reader returns
    rows in the order of the files and lines), minus each file's offset from the row counts of
    :func:`scan_checks`; the window keeps the order, so this read runs on one thread.
    """
    chosen = [(i, pf) for i, pf in enumerate(files) if only is None or pf.rel in set(only)]
    counts = dict(con.execute(f"SELECT file_index, data_rows FROM files_{kind}").fetchall())
    offsets, total = [], 0
    for i, _pf in chosen:
        offsets.append(total)
        total += counts[i]
    con.register(
        "offsets_df",
        pd.DataFrame(
            {
                "read_index": range(len(chosen)),
                "file_index": [i for i, _pf in chosen],
                "read_offset": offsets,
            }
        ),
    )
    con.execute(f"CREATE OR REPLACE TABLE offsets_{kind} AS SELECT * FROM offsets_df")
    con.unregister("offsets_df")
    con.execute(
        f"""CREATE OR REPLACE VIEW stage_{kind} AS
            SELECT o.file_index, s.rn - o.read_offset AS rn, s.* EXCLUDE (rn, read_index)
            FROM (SELECT row_number() OVER () AS rn, CAST(file_index AS INTEGER) AS read_index, *
                  FROM {_read_csv(kind, [pf for _i, pf in chosen], header)}) s
            JOIN offsets_{kind} o USING (read_index)"""
    )


def scan_checks(
    con: duckdb.DuckDBPyConnection, kind: str, header: list[str]
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int], list[str]]:
    """One parallel pass over ``scan_<kind>`` (no writing): fatal checks, file vintages, points to locate.

    Sets ``files_<kind>.vintage``: 2011 when the file has codes that exist only in 2011 and
    none only in 2021; 2021 when the reverse or every code is valid in both (unchanged LSOAs);
    null when it mixes both.

    Returns
    -------
    points : DataFrame
        Distinct ``code, longitude, latitude`` needing point in polygon: rows whose 2011 code was
        split or irregular (street, outcomes) or every located row (stop and search, code null).
    quarantined : dict
        ``source_file -> rows that will be quarantined``.
    rows : dict
        ``source_file -> data rows parsed`` (also written to ``files_<kind>``).
    codes : list of str
        Distinct known LSOA codes of the batch (empty for stop and search).

    Raises
    ------
    InputError
        A rejected row (wrong number of fields) naming its file and line; a ``Month`` value
        that differs from the month in the file name.
    """
    has_lsoa = kind != "stop_search"
    month_check = "t.c_month IS DISTINCT FROM m.month" if "Month" in header else "false"
    code = "t.code" if has_lsoa else "NULL::VARCHAR"
    need_point = "sx.code IS NOT NULL" if has_lsoa else "t.longitude IS NOT NULL"
    sx = "LEFT JOIN codes_sx sx ON sx.code = t.code" if has_lsoa else ""
    # One hash aggregate by file x LSOA code (x point, for rows that need point in polygon);
    # the code facts (vintage, known or not) are joined to its few groups, not to every row.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE agg_{kind} AS
        WITH p AS (
          SELECT t.file_index, {code} AS code, {month_check} AS bad_month,
                 {reason_sql(kind, lsoa=False)} IS NOT NULL AS other_bad,
                 CASE WHEN {need_point} THEN t.longitude END AS longitude,
                 CASE WHEN {need_point} THEN t.latitude END AS latitude
          FROM ({typed_sql(kind, "scan")}) t JOIN files_{kind} m USING (file_index) {sx}
        )
        SELECT file_index, code, longitude, latitude, count(*) AS n,
               count(*) FILTER (WHERE bad_month) AS bad_months,
               count(*) FILTER (WHERE other_bad) AS n_other_bad
        FROM p GROUP BY ALL"""
    )
    known = "cc.code IS NOT NULL" if has_lsoa else "false"
    cc = "LEFT JOIN codes cc ON cc.code = a.code" if has_lsoa else ""
    only = ("cc.is11 AND NOT cc.is21", "cc.is21 AND NOT cc.is11") if has_lsoa else ("false",) * 2
    facts = con.execute(
        f"""SELECT a.file_index, sum(a.n) AS parsed, sum(a.bad_months) AS bad_months,
                   sum(a.n) FILTER (WHERE {only[0]}) AS n11,
                   sum(a.n) FILTER (WHERE {only[1]}) AS n21,
                   sum(CASE WHEN a.code IS NOT NULL AND NOT ({known}) THEN a.n
                            ELSE a.n_other_bad END) AS n_quarantined
            FROM agg_{kind} a {cc} GROUP BY 1"""
    ).df()
    codes = [c for (c,) in con.execute(
        f"SELECT DISTINCT a.code FROM agg_{kind} a {cc} WHERE {known}"
    ).fetchall()]  # fmt: skip
    points = con.execute(
        f"""SELECT DISTINCT {"code" if has_lsoa else "NULL::VARCHAR AS code"}, longitude, latitude
            FROM agg_{kind} WHERE longitude IS NOT NULL AND latitude IS NOT NULL"""
    ).df()
    con.execute(f"DROP TABLE agg_{kind}")
    raise_rejects(con, kind)
    meta = con.execute(f"SELECT * EXCLUDE (vintage) FROM files_{kind} ORDER BY file_index").df()
    per_file = meta.merge(facts, on="file_index", how="left")
    counted = ["parsed", "n11", "n21", "n_quarantined", "bad_months"]
    per_file[counted] = per_file[counted].fillna(0).astype("int64")
    per_file["data_rows"] = per_file["parsed"]
    bad = per_file[per_file["bad_months"] > 0]
    if len(bad):
        row = bad.iloc[0]
        cols = ", ".join(f"'{raw_column(h)}': 'VARCHAR'" for h in header)
        (line,) = con.execute(
            f"""SELECT min(rn) + 1 FROM (SELECT row_number() OVER () AS rn, c_month
                FROM read_csv({_sql_string(row["path"])}, columns={{{cols}}}, header=true,
                              delim=',', quote='"', escape='"', auto_detect=false))
                WHERE c_month IS DISTINCT FROM ?""",
            [row["month"]],
        ).fetchone()
        raise InputError(
            row["path"], f"Month differs from the file name's month {row['month']}", int(line)
        )
    per_file["vintage"] = pd.array(
        [
            2011 if n11 > 0 and n21 == 0 else 2021 if n11 == 0 else None
            for n11, n21 in zip(per_file["n11"], per_file["n21"], strict=True)
        ],
        dtype="Int16",
    )
    con.register("counts_df", per_file[["file_index", "data_rows", "vintage"]])
    con.execute(
        f"""UPDATE files_{kind} f SET data_rows = c.data_rows, vintage = c.vintage
            FROM counts_df c WHERE f.file_index = c.file_index"""
    )
    con.unregister("counts_df")
    codes = sorted(codes)
    quarantined = dict(zip(per_file["source_file"], per_file["n_quarantined"], strict=True))
    rows = dict(zip(per_file["source_file"], per_file["parsed"], strict=True))
    return points, quarantined, rows, codes


def raise_rejects(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Raise :class:`InputError` for the first row a read of the batch's CSVs rejected.

    Rejected rows: wrong number of fields (checked on every read) and bytes that are not UTF-8
    (checked in the columns a read uses, so this runs after the write too; every byte is also
    checked by :func:`analysis.ingest.files.count_records`).
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


def register_lookups(
    con: duckdb.DuckDBPyConnection,
    reference: dict[str, pd.DataFrame],
    locator: SplitLocator | None = None,
    check: bool = True,
) -> None:
    """Create the lookup tables, ENUM types and point lookup the classification uses, in ``con``.

    Tables: ``lsoa``, ``codes`` (every 2011/2021 LSOA code: vintages, change, largest child),
    ``force_lads``, ``codes_sx`` (split or irregular 2011 codes), ``codes_e`` (``codes`` with
    ENUM-typed values, joined on ``code_text``) and ``areas_e`` (every 2021 child of a split or
    irregular code with its ward and LAD, ENUM-typed). ENUM types: ``lsoa_allocation_t`` and
    the reference-wide domains :data:`REFERENCE_ENUMS` (:func:`_reference_domains`). Function:
    ``split_child(code, longitude, latitude)`` (:class:`SplitLocator`; one is built from
    ``reference`` when ``locator`` is None). ``check``: check the value rules of the ENUM
    types' members (once per ingest is enough: every database gets the same members).

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
    con.execute(
        "CREATE OR REPLACE TABLE codes_sx AS SELECT code FROM codes WHERE chgind IN ('S', 'X')"
    )
    con.execute(
        """CREATE OR REPLACE TABLE split_children AS
           SELECT DISTINCT lsoa21_code FROM bridge_df WHERE chgind IN ('S', 'X')"""
    )
    con.execute("DROP TYPE IF EXISTS lsoa_allocation_t")
    con.execute(
        f"CREATE TYPE lsoa_allocation_t AS ENUM ({', '.join(map(_sql_string, ALLOCATIONS))})"
    )
    for name in ("lsoa_df", "bridge_df", "forces_df"):
        con.unregister(name)
    _reference_domains(con, check)
    category_types(con)
    locator = locator or SplitLocator(reference.get("boundaries_lsoa"), bridge)
    try:
        con.remove_function("split_child")
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass  # not registered yet
    con.create_function(
        "split_child",
        locator.locate,
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("DOUBLE"), duckdb.sqltype("DOUBLE")],
        duckdb.sqltype("VARCHAR"),
        type="native",
        null_handling="special",
        side_effects=False,
    )


REFERENCE_ENUMS = {
    "lsoa_code_t": "SELECT code FROM codes",
    "lsoa21_t": """SELECT code FROM codes WHERE is21 UNION SELECT target FROM codes
                   UNION SELECT lsoa21_code FROM split_children""",
    "ward_code_t": "SELECT ward_code FROM lsoa",
    "ward_name_t": "SELECT ward_name FROM lsoa",
    "lad_code_t": "SELECT lad_code FROM lsoa",
    "lad_name_t": "SELECT lad_name FROM lsoa",
}
"""ENUM types of the LSOA, ward and LAD columns: every value the lookups can give them."""
_AREA = ("ward_code", "ward_name", "lad_code", "lad_name")


def _reference_domains(con: duckdb.DuckDBPyConnection, check: bool = True) -> None:
    """Create the ENUM types :data:`REFERENCE_ENUMS` and the ENUM-typed lookups ``codes_e``
    and ``areas_e``; check the value rules of the ENUM columns on every member.

    The LSOA code as read, ward and LAD columns are written from these types, so DuckDB's
    Parquet writer copies their dictionaries instead of hashing every value; each holds every
    value the reference can produce. The writer puts a type's whole dictionary in every row
    group, which readers decode: ``lsoa21_code`` (35,000 members, the column readers group
    by) is therefore written as VARCHAR (a dictionary of the row group's own values), the
    smaller domains as ENUMs (measured in benchmarks/README.md). Every value those columns
    take is a member, so checking the members checks every row (:data:`schemas.DOMAIN_CHECKED`).
    """
    for name, values_sql in REFERENCE_ENUMS.items():
        con.execute(f"DROP TYPE IF EXISTS {name}")
        con.execute(
            f"CREATE TYPE {name} AS ENUM (SELECT DISTINCT v FROM ({values_sql}) t(v) "
            "WHERE v IS NOT NULL ORDER BY v)"
        )
    for column, type_name in (("lsoa21_code", "lsoa21_t"), ("lad_code", "lad_code_t")):
        if not check:
            break
        (members,) = con.execute(f"SELECT enum_range(NULL::{type_name})").fetchone()
        schemas.check_domain(con, "street/outcomes", column, list(members))
    area = ", ".join(f"l.{c}::{c}_t AS {c}" for c in _AREA)
    con.execute(
        f"""CREATE OR REPLACE TABLE codes_e AS
            SELECT code AS code_text, code::lsoa_code_t AS code, is11, is21, chgind,
                   CASE WHEN is21 THEN code END::lsoa21_t AS code21,
                   target::lsoa21_t AS target, {area}
            FROM codes l"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE areas_e AS
            SELECT c.lsoa21_code AS code_text, c.lsoa21_code::lsoa21_t AS lsoa21_code, {area}
            FROM split_children c LEFT JOIN lsoa l USING (lsoa21_code)"""
    )


class SplitLocator:
    """The 2021 child LSOA containing a point, for rows whose 2011 code was split or irregular.

    Called by DuckDB as the function ``split_child(code, longitude, latitude)`` on the rows
    that need it (CASE evaluates it only on those), so the CSVs need no earlier pass to collect
    the points. Each new distinct point is tested against its code's own 2021 children in the
    order of the boundary table, and the first that contains it (GEOS ``contains``: inside,
    not on the edge) is kept: the match a geopandas ``sjoin`` with predicate ``within`` keeps
    first. Results are cached; the cache is shared by the parser threads (a point's result
    never depends on the others). Shapely only (no CRS objects): this runs on DuckDB's threads.

    Parameters
    ----------
    boundaries : GeoDataFrame or None
        LSOA 2021 boundaries (``code``, ``geometry``, lon/lat); None: no point is located.
    bridge : DataFrame
        The LSOA 2011 -> 2021 lookup (``lsoa11_code``, ``lsoa21_code``, ``chgind``).
    """

    def __init__(self, boundaries: gpd.GeoDataFrame | None, bridge: pd.DataFrame) -> None:
        self.children: dict[str, list[tuple[str, object]]] = {}
        if boundaries is not None and not boundaries.empty:
            candidates = bridge[bridge["chgind"].isin(["S", "X"])][["lsoa11_code", "lsoa21_code"]]
            polys = boundaries[["code", "geometry"]].merge(
                candidates, left_on="code", right_on="lsoa21_code"
            )
            for code11, child, geom in zip(
                polys["lsoa11_code"], polys["lsoa21_code"], polys["geometry"], strict=True
            ):
                if geom is not None:
                    self.children.setdefault(code11, []).append((child, geom))
        self.cache: dict[tuple[str, float, float], str | None] = {}
        self.prepared: set[str] = set()  # codes whose children are prepared (GEOS), once each
        self.lock = threading.Lock()

    def _locate_new(self, points: list[tuple[str, float, float]]) -> dict:
        found: dict[tuple[str, float, float], str | None] = dict.fromkeys(points)
        by_code: dict[str, list[tuple[str, float, float]]] = {}
        for key in points:
            by_code.setdefault(key[0], []).append(key)
        for code, keys in by_code.items():
            if code not in self.prepared:
                with self.lock:
                    for _child, geom in self.children.get(code, []):
                        shapely.prepare(geom)
                    self.prepared.add(code)
            xs = np.array([k[1] for k in keys])
            ys = np.array([k[2] for k in keys])
            open_ = np.ones(len(keys), dtype=bool)
            for child, geom in self.children.get(code, []):
                inside = shapely.contains_xy(geom, xs, ys) & open_
                for i in np.flatnonzero(inside):
                    found[keys[i]] = child
                open_ &= ~inside
        return found

    def locate(
        self, code: str | None, longitude: float | None, latitude: float | None
    ) -> str | None:
        """Child LSOA 2021 code of the point, None when no child holds it.

        DuckDB calls this row by row (a ``native`` function: one call per row, the GIL taken
        once per vector), only on rows of split or irregular codes; almost every call is a
        cache hit (police.uk snaps locations to a fixed set of map points). Measured on one
        batch of 958,344 rows: 0.10-0.15 CPU s less than an ``arrow`` function called once per
        vector, whose fixed cost per call (about 0.25 ms, 457 calls) outweighed the work.
        """
        key = (code, longitude, latitude)
        cache = self.cache
        if key in cache:
            return cache[key]
        found = None if None in key else self._locate_new([key])[key]
        cache[key] = found
        return found


def predict_vintages(
    files: Sequence[PoliceFile], header: list[str], only11: frozenset, only21: frozenset
) -> dict[str, int | None]:
    """Predicted ``files_<kind>.vintage`` of each file from up to :data:`VINTAGE_SAMPLE` lines.

    The LSOA vintage of a file is 2011 when it has codes that exist only in 2011 and none only
    in 2021, else 2021 (null); it decides how codes valid in both vintages are read. It is
    predicted from lines spread evenly over the file (police files are sorted by crime type
    and LSOA, so the first lines would not do), read until :data:`VINTAGE_EVIDENCE` lines
    had a code of one vintage only, so the CSV is read only once by DuckDB; the
    write is checked against the vintages measured from every row
    (:func:`analysis.ingest.build._parse_once` writes the batch again when one differs).
    """
    col = header.index("LSOA code")
    only11_b = {c.encode() for c in only11}
    only21_b = {c.encode() for c in only21}
    out: dict[str, int | None] = {}
    for pf in files:
        n11 = n21 = 0
        with open(pf.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            with (
                mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                if size
                else nullcontext(b"") as data
            ):
                start = data.find(b"\n") + 1  # after the header
                step = max((size - start) // VINTAGE_SAMPLE, 1) if start else 0
                for k in _SPREAD:  # coarse to fine over the file, so an early stop still spreads
                    at = start + k * step
                    if not start or at >= size or n11 + n21 >= VINTAGE_EVIDENCE:
                        break
                    if k:  # the line after the one holding byte ``at``
                        nxt = data.find(b"\n", at - 1)
                        if nxt < 0 or nxt + 1 >= size:
                            continue
                        at = nxt + 1
                    end = data.find(b"\n", at)
                    line = data[at : size if end < 0 else end]
                    if b'"' in line:  # quoted fields: the csv module splits them
                        fields = [
                            f.encode() for f in next(csv.reader([line.decode("utf-8", "replace")]))
                        ]
                    else:
                        fields = line.split(b",")
                    if len(fields) > col:
                        n11 += fields[col] in only11_b
                        n21 += fields[col] in only21_b
        out[pf.rel] = file_vintage(n11, n21)
    return out


VINTAGE_SAMPLE = 256
"""Lines of a police file read at most by :func:`predict_vintages`, spread evenly over it."""
VINTAGE_EVIDENCE = 3
"""Lines with a code of one vintage only after which :func:`predict_vintages` stops reading a
file (about 50 lines when 6% of rows have such codes; the real files 2020-2024 have one
vintage each, so the first such line already decides)."""
_BITS = (VINTAGE_SAMPLE - 1).bit_length()
_SPREAD = sorted(range(VINTAGE_SAMPLE), key=lambda k: int(f"{k:0{_BITS}b}"[::-1], 2))
"""Sample positions 0..255 in bit-reversed order (0, 128, 64, 192, ...): each prefix spreads
evenly over the file."""


def file_vintage(n11: int, n21: int) -> int | None:
    """``files_<kind>.vintage`` from the rows with codes only in 2011 (``n11``) or only in 2021."""
    return 2011 if n11 > 0 and n21 == 0 else None


def vintage_sets(reference: dict[str, pd.DataFrame]) -> tuple[frozenset, frozenset]:
    """The LSOA codes that exist only in 2011 and only in 2021 (the ``is11``/``is21`` of
    ``codes`` in :func:`register_lookups`: 2011 codes of the lookup, 2021 codes of ``lsoa``)."""
    codes11 = set(reference["lsoa_2011_2021"]["lsoa11_code"].dropna())
    codes21 = set(reference["lsoa"]["lsoa21_code"].dropna())
    return frozenset(codes11 - codes21), frozenset(codes21 - codes11)


def measured_vintages(con: duckdb.DuckDBPyConnection, code_counts: pd.DataFrame) -> dict:
    """``source_file -> files_<kind>.vintage`` from ``code_counts`` (``source_file, code, n``:
    rows per file and LSOA code text, every row parsed)."""
    con.register("code_counts_df", code_counts)
    rows = con.execute(
        """SELECT n.source_file, sum(n.n) FILTER (WHERE c.is11 AND NOT c.is21) AS n11,
                  sum(n.n) FILTER (WHERE c.is21 AND NOT c.is11) AS n21
           FROM code_counts_df n JOIN codes c ON c.code = n.code GROUP BY 1"""
    ).fetchall()
    con.unregister("code_counts_df")
    return {rel: file_vintage(n11 or 0, n21 or 0) for rel, n11, n21 in rows}


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


def _enum_type(con: duckdb.DuckDBPyConnection, name: str, values_sql: str) -> list[str]:
    """Create ENUM type ``name`` holding the distinct non-null values of ``values_sql``; return them."""
    rows = con.execute(f"SELECT DISTINCT v FROM ({values_sql}) WHERE v IS NOT NULL").fetchall()
    values = sorted(v for (v,) in rows)
    con.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(_sql_string(v) for v in values)})")
    return values


BATCH_ENUMS = ("force", "month", "source_file")
"""Per-batch ENUM types ``<column>_t_<kind>`` (:func:`batch_domains`): the batch's file facts."""


CATEGORIES = {
    "crime_type": (
        "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson",
        "Drugs", "Other crime", "Other theft", "Possession of weapons", "Public order",
        "Robbery", "Shoplifting", "Theft from the person", "Vehicle crime",
        "Violence and sexual offences",
    ),
    "last_outcome_category": (
        "Action to be taken by another organisation", "Awaiting court outcome",
        "Court result unavailable", "Formal action is not in the public interest",
        "Further action is not in the public interest",
        "Further investigation is not in the public interest",
        "Investigation complete; no suspect identified", "Local resolution",
        "Offender given a caution", "Offender given a drugs possession warning",
        "Offender given penalty notice", "Status update unavailable",
        "Suspect charged as part of another case", "Unable to prosecute suspect",
        "Under investigation",
    ),
    "outcome_type": (
        "Investigation complete; no suspect identified", "Local resolution",
        "Offender given a caution", "Offender given a drugs possession warning",
        "Offender given penalty notice", "Suspect charged",
        "Suspect charged as part of another case", "Unable to prosecute suspect",
    ),
}  # fmt: skip
"""Category columns written from ENUM types ``<column>_t`` (the Parquet writer then copies a
dictionary of a few dozen values instead of hashing every row's text). The members start as
the police.uk categories in the real files (2020-2023) and grow in each database when a batch
holds another value (:func:`add_categories`); the stored text is the CSV's either way."""
CATEGORY_KINDS = {"street": ("crime_type", "last_outcome_category"), "outcomes": ("outcome_type",)}


def category_types(con: duckdb.DuckDBPyConnection, extra: dict | None = None) -> None:
    """(Re)create the ENUM types ``<column>_t`` of :data:`CATEGORIES`, with the members they
    had in ``con`` plus ``extra`` (``column -> values``)."""
    for column, seeds in CATEGORIES.items():
        name = f"{column}_t"
        have = con.execute(
            "SELECT 1 FROM duckdb_types() WHERE type_name = ? AND NOT internal", [name]
        ).fetchall()
        members = list(seeds)
        if have:
            members = con.execute(f"SELECT unnest(enum_range(NULL::{name}))").fetchall()
            members = [m for (m,) in members]
        new = sorted(set((extra or {}).get(column, ())) - set(members))
        if have and not new:
            continue
        con.execute(f"DROP TYPE IF EXISTS {name}")
        con.execute(
            f"CREATE TYPE {name} AS ENUM ({', '.join(_sql_string(v) for v in members + new)})"
        )


def add_categories(con: duckdb.DuckDBPyConnection, kind: str) -> bool:
    """Add to the category ENUM types the values the batch ``scan_<kind>`` holds that they
    lack (one extra read of the batch, only after a write met such a value); False when it
    holds none (the write failed for another reason)."""
    extra = {}
    for column in CATEGORY_KINDS.get(kind, ()):
        raw = f"c_{column}"  # the CSV column it is written from (``raw_column`` of its header)
        rows = con.execute(
            f"""SELECT DISTINCT {raw} FROM scan_{kind} WHERE NULLIF({raw}, '') IS NOT NULL
                AND TRY_CAST({raw} AS {column}_t) IS NULL"""
        ).fetchall()
        if rows:
            extra[column] = [v for (v,) in rows]
    if extra:
        category_types(con, extra)
    return bool(extra)


def batch_domains(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Add ENUM-typed columns ``force_e, month_e, source_file_e, force_lads_e`` to ``files_<kind>``.

    ``force, month, source_file`` get ENUM types of the batch's own values (known from its
    file names, so no read of the CSVs is needed), checked against their value rules; the
    force's local authorities are typed ``lad_code_t`` (:data:`REFERENCE_ENUMS`). The Parquet
    writer then copies these dictionaries instead of hashing every value.
    """
    enum_cols = {f"{c}_e" for c in BATCH_ENUMS} | {"force_lads_e"}
    if enum_cols & _columns(con, f"files_{kind}"):  # a previous batch's table
        con.execute(
            f"CREATE OR REPLACE TABLE files_{kind} AS SELECT * EXCLUDE ({', '.join(sorted(enum_cols))}) "
            f"FROM files_{kind} ORDER BY file_index"
        )
    domain = {}
    for col in BATCH_ENUMS:
        con.execute(f"DROP TYPE IF EXISTS {col}_t_{kind}")
        domain[col] = _enum_type(con, f"{col}_t_{kind}", f"SELECT {col} AS v FROM files_{kind}")
    for col in schemas.DOMAIN_CHECKED[kind] & set(BATCH_ENUMS):
        schemas.check_domain(con, kind, col, domain[col])
    enums = ", ".join(f"{c}::{c}_t_{kind} AS {c}_e" for c in BATCH_ENUMS)
    con.execute(
        f"""CREATE OR REPLACE TABLE files_{kind} AS
            SELECT *, {enums},
                   list_filter(list_transform(force_lads, lambda x: TRY_CAST(x AS lad_code_t)),
                               lambda x: x IS NOT NULL) AS force_lads_e
            FROM files_{kind} ORDER BY file_index"""
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
    ).fetchall()
    return {name for (name,) in rows}


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
    WHEN (t.lon_s IS NULL) <> (t.lat_s IS NULL) THEN 'only-one-coordinate'
    WHEN t.lon_s IS NOT NULL AND (t.longitude IS NULL OR t.latitude IS NULL)
         THEN 'unparseable-coordinates'
    WHEN t.lon_s IS NOT NULL AND NOT (t.longitude {_LON} AND t.latitude {_LAT})
         THEN 'coordinates-outside-uk'
"""


def trimmed(column: str) -> str:
    """SQL equal to ``trim(column)``, which only runs ``trim`` on text holding a space or a
    byte outside ASCII: for pure ASCII text DuckDB's ``trim`` removes only spaces (it strips
    Unicode space separators, not tabs or line breaks), so other text is already trimmed.
    On Crime IDs (64 hex characters) this saved about 5% of the write's CPU."""
    return (
        f"CASE WHEN contains({column}, ' ') OR strlen({column}) <> length({column}) "
        f"THEN trim({column}) ELSE {column} END"
    )


def typed_sql(kind: str, view: str = "stage") -> str:
    """SQL of the rows of view ``<view>_<kind>`` with the per-row casts done once (alias ``t``).

    Adds to every column read: ``lon_s, lat_s`` (coordinate text, empty -> null),
    ``longitude, latitude`` (DOUBLE, null when missing or unparseable), and for street and
    outcomes ``crime_id`` (trimmed, empty -> null) and ``code`` (the LSOA code, empty -> null).
    Reasons and classification read these instead of casting the text again.
    """
    extra = (
        ""
        if kind == "stop_search"
        else f""", NULLIF({trimmed("s.c_crime_id")}, '') AS crime_id,
                  NULLIF(s.c_lsoa_code, '') AS code"""
    )
    return f"""SELECT s.*, NULLIF(s.c_longitude, '') AS lon_s, NULLIF(s.c_latitude, '') AS lat_s,
                  TRY_CAST(NULLIF(s.c_longitude, '') AS DOUBLE) AS longitude,
                  TRY_CAST(NULLIF(s.c_latitude, '') AS DOUBLE) AS latitude{extra}
               FROM {view}_{kind} s"""


def reason_sql(kind: str, lsoa: bool = True, month: bool = False) -> str:
    """SQL ``CASE`` giving the quarantine reason of a typed row ``t`` (null: the row loads).

    ``t`` is :func:`typed_sql`; street and outcomes need ``cc`` (the codes table) joined on
    ``t.code``, unless ``lsoa`` is false (every reason but ``unknown-lsoa``). With ``month``
    (``m`` is the row's ``files_<kind>`` row), a ``Month`` other than the file name's month
    gives :data:`BAD_MONTH` before any other reason: not a quarantine reason but a fatal error
    (:func:`raise_bad_month`).
    """
    if kind == "stop_search":
        return f"""CASE {_COORD_REASONS}
               WHEN NULLIF(t.c_date, '') IS NULL OR TRY_CAST(t.c_date AS TIMESTAMPTZ) IS NULL
                    THEN 'unparseable-date'
               ELSE NULL END"""
    if kind == "street":
        ids = f"""WHEN NULLIF(t.c_crime_type, '') IS NULL THEN 'missing-crime-type'
            WHEN t.crime_id IS NULL AND t.c_crime_type <> '{ASB}' THEN 'missing-crime-id'
            WHEN t.crime_id IS NOT NULL AND t.c_crime_type = '{ASB}' THEN 'asb-with-crime-id'"""
    else:
        ids = """WHEN t.crime_id IS NULL THEN 'missing-crime-id'
                WHEN NULLIF(t.c_outcome_type, '') IS NULL THEN 'missing-outcome-type'"""
    unknown = "WHEN t.code IS NOT NULL AND cc.code IS NULL THEN 'unknown-lsoa'" if lsoa else ""
    bad_month = f"WHEN t.c_month IS DISTINCT FROM m.month THEN '{BAD_MONTH}'" if month else ""
    return f"""CASE {bad_month} {_COORD_REASONS}
             {ids}
             {unknown}
             ELSE NULL END"""


BAD_MONTH = "month-differs-from-file-name"
"""Reason of a row whose ``Month`` is not its file's month: raised as an error, never stored."""


def raise_bad_month(quarantined: pd.DataFrame, paths: dict[str, str]) -> None:
    """Raise :class:`InputError` for the first row of ``quarantined`` (in file order, then
    line) whose reason is :data:`BAD_MONTH`; ``paths`` maps ``source_file`` to the file path."""
    bad = quarantined[quarantined["reason"] == BAD_MONTH]
    if len(bad):
        row = bad.sort_values(["source_file", "source_line"]).iloc[0]
        raise InputError(
            paths[row["source_file"]],
            f"Month differs from the file name's month {row['month']}",
            int(row["source_line"]),
        )


ALLOCATIONS = [
    "unchanged", "merged", "split-point", "split-population", "irregular-point",
    "irregular-population", "2021-code", "no-location",
]  # fmt: skip
"""Values of ``lsoa_allocation`` (ENUM type ``lsoa_allocation_t``)."""


def _alloc(label: str) -> str:
    if label not in ALLOCATIONS:
        raise ValueError(f"unknown LSOA allocation {label!r}")
    return f"'{label}'::lsoa_allocation_t"


def classified_sql(kind: str, header: list[str]) -> str:
    """SQL of every row of ``stage_<kind>`` with its store columns, ``reason`` and ``record``.

    ``reason`` is null for rows that load; ``record`` is the raw row as JSON (header names as
    keys), computed only when selected (quarantine). Columns drawn from small tables (file
    facts, LSOA codes and areas of the batch: :func:`batch_domains`) keep those tables'
    ENUM types, so the Parquet writer takes their dictionaries as they are instead of hashing
    every value (they read back as VARCHAR).
    """
    record = (
        "json_object(" + ", ".join(f"{_sql_string(h)}, t.{raw_column(h)}" for h in header) + ")"
    )
    prov = f"""t.file_index, m.force_e AS force, m.month_e AS month, m.source_file_e AS source_file,
              CAST(t.rn + 1 AS INTEGER) AS source_line, {record} AS record"""
    if kind == "stop_search":
        return f"""
        SELECT {prov},
          NULLIF(t.c_type, '') AS type,
          CAST(TRY_CAST(NULLIF(t.c_date, '') AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS datetime,
          CASE lower(t.c_part_of_a_policing_operation) WHEN 'true' THEN true WHEN 'false' THEN false END AS part_of_operation,
          NULLIF(t.c_policing_operation, '') AS policing_operation,
          NULLIF(t.c_gender, '') AS gender,
          NULLIF(t.c_age_range, '') AS age_range,
          NULLIF(t.c_self_defined_ethnicity, '') AS self_defined_ethnicity,
          NULLIF(t.c_officer_defined_ethnicity, '') AS officer_defined_ethnicity,
          NULLIF(t.c_legislation, '') AS legislation,
          NULLIF(t.c_object_of_search, '') AS object_of_search,
          NULLIF(t.c_outcome, '') AS outcome,
          CASE lower(t.c_outcome_linked_to_object_of_search) WHEN 'true' THEN true WHEN 'false' THEN false END
            AS outcome_linked_to_object,
          CASE lower(t.c_removal_of_more_than_just_outer_clothing) WHEN 'true' THEN true WHEN 'false' THEN false END
            AS removal_of_more_than_outer_clothing,
          t.longitude, t.latitude,
          p.lsoa21_code, p.ward_code, p.ward_name, p.lad_code, p.lad_name,
          CASE WHEN p.lsoa21_code IS NULL OR NOT m.force_known THEN NULL
               ELSE list_contains(m.force_lads, p.lad_code::VARCHAR) END AS in_force_area,
          {reason_sql(kind)} AS reason
        FROM ({typed_sql(kind)}) t JOIN files_stop_search m USING (file_index)
        LEFT JOIN points_stop_search p ON p.longitude = t.longitude AND p.latitude = t.latitude
        """
    specific = (
        f"""NULLIF(t.c_crime_type, '')::crime_type_t AS crime_type,
           NULLIF(t.c_crime_type, '') = '{ASB}' AS is_asb,
           NULLIF(t.c_last_outcome_category, '')::last_outcome_category_t AS last_outcome_category,"""
        if kind == "street"
        else "NULLIF(t.c_outcome_type, '')::outcome_type_t AS outcome_type,"
    )
    area = ", ".join(f"cc.{c} AS t_{c}" for c in _AREA)
    by_point = ",\n        ".join(
        f"CASE WHEN sp.lsoa21_code IS NOT NULL THEN sp.{c} ELSE j0.t_{c} END AS {c}" for c in _AREA
    )
    return f"""
    WITH j0 AS (
      SELECT {prov},
        t.crime_id,
        {specific}
        t.longitude, t.latitude,
        NULLIF(t.c_location, '') AS location,
        cc.code AS lsoa_code_raw,
        NULLIF(t.c_lsoa_name, '') AS lsoa_name_raw,
        CASE WHEN t.code IS NULL THEN NULL
             WHEN cc.is11 AND NOT cc.is21 THEN 2011
             WHEN cc.is21 AND NOT cc.is11 THEN 2021
             ELSE coalesce(m.vintage, 2021) END::SMALLINT AS lsoa_vintage,
        cc.chgind, cc.code21, cc.target, m.force_known, m.force_lads_e, {area},
        CASE WHEN cc.chgind IN ('S', 'X') THEN split_child(t.code, t.longitude, t.latitude)
             END AS point_text,
        t.code AS code_text,
        {reason_sql(kind, month="Month" in header)} AS reason
      FROM ({typed_sql(kind)}) t JOIN files_{kind} m USING (file_index)
      LEFT JOIN codes_e cc ON cc.code_text = t.code
    ), j AS (
      SELECT j0.* EXCLUDE (point_text, {", ".join(f"t_{c}" for c in _AREA)}),
        sp.lsoa21_code AS point_child,
        {by_point}
      FROM j0 LEFT JOIN areas_e sp ON sp.code_text = j0.point_text
    )
    SELECT j.* EXCLUDE (chgind, code21, target, point_child, force_known, force_lads_e),
      CASE WHEN lsoa_code_raw IS NULL THEN NULL
           WHEN lsoa_vintage = 2021 THEN code21
           ELSE coalesce(point_child, target) END::VARCHAR AS lsoa21_code,
      CASE WHEN lsoa_code_raw IS NULL OR NOT force_known THEN NULL
           ELSE list_contains(force_lads_e, lad_code) END AS in_force_area,
      CASE WHEN lsoa_code_raw IS NULL THEN {_alloc("no-location")}
           WHEN lsoa_vintage = 2021 THEN {_alloc("2021-code")}
           WHEN chgind = 'U' THEN {_alloc("unchanged")}
           WHEN chgind = 'M' THEN {_alloc("merged")}
           WHEN chgind = 'S' THEN CASE WHEN point_child IS NOT NULL THEN {_alloc("split-point")}
                                       ELSE {_alloc("split-population")} END
           ELSE CASE WHEN point_child IS NOT NULL THEN {_alloc("irregular-point")}
                     ELSE {_alloc("irregular-population")} END
      END AS lsoa_allocation
    FROM j
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
    """View ``classified_<kind>``: every row read, ``file_index``, store columns, ``reason``,
    ``record`` and, for street and outcomes, ``code_text`` (the LSOA code as read)."""
    cols = ", ".join(COLUMNS[kind])
    code = "" if kind == "stop_search" else ", code_text"
    con.execute(
        f"""CREATE OR REPLACE VIEW classified_{kind} AS
        SELECT file_index, {cols}, reason, record{code} FROM ({classified_sql(kind, header)})"""
    )


def quarantine_sql(
    kind: str, source_files: Sequence[str] | None = None, with_code: bool = False
) -> str:
    """SQL of the quarantined rows in ``classified_<kind>`` (quarantine table columns).

    ``source_files`` limits it to those files of the batch (the ones known to have such rows);
    ``with_code`` adds ``code_text`` (street and outcomes).
    """
    files = (
        f"AND list_contains({_sql_list(source_files)}, source_file::VARCHAR)"
        if source_files
        else ""
    )
    return f"""SELECT '{kind}' AS kind, force::VARCHAR AS force, month::VARCHAR AS month,
                      source_file::VARCHAR AS source_file, source_line, reason, record
                      {", code_text" if with_code else ""}
               FROM classified_{kind} WHERE reason IS NOT NULL {files}
               ORDER BY source_file, source_line"""
