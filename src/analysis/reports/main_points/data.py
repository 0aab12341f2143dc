"""Report 00 data: the main points read other reports' data layers (cheap parts only)."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.params import RunParameters
from analysis.reports.crime_by_area import data as crime_data
from analysis.reports.crime_by_area.data import CrimeByAreaData

__all__ = ["MainPointsData", "load", "missing_data_reason"]


@dataclass(frozen=True)
class MainPointsData:
    """What the main points need for one force and quarter.

    Attributes
    ----------
    crime : CrimeByAreaData
        Report 01's data (street-level crime of the force).
    stop_search : StopSearchData or None
        Report 02's data, None when the store cannot support that report.
    justice : JusticeData or None
        Report 05's data, None when the store cannot support that report.
    """

    crime: CrimeByAreaData
    stop_search: object | None = None
    justice: object | None = None

    @property
    def run(self) -> RunParameters:
        return self.crime.run

    @property
    def quarter(self):
        return self.crime.quarter


def missing_data_reason(store, run: RunParameters) -> str | None:
    """The main points need what report 01 needs (street-level crime of the quarter)."""
    return crime_data.missing_data_reason(store, run)


def load(run: RunParameters) -> MainPointsData:
    """Report 01's data, plus reports 02 and 05's when the store holds what they need."""
    from analysis.reports.justice_outcomes import data as justice_data
    from analysis.reports.stop_search import data as search_data
    from analysis.store import Store

    crime = crime_data.load(run)
    with Store(run.processed_path) as store:
        search_ok = search_data.missing_data_reason(store, run) is None
        justice_ok = justice_data.missing_data_reason(store, run) is None
    return MainPointsData(
        crime=crime,
        stop_search=search_data.load(run) if search_ok else None,
        justice=justice_data.load(run) if justice_ok else None,
    )
