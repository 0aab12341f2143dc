"""The police table rules (SQL over every row, or over every value an ENUM column can take)."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from analysis.errors import CrimeplanError
from analysis.ingest import schemas
from analysis.store import Store


def _street_copy(fixture_store_dir: Path, tmp_path: Path) -> tuple[pl.DataFrame, Path]:
    snap = Store(fixture_store_dir).snapshot_dir
    frame = pl.read_parquet(sorted((snap / "street").rglob("*.parquet")))
    out = tmp_path / "street"
    out.mkdir()
    return frame, out


def test_fixture_store_street_passes(fixture_store_dir, tmp_path):
    frame, out = _street_copy(fixture_store_dir, tmp_path)
    frame.write_parquet(out / "part.parquet")
    schemas.validate_police("street", out)


@pytest.mark.parametrize(
    "column, bad",
    [
        ("month", pl.lit("2022-13")),
        ("latitude", pl.lit(70.0)),
        ("lsoa_allocation", pl.lit("guessed")),
        ("source_line", pl.lit(1, dtype=pl.Int32)),
        ("is_asb", ~pl.col("is_asb")),
        ("lsoa_vintage", pl.lit(2015, dtype=pl.Int16)),
        ("force", pl.lit(None, dtype=pl.Utf8)),
    ],
)
def test_one_bad_value_in_the_last_row_fails_validation(fixture_store_dir, tmp_path, column, bad):
    frame, out = _street_copy(fixture_store_dir, tmp_path)
    last = frame.height - 1
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == last).then(bad).otherwise(pl.col(column)).alias(column)
    )
    frame.write_parquet(out / "part.parquet")
    with pytest.raises(CrimeplanError, match="failed validation"):
        schemas.validate_police("street", out)


def test_non_asb_row_without_crime_id_fails(fixture_store_dir, tmp_path):
    frame, out = _street_copy(fixture_store_dir, tmp_path)
    first_crime = frame.with_row_index().filter(~pl.col("is_asb"))["index"][0]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == first_crime)
        .then(None)
        .otherwise(pl.col("crime_id"))
        .alias("crime_id")
    )
    frame.write_parquet(out / "part.parquet")
    with pytest.raises(CrimeplanError, match="failed validation"):
        schemas.validate_police("street", out)


@pytest.mark.parametrize(
    "column, good, bad",
    [
        ("lad_code", ["E08000021", "W06000001"], "E0800002"),
        ("lsoa21_code", ["E01008162"], "e01008162"),
        ("force", ["northumbria", "avon-and-somerset"], "Northumbria"),
        ("month", ["2022-12", "2023-01"], "2022-13"),
    ],
)
def test_domain_check_covers_every_value_an_enum_column_can_take(column, good, bad):
    con = duckdb.connect()
    schemas.check_domain(con, "street", column, good)  # passes
    with pytest.raises(CrimeplanError, match=f"failed validation: {column}"):
        schemas.check_domain(con, "street", column, [*good, bad])


def test_ingest_reads_each_part_back_and_refuses_a_broken_rule(
    fixture_raw_dir, tmp_path, monkeypatch
):
    """A classification bug (source lines off by one) is caught by the read-back rules."""
    from analysis.ingest import ingest, police

    real = police.classified_sql

    def off_by_one(kind, header):
        sql = real(kind, header)
        assert "CAST(t.rn + 1 AS INTEGER) AS source_line" in sql
        return sql.replace("CAST(t.rn + 1 AS INTEGER)", "CAST(t.rn AS INTEGER)")

    monkeypatch.setattr(police, "classified_sql", off_by_one)
    with pytest.raises(CrimeplanError, match="failed validation: source_line >= 2"):
        ingest(fixture_raw_dir, tmp_path / "p")
