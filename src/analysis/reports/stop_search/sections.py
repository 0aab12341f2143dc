"""Stop-and-search disparity, sections: metrics (DataFrames) turned into report sections.

Each function takes the frame its notebook cell computed (e.g. ``rates =
report.metrics.search_rates(data)``) and ``data`` for labels (force name, quarter) and the
section's supporting figures, which come from :mod:`.metrics`; it returns an
:class:`analysis.section.Section`. Nothing here reads the store or writes a file, and nothing
suppresses: every table arrives already protected by :mod:`.metrics`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import charts, stats, tables
from analysis.params import months_missing_between
from analysis.reports import get
from analysis.section import Section

from . import metrics
from .data import StopSearchData
from .metrics import (
    DEFINITIONS,
    GROUPS,
    MIXED_WHITE_BLACK,
    OUTCOME_RATES,
    POPULATION_BASES,
    REFERENCE,
    SUPPRESSION_THRESHOLD,
    WINDOWS,
)

__all__ = [
    "data_quality",
    "grounds_and_outcomes",
    "headline",
    "local_authority_disparity",
    "published",
    "sensitivity_panel",
    "trend",
]

SOURCE = (
    "data.police.uk stop and search (Home Office, OGL v3.0); "
    "ONS Census 2021 usual residents by ethnic group."
)
SHORT_DEFINITION = {"self": "Self-defined", "officer": "Officer-defined", "combined": "Combined"}
SHORT_BASE = {"force_residents": "crude", "lad_standardised": "LA-standardised"}


# --------------------------------------------------------------------------- wording


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_label(data: StopSearchData, window: str) -> str:
    q = data.quarter
    if window == "quarter":
        return q.label()
    return f"the 12 months to {q.label().split(' to ')[1]}"


def _ratio_sentence(row: pd.Series, group: str, period: str) -> str:
    if bool(row["suppressed"]) or pd.isna(row["rr_vs_white"]):
        return (
            f"{group}/White ratio for {period}: not shown (fewer than {SUPPRESSION_THRESHOLD} "
            "searches, or a count that would reveal one)."
        )
    return tables.headline_ratio(
        group,
        REFERENCE,
        row["rr_vs_white"],
        row["rr_low"],
        row["rr_high"],
        f"to be stopped and searched in {period}",
    )


def _standardised_sentence(sens: pd.DataFrame, data: StopSearchData, window: str = "12m") -> str:
    """One sentence on the local-authority standardised Black/White and Asian/White ratios
    (self-defined ethnicity, ONS groups; :func:`.metrics.standardised_ratio`)."""
    pick = sens[
        (sens["window"] == window)
        & (sens["ethnicity_definition"] == "self")
        & (sens["mixed_white_black"] == "Mixed")
        & (sens["population_base"] == "lad_standardised")
    ].set_index("group")
    parts = []
    for group in ("Black", "Asian"):
        row = pick.loc[group]
        value = (
            "not shown (small numbers)"
            if row["suppressed"] or pd.isna(row["rr_vs_white"])
            else tables.format_interval(row["rr_vs_white"], row["rr_low"], row["rr_high"])
        )
        parts.append(f"{group}/White {value}")
    return (
        f"Comparing each group with White residents of the same local authority "
        f"(standardised ratio, 95% CI), {_window_label(data, window)}: {'; '.join(parts)}. "
        "A crude ratio well above the standardised one means part of the disparity reflects "
        "where people live and where searches happen (see the sensitivity panel)."
    )


def _ratio_forest(table: pd.DataFrame, title: str) -> charts.Chart:
    """Forest plot of ``rr_vs_white`` (95% CI) per ``label`` row, log scale, line at 1."""
    chart = charts.forest_plot(
        table, "label", "rr_vs_white", "rr_low", "rr_high", title=title,
        x_label="Ratio vs White (log scale; 1 = no disparity)", source=SOURCE,
    )  # fmt: skip
    chart.data = table.reset_index(drop=True)
    return chart


def _percent_columns(table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    out = table.copy()
    for name in names:
        for suffix in ("", "_low", "_high"):
            out[f"{name}{suffix}"] = out[f"{name}{suffix}"].astype(float) * 100
    return out


def _ratio_verdict(xmr: pd.DataFrame) -> str:
    """:func:`analysis.stats.spc_verdict` worded for a ratio (no "a month" unit on the mean)."""
    text = stats.spc_verdict(xmr, "Black/White ratio")
    return re.sub(r"\(mean ([0-9.,]+) a month\)", r"(mean ratio \1)", text)


# --------------------------------------------------------------------------- sections


def headline(rates: pd.DataFrame, data: StopSearchData) -> Section:
    """Searches in the quarter and 12 months, force rates per 1,000 by group, and the
    Black/White and Asian/White ratios in words (self-defined ethnicity, 95% intervals).

    Parameters
    ----------
    rates : DataFrame
        :func:`.metrics.search_rates` (its force-level, self-defined rows are shown).
    data : StopSearchData
        For labels, :func:`.metrics.searches_by_window` and the standardised ratios of
        :func:`.metrics.sensitivity_ratios`.
    """
    force = rates[(rates["area_level"] == "force") & (rates["ethnicity_definition"] == "self")]
    findings = []
    for row in metrics.searches_by_window(data).itertuples(index=False):
        share = tables.format_percent(row.not_stated / row.searches) if row.searches else "–"
        text = (
            f"{_sentence_case(_window_label(data, row.window))}: "
            f"{tables.format_count(row.searches)} searches of people; self-defined ethnicity "
            f"not stated for {tables.format_count(row.not_stated)} ({share})."
        )
        if row.months_missing:
            text += (
                f" No data for {row.months_missing}: the window covers {row.months_held} months."
            )
        findings.append(text)
    for window in WINDOWS:
        part = force[force["window"] == window].set_index("group")
        for group in ("Black", "Asian"):
            findings.append(_ratio_sentence(part.loc[group], group, _window_label(data, window)))
    findings.append(_standardised_sentence(metrics.sensitivity_ratios(data), data))
    wide = force.pivot(index="group", columns="window")
    wide.columns = [f"{col}_{win}" for col, win in wide.columns]
    wide = wide.reindex(list(GROUPS)).reset_index()
    intervals = []
    for window in WINDOWS:
        name = "quarter" if window == "quarter" else "12 months"
        intervals += [
            (f"rate_per_1000_{window}", f"rate_low_{window}", f"rate_high_{window}",
             f"Rate per 1,000, {name} (95% CI)"),
            (f"rr_vs_white_{window}", f"rr_low_{window}", f"rr_high_{window}",
             f"Ratio to White, {name} (95% CI)"),
        ]  # fmt: skip
    table = tables.report_table(
        wide,
        columns={"group": "Ethnic group (self-defined)",
                 "population_quarter": "Residents (Census 2021)",
                 "searches_quarter": "Searches, quarter", "rate_per_1000_quarter": "",
                 "rr_vs_white_quarter": "", "searches_12m": "Searches, 12 months",
                 "rate_per_1000_12m": "", "rr_vs_white_12m": ""},
        caption=f"Searches of people per 1,000 residents by ethnic group, {data.force_name}",
        intervals=intervals,
        counts=["searches_quarter", "searches_12m", "population_quarter"],
        notes=[
            "Rate = searches ÷ Census 2021 usual residents of the group in the force area × 1,000.",
            "Ratio = group rate ÷ White rate (reference group).",
        ],
    )  # fmt: skip
    return Section("Headline: search rates and disparity", findings, [table])


def local_authority_disparity(rates: pd.DataFrame, data: StopSearchData) -> Section:
    """Black/White and Asian/White ratios by local authority (12 months, self-defined) as a
    forest plot with 95% intervals, plus the suppressed table of rates.

    Parameters
    ----------
    rates : DataFrame
        :func:`.metrics.search_rates` (its local-authority, self-defined, 12-month rows).
    data : StopSearchData
        For the period label.
    """
    lad = rates[(rates["area_level"] == "lad") & (rates["ethnicity_definition"] == "self")
                & (rates["window"] == "12m")].copy()  # fmt: skip
    plotted = lad[lad["group"].isin(["Black", "Asian"]) & ~lad["suppressed"]].copy()
    plotted["label"] = plotted["area_name"] + ": " + plotted["group"]
    plotted = plotted.sort_values(["group", "area_name"])
    chart = _ratio_forest(
        plotted,
        f"Search rate ratio to White residents by local authority, {_window_label(data, '12m')}",
    )
    table = tables.report_table(
        lad,
        columns={"area_name": "Local authority", "group": "Ethnic group",
                 "population": "Residents", "searches": "Searches", "rate_per_1000": "",
                 "rr_vs_white": ""},
        caption=f"Searches located in each local authority, {_window_label(data, '12m')} (self-defined ethnicity)",
        intervals=[("rate_per_1000", "rate_low", "rate_high", "Rate per 1,000 (95% CI)"),
                   ("rr_vs_white", "rr_low", "rr_high", "Ratio to White (95% CI)")],
        counts=["searches", "population"],
        notes=["Searches without a location or located outside the force are counted only at force level."],
    )  # fmt: skip
    hidden = lad["group"].isin(["Black", "Asian"]) & lad["suppressed"]
    note = (
        f"{int(hidden.sum())} local-authority ratios are not plotted because their counts are "
        "suppressed."
        if hidden.any()
        else "Every local-authority ratio is plotted."
    )
    return Section("Disparity by local authority", [], [chart, note, table])


def sensitivity_panel(sens: pd.DataFrame, data: StopSearchData) -> Section:
    """Black/White and Asian/White ratios under each definition choice, side by side.

    Parameters
    ----------
    sens : DataFrame
        :func:`.metrics.sensitivity_ratios`.
    data : StopSearchData
        For the period label.
    """
    order = {k: i for i, k in enumerate([*DEFINITIONS, *MIXED_WHITE_BLACK, *POPULATION_BASES])}
    sens = sens.sort_values(
        ["ethnicity_definition", "mixed_white_black", "population_base"],
        key=lambda col: col.map(order),
    )
    sens["definition"] = (
        sens["ethnicity_definition"].map(SHORT_DEFINITION)
        + ", Mixed White/Black as "
        + sens["mixed_white_black"]
        + ", "
        + sens["population_base"].map(SHORT_BASE)
    )
    year = sens[sens["window"] == "12m"].copy()
    year["label"] = year["group"] + ": " + year["definition"]
    year = pd.concat([year[year["group"] == "Black"], year[year["group"] == "Asian"]])
    chart = _ratio_forest(
        year, f"Ratio to White under each definition, {_window_label(data, '12m')}"
    )
    wide = sens.pivot_table(
        index="definition", columns=["group", "window"],
        values=["rr_vs_white", "rr_low", "rr_high"], aggfunc="first", dropna=False, sort=False,
    )  # fmt: skip
    wide.columns = [f"{v}_{g}_{w}" for v, g, w in wide.columns]
    wide = wide.reset_index()
    intervals = [
        (f"rr_vs_white_{g}_{w}", f"rr_low_{g}_{w}", f"rr_high_{g}_{w}",
         f"{g}/White, {'quarter' if w == 'quarter' else '12 months'}")
        for g in ("Black", "Asian") for w in WINDOWS
    ]  # fmt: skip
    table = tables.report_table(
        wide,
        columns={"definition": "Definition"},
        caption="Ratio to White (95% CI) under each definition choice, force area",
        intervals=intervals,
        notes=[
            "Combined = self-defined ethnicity, else officer-defined. Officer-defined ethnicity "
            "has no Mixed detail, so its 'as Black' rows change only the population.",
            "Crude = force-wide rate ratio over force-area residents (the headline). "
            "LA-standardised = searches located in the force's local authorities ÷ the number "
            "expected if each local authority searched the group at its own White rate "
            "(indirect standardisation; removes the effect of where each group lives).",
            f"Ratios are suppressed when they rest on fewer than {SUPPRESSION_THRESHOLD} "
            f"searches or differ from the standard variant by fewer than "
            f"{SUPPRESSION_THRESHOLD} searches.",
        ],
    )
    return Section("Sensitivity: how much do the ratios depend on definitions?", [], [chart, table])


def grounds_and_outcomes(outcomes: pd.DataFrame, data: StopSearchData) -> Section:
    """Outcome rates by group (Wilson 95%), the hit-rate test across local authorities,
    legislation and object of search by group, and removal of more than outer clothing.

    Parameters
    ----------
    outcomes : DataFrame
        :func:`.metrics.outcomes_by_group` (its 12-month rows are shown).
    data : StopSearchData
        For the period label and the 12-month :func:`.metrics.outcome_rate_by_area`,
        :func:`.metrics.crosstab_by_group` (power used, object of search) and
        :func:`.metrics.removal_by_group`.
    """
    window = "12m"
    period = _window_label(data, window)
    outcomes = _percent_columns(outcomes[outcomes["window"] == window], OUTCOME_RATES.values())
    outcome_table = tables.report_table(
        outcomes,
        columns={"group": "Ethnic group (self-defined)", "searches": "Searches"},
        caption=f"Outcomes of searches of people by ethnic group, {period}",
        intervals=[
            ("arrest_rate", "arrest_rate_low", "arrest_rate_high", "Arrest % (95% CI)"),
            ("any_outcome_rate", "any_outcome_rate_low", "any_outcome_rate_high", "Any outcome % (95% CI)"),
            ("linked_find_rate", "linked_find_rate_low", "linked_find_rate_high", "Linked find % (95% CI)"),
        ],
        counts=["searches"],
        notes=[
            "Any outcome = any outcome other than 'A no further action disposal'. Linked find = "
            "an outcome that the officer recorded as linked to the object of the search.",
        ],
    )  # fmt: skip
    funnel = metrics.outcome_rate_by_area(data, window)
    attrs = funnel.attrs
    if np.isnan(attrs["p_value"]):
        test = "Too few local authorities with searches to compare outcome rates."
    else:
        verdict = "differ" if attrs["p_value"] < 0.05 else "show no evidence of differing"
        test = (
            f"Outcome ('hit') rates across the {len(funnel)} local authorities {verdict} "
            f"(Pearson chi-square test of equal rates: χ² = {attrs['chi2']:.1f}, "
            f"{attrs['dof']} degree{'s' if attrs['dof'] != 1 else ''} of freedom, "
            f"p = {attrs['p_value']:.3g}); force rate "
            f"{attrs['target']:.1f}%."
        )
    funnel_chart = charts.funnel_plot(
        funnel, title=f"Outcome rate of searches by local authority, {period}",
        x_label="Searches located in the local authority", y_label="Searches with an outcome (%)",
        source=SOURCE, label="lad_name",
    )  # fmt: skip
    funnel_chart.data = funnel
    legislation = metrics.crosstab_by_group(data, "legislation", window)
    objects = metrics.crosstab_by_group(data, "object_of_search", window)
    group_cols = [*GROUPS, metrics.NOT_STATED, "Total"]
    leg_table = tables.report_table(
        legislation, columns={"legislation": "Power", **{g: g for g in group_cols}},
        caption=f"Searches of people by power used and ethnic group, {period}",
        counts=group_cols, notes=[],
    )  # fmt: skip
    obj_table = tables.report_table(
        objects, columns={"object_of_search": "Object of search", **{g: g for g in group_cols}},
        caption=f"Searches of people by object of search and ethnic group, {period}",
        counts=group_cols, notes=[],
    )  # fmt: skip
    removal = _percent_columns(metrics.removal_by_group(data, window), ["removal_rate"])
    removal_table = tables.report_table(
        removal,
        columns={"group": "Ethnic group (self-defined)", "searches": "Searches",
                 "removals": "More than outer clothing removed"},
        caption=f"Searches involving removal of more than outer clothing, {period}",
        intervals=[("removal_rate", "removal_rate_low", "removal_rate_high", "% of searches (95% CI)")],
        counts=["searches", "removals"],
    )  # fmt: skip
    return Section(
        "Grounds and outcomes",
        [test],
        [outcome_table, funnel_chart, leg_table, obj_table, removal_table],
    )


def trend(series: pd.DataFrame) -> Section:
    """XmR charts and verdicts of monthly searches and the monthly Black/White ratio.

    Parameters
    ----------
    series : DataFrame
        :func:`.metrics.monthly_series` (indexed by month, every month held).
    """
    months = [str(m) for m in series.index]
    gaps = months_missing_between(months)
    searches_xmr = stats.xmr_chart_data(series["searches"].astype(float))
    ratio = series["rr_black_white"].replace([np.inf, -np.inf], np.nan).dropna()
    ratio_xmr = stats.xmr_chart_data(ratio)
    first, last = months[0], months[-1]
    searches_chart = charts.spc_chart(
        searches_xmr, f"Searches of people per month, {first} to {last}", "Searches", SOURCE
    )
    searches_chart.data = searches_xmr
    ratio_chart = charts.spc_chart(
        ratio_xmr, f"Monthly Black/White search rate ratio (self-defined), {first} to {last}",
        "Rate ratio vs White", SOURCE,
    )  # fmt: skip
    ratio_chart.data = ratio_xmr
    findings = [stats.spc_verdict(searches_xmr, "Searches of people"), _ratio_verdict(ratio_xmr)]
    if gaps:
        findings.append(f"Months missing from the store (not plotted): {', '.join(gaps)}.")
    return Section(
        "Trend",
        findings,
        [searches_chart, ratio_chart],
        caveats=[
            "Monthly Black counts are small, so single-month ratios are noisy; read the limits, "
            "not individual points."
        ],
    )


def data_quality(quality: pd.DataFrame) -> Section:
    """Completeness of the records for the quarter and 12 months.

    Parameters
    ----------
    quality : DataFrame
        :func:`.metrics.data_quality_table`.
    """
    wide = quality.pivot(
        index="measure", columns="window", values=["numerator", "denominator", "share"]
    )
    wide.columns = [f"{v}_{w}" for v, w in wide.columns]
    wide = wide.reindex(list(dict.fromkeys(quality["measure"]))).reset_index()
    for w in WINDOWS:
        wide[f"share_{w}"] = wide[f"share_{w}"].astype(float)
    table = tables.report_table(
        wide,
        columns={"measure": "Measure", "numerator_quarter": "Quarter", "denominator_quarter": "of",
                 "share_quarter": "Quarter share", "numerator_12m": "12 months",
                 "denominator_12m": "of (12 months)", "share_12m": "12-month share"},
        caption="Completeness of the stop-and-search records",
        counts=["numerator_quarter", "denominator_quarter", "numerator_12m", "denominator_12m"],
        percents=["share_quarter", "share_12m"],
        notes=["Denominator: searches of people in the window (vehicle-only row: every record; "
               "months row: months in the window; quarantined row: records read)."],
    )  # fmt: skip
    return Section("Data quality", [], [table])


def published(published_tables: dict[str, pd.DataFrame]) -> Section:
    """The CSV tables the report publishes: file, rows and columns of each.

    Parameters
    ----------
    published_tables : dict of str to DataFrame
        :func:`.metrics.published_tables` (``{file stem: table}``).
    """
    listing = pd.DataFrame(
        {
            "table": [f"{name}.csv" for name in published_tables],
            "rows": [len(t) for t in published_tables.values()],
            "columns": [", ".join(map(str, t.columns)) for t in published_tables.values()],
        }
    )
    notebook = get("stop_search").notebook
    table = tables.report_table(
        listing, columns={"table": "Published table", "rows": "Rows", "columns": "Columns"},
        caption=f"Tables written to tables/{notebook}/", counts=["rows"],
    )  # fmt: skip
    return Section("Published tables", [], [table])
