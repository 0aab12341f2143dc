"""Report 01 sections: turn the metrics into :class:`analysis.section.Section` objects.

Each function takes the metric frame its notebook cell computed (an analyst may filter it and
call the function again) and the report's data for context (run, names, boundaries). None
reads the store or writes a file.
"""

from __future__ import annotations

import pandas as pd

from analysis import charts, tables
from analysis.params import Quarter, months_missing_between
from analysis.reports import hotspots as hs
from analysis.section import Section

from . import metrics as m
from .data import CrimeByAreaData

__all__ = [
    "counts_and_rates",
    "data_quality",
    "headline",
    "maps_and_hotspots",
    "neighbouring_forces",
    "published",
    "trends",
]

BNG = "EPSG:27700"
MAP_SCHEME = "Quantiles"
"""Map classes: quintiles (each shade holds a fifth of the areas). Natural breaks (Jenks)
takes several seconds per map without numba and adds little for such skewed rates."""
AREA_WORDS = {"lsoa": ("LSOA", "ONS LSOA 2021"), "ward": ("ward", "ONS wards (May 2024)")}


def _period_of(window: str, quarter: Quarter) -> Quarter:
    return {
        "quarter": quarter,
        "previous_quarter": quarter.previous,
        "year_earlier_quarter": quarter.year_earlier,
    }[window]


def _short_list(names: list[str], limit: int = 8) -> str:
    names = sorted(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


# --------------------------------------------------------------------------- 1: headline


def headline(changes: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Headline: crime (excluding ASB), ASB and burglary in the quarter against the previous
    quarter and the same quarter a year earlier (``changes``: :func:`.metrics.headline_changes`),
    then the force's crime and ASB rates per 1,000 residents."""
    q = data.quarter
    label = {
        m.ALL_CRIME: "All crime (excluding anti-social behaviour)",
        m.ASB: "Anti-social behaviour incidents",
        "Burglary": "Burglary",
    }
    findings = []
    for measure in m.HEADLINE_MEASURES:
        for row in changes[changes["measure"] == measure].itertuples():
            before = _period_of(row.comparison, q)
            findings.append(
                tables.headline_change(label[measure], row.test, q.label(), before.label())
            )
    for window in data.missing_windows:
        findings.append(
            f"No comparison with {_period_of(window, q).label()}: the store does not hold all "
            "three months of that quarter."
        )
    rates = m.crime_by_area_table(data, ("force",))
    rates = rates[(rates["window"] == "quarter") & rates["crime_type"].isin([m.ALL_CRIME, m.ASB])]
    for row in rates.itertuples():
        what = "Crimes (excluding ASB)" if row.crime_type == m.ALL_CRIME else "ASB incidents"
        findings.append(
            tables.headline_rate(
                f"{what}, {data.force_name}",
                row.rate_per_1000,
                row.rate_low,
                row.rate_high,
                q.label(),
                per=f"per 1,000 residents (of {tables.format_count(row.population)}, Census 2021)",
                count=row.count,
            )
        )
    return Section(
        title=f"{data.force_name}, {q.label()}: crime and anti-social behaviour",
        findings=findings,
        caveats=[
            "Anti-social behaviour is reported separately from crime.",
            "Changes are tested with an exact Poisson test allowing for the number of days in "
            'each quarter; "no evidence of change" means the difference is within what chance '
            "alone would often produce.",
        ],
    )


# --------------------------------------------------------------------------- 2: counts and rates


def rates_table(rates: pd.DataFrame, data: CrimeByAreaData) -> tables.ReportTable:
    """Counts and rates per 1,000 residents with 95% intervals (``rates``:
    :func:`.metrics.rates_by_area`), with the change on the same quarter a year earlier."""
    return tables.report_table(
        rates,
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
            f"{m.RATE_SOURCE}. Every category, ward and (on request) LSOA is in crime_by_area.csv.",
        ],
    )


def funnel_chart(funnel: pd.DataFrame, data: CrimeByAreaData, crime_type: str) -> charts.Chart:
    """Funnel plot of ward rates (``funnel``: :func:`.metrics.ward_funnel`), keeping its data."""
    chart = charts.funnel_plot(
        funnel,
        title=f"{crime_type} per 1,000 residents by ward, {data.quarter.label()}",
        x_label="Residents (Census 2021)",
        y_label="Rate per 1,000 residents",
        source=m.RATE_SOURCE,
        label="area_name",
    )
    chart.data = funnel
    return chart


def funnel_sentence(funnel: pd.DataFrame) -> str:
    """Plain-English reading of a ward funnel table (wards beyond the 99.8% limits)."""
    high = funnel[funnel["outside998"] & (funnel["value"] > funnel["target"])]["area_name"].tolist()
    low = funnel[funnel["outside998"] & (funnel["value"] < funnel["target"])]["area_name"].tolist()
    phi = funnel.attrs.get("phi", float("nan"))
    return (
        f"Pooled ward rate {funnel.attrs['target']:.1f} per 1,000 residents; limits allow for "
        f"over-dispersion (φ = {phi:.1f}). "
        f"{len(high)} of {len(funnel)} wards are above the 99.8% limit"
        + (f" ({_short_list(high)})" if high else "")
        + f" and {len(low)} below it"
        + (f" ({_short_list(low)})" if low else "")
        + "."
    )


def counts_and_rates(
    rates: pd.DataFrame, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME
) -> Section:
    """Section 2: the local-authority rates table (``rates``: :func:`.metrics.rates_by_area`)
    and the ward funnel plot of ``crime_type`` (:func:`.metrics.ward_funnel`)."""
    funnel = m.ward_funnel(data, crime_type)
    return Section(
        title="Counts and rates by area",
        findings=[funnel_sentence(funnel)],
        items=[rates_table(rates, data), funnel_chart(funnel, data, crime_type)],
    )


# --------------------------------------------------------------------------- 3: maps


def rate_map(data: CrimeByAreaData, level: str = "lsoa", crime_type: str = m.ALL_CRIME):
    """Choropleth of LSOA or ward rates per 1,000 residents in the quarter (quintile classes,
    force boundary drawn on top); the chart keeps :func:`.metrics.area_rates` as its data."""
    word, boundaries = AREA_WORDS[level]
    rates = m.area_rates(data, level, crime_type).to_crs(BNG)
    chart = charts.choropleth(
        rates,
        "rate_per_1000",
        title=f"{crime_type} per 1,000 residents by {word}, {data.quarter.label()}",
        source=f"{m.RATE_SOURCE}; boundaries {boundaries} (OS data © Crown copyright)",
        outline=data.force_outline.to_crs(BNG),
        scheme=MAP_SCHEME,
        label="area_name",
        legend_title="Rate per 1,000 residents",
    )
    chart.data = rates
    return chart


def hotspot_map(spots, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME) -> charts.Chart:
    """Map of the significant hot and cold spots of ``spots``
    (:func:`.metrics.lsoa_hotspots`), keeping them as its data."""
    drawn = spots.to_crs(BNG)
    chart = hs.hotspot_map(
        drawn,
        title=f"Hot and cold spots of {crime_type.lower()} per 1,000 residents, {data.quarter.label()}",
        source=(
            f"{m.RATE_SOURCE}; Getis-Ord Gi* (esda), {spots.attrs['permutations']:,} "
            "permutations, 5% false-discovery rate"
        ),
        outline=data.force_outline.to_crs(BNG),
    )
    chart.data = drawn
    return chart


def hotspot_sentence(spots: pd.DataFrame, lsoa: pd.DataFrame | None = None) -> str:
    """Plain-English summary of :func:`.metrics.lsoa_hotspots` output; with ``lsoa`` (the
    force's LSOA reference rows) it names the wards the hot and cold spots lie in."""
    n = hs.hotspot_summary(spots)
    a = spots.attrs
    text = (
        f"Getis-Ord Gi* of log(1 + rate) on {a.get('n_tested', 0)} LSOAs "
        f"({a.get('permutations', 0):,} permutations, two-sided, false-discovery rate "
        f"{a.get('alpha', 0.05):.0%}): {n[hs.HOT]} LSOAs are in significant hot spots and "
        f"{n[hs.COLD]} in significant cold spots."
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


def maps_and_hotspots(spots, data: CrimeByAreaData, crime_type: str = m.ALL_CRIME) -> Section:
    """Section 3: LSOA and ward rate maps of ``crime_type`` and the Gi* hot-spot map of
    ``spots`` (:func:`.metrics.lsoa_hotspots` of the same crime type)."""
    return Section(
        title="Maps and hot spots",
        findings=[hotspot_sentence(spots, data.lsoa)],
        items=[
            rate_map(data, "lsoa", crime_type),
            rate_map(data, "ward", crime_type),
            hotspot_map(spots, data, crime_type),
        ],
    )


# --------------------------------------------------------------------------- 4: trends


def _span(monthly: pd.DataFrame) -> str:
    months = sorted(monthly["month"].unique())
    if not months:
        return "no months"
    text = f"{months[0]} to {months[-1]} ({len(months)} months"
    gaps = months_missing_between(months)
    return text + (f"; not in the store: {', '.join(gaps)})" if gaps else ")")


def trends(spc: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 4: SPC verdicts table and XmR charts (``spc``: :func:`.metrics.spc_results`);
    each chart keeps its XmR frame as data."""
    verdicts = tables.report_table(
        spc[["measure", "area_name", "verdict"]],
        columns={"measure": "Measure", "area_name": "Area", "verdict": "Verdict"},
        caption=f"Special-cause variation in monthly counts, {_span(data.monthly)}",
        notes=[
            "XmR (individuals) chart: limits = mean ± 2.66 × mean moving range. Rules: a point "
            "outside the limits; 7 in a row on one side of the mean; 7 rises or falls in a row; "
            "2 of 3 beyond two thirds of the way to a limit.",
            "Months missing from the store are left out of the series, not treated as zero.",
            m.POLICE_SOURCE + ".",
        ],
    )
    items: list = [verdicts]
    for row in spc.itertuples():
        chart = charts.spc_chart(
            row.xmr,
            title=f"{row.measure}: monthly count, {row.area_name}",
            y_label=f"{row.measure} per month",
            source=m.POLICE_SOURCE,
        )
        chart.data = row.xmr
        items.append(chart)
    force = spc[spc["lad_code"].isna()]
    return Section(title="Monthly trends", findings=list(force["verdict"]), items=items)


# --------------------------------------------------------------------------- 5: other forces


def neighbouring_forces(comparison: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 5: crime rates by type against other forces for the same months
    (``comparison``: :func:`.metrics.forces_comparison`), or a plain statement that no other
    force has data for those months."""
    title = "Neighbouring forces"
    if comparison.empty:
        held = data.other_forces["force"].unique().tolist()
        partial = f" ({', '.join(sorted(held))} hold only some of these months)" if held else ""
        return Section(
            title=title,
            findings=[
                "No other force in the store has street-level data for all of "
                f"{data.quarter.label()}{partial}, so no force comparison is made for this "
                "quarter."
            ],
        )
    shown = comparison[comparison["crime_type"].isin(m.CALLED_OUT)].copy()
    chart = charts.bar_by_group(
        shown,
        x="crime_type",
        y="rate_per_1000",
        hue="force",
        low="rate_low",
        high="rate_high",
        title=f"Crimes per 1,000 residents by force, {data.quarter.label()}",
        source=(
            f"{m.POLICE_SOURCE}; residents: Census 2021 (ONS TS007) of each force's local "
            "authorities"
        ),
    )
    chart.data = shown
    report = tables.report_table(
        shown,
        columns={
            "crime_type": "Crime type",
            "force": "Force",
            "count": "Count",
            "population": "Residents (Census 2021)",
            "rate_per_1000": "Rate per 1,000",
        },
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% interval)")],
        caption=f"Crime rates by force, {data.quarter.label()}",
        counts=["count", "population"],
        notes=[
            "Force counts are every row of each force's street-level files for the three months. "
            "Differences in recording practice between forces affect these comparisons.",
        ],
    )
    return Section(title=title, items=[chart, report])


# --------------------------------------------------------------------------- 6: data quality


def data_quality(quality: pd.DataFrame, data: CrimeByAreaData) -> Section:
    """Section 6: the street-level data-quality table for the months used (``quality``:
    :func:`.metrics.data_quality_table`)."""
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
    return Section(title="Data quality", items=[report])


# --------------------------------------------------------------------------- published tables


def published(tables_: dict[str, pd.DataFrame]) -> Section:
    """The CSV files this report publishes (``tables_``: :func:`.metrics.published_tables`):
    file, rows and columns of each."""
    listing = pd.DataFrame(
        {
            "file": [f"{name}.csv" for name in tables_],
            "rows": [len(t) for t in tables_.values()],
            "columns": [", ".join(map(str, t.columns)) for t in tables_.values()],
        }
    )
    report = tables.report_table(
        listing,
        columns={"file": "File", "rows": "Rows", "columns": "Columns"},
        caption="Published tables (CSV)",
        counts=["rows"],
        notes=[
            "Counts are public data.police.uk counts of crimes, not of people, so no small-count "
            "suppression is applied. Definitions: analysis.reports.crime_by_area.metrics.",
        ],
    )
    return Section(
        title="Published tables",
        findings=[f"This report publishes {len(tables_)} tables: {', '.join(listing['file'])}."],
        items=[report],
    )
