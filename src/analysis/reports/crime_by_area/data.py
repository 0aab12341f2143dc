"""Report 01 data: the only module of the report that reads the processed store."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters, windows
from analysis.reports import reasons

__all__ = ["WINDOWS", "CrimeByAreaData", "load", "missing_data_reason"]

WINDOWS = ("quarter", "previous_quarter", "year_earlier_quarter")
"""The three-month windows a run reads (:func:`analysis.params.windows`), in published order."""


@dataclass(frozen=True)
class CrimeByAreaData:
    """Everything report 01 needs for one force and quarter (pulled once by :func:`load`).

    Attributes
    ----------
    run : RunParameters
    window_months : dict
        Complete windows only: ``{"quarter": [...], "previous_quarter": [...], ...}``.
    missing_windows : tuple of str
        Comparison windows left out because a month is absent from the store.
    counts : DataFrame
        ``window, month, crime_type, lsoa21_code, count``: street rows of the force in the
        complete windows (``lsoa21_code`` null for no-location rows).
    monthly : DataFrame
        ``month, lad_code, crime_type, count``: every month of the force in the store.
    monthly_lsoa : DataFrame or None
        ``month, lsoa21_code, crime_type, count``: every month of the force in the store by
        LSOA 2021 (``lsoa21_code`` null for no-location rows); the history of the change
        tests. ``None`` when not loaded (then area series come from ``monthly``: force and
        local authorities only).
    lsoa : DataFrame
        The force's LSOAs 2021: ``lsoa21_code, lsoa21_name, ward_code, ward_name, lad_code,
        lad_name, population``.
    lsoa_shapes, ward_shapes, force_outline : GeoDataFrame
        Boundaries (``code, name, geometry``), EPSG:4326.
    other_forces : DataFrame
        ``force, month, crime_type, count`` for other forces in the quarter's months.
    force_populations : DataFrame
        ``force, population`` (Census 2021 usual residents of each force's local
        authorities, ONS TS007).
    quality : DataFrame
        Store ``quality`` rows (street) of the force for the complete windows' months.
    quarantined : DataFrame
        ``month, rows_quarantined`` of the force's street files (ledger).
    force_name : str
        Display name of the force (police force area name of its LSOAs).
    """

    run: RunParameters
    window_months: dict[str, list[str]]
    missing_windows: tuple[str, ...]
    counts: pd.DataFrame
    monthly: pd.DataFrame
    lsoa: pd.DataFrame
    lsoa_shapes: gpd.GeoDataFrame
    ward_shapes: gpd.GeoDataFrame
    force_outline: gpd.GeoDataFrame
    other_forces: pd.DataFrame
    force_populations: pd.DataFrame
    quality: pd.DataFrame
    quarantined: pd.DataFrame
    force_name: str = field(default="")
    monthly_lsoa: pd.DataFrame | None = field(default=None)

    @property
    def quarter(self) -> Quarter:
        return self.run.period


AREA_NEEDS = ("population", "boundaries_lsoa", "boundaries_ward")
"""Area reference data the report needs for the force (rates per resident, maps, hot spots)."""


def missing_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store holds every month of ``run.quarter`` of street data for
    ``run.force`` and the area data of :data:`AREA_NEEDS`, else a one-line reason (the pack
    runner skips the notebook)."""
    return street_data_reason(store, run) or reasons.missing_area_data(store, run, AREA_NEEDS)


def street_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store holds every month of ``run.quarter`` of street data for
    ``run.force`` and the LSOA lookup of its local authorities (enough for counts by force and
    local authority, as the scorecard uses them), else a one-line reason."""
    present = set(store.months(run.force, "street"))
    missing = [m for m in run.period.months if m not in present]
    if missing:
        return reasons.missing_police_files(store, run, "street", missing)
    if store.lsoa(run.force).empty:
        return reasons.missing_reference(
            store,
            run,
            "no LSOA lookup rows of its local authorities",
            ("lsoa21_ward24_lad24",),
            "with the force's local authorities",
        )
    return None


def load(run: RunParameters, counts_only: bool = False) -> CrimeByAreaData:
    """Pull what report 01 needs from the processed store (the report's one I/O edge).

    Parameters
    ----------
    run : RunParameters
        Force, quarter and store.
    counts_only : bool
        Check only :func:`street_data_reason` (the scorecard's counts by force and local
        authority), not the population and boundaries the whole report needs.

    Raises
    ------
    CrimeplanError
        When the store is absent or lacks the quarter's street data for the force (or, unless
        ``counts_only``, its area data).
    """
    from analysis.store import Store

    with Store(run.processed_path) as store:
        return _load_from(store, run, counts_only)


def _load_from(store, run: RunParameters, counts_only: bool = False) -> CrimeByAreaData:
    check = street_data_reason if counts_only else missing_data_reason
    reason = check(store, run)
    if reason:
        raise CrimeplanError(reason[0].upper() + reason[1:] + ".")
    present = set(store.months(run.force, "street"))
    named = windows(run.period)
    window_months = {w: named[w] for w in WINDOWS if all(m in present for m in named[w])}
    missing_windows = tuple(w for w in WINDOWS if w not in window_months)
    months = [m for w in window_months for m in window_months[w]]
    counts = store.query(
        "SELECT month, crime_type, lsoa21_code, count(*) AS count FROM street "
        "WHERE force = ? AND list_contains(?, month) GROUP BY ALL",
        [run.force, months],
    )
    month_window = {m: w for w, ms in window_months.items() for m in ms}
    counts.insert(0, "window", counts["month"].map(month_window))
    monthly = store.query(
        "SELECT month, lad_code, crime_type, count(*) AS count FROM street "
        "WHERE force = ? GROUP BY ALL",
        [run.force],
    )
    monthly_lsoa = store.query(
        "SELECT month, lsoa21_code, crime_type, count(*) AS count FROM street "
        "WHERE force = ? GROUP BY ALL",
        [run.force],
    )
    lsoa = store.lsoa(run.force)[
        [
            "lsoa21_code",
            "lsoa21_name",
            "ward_code",
            "ward_name",
            "lad_code",
            "lad_name",
            "pfa_name",
            "population",
        ]
    ]
    force_name = (
        str(lsoa["pfa_name"].dropna().iloc[0]) if lsoa["pfa_name"].notna().any() else run.force
    )
    other_forces = store.query(
        "SELECT force, month, crime_type, count(*) AS count FROM street "
        "WHERE force <> ? AND list_contains(?, month) GROUP BY ALL",
        [run.force, run.period.months],
    )
    force_populations = store.query(
        "SELECT force, sum(lad_population) AS population FROM forces GROUP BY force"
    )
    quality = store.quality(run.force, months)
    quality = quality[quality["kind"] == "street"].reset_index(drop=True)
    ledger = store.ledger()
    quarantined = (
        ledger[
            (ledger["force"] == run.force)
            & (ledger["kind"] == "street")
            & ledger["month"].isin(months)
        ]
        .groupby("month", as_index=False)["rows_quarantined"]
        .sum()
    )
    return CrimeByAreaData(
        run=run,
        window_months=window_months,
        missing_windows=missing_windows,
        counts=counts,
        monthly=monthly,
        lsoa=lsoa.drop(columns="pfa_name"),
        lsoa_shapes=store.boundaries("lsoa", run.force),
        ward_shapes=store.boundaries("ward", run.force),
        force_outline=store.boundaries("pfa", run.force),
        other_forces=other_forces,
        force_populations=force_populations,
        quality=quality,
        quarantined=quarantined,
        force_name=force_name,
        monthly_lsoa=monthly_lsoa,
    )
