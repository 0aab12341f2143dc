"""Report 00 sections: the main points, one map and one page of trends. None writes a file."""

from __future__ import annotations

import pandas as pd

from analysis import charts, stats, tables
from analysis.reports.crime_by_area import metrics as cba
from analysis.reports.crime_by_area import sections as cba_sections
from analysis.section import Section, published_section

from . import metrics as m
from .data import MainPointsData

__all__ = ["main_points", "published", "rate_map", "stop_search_and_outcomes", "trends"]

BNG = "EPSG:27700"
HEADINGS = {
    "significant": "Statistically significant changes",
    "crime type": "Every crime type, this quarter against the same quarter a year earlier",
    "local authority": "Crime in every local authority, this quarter against a year earlier",
}


EVIDENCE = {
    stats.change.SIG_UP: "Yes: an increase",
    stats.change.SIG_DOWN: "Yes: a decrease",
    stats.change.SIG_NONE: "No",
}
"""The last column of the comparison tables: is the change statistically significant?"""


def _comparison_table(rows: pd.DataFrame, kind: str, heading: str) -> tables.ReportTable:
    """Every crime type (or local authority) in one line: the quarter's count, the same quarter
    a year earlier, the change in words and whether it is statistically significant; the
    numbers are the columns of the main-points rows (``rows``), nothing is recomputed."""
    shown = pd.DataFrame(
        {
            "name": rows["area_name"]
            if kind == "local authority"
            else rows["crime_type"].map(lambda t: m.WHAT.get(t, t)),
            "count_after": rows["count_after"],
            "count_before": rows["count_before"],
            "change": [
                "not compared"
                if pd.isna(r.count_before)
                else m.change_words(float("inf") if r.count_before == 0 else r.ratio, linked=False)
                for r in rows.itertuples(index=False)
            ],
            "evidence": rows["verdict_adjusted"].map(EVIDENCE).fillna("Not compared"),
        }
    )
    first = "Local authority" if kind == "local authority" else "Crime type"
    table = tables.report_table(
        shown,
        columns={
            "name": first,
            "count_after": "This quarter",
            "count_before": "Same quarter a year earlier",
            "change": "Change",
            "evidence": "Statistically significant?",
        },
        caption=heading,
        counts=["count_after", "count_before"],
    )
    table.data = rows.drop(columns=["statement"])
    return table


def _significant_lists(rows: pd.DataFrame, data: MainPointsData) -> list[str]:
    """The significant changes (``rows``) as short bullets, one list per comparison window:
    "Vehicle crime: up 45% (5,657 to 8,192), an increase." under a line naming the window."""
    out = []
    windows = [m._window_words(r, data.quarter) for r in rows.itertuples(index=False)]
    for (comparison, window), group in rows.groupby(
        [rows["comparison"], pd.Series(windows, index=rows.index)], sort=False
    ):
        lead = f"{window[0].upper()}{window[1:]} against {m.COMPARISON_WORDS[comparison]}:"
        bullets = [
            f"- {m.WHAT.get(r.crime_type, r.crime_type)}"
            + ("" if r.area_level == "force" else f" in {r.area_name}")
            + f": {m.change_words(r.ratio, linked=False)} "
            f"({tables.format_count(r.count_before)} to {tables.format_count(r.count_after)}), "
            + ("an increase." if r.verdict_adjusted == stats.change.SIG_UP else "a decrease.")
            for r in group.itertuples(index=False)
        ]
        out.append(lead + "\n\n" + "\n".join(bullets))
    return out


def main_points(points: pd.DataFrame, data: MainPointsData) -> Section:
    """The main points (``points``: :func:`.metrics.main_points`): the significant changes as
    sentences, then every crime type and every local authority as one table line each, with
    the rule that chose them."""
    items: list = []
    for kind, heading in HEADINGS.items():
        rows = points[points["kind"] == kind]
        if kind == "significant":
            items.append(f"**{heading}**" + ("" if len(rows) else "\n\nNone this quarter."))
            items += _significant_lists(rows, data)
            continue
        items.append(_comparison_table(rows, kind, heading))
    items.append(f"*{m.rule_note()}*")
    n_sig = int((points["kind"] == "significant").sum())
    finding = (
        f"{n_sig} statistically significant change{'s' if n_sig != 1 else ''} in crime or "
        f"anti-social behaviour in {data.crime.force_name} or its local authorities, "
        f"{data.quarter.label()}."
    )
    return Section(title="Main points", findings=[finding], items=items)


def stop_search_and_outcomes(
    searches: pd.DataFrame, outcomes: pd.DataFrame, data: MainPointsData
) -> Section:
    """Main points on stop and search (``searches``: :func:`.metrics.search_points`) and on
    outcomes (``outcomes``: :func:`.metrics.outcome_points`); says so when either is absent."""
    findings = []
    caveats = []
    if searches.empty:
        findings.append("Stop and search data for this period are not available.")
    else:
        by = searches.set_index("group")
        span = searches.attrs.get("window_label", "the last 12 months")
        held = searches.attrs.get("months_held")
        parts = []
        for group in ("Black", "White"):
            if group in by.index and pd.notna(by.loc[group, "rate_per_1000"]):
                parts.append(
                    f"{tables.format_rate(by.loc[group, 'rate_per_1000'])} searches a year per "
                    f"1,000 {group} residents"
                )
        text = f"Stop and search over {span}"
        if held is not None and str(span).startswith("12 "):
            text += f" ({held} months of data)"
        text += ": " + (" and ".join(parts) if parts else "rates not available") + "."
        findings.append(text)
        if "Black" in by.index and pd.notna(by.loc["Black", "rr_vs_white"]):
            row = by.loc["Black"]
            findings.append(
                f"Black people were searched {tables.format_rate(row['rr_vs_white'])} times as "
                f"often as White people, relative to the number living here (95% interval "
                f"{tables.format_rate(row['rr_low'])} to {tables.format_rate(row['rr_high'])})."
            )
    if outcomes.empty:
        findings.append("Outcome data for this quarter's crimes are not available.")
    else:
        for row in outcomes.itertuples(index=False):
            findings.append(
                f"{row.measure}: {tables.format_percent(row.share)} of the "
                f"{tables.format_count(row.crimes)} crimes recorded this quarter "
                f"(95% interval {tables.format_percent(row.low)} to "
                f"{tables.format_percent(row.high)}), as recorded so far."
            )
        caveats.append(
            "Outcomes are as recorded so far: many crimes of the quarter are still under "
            'investigation. The source files hardly ever use the outcome "unable to '
            'prosecute or no further action", so crimes closed without action are recorded '
            'under other outcomes (mostly "no suspect identified"); read the split between '
            "those outcomes with care."
        )
    return Section(title="Stop and search and outcomes", findings=findings, caveats=caveats)


def rate_map(rates, data: MainPointsData) -> Section:
    """One map of ward crime rates per 1,000 residents (``rates``: :func:`.metrics.map_rates`),
    with local-authority and town names, scale bar, north arrow and the enlarged panel
    configured for the force (Tyne and Wear for Northumbria)."""
    drawn = rates.to_crs(BNG)
    top = drawn.dropna(subset=["rate_per_1000"]).sort_values("rate_per_1000", ascending=False)
    names = top["area_name"].head(3).tolist()
    where = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    chart = charts.choropleth(
        drawn,
        "rate_per_1000",
        title=f"Crime rates were highest in {where} wards, {data.quarter.label()}",
        source=f"{cba.RATE_SOURCE}; boundaries ONS wards (May 2024) (OS data © Crown copyright)",
        scheme=cba_sections.MAP_SCHEME,
        label="area_name",
        legend_title="Crimes per 1,000 residents",
        **cba_sections._map_furniture(data.crime),
    )
    chart.data = drawn
    return Section(
        title="Crime rates by ward",
        items=[chart],
        caveats=[
            "Rates per resident overstate the risk to residents in city and town centres, "
            "where many people visit but few live."
        ],
    )


def trends(table: pd.DataFrame, data: MainPointsData) -> Section:
    """Small-multiple monthly trends (``table``: :func:`.metrics.trends`), the quarter shaded,
    ending at the quarter, gaps at missing months."""
    quarter = data.quarter
    end = quarter.months[-1]
    last = table[table["month"] == end].set_index("crime_type")["count"]
    chart = charts.small_multiples(
        table.assign(crime_type=table["crime_type"].map(lambda t: m.PANEL_NAMES.get(t, t))),
        "month",
        "count",
        "crime_type",
        title=f"Monthly crime and anti-social behaviour up to {quarter.label()} (quarter shaded)",
        y_label="Crimes or incidents a month",
        source=cba.POLICE_SOURCE,
        quarter=str(quarter),
    )
    chart.data = table
    held = set(table["month"])
    first = min(held)
    every = pd.period_range(first, end, freq="M").astype(str)
    missing = [x for x in every if x not in held]
    caveats = []
    if missing:
        caveats.append(
            "Months with no published data are left as gaps: "
            + ", ".join(pd.Period(x, freq="M").strftime("%B %Y") for x in missing)
            + "."
        )
    finding = (
        f"In {pd.Period(end, freq='M').strftime('%B %Y')} there were "
        f"{tables.format_count(last.get(cba.ALL_CRIME))} crimes (excluding anti-social "
        f"behaviour) and {tables.format_count(last.get(cba.ASB))} anti-social behaviour "
        "incidents."
    )
    return Section(title="Monthly trends", findings=[finding], items=[chart], caveats=caveats)


def published(tables_: dict[str, pd.DataFrame]) -> Section:
    """The tables this report publishes."""
    return published_section(tables_, "00_main_points")
