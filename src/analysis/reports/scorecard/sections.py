"""Plan scorecard sections: the scorecard table (from :func:`.metrics.scorecard_table`) turned
into :class:`analysis.section.Section` objects. Nothing here computes a figure, reads the store
or writes a file."""

from __future__ import annotations

import pandas as pd

from analysis import reports
from analysis.section import Section, published_section
from analysis.tables import report_table

from .data import ScorecardData
from .metrics import (
    DETERIORATING,
    IMPROVING,
    NO_CHANGE,
    NO_DATA,
    NO_DATA_SUPPLIED,
    UNCITED_NOTE,
)

__all__ = ["caveats", "headline", "no_data", "published", "scorecard"]


def _assessed(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] != NO_DATA_SUPPLIED]


def headline(table: pd.DataFrame, data: ScorecardData) -> Section:
    """How many indicators are improving, unchanged, deteriorating or without data, and
    which ones moved."""
    assessed = _assessed(table)
    counts = assessed["status"].value_counts()
    findings = [
        f"**{data.quarter.label()} against the same quarter a year earlier:** of "
        f"{len(assessed)} indicators (each local authority counted), "
        f"{counts.get(IMPROVING, 0)} improving, {counts.get(NO_CHANGE, 0)} with no significant "
        f"change, {counts.get(DETERIORATING, 0)} deteriorating, {counts.get(NO_DATA, 0)} "
        "without the data for a test (this quarter or the same quarter a year earlier not held)."
    ]
    if data.plan.get("generic"):
        findings.append(
            "No Police and Crime Plan is configured for this force, so the scorecard shows "
            "generic indicators from the open data."
        )
    return Section("Headline", findings=findings)


def _labels(data: ScorecardData) -> dict[str, str]:
    return {i["id"]: i.get("label", i["indicator"]) for i in data.plan["indicators"]}


STREET_FILES = "police files"
"""The "Report" cell of a count taken from the street-level files when report 01 is not in
the pack (:data:`.metrics.UNCITED_NOTE`)."""


def _uncited(note: str) -> bool:
    return note.startswith(UNCITED_NOTE)


def _detail(rows: pd.DataFrame) -> str:
    notebook = rows["source_report"].iloc[0]
    if not notebook:
        note = rows["note"].iloc[0]
        return STREET_FILES if _uncited(note) else note or NO_DATA
    return notebook[:2]


def _status_line(rows: pd.DataFrame) -> str:
    if len(rows) == 1:
        return rows["status"].iloc[0]
    counts = rows["status"].value_counts()
    if len(counts) == 1:
        return f"{counts.index[0]} (all {len(rows)} areas)"
    order = [IMPROVING, DETERIORATING, NO_CHANGE, NO_DATA]
    return ", ".join(f"{counts[s]} {s}" for s in order if s in counts)


def _value_line(rows: pd.DataFrame) -> tuple[str, str]:
    if len(rows) == 1:
        return rows["value_text"].iloc[0], rows["comparison_text"].iloc[0]
    moved = rows[rows["status"].isin([IMPROVING, DETERIORATING])]
    where = "; ".join(f"{r.area} {r.value_text} ({r.comparison_text})" for r in moved.itertuples())
    return f"{len(rows)} local authorities", where or "no area changed significantly"


def scorecard(table: pd.DataFrame, data: ScorecardData) -> Section:
    """One line per commitment: the figure this quarter, the same quarter a year earlier with
    the change, the status, and the report with the detail (area indicators on one line)."""
    shown = _assessed(table).copy()
    shown["base"] = shown["id"].str.split(":").str[0]
    labels = _labels(data)
    lines = []
    for base, rows in shown.groupby("base", sort=False):
        value, comparison = _value_line(rows)
        lines.append(
            {
                "label": labels.get(base, rows["indicator"].iloc[0]),
                "value": value,
                "comparison": comparison,
                "status": _status_line(rows),
                "detail": _detail(rows),
            }
        )
    notes = [
        "Status: the report's test against the same quarter a year earlier, adjusted for its "
        "many tests; improving or deteriorating = a statistically significant change in the "
        "direction good or bad for the public (for the disparity ratio: the two 95% intervals "
        "do not overlap)."
    ]
    uncited = shown[shown["note"].map(_uncited)]
    if not uncited.empty:
        notes.append(
            f'"{STREET_FILES.capitalize()}": {UNCITED_NOTE}, so no published table of the pack '
            "holds these figures."
        )
    extra = []
    for r in shown.itertuples():
        note = r.note.removeprefix(UNCITED_NOTE).lstrip("; ") if _uncited(r.note) else r.note
        if note and (r.source_report or _uncited(r.note)):
            extra.append(f"{labels.get(r.id.split(':')[0], r.indicator)}: {note}")
    if extra:
        notes.append(". ".join(extra) + ".")
    item = report_table(
        pd.DataFrame(lines),
        columns={
            "label": "Indicator",
            "value": "This quarter",
            "comparison": "A year earlier",
            "status": "Status",
            "detail": "Report",
        },
        caption=(
            f"{data.plan['label']}: {data.quarter.label()} against "
            f"{data.quarter.year_earlier.label()}"
        ),
        notes=notes,
    )
    item.data = table
    return Section("Scorecard", items=[item])


def no_data(table: pd.DataFrame, data: ScorecardData | None = None) -> Section:
    """Commitments the police open data cannot speak to, and the data that would, in one
    paragraph (the published table has each with its data source); for a force without a
    plan, a sentence saying there are no plan commitments to list."""
    rows = table[table["status"] == NO_DATA_SUPPLIED]
    if rows.empty:
        if data is not None and data.plan.get("generic"):
            finding = (
                "No Police and Crime Plan is configured for this force, so there are no plan "
                "commitments to list (a plan is added as config/plans/<force>.yml)."
            )
        else:
            finding = "None listed."
        return Section("Commitments the open data cannot measure", findings=[finding])
    needs = (
        rows["definition"]
        .str.replace("Not in police open data. Needs: ", "", regex=False)
        .str.split(" (", regex=False)
        .str[0]
        .str.rstrip(".")
    )
    listed = "; ".join(
        f"{c} ({n[0].lower() + n[1:] if n[1:2].islower() else n})"
        for c, n in zip(rows["commitment"], needs, strict=True)
    )
    return Section(
        "Commitments the open data cannot measure",
        findings=[f"No data supplied for: {listed}."],
    )


def caveats(data: ScorecardData) -> Section:
    """What a reader must know to read the statuses."""
    notes = [
        "Every figure is the one published in the report numbered beside it; the scorecard "
        "computes none. A change counts only when it stands out from the series' usual ups "
        "and downs and from chance among the report's many tests (false discovery rate 5%); "
        "quarter-on-quarter changes are not used (they mostly show the season).",
        "Disparity: a change counts when the two 95% intervals do not overlap. A source "
        'report that cannot run gives "no data" with its reason.',
    ]
    if data.plan.get("generic"):
        notes.insert(0, f"This force has {data.plan['label']}.")
    return Section("Caveats", caveats=notes)


def published(tables: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns)."""
    return published_section(tables, reports.get("scorecard").notebook)
