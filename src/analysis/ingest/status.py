"""``crimeplan status``: what the processed store holds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from analysis.errors import CrimeplanError


def check_store(processed_dir: str | Path, console: Console | None = None) -> None:
    """Re-hash every file of the current snapshot against the checksums recorded at build.

    Raises
    ------
    CrimeplanError
        One line per damaged file is printed first; the error says how to repair.
    """
    from analysis.ingest.checks import verify_store

    problems = verify_store(Path(processed_dir))
    console = console or Console(stderr=True)
    if problems:
        for problem in problems:
            console.print(problem, soft_wrap=True, highlight=False)
        raise CrimeplanError(
            f"{len(problems)} damaged store file(s); rebuild with crimeplan ingest --repair"
        )
    console.print(f"store {processed_dir}: every file matches its build checksum")


def print_status(processed_dir: str | Path, console: Console | None = None) -> None:
    """Print coverage (force x month x kind, missing months marked), LSOA vintages, ledger
    totals and quarantine counts by reason of the current snapshot."""
    import duckdb

    try:
        _print_status(processed_dir, console)
    except (duckdb.Error, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CrimeplanError(
            f"cannot read the store ({first}); check it with crimeplan status --check"
        ) from err


def _print_status(processed_dir: str | Path, console: Console | None) -> None:
    from analysis.store import Store

    store = Store(processed_dir)
    console = console or Console()
    quality = store.quality()
    console.print(f"[bold]processed store[/bold] {store.snapshot_dir}")
    for (force, kind), group in quality.groupby(["force", "kind"], sort=True):
        table = Table(title=f"{force} / {kind}", show_lines=False)
        for col in (
            "month",
            "present",
            "rows",
            "no location",
            "outside force",
            "dup IDs",
            "ASB",
            "LSOA vintage",
        ):
            table.add_column(col, justify="right")
        for row in group.itertuples():
            mark = "yes" if row.present else "[red]MISSING[/red]"
            vintage = (
                ""
                if row.lsoa_vintage is None or str(row.lsoa_vintage) == "<NA>"
                else str(row.lsoa_vintage)
            )
            table.add_row(
                row.month, mark, f"{row.rows:,}", f"{row.no_location_rows:,}", f"{row.outside_force_rows:,}",
                f"{row.duplicate_crime_ids:,}", f"{row.asb_rows:,}", vintage,
            )  # fmt: skip
        console.print(table)
    ledger = store.ledger()
    totals = Table(title="ledger totals")
    for col in ("kind", "files", "rows read", "loaded", "quarantined"):
        totals.add_column(col, justify="right")
    for kind, group in ledger.groupby("kind"):
        totals.add_row(
            kind, str(len(group)), f"{group['rows_read'].sum():,}", f"{group['rows_loaded'].sum():,}",
            f"{group['rows_quarantined'].sum():,}",
        )  # fmt: skip
    console.print(totals)
    quarantine = store.quarantine()
    by_reason = Table(title="quarantine by reason")
    for col in ("kind", "reason", "rows"):
        by_reason.add_column(col)
    for (kind, reason), n in quarantine.groupby(["kind", "reason"]).size().items():
        by_reason.add_row(kind, reason, f"{n:,}")
    console.print(by_reason)
