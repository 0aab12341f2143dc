"""Plan scorecard sections: the scorecard table (from :func:`.metrics.scorecard_table`) turned
into :class:`analysis.section.Section` objects. Nothing here computes a figure, reads the store
or writes a file."""

from __future__ import annotations

import pandas as pd

from analysis import reports
from analysis.section import Section, published_section
from analysis.tables import report_table

from .data import ScorecardData
from .metrics import DETERIORATING, IMPROVING, NO_CHANGE, NO_DATA, NO_DATA_SUPPLIED

__all__ = ["caveats", "headline", "no_data", "published", "scorecard"]

REPORT_TITLES = {spec.notebook: f"report {spec.number}, {spec.title}" for spec in reports.REPORTS}


def _assessed(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] != NO_DATA_SUPPLIED]


def headline(table: pd.DataFrame, data: ScorecardData) -> Section:
    """How many indicators are improving, unchanged, deteriorating or without data, and
    which ones moved."""
    assessed = _assessed(table)
    counts = assessed["status"].value_counts()
    plan = data.plan["label"]
    findings = [
        f"**{data.run.force.capitalize()}, {data.quarter.label()}** ({plan}): of "
        f"{len(assessed)} indicators, {counts.get(IMPROVING, 0)} improving, "
        f"{counts.get(NO_CHANGE, 0)} with no significant change, "
        f"{counts.get(DETERIORATING, 0)} deteriorating and {counts.get(NO_DATA, 0)} without "
        "data, each against the same quarter a year earlier."
    ]
    for row in assessed[assessed["status"].isin([IMPROVING, DETERIORATING])].itertuples():
        findings.append(
            f"**{row.status.capitalize()}**: {row.indicator}, {row.value_text} "
            f"(against {row.comparison_text})."
        )
    supplied = int((table["status"] == NO_DATA_SUPPLIED).sum())
    if supplied:
        findings.append(f"{supplied} further commitments cannot be measured from police open data.")
    if data.plan.get("generic"):
        findings.append(
            "No Police and Crime Plan is configured for this force, so the scorecard shows "
            "generic indicators from the open data."
        )
    return Section("Headline", findings=findings)


def _where(row: pd.Series) -> str:
    if not row["source_report"]:
        return row["note"] or "no data"
    where = REPORT_TITLES.get(row["source_report"], row["source_report"])
    return f"{where}" + (f"; {row['note']}" if row["note"] else "")


def scorecard(table: pd.DataFrame, data: ScorecardData) -> Section:
    """One line per commitment: the figure this quarter, the comparison a year earlier and the
    status, with the report that gives the detail."""
    shown = _assessed(table).copy()
    shown["detail"] = shown.apply(_where, axis=1)
    rules = data.config["rules"]
    item = report_table(
        shown,
        columns={
            "indicator": "Indicator",
            "value_text": "This quarter",
            "comparison_text": "A year earlier",
            "status": "Status",
            "detail": "Detail in",
        },
        caption=f"{data.plan['label']}: scorecard, {data.quarter.label()}",
        notes=[
            " ".join(str(rules["count"]).split()),
            " ".join(str(rules["proportion"]).split()),
            " ".join(str(rules["ratio"]).split()),
        ],
    )
    item.data = table
    return Section("Scorecard", items=[item])


def no_data(table: pd.DataFrame) -> Section:
    """Commitments the police open data cannot speak to, and the data that would."""
    rows = table[table["status"] == NO_DATA_SUPPLIED]
    if rows.empty:
        return Section("Commitments the open data cannot measure", findings=["None listed."])
    item = report_table(
        rows,
        columns={"commitment": "Plan commitment", "definition": "Data that would answer it"},
        caption="Commitments the police open data cannot measure",
        notes=["These need data held by the force or its partners; none was supplied."],
    )
    return Section("Commitments the open data cannot measure", items=[item])


def caveats(data: ScorecardData) -> Section:
    """What a reader must know to read the statuses."""
    notes = [
        "Every figure is the one published in the report named beside it; the scorecard "
        "computes none itself.",
        "A status follows that report's test of the quarter against the same quarter a year "
        "earlier after its adjustment for the many tests it makes (false discovery rate 5%), "
        "so a change is called improving or deteriorating only when it stands out from the "
        "series' usual ups and downs and from chance among many comparisons.",
        "Quarter-on-quarter changes are not used: they mostly show the season.",
        "Counts of crimes rise and fall with reporting and recording as well as with crime.",
        " ".join(str(data.config["rules"]["reoffending"]).split()),
        " ".join(str(data.config["rules"]["no_data"]).split()),
    ]
    if data.plan.get("generic"):
        notes.insert(0, f"This force has {data.plan['label']}.")
    return Section("Caveats", caveats=notes)


def published(tables: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns)."""
    return published_section(tables, reports.get("scorecard").notebook)
