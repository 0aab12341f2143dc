"""Plan scorecard metrics: one row per commitment, every figure read from its source report.

The scorecard defines no figure. For each indicator of the plan
(:func:`~analysis.reports.scorecard.data.load_plan`):

* **Counts** of crimes and incidents (force, or each local authority): the ``crime_by_area``
  table (count in the quarter) and its ``change`` tests, from
  :mod:`analysis.reports.crime_by_area.metrics`; rural crime from
  :mod:`analysis.reports.rural_crime.metrics` (``rural_urban``, ``change_vs_year_before``).
  Comparison: the same quarter a year earlier (else the year ending with the quarter against
  the year before). Status: the source report's verdict after its adjustment for many tests
  (``verdict_adjusted``) when it publishes one, else its verdict.
* **Positive outcome rate**: :func:`analysis.reports.justice_outcomes.metrics.positive_outcome_change`
  (one definition, same follow-up for both quarters, adjusted verdict).
* **Linked-find rate** and **disparity ratio**: :func:`analysis.reports.stop_search.metrics.outcome_rates`
  and :func:`~analysis.reports.stop_search.metrics.group_rates` for the quarter and the same
  quarter a year earlier. The stop-and-search report publishes no test of change, so the
  scorecard's rules judge the two figures: the monthly linked-find rates of the two quarters by
  :func:`analysis.stats.proportion.proportion_change_test`; the ratios by whether their 95%
  intervals overlap (a family of one each: no adjustment is needed).
* **Reoffending**: the latest national cohort of
  :func:`analysis.reports.reoffending.metrics.main_series`, for context; status "no data".

Statuses: ``improving`` / ``deteriorating`` (a statistically significant change in the good /
bad direction), ``no significant change``, ``no data`` (the source report cannot run, with its
reason, or nothing could be compared), ``no data supplied`` (a commitment the open data cannot
speak to).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.params import Quarter
from analysis.tables import format_count

from .data import KINDS, ScorecardData

__all__ = [
    "DETERIORATING",
    "IMPROVING",
    "NO_CHANGE",
    "NO_DATA",
    "NO_DATA_SUPPLIED",
    "SCORECARD_COLUMNS",
    "SOURCE_TABLES",
    "STATUSES",
    "direction_of",
    "published_tables",
    "ratio_status",
    "scorecard_table",
    "source_figures",
    "status_of",
]

IMPROVING = "improving"
NO_CHANGE = "no significant change"
DETERIORATING = "deteriorating"
NO_DATA = "no data"
NO_DATA_SUPPLIED = "no data supplied"
STATUSES = (IMPROVING, NO_CHANGE, DETERIORATING, NO_DATA, NO_DATA_SUPPLIED)

SCORECARD_COLUMNS = [
    "id", "commitment", "indicator", "area", "value", "value_low", "value_high", "value_text",
    "comparison", "comparison_value", "comparison_text", "verdict", "p_value", "status",
    "source_report", "source_table", "definition", "note",
]  # fmt: skip
"""Columns of the published ``scorecard`` table, in order."""

SOURCE_TABLES: dict[str, tuple[str, str]] = {
    "count": ("01_crime_by_area", "change"),
    "count_by_lad": ("01_crime_by_area", "change"),
    "rural_count": ("03_rural_crime", "rural_urban"),
    "positive_outcomes": ("05_justice_outcomes", "positive_outcomes"),
    "linked_find_rate": ("02_stop_search_disparity", "outcomes_by_group"),
    "disparity_ratio": ("02_stop_search_disparity", "search_rates"),
    "reoffending": ("04_reoffending", "reoffending_rates"),
}
"""Indicator kind -> (report notebook, published table) holding its figure."""

COMPARISON_ORDER = ("year_earlier_quarter", "year_ending")
"""Comparisons a count's status may come from, in order of preference (quarter on quarter is
never used: it mostly shows the season)."""


# --------------------------------------------------------------------------- status rules


def direction_of(verdict: object) -> str | None:
    """``"up"``/``"down"`` when a source report's verdict states a significant increase or
    decrease, None for no significant change (or not tested)."""
    text = str(verdict).lower() if isinstance(verdict, str) else ""
    if text.startswith("not tested") or text.startswith("no "):
        return None
    if "increase" in text:
        return "up"
    if "decrease" in text:
        return "down"
    return None


def status_of(verdict: object, good: str) -> str:
    """Status from a source report's verdict and the direction that is good for the public:
    ``no data`` when not tested (or no verdict), else improving / deteriorating / no
    significant change."""
    if not isinstance(verdict, str) or verdict.lower().startswith("not tested"):
        return NO_DATA
    direction = direction_of(verdict)
    if direction is None:
        return NO_CHANGE
    return IMPROVING if direction == good else DETERIORATING


def ratio_status(now: tuple, before: tuple, good: str) -> str:
    """Status of a ratio from two ``(estimate, low, high)`` 95% intervals: improving or
    deteriorating only when the intervals do not overlap; ``no data`` when a ratio is not
    estimable."""
    if any(pd.isna(v) for v in (*now, *before)):
        return NO_DATA
    if now[2] < before[1]:
        direction = "down"
    elif now[1] > before[2]:
        direction = "up"
    else:
        return NO_CHANGE
    return IMPROVING if direction == good else DETERIORATING


def _verdict_column(frame: pd.DataFrame) -> tuple[str, str]:
    """(verdict, p-value) columns to read: the adjusted ones when the source publishes them."""
    if "verdict_adjusted" in frame.columns:
        return "verdict_adjusted", "p_adjusted"
    if "p_adjusted" in frame.columns:  # the report's verdict is already the adjusted one
        return "verdict", "p_adjusted"
    return "verdict", "p_value"


# --------------------------------------------------------------------------- source figures


def _crime_by_area(source: Any) -> dict[str, pd.DataFrame]:
    from analysis.reports.crime_by_area import metrics as m

    levels = ("force", "lad")
    table = m.crime_by_area_table(source, levels)
    if hasattr(m, "change_tests"):
        change = m.change_tests(source, levels)
    else:
        change = m.change_by_area(table, source.window_months, levels)
    return {"table": table, "change": change}


def _rural_crime(source: Any) -> dict[str, pd.DataFrame]:
    from analysis.reports.rural_crime import metrics as m

    return {"table": m.rural_urban(source), "change": m.change_vs_year_before(source)}


def _justice_outcomes(source: Any) -> dict[str, pd.DataFrame]:
    from analysis.reports.justice_outcomes import metrics as m

    return {"change": m.positive_outcome_change(source)}


def _stop_search(source: Any) -> dict[str, pd.DataFrame]:
    from analysis.reports.stop_search import metrics as m

    q = source.quarter
    out = {}
    for name, months in (("quarter", q.months), ("year_earlier_quarter", q.year_earlier.months)):
        held = all(month in set(source.months) for month in months)
        if not held:
            continue
        out[f"outcomes_{name}"] = m.outcome_rates(source, months, name)
        out[f"rates_{name}"] = m.group_rates(source, months)
        out[f"monthly_{name}"] = pd.concat(
            [m.outcome_rates(source, [month], month) for month in months], ignore_index=True
        )
    return out


def _reoffending(source: Any) -> dict[str, pd.DataFrame]:
    from analysis.reports.reoffending import metrics as m

    return {"main": m.main_series(source)}


_FIGURES = {
    "crime_by_area": _crime_by_area,
    "rural_crime": _rural_crime,
    "justice_outcomes": _justice_outcomes,
    "stop_search": _stop_search,
    "reoffending": _reoffending,
}


def source_figures(data: ScorecardData) -> dict[str, dict[str, pd.DataFrame]]:
    """The source reports' own metrics the scorecard reads, computed once per report.

    * ``crime_by_area``: ``table`` (:func:`~analysis.reports.crime_by_area.metrics.crime_by_area_table`,
      force and local authorities) and ``change`` (its change tests for the same levels; the
      tests of a level form one family whatever other levels are published);
    * ``rural_crime``: ``table`` (``rural_urban``) and ``change`` (``change_vs_year_before``);
    * ``justice_outcomes``: ``change`` (``positive_outcome_change``);
    * ``stop_search``: ``outcomes_<window>`` (``outcome_rates``), ``rates_<window>``
      (``group_rates``) and ``monthly_<window>`` (``outcome_rates`` of each month) for the
      quarter and the same quarter a year earlier, when every month is held;
    * ``reoffending``: ``main`` (``main_series``).
    """
    if "figures" not in data.cache:
        data.cache["figures"] = {
            name: _FIGURES[name](source) for name, source in data.sources.items()
        }
    return data.cache["figures"]


# --------------------------------------------------------------------------- indicators


def _pct_change(before: float, after: float) -> str:
    if not before or pd.isna(before):
        return ""
    pct = round((after / before - 1) * 100)
    if pct == 0:
        return "about the same"
    return f"{abs(pct)}% {'more' if pct > 0 else 'fewer'}"


def _period_label(comparison: str, quarter: Quarter) -> str:
    if comparison == "year_earlier_quarter":
        return quarter.year_earlier.label()
    if comparison == "year_ending":
        return "the year before"
    return comparison.replace("_", " ")


def _count_row(figures: dict, level: str, code: str, crime_type: str, q: Quarter) -> dict:
    table, change = figures["table"], figures["change"]
    now = table[
        (table["window"] == "quarter")
        & (table["area_level"] == level)
        & (table["area_code"] == code)
        & (table["crime_type"] == crime_type)
    ]
    if now.empty:
        return {"status": NO_DATA, "note": f"no count of {crime_type} for this area"}
    value = int(now["count"].iloc[0])
    row = {"value": value, "value_text": format_count(value), "area": now["area_name"].iloc[0]}
    verdict_col, p_col = _verdict_column(change)
    tests = change[
        (change["area_level"] == level)
        & (change["area_code"] == code)
        & (change["crime_type"] == crime_type)
    ]
    for comparison in COMPARISON_ORDER:
        test = tests[tests["comparison"] == comparison]
        if test.empty or status_of(test[verdict_col].iloc[0], "down") == NO_DATA:
            continue
        test = test.iloc[0]
        before = float(test["count_before"])
        words = _pct_change(before, float(test["count_after"]))
        return {
            **row,
            "comparison": comparison,
            "comparison_value": before,
            "comparison_text": (
                format_count(before)
                + (
                    ""
                    if comparison == "year_earlier_quarter"
                    else f" in {_period_label(comparison, q)}"
                )
                + (f" ({words})" if words else "")
            ),
            "verdict": test[verdict_col],
            "p_value": float(test[p_col]),
        }
    return {**row, "status": NO_DATA, "note": "no comparison with a year earlier could be tested"}


def _rural_row(figures: dict, q: Quarter) -> dict:
    from analysis.reports.rural_crime.metrics import ALL_CRIME

    table, change = figures["table"], figures["change"]
    now = table[
        (table["window"] == "quarter")
        & (table["ruc_class"] == "RURAL")
        & (table["crime_type"] == ALL_CRIME)
    ]
    value = int(now["count"].iloc[0])
    row = {"value": value, "value_text": format_count(value), "area": "Rural areas"}
    verdict_col, p_col = _verdict_column(change)
    test = change[
        change["comparison"].str.startswith("quarter")
        & (change["ruc_class"] == "RURAL")
        & (change["crime_type"] == ALL_CRIME)
    ]
    if test.empty:
        return {**row, "status": NO_DATA, "note": "no comparison with a year earlier"}
    test = test.iloc[0]
    before = float(test["count_before"])
    words = _pct_change(before, value)
    return {
        **row,
        "comparison": "year_earlier_quarter",
        "comparison_value": before,
        "comparison_text": format_count(before) + (f" ({words})" if words else ""),
        "verdict": test[verdict_col],
        "p_value": float(test[p_col]),
    }


def _percent(share: float, low: float, high: float) -> str:
    return f"{share * 100:.1f}% ({low * 100:.1f} to {high * 100:.1f})"


def _positive_row(figures: dict, force: str, q: Quarter) -> dict:
    change = figures["change"]
    row = change[change["area_code"] == force].iloc[0]
    verdict_col, p_col = _verdict_column(change)
    months = int(row["follow_up_months"])
    gone = row["outcome_months_missing"]
    note = f"outcomes counted up to {months} months after each quarter's end"
    if isinstance(gone, str) and gone:
        note += f"; outcomes recorded in {gone} are missing from the data"
    return {
        "area": row["area_name"],
        "value": float(row["share_after"]) * 100,
        "value_low": float(row["share_after_low"]) * 100,
        "value_high": float(row["share_after_high"]) * 100,
        "value_text": (
            f"{row['share_after'] * 100:.1f}% ({format_count(row['positive_after'])} of "
            f"{format_count(row['crimes_after'])})"
        ),
        "comparison": row["comparison"],
        "comparison_value": float(row["share_before"]) * 100,
        "comparison_text": f"{row['share_before'] * 100:.1f}% (same follow-up)",
        "verdict": row[verdict_col],
        "p_value": float(row[p_col]),
        "note": note,
    }


def _linked_find_row(figures: dict, q: Quarter) -> dict:
    from analysis.stats.change import SIG_DOWN, SIG_NONE, SIG_UP
    from analysis.stats.proportion import proportion_change_test

    if "outcomes_quarter" not in figures:
        return {"status": NO_DATA, "note": "stop-and-search months of the quarter missing"}
    now = figures["outcomes_quarter"].set_index("group").loc["All searches"]
    row = {
        "area": "Whole force",
        "value": float(now["linked_find_rate"]) * 100,
        "value_low": float(now["linked_find_rate_low"]) * 100,
        "value_high": float(now["linked_find_rate_high"]) * 100,
        "value_text": (
            f"{now['linked_find_rate'] * 100:.1f}% ({format_count(now['linked_finds'])} of "
            f"{format_count(now['searches'])})"
        ),
    }
    if "outcomes_year_earlier_quarter" not in figures:
        return {**row, "status": NO_DATA, "note": "the same quarter a year earlier is not held"}
    then = figures["outcomes_year_earlier_quarter"].set_index("group").loc["All searches"]
    monthly = pd.concat(
        [
            figures["monthly_quarter"].assign(after=True),
            figures["monthly_year_earlier_quarter"].assign(after=False),
        ]
    )
    monthly = monthly[monthly["group"] == "All searches"]
    p = proportion_change_test(
        monthly.rename(columns={"linked_finds": "successes", "searches": "trials"})
    )
    a, b = float(now["linked_find_rate"]), float(then["linked_find_rate"])
    verdict = "not tested" if not np.isfinite(p) else SIG_NONE
    if np.isfinite(p) and p < 0.05:
        verdict = SIG_UP if a > b else SIG_DOWN
    return {
        **row,
        "comparison": "year_earlier_quarter",
        "comparison_value": b * 100,
        "comparison_text": f"{b * 100:.1f}%",
        "verdict": verdict,
        "p_value": p,
    }


def _disparity_row(figures: dict, group: str, good: str, q: Quarter) -> dict:
    if "rates_quarter" not in figures:
        return {"status": NO_DATA, "note": "stop-and-search months of the quarter missing"}

    def ratio(frame: pd.DataFrame) -> tuple[float, float, float]:
        r = frame.set_index("group").loc[group]
        return float(r["rr_vs_white"]), float(r["rr_low"]), float(r["rr_high"])

    now = ratio(figures["rates_quarter"])
    row = {
        "area": "Whole force",
        "value": now[0],
        "value_low": now[1],
        "value_high": now[2],
        "value_text": (
            f"{now[0]:.1f} times ({now[1]:.1f} to {now[2]:.1f})"
            if np.isfinite(now[0])
            else "not estimable"
        ),
    }
    if "rates_year_earlier_quarter" not in figures:
        return {**row, "status": NO_DATA, "note": "the same quarter a year earlier is not held"}
    before = ratio(figures["rates_year_earlier_quarter"])
    return {
        **row,
        "comparison": "year_earlier_quarter",
        "comparison_value": before[0],
        "comparison_text": f"{before[0]:.1f} times ({before[1]:.1f} to {before[2]:.1f})",
        "verdict": _ratio_verdict(now, before),
        "p_value": np.nan,
        "status": ratio_status(now, before, good),
    }


def _ratio_verdict(now: tuple, before: tuple) -> str:
    from analysis.stats.change import NOT_TESTED, SIG_DOWN, SIG_NONE, SIG_UP

    if any(pd.isna(v) for v in (*now, *before)):
        return f"{NOT_TESTED} (a ratio is not estimable)"
    if now[2] < before[1]:
        return f"{SIG_DOWN} (95% intervals do not overlap)"
    if now[1] > before[2]:
        return f"{SIG_UP} (95% intervals do not overlap)"
    return f"{SIG_NONE} (95% intervals overlap)"


def _reoffending_row(figures: dict, q: Quarter) -> dict:
    main = figures["main"]
    if main.empty:
        return {"status": NO_DATA, "note": "no national reoffending series"}
    latest = main.iloc[-1]
    return {
        "area": "England and Wales",
        "value": float(latest["binary_rate"]),
        "value_low": float(latest["low"]),
        "value_high": float(latest["high"]),
        "value_text": f"{latest['binary_rate']:.1f}% (England and Wales, {latest['cohort']})",
        "comparison_text": "none for the force area",
        "status": NO_DATA,
        "note": "national figure only; Ministry of Justice cohorts lag by about two years",
    }


UNCITED_NOTE = "counted from the police street-level files (report 01 is not in this pack)"
"""Note of a count whose report (01) cannot run for the force: the figure has no report table."""


def _indicator_rows(spec: dict, data: ScorecardData, figures: dict) -> list[dict]:
    q = data.quarter
    kind = spec["kind"]
    if kind == "count":
        return [_count_row(figures, "force", data.run.force, spec["crime_type"], q)]
    if kind == "count_by_lad":
        table = figures["table"]
        lads = table[table["area_level"] == "lad"][["area_code", "area_name"]].drop_duplicates()
        rows = []
        for lad in lads.sort_values("area_name").itertuples(index=False):
            row = _count_row(figures, "lad", lad.area_code, spec["crime_type"], q)
            rows.append({**row, "id_suffix": lad.area_code})
        return rows
    if kind == "rural_count":
        return [_rural_row(figures, q)]
    if kind == "positive_outcomes":
        return [_positive_row(figures, data.run.force, q)]
    if kind == "linked_find_rate":
        return [_linked_find_row(figures, q)]
    if kind == "disparity_ratio":
        return [_disparity_row(figures, spec.get("group", "Black"), spec["good"], q)]
    return [_reoffending_row(figures, q)]


def scorecard_table(
    data: ScorecardData, figures: dict[str, dict[str, pd.DataFrame]] | None = None
) -> pd.DataFrame:
    """The scorecard: one row per indicator (per local authority for area indicators), then
    the commitments the open data cannot speak to.

    ``value`` is the source report's figure for the quarter (count, or percentage, or ratio),
    ``comparison_value`` the same figure for the comparison period, ``verdict`` and ``p_value``
    the source report's test (adjusted for many tests where the report adjusts), ``status`` as
    in :func:`status_of` / :func:`ratio_status`. ``source_report``/``source_table`` name the
    report and published table holding the figure; empty when that report cannot run for the
    force and quarter (``note`` gives why, status ``no data``).

    Returns
    -------
    DataFrame
        :data:`SCORECARD_COLUMNS`.
    """
    if figures is None and "table" in data.cache:
        return data.cache["table"].copy()
    cached = figures is None
    figures = source_figures(data) if figures is None else figures
    rows = []
    for spec in data.plan["indicators"]:
        source = KINDS[spec["kind"]]
        base = {
            "id": spec["id"],
            "commitment": spec["commitment"],
            "indicator": spec["indicator"],
            "definition": " ".join(str(spec["definition"]).split()),
        }
        if source not in figures:
            reason = data.reasons.get(source, "the source report did not run")
            rows.append({**base, "status": NO_DATA, "note": f"no data: {reason}"})
            continue
        notebook, table = SOURCE_TABLES[spec["kind"]]
        if source in data.uncited:  # the report is not in the pack: cite no table of it
            notebook, table = "", ""
        for result in _indicator_rows(spec, data, figures[source]):
            row = {**base, "source_report": notebook, "source_table": table, **result}
            if source in data.uncited:
                row["note"] = "; ".join(
                    n for n in (UNCITED_NOTE, row.get("note")) if isinstance(n, str) and n
                )
            suffix = row.pop("id_suffix", None)
            if suffix:
                row["id"] = f"{spec['id']}:{suffix}"
                row["indicator"] = f"{spec['indicator']}: {row['area']}"
            if "status" not in row:
                row["status"] = status_of(row.get("verdict"), spec["good"])
            rows.append(row)
    for item in data.plan.get("no_data", []):
        rows.append(
            {
                "id": "no_data",
                "commitment": item["commitment"],
                "indicator": item["indicator"],
                "definition": f"Not in police open data. Needs: {item['extract']}.",
                "status": NO_DATA_SUPPLIED,
            }
        )
    table = pd.DataFrame(rows)
    for col in SCORECARD_COLUMNS:
        if col not in table:
            table[col] = np.nan
    text = ["area", "value_text", "comparison", "comparison_text", "verdict", "note"]
    text += ["source_report", "source_table"]
    table[text] = table[text].astype(object).where(table[text].notna(), "")
    table = table[SCORECARD_COLUMNS].reset_index(drop=True)
    if cached:
        data.cache["table"] = table.copy()
    return table


def published_tables(data: ScorecardData) -> dict[str, pd.DataFrame]:
    """Every table the scorecard publishes: ``{"scorecard": scorecard_table(data)}``.

    Public figures only (data.police.uk counts and rates, national MoJ series), so nothing is
    suppressed; values rounded to 6 decimals (p-values are not rounded: a small p-value must
    not print as 0).
    """
    table = scorecard_table(data)
    numbers = ["value", "value_low", "value_high", "comparison_value"]
    table[numbers] = table[numbers].astype(float).round(6)
    return {"scorecard": table}
