"""Schemas of the processed-store tables (docs/architecture.md is the contract).

Police tables are checked with SQL (DuckDB) over every row: column names and types, nulls in
columns that must have a value, and value rules (month format, coordinates inside the UK
bounding box, code patterns, allocation labels, the ASB rule). The ingest evaluates the same
rules in the pass that reads each new part file back for the quality table
(:func:`police_rule_counts_sql`); :func:`validate_police` runs them over written files.
Reference tables and the ledger are small and checked with pandera (pandas backend).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from analysis.errors import CrimeplanError

_S, _B, _F, _I16, _I32, _TS = "VARCHAR", "BOOLEAN", "DOUBLE", "SMALLINT", "INTEGER", "TIMESTAMP"

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_GSS = r"^[EWSN]\d{8}$"
_ALLOCATIONS = [
    "unchanged", "merged", "split-point", "split-population", "irregular-point",
    "irregular-population", "2021-code", "no-location",
]  # fmt: skip
_ASB = "Anti-social behaviour"


def _re(col: str, pattern: str) -> str:
    return f"regexp_matches({col}, '{pattern}')"


_VALUE_CHECKS: dict[str, tuple[str, str]] = {
    # column -> (rule, SQL that is true for a valid non-null value)
    "force": ("force matches ^[a-z][a-z0-9-]+$", _re("force", r"^[a-z][a-z0-9-]+$")),
    "month": ("month is YYYY-MM", _re("month", _MONTH)),
    "longitude": ("longitude in [-8.7, 1.8]", "longitude BETWEEN -8.7 AND 1.8"),
    "latitude": ("latitude in [49.8, 60.9]", "latitude BETWEEN 49.8 AND 60.9"),
    "lsoa21_code": ("lsoa21_code is a GSS code", _re("lsoa21_code", _GSS)),
    "lad_code": ("lad_code is a GSS code", _re("lad_code", _GSS)),
    "lsoa_vintage": ("lsoa_vintage in {2011, 2021}", "lsoa_vintage IN (2011, 2021)"),
    "lsoa_allocation": (
        "lsoa_allocation is a known label",
        "lsoa_allocation::VARCHAR IN (" + ", ".join(f"'{a}'" for a in _ALLOCATIONS) + ")",
    ),
    "source_line": ("source_line >= 2", "source_line >= 2"),
}

_LSOA_COLS = {
    "longitude": _F, "latitude": _F, "location": _S, "lsoa_code_raw": _S, "lsoa_name_raw": _S,
    "lsoa_vintage": _I16, "lsoa21_code": _S, "lsoa_allocation": _S, "ward_code": _S,
    "ward_name": _S, "lad_code": _S, "lad_name": _S, "in_force_area": _B,
}  # fmt: skip
_GEO_NULLABLE = set(_LSOA_COLS) - {"lsoa_allocation"}


class PoliceSchema:
    """Columns (DuckDB types), the columns that may be null, and extra row rules of a table.

    Attributes
    ----------
    columns : dict
        ``name -> DuckDB type`` (the file must have exactly these columns).
    nullable : set of str
        Columns allowed to be null; every other column must have a value in every row.
    rules : list of (str, str)
        ``(description, SQL true for a valid row)`` beyond nulls and per-column values.
    """

    def __init__(self, columns: dict[str, str], nullable: set[str], rules=()) -> None:
        self.columns, self.nullable, self.rules = columns, set(nullable), list(rules)

    def violations(self, checked: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """``(rule, SQL true for a row that breaks it)`` for every rule of the table.

        ``checked``: columns whose value rule was checked on every value the column can hold
        (:func:`check_domain`), left out here.
        """
        out = [(f"{c} is null", f"{c} IS NULL") for c in self.columns if c not in self.nullable]
        for col in self.columns:
            if col in _VALUE_CHECKS and col not in checked:
                rule, ok = _VALUE_CHECKS[col]
                out.append((rule, f"{col} IS NOT NULL AND ({ok}) IS NOT TRUE"))
        out += [(rule, f"({ok}) IS NOT TRUE") for rule, ok in self.rules]
        return out


_ASB_RULE = (
    "is_asb must equal crime_type == ASB; non-ASB needs a Crime ID",
    f"is_asb = (crime_type = '{_ASB}') AND (crime_type = '{_ASB}' OR crime_id IS NOT NULL)",
)
STREET = PoliceSchema(
    {"force": _S, "month": _S, "crime_id": _S, "crime_type": _S, "is_asb": _B,
     "last_outcome_category": _S, **_LSOA_COLS, "source_file": _S, "source_line": _I32},
    nullable={"crime_id", "last_outcome_category", *_GEO_NULLABLE},
    rules=[_ASB_RULE],
)  # fmt: skip
OUTCOMES = PoliceSchema(
    {"force": _S, "month": _S, "crime_id": _S, "outcome_type": _S, **_LSOA_COLS,
     "source_file": _S, "source_line": _I32},
    nullable=_GEO_NULLABLE,
)  # fmt: skip
STOP_SEARCH = PoliceSchema(
    {"force": _S, "month": _S, "type": _S, "datetime": _TS, "part_of_operation": _B,
     "policing_operation": _S, "gender": _S, "age_range": _S, "self_defined_ethnicity": _S,
     "officer_defined_ethnicity": _S, "legislation": _S, "object_of_search": _S, "outcome": _S,
     "outcome_linked_to_object": _B, "removal_of_more_than_outer_clothing": _B, "longitude": _F,
     "latitude": _F, "lsoa21_code": _S, "ward_code": _S, "ward_name": _S, "lad_code": _S,
     "lad_name": _S, "in_force_area": _B, "source_file": _S, "source_line": _I32},
    nullable={"type", "part_of_operation", "policing_operation", "gender", "age_range",
              "self_defined_ethnicity", "officer_defined_ethnicity", "legislation",
              "object_of_search", "outcome", "outcome_linked_to_object",
              "removal_of_more_than_outer_clothing", "longitude", "latitude", "lsoa21_code",
              "ward_code", "ward_name", "lad_code", "lad_name", "in_force_area"},
)  # fmt: skip
POLICE = {"street": STREET, "outcomes": OUTCOMES, "stop_search": STOP_SEARCH}


def police_rule_counts_sql(kind: str, checked: frozenset[str] = frozenset()) -> str:
    """SELECT-list of ``count(*) FILTER (...) AS rule_<i>``, one per rule of :data:`POLICE`
    (without the value rules of the columns ``checked``)."""
    return ", ".join(
        f"count(*) FILTER (WHERE {bad}) AS rule_{i}"
        for i, (_rule, bad) in enumerate(POLICE[kind].violations(checked))
    )


DOMAIN_CHECKED = {
    "street": frozenset({"force", "month", "lsoa21_code", "lad_code", "lsoa_allocation"}),
    "outcomes": frozenset({"force", "month", "lsoa21_code", "lad_code", "lsoa_allocation"}),
    "stop_search": frozenset({"force", "month"}),
}
"""Columns the ingest writes from ENUM types whose every value it checks first
(:func:`check_domain`): their value rules are not repeated row by row on read-back."""


def check_domain(con: duckdb.DuckDBPyConnection, kind: str, column: str, values: list[str]) -> None:
    """Raise :class:`CrimeplanError` when a value ``column`` may take breaks the column's rule.

    ``values``: every value the column can hold (the members of the ENUM type it is written
    from), so checking each once checks every row.
    """
    rule, ok = _VALUE_CHECKS[column]
    bad = con.execute(
        f"SELECT {column} FROM (SELECT unnest(?::VARCHAR[]) AS {column}) "
        f"WHERE ({ok}) IS NOT TRUE LIMIT 1",
        [values],
    ).fetchall()
    if bad:
        raise CrimeplanError(
            f"store table '{kind}' failed validation: {rule} ({bad[0][0]!r} can be written)"
        )


def check_police_schema(con: duckdb.DuckDBPyConnection, kind: str, path: Path) -> None:
    """Raise :class:`CrimeplanError` when Parquet file ``path`` lacks the columns and types of ``kind``."""
    got = dict(
        con.execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({_lit(path)}))"
        ).fetchall()
    )
    want = POLICE[kind].columns
    if got != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        typed = sorted(c for c in set(want) & set(got) if want[c] != got[c])
        what = (
            f"missing column(s) {missing}"
            if missing
            else f"unexpected column(s) {extra}"
            if extra
            else f"column(s) {typed} of type {[got[c] for c in typed]}, expected "
            f"{[want[c] for c in typed]}"
        )
        raise CrimeplanError(f"{path}: store table '{kind}' failed validation: {what}")


def raise_rule_failures(
    kind: str, where: object, counts: dict[str, int], checked: frozenset[str] = frozenset()
) -> None:
    """Raise :class:`CrimeplanError` for the first rule of ``kind`` with a count above zero.

    ``counts``: ``rule_<i> -> rows breaking rule i`` (:func:`police_rule_counts_sql` with the
    same ``checked``).
    """
    for i, (rule, _bad) in enumerate(POLICE[kind].violations(checked)):
        n = int(counts.get(f"rule_{i}", 0) or 0)
        if n:
            raise CrimeplanError(
                f"{where}: store table '{kind}' failed validation: {rule} ({n:,} row(s))"
            )


def validate_police(kind: str, table_dir: Path, files: list[Path] | None = None) -> None:
    """Validate every row of police table ``kind`` (schema and values) with DuckDB.

    ``files``: only these Parquet files (or the files below these folders) plus the table's
    empty ``_schema.parquet``; default every file of the table. The first failure raises
    :class:`CrimeplanError` naming the file and the broken rule.
    """
    if files is None:
        files = sorted(Path(table_dir).rglob("*.parquet"))
    else:
        found = [Path(table_dir) / "_schema.parquet"]
        for item in files:
            item = Path(item)
            found += sorted(item.rglob("*.parquet")) if item.is_dir() else [item]
        files = sorted(p for p in found if p.is_file())
    con = duckdb.connect()
    try:
        for path in files:
            check_police_schema(con, kind, path)
            cols = con.execute(
                f"SELECT {police_rule_counts_sql(kind)} FROM read_parquet({_lit(path)})"
            )
            names = [d[0] for d in cols.description]
            raise_rule_failures(kind, path, dict(zip(names, cols.fetchone(), strict=True)))
    finally:
        con.close()


def _lit(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


_CODE = r"^[EWSN]\d{8}$"
REFERENCE: dict[str, pa.DataFrameSchema] = {
    "lsoa": pa.DataFrameSchema(
        {
            "lsoa21_code": pa.Column(str, pa.Check.str_matches(_CODE), unique=True),
            "lad_code": pa.Column(str, pa.Check.str_matches(_CODE)),
            "ward_code": pa.Column(str),
            "imd_decile": pa.Column("Int16", pa.Check.in_range(1, 10), nullable=True),
            "population": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        }
    ),
    "lsoa_2011_2021": pa.DataFrameSchema(
        {
            "lsoa11_code": pa.Column(str, pa.Check.str_matches(_CODE)),
            "lsoa21_code": pa.Column(str, pa.Check.str_matches(_CODE)),
            "chgind": pa.Column(str, pa.Check.isin(["U", "S", "M", "X"])),
            "weight": pa.Column(float, pa.Check.in_range(0, 1)),
        }
    ),
    "forces": pa.DataFrameSchema(
        {"force": pa.Column(str), "pfa_code": pa.Column(str), "lad_code": pa.Column(str)}
    ),
    "population_lad_ethnicity": pa.DataFrameSchema(
        {
            "ethnic_group_code": pa.Column("Int16", pa.Check.in_range(1, 19)),
            "broad_group": pa.Column(
                str, pa.Check.isin(["Asian", "Black", "Mixed", "White", "Other"])
            ),
            "population": pa.Column("Int64", pa.Check.ge(0)),
        }
    ),
    "population_lsoa_age": pa.DataFrameSchema(
        {
            "lsoa21_code": pa.Column(str),
            "age_group": pa.Column(str),
            "population": pa.Column("Int64", pa.Check.ge(0)),
        }
    ),
    "ledger": pa.DataFrameSchema(
        {
            "kind": pa.Column(str, pa.Check.isin(["street", "outcomes", "stop_search"])),
            "source_file": pa.Column(str, unique=True),
            "sha256": pa.Column(str, pa.Check.str_length(64, 64)),
            "rows_read": pa.Column("int64", pa.Check.ge(0)),
            "rows_loaded": pa.Column("int64", pa.Check.ge(0)),
            "rows_quarantined": pa.Column("int64", pa.Check.ge(0)),
        }
    ),
}


def validate_reference(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a reference table (or the ledger) if a schema exists for ``name``."""
    schema = REFERENCE.get(name)
    if schema is None:
        return frame
    try:
        return schema.validate(frame, lazy=False)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as err:
        raise CrimeplanError(
            f"reference table '{name}' failed validation: {str(err).splitlines()[0]}"
        ) from err
