"""Report 00 metrics: the main points of the pack, taken from the other reports' metrics.

No figure is computed here that another report publishes: counts, changes and verdicts are
rows of report 01's change table (:func:`analysis.reports.crime_by_area.metrics.change_tests`,
force and local authorities only, with the Benjamini-Hochberg adjusted verdicts), stop and
search figures rows of report 02's ``search_rates`` table and outcome shares rows of report
05's headline figures. The functions only choose rows and word them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import stats, tables
from analysis.reports.crime_by_area import metrics as cba

from .data import MainPointsData

__all__ = [
    "COMPARISON_WORDS",
    "LEVELS",
    "TREND_MEASURES",
    "changes",
    "change_words",
    "main_points",
    "map_rates",
    "outcome_points",
    "published_tables",
    "rule_note",
    "search_points",
    "trends",
]

LEVELS = ("force", "lad")
"""Area levels tested for the main points (ward tests are left to report 01: they are slow)."""
COMPARISON_WORDS = {
    "year_earlier_quarter": "the same quarter a year earlier",
    "year_ending": "the same months a year earlier",
}
"""The comparisons the main points use (same-season only), and how they are said."""
SIGNIFICANT = (stats.change.SIG_UP, stats.change.SIG_DOWN)
TREND_MEASURES = (
    cba.ALL_CRIME,
    cba.ASB,
    *(t for t in cba.CALLED_OUT if t not in cba.HEADLINE_MEASURES),
)
"""Measures drawn as small-multiple trends: crime, ASB, then the categories the Police and Crime
Plan asks about."""
PANEL_NAMES = {
    cba.ALL_CRIME: "All crime (not anti-social behaviour)",
    cba.ASB: "Anti-social behaviour",
}
"""Short panel titles of the trend charts."""
POINT_COLUMNS = [
    "kind",
    "area_level",
    "area_code",
    "area_name",
    "crime_type",
    "comparison",
    "months_after",
    "count_before",
    "count_after",
    "ratio",
    "verdict_adjusted",
    "statement",
]


def changes(data: MainPointsData) -> pd.DataFrame:
    """Report 01's change table for the force and its local authorities
    (:func:`analysis.reports.crime_by_area.metrics.change_tests` with levels ``force, lad``):
    each crime type, ASB and All crime; the quarter against the same quarter a year earlier,
    the year ending with the quarter against the year before and the seasonally adjusted
    quarter-on-quarter test; Benjamini-Hochberg adjusted within each level and comparison."""
    return cba.change_tests(data.crime, LEVELS)


def change_words(ratio: float, linked: bool = True) -> str:
    """The change of a count in words, from the ratio after/before of report 01's change table:
    "about the same as" when it rounds to 0%, else "up 37% on" or "down 12% on"; "up from none
    on" when there was none before. With ``linked=False`` (a table cell or a bullet) the
    trailing "on"/"as" is left off and the direction is tied to its figure by a no-break space,
    so "down 12%" never breaks across lines."""
    if pd.isna(ratio) or np.isinf(ratio):
        return "up from none on" if linked else "up from none"
    pct = round((ratio - 1) * 100)
    if pct == 0:
        return "about the same as" if linked else "about the same"
    direction = "up" if pct > 0 else "down"
    return f"{direction} {abs(pct)}% on" if linked else f"{direction}\u00a0{abs(pct)}%"


def _window_words(row, quarter) -> str:
    if row.comparison == "year_ending":
        held = [x.strip() for x in str(row.months_after).split(",") if x.strip()]
        label = stats.window(quarter.months[-1], held, 12).label
        return f"the {label}" if label.startswith("12 ") else label
    return quarter.label()


def _significance_words(verdict: str) -> str:
    if verdict == stats.change.SIG_UP:
        return "a statistically significant increase"
    if verdict == stats.change.SIG_DOWN:
        return "a statistically significant decrease"
    if verdict == stats.change.SIG_NONE:
        return "not a statistically significant change"
    return "not compared"


WHAT = {
    cba.ALL_CRIME: "Crime (excluding anti-social behaviour)",
    cba.ASB: "Anti-social behaviour incidents",
}


def _statement(row, quarter) -> str:
    where = "" if row.area_level == "force" else f" in {row.area_name}"
    what = WHAT.get(row.crime_type, row.crime_type)
    if pd.isna(row.count_before) or (pd.isna(row.ratio) and row.count_before != 0):
        return (
            f"{what}{where}: {tables.format_count(row.count_after)} in "
            f"{_window_words(row, quarter)}; not compared with {COMPARISON_WORDS[row.comparison]}."
        )
    before = tables.format_count(row.count_before)
    change = "up from none on" if row.count_before == 0 else change_words(row.ratio)
    return (
        f"{what}{where}: {tables.format_count(row.count_after)} in "
        f"{_window_words(row, quarter)}, {change} {COMPARISON_WORDS[row.comparison]} "
        f"({before}); {_significance_words(row.verdict_adjusted)}."
    )


def main_points(changes: pd.DataFrame, data: MainPointsData) -> pd.DataFrame:
    """The main points about crime, chosen by a fixed rule from report 01's change table.

    Rule (``changes``: :func:`changes` output; only same-season comparisons, because
    quarter-on-quarter movements are mostly the season):

    1. ``kind == "significant"``: every change of the force or a local authority, any crime
       type, ASB or All crime, that is statistically significant after the Benjamini-Hochberg
       adjustment, year on year (quarter against the same quarter a year earlier) or year
       ending (the 12 months to the quarter's end against the 12 before); force first, then
       largest change first (absolute value of the log of the ratio).
    2. ``kind == "crime type"``: for every crime type, ASB and All crime, the force's count in
       the quarter and its year-on-year change, significant or not, All crime and ASB first,
       then crime types by count in the quarter, largest first.
    3. ``kind == "local authority"``: for every local authority of the force, its count of
       crime (excluding ASB) in the quarter and its year-on-year change, largest count first.

    Every number in a statement is a column of the row it comes from (``count_after``,
    ``count_before``, ``ratio``, ``verdict_adjusted``): nothing is recomputed. When the
    same quarter a year earlier is not held, the quarter's count is report 01's
    (:func:`analysis.reports.crime_by_area.metrics.crime_by_area_table`) and the statement
    says the change was not compared.

    Returns
    -------
    DataFrame
        :data:`POINT_COLUMNS`, in the order above.
    """
    same_season = changes[changes["comparison"].isin(COMPARISON_WORDS)].copy()
    quarter = data.quarter
    sig = same_season[same_season["verdict_adjusted"].isin(SIGNIFICANT)].copy()
    sig["_size"] = np.abs(np.log(sig["ratio"].astype(float).replace(0, np.nan)))
    sig["_level"] = sig["area_level"].map(LEVELS.index)
    sig = sig.sort_values(["_level", "_size"], ascending=[True, False]).assign(kind="significant")
    year = same_season[same_season["comparison"] == "year_earlier_quarter"]
    force = year[year["area_level"] == "force"].copy()
    force["_first"] = force["crime_type"].map({cba.ALL_CRIME: 0, cba.ASB: 1}).fillna(2)
    force = force.sort_values(["_first", "count_after"], ascending=[True, False])
    lads = year[(year["area_level"] == "lad") & (year["crime_type"] == cba.ALL_CRIME)]
    lads = lads.sort_values("count_after", ascending=False)
    out = pd.concat(
        [sig, force.assign(kind="crime type"), lads.assign(kind="local authority")],
        ignore_index=True,
    )
    # a quarter with no comparison quarter held: its count from report 01's counts table
    table = cba.crime_by_area_table(data.crime, LEVELS)
    table = table[table["window"] == "quarter"].set_index(["area_level", "area_code", "crime_type"])
    keys = pd.MultiIndex.from_frame(out[["area_level", "area_code", "crime_type"]])
    quarter_count = table["count"].reindex(keys).to_numpy()
    gap = out["count_after"].isna() & (out["comparison"] == "year_earlier_quarter")
    out.loc[gap, "count_after"] = quarter_count[gap.to_numpy()]
    out["statement"] = [_statement(row, quarter) for row in out.itertuples(index=False)]
    return out[POINT_COLUMNS].reset_index(drop=True)


def rule_note() -> str:
    """The rule of :func:`main_points`, in plain English, printed under the list."""
    return (
        "How these points were chosen: first, every change for the force or a local "
        "authority that is statistically significant, comparing this quarter with the same "
        "quarter a year earlier or the last 12 months with the 12 before them, force first and "
        "then largest first; then every crime type for the force, and crime in every local "
        "authority, this quarter against the same quarter a year earlier, whether or not the "
        "change is significant. A change is called statistically significant only when it is "
        "larger than the usual ups and downs of the monthly figures would explain, after "
        "allowing for the number of comparisons made. Changes from one quarter to the next "
        "are left out here because they mostly reflect the season."
    )


def search_points(data: MainPointsData) -> pd.DataFrame:
    """Stop and search rows for the main points: report 02's published ``search_rates``
    (:func:`analysis.reports.stop_search.metrics.search_rates`) for the force, self-defined
    ethnicity, the 12 months ending with the quarter, groups White and Black: searches,
    rate per 1,000 residents a year, and the Black/White ratio with its 95% interval; the
    months held in ``attrs["months_held"]``. Empty when report 02's data is absent."""
    if data.stop_search is None:
        return pd.DataFrame()
    from analysis.reports.stop_search import metrics as ssm

    rates = ssm.search_rates(data.stop_search)
    rows = rates[
        (rates["window"] == "12m")
        & (rates["area_level"] == "force")
        & (rates["ethnicity_definition"] == "self")
    ].reset_index(drop=True)
    info = ssm.window_info(data.stop_search, "12m")
    rows.attrs["months_held"] = len(info.held)
    rows.attrs["window_label"] = info.label
    return rows


def outcome_points(data: MainPointsData) -> pd.DataFrame:
    """Outcome shares for the main points: report 05's headline figures
    (:func:`analysis.reports.justice_outcomes.metrics.headline_figures`: share of the
    quarter's crimes with a positive outcome, no suspect identified, or still under
    investigation, with 95% intervals). Empty when report 05's data is absent."""
    if data.justice is None:
        return pd.DataFrame()
    from analysis.reports.justice_outcomes import metrics as jom

    return jom.headline_figures(data.justice)


def map_rates(data: MainPointsData):
    """Ward crime rates (excluding ASB) per 1,000 residents in the quarter, with boundaries:
    report 01's :func:`analysis.reports.crime_by_area.metrics.area_rates` at ward level."""
    return cba.area_rates(data.crime, "ward", cba.ALL_CRIME)


def trends(data: MainPointsData) -> pd.DataFrame:
    """Monthly counts of :data:`TREND_MEASURES` for the force, ``month, crime_type, count``:
    report 01's :func:`analysis.reports.crime_by_area.metrics.monthly_series` (months absent
    from the store left out, so charts show a gap), up to the quarter's last month."""
    end = data.quarter.months[-1]
    frames = []
    for measure in TREND_MEASURES:
        series = cba.monthly_series(data.crime.monthly, measure)
        series = series[series.index <= end]
        frames.append(
            pd.DataFrame({"month": series.index, "crime_type": measure, "count": series.values})
        )
    return pd.concat(frames, ignore_index=True)


def published_tables(data: MainPointsData) -> dict[str, pd.DataFrame]:
    """The table the main points publish: ``main_points`` (:func:`main_points`, the
    statements with the figures they state). Every figure in it is published by report 01."""
    return {"main_points": main_points(changes(data), data)}
