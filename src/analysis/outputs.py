"""The one writer of published tables: every CSV of a run goes through :func:`write_tables`.

Notebooks end with ``write_tables(report.metrics.published_tables(...), run)``. Run by
``crimeplan run``, ``run.output_dir`` is the runner's staging folder; opened in JupyterLab with
the default parameters it is the scratch folder ``outputs/interactive/``. A folder that holds a
``manifest.json`` is a finished publication and is never written into from here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.errors import CrimeplanError

PUBLISHED_MARKER = "manifest.json"


class PublishedRunError(CrimeplanError):
    """A table write aimed at a finished publication (a folder holding ``manifest.json``)."""


def _guard(output_dir: Path) -> None:
    for folder in (output_dir, *output_dir.parents):
        if (folder / PUBLISHED_MARKER).is_file():
            raise PublishedRunError(
                f"{output_dir} is inside a published run ({folder / PUBLISHED_MARKER}); "
                "only crimeplan run writes there. Use the default output_dir "
                "(outputs/interactive) to explore."
            )


def write_table(
    table: pd.DataFrame, output_dir: str | Path, report: str, name: str
) -> pd.DataFrame:
    """Write ``table`` to ``<output_dir>/tables/<report>/<name>.csv`` and return it unchanged.

    Parameters
    ----------
    table : DataFrame
        The table exactly as published.
    output_dir : path
        The run's output folder (``RunParameters.output_path``).
    report : str
        Notebook stem, e.g. ``"01_crime_by_area"``.
    name : str
        File stem, e.g. ``"crime_by_area"``.

    Raises
    ------
    PublishedRunError
        ``output_dir`` is (inside) a finished publication.
    """
    output_dir = Path(output_dir)
    _guard(output_dir)
    folder = output_dir / "tables" / report
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    tmp = path.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)
    return table


def write_tables(tables: dict[str, pd.DataFrame], run, report: str) -> list[Path]:
    """Write every table of one report (``{file stem: DataFrame}``) for ``run``; return the paths.

    Each CSV is the table's tidy form (:func:`analysis.tidy.tidy_table`: time and geography
    columns first, figures at publication precision, ``[c]``/``[x]``/``[z]`` instead of blank
    cells), with ``<name>.meta.csv`` beside it describing each of its columns
    (:func:`analysis.tidy.meta_table`). The DataFrames given are not changed: a notebook keeps
    working with the report's own columns. Tables of ``report`` left from an earlier execution
    into the same folder are removed first, so the folder holds exactly the tables this
    execution published.
    """
    from analysis.tidy import Areas, meta_table, tidy_table

    output_dir = run.output_path
    _guard(output_dir)
    folder = output_dir / "tables" / report
    areas = Areas.for_run(run)  # one store read (at most) for every table of the report
    tidy = {name: tidy_table(table, run, areas) for name, table in tables.items()}
    if folder.is_dir():
        for old in folder.glob("*.csv"):
            old.unlink()
    paths = []
    for name, table in tidy.items():
        write_table(table, output_dir, report, name)
        write_table(meta_table(table), output_dir, report, f"{name}.meta")
        paths.append(folder / f"{name}.csv")
    return paths
