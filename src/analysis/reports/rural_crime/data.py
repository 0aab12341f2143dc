"""Rural crime: the one module that reads the store.

:func:`load` pulls the force's LSOAs (RUC 2021 class, Census 2021 residents), street-crime
counts by month, LSOA and crime type, the stop-and-search rows of the 12 months and the LSOA
and local-authority boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import RunParameters, windows
from analysis.reports import reasons
from analysis.reports.rural_crime.metrics import RUC_CLASSES

__all__ = ["RuralData", "load", "missing_data_reason"]


@dataclass(frozen=True)
class RuralData:
    """Everything the rural report needs, pulled from the store once.

    Attributes
    ----------
    run : RunParameters
    lsoa : DataFrame
        The force's LSOAs 2021: ``lsoa21_code, lsoa21_name, lad_code, lad_name, ruc21_code,
        ruc21_label, urban_rural, population`` (Census 2021 usual residents).
    crimes : DataFrame
        Street counts ``month, lsoa21_code, crime_type, count`` for every month of the force
        in the store (``lsoa21_code`` null for crimes without a location).
    searches : DataFrame
        Stop-and-search rows of the 12 months: ``month, legislation, lsoa21_code``.
    street_months, search_months : list of str
        Months present in the store for the force.
    boundaries : GeoDataFrame or None
        LSOA 2021 boundaries (``code, name, geometry``) of the force.
    lad_boundaries : GeoDataFrame or None
        Local-authority boundaries of the force (map outline).
    """

    run: RunParameters
    lsoa: pd.DataFrame
    crimes: pd.DataFrame
    searches: pd.DataFrame
    street_months: list[str]
    search_months: list[str]
    boundaries: object = None
    lad_boundaries: object = None


AREA_NEEDS = ("population", "boundaries_lsoa", "boundaries_lad")
"""Area reference data the report needs for the force (rates per resident, the rural map)."""


def missing_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store has street crime for the quarter and RUC classes, else why not."""
    months = set(store.months(run.force, "street"))
    wanted = run.period.months
    if not months.intersection(wanted):
        return reasons.missing_police_files(store, run, "street", wanted)
    lsoa = store.lsoa(run.force)
    if lsoa.empty or lsoa["ruc21_code"].isna().all():
        return reasons.missing_reference(
            store,
            run,
            "no Rural-Urban Classification of its LSOAs",
            ("ruc21_lsoa21",),
            "with the force's LSOAs",
        )
    rural = [k for k, v in RUC_CLASSES.items() if v[1] == "Rural"]
    if not lsoa["ruc21_code"].isin(rural).any():
        # Not a gap in the data: the force has no rural areas, so there is nothing to supply.
        name = reasons.force_name(store, run.force)
        return f"no rural LSOAs for {name} {run.quarter} on the Rural-Urban Classification 2021"
    return reasons.missing_area_data(store, run, AREA_NEEDS)


def load(run: RunParameters) -> RuralData:
    """Open the processed store and pull what the rural report needs.

    Raises
    ------
    CrimeplanError
        When :func:`missing_data_reason` gives a reason.
    """
    from analysis.store import Store

    with Store(run.processed_path) as store:
        reason = missing_data_reason(store, run)
        if reason:
            raise CrimeplanError(f"rural crime report cannot run: {reason}")
        lsoa = store.lsoa(run.force)[
            [
                "lsoa21_code",
                "lsoa21_name",
                "lad_code",
                "lad_name",
                "ruc21_code",
                "ruc21_label",
                "urban_rural",
                "population",
            ]
        ].reset_index(drop=True)
        crimes = store.query(
            "SELECT month, lsoa21_code, crime_type, count(*) AS count FROM street "
            "WHERE force = ? GROUP BY month, lsoa21_code, crime_type",
            [run.force],
        )
        crimes["count"] = crimes["count"].astype("int64")
        twelve = windows(run.period)["12m"]
        search_months = store.months(run.force, "stop_search")
        wanted = [m for m in twelve if m in set(search_months)]
        if wanted:
            searches = store.stop_search(run.force, wanted)[["month", "legislation", "lsoa21_code"]]
        else:
            searches = pd.DataFrame(columns=["month", "legislation", "lsoa21_code"])
        try:
            boundaries = store.boundaries("lsoa", run.force)
            lad_boundaries = store.boundaries("lad", run.force)
        except CrimeplanError:
            boundaries = lad_boundaries = None
        street_months = store.months(run.force, "street")
    return RuralData(
        run=run,
        lsoa=lsoa,
        crimes=crimes,
        searches=searches.reset_index(drop=True),
        street_months=street_months,
        search_months=search_months,
        boundaries=boundaries,
        lad_boundaries=lad_boundaries,
    )
