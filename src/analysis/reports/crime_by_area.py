"""Report 01, crime by area: counts, rates, maps, trends, hot spots and force comparison.

Answers the Police and Crime Plan promises to publish how many crimes are committed in each
part of the force area, anti-social behaviour (ASB) every three months and whether it has gone
up or down, and regular burglary figures.

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
"""

from __future__ import annotations

import calendar
import html
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown

from analysis import charts, stats, tables
from analysis.errors import CrimeplanError
from analysis.outputs import write_table
from analysis.params import Quarter, RunParameters, months_missing_between, windows
from analysis.reports import hotspots as hs

REPORT = "01_crime_by_area"
ASB = "Anti-social behaviour"
ALL_CRIME = "All crime"
WINDOWS = ("quarter", "previous_quarter", "year_earlier_quarter")
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

SPC_MEASURES = (ALL_CRIME, ASB, "Burglary")

POLICE_SOURCE = "data.police.uk street-level crime (Home Office), OGL v3.0"
POPULATION_SOURCE = "Census 2021 usual residents (ONS)"
RATE_SOURCE = f"{POLICE_SOURCE}; residents: {POPULATION_SOURCE}"
BNG = "EPSG:27700"
MAP_SCHEME = "Quantiles"
"""Map classes: quintiles (each shade holds a fifth of the areas). Natural breaks (Jenks)
takes several seconds per map without numba and adds little for such skewed rates."""

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


# --------------------------------------------------------------------------- data (I/O edge)


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

    @property
    def quarter(self) -> Quarter:
        return self.run.period

    @cached_property
    def table(self) -> pd.DataFrame:
        """Counts and rates at every level (computed once; see :func:`rated_area_counts`)."""
        return rated_area_counts(self.counts, self.lsoa, self.run.force, self.force_name, LEVELS)

    @cached_property
    def hotspots(self) -> gpd.GeoDataFrame:
        """Gi* hot spots of the quarter's All crime LSOA rates (computed once)."""
        return lsoa_hotspots(self)


def missing_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store holds every month of ``run.quarter`` of street data for
    ``run.force``, else a one-sentence reason (the pack runner skips the notebook)."""
    present = set(store.months(run.force, "street"))
    missing = [m for m in run.period.months if m not in present]
    if missing:
        return (
            f"the store has no street-level crime for {run.force} in {', '.join(missing)}, "
            f"so {run.period.label()} cannot be reported"
        )
    if store.lsoa(run.force).empty:
        return f"the store has no LSOA reference data for {run.force}"
    return None


def load(run: RunParameters) -> CrimeByAreaData:
    """Pull what report 01 needs from the processed store (the report's one I/O edge).

    Raises
    ------
    CrimeplanError
        When the store is absent or lacks the quarter's street data for the force.
    """
    from analysis.store import Store

    store = Store(run.processed_path)
    try:
        return _load_from(store, run)
    finally:
        store.close()


def _load_from(store, run: RunParameters) -> CrimeByAreaData:
    reason = missing_data_reason(store, run)
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
    )


# --------------------------------------------------------------------------- counts and rates


def crime_types_present(counts: pd.DataFrame) -> list[str]:
    """The data.police.uk categories plus any other category found in ``counts``, sorted."""
    return sorted(set(CRIME_TYPES) | set(counts["crime_type"].dropna().unique()))


def area_populations(lsoa: pd.DataFrame, level: str, force: str) -> pd.DataFrame:
    """Census 2021 usual residents per area: ``area_code, area_name, population``.

    LSOA populations are summed to ward, local authority or force. An area with any LSOA of
    unknown population gets a missing population (never a partial sum).
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
        that area of the force. ``All crime`` = sum of every category except ASB.
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


def rated_area_counts(
    counts: pd.DataFrame,
    lsoa: pd.DataFrame,
    force: str,
    force_name: str,
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """:func:`area_counts` with ``rate_per_1000, rate_low, rate_high`` (95% Poisson interval,
    exact below 10 events, Byar's approximation from 10), columns as published."""
    counts = area_counts(counts, lsoa, force, force_name, levels)
    rated = stats.rate_per_1000(counts.astype({"population": "float64"}))
    return rated[CROSS_TABLE_COLUMNS]


def crime_by_area_table(
    data: CrimeByAreaData, levels: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The published ``crime_by_area`` table: counts and rates per 1,000 residents.

    Columns ``window, area_level, area_code, area_name, crime_type, count, population,
    rate_per_1000, rate_low, rate_high`` (definitions in the module docstring), for
    ``levels`` (default: force and local authority, then down to the run's ``area_level``).
    """
    levels = levels or table_levels(data.run.area_level)
    table = data.table
    return table[table["area_level"].isin(levels)].reset_index(drop=True)


def window_days(months: list[str]) -> int:
    """Number of calendar days in ``months`` (``"YYYY-MM"``): the exposure of a window."""
    return sum(calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months)


def change_by_area(
    table: pd.DataFrame,
    window_months: dict[str, list[str]],
    levels: tuple[str, ...] = ("force", "lad", "ward"),
) -> pd.DataFrame:
    """The published ``change`` table: this quarter against each comparison window.

    For each area and crime type, the quarter's count (``count_after``) is compared with the
    previous quarter's and the year-earlier quarter's (``count_before``) by the exact
    conditional Poisson test with the windows' numbers of days as exposures
    (:func:`analysis.stats.poisson_change_test`); the verdict is at the 5% level. Residents
    are the same in both windows (Census 2021), so they cancel. Only complete windows are
    compared. LSOAs are left out: their counts are too small for a useful test and the
    number of tests would be large.

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


# --------------------------------------------------------------------------- section 1: headline


def _period_of(window: str, quarter: Quarter) -> Quarter:
    return {
        "quarter": quarter,
        "previous_quarter": quarter.previous,
        "year_earlier_quarter": quarter.year_earlier,
    }[window]


def headline_changes(data: CrimeByAreaData) -> pd.DataFrame:
    """Force totals of All crime, ASB and burglary this quarter, each with both change tests.

    Returns ``measure, comparison, test`` (``test`` an :class:`analysis.stats.ChangeTest`,
    exposures = days in each window), one row per complete comparison window.
    """
    table = crime_by_area_table(data, ("force",))
    rows = []
    for measure in (ALL_CRIME, ASB, "Burglary"):
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


def headline(data: CrimeByAreaData) -> Markdown:
    """Headline sentences: crime (excluding ASB), ASB and burglary in the quarter, each against
    the previous quarter and the same quarter a year earlier, with the exact Poisson test."""
    q = data.quarter
    changes = headline_changes(data)
    label = {
        ALL_CRIME: "All crime (excluding anti-social behaviour)",
        ASB: "Anti-social behaviour incidents",
        "Burglary": "Burglary",
    }
    lines = []
    for measure in (ALL_CRIME, ASB, "Burglary"):
        for row in changes[changes["measure"] == measure].itertuples():
            before = _period_of(row.comparison, q)
            lines.append(
                f"- {tables.headline_change(label[measure], row.test, q.label(), before.label())}"
            )
    for window in data.missing_windows:
        lines.append(
            f"- No comparison with {_period_of(window, q).label()}: the store does not hold all "
            "three months of that quarter."
        )
    rates = crime_by_area_table(data, ("force",))
    rates = rates[(rates["window"] == "quarter") & rates["crime_type"].isin([ALL_CRIME, ASB])]
    for row in rates.itertuples():
        what = "Crimes (excluding ASB)" if row.crime_type == ALL_CRIME else "ASB incidents"
        sentence = tables.headline_rate(
            f"{what}, {data.force_name}",
            row.rate_per_1000,
            row.rate_low,
            row.rate_high,
            q.label(),
            per=f"per 1,000 residents (of {tables.format_count(row.population)}, Census 2021)",
            count=row.count,
        )
        lines.append(f"- {sentence}")
    intro = (
        f"**{data.force_name}, {q.label()}.** Anti-social behaviour is reported separately from "
        "crime. Changes are tested with an exact Poisson test allowing for the number of days in "
        'each quarter; "no evidence of change" means the difference is within what chance '
        "alone would often produce."
    )
    return Markdown(intro + "\n\n" + "\n".join(lines))


# --------------------------------------------------------------------------- section 2: rates


def called_out_rates(table: pd.DataFrame, change: pd.DataFrame) -> pd.DataFrame:
    """Quarter counts and rates of the called-out categories for the force and each local
    authority, one row per category × area (force first), with the change on the same quarter
    a year earlier as text: ``"-17% (p < 0.001): decrease unlikely to be chance"``.

    ``table`` is :func:`crime_by_area_table` output, ``change`` :func:`change_by_area` output;
    the percentage is the change in the count, the p-value that of the exact Poisson test
    (which allows for the days in each quarter).
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


def rates_by_area_table(data: CrimeByAreaData) -> tables.ReportTable:
    """Counts and rates per 1,000 residents with 95% intervals, force and local authorities,
    for the called-out categories, with the change on the same quarter a year earlier."""
    table = crime_by_area_table(data, ("force", "lad"))
    change = change_by_area(table, data.window_months, ("force", "lad"))
    rows = called_out_rates(table, change)
    return tables.report_table(
        rows,
        columns={
            "crime_type": "Crime type",
            "area_name": "Area",
            "count": "Count",
            "population": "Residents (Census 2021)",
            "rate_per_1000": "Rate per 1,000",
            "year_change": f"Change on {data.quarter.year_earlier.label()}",
        },
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% interval)")],
        counts=["count", "population"],
        caption=(
            f"Crimes and ASB incidents and rates per 1,000 residents, {data.quarter.label()}, "
            f"{data.force_name} and its local authorities"
        ),
        notes=[
            "Rate = recorded crimes (or ASB incidents) in the three months / Census 2021 usual "
            "residents × 1,000; 95% Poisson interval (exact below 10 events, Byar's approximation "
            "from 10).",
            "Change: the quarter's count against the same quarter a year earlier, with the exact "
            "Poisson test at the 5% level allowing for the days in each quarter (the "
            "previous-quarter comparison is in change.csv).",
            "All crime excludes anti-social behaviour. Local authorities count crimes located in "
            "them; the force row also counts crimes with no location or placed outside the force "
            "area.",
            f"{RATE_SOURCE}. Every category, ward and (on request) LSOA is in crime_by_area.csv.",
        ],
    )


def ward_funnel(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> pd.DataFrame:
    """Funnel table of ward rates per 1,000 residents in the quarter against the force rate.

    The target is the pooled rate of the wards (located crimes / residents); limits are
    Poisson with Spiegelhalter's over-dispersion adjustment (φ and τ² in ``attrs``), because
    crime rates of areas vary far more than chance alone would.
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


def ward_funnel_chart(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> charts.Chart:
    """Funnel plot of ward rates (:func:`ward_funnel`)."""
    funnel = ward_funnel(data, crime_type)
    return charts.funnel_plot(
        funnel,
        title=f"{crime_type} per 1,000 residents by ward, {data.quarter.label()}",
        x_label="Residents (Census 2021)",
        y_label="Rate per 1,000 residents",
        source=RATE_SOURCE,
        label="area_name",
    )


def counts_and_rates(data: CrimeByAreaData) -> HTML:
    """Section 2: the local-authority rates table and the ward funnel plot."""
    return combine(rates_by_area_table(data), ward_funnel_chart(data), funnel_sentence(data))


def funnel_sentence(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> str:
    """Plain-English reading of the ward funnel plot (wards beyond the 99.8% limits)."""
    funnel = ward_funnel(data, crime_type)
    high = funnel[funnel["outside998"] & (funnel["value"] > funnel["target"])]["area_name"].tolist()
    low = funnel[funnel["outside998"] & (funnel["value"] < funnel["target"])]["area_name"].tolist()
    phi = funnel.attrs.get("phi", float("nan"))
    parts = [
        f"Pooled ward rate {funnel.attrs['target']:.1f} per 1,000 residents; limits allow for "
        f"over-dispersion (φ = {phi:.1f})."
    ]
    parts.append(
        f"{len(high)} of {len(funnel)} wards are above the 99.8% limit"
        + (f" ({_short_list(high)})" if high else "")
        + f" and {len(low)} below it"
        + (f" ({_short_list(low)})" if low else "")
        + "."
    )
    return " ".join(parts)


def _short_list(names: list[str], limit: int = 8) -> str:
    names = sorted(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


# --------------------------------------------------------------------------- section 3: maps


AREA_WORDS = {"lsoa": ("LSOA", "ONS LSOA 2021"), "ward": ("ward", "ONS wards (May 2024)")}


def area_rates(data: CrimeByAreaData, level: str = "lsoa", crime_type: str = ALL_CRIME):
    """Boundaries of the force's LSOAs or wards (``level``) with the quarter's count,
    residents and rate per 1,000 for ``crime_type`` (a GeoDataFrame, EPSG:4326)."""
    table = crime_by_area_table(data, (level,))
    rows = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
    shapes = data.lsoa_shapes if level == "lsoa" else data.ward_shapes
    shapes = shapes[["code", "geometry"]].rename(columns={"code": "area_code"})
    return shapes.merge(rows, on="area_code", how="inner")


def lsoa_rates(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> gpd.GeoDataFrame:
    """:func:`area_rates` of the LSOAs."""
    return area_rates(data, "lsoa", crime_type)


def rate_map(data: CrimeByAreaData, level: str = "lsoa", crime_type: str = ALL_CRIME):
    """Choropleth of LSOA or ward rates per 1,000 residents in the quarter (quintile classes,
    force boundary drawn on top)."""
    word, boundaries = AREA_WORDS[level]
    return charts.choropleth(
        area_rates(data, level, crime_type).to_crs(BNG),
        "rate_per_1000",
        title=f"{crime_type} per 1,000 residents by {word}, {data.quarter.label()}",
        source=f"{RATE_SOURCE}; boundaries {boundaries} (OS data © Crown copyright)",
        outline=data.force_outline.to_crs(BNG),
        scheme=MAP_SCHEME,
        label="area_name",
        legend_title="Rate per 1,000 residents",
    )


def lsoa_hotspots(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of LSOA crime rates in the quarter.

    The statistic is computed on ``log(1 + rate per 1,000)``: LSOA rates are very skewed (a
    few city-centre LSOAs with few residents have rates many times the median), and on the raw
    scale those few values would dominate every neighbourhood sum. Method:
    :func:`analysis.reports.hotspots.gi_star_hotspots` (Queen contiguity, 9,999 permutations,
    fixed seed, 5% false-discovery rate; LSOAs without neighbours or residents not tested).
    """
    rates = lsoa_rates(data, crime_type)
    rates["log_rate"] = np.log1p(rates["rate_per_1000"].astype(float))
    return hs.gi_star_hotspots(rates, "log_rate")


def hotspot_map(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> charts.Chart:
    """Map of the significant hot and cold spots of :func:`lsoa_hotspots`."""
    spots = data.hotspots if crime_type == ALL_CRIME else lsoa_hotspots(data, crime_type)
    return hs.hotspot_map(
        spots.to_crs(BNG),
        title=f"Hot and cold spots of {crime_type.lower()} per 1,000 residents, {data.quarter.label()}",
        source=(
            f"{RATE_SOURCE}; Getis-Ord Gi* (esda), {spots.attrs['permutations']:,} permutations, "
            "5% false-discovery rate"
        ),
        outline=data.force_outline.to_crs(BNG),
    )


def hotspot_sentence(spots: pd.DataFrame, lsoa: pd.DataFrame | None = None) -> str:
    """Plain-English summary of :func:`lsoa_hotspots` output; with ``lsoa`` (the force's LSOA
    reference rows) it names the wards the hot and cold spots lie in."""
    n = hs.hotspot_summary(spots)
    a = spots.attrs
    text = (
        f"Getis-Ord Gi* of log(1 + rate) on {a.get('n_tested', 0)} LSOAs "
        f"({a.get('permutations', 0):,} permutations, two-sided, false-discovery rate {a.get('alpha', 0.05):.0%}): "
        f"{n[hs.HOT]} LSOAs are in significant hot spots and {n[hs.COLD]} in significant cold "
        "spots."
    )
    if lsoa is not None:
        wards = spots[["area_code", "hotspot"]].merge(
            lsoa[["lsoa21_code", "ward_name"]], left_on="area_code", right_on="lsoa21_code"
        )
        for label, what in ((hs.HOT, "Hot spots"), (hs.COLD, "Cold spots")):
            names = sorted(set(wards.loc[wards["hotspot"] == label, "ward_name"]))
            if names:
                text += f" {what} lie in: {_short_list(names, 12)}."
    if n[hs.ISLAND]:
        text += f" {n[hs.ISLAND]} LSOA(s) with no neighbouring LSOA were not tested."
    if n[hs.NO_VALUE]:
        text += f" {n[hs.NO_VALUE]} LSOA(s) without a resident population were not tested."
    return text


def maps_and_hotspots(data: CrimeByAreaData) -> HTML:
    """Section 3: LSOA and ward rate maps and the Gi* hot-spot map."""
    return combine(
        rate_map(data, "lsoa"),
        rate_map(data, "ward"),
        hotspot_map(data),
        hotspot_sentence(data.hotspots, data.lsoa),
    )


# --------------------------------------------------------------------------- section 4: trends


def monthly_series(monthly: pd.DataFrame, measure: str, lad_code: str | None = None) -> pd.Series:
    """Monthly count of ``measure`` (a category or ``All crime``) for the force (every row) or
    one local authority (rows located in it), indexed by month; months absent from the store
    are left out (not filled with zero)."""
    rows = monthly if lad_code is None else monthly[monthly["lad_code"] == lad_code]
    months = sorted(monthly["month"].unique())
    if measure == ALL_CRIME:
        rows = rows[rows["crime_type"] != ASB]
    else:
        rows = rows[rows["crime_type"] == measure]
    return rows.groupby("month")["count"].sum().reindex(months, fill_value=0).astype("int64")


def spc_results(data: CrimeByAreaData) -> pd.DataFrame:
    """XmR charts of monthly counts for All crime, ASB and burglary, force and each local
    authority: ``area_name, lad_code, measure, xmr, verdict`` (``xmr`` from
    :func:`analysis.stats.xmr_chart_data`, verdict from :func:`analysis.stats.spc_verdict`)."""
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


def trends(data: CrimeByAreaData) -> HTML:
    """Section 4: SPC verdicts table and XmR charts by local authority."""
    results = spc_results(data)
    verdicts = tables.report_table(
        results[["measure", "area_name", "verdict"]],
        columns={"measure": "Measure", "area_name": "Area", "verdict": "Verdict"},
        caption=f"Special-cause variation in monthly counts, {_span(data.monthly)}",
        notes=[
            "XmR (individuals) chart: limits = mean ± 2.66 × mean moving range. Rules: a point "
            "outside the limits; 7 in a row on one side of the mean; 7 rises or falls in a row; "
            "2 of 3 beyond two thirds of the way to a limit.",
            "Months missing from the store are left out of the series, not treated as zero.",
            POLICE_SOURCE + ".",
        ],
    )
    parts: list[object] = [verdicts]
    for row in results.itertuples():
        parts.append(
            charts.spc_chart(
                row.xmr,
                title=f"{row.measure}: monthly count, {row.area_name}",
                y_label=f"{row.measure} per month",
                source=POLICE_SOURCE,
            )
        )
    return combine(*parts)


def _span(monthly: pd.DataFrame) -> str:
    months = sorted(monthly["month"].unique())
    if not months:
        return "no months"
    text = f"{months[0]} to {months[-1]} ({len(months)} months"
    gaps = months_missing_between(months)
    return text + (f"; not in the store: {', '.join(gaps)})" if gaps else ")")


# --------------------------------------------------------------------------- section 5: forces


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
    """:func:`force_comparison_table` for the run's quarter (empty when no other force has
    every month of the quarter)."""
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


def neighbouring_forces(data: CrimeByAreaData) -> HTML | Markdown:
    """Section 5: crime rates by type against other forces in the store for the same months,
    or a plain statement that no other force has data for those months."""
    table = forces_comparison(data)
    if table.empty:
        held = data.other_forces["force"].unique().tolist()
        partial = f" ({', '.join(sorted(held))} hold only some of these months)" if held else ""
        return Markdown(
            f"No other force in the store has street-level data for all of {data.quarter.label()}"
            f"{partial}, so no force comparison is made for this quarter."
        )
    shown = table[table["crime_type"].isin(CALLED_OUT)].copy()
    chart = charts.bar_by_group(
        shown,
        x="crime_type",
        y="rate_per_1000",
        hue="force",
        low="rate_low",
        high="rate_high",
        title=f"Crimes per 1,000 residents by force, {data.quarter.label()}",
        source=f"{POLICE_SOURCE}; residents: Census 2021 (ONS TS007) of each force's local authorities",
    )
    shown["rate"] = [
        tables.format_interval(r, lo, hi)
        for r, lo, hi in zip(
            shown["rate_per_1000"], shown["rate_low"], shown["rate_high"], strict=True
        )
    ]
    report = tables.report_table(
        shown[["crime_type", "force", "count", "population", "rate"]],
        columns={
            "crime_type": "Crime type",
            "force": "Force",
            "count": "Count",
            "population": "Residents (Census 2021)",
            "rate": "Rate per 1,000 (95% interval)",
        },
        caption=f"Crime rates by force, {data.quarter.label()}",
        counts=["count", "population"],
        notes=[
            "Force counts are every row of each force's street-level files for the three months. "
            "Differences in recording practice between forces affect these comparisons.",
        ],
    )
    return combine(chart, report)


# --------------------------------------------------------------------------- section 6: quality


def data_quality_table(data: CrimeByAreaData) -> pd.DataFrame:
    """Street-level data quality per month of the windows used: rows, ASB rows, rows with no
    location, rows placed outside the force's local authorities, duplicate Crime IDs, rows
    quarantined at ingest, LSOA vintage of the file (from the store's quality table and
    ledger)."""
    q = data.quality.merge(data.quarantined, on="month", how="left")
    q["rows_quarantined"] = q["rows_quarantined"].fillna(0).astype("int64")
    cols = [
        "month",
        "rows",
        "asb_rows",
        "no_location_rows",
        "outside_force_rows",
        "duplicate_crime_ids",
        "rows_quarantined",
        "lsoa_vintage",
    ]
    return q[cols].sort_values("month").reset_index(drop=True)


def publish_tables(data: CrimeByAreaData) -> list[Path]:
    """Write the report's CSVs to ``<output>/tables/01_crime_by_area/`` and return their paths.

    * ``crime_by_area.csv``: :func:`crime_by_area_table` (levels force and LAD, then down to
      the run's ``area_level``);
    * ``change.csv``: :func:`change_by_area` (force, LAD and, unless ``area_level`` is
      ``lad``, ward);
    * ``hotspots.csv``: LSOA Gi* results (``area_code, area_name, rate_per_1000, gi_z, gi_p,
      hotspot``);
    * ``force_comparison.csv``: :func:`forces_comparison` when another force has the months;
    * ``data_quality.csv``: :func:`data_quality_table`.

    Counts here are public data.police.uk counts of crimes, not of people, so no small-count
    suppression is applied.
    """
    out = data.run.output_path
    levels = table_levels(data.run.area_level)
    table = crime_by_area_table(data, levels)
    change_levels = tuple(lv for lv in ("force", "lad", "ward") if lv in levels)
    if data.run.area_level == "lad":
        change_levels = ("force", "lad")
    written = []
    write_table(table, out, REPORT, "crime_by_area")
    written.append("crime_by_area")
    write_table(change_by_area(table, data.window_months, change_levels), out, REPORT, "change")
    written.append("change")
    spots = data.hotspots
    write_table(
        pd.DataFrame(spots.drop(columns="geometry"))[
            [
                "area_code",
                "area_name",
                "count",
                "population",
                "rate_per_1000",
                "gi_z",
                "gi_p",
                "hotspot",
            ]
        ],
        out,
        REPORT,
        "hotspots",
    )
    written.append("hotspots")
    comparison = forces_comparison(data)
    if not comparison.empty:
        write_table(comparison, out, REPORT, "force_comparison")
        written.append("force_comparison")
    write_table(data_quality_table(data), out, REPORT, "data_quality")
    written.append("data_quality")
    return [out / "tables" / REPORT / f"{name}.csv" for name in written]


def quality_and_tables(data: CrimeByAreaData) -> HTML:
    """Section 6: the data-quality table for the months used and the list of published CSVs."""
    paths = publish_tables(data)
    quality = data_quality_table(data)
    report = tables.report_table(
        quality,
        columns={
            "month": "Month",
            "rows": "Rows",
            "asb_rows": "ASB rows",
            "no_location_rows": "No location",
            "outside_force_rows": "Outside force area",
            "duplicate_crime_ids": "Duplicate Crime IDs",
            "rows_quarantined": "Quarantined",
            "lsoa_vintage": "LSOA vintage",
        },
        caption=f"Street-level data quality, {data.force_name}, months used in this report",
        counts=[
            "rows",
            "asb_rows",
            "no_location_rows",
            "outside_force_rows",
            "duplicate_crime_ids",
            "rows_quarantined",
        ],
        notes=[
            "No location: crimes published without a map point (in the force count, in no area). "
            "Outside force area: crimes whose snapped point lies outside the force's local "
            "authorities (in the force count, in no area of the force). Quarantined: rows the "
            "ingest could not use (reason in the store's quarantine table).",
        ],
    )
    listing = "Published tables (CSV): " + ", ".join(p.name for p in paths) + "."
    return combine(report, listing)


# --------------------------------------------------------------------------- display helper


def combine(*parts: object) -> HTML:
    """One HTML block from report tables, charts (their accessible HTML: alt text, caption)
    and plain sentences (escaped into paragraphs)."""
    chunks = []
    for part in parts:
        if isinstance(part, str):
            chunks.append(f"<p>{html.escape(part)}</p>")
        elif hasattr(part, "_repr_html_"):
            chunks.append(part._repr_html_())
        else:
            raise TypeError(f"cannot display {type(part).__name__} in a report section")
    return HTML("\n".join(chunks))


__all__ = [
    "CrimeByAreaData",
    "area_counts",
    "area_populations",
    "change_by_area",
    "counts_and_rates",
    "crime_by_area_table",
    "data_quality_table",
    "force_comparison_table",
    "forces_comparison",
    "headline",
    "headline_changes",
    "load",
    "maps_and_hotspots",
    "missing_data_reason",
    "monthly_series",
    "neighbouring_forces",
    "publish_tables",
    "quality_and_tables",
    "spc_results",
    "trends",
    "window_days",
]
