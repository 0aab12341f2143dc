"""Justice outcomes: the sections the notebook shows (metrics in, :class:`Section` out).

Each function takes the frame of one metric (see :mod:`.metrics`) and the report's
:class:`~analysis.reports.justice_outcomes.data.JusticeData` for context (period, outcome
months held); none reads the store or writes a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis import reports
from analysis.charts import line_chart
from analysis.params import months_missing_between
from analysis.reports.justice_outcomes.metrics import (
    ALL_CRIME,
    CAUTION,
    CHARGED,
    COMMUNITY,
    GROUP_ORDER,
    NO_SUSPECT,
    PENDING,
    POSITIVE,
    POSITIVE_GROUPS,
    SOURCE,
    UNABLE,
)
from analysis.section import Section, WebOnly, published_section
from analysis.stats import wilson_interval
from analysis.tables import format_count, format_rate, report_table

if TYPE_CHECKING:
    from analysis.reports.justice_outcomes.data import JusticeData

__all__ = [
    "headline",
    "months_since",
    "outcome_groups",
    "positive_rates",
    "published",
    "time_to_charge",
]


def _percent_interval(share: float, low: float, high: float) -> str:
    """``"5.8%, 95% CI 5.5–6.0%"`` from fractions."""
    return (
        f"{format_rate(100 * share)}%, 95% CI {format_rate(100 * low)}\u2013"
        f"{format_rate(100 * high)}%"
    )


def headline(figures: pd.DataFrame, data: JusticeData) -> Section:
    """Headline sentences from :func:`~.metrics.headline_figures`: the positive outcome rate
    and the no-suspect and open shares of the quarter's crimes (95% Wilson intervals), with the
    outcome month the picture runs to."""
    rows = figures.set_index("measure")
    last = figures.attrs.get("last_outcome_month") or "none"
    positive, no_suspect, pending = rows.loc[POSITIVE], rows.loc[NO_SUSPECT], rows.loc[PENDING]
    findings = [
        f"**Positive outcomes:** of {format_count(positive['crimes'])} crimes recorded in "
        f"{data.run.period.label()}, {format_count(positive['count'])} "
        f"({_percent_interval(positive['share'], positive['low'], positive['high'])}) had a "
        "charge or summons, caution or other out-of-court disposal by the latest "
        f"outcomes file ({last}).",
        f"**No suspect identified:** {format_count(no_suspect['count'])} "
        f"({_percent_interval(no_suspect['share'], no_suspect['low'], no_suspect['high'])}).",
        f"**Still open or status unavailable:** {format_count(pending['count'])} "
        f"({_percent_interval(pending['share'], pending['low'], pending['high'])}); these "
        "crimes may yet reach an outcome, so the quarter's positive rate will rise.",
    ]
    return Section("Headline", findings=findings)


def _notes(data: JusticeData) -> list[str]:
    last = max(data.outcome_months) if data.outcome_months else "none"
    return [
        "Latest outcome: the outcome record (data.police.uk outcomes files) with the latest "
        f"outcome month up to {last}, joined by Crime ID; crimes with none are 'Under "
        "investigation or status unavailable'. ASB has no outcomes and is excluded.",
        "Positive outcome = " + ", ".join(POSITIVE_GROUPS) + ". 95% Wilson intervals.",
        f"{data.unmatched_outcomes:,} outcome records of the force refer to crimes in no "
        "street file held (recorded before the first month held, or in a missing month) and "
        "are not counted.",
    ] + _gap_note(data)


def _gap_note(data: JusticeData) -> list[str]:
    """A note naming outcome months missing inside the range held (their outcomes are lost)."""
    gaps = months_missing_between(list(data.outcome_months))
    if not gaps:
        return []
    return [
        f"Outcomes files missing from the data held: {', '.join(gaps)}; outcomes recorded in those "
        "months are not seen, which lowers the rates of crimes from the months before."
    ]


NO_FURTHER_ACTION = "No further action (including no suspect identified)"
"""Display group merging :data:`~.metrics.UNABLE` and :data:`~.metrics.NO_SUSPECT`."""

DISPLAY_GROUPS = {
    CHARGED: CHARGED,
    CAUTION: CAUTION,
    COMMUNITY: COMMUNITY,
    UNABLE: NO_FURTHER_ACTION,
    NO_SUSPECT: NO_FURTHER_ACTION,
    PENDING: PENDING,
}
"""Outcome group -> column of the table shown (the published CSV keeps all six groups)."""


def recording_caveat(rates: pd.DataFrame) -> str:
    """Why the table shows one "no further action" column: the quarter's force shares of
    "unable to prosecute or no further action" and "no suspect identified" (all crime)."""
    cell = rates[
        (rates["window"] == "quarter")
        & (rates["area_level"] == "force")
        & (rates["crime_type"] == ALL_CRIME)
    ].set_index("outcome_group")
    unable, none = cell.loc[UNABLE], cell.loc[NO_SUSPECT]
    return (
        "The outcomes files barely use 'unable to prosecute or no further action': "
        f"{format_count(unable['count'])} of {format_count(unable['crimes'])} crimes of the "
        f"quarter ({format_rate(100 * unable['share'])}%), against "
        f"{format_count(none['count'])} ({format_rate(100 * none['share'])}%) closed with "
        "'no suspect identified'. Cases closed with no further action against a known suspect "
        "appear to be recorded under 'no suspect identified' too, so the two are shown here "
        "as one group; the published table keeps the six groups as recorded."
    )


def outcome_groups(rates: pd.DataFrame, data: JusticeData) -> Section:
    """Latest outcome of the quarter's crimes by crime type (force rows of
    :func:`~.metrics.outcome_rates`): share of the type's crimes with 95% Wilson intervals,
    "unable to prosecute" and "no suspect identified" merged into one column
    (:data:`NO_FURTHER_ACTION`; see :func:`recording_caveat`)."""
    part = rates[(rates["window"] == "quarter") & (rates["area_level"] == "force")].copy()
    part["shown"] = part["outcome_group"].map(DISPLAY_GROUPS)
    counts = part.pivot_table(
        index="crime_type", columns="shown", values="count", aggfunc="sum", sort=False
    )
    crimes = part.groupby("crime_type", sort=False)["crimes"].first()
    out = pd.DataFrame({"crime_type": counts.index, "crimes": crimes.reindex(counts.index).values})
    intervals = []
    shown_order = list(dict.fromkeys(DISPLAY_GROUPS[g] for g in GROUP_ORDER))
    for i, group in enumerate(shown_order):
        ci = wilson_interval(counts[group].to_numpy(), out["crimes"].to_numpy())
        for stat in ("share", "low", "high"):
            out[f"{stat}_{i}"] = 100 * ci[stat].to_numpy()
        intervals.append((f"share_{i}", f"low_{i}", f"high_{i}", f"{group} % (95% CI)"))
    caveat = recording_caveat(rates)
    table = report_table(
        out,
        columns={"crime_type": "Crime type", "crimes": "Crimes recorded"},
        caption=(
            f"Latest outcome of crimes recorded in {data.run.period.label()}, by crime type "
            "(percent of the type's crimes)"
        ),
        intervals=intervals,
        counts=["crimes"],
        notes=_notes(data),
    )
    return Section("Latest outcome by crime type", items=[table], caveats=[caveat])


def positive_rates(rates: pd.DataFrame, data: JusticeData) -> Section:
    """Positive outcome rate by local authority, quarter and 12 months (from
    :func:`~.metrics.positive_rates`)."""
    q = rates[rates["window"] == "quarter"].set_index("area_code")
    y = rates[rates["window"] == "12m"].set_index("area_code")
    out = pd.DataFrame(
        {
            "area_name": q["area_name"],
            "q_crimes": q["crimes"],
            "q_share": 100 * q["share"],
            "q_low": 100 * q["share_low"],
            "q_high": 100 * q["share_high"],
            "y_crimes": y["crimes"],
            "y_share": 100 * y["share"],
            "y_low": 100 * y["share_low"],
            "y_high": 100 * y["share_high"],
        }
    ).reset_index(drop=True)
    table = report_table(
        out,
        columns={
            "area_name": "Area",
            "q_crimes": "Crimes, quarter",
            "y_crimes": "Crimes, 12 months",
        },
        caption=(
            "Positive outcome rate by local authority: crimes recorded in "
            f"{data.run.period.label()} and in the 12 months to its end"
        ),
        intervals=[
            ("q_share", "q_low", "q_high", "Positive outcome %, quarter (95% CI)"),
            ("y_share", "y_low", "y_high", "Positive outcome %, 12 months (95% CI)"),
        ],
        counts=["q_crimes", "y_crimes"],
        notes=_notes(data)
        + [
            "Area: the local authority (LAD 2024) of the crime's snapped location; the force "
            "row also holds crimes with no location or snapped outside the force.",
            "Recent crimes have had less time to reach an outcome: compare areas within a "
            "window, not the quarter with the 12 months.",
        ],
    )
    return Section("Positive outcome rate by local authority", items=[table])


MONTHS_SINCE_LAGS = (0, 1, 3, 6, 12)
"""Follow-up times (months since the crime month) drawn as lines by :func:`months_since`."""


def months_since(
    cumulative: pd.DataFrame, lags: tuple[int, ...] = MONTHS_SINCE_LAGS, quarter=None
) -> Section:
    """Line chart: positive outcome rate by crime month, one line per follow-up time.

    ``cumulative`` is :func:`~.metrics.positive_by_months_since` with ``cohort="month"`` and
    ``max_lag`` at least ``max(lags)``. Each line is the share of the crimes of each crime
    month with a positive outcome recorded within k months (k in ``lags``), so points on one
    line compare like with like; a line stops where the outcomes files end. With ``quarter``
    the reported quarter is shaded and no crime month after it is drawn; a missing crime
    month is a gap in each line.
    """
    table = cumulative[cumulative["months_since"].isin(lags)].copy()
    table["positive_pct"] = 100 * table["share"]
    names = {k: "same month" if k == 0 else f"within {k} month{'s' if k > 1 else ''}" for k in lags}
    table["Positive outcome recorded"] = table["months_since"].map(names)
    table = table.sort_values(["months_since", "cohort"])
    chart = line_chart(
        table,
        x="cohort",
        y="positive_pct",
        title="Crimes with a positive outcome, by crime month and time allowed for the outcome",
        y_label="Crimes with a positive outcome (%)",
        source=SOURCE,
        hue="Positive outcome recorded",
        quarter=quarter,
    )
    chart.data = table.reset_index(drop=True)
    return Section("Positive outcome rate by crime month and months since the crime", items=[chart])


def _months(value: float) -> str:
    if pd.isna(value):
        return "not reached"
    return "more than the follow-up" if value == float("inf") else f"{value:.0f}"


def time_to_charge(
    table: pd.DataFrame, km: pd.DataFrame, quality: pd.DataFrame, data: JusticeData
) -> Section:
    """Time from crime to charge: Kaplan-Meier medians with 95% intervals (from
    :func:`~.metrics.time_to_charge_km`), the months-to-charge bands of the charges seen so far
    (:func:`~.metrics.time_to_charge`) and the data-quality table
    (:func:`~.metrics.data_quality`)."""
    shown_km = km.assign(
        median_text=[_months(v) for v in km["median"]],
        flag=km["flag"].where(~km["flag"].astype(str).str.startswith("median not reached"), ""),
        interval=[
            "" if pd.isna(m) else f"{_months(lo)} to {_months(hi)}"
            for m, lo, hi in zip(km["median"], km["low"], km["high"], strict=True)
        ],
    )
    km_table = report_table(
        shown_km[["crime_type", "events", "censored", "median_text", "interval", "flag"]],
        columns={
            "crime_type": "Crime type",
            "events": "Charged",
            "censored": "Still open",
            "median_text": "Median months to charge",
            "interval": "95% interval (months)",
            "flag": "Note",
        },
        caption=(
            "Median time from crime to charge or summons (Kaplan-Meier), crimes recorded in "
            f"the 12 months to the end of {data.run.period.label()}"
        ),
        counts=["events", "censored"],
        notes=[
            "Crimes that were charged, or are still open (their time runs to the last outcomes "
            "file held and is counted as 'not yet charged'). Crimes closed without a charge "
            "are left out. The Kaplan-Meier method allows for the open crimes, so the median "
            "is not biased towards quick charges as a median of the charges seen so far is.",
            "Months are whole calendar months from the crime month to the month of the first "
            "charge outcome. Crime types with fewer than 10 charges have no median.",
        ],
    )
    out = table.assign(share=100 * table["share"], low=100 * table["low"], high=100 * table["high"])
    negative = int(table.attrs.get("negative_lags", 0))
    band_notes = [
        f"{int(table['charged'].iloc[0]):,} charged crimes. Outcomes after the last outcomes "
        "file held are not yet seen, so recent crimes can only show short times: use the "
        "median above (where it can be estimated), not these shares, for how long charges "
        "take."
    ]
    if negative:
        band_notes.append(
            f"{negative:,} charge outcomes are dated before the month of their crime (a fault "
            "in the source files) and are left out."
        )
    bands = report_table(
        out,
        columns={"band": "Months from crime month to charge", "count": "Charged crimes"},
        caption="Charges seen so far, by months from crime to charge",
        intervals=[("share", "low", "high", "% of charged crimes (95% CI)")],
        counts=["count"],
        notes=band_notes,
    )
    quality_table = report_table(
        quality,
        columns={"issue": "Data-quality issue", "count": "Records", "treatment": "Treatment"},
        caption="Data-quality issues in the outcomes files",
        counts=["count"],
    )
    overall = km.iloc[0]
    findings = [
        f"Half of the crimes that were charged were charged within {_months(overall['median'])} "
        f"months of the crime (95% interval {_months(overall['low'])} to "
        f"{_months(overall['high'])} months), allowing for {int(overall['censored']):,} "
        "crimes still open."
        if pd.notna(overall["median"])
        else f"Fewer than half of the {int(overall['n']):,} crimes that were charged or are "
        f"still open had been charged by the last outcomes file ({int(overall['events']):,} "
        "charged), so the median time to charge cannot be estimated yet: most open crimes "
        "have no outcome record at all."
    ]
    caveats = []
    if negative:
        caveats.append(
            f"{negative:,} charge outcomes are dated before the month of their crime; they are "
            "treated as data-quality faults, left out of the time to charge and listed in the "
            "data-quality table."
        )
    return Section(
        "Time from crime to charge",
        findings=findings,
        items=[
            WebOnly(
                km_table,
                "The median time to charge of every crime type is tabled in the web edition of this report.",
            ),
            bands,
            quality_table,
        ],
        caveats=caveats,
    )


def published(tables: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns), from
    :func:`~.metrics.published_tables`."""
    return published_section(tables, reports.get("justice_outcomes").notebook)
