"""Report 00_plan_scorecard: each Police and Crime Plan commitment the open data can speak to,
its indicator, where it is reported in detail, and its status this quarter.

The commitments, indicators, definitions and the wording of the status rules live in
``config/plan.yml``; the rules themselves are the functions :func:`count_status`,
:func:`proportion_status` and :func:`ratio_status` below (one place each). Statuses:

improving / deteriorating
    A change unlikely to be chance (5% level) in the direction that is good (or bad) for the
    public: fewer crimes and incidents, more positive outcomes, a higher linked-find rate, a
    lower disparity ratio.
no significant change
    No such change.
no data
    The store lacks a month of the quarter or both comparison quarters (or, for reoffending,
    any local or current table).
no data supplied
    A commitment police open data cannot speak to; the force extract that would answer it is
    named.

The scorecard computes its own indicators from the store (it runs first in the pack, beside
the other notebooks), reusing the other report modules' definitions: stop and search groups and
linked finds (:mod:`analysis.reports.stop_search`), outcome groups
(:mod:`analysis.reports.justice_outcomes`), RUC 2021 classes (:mod:`analysis.reports.rural_crime`)
and the MoJ series (:mod:`analysis.reports.reoffending`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from IPython.display import Markdown
from statsmodels.stats.proportion import test_proportions_2indep
from statsmodels.stats.rates import confint_poisson_2indep

from analysis import charts, stats, tables
from analysis.errors import CrimeplanError
from analysis.outputs import write_table
from analysis.params import Quarter, RunParameters, windows
from analysis.paths import CONFIG_DIR

REPORT = "00_plan_scorecard"
PLAN_PATH = CONFIG_DIR / "plan.yml"
IMPROVING = "improving"
NO_CHANGE = "no significant change"
DETERIORATING = "deteriorating"
NO_DATA = "no data"
NO_DATA_SUPPLIED = "no data supplied"
STATUSES = (IMPROVING, NO_CHANGE, DETERIORATING, NO_DATA, NO_DATA_SUPPLIED)
SCORECARD_COLUMNS = [
    "commitment", "indicator", "source_notebook", "source_table", "definition",
    "value_this_quarter", "comparison", "test", "p_value", "status",
]  # fmt: skip
SOURCE = "data.police.uk street, outcomes and stop-and-search files; Census 2021; ONS RUC 2021"
COUNT_TEST = "exact Poisson (conditional binomial) test vs same quarter a year earlier"
COUNT_TEST_PREVIOUS = "exact Poisson (conditional binomial) test vs previous quarter"
PROPORTION_TEST = "score test of two proportions vs same quarter a year earlier"
PROPORTION_TEST_PREVIOUS = "score test of two proportions vs previous quarter"
RATIO_TEST = "95% intervals of the risk ratios vs same quarter a year earlier (overlap = no change)"
RATIO_TEST_PREVIOUS = "95% intervals of the risk ratios vs previous quarter (overlap = no change)"


# ------------------------------------------------------------------ plan


def load_plan(path: str | Path = PLAN_PATH) -> dict:
    """Read ``config/plan.yml``; a malformed file raises :class:`CrimeplanError`."""
    path = Path(path)
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise CrimeplanError(f"{path}: cannot read the plan scorecard definition ({err})") from err
    for key in ("rules", "indicators", "no_data"):
        if not isinstance(plan, dict) or key not in plan:
            raise CrimeplanError(f"{path}: no '{key}' section")
    for item in plan["indicators"]:
        missing = [
            k
            for k in ("id", "commitment", "indicator", "kind", "good", "definition")
            if k not in item
        ]
        if missing:
            raise CrimeplanError(f"{path}: indicator {item.get('id', '?')} lacks {missing}")
        if item["good"] not in ("up", "down"):
            raise CrimeplanError(f"{path}: indicator {item['id']}: good must be 'up' or 'down'")
    return plan


# ------------------------------------------------------------------ status rules (one place)


def direction_of(test: stats.ChangeTest, alpha: float = 0.05) -> str | None:
    """``"up"``/``"down"`` when the change test is significant at ``alpha``, else None."""
    if test is None or not np.isfinite(test.p_value) or test.p_value >= alpha:
        return None
    return "up" if test.after > test.before else "down"


def _judge(direction: str | None, good: str) -> str:
    if direction is None:
        return NO_CHANGE
    return IMPROVING if direction == good else DETERIORATING


def count_status(
    year_test: stats.ChangeTest | None,
    previous_test: stats.ChangeTest | None,
    spc_direction: str | None,
    good: str,
    alpha: float = 0.05,
) -> str:
    """Status of a count indicator (crimes, incidents, positive outcomes).

    Parameters
    ----------
    year_test : ChangeTest or None
        This quarter against the same quarter a year earlier (None when that quarter is not
        held).
    previous_test : ChangeTest or None
        This quarter against the previous quarter (None when not held).
    spc_direction : {"up", "down"} or None
        Side of the centre line on which the monthly XmR chart signals special-cause variation
        in this quarter's months (None: no signal there, or no chart).
    good : {"up", "down"}
        The direction that is good for the public.

    Returns
    -------
    str
        1. No comparison quarter held: ``"no data"``.
        2. Year-earlier test significant: ``"improving"``/``"deteriorating"`` by its direction.
        3. Year-earlier quarter not held: the previous-quarter test decides alone.
        4. Otherwise, a significant previous-quarter change counts only when the control chart
           signals on the same side in this quarter; else ``"no significant change"``.
    """
    if year_test is None and previous_test is None:
        return NO_DATA
    if year_test is not None:
        direction = direction_of(year_test, alpha)
        if direction is not None:
            return _judge(direction, good)
        previous = direction_of(previous_test, alpha)
        if previous is not None and previous == spc_direction:
            return _judge(previous, good)
        return NO_CHANGE
    return _judge(direction_of(previous_test, alpha), good)


def proportion_status(
    p_value: float, before: float, after: float, good: str, alpha: float = 0.05
) -> str:
    """Status of a proportion: the two-proportion test's direction when ``p_value < alpha``.

    ``before``/``after`` are the two proportions; NaN anywhere gives ``"no data"``.
    """
    if any(pd.isna(v) for v in (p_value, before, after)):
        return NO_DATA
    if p_value >= alpha or after == before:
        return NO_CHANGE
    return _judge("up" if after > before else "down", good)


def ratio_status(now: tuple, before: tuple, good: str) -> str:
    """Status of a ratio from two ``(estimate, low, high)`` 95% intervals.

    Improving/deteriorating only when the intervals do not overlap; NaN anywhere (ratio not
    estimable) gives ``"no data"``.
    """
    if any(pd.isna(v) for v in (*now, *before)):
        return NO_DATA
    rr, low, high = now
    rr0, low0, high0 = before
    if high < low0:
        return _judge("down", good)
    if low > high0:
        return _judge("up", good)
    return NO_CHANGE


def spc_direction(xmr: pd.DataFrame, months: list[str]) -> str | None:
    """Side of the centre line of the special-cause points among ``months`` (None if none).

    When points on both sides signal, the side of the latest signalling point is taken.
    """
    flagged = xmr[xmr["special_cause"] & xmr.index.isin(months)]
    if flagged.empty:
        return None
    last = flagged.iloc[-1]
    return "up" if last["value"] > last["centre"] else "down"


# ------------------------------------------------------------------ data


@dataclass(frozen=True)
class ScorecardData:
    """What the scorecard reads from the store for one force and quarter.

    Attributes
    ----------
    run : RunParameters
    plan : dict
        ``config/plan.yml``.
    street : DataFrame
        ``month, crime_type, is_asb, lad_code, lsoa21_code, n``: street records counted by
        those keys over the months of :func:`analysis_months`.
    positive : Series
        Crimes whose first positive outcome was recorded in each month (index ``"YYYY-MM"``).
    searches : DataFrame
        Stop-and-search rows of the quarter, previous and year-earlier quarters.
    population : DataFrame
        ``population_lad_ethnicity`` rows of the force's local authorities.
    lads : DataFrame
        ``lad_code, lad_name`` of the force's local authorities.
    lsoa : DataFrame
        The force's LSOAs (``lsoa21_code, ruc21_code, urban_rural`` ...).
    national_reoffending, local_reoffending : DataFrame
        MoJ series (see :mod:`analysis.reports.reoffending`); empty when absent.
    months : dict
        ``{"street" | "outcomes" | "stop_search": months held for the force}``.
    """

    run: RunParameters
    plan: dict
    street: pd.DataFrame
    positive: pd.Series
    searches: pd.DataFrame
    population: pd.DataFrame
    lads: pd.DataFrame
    lsoa: pd.DataFrame
    national_reoffending: pd.DataFrame
    local_reoffending: pd.DataFrame
    months: dict
    rows: pd.DataFrame | None = None
    """:func:`scorecard_rows` of this data (computed once by :func:`load`)."""

    @property
    def quarter(self) -> Quarter:
        return self.run.period


def analysis_months(quarter: Quarter, length: int = 36) -> list[str]:
    """The ``length`` months ending with the last month of ``quarter`` (``"YYYY-MM"``)."""
    last = pd.Period(quarter.months[-1], freq="M")
    return [str(last - k) for k in range(length - 1, -1, -1)]


def missing_data_reason(store: object, run: RunParameters) -> str | None:
    """None when the store has street data for every month of the quarter, else why not."""
    held = set(store.months(run.force, "street"))
    absent = [m for m in run.period.months if m not in held]
    if not held:
        return f"The store holds no street-level crime for {run.force}."
    if absent:
        return (
            f"The store has no {run.force} street-level file for {', '.join(absent)} "
            f"(quarter {run.quarter}), so the scorecard cannot be built."
        )
    return None


def load(run: RunParameters) -> ScorecardData:
    """Read the aggregates the scorecard needs from the store (the one I/O edge).

    Raises
    ------
    CrimeplanError
        When a month of the quarter has no street-level file.
    """
    from analysis.reports import justice_outcomes, reoffending
    from analysis.store import Store

    plan = load_plan()
    store = Store(run.processed_path)
    reason = missing_data_reason(store, run)
    if reason:
        raise CrimeplanError(reason)
    span = analysis_months(run.period, int(plan["rules"].get("spc_months", 36)))
    street = store.query(
        "SELECT month, crime_type, is_asb, lad_code, lsoa21_code, count(*) AS n FROM street "
        "WHERE force = ? AND month >= ? AND month <= ? GROUP BY ALL",
        [run.force, span[0], span[-1]],
    )
    types = store.query(
        "SELECT DISTINCT outcome_type FROM outcomes WHERE force = ? AND month <= ?",
        [run.force, span[-1]],
    )["outcome_type"].dropna()
    groups = justice_outcomes.outcome_group(types)
    positive_types = sorted(types[groups.isin(justice_outcomes.POSITIVE_GROUPS)])
    if positive_types:
        marks = ",".join("?" * len(positive_types))
        first = store.query(
            "SELECT first_month AS month, count(*) AS n FROM (SELECT crime_id, min(month) AS "
            f"first_month FROM outcomes WHERE force = ? AND month <= ? AND outcome_type IN ({marks}) "
            "GROUP BY crime_id) GROUP BY first_month",
            [run.force, span[-1], *positive_types],
        )
        positive = first.set_index("month")["n"].astype("int64").sort_index()
    else:
        positive = pd.Series(dtype="int64")
    q = run.period
    search_months = [*q.months, *q.previous.months, *q.year_earlier.months]
    searches = store.stop_search(run.force, search_months)
    forces = store.table("forces")
    forces = forces[forces["force"] == run.force]
    population = store.table("population_lad_ethnicity")
    population = population[population["lad_code"].isin(forces["lad_code"])]
    views = set(store.query("SELECT table_name FROM information_schema.tables")["table_name"])
    national = (
        reoffending.national_wide(store.table("reoffending_national"))
        if "reoffending_national" in views
        else pd.DataFrame()
    )
    local = reoffending._read_local(store) if "reoffending_local" in views else pd.DataFrame()
    data = ScorecardData(
        run=run,
        plan=plan,
        street=street,
        positive=positive,
        searches=searches,
        population=population.reset_index(drop=True),
        lads=forces[["lad_code", "lad_name"]].drop_duplicates().reset_index(drop=True),
        lsoa=store.lsoa(run.force),
        national_reoffending=national,
        local_reoffending=local,
        months={k: store.months(run.force, k) for k in ("street", "outcomes", "stop_search")},
    )
    return replace(data, rows=scorecard_rows(data))


# ------------------------------------------------------------------ indicators (pure)


def select_street(street: pd.DataFrame, select: dict, lsoa: pd.DataFrame) -> pd.DataFrame:
    """Rows of the street counts matching an indicator's ``select`` (``asb``, ``crime_type``,
    ``rural``: crimes in LSOAs whose RUC 2021 class is rural, via
    :func:`analysis.reports.rural_crime.classify_crimes`)."""
    rows = street
    if "asb" in select:
        rows = rows[rows["is_asb"].astype(bool) == bool(select["asb"])]
    if "crime_type" in select:
        rows = rows[rows["crime_type"] == select["crime_type"]]
    if select.get("rural"):
        from analysis.reports import rural_crime

        classified = rural_crime.classify_crimes(rows, lsoa)
        rows = rows[(classified["urban_rural"] == "Rural").to_numpy()]
    return rows


def monthly_series(rows: pd.DataFrame, held: list[str], months: list[str]) -> pd.Series:
    """Counts per month over ``months`` that are ``held`` (0 where a held month has none);
    months not held are left out (never counted as 0)."""
    counts = rows.groupby("month")["n"].sum()
    kept = [m for m in months if m in set(held)]
    return counts.reindex(kept, fill_value=0).astype("int64")


def _sum_if_complete(series: pd.Series, months: list[str]) -> int | None:
    if not all(m in series.index for m in months):
        return None
    return int(series.loc[months].sum())


def count_indicator(series: pd.Series, quarter: Quarter, good: str, rules: dict) -> dict:
    """Value, comparison, test and status of one count indicator from its monthly series.

    Parameters
    ----------
    series : Series
        Monthly counts indexed by ``"YYYY-MM"`` (months not held are absent).
    quarter : Quarter
    good : {"up", "down"}
    rules : dict
        ``plan.yml`` rules (``alpha``, ``min_spc_months``).

    Returns
    -------
    dict
        ``value_this_quarter, comparison, test, p_value, status`` plus ``count, ratio,
        ratio_low, ratio_high`` (rate ratio against the comparison quarter with a 95% score
        interval, statsmodels ``confint_poisson_2indep``) for the chart.
    """
    alpha = float(rules.get("alpha", 0.05))
    w = windows(quarter)
    now = _sum_if_complete(series, w["quarter"])
    if now is None:
        return {
            "value_this_quarter": "not available (months missing from the store)",
            "comparison": "",
            "test": "",
            "p_value": np.nan,
            "status": NO_DATA,
        }
    year = _sum_if_complete(series, w["year_earlier_quarter"])
    prev = _sum_if_complete(series, w["previous_quarter"])
    year_test = stats.poisson_change_test(year, now) if year is not None else None
    prev_test = stats.poisson_change_test(prev, now) if prev is not None else None
    value = f"{tables.format_count(now)} in {quarter.label()}"
    if year_test is None and prev_test is None:
        return {
            **_no_data("neither the previous nor the year-earlier quarter is held"),
            "value_this_quarter": value,
            "count": now,
        }
    xmr, signal = None, None
    if len(series) >= int(rules.get("min_spc_months", 12)):
        xmr = stats.xmr_chart_data(series.astype(float))
        signal = spc_direction(xmr, w["quarter"])
    status = count_status(year_test, prev_test, signal, good, alpha)
    sentences = [
        tables.headline_change(label, test, quarter.label(), q.label())
        for test, q, label in (
            (year_test, quarter.year_earlier, "Year on year"),
            (prev_test, quarter.previous, "Quarter on quarter"),
        )
        if test is not None
    ]
    parts = list(sentences)
    side = {"up": "above", "down": "below"}.get(signal or "")
    if xmr is not None:
        gaps = [
            m
            for m in analysis_months(quarter, len(series) + 36)
            if series.index[0] <= m and m not in series.index
        ]
        held = f"{len(series)} months" + (f"; {', '.join(gaps)} not held" if gaps else "")
        parts.append(
            f"Control chart ({held}): special-cause signal in this quarter, {side} the centre line."
            if side
            else f"Control chart ({held}): no special-cause signal in this quarter."
        )
    main = year_test or prev_test
    base = (year if year_test is not None else prev) or 0
    low, high = np.nan, np.nan
    if base > 0:
        low, high = confint_poisson_2indep(now, 1.0, base, 1.0, method="score", compare="ratio")
    main_quarter = quarter.year_earlier if year_test is not None else quarter.previous
    short = f"{tables.format_count(base)} in {main_quarter.label()}: {_change_words(main)} ({_p_words(main.p_value)})"
    if xmr is not None and side:
        short += f"; control chart signals {side} its centre line"
    return {
        "value_this_quarter": value,
        "value_short": tables.format_count(now),
        "short": short,
        "comparison": " ".join(parts),
        "headline": sentences[0],
        "test": COUNT_TEST if year_test is not None else COUNT_TEST_PREVIOUS,
        "p_value": main.p_value,
        "status": status,
        "count": now,
        "ratio": main.ratio,
        "ratio_low": float(low),
        "ratio_high": float(high),
    }


def comparison_quarter(quarter: Quarter, held: list[str]) -> Quarter | None:
    """The quarter to compare with: the same quarter a year earlier when all its months are
    ``held``, else the previous quarter when held, else None."""
    months = set(held)
    for candidate in (quarter.year_earlier, quarter.previous):
        if all(m in months for m in candidate.months):
            return candidate
    return None


def _percent_interval(x: int, n: int) -> str:
    ci = stats.wilson_interval(x, n)
    share, low, high = (float(np.asarray(ci[c])[0]) * 100 for c in ("share", "low", "high"))
    return f"{tables.format_interval(share, low, high)}%"


def linked_find_indicator(data: ScorecardData, good: str, alpha: float = 0.05) -> dict:
    """Linked-find rate of searches of people, this quarter vs the comparison quarter.

    Numerator and denominator from :func:`analysis.reports.stop_search.outcome_flags` and
    :func:`~analysis.reports.stop_search.person_searches`; 95% Wilson intervals; score test
    of two independent proportions (statsmodels ``test_proportions_2indep``). The comparison
    quarter is the same quarter a year earlier, else the previous quarter
    (:func:`comparison_quarter`).
    """
    from analysis.reports import stop_search

    q = data.quarter
    held = data.months.get("stop_search", [])
    if not all(m in set(held) for m in q.months):
        return _no_data("stop-and-search months of the quarter are missing from the store")
    flags = stop_search.outcome_flags(data.searches)
    now = stop_search.person_searches(flags, q.months)
    x1, n1 = int(now["linked_find"].sum()), len(now)
    if n1 == 0:
        return _no_data("no searches of people in the quarter")
    value = (
        f"{_percent_interval(x1, n1)} ({tables.format_count(x1)} of "
        f"{tables.format_count(n1)} searches of people)"
    )
    base = comparison_quarter(q, held)
    before = stop_search.person_searches(flags, base.months) if base else flags.iloc[:0]
    x0, n0 = int(before["linked_find"].sum()), len(before)
    if base is None or n0 == 0:
        return {**_no_data("no comparison quarter held"), "value_this_quarter": value}
    p = float(
        test_proportions_2indep(
            x1, n1, x0, n0, method="score", compare="diff", correction=False
        ).pvalue
    )
    status = proportion_status(p, x0 / n0, x1 / n1, good, alpha)
    comparison = (
        f"{_percent_interval(x0, n0)} in {base.label()} ({tables.format_count(x0)} of "
        f"{tables.format_count(n0)}); "
        f"{'difference unlikely to be chance' if p < alpha else 'no evidence of change'} "
        f"(p = {p:.2g})."
    )
    test = PROPORTION_TEST if base == q.year_earlier else PROPORTION_TEST_PREVIOUS
    return {
        "value_this_quarter": value,
        "short": f"{_percent_interval(x0, n0)} in {base.label()} ({_p_words(p)})",
        "comparison": comparison,
        "test": test,
        "p_value": p,
        "status": status,
    }


def _disparity_for(data: ScorecardData, months: list[str], group: str) -> tuple:
    from analysis.reports import stop_search

    people = stop_search.person_searches(data.searches, months)
    people = stop_search.with_ethnic_groups(people)
    population = stop_search.population_by_group(data.population)
    table = stop_search.rates_by_group(people, population, data.lads, group_col="group_self")
    row = table[table["group"] == group].iloc[0]
    return float(row["rr_vs_white"]), float(row["rr_low"]), float(row["rr_high"]), row


def disparity_indicator(data: ScorecardData, group: str, reference: str, good: str) -> dict:
    """Search rate ratio of ``group`` vs White residents (self-defined ethnicity, force area,
    :func:`analysis.reports.stop_search.rates_by_group`), this quarter vs the comparison
    quarter (:func:`comparison_quarter`), judged by :func:`ratio_status`."""
    q = data.quarter
    held = data.months.get("stop_search", [])
    if not all(m in set(held) for m in q.months):
        return _no_data("stop-and-search months of the quarter are missing from the store")
    now = _disparity_for(data, q.months, group)
    value = tables.headline_ratio(group, reference, *now[:3], "to be stopped and searched")
    base = comparison_quarter(q, held)
    if base is None:
        return {**_no_data("no comparison quarter held"), "value_this_quarter": value}
    before = _disparity_for(data, base.months, group)
    status = ratio_status(now[:3], before[:3], good)
    overlap = "intervals overlap" if status == NO_CHANGE else "intervals do not overlap"
    if status == NO_DATA:
        overlap = "a ratio is not estimable"
    comparison = (
        f"{base.label()}: {tables.format_interval(before[0], before[1], before[2])} times "
        f"({overlap})."
    )
    return {
        "value_this_quarter": value,
        "short": comparison,
        "comparison": comparison,
        "test": RATIO_TEST if base == q.year_earlier else RATIO_TEST_PREVIOUS,
        "p_value": np.nan,
        "status": status,
    }


def reoffending_indicator(data: ScorecardData) -> dict:
    """Reoffending: national context only; ``"no data"`` for the quarter unless local MoJ data
    were supplied (then the latest local cohort is shown, still ``"no data"`` for a status
    because MoJ cohorts lag the quarter by about two years)."""
    from analysis.reports import reoffending

    if data.national_reoffending.empty:
        return _no_data("no MoJ reoffending data in the store")
    national = reoffending.national_rates(
        reoffending.ReoffendingData(data.run, data.national_reoffending, pd.DataFrame())
    )
    new = national[
        (national["measure"] == "new")
        & national["temporal_unit"].str.startswith("3")
        & (national["group"] == "All")
        & national["binary_rate"].notna()
    ].sort_values("cohort_start")
    latest = new.iloc[-1]
    local_note = (
        "Local MoJ table supplied: see 04_reoffending."
        if not data.local_reoffending.empty
        else "No local (PCC area) MoJ table supplied."
    )
    return {
        "value_this_quarter": (
            f"Not available for {data.quarter.label()}. Latest national cohort "
            f"({latest['cohort']}): "
            f"{tables.format_interval(latest['binary_rate'], latest['low'], latest['high'])}%."
        ),
        "short": "National series only; no figure for the quarter.",
        "comparison": f"National England and Wales series only, ending {latest['cohort']}. {local_note}",
        "test": "",
        "p_value": np.nan,
        "status": NO_DATA,
    }


def _change_words(test: stats.ChangeTest) -> str:
    """``"5% more"`` / ``"17% fewer"`` / ``"about the same"`` from a change test's ratio."""
    if test.before == 0:
        return "up from 0" if test.after > 0 else "both 0"
    pct = round(abs(test.ratio - 1) * 100)
    if pct == 0:
        return "about the same"
    return f"{pct}% {'more' if test.ratio > 1 else 'fewer'}"


def _p_words(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _no_data(reason: str) -> dict:
    return {
        "value_this_quarter": f"not available: {reason}",
        "short": f"No comparison: {reason}.",
        "comparison": f"No comparison: {reason}.",
        "test": "",
        "p_value": np.nan,
        "status": NO_DATA,
    }


def _rows(data: ScorecardData) -> pd.DataFrame:
    return data.rows if data.rows is not None else scorecard_rows(data)


def scorecard_rows(data: ScorecardData) -> pd.DataFrame:
    """Every indicator of ``plan.yml`` with its value, comparison, test and status.

    Returns
    -------
    DataFrame
        :data:`SCORECARD_COLUMNS` plus ``id, label`` (short name), ``headline`` (the main
        comparison sentence) and ``count, ratio, ratio_low, ratio_high`` (count indicators) used
        by the chart; the ``no_data`` commitments come last with status
        ``"no data supplied"`` and the force extract that would answer them.
    """
    plan = data.plan
    rules = plan["rules"]
    q = data.quarter
    span = analysis_months(q, int(rules.get("spc_months", 36)))
    held_street = data.months.get("street", [])
    rows = []
    for spec in plan["indicators"]:
        base = {
            "id": spec["id"],
            "commitment": spec["commitment"],
            "indicator": spec["indicator"],
            "label": spec.get("label", spec["indicator"]),
            "source_notebook": spec.get("source_notebook", ""),
            "source_table": spec.get("source_table", ""),
            "definition": " ".join(str(spec["definition"]).split()),
        }
        kind = spec["kind"]
        if kind == "count":
            rows_ = select_street(data.street, spec.get("select", {}), data.lsoa)
            series = monthly_series(rows_, held_street, span)
            rows.append({**base, **count_indicator(series, q, spec["good"], rules)})
        elif kind == "count_by_lad":
            rows_ = select_street(data.street, spec.get("select", {}), data.lsoa)
            for lad in data.lads.sort_values("lad_name").itertuples(index=False):
                series = monthly_series(rows_[rows_["lad_code"] == lad.lad_code], held_street, span)
                result = count_indicator(series, q, spec["good"], rules)
                rows.append(
                    {
                        **base,
                        "id": f"{spec['id']}:{lad.lad_code}",
                        "indicator": f"{spec['indicator']}: {lad.lad_name}",
                        "label": f"{base['label']}: {lad.lad_name}",
                        **result,
                    }
                )
        elif kind == "outcome_count":
            held = data.months.get("outcomes", [])
            series = data.positive.reindex([m for m in span if m in set(held)], fill_value=0)
            rows.append({**base, **count_indicator(series.astype("int64"), q, spec["good"], rules)})
        elif kind == "linked_find_rate":
            rows.append(
                {**base, **linked_find_indicator(data, spec["good"], rules.get("alpha", 0.05))}
            )
        elif kind == "disparity_ratio":
            result = disparity_indicator(
                data, spec.get("group", "Black"), spec.get("reference", "White"), spec["good"]
            )
            rows.append({**base, **result})
        elif kind == "reoffending":
            rows.append({**base, **reoffending_indicator(data)})
        else:
            raise CrimeplanError(
                f"config/plan.yml: indicator {spec['id']} has unknown kind {kind!r}"
            )
    for item in plan["no_data"]:
        rows.append(
            {
                "id": "no_data",
                "commitment": item["commitment"],
                "indicator": item["indicator"],
                "source_notebook": "",
                "source_table": "",
                "definition": f"Not in police open data. Needs: {item['extract']}.",
                "value_this_quarter": "",
                "comparison": "",
                "test": "",
                "p_value": np.nan,
                "status": NO_DATA_SUPPLIED,
            }
        )
    table = pd.DataFrame(rows)
    for col in ("count", "ratio", "ratio_low", "ratio_high", "headline", "short", "value_short"):
        if col not in table:
            table[col] = np.nan
    table["value_short"] = table["value_short"].fillna(table["value_this_quarter"])
    table["short"] = table["short"].fillna(table["comparison"])
    return table


# ------------------------------------------------------------------ notebook sections


def headline(data: ScorecardData) -> Markdown:
    """How many indicators are improving, unchanged, deteriorating or without data, and which
    ones moved (each with its test)."""
    table = _rows(data)
    assessed = table[table["status"] != NO_DATA_SUPPLIED]
    counts = assessed["status"].value_counts()
    lines = [
        f"**{data.run.force.capitalize()}, {data.quarter.label()}**: of {len(assessed)} "
        f"indicators, {counts.get(IMPROVING, 0)} improving, {counts.get(NO_CHANGE, 0)} with no "
        f"significant change, {counts.get(DETERIORATING, 0)} deteriorating and "
        f"{counts.get(NO_DATA, 0)} without data. "
        f"{int((table['status'] == NO_DATA_SUPPLIED).sum())} further commitments cannot be "
        "measured from police open data.",
        "",
    ]
    for row in assessed[assessed["status"].isin([IMPROVING, DETERIORATING])].itertuples():
        sentence = row.headline if isinstance(row.headline, str) else row.comparison
        lines.append(f"- **{row.status.capitalize()}**: {row.label}. {sentence}")
    return Markdown("\n".join(lines))


def scorecard_table(data: ScorecardData) -> tables.ReportTable:
    """The scorecard for the indicators the open data can speak to."""
    table = _rows(data)
    table = table[table["status"] != NO_DATA_SUPPLIED].copy()
    return tables.report_table(
        table,
        columns={
            "commitment": "Plan commitment",
            "label": "Indicator",
            "value_short": "This quarter",
            "short": "Compared with (test)",
            "status": "Status",
        },
        caption=f"Police and Crime Plan scorecard, {data.quarter.label()}",
        notes=[
            "Status rules (config/plan.yml): " + " ".join(str(data.plan["rules"]["count"]).split()),
            " ".join(str(data.plan["rules"]["proportion"]).split()),
            " ".join(str(data.plan["rules"]["ratio"]).split()),
            "p: exact Poisson (conditional binomial) test for counts; score (chi-square) test "
            "for the linked-find rate. Intervals are 95%.",
            "Full comparisons, tests and each indicator's definition are in the published "
            "scorecard.csv; the detail is in the notebook named there.",
            f"Source: {SOURCE}.",
        ],
    )


def change_chart(data: ScorecardData) -> charts.Chart:
    """Forest plot of each count indicator's rate ratio (this quarter ÷ comparison quarter)
    with its 95% score interval; below 1 means fewer."""
    table = _rows(data)
    table = table[table["ratio"].notna() & table["ratio_low"].notna()].copy()
    return charts.forest_plot(
        table,
        label="label",
        estimate="ratio",
        low="ratio_low",
        high="ratio_high",
        title=f"Counts in {data.quarter.label()} relative to "
        + (
            "the same quarter a year earlier"
            if (table["test"] == COUNT_TEST).all()
            else "the same quarter a year earlier, or the previous quarter when it is not held"
        ),
        x_label="Rate ratio (1 = no change; 95% interval)",
        source=SOURCE,
        reference=1.0,
        log_scale=False,
    )


def no_data_table(data: ScorecardData) -> tables.ReportTable:
    """Commitments police open data cannot speak to, and the force extract that would."""
    rows = pd.DataFrame(data.plan["no_data"])
    rows["status"] = NO_DATA_SUPPLIED
    return tables.report_table(
        rows,
        columns={
            "commitment": "Plan commitment",
            "indicator": "Indicator",
            "extract": "Data that would answer it",
            "status": "Status",
        },
        caption="Commitments the police open data cannot measure",
        notes=["These need data held by the force or partners; none was supplied."],
    )


def published_scorecard(data: ScorecardData) -> pd.DataFrame:
    """The published ``scorecard.csv``: :data:`SCORECARD_COLUMNS` only."""
    return _rows(data)[SCORECARD_COLUMNS].reset_index(drop=True)


def publish_tables(data: ScorecardData) -> list[Path]:
    """Write ``tables/00_plan_scorecard/scorecard.csv``; return the paths written."""
    write_table(published_scorecard(data), data.run.output_path, REPORT, "scorecard")
    return [data.run.output_path / "tables" / REPORT / "scorecard.csv"]


def tables_written(data: ScorecardData) -> tables.ReportTable:
    """Publish the tables (:func:`publish_tables`) and list what was written."""
    paths = publish_tables(data)
    listing = pd.DataFrame(
        {
            "table": [p.name for p in paths],
            "folder": [str(p.parent.relative_to(data.run.output_path)) for p in paths],
            "rows": [len(_rows(data))],
        }
    )
    return tables.report_table(
        listing,
        columns={"table": "Table", "folder": "Folder", "rows": "Rows"},
        caption="Tables published by the scorecard (CSV)",
        counts=["rows"],
        notes=["Columns: " + ", ".join(SCORECARD_COLUMNS) + "."],
    )
