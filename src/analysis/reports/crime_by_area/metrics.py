"""Report 01 metrics: every figure the report publishes, as pure functions of DataFrames.

Definitions used throughout
---------------------------
* **Crime**: a row of the data.police.uk street-level file of the force whose category is not
  ``Anti-social behaviour``; **All crime** is the sum over those categories. **ASB** incidents
  are counted separately and never added to crime.
* **Force count**: every row of the force's files for the months (including crimes with no
  location and crimes the force placed outside its own area), as data.police.uk publishes it.
* **Area count** (local authority, ward, LSOA): rows whose harmonised LSOA 2021 lies in that
  area. Crimes with no location, and crimes placed outside the force's local authorities, are
  in no area, so the areas add up to less than the force count (the data-quality table gives
  the difference).
* **Residents**: Census 2021 usual residents of the LSOA 2021 (ONS), summed to ward (May 2024
  best-fit), local authority (2024) and force.
* **Rate per 1,000**: count / residents × 1,000 for the three months, with a 95% Poisson
  interval (:func:`analysis.stats.poisson_rate_interval`).
* **Windows**: the reporting quarter, the previous quarter and the same quarter a year
  earlier (:func:`analysis.params.windows`); a window is used only when every one of its
  months is in the store.

Functions taking ``data`` read only the frames of a :class:`.data.CrimeByAreaData`; none
reads the store or writes a file.
"""

from __future__ import annotations

import calendar

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis import stats
from analysis.reports import hotspots as hs

from .data import WINDOWS, CrimeByAreaData

__all__ = [
    "ALL_CRIME",
    "ASB",
    "CALLED_OUT",
    "CHANGE_COLUMNS",
    "COMPARISONS",
    "CRIME_TYPES",
    "CROSS_TABLE_COLUMNS",
    "HOTSPOT_COLUMNS",
    "LEVELS",
    "QUALITY_COLUMNS",
    "WINDOWS",
    "area_counts",
    "area_populations",
    "area_rates",
    "called_out_rates",
    "change_by_area",
    "change_levels",
    "crime_by_area_table",
    "crime_types_present",
    "data_quality_table",
    "force_comparison_table",
    "forces_comparison",
    "headline_changes",
    "hotspots_table",
    "lsoa_hotspots",
    "monthly_series",
    "published_tables",
    "rated_area_counts",
    "rates_by_area",
    "spc_results",
    "table_levels",
    "ward_funnel",
    "window_days",
]

ASB = "Anti-social behaviour"
ALL_CRIME = "All crime"
COMPARISONS = ("previous_quarter", "year_earlier_quarter")
LEVELS = ("force", "lad", "ward", "lsoa")

CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
"""The data.police.uk street-level categories (since May 2013)."""

CALLED_OUT = (
    ALL_CRIME,
    "Burglary",
    "Violence and sexual offences",
    "Robbery",
    "Possession of weapons",
    "Drugs",
    "Vehicle crime",
    ASB,
)
"""Categories the Police and Crime Plan asks about, in the order they are shown."""

HEADLINE_MEASURES = (ALL_CRIME, ASB, "Burglary")
SPC_MEASURES = (ALL_CRIME, ASB, "Burglary")

POLICE_SOURCE = "data.police.uk street-level crime (Home Office), OGL v3.0"
POPULATION_SOURCE = "Census 2021 usual residents (ONS)"
RATE_SOURCE = f"{POLICE_SOURCE}; residents: {POPULATION_SOURCE}"

CROSS_TABLE_COLUMNS = [
    "window",
    "area_level",
    "area_code",
    "area_name",
    "crime_type",
    "count",
    "population",
    "rate_per_1000",
    "rate_low",
    "rate_high",
]
CHANGE_COLUMNS = [
    "area_level",
    "area_code",
    "area_name",
    "crime_type",
    "comparison",
    "count_before",
    "count_after",
    "p_value",
    "verdict",
]
HOTSPOT_COLUMNS = [
    "area_code",
    "area_name",
    "count",
    "population",
    "rate_per_1000",
    "gi_z",
    "gi_p",
    "hotspot",
]
QUALITY_COLUMNS = [
    "month",
    "rows",
    "asb_rows",
    "no_location_rows",
    "outside_force_rows",
    "duplicate_crime_ids",
    "rows_quarantined",
    "lsoa_vintage",
]


# --------------------------------------------------------------------------- counts and rates


def crime_types_present(counts: pd.DataFrame) -> list[str]:
    """The data.police.uk categories plus any other category found in ``counts``, sorted."""
    return sorted(set(CRIME_TYPES) | set(counts["crime_type"].dropna().unique()))


def area_populations(lsoa: pd.DataFrame, level: str, force: str) -> pd.DataFrame:
    """Census 2021 usual residents per area: ``area_code, area_name, population``.

    Definition: the sum of the usual residents of the area's LSOAs 2021 (``lsoa``, from the
    store's LSOA reference table) for ``level`` ``force``, ``lad``, ``ward`` or ``lsoa``. An
    area with any LSOA of unknown population gets a missing population (never a partial sum).
    """
    if level == "force":
        grouped = lsoa.assign(area_code=force, area_name=force)
    else:
        code, name = {
            "lad": ("lad_code", "lad_name"),
            "ward": ("ward_code", "ward_name"),
            "lsoa": ("lsoa21_code", "lsoa21_name"),
        }[level]
        grouped = lsoa.rename(columns={code: "area_code", name: "area_name"})
    agg = grouped.groupby(["area_code", "area_name"], as_index=False).agg(
        population=("population", "sum"),
        known=("population", "count"),
        lsoas=("population", "size"),
    )
    agg["population"] = agg["population"].where(agg["known"] == agg["lsoas"]).astype("Float64")
    return agg[["area_code", "area_name", "population"]]


def area_counts(
    counts: pd.DataFrame,
    lsoa: pd.DataFrame,
    force: str,
    force_name: str,
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """Counts by window × area × crime type, zeros included, with ``All crime``.

    Parameters
    ----------
    counts : DataFrame
        ``window, crime_type, lsoa21_code, count`` (one row per street row group).
    lsoa : DataFrame
        The force's LSOAs: ``lsoa21_code, lsoa21_name, ward_code, ward_name, lad_code,
        lad_name, population``.
    force, force_name : str
        Force slug (the force row's ``area_code``) and its display name.
    levels : tuple of str
        Any of ``force, lad, ward, lsoa``.

    Returns
    -------
    DataFrame
        ``window, area_level, area_code, area_name, crime_type, count, population``. The
        force row counts every row of the force; area rows count rows whose LSOA 2021 is in
        that area of the force. ``All crime`` = sum of every category except ASB. Source:
        data.police.uk street-level files; window: each complete window of ``counts``.
    """
    types = crime_types_present(counts)
    window_names = [w for w in WINDOWS if w in set(counts["window"])]
    geo = lsoa[["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"]]
    located = counts.merge(geo, on="lsoa21_code", how="inner")
    frames = []
    for level in levels:
        pops = area_populations(lsoa, level, force)
        if level == "force":
            pops["area_name"] = force_name
            rows = counts.assign(area_code=force)
        else:
            code = {"lad": "lad_code", "ward": "ward_code", "lsoa": "lsoa21_code"}[level]
            rows = located.rename(columns={code: "area_code"})
        summed = rows.groupby(["window", "area_code", "crime_type"])["count"].sum()
        grid = pd.MultiIndex.from_product(
            [window_names, pops["area_code"], types], names=["window", "area_code", "crime_type"]
        )
        full = summed.reindex(grid, fill_value=0).reset_index()
        crime = full[full["crime_type"] != ASB].groupby(["window", "area_code"], as_index=False)
        total = crime["count"].sum().assign(crime_type=ALL_CRIME)
        full = pd.concat([total, full], ignore_index=True)
        full = full.merge(pops, on="area_code", how="left").assign(area_level=level)
        frames.append(full)
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype("int64")
    out["_w"] = out["window"].map(WINDOWS.index)
    out["_l"] = out["area_level"].map(LEVELS.index)
    out = out.sort_values(["_w", "_l", "area_code", "crime_type"])
    return out[
        ["window", "area_level", "area_code", "area_name", "crime_type", "count", "population"]
    ].reset_index(drop=True)


def table_levels(area_level: str) -> tuple[str, ...]:
    """Area levels published for a run: force and local authority always, then down to
    ``area_level`` (``ward`` adds wards, ``lsoa`` adds wards and LSOAs)."""
    return LEVELS[: LEVELS.index(area_level) + 1]


def change_levels(area_level: str) -> tuple[str, ...]:
    """Area levels of the published change tests: :func:`table_levels` without LSOAs (their
    counts are too small for a useful test and the number of tests would be large)."""
    return tuple(level for level in table_levels(area_level) if level != "lsoa")


def rated_area_counts(
    counts: pd.DataFrame,
    lsoa: pd.DataFrame,
    force: str,
    force_name: str,
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """:func:`area_counts` with ``rate_per_1000, rate_low, rate_high``, columns as published.

    Definition: rate = count / Census 2021 usual residents × 1,000 for the window's three
    months, with a 95% Poisson interval (exact below 10 events, Byar's approximation from 10;
    :func:`analysis.stats.rate_per_1000`). Missing when the residents are unknown.
    """
    counts = area_counts(counts, lsoa, force, force_name, levels)
    rated = stats.rate_per_1000(counts.astype({"population": "float64"}))
    return rated[CROSS_TABLE_COLUMNS]


def crime_by_area_table(
    data: CrimeByAreaData, levels: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The published ``crime_by_area`` table: counts and rates per 1,000 residents.

    Numerator: street-level rows of the force (force level) or located in the area, by crime
    type and ``All crime`` (excluding ASB); denominator: Census 2021 usual residents of the
    area; windows: the quarter, the previous quarter and the same quarter a year earlier
    (complete windows only). Columns ``window, area_level, area_code, area_name, crime_type,
    count, population, rate_per_1000, rate_low, rate_high`` for ``levels`` (default: force and
    local authority, then down to the run's ``area_level``). See :func:`rated_area_counts`.
    """
    levels = levels or table_levels(data.run.area_level)
    return rated_area_counts(data.counts, data.lsoa, data.run.force, data.force_name, levels)


def window_days(months: list[str]) -> int:
    """Number of calendar days in ``months`` (``"YYYY-MM"``): the exposure of a window."""
    return sum(calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months)


def change_by_area(
    table: pd.DataFrame,
    window_months: dict[str, list[str]],
    levels: tuple[str, ...] = ("force", "lad", "ward"),
) -> pd.DataFrame:
    """The published ``change`` table: this quarter against each comparison window.

    For each area and crime type of ``table`` (:func:`crime_by_area_table` output), the
    quarter's count (``count_after``) is compared with the previous quarter's and the
    year-earlier quarter's (``count_before``) by the exact conditional Poisson test with the
    windows' numbers of days as exposures (:func:`analysis.stats.poisson_change_test`); the
    verdict is at the 5% level. Residents are the same in both windows (Census 2021), so they
    cancel. Only complete windows are compared.

    Returns
    -------
    DataFrame
        ``area_level, area_code, area_name, crime_type, comparison, count_before,
        count_after, p_value, verdict``.
    """
    keys = ["area_level", "area_code", "area_name", "crime_type"]
    rows = table[table["area_level"].isin(levels)]
    after = rows[rows["window"] == "quarter"][[*keys, "count"]]
    frames = []
    for comparison in COMPARISONS:
        if comparison not in window_months or "quarter" not in window_months:
            continue
        before = rows[rows["window"] == comparison][[*keys, "count"]]
        pair = before.merge(after, on=keys, suffixes=("_before", "_after"))
        pair = pair.assign(
            comparison=comparison,
            days_before=window_days(window_months[comparison]),
            days_after=window_days(window_months["quarter"]),
        )
        frames.append(
            stats.change_table(pair, exposure_before="days_before", exposure_after="days_after")
        )
    if not frames:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out[CHANGE_COLUMNS]


def headline_changes(data: CrimeByAreaData) -> pd.DataFrame:
    """Force totals of All crime, ASB and burglary this quarter, each with both change tests.

    Numerator: every street-level row of the force in the quarter (All crime excludes ASB);
    compared with the same count in the previous quarter and the same quarter a year earlier
    by the exact conditional Poisson test, exposures = days in each window
    (:func:`analysis.stats.poisson_change_test`).

    Returns
    -------
    DataFrame
        ``measure, comparison, test`` (``test`` an :class:`analysis.stats.ChangeTest`), one
        row per measure and complete comparison window.
    """
    table = crime_by_area_table(data, ("force",))
    rows = []
    for measure in HEADLINE_MEASURES:
        by_window = table[table["crime_type"] == measure].set_index("window")["count"]
        for comparison in COMPARISONS:
            if comparison not in data.window_months:
                continue
            test = stats.poisson_change_test(
                int(by_window[comparison]),
                int(by_window["quarter"]),
                window_days(data.window_months[comparison]),
                window_days(data.window_months["quarter"]),
            )
            rows.append({"measure": measure, "comparison": comparison, "test": test})
    return pd.DataFrame(rows, columns=["measure", "comparison", "test"])


def called_out_rates(table: pd.DataFrame, change: pd.DataFrame) -> pd.DataFrame:
    """Quarter counts and rates of the called-out categories for the force and each local
    authority, one row per category × area (force first), with the change on the same quarter
    a year earlier as text: ``"-17% (p < 0.001): decrease unlikely to be chance"``.

    ``table`` is :func:`crime_by_area_table` output, ``change`` :func:`change_by_area` output;
    the rate is count / Census 2021 residents × 1,000 in the quarter, the percentage is the
    change in the count, the p-value that of the exact Poisson test (which allows for the days
    in each quarter).
    """
    rows = table[
        (table["window"] == "quarter")
        & table["area_level"].isin(["force", "lad"])
        & table["crime_type"].isin(CALLED_OUT)
    ].copy()
    year = change[change["comparison"] == "year_earlier_quarter"]
    keys = ["area_level", "area_code", "crime_type"]
    rows = rows.merge(year[[*keys, "count_before", "p_value", "verdict"]], on=keys, how="left")
    rows["year_change"] = [
        _change_text(before, after, p, verdict)
        for before, after, p, verdict in zip(
            rows["count_before"], rows["count"], rows["p_value"], rows["verdict"], strict=True
        )
    ]
    rows["_type"] = rows["crime_type"].map(CALLED_OUT.index)
    rows["_level"] = rows["area_level"].map(LEVELS.index)
    rows = rows.sort_values(["_type", "_level", "area_name"])
    return rows.drop(columns=["_type", "_level"]).reset_index(drop=True)


def _change_text(before: float, after: float, p_value: float, verdict: str) -> str:
    if pd.isna(before) or pd.isna(p_value):
        return "not compared"
    if before == 0:
        return f"up from 0: {verdict}"
    pct = (after / before - 1) * 100
    p = (
        "p < 0.001"
        if p_value < 0.001
        else f"p = {p_value:.3f}"
        if p_value < 0.01
        else f"p = {p_value:.2f}"
    )
    return f"{pct:+.0f}% ({p}): {verdict}"


def rates_by_area(data: CrimeByAreaData) -> pd.DataFrame:
    """:func:`called_out_rates` of the run: the force and its local authorities in the quarter,
    with the year-on-year change test of :func:`change_by_area`."""
    table = crime_by_area_table(data, ("force", "lad"))
    change = change_by_area(table, data.window_months, ("force", "lad"))
    return called_out_rates(table, change)


def ward_funnel(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> pd.DataFrame:
    """Funnel table of ward rates per 1,000 residents in the quarter against the wards' rate.

    Numerator: ``crime_type`` rows located in the ward in the quarter; denominator: Census 2021
    usual residents of the ward. The target is the pooled rate of the wards (located crimes /
    residents); limits are Poisson with Spiegelhalter's over-dispersion adjustment (φ and τ²
    in ``attrs``), because crime rates of areas vary far more than chance alone would
    (:func:`analysis.stats.funnel_table`).
    """
    table = crime_by_area_table(data, ("ward",))
    wards = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
    return stats.funnel_table(
        wards.reset_index(drop=True),
        count="count",
        denominator="population",
        kind="rate",
        per=1000.0,
        label="area_name",
        overdispersion=True,
    )


# --------------------------------------------------------------------------- maps and hot spots


def area_rates(
    data: CrimeByAreaData, level: str = "lsoa", crime_type: str = ALL_CRIME
) -> gpd.GeoDataFrame:
    """Boundaries of the force's LSOAs or wards (``level``) with the quarter's count,
    residents and rate per 1,000 for ``crime_type`` (:func:`crime_by_area_table` rows of the
    quarter joined to the ONS boundaries; a GeoDataFrame, EPSG:4326)."""
    table = crime_by_area_table(data, (level,))
    rows = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
    shapes = data.lsoa_shapes if level == "lsoa" else data.ward_shapes
    shapes = shapes[["code", "geometry"]].rename(columns={"code": "area_code"})
    return shapes.merge(rows, on="area_code", how="inner")


def lsoa_hotspots(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of LSOA crime rates in the quarter.

    The statistic is computed on ``log(1 + rate per 1,000)`` of :func:`area_rates` (LSOAs):
    LSOA rates are very skewed (a few city-centre LSOAs with few residents have rates many
    times the median), and on the raw scale those few values would dominate every
    neighbourhood sum. Method: :func:`analysis.reports.hotspots.gi_star_hotspots` (Queen
    contiguity, 9,999 permutations, fixed seed, 5% false-discovery rate; LSOAs without
    neighbours or residents not tested).
    """
    rates = area_rates(data, "lsoa", crime_type)
    rates["log_rate"] = np.log1p(rates["rate_per_1000"].astype(float))
    return hs.gi_star_hotspots(rates, "log_rate")


def hotspots_table(spots: gpd.GeoDataFrame) -> pd.DataFrame:
    """The published ``hotspots`` table: :func:`lsoa_hotspots` without geometry, columns
    ``area_code, area_name, count, population, rate_per_1000, gi_z, gi_p, hotspot``."""
    return pd.DataFrame(spots.drop(columns="geometry"))[HOTSPOT_COLUMNS]


# --------------------------------------------------------------------------- trends


def monthly_series(monthly: pd.DataFrame, measure: str, lad_code: str | None = None) -> pd.Series:
    """Monthly count of ``measure`` (a category or ``All crime``, which excludes ASB).

    Numerator: every street-level row of the force (``lad_code`` None) or the rows located in
    local authority ``lad_code``, per month; indexed by month over every month of ``monthly``
    (``month, lad_code, crime_type, count``); months absent from the store are left out (not
    filled with zero).
    """
    rows = monthly if lad_code is None else monthly[monthly["lad_code"] == lad_code]
    months = sorted(monthly["month"].unique())
    if measure == ALL_CRIME:
        rows = rows[rows["crime_type"] != ASB]
    else:
        rows = rows[rows["crime_type"] == measure]
    return rows.groupby("month")["count"].sum().reindex(months, fill_value=0).astype("int64")


def spc_results(data: CrimeByAreaData) -> pd.DataFrame:
    """XmR charts of monthly counts (:func:`monthly_series`) for All crime, ASB and burglary,
    force and each local authority, over every month of the force in the store.

    Returns
    -------
    DataFrame
        ``area_name, lad_code, measure, xmr, verdict`` (``xmr`` from
        :func:`analysis.stats.xmr_chart_data`: limits = mean ± 2.66 × mean moving range;
        verdict from :func:`analysis.stats.spc_verdict`).
    """
    lads = data.lsoa[["lad_code", "lad_name"]].drop_duplicates().sort_values("lad_name")
    areas = [(data.force_name, None), *zip(lads["lad_name"], lads["lad_code"], strict=True)]
    rows = []
    for measure in SPC_MEASURES:
        for name, code in areas:
            series = monthly_series(data.monthly, measure, code)
            xmr = stats.xmr_chart_data(series)
            verdict = stats.spc_verdict(xmr, measure)
            rows.append(
                {
                    "area_name": name,
                    "lad_code": code,
                    "measure": measure,
                    "xmr": xmr,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- other forces


def force_comparison_table(
    own: pd.DataFrame, others: pd.DataFrame, populations: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """Rates per 1,000 residents by crime type for each force holding all of ``months``.

    Parameters
    ----------
    own, others : DataFrame
        ``force, month, crime_type, count`` (the report's force, then other forces).
    populations : DataFrame
        ``force, population``: Census 2021 usual residents of each force's local authorities.
    months : list of str
        The quarter's months; forces missing any of them are left out.

    Returns
    -------
    DataFrame
        ``force, crime_type, count, population, rate_per_1000, rate_low, rate_high`` with
        ``All crime`` (excluding ASB), zeros included, sorted by crime type then force.
        Numerator: every street-level row of the force in ``months``; denominator: residents.
    """
    rows = pd.concat([own, others], ignore_index=True)
    rows = rows[rows["month"].isin(months)]
    held = rows.groupby("force")["month"].nunique()
    complete = sorted(held[held == len(set(months))].index)
    rows = rows[rows["force"].isin(complete)]
    types = crime_types_present(rows) if len(rows) else list(CRIME_TYPES)
    grid = pd.MultiIndex.from_product([complete, types], names=["force", "crime_type"])
    full = (
        rows.groupby(["force", "crime_type"])["count"]
        .sum()
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    total = full[full["crime_type"] != ASB].groupby("force", as_index=False)["count"].sum()
    full = pd.concat([total.assign(crime_type=ALL_CRIME), full], ignore_index=True)
    full = full.merge(populations, on="force", how="left")
    full["population"] = full["population"].astype("float64")
    out = stats.rate_per_1000(full)
    return out.sort_values(["crime_type", "force"]).reset_index(drop=True)


def forces_comparison(data: CrimeByAreaData) -> pd.DataFrame:
    """The published ``force_comparison`` table: :func:`force_comparison_table` for the run's
    quarter, empty when no other force in the store has every month of the quarter."""
    months = data.window_months["quarter"]
    own = data.counts[data.counts["window"] == "quarter"].assign(force=data.run.force)
    table = force_comparison_table(
        own[["force", "month", "crime_type", "count"]],
        data.other_forces,
        data.force_populations,
        months,
    )
    if table["force"].nunique() < 2:
        return table.iloc[0:0]
    return table


# --------------------------------------------------------------------------- data quality


def data_quality_table(data: CrimeByAreaData) -> pd.DataFrame:
    """The published ``data_quality`` table: street-level data quality per month of the
    windows used.

    Columns: ``month``, ``rows`` (street rows of the force), ``asb_rows``,
    ``no_location_rows``, ``outside_force_rows`` (snapped outside the force's local
    authorities), ``duplicate_crime_ids``, ``rows_quarantined`` (rows the ingest could not
    use, 0 when none), ``lsoa_vintage`` of the file. Source: the store's ``quality`` table
    and ingest ledger.
    """
    q = data.quality.merge(data.quarantined, on="month", how="left")
    q["rows_quarantined"] = q["rows_quarantined"].fillna(0).astype("int64")
    return q[QUALITY_COLUMNS].sort_values("month").reset_index(drop=True)


# --------------------------------------------------------------------------- published tables


def published_tables(data: CrimeByAreaData) -> dict[str, pd.DataFrame]:
    """Every table report 01 publishes, ``{file stem: DataFrame}``, in publication order.

    * ``crime_by_area``: :func:`crime_by_area_table` (levels :func:`table_levels` of the
      run's ``area_level``);
    * ``change``: :func:`change_by_area` (levels :func:`change_levels`);
    * ``hotspots``: :func:`hotspots_table` of :func:`lsoa_hotspots` (All crime);
    * ``force_comparison``: :func:`forces_comparison`, only when another force has the months;
    * ``data_quality``: :func:`data_quality_table`.

    Counts here are public data.police.uk counts of crimes, not of people, so no small-count
    suppression is applied.
    """
    table = crime_by_area_table(data, table_levels(data.run.area_level))
    tables = {
        "crime_by_area": table,
        "change": change_by_area(table, data.window_months, change_levels(data.run.area_level)),
        "hotspots": hotspots_table(lsoa_hotspots(data)),
    }
    comparison = forces_comparison(data)
    if not comparison.empty:
        tables["force_comparison"] = comparison
    tables["data_quality"] = data_quality_table(data)
    return tables
