"""Writers for report outputs: every published table goes through :func:`write_table`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(
    table: pd.DataFrame, output_dir: str | Path, report: str, name: str
) -> pd.DataFrame:
    """Write ``table`` to ``<output_dir>/tables/<report>/<name>.csv`` and return it unchanged.

    Parameters
    ----------
    table : DataFrame
        The table exactly as published (suppressed cells already blanked).
    output_dir : path
        The run's output folder (``RunParameters.output_dir``).
    report : str
        Notebook stem, e.g. ``"01_crime_by_area"``.
    name : str
        File stem, e.g. ``"crime_by_area"``.
    """
    folder = Path(output_dir) / "tables" / report
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    tmp = path.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)
    return table
