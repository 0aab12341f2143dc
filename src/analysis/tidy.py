"""Published tables as reusable open data, the way UK government statistical data files are.

Every CSV of a run passes through :func:`tidy_table` (called by
:func:`analysis.outputs.write_tables`):

- ``time_period`` and ``time_identifier`` (e.g. ``2022`` / ``Calendar year Q4``) replace the
  report's ``window`` column; a 12-month window is ``Calendar year`` when it ends in December and
  ``Year ending <Month>`` otherwise (a local extension: the government list has no such label);
- ``geographic_level`` with ``area_code`` and ``area_name`` (force area, local authority
  district, ward, LSOA, rural-urban class);
- figures rounded to publication precision (:data:`DECIMALS`);
- no blank or ``NA`` cell: ``[c]`` suppressed (confidential), ``[x]`` not available, ``[z]`` not
  applicable (Government Statistical Service symbols);
- column names in snake_case.

:func:`check_tidy` states the rules as a checklist (the tests apply it to every CSV of a run);
:func:`meta_table` describes each column (``<table>.meta.csv``); :func:`write_workbook` writes
one accessible Excel workbook of all tables with cover, contents and notes sheets (gptables).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

SUPPRESSED = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
SYMBOLS = (SUPPRESSED, NOT_AVAILABLE, NOT_APPLICABLE)
SYMBOL_NOTES = {
    SUPPRESSED: "[c] confidential: withheld to protect people's identity",
    NOT_AVAILABLE: "[x] not available: the data needed is missing for this period or area",
    NOT_APPLICABLE: "[z] not applicable: the figure has no meaning for this row",
}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
LEVELS = {
    "force": "Police force area",
    "pfa": "Police force area",
    "lad": "Local authority district",
    "ward": "Ward",
    "lsoa": "LSOA",
    "msoa": "MSOA",
    "ruc": "Rural-urban class",
    "national": "National",
}
TIME_COLUMNS = ("time_period", "time_identifier")
GEOGRAPHY_COLUMNS = ("geographic_level", "area_code", "area_name")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

DECIMALS: tuple[tuple[re.Pattern, int], ...] = (
    (re.compile(r"(^|_)p_value"), 4),
    (re.compile(r"(^|_)(share|proportion|percent)(_|$)|(^|_)(low|high)$"), 4),
    (re.compile(r"(^|_)(rr|lq|ratio|location_quotient|z|gi)(_|$)"), 3),
    (re.compile(r"(^|_)rate(_|$)"), 2),
)
"""Decimal places by column name (first match wins); other non-integer figures get 2."""
DEFAULT_DECIMALS = 2


def decimals_for(column: str) -> int:
    """Publication precision (decimal places) of a non-integer column, from its name."""
    for pattern, places in DECIMALS:
        if pattern.search(column):
            return places
    return DEFAULT_DECIMALS


def quarter_time(quarter) -> tuple[str, str]:
    """``(time_period, time_identifier)`` of a calendar quarter, e.g. ``("2022", "Calendar year Q4")``."""
    return str(quarter.year), f"Calendar year Q{quarter.q}"


def year_ending_time(quarter) -> tuple[str, str]:
    """``(time_period, time_identifier)`` of the 12 months ending with ``quarter``."""
    if quarter.q == 4:
        return str(quarter.year), "Calendar year"
    return str(quarter.year), f"Year ending {MONTHS[3 * quarter.q - 1]}"


def window_time(window: str, quarter) -> tuple[str, str]:
    """Time columns of one of the report windows (``analysis.params.windows``) around ``quarter``.

    Unknown window names raise ``KeyError`` (a table must say which period it covers).
    """
    if window == "quarter":
        return quarter_time(quarter)
    if window == "previous_quarter":
        return quarter_time(quarter.previous)
    if window == "year_earlier_quarter":
        return quarter_time(quarter.year_earlier)
    if window in ("12m", "year_ending", "twelve_months"):
        return year_ending_time(quarter)
    if window in ("year_earlier_12m", "previous_year_ending"):
        return year_ending_time(quarter.year_earlier)
    raise KeyError(f"unknown window {window!r}")


CODE_LEVELS = (
    (re.compile(r"^[EW]01"), "LSOA"),
    (re.compile(r"^[EW]02"), "MSOA"),
    (re.compile(r"^[EW]05"), "Ward"),
    (re.compile(r"^(E0[6-9]|W06)"), "Local authority district"),
    (re.compile(r"^E23"), "Police force area"),
)
"""Geographic level of an ONS area code from its entity prefix (when a table has no level)."""


def level_of_code(code: str, force: str) -> str:
    """Geographic level of ``code`` (an ONS GSS code or the force slug)."""
    if code == force:
        return LEVELS["force"]
    for pattern, level in CODE_LEVELS:
        if pattern.match(str(code)):
            return level
    return NOT_AVAILABLE


def _force_area(force: str) -> tuple[str, str]:
    from analysis.catalog import load_catalog

    known = load_catalog().forces.get(force, {})
    return known.get("pfa_code", force), known.get("pfa_name", force.replace("-", " ").title())


def tidy_table(table: pd.DataFrame, run) -> pd.DataFrame:
    """The publishable form of one report table for ``run`` (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        A report's table as its metrics return it (``window``/``area_level`` columns optional;
        suppressed cells either already ``"[c]"`` or marked by a boolean ``suppressed`` column).
    run : RunParameters
        The run (its quarter gives the time columns, its force the default geography).

    Returns
    -------
    DataFrame
        Time and geography columns first, then the table's own columns; every cell filled.
    """
    out = table.copy()
    quarter = run.period
    if "window" in out.columns:
        times = [window_time(str(w), quarter) for w in out["window"]]
        out.insert(0, "time_period", [t[0] for t in times])
        out.insert(1, "time_identifier", [t[1] for t in times])
        out = out.drop(columns="window")
    elif "month" in out.columns and "time_period" not in out.columns:  # monthly rows
        months = pd.to_datetime(out.pop("month").astype(str), format="%Y-%m")
        out.insert(0, "time_period", months.dt.year.astype(str))
        out.insert(1, "time_identifier", [MONTHS[m - 1] for m in months.dt.month])
    elif "time_period" not in out.columns:
        period, identifier = quarter_time(quarter)
        out.insert(0, "time_period", period)
        out.insert(1, "time_identifier", identifier)
    if "geographic_level" not in out.columns:
        code, name = _force_area(run.force)
        if "area_level" in out.columns:
            level = out.pop("area_level").map(lambda v: LEVELS.get(str(v), str(v)))
        elif "area_code" in out.columns:
            level = out["area_code"].map(lambda v: level_of_code(str(v), run.force))
        else:
            level = pd.Series(LEVELS["force"], index=out.index)
        out.insert(2, "geographic_level", level)
        if "area_code" not in out.columns:
            out.insert(3, "area_code", code)
        else:
            out["area_code"] = out["area_code"].where(out["area_code"] != run.force, code)
        if "area_name" not in out.columns:  # the force's name on force rows; others unknown here
            at_force = (level == LEVELS["force"]).to_numpy()
            out.insert(4, "area_name", np.where(at_force, name, NOT_AVAILABLE))
        first = [*TIME_COLUMNS, *GEOGRAPHY_COLUMNS]
        out = out[first + [c for c in out.columns if c not in first]]
    hidden = out.pop("suppressed").astype(bool) if "suppressed" in out.columns else None
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.map({True: "true", False: "false"}).astype(object)
            continue
        if pd.api.types.is_float_dtype(series):
            values = series.to_numpy(dtype=float)
            whole = np.isfinite(values) & (values == np.round(values))
            if whole[np.isfinite(values)].all() and not column.endswith(("_low", "_high")):
                shown = series.map(lambda v: f"{int(v)}" if pd.notna(v) else None)
            else:
                places = decimals_for(column)
                shown = series.map(lambda v, p=places: f"{v:.{p}f}" if pd.notna(v) else None)
            series = shown.astype(object)
        else:
            series = series.astype(object)
        missing = series.isna() | (series.astype(str).str.strip() == "")
        if hidden is not None and missing.any():
            series = series.where(~(missing & hidden), SUPPRESSED)
            missing = missing & ~hidden
        out[column] = series.where(~missing, NOT_AVAILABLE)
    return out.reset_index(drop=True)


def check_tidy(table: pd.DataFrame, name: str = "table") -> list[str]:
    """Problems that stop ``table`` being a reusable statistical data file (empty when none).

    The checklist: snake_case column names; ``time_period``, ``time_identifier``,
    ``geographic_level``, ``area_code`` and ``area_name`` present; no blank, ``NA`` or ``nan``
    cell; no bare ``c``/``x``/``z`` (symbols are bracketed); no duplicate column names.
    """
    problems = []
    columns = [str(c) for c in table.columns]
    for column in columns:
        if not SNAKE.fullmatch(column):
            problems.append(f"{name}: column {column!r} is not snake_case")
    if len(set(columns)) != len(columns):
        problems.append(f"{name}: duplicate column names")
    for required in (*TIME_COLUMNS, *GEOGRAPHY_COLUMNS):
        if required not in columns:
            problems.append(f"{name}: no {required} column")
    text = table.astype(str)
    blank = table.isna() | text.apply(
        lambda s: s.str.strip().isin(["", "nan", "NaN", "NA", "None"])
    )
    for column in columns:
        n = int(blank[column].sum())
        if n:
            problems.append(f"{name}: {n} blank or NA cells in {column!r}")
        bare = int(text[column].isin(["c", "x", "z"]).sum())
        if bare:
            problems.append(f"{name}: {bare} unbracketed symbols in {column!r}")
    return problems


COLUMN_LABELS = {
    "time_period": "Year",
    "time_identifier": "Period within the year",
    "geographic_level": "Geographic level",
    "area_code": "ONS area code (force slug for a police force area without one)",
    "area_name": "Area name",
    "crime_type": "Crime type (data.police.uk category)",
    "count": "Count",
    "population": "Usual residents (Census 2021)",
    "rate_per_1000": "Rate per 1,000 residents",
    "rate_low": "Lower 95% confidence limit of the rate",
    "rate_high": "Upper 95% confidence limit of the rate",
    "p_value": "p-value of the test",
    "verdict": "Result of the test in words",
}


def _label(column: str) -> str:
    return COLUMN_LABELS.get(column, column.replace("_", " ").capitalize())


def meta_table(table: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per column of a tidy table: ``col_name``, ``col_type`` (Filter for a column that
    classifies rows, Indicator for a figure), ``label``, ``indicator_dp`` (decimals shown)."""
    labels = {**COLUMN_LABELS, **(labels or {})}
    rows = []
    for column in table.columns:
        values = pd.to_numeric(table[column].replace(list(SYMBOLS), np.nan), errors="coerce")
        numeric = (
            column not in ("time_period",)
            and values.notna().any()
            and (values.notna() | table[column].isin(SYMBOLS)).all()
        )
        places = ""
        if numeric:
            text = table[column][values.notna()].astype(str)
            places = int(text.str.partition(".")[2].str.len().max() or 0)
        rows.append(
            {
                "col_name": column,
                "col_type": "Indicator" if numeric else "Filter",
                "label": labels.get(column, _label(column)),
                "indicator_dp": places,
            }
        )
    return pd.DataFrame(rows)


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    title: str,
    about: list[str],
    contact: list[str],
    source: str,
) -> Path:
    """One accessible Excel workbook of ``tables`` (``{sheet name: tidy table}``): a cover sheet,
    a contents sheet, a notes sheet (the symbols) and one sheet per table (gptables)."""
    import gptables

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = {}
    for name, table in tables.items():
        sheet = re.sub(r"[^A-Za-z0-9_]", "_", name)[:31]
        sheets[sheet] = gptables.GPTable(
            table=table,
            table_name=sheet.lower(),
            title=name.replace("_", " ").capitalize(),
            source=source,
            subtitles=["Symbols: [c] confidential, [x] not available, [z] not applicable"],
            instructions="This worksheet contains one table. Some cells may hold symbols.",
        )
    notes = pd.DataFrame(
        {"Note number": list(range(1, len(SYMBOLS) + 1)), "Note text": list(SYMBOL_NOTES.values())}
    )
    cover = gptables.Cover(title=title, intro=about, about=[], contact=contact)
    tmp = path.with_suffix(".xlsx.tmp.xlsx")
    gptables.write_workbook(
        filename=str(tmp),
        sheets=sheets,
        cover=cover,
        notes_table=notes,
        contentsheet_options={"title": "Contents"},
        auto_width=True,
    )
    tmp.replace(path)
    return path
