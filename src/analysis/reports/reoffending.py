"""Report 04_reoffending: Ministry of Justice proven reoffending, nationally and locally.

Answers the Police and Crime Plan's reducing-reoffending commitment and its claim that short
custodial sentences are ineffective ("64.5% of prisoners released from sentences of less than
12 months reoffend within one year … much higher than the 38% who reoffend after serving a
community-based sentence").

Definitions (MoJ Proven Reoffending Statistics)
-----------------------------------------------
cohort
    Offenders released from custody, convicted at court with a non-custodial sentence, or given
    a caution (reprimand or warning) in a 3-month period (the "new measure"; the older "old
    measure" used a 12-month cohort and a different counting rule, so the two series are not
    comparable: the switch is a break in the series).
proven reoffence
    An offence committed within one year of entering the cohort and proven by a court
    conviction or caution within that year or a further six-month waiting period.
binary rate
    reoffenders ÷ offenders in the cohort, as a percentage; 95% Wilson interval.
frequency
    reoffences ÷ reoffenders (average number of proven reoffences per reoffender); also given
    per offender (reoffences ÷ offenders).

Source: Ministry of Justice, Proven Reoffending Statistics, England and Wales, cohorts
2000–2014 (store table ``reoffending_national``); local breakdowns when a user has supplied
the MoJ tables (store table ``reoffending_local``, see :mod:`analysis.reoffending_data`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown

from analysis import charts, stats, tables
from analysis.errors import CrimeplanError
from analysis.outputs import write_table
from analysis.params import RunParameters

REPORT = "04_reoffending"
NATIONAL_AREA = "England and Wales"
NATIONAL_SOURCE = (
    "Ministry of Justice, Proven Reoffending Statistics, England and Wales, "
    "cohorts 2000–2014 (April 2013 to March 2014 edition)."
)
LOCAL_SOURCE = "Ministry of Justice, Proven Reoffending Statistics (local tables supplied)."
PLAN_SHORT_CUSTODY = 64.5
PLAN_COMMUNITY = 38.0
SHORT_CUSTODY_PATTERN = re.compile(r"(?:less than|under|<)\s*12\s*months?", re.IGNORECASE)
COMMUNITY_PATTERN = re.compile(r"community", re.IGNORECASE)
NATIONAL_CODE_PATTERN = re.compile(r"^(K0[34]|E92|W92)")
PUBLISHED_COLUMNS = [
    "cohort", "breakdown", "area", "offenders", "reoffenders", "reoffences",
    "binary_rate", "low", "high", "frequency",
]  # fmt: skip
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


@dataclass(frozen=True)
class ReoffendingData:
    """What the 04_reoffending notebook reads from the store.

    Attributes
    ----------
    run : RunParameters
    national : DataFrame
        One row per measure × temporal unit × group × cohort start (see :func:`national_wide`).
    local : DataFrame
        The ``reoffending_local`` store table; empty (same columns) when no file was supplied.
    """

    run: RunParameters
    national: pd.DataFrame
    local: pd.DataFrame


LOCAL_COLUMNS = [
    "cohort", "breakdown", "area_code", "area_name", "offenders", "reoffenders", "reoffences",
    "source_file", "source_line",
]  # fmt: skip


# ------------------------------------------------------------------ I/O edge


def _store_tables(store: object) -> set[str]:
    names = set(store.query("select table_name from information_schema.tables")["table_name"])
    if _local_parquet(store).is_file():
        names.add("reoffending_local")
    return names


def _local_parquet(store: object) -> Path:
    return Path(store.snapshot_dir) / "reoffending_local.parquet"


def _read_local(store: object) -> pd.DataFrame:
    """The ``reoffending_local`` table: a store view when the store declares one, else the
    snapshot's Parquet file written by ingest (``analysis.store`` does not list it yet)."""
    views = set(store.query("select table_name from information_schema.tables")["table_name"])
    if "reoffending_local" in views:
        return store.query("select * from reoffending_local")
    return store.query("select * from read_parquet(?)", [_local_parquet(store).as_posix()])


def missing_data_reason(store: object, run: RunParameters) -> str | None:
    """None when the store holds the national MoJ series, else a one-sentence reason."""
    if "reoffending_national" not in _store_tables(store):
        return (
            "The store has no MoJ proven reoffending series (reoffending_national); add "
            "reference/reoffending/proven_reoffending_data.csv to the raw folder and re-ingest."
        )
    return None


def load(run: RunParameters) -> ReoffendingData:
    """Read the national (and, when supplied, local) MoJ reoffending tables from the store.

    Raises
    ------
    CrimeplanError
        When the store has no ``reoffending_national`` table.
    """
    from analysis.store import Store

    store = Store(run.processed_path)
    reason = missing_data_reason(store, run)
    if reason:
        raise CrimeplanError(reason)
    national = national_wide(store.table("reoffending_national"))
    if "reoffending_local" in _store_tables(store):
        local = _read_local(store)
    else:
        local = pd.DataFrame({c: pd.Series(dtype="object") for c in LOCAL_COLUMNS})
    return ReoffendingData(run=run, national=national, local=local)


# ------------------------------------------------------------------ pure functions


def cohort_label(start: pd.Timestamp, months: int) -> str:
    """``"YYYY-MM to YYYY-MM"``: the first and last month of a cohort of ``months`` months."""
    start = pd.Timestamp(start)
    end = start + pd.DateOffset(months=months - 1)
    return f"{start:%Y-%m} to {end:%Y-%m}"


def national_wide(long: pd.DataFrame) -> pd.DataFrame:
    """The national long series (``measure, temporal_unit, date, group, rate, value``) made wide.

    Returns
    -------
    DataFrame
        One row per ``measure, temporal_unit, group, cohort_start`` with ``cohort`` (label),
        ``offenders`` (MoJ ``cohort``), ``reoffenders``, ``reoffences``, ``binary_rate``
        (MoJ's published percentage), ``frequency`` (MoJ's published reoffences per
        reoffender), ``adjusted`` and ``ogrs4`` where published (adults, new measure). Cohorts
        without published figures are kept with missing values.
    """
    frame = long.copy()
    frame["cohort_start"] = pd.to_datetime(frame["date"])
    wide = frame.pivot_table(
        index=["measure", "temporal_unit", "group", "cohort_start"],
        columns="rate",
        values="value",
        aggfunc="first",
        dropna=False,
    )
    wide = wide.reset_index().rename(
        columns={"cohort": "offenders", "binary": "binary_rate", "OGRS4": "ogrs4"}
    )
    wide.columns.name = None
    for col in ("offenders", "reoffenders", "reoffences", "binary_rate", "frequency"):
        if col not in wide:
            wide[col] = np.nan
    months = np.where(wide["temporal_unit"].str.startswith("3"), 3, 12)
    wide["cohort"] = [cohort_label(s, m) for s, m in zip(wide["cohort_start"], months, strict=True)]
    # the full product of index levels is not wanted: keep combinations present in the source
    present = frame[["measure", "temporal_unit", "group", "cohort_start"]].drop_duplicates()
    wide = wide.merge(present, on=["measure", "temporal_unit", "group", "cohort_start"])
    return wide.sort_values(["measure", "temporal_unit", "group", "cohort_start"]).reset_index(
        drop=True
    )


def series_label(measure: str, temporal_unit: str) -> str:
    """Plain label of a national series, e.g. ``"New measure, 3-month cohorts"``."""
    unit = "3-month cohorts" if str(temporal_unit).startswith("3") else "12-month cohorts"
    return f"{str(measure).capitalize()} measure, {unit}"


def national_rates(data: ReoffendingData) -> pd.DataFrame:
    """National cohorts with Wilson intervals on the binary rate.

    ``binary_rate`` is MoJ's published percentage; ``low, high`` are the 95% Wilson interval
    of reoffenders ÷ offenders (as percentages), missing where either count is not published;
    ``frequency`` is MoJ's reoffences per
    reoffender and ``reoffences_per_offender`` = reoffences ÷ offenders. ``series`` names the
    measure and cohort length.
    """
    table = data.national.copy()
    counted = table["reoffenders"].notna() & table["offenders"].notna()
    ci = stats.wilson_interval(
        table["reoffenders"].where(counted, 0), table["offenders"].where(counted, 0)
    )
    table["low"] = (ci["low"] * 100).where(counted)
    table["high"] = (ci["high"] * 100).where(counted)
    table["reoffences_per_offender"] = table["reoffences"] / table["offenders"]
    table["series"] = [
        series_label(m, t) for m, t in zip(table["measure"], table["temporal_unit"], strict=True)
    ]
    return table


def national_trend_chart(data: ReoffendingData) -> charts.Chart | Markdown:
    """Line chart of the national binary rate (all offenders): new 3-month cohorts and the old
    12-month measure as separate lines, because the change of measure is a break."""
    table = national_rates(data)
    if table.empty or table["binary_rate"].notna().sum() == 0:
        return Markdown(NO_SERIES.format(what="trend chart"))
    keep = (table["group"] == "All") & (
        ((table["measure"] == "new") & table["temporal_unit"].str.startswith("3"))
        | (table["measure"] == "old")
    )
    # cohorts without a published rate stay in as gaps in the line
    plot = table[keep].sort_values("cohort_start").copy()
    plot = plot.rename(columns={"cohort_start": "Cohort start", "series": "Series"})
    return charts.line_chart(
        plot,
        x="Cohort start",
        y="binary_rate",
        title="Proven reoffending rate, England and Wales, all offenders (two measures: a break)",
        y_label="Reoffenders as % of the cohort",
        source=NATIONAL_SOURCE,
        hue="Series",
    )


SPC_MIN_COHORTS = 12
"""Fewest published 3-month cohorts for a control chart."""
NO_SERIES = (
    "**No national 3-month cohort series for all offenders (new measure) in the store**, so "
    "there is no {what}."
)


def main_series(data: ReoffendingData) -> pd.DataFrame:
    """National rows of the new measure, 3-month cohorts, all offenders, with a published
    binary rate, in cohort order (with Wilson intervals from :func:`national_rates`)."""
    rates = national_rates(data)
    if rates.empty:
        return rates
    keep = (
        (rates["measure"] == "new")
        & rates["temporal_unit"].str.startswith("3")
        & (rates["group"] == "All")
        & rates["binary_rate"].notna()
    )
    return rates[keep].sort_values("cohort_start")


def national_spc(data: ReoffendingData) -> pd.DataFrame:
    """XmR chart data of the new-measure binary rate for 3-month cohorts of all offenders.

    Cohorts without a published rate (the four cohorts of 2001) are left out and listed in
    ``attrs["missing_cohorts"]``.
    """
    table = data.national
    rows = table[
        (table["measure"] == "new")
        & table["temporal_unit"].str.startswith("3")
        & (table["group"] == "All")
    ]
    series = rows.set_index(rows["cohort_start"].dt.strftime("%Y-%m"))["binary_rate"]
    missing = list(series.index[series.isna()])
    xmr = stats.xmr_chart_data(series.dropna())
    xmr.attrs["missing_cohorts"] = missing
    return xmr


def national_spc_chart(data: ReoffendingData) -> charts.Chart | Markdown:
    """XmR control chart of the new-measure binary rate (3-month cohorts, all offenders), or
    a sentence when fewer than :data:`SPC_MIN_COHORTS` cohorts are published."""
    if len(main_series(data)) < SPC_MIN_COHORTS:
        return Markdown(NO_SERIES.format(what=f"control chart (needs {SPC_MIN_COHORTS} cohorts)"))
    xmr = national_spc(data)
    missing = xmr.attrs.get("missing_cohorts", [])
    note = f" Cohorts with no published rate, left out: {', '.join(missing)}." if missing else ""
    return charts.spc_chart(
        xmr,
        title="Proven reoffending rate, 3-month cohorts: control chart (new measure)",
        y_label="Reoffenders as % of the cohort",
        source=NATIONAL_SOURCE + note,
    )


def national_headline(data: ReoffendingData) -> Markdown:
    """Headline sentences: the latest national cohort's binary rate (95% Wilson interval) and
    frequency, the year-on-year comparison and the control-chart verdict."""
    new = main_series(data)
    if new.empty:
        return Markdown(NO_SERIES.format(what="headline"))
    latest = new.iloc[-1]
    earlier = new[new["cohort_start"] == latest["cohort_start"] - pd.DateOffset(years=1)]
    frequency = (
        f"; {latest['frequency']:.2f} reoffences per reoffender"
        if pd.notna(latest["frequency"])
        else ""
    )
    lines = [
        f"- Latest national cohort ({latest['cohort']}, new measure, all offenders): "
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
        lines.append(
            f"- A year earlier ({e['cohort']}): "
            f"{tables.format_interval(e['binary_rate'], e['low'], e['high'])}% ({words})."
        )
    if len(new) >= SPC_MIN_COHORTS:
        verdict = stats.spc_verdict(
            national_spc(data), "Control chart of the 3-month rate", unit="per 3-month cohort"
        )
        lines.append(f"- {verdict}")
    lines.append(
        "- These are national figures: the latest cohort supplied began in "
        f"{latest['cohort_start']:%B %Y}, so they describe England and Wales, not this quarter."
    )
    return Markdown("\n".join(lines))


def national_table(data: ReoffendingData) -> tables.ReportTable:
    """Annual cohorts of all offenders, both measures: binary rate (95% Wilson interval),
    frequency per reoffender and per offender."""
    rates = national_rates(data)
    annual = rates[(rates["group"] == "All") & ~rates["temporal_unit"].str.startswith("3")]
    annual = annual.sort_values(["measure", "cohort_start"], ascending=[False, True])
    return tables.report_table(
        annual,
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


def local_rates(local: pd.DataFrame) -> pd.DataFrame:
    """Local MoJ rows with ``binary_rate`` (%), Wilson ``low, high`` (%) and ``frequency``.

    ``binary_rate = reoffenders ÷ offenders × 100``; ``frequency = reoffences ÷ reoffenders``.
    Suppressed source counts give missing rates.
    """
    table = local.copy()
    off = pd.to_numeric(table["offenders"], errors="coerce").astype(float)
    reo = pd.to_numeric(table["reoffenders"], errors="coerce").astype(float)
    rences = pd.to_numeric(table["reoffences"], errors="coerce").astype(float)
    ok = off.notna() & reo.notna() & (off > 0)
    ci = stats.wilson_interval(reo.where(ok, 0), off.where(ok, 0))
    table["binary_rate"] = (reo / off * 100).where(ok)
    table["low"] = (ci["low"] * 100).where(ok)
    table["high"] = (ci["high"] * 100).where(ok)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["frequency"] = (rences / reo).where(reo > 0)
    return table


def _is_national_row(table: pd.DataFrame) -> pd.Series:
    code = table["area_code"].astype("string").fillna("")
    name = table["area_name"].astype("string").fillna("").str.lower()
    return code.str.match(NATIONAL_CODE_PATTERN) | name.isin(
        ["england and wales", "england & wales", "national"]
    )


def local_funnel(local: pd.DataFrame) -> pd.DataFrame:
    """Funnel table of the areas' binary rates for the latest cohort in the local table.

    Units are rows with an area (code or name) and no disposal breakdown (``"All offenders"``)
    in the latest cohort (last in file order). The target is the national rate when the file
    holds an England and Wales row for that cohort (limits from exact binomial quantiles
    around it), otherwise the pooled rate of the areas; ``attrs["target_label"]`` says which.
    Empty when there are no area rows.
    """
    rates = local_rates(local)
    has_area = rates["area_code"].notna() | rates["area_name"].notna()
    areas = rates[has_area & (rates["breakdown"] == "All offenders")]
    if areas.empty:
        return areas
    cohort = areas["cohort"].iloc[-1]
    areas = areas[areas["cohort"] == cohort]
    national = areas[_is_national_row(areas) & areas["offenders"].notna()]
    units = areas[~_is_national_row(areas)].copy()
    units = units[units["offenders"].notna() & units["reoffenders"].notna()]
    if units.empty:
        return units
    units["area"] = units["area_name"].fillna(units["area_code"])
    units["reoffenders"] = units["reoffenders"].astype(float)
    units["offenders"] = units["offenders"].astype(float)
    target, target_label = None, "pooled rate of the areas shown"
    if len(national):
        row = national.iloc[0]
        target = float(row["reoffenders"]) / float(row["offenders"]) * 100
        target_label = f"national rate ({row['area_name'] or row['area_code']})"
    funnel = stats.funnel_table(
        units,
        "reoffenders",
        "offenders",
        kind="proportion",
        per=100.0,
        label="area",
        target=target,
    )
    funnel.attrs["cohort"] = cohort
    funnel.attrs["target_label"] = target_label
    return funnel


def local_comparison(data: ReoffendingData) -> charts.Chart | Markdown:
    """Funnel plot of local areas against the national rate, or a plain sentence when no
    local MoJ table was supplied."""
    funnel = local_funnel(data.local)
    if funnel.empty:
        return Markdown(
            "**No local reoffending data supplied.** The store holds only the national England "
            "and Wales series, so areas (PCC areas or local authorities) cannot be compared. "
            "To add them, save the MoJ proven reoffending local tables as CSV in "
            "`data/raw/reference/reoffending/` and run `crimeplan ingest`."
        )
    cohort = funnel.attrs["cohort"]
    return charts.funnel_plot(
        funnel,
        title=f"Proven reoffending rate by area, cohort {cohort}, against the "
        f"{funnel.attrs['target_label']}",
        x_label="Offenders in the cohort",
        y_label="Reoffenders as % of the cohort",
        source=LOCAL_SOURCE + " Limits: 95% and 99.8% binomial.",
        label="area",
    )


def disposal_rates(local: pd.DataFrame) -> pd.DataFrame:
    """Rows broken down by index disposal (breakdown other than "All offenders"), with rates."""
    rates = local_rates(local)
    return rates[rates["breakdown"] != "All offenders"].copy()


def plan_claim_check(local: pd.DataFrame) -> str:
    """Sentence setting the plan's 64.5% (custody under 12 months) and 38% (community
    sentence) against the supplied index-disposal rows, or saying it cannot be reproduced."""
    rates = disposal_rates(local)
    short = rates[rates["breakdown"].str.contains(SHORT_CUSTODY_PATTERN, na=False)]
    community = rates[rates["breakdown"].str.contains(COMMUNITY_PATTERN, na=False)]
    if short.empty or community.empty:
        return (
            f"The plan's figures ({PLAN_SHORT_CUSTODY}% after custody of less than 12 months, "
            f"{PLAN_COMMUNITY:.0f}% after a community sentence) are not reproducible from the "
            "data supplied: the MoJ series held has no breakdown by index disposal."
        )
    s, c = short.iloc[-1], community.iloc[-1]
    return (
        f"The plan quotes {PLAN_SHORT_CUSTODY}% after custody of less than 12 months and "
        f"{PLAN_COMMUNITY:.0f}% after a community sentence. The data supplied give "
        f"{tables.format_interval(s['binary_rate'], s['low'], s['high'])}% for "
        f"'{s['breakdown']}' (cohort {s['cohort']}) and "
        f"{tables.format_interval(c['binary_rate'], c['low'], c['high'])}% for "
        f"'{c['breakdown']}' (cohort {c['cohort']}), 95% Wilson intervals. {DISPOSAL_CAUTION}"
    )


def disposal_comparison(data: ReoffendingData) -> tables.ReportTable | Markdown:
    """Binary rates by index disposal with MoJ's caution and the plan's claim checked, or a
    plain statement when no disposal breakdown was supplied."""
    rates = disposal_rates(data.local)
    claim = plan_claim_check(data.local)
    if rates.empty:
        return Markdown(f"**No breakdown by index disposal supplied.** {claim}")
    return tables.report_table(
        rates,
        columns={"cohort": "Cohort", "breakdown": "Index disposal", **RATE_DISPLAY},
        caption="Proven reoffending by index disposal (data supplied)",
        intervals=[RATE_INTERVAL],
        counts=["offenders", "reoffenders"],
        rates=["frequency"],
        notes=[claim, DISPOSAL_CAUTION, f"Source: {LOCAL_SOURCE}"],
    )


def reoffending_rates_table(data: ReoffendingData) -> pd.DataFrame:
    """The published table ``reoffending_rates.csv``.

    Columns ``cohort, breakdown, area, offenders, reoffenders, reoffences, binary_rate, low,
    high, frequency``. National rows: ``breakdown`` = ``"<group>; <measure> measure;
    <3-month|12-month> cohort"``, ``area`` = England and Wales, ``binary_rate`` and
    ``frequency`` MoJ's published values, ``low, high`` 95% Wilson (percent). Local rows (when
    supplied) after small-count suppression (reoffenders 1–4 and their rates blanked, plus
    the next smallest area of the same cohort and breakdown so totals cannot reveal them).
    """
    rates = national_rates(data)
    national = pd.DataFrame(
        {
            "cohort": rates["cohort"],
            "breakdown": [
                f"{g}; {m} measure; {'3-month' if str(t).startswith('3') else '12-month'} cohort"
                for g, m, t in zip(
                    rates["group"], rates["measure"], rates["temporal_unit"], strict=True
                )
            ],
            "area": NATIONAL_AREA,
            "offenders": rates["offenders"].astype("Int64"),
            "reoffenders": rates["reoffenders"].astype("Int64"),
            "reoffences": rates["reoffences"].astype("Int64"),
            "binary_rate": rates["binary_rate"],
            "low": rates["low"],
            "high": rates["high"],
            "frequency": rates["frequency"],
        }
    )
    if data.local.empty:
        return national
    loc = local_rates(data.local)
    local = pd.DataFrame(
        {
            "cohort": loc["cohort"].astype(str),
            "breakdown": loc["breakdown"].astype(str),
            "area": loc["area_name"].fillna(loc["area_code"]).fillna("not stated in source"),
            "offenders": pd.array(loc["offenders"], dtype="Int64"),
            "reoffenders": pd.array(loc["reoffenders"], dtype="Int64"),
            "reoffences": pd.array(loc["reoffences"], dtype="Int64"),
            "binary_rate": loc["binary_rate"],
            "low": loc["low"],
            "high": loc["high"],
            "frequency": loc["frequency"],
        }
    )
    # areas (and disposals) of one cohort and breakdown may sum to a published total, so the
    # secondary suppression works within each cohort x breakdown
    local = stats.suppress_small_counts(
        local,
        "reoffenders",
        by=["cohort", "breakdown"],
        dependent=("binary_rate", "low", "high", "frequency", "reoffences"),
    )
    return pd.concat([national, local[PUBLISHED_COLUMNS]], ignore_index=True)


def publish_tables(data: ReoffendingData) -> list[Path]:
    """Write ``tables/04_reoffending/reoffending_rates.csv`` and return the paths written."""
    write_table(reoffending_rates_table(data), data.run.output_path, REPORT, "reoffending_rates")
    return [data.run.output_path / "tables" / REPORT / "reoffending_rates.csv"]


def published_rates(data: ReoffendingData) -> tables.ReportTable:
    """Publish ``reoffending_rates.csv`` (:func:`publish_tables`) and show the national annual
    cohorts (:func:`national_table`) with a note naming the file written and its rows."""
    paths = publish_tables(data)
    shown = national_table(data)
    rows = len(reoffending_rates_table(data))
    for path in paths:
        shown.notes.append(
            f"Published: {path.relative_to(data.run.output_path).as_posix()} ({rows:,} rows: "
            "every national cohort, measure and group, plus any local rows; columns cohort, "
            "breakdown, area, offenders, reoffenders, reoffences, binary_rate (%), low, high "
            "(95% Wilson, %), frequency)."
        )
    return shown
