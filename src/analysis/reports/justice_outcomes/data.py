"""Justice outcomes: the one module that reads the store.

:func:`load` pulls the non-ASB street crimes of the 24 months ending with the quarter, the
outcome records of those crimes and the force's local authorities, and joins each crime to its
latest outcome once (:func:`analysis.reports.justice_outcomes.metrics.latest_outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters
from analysis.reports import reasons

__all__ = ["JusticeData", "analysis_months", "load", "missing_data_reason"]


@dataclass(frozen=True)
class JusticeData:
    """What the justice outcomes report needs, pulled from the store once.

    Attributes
    ----------
    run : RunParameters
    crimes : DataFrame
        Non-ASB street crimes of the 24 months ending with the quarter: ``crime_id, month,
        crime_type, ward_code, lad_code, lad_name, in_force_area`` (``ward_code`` optional).
    outcomes : DataFrame
        Outcome records of those crimes: ``crime_id, month`` (outcome month), ``outcome_type``.
    force_lads : DataFrame
        ``lad_code, lad_name`` of the force's own local authorities.
    street_months, outcome_months : list of str
        Months held in the store for the force.
    unmatched_outcomes : int
        Outcome records of the force whose Crime ID is in no street file of the store.
    joined : DataFrame or None
        :func:`~analysis.reports.justice_outcomes.metrics.latest_outcomes` of ``crimes`` and
        ``outcomes`` (computed by :func:`load`; metrics compute it when it is None).
    """

    run: RunParameters
    crimes: pd.DataFrame
    outcomes: pd.DataFrame
    force_lads: pd.DataFrame
    street_months: list[str]
    outcome_months: list[str]
    unmatched_outcomes: int = 0
    joined: pd.DataFrame | None = None


def analysis_months(quarter: Quarter) -> list[str]:
    """The 24 months ending with ``quarter`` (the 12 months and the 12 before them)."""
    return quarter.year_earlier.twelve_months + quarter.twelve_months


def missing_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store has street crime and outcomes for the quarter, else why not."""
    street = set(store.months(run.force, "street"))
    if not street.intersection(run.period.months):
        return reasons.missing_police_files(store, run, "street", run.period.months)
    outcomes = store.months(run.force, "outcomes")
    if not outcomes or max(outcomes) < run.period.months[0]:
        return reasons.missing_police_files(store, run, "outcomes", run.period.months)
    return None


def load(run: RunParameters) -> JusticeData:
    """Open the processed store and pull the crimes and their outcomes.

    Raises
    ------
    CrimeplanError
        When :func:`missing_data_reason` gives a reason.
    """
    from analysis.reports.justice_outcomes.metrics import latest_outcomes
    from analysis.store import Store

    with Store(run.processed_path) as store:
        reason = missing_data_reason(store, run)
        if reason:
            raise CrimeplanError(f"justice outcomes report cannot run: {reason}")
        months = analysis_months(run.period)
        marks = ", ".join("?" for _ in months)
        crimes = store.query(
            "SELECT crime_id, month, crime_type, ward_code, lad_code, lad_name, in_force_area "
            "FROM street "
            f"WHERE force = ? AND NOT is_asb AND month IN ({marks})",
            [run.force, *months],
        )
        outcomes = store.query(
            "SELECT o.crime_id, o.month, o.outcome_type FROM outcomes o "
            "WHERE o.force = ? AND o.crime_id IN (SELECT s.crime_id FROM street s "
            f"WHERE s.force = ? AND NOT s.is_asb AND s.month IN ({marks}))",
            [run.force, run.force, *months],
        )
        unmatched = store.query(
            "SELECT count(*) AS n FROM outcomes o WHERE o.force = ? AND o.crime_id NOT IN "
            "(SELECT s.crime_id FROM street s WHERE s.force = ? AND s.crime_id IS NOT NULL)",
            [run.force, run.force],
        )["n"].iloc[0]
        lads = store.lsoa(run.force)[["lad_code", "lad_name"]].drop_duplicates()
        street_months = store.months(run.force, "street")
        outcome_months = store.months(run.force, "outcomes")
    return JusticeData(
        joined=latest_outcomes(crimes, outcomes),
        run=run,
        crimes=crimes,
        outcomes=outcomes,
        force_lads=lads.sort_values("lad_name").reset_index(drop=True),
        street_months=street_months,
        outcome_months=outcome_months,
        unmatched_outcomes=int(unmatched),
    )
