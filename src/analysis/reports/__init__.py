"""The reports of the quarterly pack, and the one registry that names them.

Each report is a package ``analysis.reports.<name>`` in three layers:

- ``data``: the only module that reads the store; ``load(run)`` returns the report's typed
  frames and ``missing_data_reason(store, run)`` says why the report cannot run (or None);
- ``metrics``: pure functions, DataFrames in and out, one published quantity each, with the
  definition (numerator, denominator, source, window) in the docstring; ``published_tables``
  returns every table the report publishes as ``{name: DataFrame}``;
- ``sections``: turn metrics into :class:`analysis.section.Section` objects; write nothing.

:data:`REPORTS` is used by the CLI, the runner and the tests; nothing else lists reports.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["REPORTS", "ReportSpec", "by_notebook", "get"]


@dataclass(frozen=True)
class ReportSpec:
    """One report of the pack.

    Attributes
    ----------
    number : str
        Two-digit position in the pack, e.g. ``"01"``.
    name : str
        Package name under ``analysis.reports``, e.g. ``"crime_by_area"``.
    notebook : str
        Notebook stem under ``notebooks/`` (also the report's id in outputs and the manifest).
    title : str
        Plain-English title.
    needs : tuple of str
        Store tables (views of :class:`analysis.store.Store`) the report reads, directly or through
        ``Store.lsoa``/``boundaries``/``months``; the runner skips a report, naming the table, when
        one is absent from the store snapshot.
    """

    number: str
    name: str
    notebook: str
    title: str
    needs: tuple[str, ...]

    @property
    def package(self) -> ModuleType:
        """``analysis.reports.<name>`` (imported on first use)."""
        return importlib.import_module(f"analysis.reports.{self.name}")

    def layer(self, which: str) -> ModuleType:
        """One layer module of the report: ``"data"``, ``"metrics"`` or ``"sections"``."""
        return importlib.import_module(f"analysis.reports.{self.name}.{which}")

    def missing_data_reason(self, store, run) -> str | None:
        """Why this report cannot run for ``run`` with ``store`` (None when it can)."""
        return self.layer("data").missing_data_reason(store, run)


REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(
        "00",
        "main_points",
        "00_main_points",
        "Main points",
        (
            "street",
            "ledger",
            "quality",
            "lsoa",
            "forces",
            "boundaries_lsoa",
            "boundaries_ward",
            "boundaries_pfa",
        ),
    ),
    ReportSpec(
        "00",
        "scorecard",
        "00_plan_scorecard",
        "Police and Crime Plan scorecard",
        (
            "street",
            "outcomes",
            "stop_search",
            "ledger",
            "lsoa",
            "forces",
            "population_lad_ethnicity",
            "reoffending_national",
        ),
    ),
    ReportSpec(
        "01",
        "crime_by_area",
        "01_crime_by_area",
        "Crime and anti-social behaviour by area",
        (
            "street",
            "ledger",
            "quality",
            "lsoa",
            "forces",
            "boundaries_lsoa",
            "boundaries_ward",
            "boundaries_pfa",
        ),
    ),
    ReportSpec(
        "02",
        "stop_search",
        "02_stop_search_disparity",
        "Stop and search: grounds and disparity",
        ("stop_search", "ledger", "quarantine", "forces", "population_lad_ethnicity"),
    ),
    ReportSpec(
        "03",
        "rural_crime",
        "03_rural_crime",
        "Rural crime",
        ("street", "stop_search", "ledger", "lsoa", "forces", "boundaries_lsoa", "boundaries_lad"),
    ),
    ReportSpec("04", "reoffending", "04_reoffending", "Reoffending", ("reoffending_national",)),
    ReportSpec(
        "05",
        "justice_outcomes",
        "05_justice_outcomes",
        "Criminal justice outcomes",
        ("street", "outcomes", "ledger", "lsoa", "forces"),
    ),
)


def get(name: str) -> ReportSpec:
    """The report whose package name or notebook stem is ``name``."""
    for spec in REPORTS:
        if name in (spec.name, spec.notebook):
            return spec
    raise KeyError(f"no report named {name!r}; reports are {', '.join(r.name for r in REPORTS)}")


def by_notebook() -> dict[str, ReportSpec]:
    """``{notebook stem: spec}`` in pack order."""
    return {spec.notebook: spec for spec in REPORTS}
