"""Justice outcomes (notebook ``05_justice_outcomes``): what happened to the crimes recorded.

Street-level crimes (data.police.uk) are joined by Crime ID to the data.police.uk outcomes
files. Each crime's *latest outcome* is the outcome record with the latest outcome month
(several records in the same month: the one highest in :data:`GROUP_ORDER`, charge first);
a crime with no outcome record yet counts as "Under investigation or status unavailable".
Anti-social behaviour has no Crime ID and no outcomes, so it is excluded throughout.

Every outcome type string is mapped once, in :data:`OUTCOME_GROUPS`, to six groups; the
*positive outcome rate* is defined once, in :data:`POSITIVE_GROUPS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import CrimeplanError
from analysis.params import Quarter, RunParameters, months_missing_between, windows
from analysis.stats import proportion_with_interval, wilson_interval

REPORT = "05_justice_outcomes"
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


@dataclass(frozen=True)
class JusticeData:
    """What the justice outcomes report needs, pulled from the store once.

    Attributes
    ----------
    run : RunParameters
    crimes : DataFrame
        Non-ASB street crimes of the 24 months ending with the quarter: ``crime_id, month,
        crime_type, ward_code, lad_code, lad_name, in_force_area`` (``ward_code`` optional).
    outcomes : DataFrame
        Outcome records of those crimes: ``crime_id, month`` (outcome month), ``outcome_type``.
    force_lads : DataFrame
        ``lad_code, lad_name`` of the force's own local authorities.
    street_months, outcome_months : list of str
        Months held in the store for the force.
    unmatched_outcomes : int
        Outcome records of the force whose Crime ID is in no street file of the store.
    """

    run: RunParameters
    crimes: pd.DataFrame
    outcomes: pd.DataFrame
    force_lads: pd.DataFrame
    street_months: list[str]
    outcome_months: list[str]
    unmatched_outcomes: int = 0
    joined: pd.DataFrame | None = None
    """:func:`latest_outcomes` of ``crimes`` and ``outcomes`` (computed by :func:`load`)."""


# --------------------------------------------------------------------------- I/O edge


def analysis_months(quarter: Quarter) -> list[str]:
    """The 24 months ending with ``quarter`` (the 12 months and the 12 before them)."""
    return quarter.year_earlier.twelve_months + quarter.twelve_months


def missing_data_reason(store, run: RunParameters) -> str | None:
    """``None`` when the store has street crime and outcomes for the quarter, else why not."""
    street = set(store.months(run.force, "street"))
    if not street.intersection(run.period.months):
        return f"no street-level crime for {run.force} in {run.quarter} in the processed store."
    outcomes = store.months(run.force, "outcomes")
    if not outcomes or max(outcomes) < run.period.months[0]:
        return f"no outcomes files for {run.force} from {run.quarter} on in the processed store."
    return None


def load(run: RunParameters) -> JusticeData:
    """Open the processed store and pull the crimes and their outcomes (the one I/O edge)."""
    from analysis.store import Store

    store = Store(run.processed_path)
    reason = missing_data_reason(store, run)
    if reason:
        raise CrimeplanError(f"justice outcomes report cannot run: {reason}")
    months = analysis_months(run.period)
    marks = ", ".join("?" for _ in months)
    crimes = store.query(
        "SELECT crime_id, month, crime_type, ward_code, lad_code, lad_name, in_force_area "
        "FROM street "
        f"WHERE force = ? AND NOT is_asb AND month IN ({marks})",
        [run.force, *months],
    )
    outcomes = store.query(
        "SELECT o.crime_id, o.month, o.outcome_type FROM outcomes o "
        "WHERE o.force = ? AND o.crime_id IN (SELECT s.crime_id FROM street s "
        f"WHERE s.force = ? AND NOT s.is_asb AND s.month IN ({marks}))",
        [run.force, run.force, *months],
    )
    unmatched = store.query(
        "SELECT count(*) AS n FROM outcomes o WHERE o.force = ? AND o.crime_id NOT IN "
        "(SELECT s.crime_id FROM street s WHERE s.force = ? AND s.crime_id IS NOT NULL)",
        [run.force, run.force],
    )["n"].iloc[0]
    lads = store.lsoa(run.force)[["lad_code", "lad_name"]].drop_duplicates()
    return JusticeData(
        joined=latest_outcomes(crimes, outcomes),
        run=run,
        crimes=crimes,
        outcomes=outcomes,
        force_lads=lads.sort_values("lad_name").reset_index(drop=True),
        street_months=store.months(run.force, "street"),
        outcome_months=store.months(run.force, "outcomes"),
        unmatched_outcomes=int(unmatched),
    )


# --------------------------------------------------------------------------- pure functions


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


def outcome_rates_table(data: JusticeData) -> pd.DataFrame:
    """The published table ``outcome_rates.csv``.

    For crimes recorded in each ``window`` (``quarter``, ``12m``): the share whose latest
    outcome (outcomes files up to the last month held) is in each group, by ``crime_type``
    (each type and ``All crime``) at ``area_level`` ``force`` (``area_code`` = force slug),
    ``lad`` (crimes located in the force's own local authorities; LAD 2024 codes) and, when the
    run's ``area_level`` is ``ward`` or ``lsoa``, ``ward`` (May 2024 wards of those crimes;
    wards are the finest level published here, since LSOA cells are mostly a handful of
    crimes), with 95% Wilson intervals.
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


def positive_rates(data: JusticeData) -> pd.DataFrame:
    """Positive outcome rate by local authority (and the force), quarter and 12 months.

    Numerator: crimes recorded in the window whose latest outcome is positive
    (:data:`POSITIVE_GROUPS`); denominator: all crimes recorded in the window (non-ASB);
    95% Wilson intervals.

    Returns
    -------
    DataFrame
        ``area_code, area_name, window, crimes, positive, share, share_low, share_high``.
    """
    joined = _joined(data)
    win = windows(data.run.period)
    names = dict(zip(data.force_lads["lad_code"], data.force_lads["lad_name"], strict=True))
    rows = []
    for name in ("quarter", "12m"):
        part = joined[joined["month"].isin(win[name])]
        rows.append((data.run.force, "Whole force", name, len(part), int(part["positive"].sum())))
        for code, lad_name in names.items():
            sub = part[part["lad_code"] == code]
            rows.append((code, lad_name, name, len(sub), int(sub["positive"].sum())))
    out = pd.DataFrame(rows, columns=["area_code", "area_name", "window", "crimes", "positive"])
    return proportion_with_interval(out, "positive", "crimes")


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


def time_to_charge(data: JusticeData) -> pd.DataFrame:
    """Months from crime month to the first charge-group outcome, for charged crimes.

    Crimes recorded in the 12 months whose outcome records include a charge or summons
    (:data:`CHARGED` group); months since = first charge outcome month − crime month.
    Share of charged crimes in each band with 95% Wilson intervals; a final row gives the
    median and quartiles. Charges after the last outcome month held are not yet seen, so
    recent crimes' times are censored (short times over-represented).

    Returns
    -------
    DataFrame
        ``band, charged, count, share, low, high``.
    """
    joined = _joined(data)
    joined = joined[joined["month"].isin(windows(data.run.period)["12m"])]
    charged = joined[joined["first_charge_month"].notna()]
    lag = _month_index(charged["first_charge_month"]) - _month_index(charged["month"])
    if (lag < 0).any():
        raise CrimeplanError(
            f"{int((lag < 0).sum())} charge outcomes are dated before their crime month"
        )
    rows = [
        (label, len(lag), int(((lag >= lo) & (lag <= hi)).sum())) for lo, hi, label in LAG_BANDS
    ]
    out = pd.DataFrame(rows, columns=["band", "charged", "count"])
    ci = wilson_interval(out["count"], out["charged"])
    out = out.assign(share=ci["share"].values, low=ci["low"].values, high=ci["high"].values)
    out.attrs["median"] = float(np.median(lag)) if len(lag) else float("nan")
    out.attrs["quartiles"] = (
        (float(np.percentile(lag, 25)), float(np.percentile(lag, 75)))
        if len(lag)
        else (np.nan, np.nan)
    )
    return out


# --------------------------------------------------------------------------- notebook sections


def _percent_interval(share: float, low: float, high: float) -> str:
    """``"5.8%, 95% CI 5.5–6.0%"`` from fractions."""
    from analysis.tables import format_rate

    return (
        f"{format_rate(100 * share)}%, 95% CI {format_rate(100 * low)}\u2013"
        f"{format_rate(100 * high)}%"
    )


def headline(data: JusticeData):
    """Headline sentences: positive outcome rate and the no-suspect share for the quarter's
    crimes (95% Wilson intervals), with the outcome month the picture runs to."""
    from IPython.display import Markdown

    from analysis.tables import format_count

    table = outcome_rates_table(data)
    cell = table[
        (table["window"] == "quarter")
        & (table["area_level"] == "force")
        & (table["crime_type"] == ALL_CRIME)
    ].set_index("outcome_group")
    crimes = int(cell["crimes"].iloc[0])
    rates = positive_rates(data)
    force = rates[(rates["window"] == "quarter") & (rates["area_code"] == data.run.force)].iloc[0]
    last = max(data.outcome_months) if data.outcome_months else "none"
    no_suspect = cell.loc[NO_SUSPECT]
    pending = cell.loc[PENDING]
    lines = [
        f"- **Positive outcomes:** of {format_count(crimes)} crimes recorded in "
        f"{data.run.period.label()}, {format_count(force['positive'])} "
        f"({_percent_interval(force['share'], force['share_low'], force['share_high'])}) had a charge or summons, caution or other out-of-court disposal by the latest "
        f"outcomes file ({last}).",
        f"- **No suspect identified:** {format_count(no_suspect['count'])} "
        f"({_percent_interval(no_suspect['share'], no_suspect['low'], no_suspect['high'])}).",
        f"- **Still open or status unavailable:** {format_count(pending['count'])} "
        f"({_percent_interval(pending['share'], pending['low'], pending['high'])}); these "
        "crimes may yet reach an outcome, so the quarter's positive rate will rise.",
    ]
    return Markdown("\n".join(lines))


def outcome_groups_table(data: JusticeData):
    """Section table: latest outcome group of the quarter's crimes by crime type (force),
    share of the type's crimes with 95% Wilson intervals."""
    from analysis.tables import report_table

    table = outcome_rates_table(data)
    part = table[(table["window"] == "quarter") & (table["area_level"] == "force")]
    wide = part.pivot_table(
        index="crime_type", columns="outcome_group", values=["share", "low", "high"], sort=False
    )
    out = pd.DataFrame({"crime_type": wide.index})
    out["crimes"] = part.groupby("crime_type", sort=False)["crimes"].first().to_numpy()
    intervals = []
    for i, group in enumerate(GROUP_ORDER):
        for stat in ("share", "low", "high"):
            out[f"{stat}_{i}"] = 100 * wide[(stat, group)].to_numpy()
        intervals.append((f"share_{i}", f"low_{i}", f"high_{i}", f"{group} % (95% CI)"))
    return report_table(
        out,
        columns={"crime_type": "Crime type", "crimes": "Crimes recorded"},
        caption=(
            f"Latest outcome of crimes recorded in {data.run.period.label()}, by crime type "
            "(percent of the type's crimes)"
        ),
        intervals=intervals,
        counts=["crimes"],
        notes=_notes(data),
    )


def _notes(data: JusticeData) -> list[str]:
    last = max(data.outcome_months) if data.outcome_months else "none"
    return [
        "Latest outcome: the outcome record (data.police.uk outcomes files) with the latest "
        f"outcome month up to {last}, joined by Crime ID; crimes with none are 'Under "
        "investigation or status unavailable'. ASB has no outcomes and is excluded.",
        "Positive outcome = " + ", ".join(POSITIVE_GROUPS) + ". 95% Wilson intervals.",
        f"{data.unmatched_outcomes:,} outcome records of the force refer to crimes in no "
        "street file held (recorded before the first month held, or in a missing month) and "
        "are not counted.",
    ] + _gap_note(data)


def _gap_note(data: JusticeData) -> list[str]:
    """A note naming outcome months missing inside the range held (their outcomes are lost)."""
    gaps = months_missing_between(list(data.outcome_months))
    if not gaps:
        return []
    return [
        f"Outcomes files missing from the store: {', '.join(gaps)}; outcomes recorded in those "
        "months are not seen, which lowers the rates of crimes from the months before."
    ]


def positive_rates_table(data: JusticeData):
    """Section table: positive outcome rate by local authority, quarter and 12 months
    (definitions in :func:`positive_rates`)."""
    from analysis.tables import report_table

    rates = positive_rates(data)
    q = rates[rates["window"] == "quarter"].set_index("area_code")
    y = rates[rates["window"] == "12m"].set_index("area_code")
    out = pd.DataFrame(
        {
            "area_name": q["area_name"],
            "q_crimes": q["crimes"],
            "q_share": 100 * q["share"],
            "q_low": 100 * q["share_low"],
            "q_high": 100 * q["share_high"],
            "y_crimes": y["crimes"],
            "y_share": 100 * y["share"],
            "y_low": 100 * y["share_low"],
            "y_high": 100 * y["share_high"],
        }
    ).reset_index(drop=True)
    return report_table(
        out,
        columns={
            "area_name": "Area",
            "q_crimes": "Crimes, quarter",
            "y_crimes": "Crimes, 12 months",
        },
        caption=(
            "Positive outcome rate by local authority: crimes recorded in "
            f"{data.run.period.label()} and in the 12 months to its end"
        ),
        intervals=[
            ("q_share", "q_low", "q_high", "Positive outcome %, quarter (95% CI)"),
            ("y_share", "y_low", "y_high", "Positive outcome %, 12 months (95% CI)"),
        ],
        counts=["q_crimes", "y_crimes"],
        notes=_notes(data)
        + [
            "Area: the local authority (LAD 2024) of the crime's snapped location; the force "
            "row also holds crimes with no location or snapped outside the force.",
            "Recent crimes have had less time to reach an outcome: compare areas within a "
            "window, not the quarter with the 12 months.",
        ],
    )


def months_since_chart(data: JusticeData, lags: tuple[int, ...] = (0, 1, 3, 6, 12)):
    """Line chart: positive outcome rate by crime month, one line per follow-up time.

    Each line is the share of the crimes of each crime month with a positive outcome recorded
    within k months (k in ``lags``) of the crime month, so lines at the same k compare like
    with like; a line stops where the outcomes files end (see
    :func:`positive_by_months_since`).
    """
    from analysis.charts import line_chart

    table = positive_by_months_since(data, max_lag=max(lags), cohort="month")
    table = table[table["months_since"].isin(lags)].copy()
    table["positive_pct"] = 100 * table["share"]
    names = {k: "same month" if k == 0 else f"within {k} month{'s' if k > 1 else ''}" for k in lags}
    table["Positive outcome recorded"] = table["months_since"].map(names)
    table = table.sort_values(["months_since", "cohort"])
    return line_chart(
        table,
        x="cohort",
        y="positive_pct",
        title="Crimes with a positive outcome, by crime month and time allowed for the outcome",
        y_label="Crimes with a positive outcome (%)",
        source=SOURCE,
        hue="Positive outcome recorded",
    )


def time_to_charge_table(data: JusticeData):
    """Section table: months from crime to first charge for charged crimes of the 12 months
    (see :func:`time_to_charge`)."""
    from analysis.tables import report_table

    table = time_to_charge(data)
    median = table.attrs["median"]
    q1, q3 = table.attrs["quartiles"]
    out = table.assign(share=100 * table["share"], low=100 * table["low"], high=100 * table["high"])
    return report_table(
        out,
        columns={"band": "Months from crime month to charge", "count": "Charged crimes"},
        caption=(
            "Time from crime to charge or summons, crimes recorded in the 12 months to the end "
            f"of {data.run.period.label()}"
        ),
        intervals=[("share", "low", "high", "% of charged crimes (95% CI)")],
        counts=["count"],
        notes=[
            f"Median {median:.0f} months (quartiles {q1:.0f} to {q3:.0f}) among "
            f"{int(table['charged'].iloc[0]):,} charged crimes.",
            "Months are whole calendar months between the crime month and the first "
            "outcome month of a charge-group record; outcomes after the last outcomes file "
            "held are not yet seen, so recent crimes can only show short times.",
        ],
    )


def publish_tables(data: JusticeData):
    """Write ``tables/05_justice_outcomes/outcome_rates.csv`` and list it.

    Outcome counts are not personal data (data.police.uk publishes each crime's outcome),
    so the table is not suppressed.
    """
    from analysis.outputs import write_table
    from analysis.tables import report_table

    table = outcome_rates_table(data)
    write_table(table.round(6), data.run.output_path, REPORT, "outcome_rates")
    listing = pd.DataFrame(
        {
            "file": [f"tables/{REPORT}/outcome_rates.csv"],
            "rows": [len(table)],
            "columns": [", ".join(TABLE_COLUMNS)],
        }
    )
    return report_table(
        listing,
        columns={"file": "File", "rows": "Rows", "columns": "Columns"},
        caption="Published tables",
        counts=["rows"],
    )
