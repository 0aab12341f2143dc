"""Justice outcomes: the figures (pure functions, DataFrames in and out; the report's API).

Street-level crimes (data.police.uk) are joined by Crime ID to the data.police.uk outcomes
files. Each crime's *latest outcome* is the outcome record with the latest outcome month
(several records in the same month: the one highest in :data:`GROUP_ORDER`, charge first);
a crime with no outcome record yet counts as "Under investigation or status unavailable".
Anti-social behaviour has no Crime ID and no outcomes, so it is excluded throughout.

Every outcome type string is mapped once, in :data:`OUTCOME_GROUPS`, to six groups; the
*positive outcome rate* is defined once, in :func:`positive_outcome_rate` (crimes recorded in
the window whose latest outcome is in :data:`POSITIVE_GROUPS`, every window compared with the
same follow-up after its end); the plan scorecard reads it from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import months_missing_between, windows
from analysis.stats import proportion_with_interval, wilson_interval

if TYPE_CHECKING:
    from analysis.reports.justice_outcomes.data import JusticeData

SOURCE = "data.police.uk street-level crime and outcomes files"

CHARGED = "Charged or summonsed"
CAUTION = "Caution"
COMMUNITY = "Community resolution, penalty notice or drugs warning"
NO_SUSPECT = "No suspect identified"
UNABLE = "Unable to prosecute or no further action"
PENDING = "Under investigation or status unavailable"

GROUP_ORDER = [CHARGED, CAUTION, COMMUNITY, UNABLE, NO_SUSPECT, PENDING]
"""The six outcome groups, in display order (also the tie-break order within a month)."""

POSITIVE_GROUPS = (CHARGED, CAUTION, COMMUNITY)
"""Positive outcome: charge or summons (including court results), caution, community or local
resolution, penalty notice for disorder, or drugs possession warning."""

OUTCOME_GROUPS: dict[str, str] = {
    # charge or summons, and everything that follows one at court
    "Suspect charged": CHARGED,
    "Suspect charged as part of another case": CHARGED,
    "Awaiting court outcome": CHARGED,
    "Court result unavailable": CHARGED,
    "Court case unable to proceed": CHARGED,
    "Defendant found not guilty": CHARGED,
    "Defendant sent to Crown Court": CHARGED,
    "Offender sent to prison": CHARGED,
    "Offender given suspended prison sentence": CHARGED,
    "Offender given community sentence": CHARGED,
    "Offender fined": CHARGED,
    "Offender given absolute discharge": CHARGED,
    "Offender given conditional discharge": CHARGED,
    "Offender ordered to pay compensation": CHARGED,
    "Offender deprived of property": CHARGED,
    "Offender otherwise dealt with": CHARGED,
    # cautions
    "Offender given a caution": CAUTION,
    "Offender given conditional caution": CAUTION,
    # other out-of-court disposals
    "Local resolution": COMMUNITY,
    "Offender given community resolution": COMMUNITY,
    "Offender given a drugs possession warning": COMMUNITY,
    "Offender given penalty notice": COMMUNITY,
    "Offender given a penalty notice": COMMUNITY,
    # no suspect
    "Investigation complete; no suspect identified": NO_SUSPECT,
    # suspect known, no formal action
    "Unable to prosecute suspect": UNABLE,
    "Formal action is not in the public interest": UNABLE,
    "Further investigation is not in the public interest": UNABLE,
    "Further action is not in the public interest": UNABLE,
    "Action to be taken by another organisation": UNABLE,
    # not final
    "Under investigation": PENDING,
    "Status update unavailable": PENDING,
}
"""data.police.uk outcome type (outcomes files and street ``Last outcome category``) -> group."""

ALL_CRIME = "All crime"
TABLE_COLUMNS = [
    "window",
    "area_level",
    "area_code",
    "crime_type",
    "outcome_group",
    "crimes",
    "count",
    "share",
    "low",
    "high",
]
"""Columns of ``tables/05_justice_outcomes/outcome_rates.csv``, in order."""


def outcome_group(outcome_type: pd.Series) -> pd.Series:
    """Map data.police.uk outcome type strings to the six groups of :data:`OUTCOME_GROUPS`.

    Missing values (no outcome record) map to ``PENDING``.

    Raises
    ------
    CrimeplanError
        Naming every outcome type the mapping does not know (a new data.police.uk category
        must be given a group before it is published, never silently dropped).
    """
    known = outcome_type.map(OUTCOME_GROUPS)
    unknown = sorted(set(outcome_type[known.isna() & outcome_type.notna()]))
    if unknown:
        raise CrimeplanError(
            "outcome types with no outcome group (add them to OUTCOME_GROUPS): "
            + "; ".join(unknown)
        )
    return known.fillna(PENDING)


def _month_index(month: pd.Series) -> pd.Series:
    """``"YYYY-MM"`` -> months since year 0 (for month arithmetic)."""
    return month.str.slice(0, 4).astype(int) * 12 + month.str.slice(5, 7).astype(int) - 1


def latest_outcomes(crimes: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each crime with its latest outcome and the month of its first positive outcome.

    Parameters
    ----------
    crimes : DataFrame
        One row per crime: ``crime_id, month`` and any other columns.
    outcomes : DataFrame
        Outcome records: ``crime_id, month`` (outcome month), ``outcome_type``.

    Returns
    -------
    DataFrame
        ``crimes`` plus ``outcome_type`` (latest; null when none), ``outcome_month``,
        ``outcome_group``, ``positive`` (bool, latest outcome in :data:`POSITIVE_GROUPS`),
        ``first_positive_month`` and ``first_charge_month`` (earliest outcome month of a
        positive / charge-group record, null when none). Latest = greatest outcome month; ties
        within a month go to the group first in :data:`GROUP_ORDER`.

    Raises
    ------
    CrimeplanError
        When a Crime ID appears more than once in ``crimes``.
    """
    dup = crimes["crime_id"].duplicated()
    if dup.any():
        raise CrimeplanError(
            f"{int(dup.sum())} Crime IDs appear more than once among the street crimes, "
            f"e.g. {crimes.loc[dup, 'crime_id'].iloc[0]}"
        )
    o = outcomes[["crime_id", "month", "outcome_type"]].copy()
    o["group"] = outcome_group(o["outcome_type"])
    o["rank"] = o["group"].map({g: i for i, g in enumerate(GROUP_ORDER)})
    latest = (
        o.sort_values(["crime_id", "month", "rank"], ascending=[True, False, True])
        .drop_duplicates("crime_id")
        .set_index("crime_id")
    )
    first_pos = o[o["group"].isin(POSITIVE_GROUPS)].groupby("crime_id")["month"].min()
    first_charge = o[o["group"] == CHARGED].groupby("crime_id")["month"].min()
    out = crimes.copy()
    out["outcome_type"] = out["crime_id"].map(latest["outcome_type"])
    out["outcome_month"] = out["crime_id"].map(latest["month"])
    out["outcome_group"] = outcome_group(out["outcome_type"])
    out["positive"] = out["outcome_group"].isin(POSITIVE_GROUPS)
    out["first_positive_month"] = out["crime_id"].map(first_pos)
    out["first_charge_month"] = out["crime_id"].map(first_charge)
    return out


def _joined(data: JusticeData) -> pd.DataFrame:
    """The crimes with their latest outcomes (cached on ``data`` by :func:`load`)."""
    if data.joined is not None:
        return data.joined
    return latest_outcomes(data.crimes, data.outcomes)


def outcome_distribution(joined: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Share of crimes in each latest-outcome group, by ``by``, with 95% Wilson intervals.

    Numerator: crimes whose latest outcome is in the group; denominator (``crimes``): all
    crimes of the cell. Every group appears for every cell (0 when absent), so the shares of
    a cell sum to 1.

    Returns
    -------
    DataFrame
        ``by`` columns, ``outcome_group, crimes, count, share, low, high``.
    """
    counts = joined.groupby([*by, "outcome_group"]).size().rename("count").reset_index()
    cells = joined.groupby(by).size().rename("crimes").reset_index()
    grid = cells.merge(pd.DataFrame({"outcome_group": GROUP_ORDER}), how="cross")
    grid = grid.merge(counts, on=[*by, "outcome_group"], how="left")
    grid["count"] = grid["count"].fillna(0).astype("int64")
    ci = wilson_interval(grid["count"], grid["crimes"])
    grid["share"] = ci["share"].to_numpy()
    grid["low"] = ci["low"].to_numpy()
    grid["high"] = ci["high"].to_numpy()
    return grid[[*by, "outcome_group", "crimes", "count", "share", "low", "high"]]


def outcome_rates(data: JusticeData) -> pd.DataFrame:
    """Latest-outcome shares by window, area and crime type (published as ``outcome_rates.csv``).

    For crimes recorded in each ``window`` (``quarter``, ``12m``): the share whose latest
    outcome (outcomes files up to the last month held) is in each group, by ``crime_type``
    (each type and ``All crime``) at ``area_level`` ``force`` (``area_code`` = force slug),
    ``lad`` (crimes located in the force's own local authorities; LAD 2024 codes) and, when the
    run's ``area_level`` is ``ward`` or ``lsoa``, ``ward`` (May 2024 wards of those crimes;
    wards are the finest level published here, since LSOA cells are mostly a handful of
    crimes), with 95% Wilson intervals. Numerator (``count``): crimes of the cell whose latest
    outcome is in ``outcome_group``; denominator (``crimes``): all crimes of the cell.

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS`; ``quarter`` rows first, then force, LAD and ward rows, ``All crime`` first in each area, groups
        in :data:`GROUP_ORDER`.
    """
    joined = _joined(data)
    joined = pd.concat([joined, joined.assign(crime_type=ALL_CRIME)], ignore_index=True)
    win = windows(data.run.period)
    lads = set(data.force_lads["lad_code"])
    levels = ["lad"]
    if data.run.area_level in ("ward", "lsoa") and "ward_code" in joined.columns:
        levels.append("ward")
    frames = []
    for name in ("quarter", "12m"):
        part = joined[joined["month"].isin(win[name])]
        in_force = part[part["lad_code"].isin(lads)]
        pieces = [part.assign(area_level="force", area_code=data.run.force)]
        for level in levels:
            local = in_force[in_force[f"{level}_code"].notna()]
            pieces.append(local.assign(area_level=level, area_code=local[f"{level}_code"]))
        for frame in pieces:
            if frame.empty:
                continue
            dist = outcome_distribution(frame, ["area_level", "area_code", "crime_type"])
            frames.append(dist.assign(window=name))
    table = pd.concat(frames, ignore_index=True)
    table["_t"] = (table["crime_type"] != ALL_CRIME).astype(int)
    table["_g"] = table["outcome_group"].map({g: i for i, g in enumerate(GROUP_ORDER)})
    table["_a"] = table["area_level"].map({"force": 0, "lad": 1, "ward": 2})
    table = table.sort_values(
        ["window", "_a", "area_code", "_t", "crime_type", "_g"],
        ascending=[False, True, True, True, True, True],
    )
    return table[TABLE_COLUMNS].reset_index(drop=True)


def follow_up_months(data: JusticeData) -> int:
    """Months of outcomes seen after the reporting quarter: last outcomes month held minus the
    quarter's last month (0 when the outcomes end with the quarter or before it)."""
    if not data.outcome_months:
        return 0
    last = _month_index(pd.Series([max(data.outcome_months)])).iloc[0]
    end = _month_index(pd.Series([data.run.period.months[-1]])).iloc[0]
    return int(max(last - end, 0))


def _index_month(code: int) -> str:
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def positive_outcome_rate(
    data: JusticeData,
    window_names: tuple[str, ...] = ("quarter", "year_earlier_quarter"),
    follow_up: int | None = None,
) -> pd.DataFrame:
    """Positive outcome rate: the one definition used by this report and the plan scorecard.

    Numerator (``positive``): crimes recorded in the window whose *latest* outcome, among the
    outcome records dated no later than ``follow_up`` months after the window's last month, is
    positive (:data:`POSITIVE_GROUPS`: charge or summons, caution, community resolution,
    penalty notice or drugs possession warning). Denominator (``crimes``): non-ASB street
    crimes recorded in the window (data.police.uk). 95% Wilson intervals. Rows for the force
    (``area_code`` = force slug) and each of its local authorities (crimes located there).

    Every window gets the same follow-up, by default the months of outcomes held after the
    reporting quarter (:func:`follow_up_months`), so the reporting quarter is counted with
    every outcome held and the same quarter a year earlier only with the outcomes recorded
    within the same number of months after its end: the two rates compare like with like.
    A quarter counted with a year more of outcomes would look better only because its crimes
    had longer to reach one. The latest outcome (rather than the first positive one) is used
    so the rate says how the quarter's crimes stand: a charge later followed by "unable to
    prosecute" is not counted.

    Parameters
    ----------
    data : JusticeData
    window_names : tuple of str
        Names of :func:`analysis.params.windows` (``quarter``, ``year_earlier_quarter``,
        ``previous_quarter``, ``12m``).
    follow_up : int, optional
        Months after each window's end; default :func:`follow_up_months`.

    Returns
    -------
    DataFrame
        ``window, area_code, area_name, crimes, positive, share, share_low, share_high,
        follow_up_months, outcomes_to`` (last outcome month counted) and
        ``outcome_months_missing`` (outcomes months within the window's follow-up that the
        store lacks, comma-separated; outcomes recorded in them are not seen).
    """
    follow_up = follow_up_months(data) if follow_up is None else int(follow_up)
    win = windows(data.run.period)
    names = dict(zip(data.force_lads["lad_code"], data.force_lads["lad_name"], strict=True))
    held = set(data.outcome_months)
    rows = []
    for name in window_names:
        months = win[name]
        cutoff = int(_month_index(pd.Series([months[-1]])).iloc[0]) + follow_up
        cut = _index_month(cutoff)
        crimes = data.crimes[data.crimes["month"].isin(months)]
        outcomes = data.outcomes[data.outcomes["month"] <= cut]
        joined = latest_outcomes(crimes, outcomes)
        first = int(_month_index(pd.Series([months[0]])).iloc[0])
        gone = [_index_month(m) for m in range(first, cutoff + 1) if _index_month(m) not in held]
        extra = (follow_up, cut, ", ".join(gone))
        rows.append(
            (name, data.run.force, "Whole force", len(joined), int(joined["positive"].sum()))
            + extra
        )
        for code, lad_name in names.items():
            sub = joined[joined["lad_code"] == code]
            rows.append((name, code, lad_name, len(sub), int(sub["positive"].sum())) + extra)
    cols = ["window", "area_code", "area_name", "crimes", "positive"]
    out = pd.DataFrame(
        rows, columns=[*cols, "follow_up_months", "outcomes_to", "outcome_months_missing"]
    )
    out = proportion_with_interval(out, "positive", "crimes")
    return out[
        [*cols, "share", "share_low", "share_high"]
        + ["follow_up_months", "outcomes_to", "outcome_months_missing"]
    ]


POSITIVE_CHANGE_COLUMNS = [
    "area_code", "area_name", "comparison", "crimes_before", "positive_before", "share_before",
    "crimes_after", "positive_after", "share_after", "share_after_low", "share_after_high",
    "ratio", "p_value", "verdict", "p_adjusted", "verdict_adjusted", "family_size",
    "follow_up_months", "outcome_months_missing", "method",
]  # fmt: skip
POSITIVE_CHANGE_METHOD = (
    "quasi-binomial GLM of the monthly positive outcome rates of the two quarters (crimes "
    "recorded in each month, same follow-up), over-dispersion from the six months, never less "
    "than binomial; Benjamini-Hochberg across the force and its local authorities"
)


def positive_outcome_change(data: JusticeData, comparison: str = "year_earlier_quarter"):
    """Has the positive outcome rate (:func:`positive_outcome_rate`) changed since the same
    quarter a year earlier?

    For the force and each local authority: the quarter's rate against ``comparison``'s, both
    with the same follow-up. Test: :func:`analysis.stats.proportion.proportion_change_test` on
    the six monthly rates (crimes recorded in each month; numerator and follow-up as in
    :func:`positive_outcome_rate`): a binomial GLM with a term for the later quarter, its
    standard error widened by the over-dispersion seen between the months (never below 1). The force and its local
    authorities form one family: Benjamini-Hochberg (:func:`analysis.stats.adjust_family`);
    ``verdict_adjusted`` is the verdict to state.

    Returns
    -------
    DataFrame
        :data:`POSITIVE_CHANGE_COLUMNS`; ``ratio`` = share after / share before.
    """
    from analysis.stats import adjust_family
    from analysis.stats.proportion import proportion_change_test

    rates = positive_outcome_rate(data, ("quarter", comparison))
    follow_up = int(rates["follow_up_months"].iloc[0])
    win = windows(data.run.period)
    monthly = []
    for name in ("quarter", comparison):
        for month in win[name]:
            cutoff = _index_month(int(_month_index(pd.Series([win[name][-1]])).iloc[0]) + follow_up)
            crimes = data.crimes[data.crimes["month"] == month]
            joined = latest_outcomes(crimes, data.outcomes[data.outcomes["month"] <= cutoff])
            monthly.append(joined.assign(after=name == "quarter"))
    joined = pd.concat(monthly, ignore_index=True)
    areas = [(data.run.force, None)] + [(c, c) for c in data.force_lads["lad_code"]]
    rows = []
    for code, lad in areas:
        part = joined if lad is None else joined[joined["lad_code"] == lad]
        per_month = part.groupby(["month", "after"]).agg(
            crimes=("positive", "size"), positive=("positive", "sum")
        )
        per_month = per_month.reset_index()
        p = proportion_change_test(
            per_month.rename(columns={"positive": "successes", "crimes": "trials"})
        )
        now = rates[(rates["window"] == "quarter") & (rates["area_code"] == code)].iloc[0]
        then = rates[(rates["window"] == comparison) & (rates["area_code"] == code)].iloc[0]
        missing = ", ".join(
            m for m in (then["outcome_months_missing"], now["outcome_months_missing"]) if m
        )
        rows.append(
            {
                "area_code": code,
                "area_name": now["area_name"],
                "comparison": comparison,
                "crimes_before": then["crimes"],
                "positive_before": then["positive"],
                "share_before": then["share"],
                "crimes_after": now["crimes"],
                "positive_after": now["positive"],
                "share_after": now["share"],
                "share_after_low": now["share_low"],
                "share_after_high": now["share_high"],
                "ratio": now["share"] / then["share"] if then["share"] > 0 else np.nan,
                "p_value": p,
                "verdict": _rate_verdict(p, now["share"], then["share"]),
                "follow_up_months": follow_up,
                "outcome_months_missing": missing,
                "method": POSITIVE_CHANGE_METHOD,
            }
        )
    out = adjust_family(pd.DataFrame(rows), family=None)
    return out[POSITIVE_CHANGE_COLUMNS]


def _rate_verdict(p: float, after: float, before: float, alpha: float = 0.05) -> str:
    from analysis.stats.change import NOT_TESTED, SIG_DOWN, SIG_NONE, SIG_UP

    if not np.isfinite(p):
        return NOT_TESTED
    if p >= alpha:
        return SIG_NONE
    return SIG_UP if after > before else SIG_DOWN


def positive_rates(data: JusticeData) -> pd.DataFrame:
    """Positive outcome rate by local authority (and the force), quarter and 12 months.

    :func:`positive_outcome_rate` (the one definition: crimes recorded in the window whose
    latest outcome is positive, with every outcome held after the quarter) for the windows
    ``quarter`` and ``12m``; 95% Wilson intervals.

    Returns
    -------
    DataFrame
        ``area_code, area_name, window, crimes, positive, share, share_low, share_high``.
    """
    out = positive_outcome_rate(data, ("quarter", "12m"))
    cols = ["area_code", "area_name", "window", "crimes", "positive"]
    return out[[*cols, "share", "share_low", "share_high"]].reset_index(drop=True)


def positive_by_months_since(
    data: JusticeData, max_lag: int = 12, cohort: str = "quarter"
) -> pd.DataFrame:
    """Cumulative positive outcome rate by months since the crime, per crime cohort.

    For the crimes recorded in each cohort (crime quarter, or crime month with
    ``cohort="month"``) and each lag k = 0..``max_lag``: numerator = crimes whose first
    positive outcome record is dated no later than k months after the crime month;
    denominator = the cohort's crimes. A (cohort, k) cell is only given when every crime of the
    cohort has been observable for k months, i.e. crime month + k <= the last outcome month in
    the store (recent crimes are censored, not counted as negative). When an outcomes month
    between the cohort's first crime month and crime month + k is missing from the store, the
    outcomes recorded in it are lost, so the cell is kept with ``positive``, ``share`` and its
    interval missing (``NaN``) rather than understated. 95% Wilson intervals.

    Returns
    -------
    DataFrame
        ``cohort, months_since, crimes, positive, share, low, high``.
    """
    joined = _joined(data)
    if not data.outcome_months:
        return pd.DataFrame(
            columns=["cohort", "months_since", "crimes", "positive", "share", "low", "high"]
        )
    last = _month_index(pd.Series([max(data.outcome_months)])).iloc[0]
    crime_m = _month_index(joined["month"])
    lag = _month_index(joined["first_positive_month"].fillna("9999-12")) - crime_m
    if cohort == "quarter":
        mon = joined["month"].str.slice(5, 7).astype(int)
        label = joined["month"].str.slice(0, 4) + "-Q" + ((mon - 1) // 3 + 1).astype(str)
    else:
        label = joined["month"]
    work = pd.DataFrame({"cohort": label, "crime_m": crime_m, "lag": lag})
    held = set(_month_index(pd.Series(sorted(data.outcome_months))))
    rows = []
    for name, part in work.groupby("cohort"):
        first_crime, latest_crime = part["crime_m"].min(), part["crime_m"].max()
        for k in range(max_lag + 1):
            if latest_crime + k > last:
                break
            complete = all(m in held for m in range(first_crime, latest_crime + k + 1))
            positive = int((part["lag"] <= k).sum()) if complete else np.nan
            rows.append((name, k, len(part), positive))
    out = pd.DataFrame(rows, columns=["cohort", "months_since", "crimes", "positive"])
    ci = wilson_interval(out["positive"], out["crimes"])
    return out.assign(share=ci["share"].values, low=ci["low"].values, high=ci["high"].values)


LAG_BANDS = [(0, 0, "Same month"), (1, 1, "1 month"), (2, 2, "2 months"), (3, 3, "3 months")]
LAG_BANDS += [(4, 6, "4 to 6 months"), (7, 12, "7 to 12 months"), (13, 10_000, "13 months or more")]


def _charge_lags(data: JusticeData) -> pd.DataFrame:
    """Crimes of the 12 months with their months to first charge (or to the last outcome month).

    Returns ``crime_id, crime_type, month, outcome_group, lag, charged`` where ``lag`` is the
    first charge-group outcome month − crime month for charged crimes, and the last outcomes
    month held − crime month for the others (NaN when no outcomes file is held).
    """
    joined = _joined(data)
    joined = joined[joined["month"].isin(windows(data.run.period)["12m"])]
    crime_m = _month_index(joined["month"])
    charged = joined["first_charge_month"].notna()
    lag = pd.Series(np.nan, index=joined.index)
    lag[charged] = _month_index(joined.loc[charged, "first_charge_month"]) - crime_m[charged]
    if data.outcome_months:
        last = _month_index(pd.Series([max(data.outcome_months)])).iloc[0]
        lag[~charged] = last - crime_m[~charged]
    return pd.DataFrame(
        {
            "crime_id": joined["crime_id"],
            "crime_type": joined["crime_type"],
            "month": joined["month"],
            "outcome_group": joined["outcome_group"],
            "lag": lag,
            "charged": charged,
        }
    )


def negative_charge_lags(data: JusticeData) -> pd.DataFrame:
    """Charged crimes of the 12 months whose first charge outcome is dated before the crime
    month (a data-quality fault of the source files): ``crime_id, crime_type, month, lag``.

    These are left out of :func:`time_to_charge` and :func:`time_to_charge_km`, counted and
    reported (:func:`data_quality`); they never stop the report.
    """
    lags = _charge_lags(data)
    bad = lags[lags["charged"] & (lags["lag"] < 0)]
    return bad[["crime_id", "crime_type", "month", "lag"]].reset_index(drop=True)


def time_to_charge(data: JusticeData) -> pd.DataFrame:
    """Months from crime month to the first charge-group outcome, for charged crimes.

    Crimes recorded in the 12 months whose outcome records include a charge or summons
    (:data:`CHARGED` group); months since = first charge outcome month − crime month.
    Share of charged crimes in each band with 95% Wilson intervals. Charges dated before
    their crime month (a data-quality fault, :func:`negative_charge_lags`) are left out and
    counted in ``attrs["negative_lags"]``. These shares describe the charges seen so far
    (recent crimes can only show short times); the censoring-aware median is
    :func:`time_to_charge_km`.

    Returns
    -------
    DataFrame
        ``band, charged, count, share, low, high``.
    """
    lags = _charge_lags(data)
    charged = lags[lags["charged"]]
    negative = int((charged["lag"] < 0).sum())
    lag = charged.loc[charged["lag"] >= 0, "lag"]
    rows = [
        (label, len(lag), int(((lag >= lo) & (lag <= hi)).sum())) for lo, hi, label in LAG_BANDS
    ]
    out = pd.DataFrame(rows, columns=["band", "charged", "count"])
    ci = wilson_interval(out["count"], out["charged"])
    out = out.assign(share=ci["share"].values, low=ci["low"].values, high=ci["high"].values)
    out.attrs["negative_lags"] = negative
    return out


KM_COLUMNS = ["crime_type", "n", "events", "censored", "median", "low", "high", "flag"]


def time_to_charge_km(data: JusticeData, min_charged: int = 10) -> pd.DataFrame:
    """Kaplan-Meier median months from crime to charge, all crime and each crime type.

    Population: crimes recorded in the 12 months that were charged (first charge-group
    outcome, event at first charge month − crime month) or are still open (latest outcome
    "Under investigation or status unavailable": censored at the last outcomes month held −
    crime month). Crimes closed without a charge (no suspect, no further action, caution,
    community resolution) are not at risk of a charge and are left out. So the median is the
    time by which half of the crimes that end in a charge (as far as can be told) were
    charged, allowing for crimes not yet charged (:func:`analysis.stats.km_median`: whole
    months, 95% interval). Charges dated before the crime month are left out
    (:func:`negative_charge_lags`). Crime types with fewer than ``min_charged`` charges get
    ``flag`` "too few charges" and no median.

    Returns
    -------
    DataFrame
        :data:`KM_COLUMNS`, ``All crime`` first, then types by number of charges.
    """
    from analysis.stats import km_median

    lags = _charge_lags(data)
    at_risk = lags[(lags["charged"] & (lags["lag"] >= 0)) | (lags["outcome_group"] == PENDING)]
    at_risk = at_risk[at_risk["lag"].notna()]
    rows = []
    groups = [(ALL_CRIME, at_risk)] + list(at_risk.groupby("crime_type", sort=True))
    for name, part in groups:
        km = km_median(part["lag"].to_numpy(dtype=float), part["charged"].to_numpy(dtype=bool))
        row = {"crime_type": name, **km._asdict()}
        if name != ALL_CRIME and km.events < min_charged:
            row.update(median=np.nan, low=np.nan, high=np.nan, flag="too few charges")
        rows.append(row)
    out = pd.DataFrame(rows, columns=KM_COLUMNS)
    head, rest = out.iloc[:1], out.iloc[1:].sort_values("events", ascending=False)
    return pd.concat([head, rest], ignore_index=True)


def data_quality(data: JusticeData) -> pd.DataFrame:
    """Data-quality issues found in the source files and how each is treated.

    Rows (always present, count 0 when none): charge outcomes dated before their crime month
    (:func:`negative_charge_lags`; left out of the time to charge), outcome records whose
    crime is in no street file held (``data.unmatched_outcomes``; not counted), and outcome
    months missing inside the range held (their outcomes are not seen).

    Returns
    -------
    DataFrame
        ``issue, count, treatment``.
    """
    negative = negative_charge_lags(data)
    gaps = months_missing_between(list(data.outcome_months))
    example = ""
    if len(negative):
        first = negative.iloc[0]
        example = f" (e.g. a {first['crime_type']} of {first['month']})"
    rows = [
        (
            "Charge outcome dated before the month of its crime" + example,
            len(negative),
            "Left out of the time from crime to charge; still counted in the outcome shares.",
        ),
        (
            "Outcome record whose crime is in no street file held",
            int(data.unmatched_outcomes),
            "Not counted (the crime was recorded before the first month held or in a "
            "missing month).",
        ),
        (
            "Outcomes month missing from the files" + (f" ({', '.join(gaps)})" if gaps else ""),
            len(gaps),
            "Outcomes recorded in that month are not seen, which lowers the rates of "
            "crimes from the months before.",
        ),
    ]
    return pd.DataFrame(rows, columns=["issue", "count", "treatment"])


HEADLINE_COLUMNS = ["measure", "crimes", "count", "share", "low", "high"]
POSITIVE = "Positive outcome"


def headline_figures(data: JusticeData) -> pd.DataFrame:
    """The quarter's headline shares for the whole force, with 95% Wilson intervals.

    Crimes recorded in the quarter (non-ASB street crimes, data.police.uk; denominator
    ``crimes``). Rows: ``Positive outcome`` (numerator: crimes whose latest outcome is in
    :data:`POSITIVE_GROUPS`, as in :func:`positive_rates`), :data:`NO_SUSPECT` and
    :data:`PENDING` (numerator: crimes whose latest outcome is in the group, as in
    :func:`outcome_rates`). ``attrs["last_outcome_month"]``: the last outcomes file held.

    Returns
    -------
    DataFrame
        ``measure, crimes, count, share, low, high``.
    """
    table = outcome_rates(data)
    cell = table[
        (table["window"] == "quarter")
        & (table["area_level"] == "force")
        & (table["crime_type"] == ALL_CRIME)
    ].set_index("outcome_group")
    rates = positive_rates(data)
    force = rates[(rates["window"] == "quarter") & (rates["area_code"] == data.run.force)].iloc[0]
    rows = [
        (POSITIVE, force["crimes"], force["positive"], *force[["share", "share_low", "share_high"]])
    ]
    for group in (NO_SUSPECT, PENDING):
        row = cell.loc[group]
        rows.append((group, row["crimes"], row["count"], row["share"], row["low"], row["high"]))
    out = pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
    out.attrs["last_outcome_month"] = max(data.outcome_months) if data.outcome_months else None
    return out


def published_tables(data: JusticeData) -> dict[str, pd.DataFrame]:
    """Every table the report publishes: ``outcome_rates`` (:func:`outcome_rates`) and
    ``positive_outcomes`` (:func:`positive_outcome_change`: the quarter's positive outcome
    rate against the same quarter a year earlier, same follow-up).

    Figures rounded to 6 decimals. Outcome counts are not personal data (data.police.uk
    publishes each crime's outcome), so the tables are not suppressed.
    """
    return {
        "outcome_rates": outcome_rates(data).round(6),
        "positive_outcomes": positive_outcome_change(data).round(6),
    }
