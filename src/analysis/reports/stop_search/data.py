"""Stop-and-search disparity, data layer: the only module of the report that reads the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters
from analysis.reports import reasons

__all__ = ["SEARCH_FIELDS", "StopSearchData", "load", "missing_data_reason"]

SEARCH_FIELDS = [
    "force",
    "month",
    "type",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "legislation",
    "object_of_search",
    "outcome",
    "outcome_linked_to_object",
    "removal_of_more_than_outer_clothing",
    "longitude",
    "latitude",
    "lad_code",
    "lad_name",
    "in_force_area",
]


@dataclass(frozen=True)
class StopSearchData:
    """Everything the report needs for one force and quarter.

    Attributes
    ----------
    run : RunParameters
    searches : DataFrame
        Store table ``stop_search`` for ``run.force``, every month held (columns
        :data:`SEARCH_FIELDS`), vehicle-only searches included (they are filtered where counted).
    population : DataFrame
        Store table ``population_lad_ethnicity`` restricted to the force's local authorities.
    lads : DataFrame
        ``lad_code, lad_name`` of the force's local authorities (store table ``forces``).
    force_code, force_name : str
        Police force area code and name (PFA 2024).
    months : list of str
        Months with a stop-and-search file for the force, ``"YYYY-MM"``, sorted.
    quarantined_months : list of str
        File month of every stop-and-search row of the force quarantined at ingest (one entry
        per row).
    """

    run: RunParameters
    searches: pd.DataFrame
    population: pd.DataFrame
    lads: pd.DataFrame
    force_code: str
    force_name: str
    months: list[str]
    quarantined_months: list[str] = field(default_factory=list)

    @property
    def quarter(self) -> Quarter:
        return self.run.period

    def window_months(self, window: str) -> list[str]:
        """Months of ``window`` (``"quarter"`` or ``"12m"``)."""
        return self.quarter.months if window == "quarter" else self.quarter.twelve_months


def missing_data_reason(store, run: RunParameters) -> str | None:
    """None when the store holds stop and search for every month of ``run.quarter``, else why not."""
    months = store.months(run.force, "stop_search")
    absent = [m for m in run.period.months if m not in months]
    if absent:
        return reasons.missing_police_files(store, run, "stop_search", absent)
    return None


def load(run: RunParameters) -> StopSearchData:
    """Read the stop-and-search records and population this report needs (the one I/O edge).

    Raises
    ------
    CrimeplanError
        When the store has no stop-and-search data for the quarter, or no local authorities or
        population for the force.
    """
    from analysis.store import Store

    with Store(run.processed_path) as store:
        return _read(store, run)


def _read(store, run: RunParameters) -> StopSearchData:
    reason = missing_data_reason(store, run)
    if reason:
        raise CrimeplanError(reason)
    months = store.months(run.force, "stop_search")
    searches = store.stop_search(run.force)[SEARCH_FIELDS]
    forces = store.table("forces")
    forces = forces[forces["force"] == run.force]
    if forces.empty:
        raise CrimeplanError(f"The store's forces table has no local authorities for {run.force}.")
    population = store.table("population_lad_ethnicity")
    population = population[population["lad_code"].isin(forces["lad_code"])]
    missing = sorted(set(forces["lad_code"]) - set(population["lad_code"]))
    if missing:
        raise CrimeplanError(
            f"population_lad_ethnicity has no Census 2021 ethnic groups for {', '.join(missing)}."
        )
    quarantine = store.quarantine()
    quarantined = quarantine[
        (quarantine["kind"] == "stop_search") & (quarantine["force"] == run.force)
    ]
    return StopSearchData(
        run=run,
        searches=searches.reset_index(drop=True),
        population=population.reset_index(drop=True),
        lads=forces[["lad_code", "lad_name"]].drop_duplicates().reset_index(drop=True),
        force_code=str(forces["pfa_code"].iloc[0]),
        force_name=str(forces["pfa_name"].iloc[0]),
        months=sorted(str(m) for m in months),
        quarantined_months=[str(m) for m in quarantined["month"]],
    )
