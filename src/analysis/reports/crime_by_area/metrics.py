"""Report 01 metrics: every figure the report publishes, as pure functions of DataFrames.

Definitions used throughout
---------------------------
* **Crime**: a row of the data.police.uk street-level file of the force whose category is not
  ``Anti-social behaviour``; **All crime** is the sum over those categories. **ASB** incidents
  are counted separately and never added to crime.
* **Force count**: every row of the force's files for the months (including crimes with no
  location and crimes the force placed outside its own area), as data.police.uk publishes it.
* **Area count** (local authority, ward, LSOA): rows whose harmonised LSOA 2021 lies in that
  area. Crimes with no location, and crimes placed outside the force's local authorities, are
  in no area, so the areas add up to less than the force count (the data-quality table gives
  the difference).
* **Residents**: Census 2021 usual residents of the LSOA 2021 (ONS), summed to ward (May 2024
  best-fit), local authority (2024) and force.
* **Rate per 1,000**: count / residents × 1,000 for the three months, with a 95% Poisson
  interval (:func:`analysis.stats.poisson_rate_interval`).
* **Windows**: the reporting quarter, the previous quarter and the same quarter a year
  earlier (:func:`analysis.params.windows`); a window is used only when every one of its
  months is in the store.

Functions taking ``data`` read only the frames of a :class:`.data.CrimeByAreaData`; none
reads the store or writes a file.
"""

from __future__ import annotations

import calendar

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis import stats
from analysis.reports.computed import computed_for
from analysis.stats import hotspots as hs

from .data import WINDOWS, CrimeByAreaData

__all__ = [
    "ALL_CRIME",
    "ASB",
    "CALLED_OUT",
    "CHANGE_COLUMNS",
    "COMPARISONS",
    "CRIME_TYPES",
    "CROSS_TABLE_COLUMNS",
    "HOTSPOT_COLUMNS",
    "LEVELS",
    "QUALITY_COLUMNS",
    "WINDOWS",
    "area_counts",
    "area_populations",
    "area_rates",
    "called_out_rates",
    "area_monthly",
    "change_by_area",
    "change_tests",
    "change_levels",
    "crime_by_area_table",
    "crime_types_present",
    "data_quality_table",
    "force_comparison_table",
    "forces_comparison",
    "headline_changes",
    "hotspots_table",
    "lsoa_hotspots",
    "monthly_series",
    "published_tables",
    "rated_area_counts",
    "rates_by_area",
    "spc_results",
    "table_levels",
    "ward_funnel",
    "window_days",
]

ASB = "Anti-social behaviour"
ALL_CRIME = "All crime"
COMPARISONS = ("year_earlier_quarter", "year_ending", "previous_quarter")
"""Change tests, in published order (:func:`change_by_area`)."""
WARD_COMPARISONS = ("year_earlier_quarter", "year_ending")
"""Ward change tests: same-season comparisons only."""
WARD_OWN_HISTORY = True
"""True (published default): each ward's over-dispersion from its own history (one model fit per
ward and crime type, about a minute more for Northumbria). False: borrowed from the force
(:func:`_ward_tests`), faster but not calibrated by simulation and, for 2022-Q4, about 30 times
as many significant ward changes (100 against 3): too confident to publish."""
LEVELS = ("force", "lad", "ward", "lsoa")

CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
"""The data.police.uk street-level categories (since May 2013)."""

CALLED_OUT = (
    ALL_CRIME,
    "Burglary",
    "Violence and sexual offences",
    "Robbery",
    "Possession of weapons",
    "Drugs",
    "Vehicle crime",
    ASB,
)
"""Categories the Police and Crime Plan asks about, in the order they are shown."""

HEADLINE_MEASURES = (ALL_CRIME, ASB)
"""Measures every headline states, whether or not they changed significantly."""

VISITOR_FACTOR = 3.0
"""A ward above its funnel limit with at least this multiple of the pooled rate gets the
resident-denominator caveat (:func:`ward_funnel`)."""
SPC_MEASURES = (ALL_CRIME, ASB, "Burglary")

POLICE_SOURCE = "data.police.uk street-level crime (Home Office), OGL v3.0"
POPULATION_SOURCE = "Census 2021 usual residents (ONS)"
RATE_SOURCE = f"{POLICE_SOURCE}; residents: {POPULATION_SOURCE}"

CROSS_TABLE_COLUMNS = [
    "window",
    "area_level",
    "area_code",
    "area_name",
    "crime_type",
    "count",
    "population",
    "rate_per_1000",
    "rate_low",
    "rate_high",
    "months",
]
CHANGE_COLUMNS = [
    "area_level",
    "area_code",
    "area_name",
    "crime_type",
    "comparison",
    "count_before",
    "count_after",
    "p_value",
    "verdict",
    "months_before",
    "months_after",
    "ratio",
    "ratio_low",
    "ratio_high",
    "p_adjusted",
    "verdict_adjusted",
    "family_size",
    "method",
]
HOTSPOT_COLUMNS = [
    "area_code",
    "area_name",
    "count",
    "population",
    "rate_per_1000",
    "eb_rate",
    "gi_z",
    "gi_p",
    "hot_seeds",
    "cold_seeds",
    "hotspot",
    "seeds",
]
QUALITY_COLUMNS = [
    "month",
    "rows",
    "asb_rows",
    "no_location_rows",
    "outside_force_rows",
    "duplicate_crime_ids",
    "rows_quarantined",
    "lsoa_vintage",
]


# --------------------------------------------------------------------------- counts and rates


def crime_types_present(counts: pd.DataFrame) -> list[str]:
    """The data.police.uk categories plus any other category found in ``counts``, sorted."""
    return sorted(set(CRIME_TYPES) | set(counts["crime_type"].dropna().unique()))


def area_populations(lsoa: pd.DataFrame, level: str, force: str) -> pd.DataFrame:
    """Census 2021 usual residents per area: ``area_code, area_name, population``.

    Definition: the sum of the usual residents of the area's LSOAs 2021 (``lsoa``, from the
    store's LSOA reference table) for ``level`` ``force``, ``lad``, ``ward`` or ``lsoa``. An
    area with any LSOA of unknown population gets a missing population (never a partial sum).
    """
    if level == "force":
        grouped = lsoa.assign(area_code=force, area_name=force)
    else:
        code, name = {
            "lad": ("lad_code", "lad_name"),
            "ward": ("ward_code", "ward_name"),
            "lsoa": ("lsoa21_code", "lsoa21_name"),
        }[level]
        grouped = lsoa.rename(columns={code: "area_code", name: "area_name"})
    agg = grouped.groupby(["area_code", "area_name"], as_index=False).agg(
        population=("population", "sum"),
        known=("population", "count"),
        lsoas=("population", "size"),
    )
    agg["population"] = agg["population"].where(agg["known"] == agg["lsoas"]).astype("Float64")
    return agg[["area_code", "area_name", "population"]]


def area_counts(
    counts: pd.DataFrame,
    lsoa: pd.DataFrame,
    force: str,
    force_name: str,
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """Counts by window × area × crime type, zeros included, with ``All crime``.

    Parameters
    ----------
    counts : DataFrame
        ``window, crime_type, lsoa21_code, count`` (one row per street row group).
    lsoa : DataFrame
        The force's LSOAs: ``lsoa21_code, lsoa21_name, ward_code, ward_name, lad_code,
        lad_name, population``.
    force, force_name : str
        Force slug (the force row's ``area_code``) and its display name.
    levels : tuple of str
        Any of ``force, lad, ward, lsoa``.

    Returns
    -------
    DataFrame
        ``window, area_level, area_code, area_name, crime_type, count, population``. The
        force row counts every row of the force; area rows count rows whose LSOA 2021 is in
        that area of the force. ``All crime`` = sum of every category except ASB. Source:
        data.police.uk street-level files; window: each complete window of ``counts``.
    """
    types = crime_types_present(counts)
    window_names = [w for w in WINDOWS if w in set(counts["window"])]
    geo = lsoa[["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"]]
    located = counts.merge(geo, on="lsoa21_code", how="inner")
    frames = []
    for level in levels:
        pops = area_populations(lsoa, level, force)
        if level == "force":
            pops["area_name"] = force_name
            rows = counts.assign(area_code=force)
        else:
            code = {"lad": "lad_code", "ward": "ward_code", "lsoa": "lsoa21_code"}[level]
            rows = located.rename(columns={code: "area_code"})
        summed = rows.groupby(["window", "area_code", "crime_type"])["count"].sum()
        grid = pd.MultiIndex.from_product(
            [window_names, pops["area_code"], types], names=["window", "area_code", "crime_type"]
        )
        full = summed.reindex(grid, fill_value=0).reset_index()
        crime = full[full["crime_type"] != ASB].groupby(["window", "area_code"], as_index=False)
        total = crime["count"].sum().assign(crime_type=ALL_CRIME)
        full = pd.concat([total, full], ignore_index=True)
        full = full.merge(pops, on="area_code", how="left").assign(area_level=level)
        frames.append(full)
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype("int64")
    out["_w"] = out["window"].map(WINDOWS.index)
    out["_l"] = out["area_level"].map(LEVELS.index)
    out = out.sort_values(["_w", "_l", "area_code", "crime_type"])
    return out[
        ["window", "area_level", "area_code", "area_name", "crime_type", "count", "population"]
    ].reset_index(drop=True)


def table_levels(area_level: str) -> tuple[str, ...]:
    """Area levels published for a run: force and local authority always, then down to
    ``area_level`` (``ward`` adds wards, ``lsoa`` adds wards and LSOAs)."""
    return LEVELS[: LEVELS.index(area_level) + 1]


def change_levels(area_level: str) -> tuple[str, ...]:
    """Area levels of the published change tests: :func:`table_levels` without LSOAs (their
    counts are too small for a useful test and the number of tests would be large)."""
    return tuple(level for level in table_levels(area_level) if level != "lsoa")


def rated_area_counts(
    counts: pd.DataFrame,
    lsoa: pd.DataFrame,
    force: str,
    force_name: str,
    levels: tuple[str, ...] = LEVELS,
) -> pd.DataFrame:
    """:func:`area_counts` with ``rate_per_1000, rate_low, rate_high``, columns as published.

    Definition: rate = count / Census 2021 usual residents × 1,000 for the window's three
    months, with a 95% Poisson interval (exact below 10 events, Byar's approximation from 10;
    :func:`analysis.stats.rate_per_1000`). Missing when the residents are unknown.
    """
    counts = area_counts(counts, lsoa, force, force_name, levels)
    rated = stats.rate_per_1000(counts.astype({"population": "float64"}))
    return rated[[c for c in CROSS_TABLE_COLUMNS if c != "months"]]


def crime_by_area_table(
    data: CrimeByAreaData, levels: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The published ``crime_by_area`` table: counts and rates per 1,000 residents.

    Numerator: street-level rows of the force (force level) or located in the area, by crime
    type and ``All crime`` (excluding ASB); denominator: Census 2021 usual residents of the
    area; windows: the quarter, the previous quarter and the same quarter a year earlier
    (complete windows only). Columns ``window, area_level, area_code, area_name, crime_type,
    count, population, rate_per_1000, rate_low, rate_high, months`` (``months``: the months the
    window holds, e.g. ``"2022-10, 2022-11, 2022-12"``) for ``levels`` (default: force and
    local authority, then down to the run's ``area_level``). See :func:`rated_area_counts`.
    """
    levels = tuple(levels or table_levels(data.run.area_level))
    results = computed_for(data)
    if ("crime_by_area_table", levels) not in results:
        table = rated_area_counts(data.counts, data.lsoa, data.run.force, data.force_name, levels)
        held = {w: ", ".join(months) for w, months in data.window_months.items()}
        results["crime_by_area_table", levels] = table.assign(
            months=table["window"].map(held).fillna("")
        )
    return results["crime_by_area_table", levels].copy()


def window_days(months: list[str]) -> int:
    """Number of calendar days in ``months`` (``"YYYY-MM"``): the exposure of a window."""
    return sum(calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months)


def area_monthly(data: CrimeByAreaData, levels: tuple[str, ...] = ("force", "lad", "ward")):
    """Monthly counts of every area and crime type over every month of the force in the store.

    Numerator: street-level rows of the force per month (force level: every row, including
    crimes with no location or placed outside the force; other levels: rows whose LSOA 2021
    lies in the area, as in :func:`area_counts`), by crime type and ``All crime`` (excluding
    ASB), zeros included. Months absent from the store are absent here (missing, never zero).
    Source: ``data.monthly_lsoa``; without it (not loaded) the force and local-authority series
    come from ``data.monthly`` and no ward series is made.

    Returns
    -------
    DataFrame
        ``area_level, area_code, area_name, crime_type, month, count``.
    """
    if data.monthly_lsoa is not None:
        rows = data.monthly_lsoa
        geo = data.lsoa[["lsoa21_code", "ward_code", "lad_code"]]
        located = rows.merge(geo, on="lsoa21_code", how="inner")
    else:
        rows = data.monthly
        located = rows[rows["lad_code"].isin(set(data.lsoa["lad_code"]))]
        levels = tuple(level for level in levels if level in ("force", "lad"))
    months = sorted(rows["month"].unique())
    types = crime_types_present(rows)
    frames = []
    for level in levels:
        pops = area_populations(data.lsoa, level, data.run.force)
        if level == "force":
            pops["area_name"] = data.force_name
            part = rows.assign(area_code=data.run.force)
        else:
            code = {"lad": "lad_code", "ward": "ward_code", "lsoa": "lsoa21_code"}[level]
            part = located.rename(columns={code: "area_code"})
        summed = part.groupby(["month", "area_code", "crime_type"])["count"].sum()
        grid = pd.MultiIndex.from_product(
            [months, pops["area_code"], types], names=["month", "area_code", "crime_type"]
        )
        full = summed.reindex(grid, fill_value=0).reset_index()
        crime = full[full["crime_type"] != ASB].groupby(["month", "area_code"], as_index=False)
        full = pd.concat([crime["count"].sum().assign(crime_type=ALL_CRIME), full])
        full = full.merge(pops[["area_code", "area_name"]], on="area_code", how="left")
        frames.append(full.assign(area_level=level))
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype("int64")
    return out[["area_level", "area_code", "area_name", "crime_type", "month", "count"]]


def change_by_area(
    table: pd.DataFrame,
    window_months: dict[str, list[str]],
    levels: tuple[str, ...] = ("force", "lad", "ward"),
    monthly: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The published ``change`` table: has each area's count changed, allowing for season,
    over-dispersion and the number of tests?

    For each area (of ``levels``) and crime type, three comparisons of the monthly counts in
    ``monthly`` (:func:`area_monthly`):

    * ``year_earlier_quarter`` — the quarter against the same three months a year earlier;
    * ``year_ending`` — the 12 months ending with the quarter against the 12 before (months
      paired by month of year; a missing month drops its pair, and ``months_after`` says
      which months were compared);
    * ``previous_quarter`` — seasonally adjusted quarter-on-quarter (never the raw counts,
      which mostly show the season); force and local authorities only.

    Test: :func:`analysis.stats.change_test` — a quasi-Poisson test whose over-dispersion φ
    comes from the series' own history (month-of-year and trend GLM on the months before the
    quarter). Ward series borrow the relative over-dispersion of the force's series of the same
    crime type (:func:`analysis.stats.borrowed_dispersion`), because a ward's own history of
    small counts gives an unstable estimate (:func:`_ward_tests`); wards have no
    quarter-on-quarter test. Each family — one comparison at one area level,
    across every area and crime type — is then adjusted for multiple testing by
    Benjamini-Hochberg (:func:`analysis.stats.adjust_family`, false-discovery rate 5%).
    ``table`` (:func:`crime_by_area_table`) and ``window_months`` give the quarter; the
    comparison is skipped when the quarter is not complete.

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`: ``area_level, area_code, area_name, crime_type, comparison,
        count_before, count_after`` (totals over the months compared), ``p_value`` and
        ``verdict`` (before adjustment; "statistically significant increase/decrease", "no
        statistically significant change" or "not tested: <why>"), then ``months_before,
        months_after, ratio, ratio_low, ratio_high`` (after / before with its 95% interval),
        ``p_adjusted``, ``verdict_adjusted`` (after Benjamini-Hochberg within the family: use
        this one for statuses and main points), ``family_size`` and ``method``.
    """
    if monthly is None:
        raise ValueError("change_by_area needs the areas' monthly counts (area_monthly)")
    if "quarter" not in window_months or table.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    quarter = list(window_months["quarter"])
    keys = ["area_level", "area_code", "area_name", "crime_type"]
    force = monthly[monthly["area_level"] == "force"]
    frames = []
    for level in levels:
        series = monthly[monthly["area_level"] == level]
        if series.empty:
            continue
        if level == "ward":
            dispersions: dict = {}  # each ward series' own dispersion, shared by its two tests
            for comparison in WARD_COMPARISONS:
                frames.append(_ward_tests(series, force, quarter, comparison, None, dispersions))
            continue
        tests = stats.family_change_tests_by_comparison(series, keys, quarter, COMPARISONS)
        frames.extend(tests[comparison] for comparison in COMPARISONS)
    if not frames:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.rename(columns={"before": "count_before", "after": "count_after"})
    out = stats.adjust_family(out, family=["area_level", "comparison"])
    out["_l"] = out["area_level"].map(LEVELS.index)
    out["_c"] = out["comparison"].map(COMPARISONS.index)
    out = out.sort_values(["_c", "_l", "area_code", "crime_type"])
    return out[CHANGE_COLUMNS].reset_index(drop=True)


def _ward_tests(
    wards: pd.DataFrame,
    force: pd.DataFrame,
    quarter: list[str],
    comparison: str,
    own_history: bool | None = None,
    dispersions: dict | None = None,
) -> pd.DataFrame:
    """Same-season change tests of every ward series (``area_monthly`` rows of one level),
    each with the over-dispersion borrowed from the force's series of its crime type.
    ``dispersions`` (optional, a dict) remembers each ward series' own dispersion between
    calls for the same ``wards`` and ``quarter``, so the two comparisons fit each series once.

    The test is that of :func:`analysis.stats.change_test` for ``year_earlier_quarter`` and
    ``year_ending`` with ``dispersion`` given (months paired a year apart, a pair dropped when
    either month is missing; ``z = (A − B) / sqrt(φ (A + B))``, two-sided Student's t with φ's
    df; ratio interval ``exp(log(A/B) ± t sqrt(φ (1/A + 1/B)))``), computed for all wards at
    once: calling it per series refits a history model that a borrowed dispersion does not
    need, about 25 ms each, which for ~180 wards × 15 types × 2 comparisons is minutes. φ per
    ward is :func:`analysis.stats.borrowed_dispersion` of the force series' dispersion
    (:func:`analysis.stats.history_dispersion`) at the ward's mean over the 12 months held
    before the quarter, exactly as :func:`analysis.stats.family_change_tests` borrows it.
    A test in ``tests/test_report_crime_by_area.py`` checks equality with ``change_test``.

    Caution: borrowing assumes a ward is as over-dispersed, relative to its mean, as the force
    (negative-binomial scaling), which makes small series close to Poisson. For Northumbria
    2022-Q4 it gives 100 significant ward changes over the year ending (after
    Benjamini-Hochberg); each ward's own history (``family_change_tests`` with its default
    ``min_own_history``; ``own_history=True`` or :data:`WARD_OWN_HISTORY` here, about a minute
    more) gives 3, and is what the report publishes.
    """
    from scipy import stats as sps

    held = set(wards["month"])
    first = quarter[0]
    ends = pd.Period(quarter[-1], freq="M")
    window = [str(ends - k) for k in range(11, -1, -1)] if comparison == "year_ending" else quarter
    after = [m for m in window if m in held and str(pd.Period(m, freq="M") - 12) in held]
    before = [str(pd.Period(m, freq="M") - 12) for m in after]
    history = sorted(m for m in held if m < first)[-12:]
    keys = ["area_level", "area_code", "area_name", "crime_type"]
    wide = wards.pivot_table(index=keys, columns="month", values="count", aggfunc="sum")
    a = wide[after].sum(axis=1).to_numpy(dtype=float)
    b = wide[before].sum(axis=1).to_numpy(dtype=float)
    mean = wide[history].mean(axis=1).to_numpy(dtype=float)
    types = wide.index.get_level_values("crime_type")
    own_history = WARD_OWN_HISTORY if own_history is None else own_history
    reference = (
        {}  # not used: every ward has its own
        if own_history
        else {
            t: stats.history_dispersion(part.set_index("month")["count"], first)
            for t, part in force.groupby("crime_type")
        }
    )
    dispersions = {} if dispersions is None else dispersions
    rows = []
    for i, crime_type in enumerate(types):
        ref = reference.get(crime_type)
        if own_history:
            if (wide.index[i], first) not in dispersions:
                own = stats.history_dispersion(wide.iloc[i].dropna(), first)
                dispersions[(wide.index[i], first)] = own
            ref = dispersions[(wide.index[i], first)]
        key = dict(zip(keys, wide.index[i], strict=True))
        base = {
            **key,
            "comparison": comparison,
            "months_after": ", ".join(after),
            "months_before": ", ".join(before),
            "after": a[i],
            "before": b[i],
        }
        if ref is None or not after:
            why = "no month of the earlier period is held" if not after else "no history"
            rows.append(base | {"p_value": np.nan, "ratio": np.nan, "ratio_low": np.nan,
                                "ratio_high": np.nan, "method": "",
                                "verdict": f"not tested: {why}"})  # fmt: skip
            continue
        disp = ref if own_history else stats.borrowed_dispersion(ref, mean[i])
        ratio = a[i] / b[i] if b[i] > 0 else np.nan
        low = high = np.nan
        if a[i] + b[i] == 0:
            p = 1.0
        else:
            z = (a[i] - b[i]) / np.sqrt(disp.phi * (a[i] + b[i]))
            p = float(2 * sps.t.sf(abs(z), disp.df))
            if a[i] > 0 and b[i] > 0:
                half = sps.t.ppf(0.975, disp.df) * np.sqrt(disp.phi * (1 / a[i] + 1 / b[i]))
                low, high = ratio * np.exp(-half), ratio * np.exp(half)
        if p >= 0.05:
            verdict = stats.change.SIG_NONE
        else:
            verdict = stats.change.SIG_UP if a[i] > b[i] else stats.change.SIG_DOWN
        method = (
            f"quasi-Poisson score test, same months a year apart (φ = {disp.phi:.1f} from "
            f"{disp.model})"
        )
        rows.append(base | {"p_value": p, "ratio": ratio, "ratio_low": low, "ratio_high": high,
                            "method": method, "verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows)


def change_tests(data: CrimeByAreaData, levels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """:func:`change_by_area` of the run for ``levels`` (default :func:`change_levels` of the
    run's area level), from :func:`crime_by_area_table` and :func:`area_monthly`."""
    levels = tuple(levels or change_levels(data.run.area_level))
    results = computed_for(data)
    key = ("change_tests", levels, WARD_OWN_HISTORY)
    if key not in results:
        table = crime_by_area_table(data, levels)
        monthly = area_monthly(data, levels)
        results[key] = change_by_area(table, data.window_months, levels, monthly)
    return results[key].copy()


def headline_changes(data: CrimeByAreaData, changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The force's change tests of every crime type, ASB and All crime: the force rows of
    ``changes`` (:func:`change_tests` output; computed for the force when not given). Year on
    year (the quarter against the same quarter a year earlier), the year ending with the
    quarter against the year before, and the seasonally adjusted quarter-on-quarter test; the
    family of each comparison is the force's crime types (Benjamini-Hochberg across them).

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS` rows of the force.
    """
    if changes is None:
        changes = change_tests(data, ("force",))
    return changes[changes["area_level"] == "force"].reset_index(drop=True)


def called_out_rates(table: pd.DataFrame, change: pd.DataFrame) -> pd.DataFrame:
    """Quarter counts and rates of the called-out categories for the force and each local
    authority, one row per category × area (force first), with the change on the same quarter
    a year earlier as text: ``"-17% (p < 0.001): statistically significant decrease"``.

    ``table`` is :func:`crime_by_area_table` output, ``change`` :func:`change_by_area` output;
    the rate is count / Census 2021 residents × 1,000 in the quarter, the percentage is the
    change in the count; the p-value and verdict are those after Benjamini-Hochberg adjustment
    within the family (``p_adjusted``, ``verdict_adjusted``).
    """
    rows = table[
        (table["window"] == "quarter")
        & table["area_level"].isin(["force", "lad"])
        & table["crime_type"].isin(CALLED_OUT)
    ].copy()
    year = change[change["comparison"] == "year_earlier_quarter"]
    keys = ["area_level", "area_code", "crime_type"]
    rows = rows.merge(
        year[[*keys, "count_before", "p_adjusted", "verdict_adjusted"]], on=keys, how="left"
    )
    rows["year_change"] = [
        _change_text(before, after, p, verdict)
        for before, after, p, verdict in zip(
            rows["count_before"],
            rows["count"],
            rows["p_adjusted"],
            rows["verdict_adjusted"],
            strict=True,
        )
    ]
    rows["_type"] = rows["crime_type"].map(CALLED_OUT.index)
    rows["_level"] = rows["area_level"].map(LEVELS.index)
    rows = rows.sort_values(["_type", "_level", "area_name"])
    return rows.drop(columns=["_type", "_level"]).reset_index(drop=True)


def _change_text(before: float, after: float, p_value: float, verdict: str) -> str:
    if pd.isna(before) or pd.isna(p_value):
        return "not compared" if pd.isna(before) else str(verdict)
    if before == 0:
        return f"up from 0: {verdict}"
    pct = (after / before - 1) * 100
    return f"{pct:+.0f}% ({stats.format_p(p_value)}): {verdict}"


def rates_by_area(data: CrimeByAreaData, changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`called_out_rates` of the run: the force and its local authorities in the quarter,
    with the year-on-year change test of ``changes`` (:func:`change_tests` output, computed for
    the force and local authorities when not given)."""
    table = crime_by_area_table(data, ("force", "lad"))
    if changes is None:
        changes = change_tests(data, ("force", "lad"))
    return called_out_rates(table, changes)


def ward_funnel(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> pd.DataFrame:
    """Funnel table of ward rates per 1,000 residents in the quarter against the wards' rate.

    Numerator: ``crime_type`` rows located in the ward in the quarter; denominator: Census 2021
    usual residents of the ward. The target is the pooled rate of the wards (located crimes /
    residents); limits are Poisson with Spiegelhalter's over-dispersion adjustment (φ and τ²
    in ``attrs``), because crime rates of areas vary far more than chance alone would
    (:func:`analysis.stats.funnel_table`).

    ``visitor_caveat`` marks wards above the 99.8% limit with a rate at least
    :data:`VISITOR_FACTOR` times the pooled rate: typically city or town centres (Monument in
    Newcastle), where many people visit, work or shop but few live, so a rate per resident
    overstates the risk to residents.
    """
    table = crime_by_area_table(data, ("ward",))
    wards = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
    funnel = stats.funnel_table(
        wards.reset_index(drop=True),
        count="count",
        denominator="population",
        kind="rate",
        per=1000.0,
        label="area_name",
        overdispersion=True,
    )
    funnel["visitor_caveat"] = funnel["outside998"].fillna(False).astype(bool) & (
        funnel["value"] >= VISITOR_FACTOR * funnel["target"]
    )
    return funnel


# --------------------------------------------------------------------------- maps and hot spots


def area_rates(
    data: CrimeByAreaData, level: str = "lsoa", crime_type: str = ALL_CRIME
) -> gpd.GeoDataFrame:
    """Boundaries of the force's LSOAs or wards (``level``) with the quarter's count,
    residents and rate per 1,000 for ``crime_type`` (:func:`crime_by_area_table` rows of the
    quarter joined to the ONS boundaries; a GeoDataFrame, EPSG:4326), and the local authority
    of each area (``lad_code, lad_name``; a ward in two takes the first of its LSOAs')."""
    table = crime_by_area_table(data, (level,))
    rows = table[(table["window"] == "quarter") & (table["crime_type"] == crime_type)]
    shapes = data.lsoa_shapes if level == "lsoa" else data.ward_shapes
    shapes = shapes[["code", "geometry"]].rename(columns={"code": "area_code"})
    code = "lsoa21_code" if level == "lsoa" else "ward_code"
    lads = (
        data.lsoa[[code, "lad_code", "lad_name"]]
        .drop_duplicates(code)
        .rename(columns={code: "area_code"})
    )
    return shapes.merge(rows, on="area_code", how="inner").merge(lads, on="area_code", how="left")


def lsoa_hotspots(data: CrimeByAreaData, crime_type: str = ALL_CRIME) -> gpd.GeoDataFrame:
    """Hot and cold spots of LSOA crime rates in the quarter that a re-run reproduces.

    Method: :func:`analysis.stats.hotspots.hotspot_analysis` on the quarter's LSOA counts and
    Census 2021 residents (:func:`area_rates`, with each LSOA's local authority): rates are
    smoothed by empirical Bayes (small LSOAs with few crimes are pulled towards the force
    rate), Getis-Ord Gi* (Queen contiguity, 9,999 permutations, 5% false-discovery rate) is
    run once per recorded seed (``attrs["seeds"]``), and an LSOA is a hot or cold spot only
    when every seed agrees (else "Unstable"). When fewer than half the LSOAs recorded a crime
    of the type, every LSOA is "Too few crimes for a hot-spot analysis" and nothing is tested.
    """
    rates = area_rates(data, "lsoa", crime_type)
    return hs.hotspot_analysis(rates, "count", "population")


def hotspots_table(spots: gpd.GeoDataFrame) -> pd.DataFrame:
    """The published ``hotspots`` table: :func:`lsoa_hotspots` without geometry, columns
    :data:`HOTSPOT_COLUMNS` (``eb_rate`` the smoothed rate per 1,000 tested; ``gi_z``,
    ``gi_p`` those of the first seed; ``hot_seeds``, ``cold_seeds`` how many seeds flagged
    the LSOA; ``seeds`` the seeds used)."""
    table = pd.DataFrame(spots.drop(columns="geometry"))
    table["seeds"] = " ".join(str(seed) for seed in spots.attrs.get("seeds", []))
    return table[HOTSPOT_COLUMNS]


# --------------------------------------------------------------------------- trends


def monthly_series(monthly: pd.DataFrame, measure: str, lad_code: str | None = None) -> pd.Series:
    """Monthly count of ``measure`` (a category or ``All crime``, which excludes ASB).

    Numerator: every street-level row of the force (``lad_code`` None) or the rows located in
    local authority ``lad_code``, per month; indexed by month over every month of ``monthly``
    (``month, lad_code, crime_type, count``); months absent from the store are left out (not
    filled with zero).
    """
    rows = monthly if lad_code is None else monthly[monthly["lad_code"] == lad_code]
    months = sorted(monthly["month"].unique())
    if measure == ALL_CRIME:
        rows = rows[rows["crime_type"] != ASB]
    else:
        rows = rows[rows["crime_type"] == measure]
    return rows.groupby("month")["count"].sum().reindex(months, fill_value=0).astype("int64")


def spc_results(data: CrimeByAreaData) -> pd.DataFrame:
    """XmR charts of monthly counts (:func:`monthly_series`) for All crime, ASB and burglary,
    force and each local authority, from the first month in the store to the quarter's last
    month (later months are left out: the report describes the quarter).

    Method: :func:`analysis.stats.xmr_chart_data` by NHS England's "Making Data Count" rules
    (limits = mean ± 2.66 × mean moving range, moving ranges of 3.267 × their mean or more
    screened out; shift 7 points one side, trend 7 points rising or falling, 2 of 3 beyond two
    sigma on one side). The months declared exceptional in the SPC configuration (the 2020
    and 2021 lockdowns) are drawn but left out of the baseline; a missing month breaks runs
    and is never bridged.

    Returns
    -------
    DataFrame
        ``area_name, lad_code, measure, xmr, verdict, signal_latest`` (``xmr`` the chart
        table; ``verdict`` from :func:`analysis.stats.spc_verdict`; ``signal_latest`` whether
        the quarter's last month signals).
    """
    lads = data.lsoa[["lad_code", "lad_name"]].drop_duplicates().sort_values("lad_name")
    areas = [(data.force_name, None), *zip(lads["lad_name"], lads["lad_code"], strict=True)]
    end = data.quarter.months[-1]
    rows = []
    for measure in SPC_MEASURES:
        for name, code in areas:
            series = monthly_series(data.monthly, measure, code)
            series = series[series.index <= end]
            xmr = stats.xmr_chart_data(series)
            judged = xmr[~xmr["missing"] & ~xmr["excluded"]]
            rows.append(
                {
                    "area_name": name,
                    "lad_code": code,
                    "measure": measure,
                    "xmr": xmr,
                    "verdict": stats.spc_verdict(xmr, measure),
                    "signal_latest": bool(len(judged) and judged["special_cause"].iloc[-1]),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- other forces


def force_comparison_table(
    own: pd.DataFrame, others: pd.DataFrame, populations: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """Rates per 1,000 residents by crime type for each force holding all of ``months``.

    Parameters
    ----------
    own, others : DataFrame
        ``force, month, crime_type, count`` (the report's force, then other forces).
    populations : DataFrame
        ``force, population``: Census 2021 usual residents of each force's local authorities.
    months : list of str
        The quarter's months; forces missing any of them are left out.

    Returns
    -------
    DataFrame
        ``force, crime_type, count, population, rate_per_1000, rate_low, rate_high`` with
        ``All crime`` (excluding ASB), zeros included, sorted by crime type then force.
        Numerator: every street-level row of the force in ``months``; denominator: residents.
    """
    rows = pd.concat([own, others], ignore_index=True)
    rows = rows[rows["month"].isin(months)]
    held = rows.groupby("force")["month"].nunique()
    complete = sorted(held[held == len(set(months))].index)
    rows = rows[rows["force"].isin(complete)]
    types = crime_types_present(rows) if len(rows) else list(CRIME_TYPES)
    grid = pd.MultiIndex.from_product([complete, types], names=["force", "crime_type"])
    full = (
        rows.groupby(["force", "crime_type"])["count"]
        .sum()
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    total = full[full["crime_type"] != ASB].groupby("force", as_index=False)["count"].sum()
    full = pd.concat([total.assign(crime_type=ALL_CRIME), full], ignore_index=True)
    full = full.merge(populations, on="force", how="left")
    full["population"] = full["population"].astype("float64")
    out = stats.rate_per_1000(full)
    return out.sort_values(["crime_type", "force"]).reset_index(drop=True)


def forces_comparison(data: CrimeByAreaData) -> pd.DataFrame:
    """The published ``force_comparison`` table: :func:`force_comparison_table` for the run's
    quarter, empty when no other force in the store has every month of the quarter."""
    months = data.window_months["quarter"]
    own = data.counts[data.counts["window"] == "quarter"].assign(force=data.run.force)
    table = force_comparison_table(
        own[["force", "month", "crime_type", "count"]],
        data.other_forces,
        data.force_populations,
        months,
    )
    if table["force"].nunique() < 2:
        return table.iloc[0:0]
    return table


# --------------------------------------------------------------------------- data quality


def data_quality_table(data: CrimeByAreaData) -> pd.DataFrame:
    """The published ``data_quality`` table: street-level data quality per month of the
    windows used.

    Columns: ``month``, ``rows`` (street rows of the force), ``asb_rows``,
    ``no_location_rows``, ``outside_force_rows`` (snapped outside the force's local
    authorities), ``duplicate_crime_ids``, ``rows_quarantined`` (rows the ingest could not
    use, 0 when none), ``lsoa_vintage`` of the file. Source: the store's ``quality`` table
    and ingest ledger.
    """
    q = data.quality.merge(data.quarantined, on="month", how="left")
    q["rows_quarantined"] = q["rows_quarantined"].fillna(0).astype("int64")
    return q[QUALITY_COLUMNS].sort_values("month").reset_index(drop=True)


# --------------------------------------------------------------------------- published tables


def published_tables(
    data: CrimeByAreaData,
    changes: pd.DataFrame | None = None,
    spots: gpd.GeoDataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table report 01 publishes, ``{file stem: DataFrame}``, in publication order.

    * ``crime_by_area``: :func:`crime_by_area_table` (levels :func:`table_levels` of the
      run's ``area_level``);
    * ``change``: :func:`change_tests` (levels :func:`change_levels`; ``changes`` when
      given, e.g. the frame the notebook's headline cell computed);
    * ``hotspots``: :func:`hotspots_table` of :func:`lsoa_hotspots` (All crime; ``spots``
      when given);
    * ``force_comparison``: :func:`forces_comparison`, only when another force has the months;
    * ``data_quality``: :func:`data_quality_table`.

    Counts here are public data.police.uk counts of crimes, not of people, so no small-count
    suppression is applied.
    """
    table = crime_by_area_table(data, table_levels(data.run.area_level))
    tables = {
        "crime_by_area": table,
        "change": changes if changes is not None else change_tests(data),
        "hotspots": hotspots_table(spots if spots is not None else lsoa_hotspots(data)),
    }
    comparison = forces_comparison(data)
    if not comparison.empty:
        tables["force_comparison"] = comparison
    tables["data_quality"] = data_quality_table(data)
    return tables
