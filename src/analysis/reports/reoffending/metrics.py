"""Reoffending: the figures (pure functions, DataFrames in and out; the report's API).

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
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import stats

if TYPE_CHECKING:
    from analysis.reports.reoffending.data import ReoffendingData

__all__ = [
    "PUBLISHED_COLUMNS",
    "SPC_MIN_COHORTS",
    "disposal_rates",
    "local_funnel",
    "local_rates",
    "main_series",
    "national_rates",
    "national_spc",
    "protect_local",
    "published_tables",
    "reoffending_rates",
    "series_label",
]

NATIONAL_AREA = "England and Wales"
PLAN_SHORT_CUSTODY = 64.5
PLAN_COMMUNITY = 38.0
SHORT_CUSTODY_PATTERN = re.compile(r"(?:less than|under|<)\s*12\s*months?", re.IGNORECASE)
COMMUNITY_PATTERN = re.compile(r"community", re.IGNORECASE)
NATIONAL_CODE_PATTERN = re.compile(r"^(K0[34]|E92|W92)")
PUBLISHED_COLUMNS = [
    "cohort", "breakdown", "area", "offenders", "reoffenders", "reoffences",
    "binary_rate", "low", "high", "frequency",
]  # fmt: skip
"""Columns of ``tables/04_reoffending/reoffending_rates.csv``, in order."""
SPC_MIN_COHORTS = 12
"""Fewest published 3-month cohorts for a control chart."""


def series_label(measure: str, temporal_unit: str) -> str:
    """Plain label of a national series, e.g. ``"New measure, 3-month cohorts"``."""
    unit = "3-month cohorts" if str(temporal_unit).startswith("3") else "12-month cohorts"
    return f"{str(measure).capitalize()} measure, {unit}"


def national_rates(data: ReoffendingData) -> pd.DataFrame:
    """National cohorts with Wilson intervals on the binary rate.

    Source: the MoJ national series (``data.national``), every measure, cohort length, group
    and cohort. ``binary_rate`` is MoJ's published percentage (reoffenders ÷ offenders × 100);
    ``low, high`` are the 95% Wilson interval of reoffenders ÷ offenders (as percentages),
    missing where either count is not published; ``frequency`` is MoJ's reoffences per
    reoffender and ``reoffences_per_offender`` = reoffences ÷ offenders. ``series`` names the
    measure and cohort length.

    Returns
    -------
    DataFrame
        The columns of ``data.national`` plus ``low, high, reoffences_per_offender, series``.
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


def main_series(data: ReoffendingData) -> pd.DataFrame:
    """The headline national series: binary rate of 3-month cohorts of all offenders.

    Rows of :func:`national_rates` for the new measure, 3-month cohorts, group ``All``, with a
    published binary rate (reoffenders ÷ offenders × 100, 95% Wilson interval), in cohort
    order; the last row is the latest national cohort.
    """
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

    Value: MoJ's published binary rate (reoffenders ÷ offenders × 100) of each cohort, index
    ``YYYY-MM`` of the cohort start (:func:`analysis.stats.xmr_chart_data`). Cohorts without a
    published rate (the four cohorts of 2001) are left out and listed in
    ``attrs["missing_cohorts"]``. Empty when fewer than :data:`SPC_MIN_COHORTS` cohorts have a
    rate (too few for control limits).
    """
    table = data.national
    if table.empty:
        rows = table
        series = pd.Series(dtype=float)
    else:
        rows = table[
            (table["measure"] == "new")
            & table["temporal_unit"].str.startswith("3")
            & (table["group"] == "All")
        ]
        series = rows.set_index(rows["cohort_start"].dt.strftime("%Y-%m"))["binary_rate"]
    missing = list(series.index[series.isna()])
    if series.notna().sum() < SPC_MIN_COHORTS:
        xmr = pd.DataFrame()
    else:
        xmr = stats.xmr_chart_data(series.dropna())
    xmr.attrs["missing_cohorts"] = missing
    return xmr


def local_rates(local: pd.DataFrame) -> pd.DataFrame:
    """Local MoJ rows with ``binary_rate`` (%), Wilson ``low, high`` (%) and ``frequency``.

    Source: the supplied MoJ local tables (``reoffending_local``), each row as given.
    ``binary_rate = reoffenders ÷ offenders × 100`` (95% Wilson interval);
    ``frequency = reoffences ÷ reoffenders``. Suppressed source counts give missing rates.
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
    in the latest cohort (last in file order); rate = reoffenders ÷ offenders × 100. The target
    is the national rate when the file holds an England and Wales row for that cohort (limits
    from exact binomial quantiles around it), otherwise the pooled rate of the areas;
    ``attrs["target_label"]`` says which, ``attrs["cohort"]`` names the cohort. Empty when
    there are no area rows.
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


def disposal_rates(local: pd.DataFrame) -> pd.DataFrame:
    """Binary rates by index disposal: the :func:`local_rates` rows whose ``breakdown`` is a
    disposal (anything but "All offenders"); rate = reoffenders ÷ offenders × 100."""
    rates = local_rates(local)
    return rates[rates["breakdown"] != "All offenders"].copy()


def plan_claim_rows(disposals: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """The disposal rows to set against the plan's 64.5% and 38%: the last row whose
    breakdown is custody of less than 12 months and the last community-sentence row of
    :func:`disposal_rates`; None when either is absent."""
    short = disposals[disposals["breakdown"].str.contains(SHORT_CUSTODY_PATTERN, na=False)]
    community = disposals[disposals["breakdown"].str.contains(COMMUNITY_PATTERN, na=False)]
    if short.empty or community.empty:
        return None
    return short.iloc[-1], community.iloc[-1]


def reoffending_rates(data: ReoffendingData) -> pd.DataFrame:
    """Every national cohort (and supplied local row) with its rates: ``reoffending_rates.csv``.

    Columns :data:`PUBLISHED_COLUMNS`. National rows: ``breakdown`` = ``"<group>; <measure>
    measure; <3-month|12-month> cohort"``, ``area`` = England and Wales, ``binary_rate`` and
    ``frequency`` MoJ's published values, ``low, high`` 95% Wilson (percent). Local rows (when
    supplied) under the disclosure policy of their source (:func:`protect_local`: reoffenders
    1–4 and the figures derived from them shown as ``[c]``, plus the next smallest area of the
    same cohort and breakdown so totals cannot reveal them).
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
    return pd.concat([national, protect_local(local)[PUBLISHED_COLUMNS]], ignore_index=True)


LOCAL_SOURCE_KEY = "reoffending_local"
"""Catalog key of the local MoJ tables: its disclosure policy is in ``config/disclosure.yml``."""

SUPPRESSED_COLUMNS = ("reoffenders", "binary_rate", "low", "high", "frequency", "reoffences")
"""Columns of a local row hidden (written ``[c]``) when its reoffender count is suppressed."""


def protect_local(local: pd.DataFrame, config: dict | None = None) -> pd.DataFrame:
    """Local rows as published, under the disclosure policy of their source.

    The local MoJ tables are a non-public extract: ``config/disclosure.yml`` gives
    ``reoffending_local`` the policy ``suppress`` (:func:`analysis.stats.policy_for`). Then
    reoffender counts from 1 to ``threshold − 1`` (5 by default) are suppressed, with the next
    smallest row of the same cohort and breakdown (areas of a cohort may sum to a published
    total), and every figure derived from a hidden count (:data:`SUPPRESSED_COLUMNS`) is
    written ``[c]`` (:data:`analysis.stats.SUPPRESSED`), never blank or 0. With the policy
    ``publish`` the rows are returned as they are. Adds the bool column ``suppressed``.
    """
    cfg = config if config is not None else stats.disclosure_config()
    if stats.policy_for([LOCAL_SOURCE_KEY], cfg) != "suppress":
        return local.assign(suppressed=False)
    out = stats.suppress_small_counts(
        local,
        "reoffenders",
        by=["cohort", "breakdown"],
        threshold=int(cfg.get("threshold", 5)),
        dependent=[c for c in SUPPRESSED_COLUMNS if c != "reoffenders"],
        suppress_zero=bool(cfg.get("suppress_zero", False)),
    )
    hidden = out["suppressed"].to_numpy(dtype=bool)
    for col in SUPPRESSED_COLUMNS:
        values = out[col].astype(object)
        values[hidden] = stats.SUPPRESSED
        out[col] = values
    return out


def published_tables(data: ReoffendingData) -> dict[str, pd.DataFrame]:
    """Every table the report publishes: ``{"reoffending_rates": reoffending_rates(data)}``."""
    return {"reoffending_rates": reoffending_rates(data)}
