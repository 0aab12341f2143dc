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
    GROUP_ORDER,
    NO_SUSPECT,
    PENDING,
    POSITIVE,
    POSITIVE_GROUPS,
    SOURCE,
)
from analysis.section import Section, published_section
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
        f"Outcomes files missing from the store: {', '.join(gaps)}; outcomes recorded in those "
        "months are not seen, which lowers the rates of crimes from the months before."
    ]


def outcome_groups(rates: pd.DataFrame, data: JusticeData) -> Section:
    """Latest outcome group of the quarter's crimes by crime type (force rows of
    :func:`~.metrics.outcome_rates`): share of the type's crimes with 95% Wilson intervals."""
    part = rates[(rates["window"] == "quarter") & (rates["area_level"] == "force")]
    wide = part.pivot_table(
        index="crime_type", columns="outcome_group", values=["share", "low", "high"], sort=False
    )
    out = pd.DataFrame({"crime_type": wide.index})
    out["crimes"] = part.groupby("crime_type", sort=False)["crimes"].first().to_numpy()
    intervals = []
    for i, group in enumerate(GROUP_ORDER):
        for stat in ("share", "low", "high"):
            out[f"{stat}_{i}"] = 100 * wide[(stat, group)].to_numpy()
        intervals.append((f"share_{i}", f"low_{i}", f"high_{i}", f"{group} % (95% CI)"))
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
    return Section("Latest outcome by crime type", items=[table])


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


def months_since(cumulative: pd.DataFrame, lags: tuple[int, ...] = MONTHS_SINCE_LAGS) -> Section:
    """Line chart: positive outcome rate by crime month, one line per follow-up time.

    ``cumulative`` is :func:`~.metrics.positive_by_months_since` with ``cohort="month"`` and
    ``max_lag`` at least ``max(lags)``. Each line is the share of the crimes of each crime
    month with a positive outcome recorded within k months (k in ``lags``), so points on one
    line compare like with like; a line stops where the outcomes files end.
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
    )
    chart.data = table.reset_index(drop=True)
    return Section("Positive outcome rate by crime month and months since the crime", items=[chart])


def time_to_charge(table: pd.DataFrame, data: JusticeData) -> Section:
    """Months from crime to first charge for charged crimes of the 12 months (from
    :func:`~.metrics.time_to_charge`; median and quartiles from its ``attrs``)."""
    median = table.attrs["median"]
    q1, q3 = table.attrs["quartiles"]
    out = table.assign(share=100 * table["share"], low=100 * table["low"], high=100 * table["high"])
    shown = report_table(
        out,
        columns={"band": "Months from crime month to charge", "count": "Charged crimes"},
        caption=(
            "Time from crime to charge or summons, crimes recorded in the 12 months to the end "
            f"of {data.run.period.label()}"
        ),
        intervals=[("share", "low", "high", "% of charged crimes (95% CI)")],
        counts=["count"],
        notes=[
            f"Median {median:.0f} months (quartiles {q1:.0f} to {q3:.0f}) among "
            f"{int(table['charged'].iloc[0]):,} charged crimes.",
            "Months are whole calendar months between the crime month and the first "
            "outcome month of a charge-group record; outcomes after the last outcomes file "
            "held are not yet seen, so recent crimes can only show short times.",
        ],
    )
    return Section("Time from crime to charge", items=[shown])


def published(tables: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns), from
    :func:`~.metrics.published_tables`."""
    return published_section(tables, reports.get("justice_outcomes").notebook)
