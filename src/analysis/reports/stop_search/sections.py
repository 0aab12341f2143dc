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

from analysis import charts, reports, stats, tables
from analysis.params import months_missing_between
from analysis.section import Section, WebOnly, published_section

from . import metrics
from .data import StopSearchData
from .metrics import (
    DEFINITIONS,
    GROUPS,
    MIXED_WHITE_BLACK,
    OUTCOME_RATES,
    POPULATION_BASES,
    REFERENCE,
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
    """``"October to December 2022"``, ``"the 12 months to December 2022"`` or, with a month
    missing, ``"11 of the 12 months to December 2022 (January 2022 missing)"``."""
    if window == "quarter":
        return data.quarter.label()
    label = metrics.window_info(data, window).label
    return f"the {label}" if label[:1].isdigit() and label.startswith("12 ") else label


def _window_short(data: StopSearchData, window: str) -> str:
    """Column-heading name of a window: ``quarter``, ``12 months`` or ``11 months, annualised``."""
    if window == "quarter":
        return "quarter"
    held = len(metrics.window_info(data, window).held)
    return "12 months" if held == 12 else f"{held} months held, annualised"


def _month_name(month: str) -> str:
    return pd.Period(month, freq="M").strftime("%B %Y")


RATIO_METHOD_NOTE = (
    "Searches are events, not people: one person can be searched several times. The 95% "
    "interval of each ratio allows for this: it is widened by how much more the group's "
    "share of each month's searches varies than chance alone would give."
)


def _ratio_sentence(row: pd.Series, group: str, period: str) -> str:
    if bool(row["suppressed"]) or pd.isna(row["rr_vs_white"]):
        return (
            f"{group}/White ratio for {period}: not shown (small numbers, or a count that "
            "would reveal one)."
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
            gone = ", ".join(_month_name(m) for m in row.months_missing.split(", "))
            text += (
                f" No data for {gone}: the window holds {row.months_held} of its {row.months} "
                "months"
            )
            text += (
                f", so its rates per 1,000 are annualised (× 12 ÷ {row.months_held})."
                if row.window == "12m"
                else "."
            )
        findings.append(text)
    for window in WINDOWS:
        part = force[force["window"] == window].set_index("group")
        for group in ("Black", "Asian"):
            findings.append(_ratio_sentence(part.loc[group], group, _window_label(data, window)))
    findings.append(_standardised_sentence(metrics.sensitivity_ratios(data), data))
    year = metrics.window_info(data, "12m")
    year_note = (
        f"The {_window_short(data, '12m')} rate is a rate per year: searches in the "
        f"{len(year.held)} months held × 12 ÷ {len(year.held)} (no data for "
        f"{', '.join(_month_name(m) for m in year.missing)})."
        if year.missing
        else "The 12-month rate is the rate over the year; the quarter's is over its 3 months."
    )
    wide = force.pivot(index="group", columns="window")
    wide.columns = [f"{col}_{win}" for col, win in wide.columns]
    wide = wide.reindex(list(GROUPS)).reset_index()
    intervals = []
    for window in WINDOWS:
        name = _window_short(data, window)
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
                 "rr_vs_white_quarter": "", "searches_12m": f"Searches, {_window_short(data, '12m')}",
                 "rate_per_1000_12m": "", "rr_vs_white_12m": ""},
        caption=f"Searches of people per 1,000 residents by ethnic group, {data.force_name}",
        intervals=intervals,
        counts=["searches_quarter", "searches_12m", "population_quarter"],
        notes=[
            "Rate = searches ÷ Census 2021 usual residents of the group in the force area × 1,000.",
            year_note,
            "Ratio = group rate ÷ White rate (reference group).",
            RATIO_METHOD_NOTE,
        ],
    )  # fmt: skip
    return Section(
        "Headline: search rates and disparity", findings, [table],
        caveats=[metrics.disclosure_caveat()],
    )  # fmt: skip


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
    above = plotted[plotted["rr_low"] > 1]
    chart = _ratio_forest(
        plotted,
        f"Black or Asian residents were searched more often than White residents in "
        f"{len(above)} of {len(plotted)} local-authority comparisons, "
        f"{_window_label(data, '12m')}",
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
        notes=["Searches without a location or located outside the force are counted only at force level.",
               RATIO_METHOD_NOTE],
    )  # fmt: skip
    hidden = lad["group"].isin(["Black", "Asian"]) & lad["suppressed"]
    note = (
        f"{int(hidden.sum())} local-authority ratios are not plotted because their counts are "
        "not shown."
        if hidden.any()
        else "Every local-authority ratio is plotted."
    )
    return Section(
        "Disparity by local authority",
        [],
        [
            chart,
            note,
            WebOnly(
                table,
                "The table of every local authority and group is in the web edition of this report.",
            ),
        ],
    )


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
    black = year[(year["group"] == "Black") & year["rr_vs_white"].notna()]
    if len(black) and (black["rr_low"] > 1).all():
        finding = "The Black/White ratio is above 1 under every definition"
    elif len(black):
        finding = (
            f"The Black/White ratio ranges from {black['rr_vs_white'].min():.1f} to "
            f"{black['rr_vs_white'].max():.1f} depending on the definition"
        )
    else:
        finding = "Ratio to White under each definition"
    chart = _ratio_forest(
        year[year["group"] == "Black"], f"{finding}, {_window_label(data, '12m')}"
    )
    asian = _ratio_forest(
        year[year["group"] == "Asian"],
        f"Asian/White ratio under each definition, {_window_label(data, '12m')}",
    )
    wide = sens.pivot_table(
        index="definition", columns=["group", "window"],
        values=["rr_vs_white", "rr_low", "rr_high"], aggfunc="first", dropna=False, sort=False,
    )  # fmt: skip
    wide.columns = [f"{v}_{g}_{w}" for v, g, w in wide.columns]
    wide = wide.reset_index()
    intervals = [
        (f"rr_vs_white_{g}_{w}", f"rr_low_{g}_{w}", f"rr_high_{g}_{w}",
         f"{g}/White, {_window_short(data, w)}")
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
            "Crude ratios: " + RATIO_METHOD_NOTE[0].lower() + RATIO_METHOD_NOTE[1:],
            "LA-standardised ratios: the interval treats searches as independent, so it does "
            "not allow for repeat searches of one person and is narrower than it should be.",
        ],
    )
    return Section(
        "Sensitivity: how much do the ratios depend on definitions?",
        [],
        [
            chart,
            WebOnly(asian, ""),
            WebOnly(
                table,
                "The Asian/White ratios and a table of every definition's ratios are in the web "
                "edition of this report.",
            ),
        ],
    )


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
            f"(a test that every authority has the same rate: "
            f"{stats.format_p(attrs['p_value'])}); force rate {attrs['target']:.1f}%."
        )
    if np.isnan(attrs["p_value"]):
        funnel_title = f"Outcome rate of searches by local authority, {period}"
    elif attrs["p_value"] < 0.05:
        funnel_title = f"Outcome rates of searches differ between local authorities, {period}"
    else:
        funnel_title = (
            f"Outcome rates of searches show no clear difference between local authorities, "
            f"{period}"
        )
    funnel_chart = charts.funnel_plot(
        funnel, title=funnel_title,
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
        [
            outcome_table,
            funnel_chart,
            WebOnly(leg_table, ""),
            WebOnly(
                obj_table,
                "Searches by power used and by object of search, for each group, are tabled in the web edition of this report.",
            ),
            removal_table,
        ],
    )


def _spc_finding(xmr: pd.DataFrame, measure: str, quarter_months: Sequence[str]) -> str:
    """A chart title stating what the control chart shows (NHS "Making Data Count" rules)."""
    flagged = xmr["special_cause"].fillna(False).astype(bool)
    recent = [m for m in quarter_months if m in set(map(str, xmr.index[flagged]))]
    if recent:
        above = (xmr.loc[recent, "value"] > xmr.loc[recent, "centre"]).all()
        below = (xmr.loc[recent, "value"] < xmr.loc[recent, "centre"]).all()
        where = " (high)" if above else " (low)" if below else ""
        return f"{measure}: unusual in the reported quarter{where}"
    if flagged.any():
        return f"{measure}: unusual earlier on, usual variation in the reported quarter"
    return f"{measure}: only usual month-to-month variation"


def trend(series: pd.DataFrame, data: StopSearchData | None = None) -> Section:
    """XmR charts and verdicts of monthly searches and the monthly Black/White ratio.

    NHS England "Making Data Count" rules (:func:`analysis.stats.xmr_chart_data`: months
    declared exceptional left out of the baseline, no run across a missing month); the line
    breaks at a missing month, the reported quarter is shaded and the charts end with it.

    Parameters
    ----------
    series : DataFrame
        :func:`.metrics.monthly_series` (indexed by month, every month held).
    data : StopSearchData, optional
        For the reported quarter (shaded; later months are not drawn). Without it the
        charts run to the last month held.
    """
    if data is not None:
        last_month = data.quarter.months[-1]
        series = series[[str(m) <= last_month for m in series.index]]
    months = [str(m) for m in series.index]
    gaps = months_missing_between(months)
    quarter = data.quarter if data is not None else None
    q_months = list(data.quarter.months) if data is not None else []
    searches_xmr = stats.xmr_chart_data(series["searches"].astype(float))
    ratio = series["rr_black_white"].replace([np.inf, -np.inf], np.nan)
    ratio_xmr = stats.xmr_chart_data(ratio)
    span = f"{_month_name(months[0])} to {_month_name(months[-1])}"
    searches_chart = charts.spc_chart(
        searches_xmr, f"{_spc_finding(searches_xmr, 'Searches of people', q_months)}, {span}",
        "Searches per month", SOURCE, quarter=quarter,
    )  # fmt: skip
    ratio_chart = charts.spc_chart(
        ratio_xmr,
        f"{_spc_finding(ratio_xmr, 'Black/White search rate ratio', q_months)}, {span}",
        "Black/White rate ratio", SOURCE, quarter=quarter,
    )  # fmt: skip
    findings = [stats.spc_verdict(searches_xmr, "Searches of people"), _ratio_verdict(ratio_xmr)]
    if gaps:
        findings.append(
            f"No data for {', '.join(_month_name(m) for m in gaps)}: a gap in the charts, "
            "and no run of points is counted across it."
        )
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
    """The tables the report publishes (``published_tables``: :func:`.metrics.published_tables`)."""
    return published_section(published_tables, reports.get("stop_search").notebook)
