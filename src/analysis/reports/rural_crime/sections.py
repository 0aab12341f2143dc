"""Rural crime: the sections the notebook shows (metrics in, :class:`Section` out).

Each function takes the frame of one metric (see :mod:`.metrics`) and, where it needs the
period or the months held, the report's :class:`~analysis.reports.rural_crime.data.RuralData`;
none reads the store or writes a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import reports
from analysis.charts import choropleth, spc_chart
from analysis.errors import CrimeplanError
from analysis.params import months_missing_between
from analysis.reports.rural_crime.metrics import (
    RURAL_POWERS,
    RURAL_SERIES,
    SOURCE,
    report_windows,
    twelve_month_window,
)
from analysis.section import Section, published_section
from analysis.stats import spc_verdict
from analysis.tables import format_interval, report_table

if TYPE_CHECKING:
    from analysis.reports.rural_crime.data import RuralData

__all__ = [
    "class_rates",
    "months_note",
    "published",
    "rural_map",
    "rural_powers",
    "rural_spc",
    "rural_types",
]


def months_note(data: RuralData) -> str:
    """Which months the quarter and the 12-month window hold, and what is done when one is
    missing (counts cover the months held; 12-month rates are annualised)."""
    present = set(data.street_months)
    quarter_missing = [m for m in data.run.period.months if m not in present]
    year = twelve_month_window(data)
    parts = [f"The 12-month window holds {year.label}."]
    if year.missing:
        parts.append(
            f"Its counts cover the {len(year.held)} months held and its rates are annualised "
            f"(× 12 / {len(year.held)}), as if the missing month had the average of the others."
        )
    if quarter_missing:
        parts.append(f"The quarter lacks {', '.join(quarter_missing)}.")
    return " ".join(parts)


def _verdict_text(row: pd.Series) -> str:
    """The verdict of a row (``verdict``, decided on the adjusted p-value), capitalised; the
    p-values themselves are in the published table, not on the page."""
    text = str(row["verdict"])
    return text[:1].upper() + text[1:]


CHANGE_NOTE = (
    "Change: the same months a year apart, allowing for each series' own month-to-month "
    "variation (which is far larger than chance alone) and for the season; a missing month "
    "drops its pair. 'Statistically significant' allows for the number of tests in this "
    "report (false discovery rate 5%); the p-values are in the published table."
)


def class_rates(rates: pd.DataFrame, data: RuralData) -> Section:
    """All crime (excluding ASB) by RUC 2021 class, quarter and 12 months, with the change on
    the same quarter a year earlier (from :func:`~.metrics.class_rates`). The unclassified row
    is given in a note."""
    out = rates.set_index("ruc_class")
    out["change"] = out.apply(lambda r: "" if pd.isna(r["verdict"]) else _verdict_text(r), axis=1)
    notes = [
        "Count: street-level crimes (data.police.uk) whose snapped location lies in an "
        "LSOA 2021 of the class (ONS RUC 2021); denominator: Census 2021 usual residents "
        "of those LSOAs. 95% Poisson intervals.",
        CHANGE_NOTE,
    ]
    if "UNCLASSIFIED" in out.index:
        unclassified = out.loc["UNCLASSIFIED"]
        notes.append(
            f"Not classified (no location, or snapped outside the force's LSOAs): "
            f"{int(unclassified['q_count']):,} crimes in the quarter, "
            f"{int(unclassified['y_count']):,} in the 12 months."
        )
        out = out.drop(index="UNCLASSIFIED")
    notes.append(months_note(data))
    table = report_table(
        out.reset_index(drop=True),
        columns={
            "ruc_label": "Rural-urban class (RUC 2021)",
            "population": "Residents (Census 2021)",
            "q_count": "Crimes, quarter",
            "q_rate": "",
            "y_count": "Crimes, 12 months (months held)",
            "y_rate": "",
            "change": "Quarter vs same quarter a year earlier",
        },
        caption=(
            f"Crime (excluding ASB) by rural-urban class, {data.run.period.label()} and the "
            "12 months to its end; rates per 1,000 residents with 95% intervals"
        ),
        intervals=[
            ("q_rate", "q_low", "q_high", "Rate per 1,000, quarter (95% CI)"),
            ("y_rate", "y_low", "y_high", "Rate per 1,000 a year, 12 months (95% CI)"),
        ],
        counts=["population", "q_count", "y_count"],
        notes=notes,
    )
    return Section("Crime by rural-urban class", items=[table])


def rural_types(types: pd.DataFrame, data: RuralData) -> Section:
    """Crime types in rural LSOAs over the 12 months (from :func:`~.metrics.rural_types`):
    count, rate per 1,000 rural residents, location quotient against the force and the change
    on the previous 12 months, in the order given."""
    shown = types.assign(change=types.apply(_verdict_text, axis=1))
    table = report_table(
        shown,
        columns={
            "crime_type": "Crime type",
            "count": "Crimes in rural LSOAs, 12 months",
            "rate_per_1000": "",
            "location_quotient": "",
            "change": "12 months vs previous 12 months",
        },
        caption=(
            "Crime types in rural LSOAs, 12 months to the end of "
            f"{data.run.period.label()}: rates, location quotients and change"
        ),
        intervals=[
            (
                "rate_per_1000",
                "rate_low",
                "rate_high",
                "Rate per 1,000 rural residents a year (95% CI)",
            ),  # fmt: skip
            ("location_quotient", "lq_low", "lq_high", "Location quotient vs force (95% CI)"),
        ],
        counts=["count"],
        notes=[
            "Location quotient = (type's share of rural crime) / (type's share of the force's "
            "located crime); above 1 = over-represented in rural areas. 95% interval: log-scale "
            "delta method allowing for rural crime being part of the force total.",
            CHANGE_NOTE + " " + months_note(data),
            "ASB is not a crime and is left out here; rural ASB is in the SPC section and "
            "the published table.",
        ],
        digits=2,
    )
    return Section("Crime types in rural areas", items=[table])


def rural_map(lsoa_rates: pd.DataFrame, data: RuralData) -> Section:
    """Map: crime (excluding ASB) per 1,000 residents in each rural LSOA, 12 months (from
    :func:`~.metrics.lsoa_rates`), drawn on the LSOA boundaries held in ``data``.

    Only rural LSOAs are coloured (natural breaks, up to 5 classes); local-authority
    boundaries are drawn on top, so Northumberland fills the frame at a readable scale.

    Raises
    ------
    CrimeplanError
        When the store held no LSOA boundaries.
    """
    if data.boundaries is None:
        raise CrimeplanError("the processed store has no LSOA boundaries for the rural map")
    gdf = data.boundaries.merge(lsoa_rates, left_on="code", right_on="lsoa21_code", how="inner")
    k = int(min(5, max(2, gdf["rate_per_1000"].nunique())))
    chart = choropleth(
        gdf,
        "rate_per_1000",
        title=map_title(lsoa_rates, data),
        source=SOURCE + "; ONS LSOA 2021 boundaries",
        k=k,
        outline=data.lad_boundaries,
        label="lsoa21_name",
        legend_title="Crimes per 1,000 residents a year",
        lad_column="lad_name",
        unshaded_label="Urban areas (not shaded)",
    )
    chart.data = pd.DataFrame(gdf.drop(columns="geometry"))
    return Section("Map of crime in rural LSOAs", items=[chart])


def map_title(lsoa_rates: pd.DataFrame, data: RuralData) -> str:
    """The map's finding: the local authority whose rural LSOAs have the highest rate (crimes
    ÷ residents of its rural LSOAs, annualised like the LSOA rates) and the force's rural rate."""
    by_lad = lsoa_rates.groupby("lad_name")[["count", "population"]].sum()
    factor = (lsoa_rates["rate_per_1000"] / (lsoa_rates["count"] / lsoa_rates["population"]
              * 1000)).dropna()  # fmt: skip
    scale = float(factor.iloc[0]) if len(factor) else 1.0
    rates = by_lad["count"] / by_lad["population"] * 1000 * scale
    overall = lsoa_rates["count"].sum() / lsoa_rates["population"].sum() * 1000 * scale
    window_text = twelve_month_window(data).label
    if rates.empty or not np.isfinite(overall):
        return f"Crime in rural LSOAs, {window_text}"
    top = rates.idxmax()
    return (
        f"Rural crime is highest in {top}'s rural areas ({rates.max():.0f} per 1,000 residents "
        f"a year; all rural areas {overall:.0f}), {window_text}"
    )


def spc_title(measure: str, xmr: pd.DataFrame, quarter) -> str:
    """A control chart's finding for the reported quarter, in words: above or below the
    usual range (outside the limits), a run or trend, or within the usual range."""
    label = quarter.label() if hasattr(quarter, "label") else str(quarter)
    months = set(quarter.months) if hasattr(quarter, "months") else set()
    part = xmr[[str(i) in months for i in xmr.index]]
    part = part[~part["missing"] & ~part["excluded"]] if "missing" in part else part
    if part.empty:
        return f"{measure}: no months of {label} to judge"
    high = part["rule_outside"] & (part["value"] > part["ucl"])
    low = part["rule_outside"] & (part["value"] < part["lcl"])
    if high.any():
        return f"{measure} rose above its usual range in {label}"
    if low.any():
        return f"{measure} fell below its usual range in {label}"
    if part["special_cause"].any():
        side = "above" if (part["value"] > part["centre"]).mean() >= 0.5 else "below"
        return f"{measure} ran {side} its average in {label}: a sustained change"
    return f"{measure} stayed within its usual range in {label}"


def rural_spc(xmr: pd.DataFrame, data: RuralData | None = None) -> Section:
    """XmR charts of monthly rural crime and rural ASB (from :func:`~.metrics.rural_xmr`),
    with one verdict sentence each (:func:`analysis.stats.spc_verdict`) and the months absent
    from the store."""
    title = "Monthly rural crime and ASB (statistical process control)"
    if xmr.empty:
        return Section(
            title, items=["Fewer than two months of street-level crime are held: no SPC chart."]
        )
    findings, items = [], []
    for column, (measure, unit) in RURAL_SERIES.items():
        part = xmr[xmr["series"] == column].drop(columns="series").set_index("month")
        if part.empty:
            continue
        quarter = data.run.period if data is not None else None
        chart = spc_chart(
            part,
            title=spc_title(measure, part, quarter) if quarter else f"{measure}, by month",
            y_label=unit,
            source="data.police.uk street-level crime; ONS RUC 2021",
            quarter=quarter,
        )
        chart.data = part
        findings.append(spc_verdict(part, measure))
        items.append(chart)
    months = sorted(set(xmr["month"]))
    gaps = ", ".join(months_missing_between(months))
    if gaps:
        items.append(f"Months with no published data (a gap in the line, not bridged): {gaps}.")
    return Section(title, findings=findings, items=items)


def rural_powers(searches: pd.DataFrame, data: RuralData) -> Section:
    """Stop and search under rural powers and in rural LSOAs (from
    :func:`~.metrics.rural_power_searches`, whose docstring gives the definitions)."""
    table = searches.copy()
    table["rate"] = [
        format_interval(r, lo, hi, digits=2, missing="")
        for r, lo, hi in zip(
            table["rate_per_1000"], table["rate_low"], table["rate_high"], strict=True
        )
    ]
    present = [m for m in report_windows(data.run.period)["12m"] if m in set(data.search_months)]
    shown = report_table(
        table,
        columns={
            "measure": "Searches",
            "quarter": f"{data.run.period.label()}",
            "twelve_months": "12 months",
            "rate": "Per 1,000 residents a year, 12 months (95% CI)",
        },
        caption="Stop and search under rural and wildlife powers, and searches in rural LSOAs",
        counts=["quarter", "twelve_months"],
        notes=[
            "Rural powers: " + ", ".join(RURAL_POWERS.values()) + " (only those used are listed).",
            "Location: the search's point in an LSOA 2021 of a rural RUC 2021 class; "
            "denominator: Census 2021 residents of those LSOAs.",
            f"Stop-and-search months held for the 12 months: {len(present)} of 12"
            + (
                f"; rates are annualised (× 12 / {len(present)})." if 0 < len(present) < 12 else "."
            ),
        ],
    )
    return Section("Stop and search under rural powers", items=[shown])


def published(tables: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns), from
    :func:`~.metrics.published_tables`."""
    return published_section(tables, reports.get("rural_crime").notebook)
