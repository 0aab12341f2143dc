"""pandera schemas of the processed-store tables (docs/architecture.md is the contract).

Police tables are checked with pandera's polars backend over every row of the written Parquet,
read in bounded chunks of files (columns, dtypes, nullability and value checks: month format,
coordinates inside the UK bounding box, code patterns, allocation labels, the ASB rule).
Reference tables, the ledger and quality are small and checked in full with the pandas backend.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pandera.polars as pap
import polars as pl

from analysis.errors import CrimeplanError

_S, _B, _F, _I16, _I32 = pl.Utf8, pl.Boolean, pl.Float64, pl.Int16, pl.Int32


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_GSS = r"^[EWSN]\d{8}$"
_ALLOCATIONS = [
    "unchanged", "merged", "split-point", "split-population", "irregular-point",
    "irregular-population", "2021-code", "no-location",
]  # fmt: skip
_VALUE_CHECKS: dict[str, list[pap.Check]] = {
    "force": [pap.Check.str_matches(r"^[a-z][a-z0-9-]+$")],
    "month": [pap.Check.str_matches(_MONTH)],
    "longitude": [pap.Check.in_range(-8.7, 1.8)],
    "latitude": [pap.Check.in_range(49.8, 60.9)],
    "lsoa21_code": [pap.Check.str_matches(_GSS)],
    "lad_code": [pap.Check.str_matches(_GSS)],
    "lsoa_vintage": [pap.Check.isin([2011, 2021])],
    "lsoa_allocation": [pap.Check.isin(_ALLOCATIONS)],
    "source_line": [pap.Check.ge(2)],
}


def _asb_rule(data) -> pl.LazyFrame:
    """ASB rows are exactly the rows flagged ``is_asb``; every other crime has a Crime ID."""
    asb = pl.col("crime_type") == "Anti-social behaviour"
    return data.lazyframe.select(
        (pl.col("is_asb") == asb) & (asb | pl.col("crime_id").is_not_null())
    )


def _pl(
    columns: dict[str, object], nullable: set[str] = frozenset(), checks: list | None = None
) -> pap.DataFrameSchema:
    return pap.DataFrameSchema(
        {
            name: pap.Column(dtype, _VALUE_CHECKS.get(name), nullable=name in nullable)
            for name, dtype in columns.items()
        },
        checks=checks,
        strict=True,
    )


_LSOA_COLS = {
    "longitude": _F, "latitude": _F, "location": _S, "lsoa_code_raw": _S, "lsoa_name_raw": _S,
    "lsoa_vintage": _I16, "lsoa21_code": _S, "lsoa_allocation": _S, "ward_code": _S,
    "ward_name": _S, "lad_code": _S, "lad_name": _S, "in_force_area": _B,
}  # fmt: skip
_GEO_NULLABLE = set(_LSOA_COLS) - {"lsoa_allocation"}

STREET = _pl(
    {"force": _S, "month": _S, "crime_id": _S, "crime_type": _S, "is_asb": _B, "last_outcome_category": _S,
     **_LSOA_COLS, "source_file": _S, "source_line": _I32},
    nullable={"crime_id", "last_outcome_category", *_GEO_NULLABLE},
    checks=[pap.Check(_asb_rule, error="is_asb must equal crime_type == ASB; non-ASB needs a Crime ID")],
)  # fmt: skip
OUTCOMES = _pl(
    {"force": _S, "month": _S, "crime_id": _S, "outcome_type": _S, **_LSOA_COLS,
     "source_file": _S, "source_line": _I32},
    nullable=_GEO_NULLABLE,
)  # fmt: skip
STOP_SEARCH = _pl(
    {"force": _S, "month": _S, "type": _S, "datetime": pl.Datetime("us"), "part_of_operation": _B,
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


def validate_police(
    kind: str,
    table_dir: Path,
    rows_per_chunk: int = 1_000_000,
    files: list[Path] | None = None,
) -> None:
    """Validate every row of police table ``kind`` (schema and values), a chunk of files at a time.

    Files are read whole, grouped until about ``rows_per_chunk`` rows, so memory stays bounded
    on tens of millions of rows. The first failure raises :class:`CrimeplanError` naming the
    Parquet file group and the failed check. ``files``: only the Parquet files below these
    partition folders (files or folders; the ones written by this ingest), plus the table's
    empty ``_schema.parquet``; default every file of the table.
    """
    if files is None:
        files = sorted(Path(table_dir).rglob("*.parquet"))
    else:
        found = [Path(table_dir) / "_schema.parquet"]
        for item in files:
            item = Path(item)
            found += sorted(item.rglob("*.parquet")) if item.is_dir() else [item]
        files = sorted(p for p in found if p.is_file())
    if not files:
        return
    schema = POLICE[kind]
    chunk: list[Path] = []
    rows = 0
    for i, path in enumerate(files):
        chunk.append(path)
        rows += pl.scan_parquet(path).select(pl.len()).collect().item()
        if rows >= rows_per_chunk or i == len(files) - 1:
            try:
                schema.validate(pl.read_parquet(chunk))
            except (pap.errors.SchemaError, pap.errors.SchemaErrors) as err:
                first = str(err).splitlines()[0]
                raise CrimeplanError(
                    f"{chunk[0]}: store table '{kind}' failed validation: {first}"
                ) from err
            chunk, rows = [], 0
