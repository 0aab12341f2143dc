"""Reoffending: the sections the notebook shows (metrics in, :class:`Section` out).

Each function takes the frame of one metric (see :mod:`.metrics`); none reads the store or
writes a file. Where the data needed is absent, the section says so in a sentence.
"""

from __future__ import annotations

import pandas as pd

from analysis import charts, reports, stats, tables
from analysis.reports.reoffending.metrics import (
    PLAN_COMMUNITY,
    PLAN_SHORT_CUSTODY,
    SPC_MIN_COHORTS,
    plan_claim_rows,
)
from analysis.section import Section, published_section

__all__ = [
    "annual",
    "control_chart",
    "disposal_comparison",
    "headline",
    "local_and_sentences",
    "local_comparison",
    "plan_claim_check",
    "published",
    "trend",
]

NATIONAL_SOURCE = (
    "Ministry of Justice, Proven Reoffending Statistics, England and Wales, "
    "cohorts 2000–2014 (April 2013 to March 2014 edition)."
)
LOCAL_SOURCE = "Ministry of Justice, Proven Reoffending Statistics (local tables supplied)."
RATE_DISPLAY = {
    "offenders": "Offenders",
    "reoffenders": "Reoffenders",
    "binary_rate": "Binary rate % (95% CI)",
    "frequency": "Reoffences per reoffender",
}
"""Display headers of the rate columns shared by the report's tables."""
RATE_INTERVAL = ("binary_rate", "low", "high", "Binary rate % (95% CI)")
DISPOSAL_CAUTION = (
    "MoJ: reoffending rates by index disposal must not be read as the effectiveness of "
    "sentences: the offenders given each disposal differ (offending history, offence, risk), "
    "so raw rates are not like-for-like."
)
NO_SERIES = (
    "**No national 3-month cohort series for all offenders (new measure) in the data held**, so "
    "there is no {what}."
)


def headline(series: pd.DataFrame, spc: pd.DataFrame) -> Section:
    """Headline sentences: the latest national cohort's binary rate (95% Wilson interval) and
    frequency, the comparison with the cohort a year earlier and the control-chart verdict.

    ``series`` is :func:`~.metrics.main_series`, ``spc`` :func:`~.metrics.national_spc`.
    """
    title = "Headline"
    if series.empty:
        return Section(title, items=[NO_SERIES.format(what="headline")])
    latest = series.iloc[-1]
    earlier = series[series["cohort_start"] == latest["cohort_start"] - pd.DateOffset(years=1)]
    frequency = (
        f"; {latest['frequency']:.2f} reoffences per reoffender"
        if pd.notna(latest["frequency"])
        else ""
    )
    findings = [
        f"Latest national cohort ({latest['cohort']}, new measure, all offenders): "
        f"{tables.format_interval(latest['binary_rate'], latest['low'], latest['high'])}% "
        f"of {tables.format_count(latest['offenders'])} offenders committed a proven "
        f"reoffence{frequency}."
    ]
    if len(earlier):
        e = earlier.iloc[0]
        bounds = [latest["low"], latest["high"], e["low"], e["high"]]
        if any(pd.isna(b) for b in bounds):
            words = "no interval: reoffender counts not published"
        elif latest["low"] > e["high"] or latest["high"] < e["low"]:
            words = "95% intervals do not overlap: a change beyond chance"
        else:
            words = "95% intervals overlap: no clear change"
        findings.append(
            f"A year earlier ({e['cohort']}): "
            f"{tables.format_interval(e['binary_rate'], e['low'], e['high'])}% ({words})."
        )
    if len(series) >= SPC_MIN_COHORTS and not spc.empty:
        findings.append(
            stats.spc_verdict(spc, "Control chart of the 3-month rate", unit="per 3-month cohort")
        )
    findings.append(
        "These are national figures: the latest cohort supplied began in "
        f"{latest['cohort_start']:%B %Y}, so they describe England and Wales, not this quarter."
    )
    return Section(title, findings=findings)


def trend(rates: pd.DataFrame) -> Section:
    """Line chart of the national binary rate (all offenders) from
    :func:`~.metrics.national_rates`: new 3-month cohorts and the old 12-month measure as
    separate lines, because the change of measure is a break."""
    title = "National trend and the change of measure"
    if rates.empty or rates["binary_rate"].notna().sum() == 0:
        return Section(title, items=[NO_SERIES.format(what="trend chart")])
    keep = (rates["group"] == "All") & (
        ((rates["measure"] == "new") & rates["temporal_unit"].str.startswith("3"))
        | (rates["measure"] == "old")
    )
    # cohorts without a published rate stay in as gaps in the line
    plot = rates[keep].sort_values("cohort_start").copy()
    plot = plot.rename(columns={"cohort_start": "Cohort start", "series": "Series"})
    chart = charts.line_chart(
        plot,
        x="Cohort start",
        y="binary_rate",
        title="Proven reoffending rate, England and Wales, all offenders (two measures: a break)",
        y_label="Reoffenders as % of the cohort",
        source=NATIONAL_SOURCE,
        hue="Series",
    )
    chart.data = plot.reset_index(drop=True)
    return Section(title, items=[chart])


def spc_title(spc: pd.DataFrame) -> str:
    """The control chart's finding in words, judged at the latest cohort (NHS "Making Data
    Count" rules of :func:`analysis.stats.xmr_chart_data`)."""
    judged = spc[~spc["missing"] & ~spc["excluded"]] if "missing" in spc else spc
    last, label = judged.iloc[-1], str(judged.index[-1])
    what = "National proven reoffending rate (3-month cohorts)"
    side = "above" if last["value"] > last["centre"] else "below"
    if last["rule_outside"]:
        return f"{what}: the latest cohort ({label}) is {side} its usual range"
    if last["special_cause"]:
        return f"{what} is running {side} its average at the latest cohort ({label})"
    if judged["special_cause"].any():
        return (
            f"{what} shifted over the years, but the latest cohort ({label}) is within its "
            "usual range"
        )
    return f"{what} varied only within its usual range up to {label}"


def control_chart(spc: pd.DataFrame) -> Section:
    """XmR control chart of the new-measure binary rate (3-month cohorts, all offenders) from
    :func:`~.metrics.national_spc`, or a sentence when fewer than
    :data:`~.metrics.SPC_MIN_COHORTS` cohorts are published."""
    title = "Is the national rate stable? (control chart)"
    if len(spc) < SPC_MIN_COHORTS:
        what = f"control chart (needs {SPC_MIN_COHORTS} cohorts)"
        return Section(title, items=[NO_SERIES.format(what=what)])
    missing = spc.attrs.get("missing_cohorts", [])
    note = f" Cohorts with no published rate, left out: {', '.join(missing)}." if missing else ""
    chart = charts.spc_chart(
        spc,
        title=spc_title(spc),
        y_label="Reoffenders as % of the cohort",
        source=NATIONAL_SOURCE + note,
    )
    chart.data = spc
    return Section(title, items=[chart])


def local_comparison(funnel: pd.DataFrame) -> Section:
    """Funnel plot of local areas against the national rate (:func:`~.metrics.local_funnel`),
    or a plain sentence when no local MoJ table was supplied."""
    title = "Local areas against the national rate"
    if funnel.empty:
        return Section(
            title,
            items=[
                "**No local reoffending data supplied**, so areas cannot be compared with the "
                "national rate."
            ],
        )
    cohort = funnel.attrs["cohort"]
    chart = charts.funnel_plot(
        funnel,
        title=f"Proven reoffending rate by area, cohort {cohort}, against the "
        f"{funnel.attrs['target_label']}",
        x_label="Offenders in the cohort",
        y_label="Reoffenders as % of the cohort",
        source=LOCAL_SOURCE + " Limits: 95% and 99.8% binomial.",
        label="area",
    )
    chart.data = funnel
    return Section(title, items=[chart])


LOCAL_ABSENT = (
    "**No local reoffending figures are held.** The Ministry of Justice's tables for police "
    "force areas, local authorities and sentences are not public at this level and have not "
    "been supplied, so local areas cannot be compared with England and Wales and the figures "
    "quoted in Northumbria's Police and Crime Plan ({short}% after custody of less than 12 months, {community:.0f}% after a "
    "community sentence) cannot be checked. The figures in this chapter are national."
)


def local_and_sentences(funnel: pd.DataFrame, disposals: pd.DataFrame) -> Section:
    """Local areas against the national rate and rates by sentence: one short paragraph when
    no local MoJ table was supplied, else the funnel plot (:func:`local_comparison`) and the
    disposal table (:func:`disposal_comparison`)."""
    title = "Local areas and sentences"
    if funnel.empty and disposals.empty:
        text = LOCAL_ABSENT.format(short=PLAN_SHORT_CUSTODY, community=PLAN_COMMUNITY)
        return Section(title, items=[text])
    items: list = []
    caveats: list[str] = []
    for part in (local_comparison(funnel), disposal_comparison(disposals)):
        items += part.items
        caveats += part.caveats
    return Section(title, items=items, caveats=caveats)


def plan_claim_check(disposals: pd.DataFrame) -> str:
    """Sentence setting the plan's 64.5% (custody under 12 months) and 38% (community
    sentence) against the rows of :func:`~.metrics.disposal_rates` chosen by
    :func:`~.metrics.plan_claim_rows`, or saying it cannot be reproduced."""
    rows = plan_claim_rows(disposals)
    if rows is None:
        return (
            f"The figures quoted in Northumbria's Police and Crime Plan ({PLAN_SHORT_CUSTODY}% "
            "after custody of less than 12 months, "
            f"{PLAN_COMMUNITY:.0f}% after a community sentence) are not reproducible from the "
            "data supplied: the MoJ series held has no breakdown by index disposal."
        )
    s, c = rows
    return (
        f"Northumbria's Police and Crime Plan quotes {PLAN_SHORT_CUSTODY}% after custody of less than 12 months and "
        f"{PLAN_COMMUNITY:.0f}% after a community sentence. The data supplied give "
        f"{tables.format_interval(s['binary_rate'], s['low'], s['high'])}% for "
        f"'{s['breakdown']}' (cohort {s['cohort']}) and "
        f"{tables.format_interval(c['binary_rate'], c['low'], c['high'])}% for "
        f"'{c['breakdown']}' (cohort {c['cohort']}), 95% Wilson intervals. {DISPOSAL_CAUTION}"
    )


def disposal_comparison(disposals: pd.DataFrame) -> Section:
    """Binary rates by index disposal (:func:`~.metrics.disposal_rates`) with MoJ's caution
    and the plan's claim checked, or a plain statement when no disposal breakdown was
    supplied."""
    title = "By sentence (index disposal) and the plan's claim"
    claim = plan_claim_check(disposals)
    if disposals.empty:
        return Section(title, items=[f"**No breakdown by index disposal supplied.** {claim}"])
    table = tables.report_table(
        disposals,
        columns={"cohort": "Cohort", "breakdown": "Index disposal", **RATE_DISPLAY},
        caption="Proven reoffending by index disposal (data supplied)",
        intervals=[RATE_INTERVAL],
        counts=["offenders", "reoffenders"],
        rates=["frequency"],
        notes=[claim, DISPOSAL_CAUTION, f"Source: {LOCAL_SOURCE}"],
    )
    return Section(title, items=[table])


def annual(rates: pd.DataFrame) -> Section:
    """Annual cohorts of all offenders, both measures, from :func:`~.metrics.national_rates`:
    binary rate (95% Wilson interval), frequency per reoffender and per offender."""
    annual_rows = rates[(rates["group"] == "All") & ~rates["temporal_unit"].str.startswith("3")]
    annual_rows = annual_rows.sort_values(["measure", "cohort_start"], ascending=[False, True])
    table = tables.report_table(
        annual_rows,
        columns={
            "series": "Series",
            "cohort": "Cohort",
            **RATE_DISPLAY,
            "reoffences_per_offender": "Reoffences per offender",
        },
        caption="Proven reoffending, England and Wales, 12-month cohorts of all offenders",
        intervals=[RATE_INTERVAL],
        counts=["offenders", "reoffenders"],
        rates=["frequency", "reoffences_per_offender"],
        notes=[
            "Binary rate = reoffenders ÷ offenders; 95% Wilson interval.",
            "Frequency = reoffences ÷ reoffenders (MoJ's published figure).",
            "Old and new measures count differently: compare within a measure only.",
            f"Source: {NATIONAL_SOURCE}",
        ],
    )
    return Section("Rates and frequency by annual cohort", items=[table])


def published(tables_: dict[str, pd.DataFrame]) -> Section:
    """The CSVs the report publishes (file, rows, columns), from
    :func:`~.metrics.published_tables`."""
    section = published_section(tables_, reports.get("reoffending").notebook)
    section.caveats.append(
        "reoffending_rates.csv holds every national cohort, measure and group, plus any local "
        "rows; binary_rate in %, low and high its 95% Wilson interval in %, frequency = "
        "reoffences per reoffender. Local figures come from a non-public extract: reoffender "
        "counts from 1 to 4, and any figure that would reveal them, are shown as [c]."
    )
    return section
