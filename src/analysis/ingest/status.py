"""``crimeplan status``: what the processed store holds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table


def print_status(processed_dir: str | Path, console: Console | None = None) -> None:
    """Print coverage (force x month x kind, missing months marked), LSOA vintages, ledger
    totals and quarantine counts by reason of the current snapshot."""
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
