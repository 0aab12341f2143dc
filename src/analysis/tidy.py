"""Published tables as reusable open data, the way UK government statistical data files are.

Every CSV of a run is the output of :func:`tidy_table` (called by
:func:`analysis.outputs.write_tables`; the DataFrame a notebook keeps is the report's own):

- ``time_period`` and ``time_identifier`` say which period each row covers. A calendar quarter
  is ``2022`` / ``Calendar year Q4``; 12 months ending in December ``Calendar year``; April to
  March ``Financial year`` with a six-digit period (``202223``); other 12-month spans
  ``Year ending <Month>`` (a local extension: the government list has no such label); a month
  its name. They come from the report's ``window``, ``comparison`` (the later period compared),
  ``month`` or ``cohort`` column, else the run's quarter;
- ``geographic_level`` with ``area_code`` and ``area_name``: police force area, local authority
  district, ward, LSOA or national (England and Wales, ``K04000001``), from the report's
  ``area_level``/``area_code``/``area_name``, ``force`` or ``area`` columns, else the run's
  force; names missing from a table are looked up in the run's store (ONS lookups). A
  rural-urban class (``ruc_class``, ``ruc_label``) is not an area with an ONS code but a
  grouping of the force's LSOAs, with totals (``URBAN``, ``RURAL``, ``FORCE``) and crimes of no
  class (``UNCLASSIFIED``): its rows are the force's, the class a filter column;
- figures at publication precision (:data:`DECIMALS`);
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import CrimeplanError

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
FORCE_LEVEL = "Police force area"
NATIONAL_LEVEL = "National"
LEVELS = {
    "force": FORCE_LEVEL,
    "pfa": FORCE_LEVEL,
    "lad": "Local authority district",
    "ward": "Ward",
    "lsoa": "LSOA",
    "msoa": "MSOA",
    "national": NATIONAL_LEVEL,
}
"""``geographic_level`` of each report ``area_level``."""
NATIONAL_AREAS = {
    "England and Wales": "K04000001",
    "England": "E92000001",
    "Wales": "W92000004",
    "Great Britain": "K03000001",
    "United Kingdom": "K02000001",
}
"""ONS codes of the national areas a table may name (``area`` column)."""
WHOLE_FORCE = "Whole force"
"""A report's name for the force's own row (published as the force's name)."""
TIME_COLUMNS = ("time_period", "time_identifier")
GEOGRAPHY_COLUMNS = ("geographic_level", "area_code", "area_name")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

DECIMALS: tuple[tuple[re.Pattern, int], ...] = (
    (re.compile(r"(^|_)p(_value|_adjusted)?$|^p_"), 4),
    (re.compile(r"(^|_)(share|proportion|percent)(_|$)|(^|_)(arrest|outcome|find)_rate$"), 4),
    (re.compile(r"(^|_)(rr|lq|ratio|location_quotient|z)(_|$)"), 3),
    (re.compile(r"(^|_)(rate|frequency)(_|$)|_per_"), 2),
)
"""Decimal places by column name (first match wins). A ``<x>_low``/``<x>_high`` interval
column has the places of ``<x>``; a bare ``low``/``high`` those of the figure just before it.
Other figures are whole numbers when every value is whole, else :data:`DEFAULT_DECIMALS`."""
DEFAULT_DECIMALS = 2
MIXED_COLUMNS = ("value", "value_low", "value_high", "comparison_value")
"""Columns holding different indicators row by row (the scorecard's ``value``): up to 4
decimals, trailing zeros dropped, so a count stays whole and a share keeps its digits."""
SMALL_P = 1e-4
"""A p-value below this is written in scientific notation (2 significant figures), never 0."""


def _named_places(column: str) -> int | None:
    for pattern, places in DECIMALS:
        if pattern.search(column):
            return places
    return None


def decimals_for(column: str) -> int:
    """Publication precision (decimal places) of a non-integer column, from its name."""
    stem = re.sub(r"_(low|high)$", "", column)
    places = _named_places(stem)
    return DEFAULT_DECIMALS if places is None else places


# --------------------------------------------------------------------------- time


def span_time(start: str, end: str) -> tuple[str, str]:
    """``(time_period, time_identifier)`` of the months ``start`` to ``end`` (``YYYY-MM``).

    One month: its year and name. Three months ending in March, June, September or December:
    ``Calendar year Q<n>``. Twelve months: ``Calendar year`` (January to December),
    ``Financial year`` with period ``YYYYYY`` (April to March, e.g. ``202223``) or
    ``Year ending <Month>``. Any other span: ``<n> months ending <Month>``.
    """
    first, last = pd.Period(start, freq="M"), pd.Period(end, freq="M")
    n = (last.year - first.year) * 12 + last.month - first.month + 1
    if n < 1:
        raise ValueError(f"period {start} to {end} ends before it starts")
    year, ending = str(last.year), MONTHS[last.month - 1]
    if n == 1:
        return year, ending
    if n == 3 and last.month % 3 == 0:
        return year, f"Calendar year Q{last.month // 3}"
    if n == 12 and last.month == 12:
        return year, "Calendar year"
    if n == 12 and last.month == 3:
        return f"{first.year}{last.year % 100:02d}", "Financial year"
    if n == 12:
        return year, f"Year ending {ending}"
    return year, f"{n} months ending {ending}"


def quarter_time(quarter) -> tuple[str, str]:
    """``(time_period, time_identifier)`` of a calendar quarter: ``("2022", "Calendar year Q4")``."""
    return str(quarter.year), f"Calendar year Q{quarter.q}"


def year_ending_time(quarter) -> tuple[str, str]:
    """``(time_period, time_identifier)`` of the 12 months ending with ``quarter``."""
    months = quarter.twelve_months
    return span_time(months[0], months[-1])


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


COMPARISON_WINDOWS = {
    "year_earlier_quarter": "quarter",
    "previous_quarter": "quarter",
    "year_ending": "12m",
    "year_earlier_12m": "12m",
}
"""The period a comparison row describes: the later of the two periods compared."""


def comparison_time(comparison, quarter) -> tuple[str, str]:
    """Time columns of a comparison row (its later period); the quarter when it has none."""
    if pd.isna(comparison) or str(comparison).strip() == "":
        return quarter_time(quarter)
    return window_time(COMPARISON_WINDOWS[str(comparison)], quarter)


COHORT_NUMBERS = re.compile(r"^(\d{4}-\d{2}) to (\d{4}-\d{2})$")
COHORT_WORDS = re.compile(r"^([A-Z][a-z]{2})[a-z]* (\d{4}) to ([A-Z][a-z]{2})[a-z]* (\d{4})$")


def cohort_span(cohort: str) -> tuple[str, str]:
    """``(first month, last month)`` (``YYYY-MM``) of a cohort label such as
    ``"2013-10 to 2013-12"`` or ``"Jan 2019 to Mar 2019"``; ``ValueError`` otherwise."""
    text = str(cohort).strip()
    if found := COHORT_NUMBERS.fullmatch(text):
        return found.group(1), found.group(2)
    if found := COHORT_WORDS.fullmatch(text):
        abbreviations = [m[:3] for m in MONTHS]
        start_m, start_y, end_m, end_y = found.groups()
        if start_m in abbreviations and end_m in abbreviations:
            start = f"{start_y}-{abbreviations.index(start_m) + 1:02d}"
            return start, f"{end_y}-{abbreviations.index(end_m) + 1:02d}"
    raise ValueError(f"cohort {cohort!r} is not 'YYYY-MM to YYYY-MM' or 'Mon YYYY to Mon YYYY'")


def _months_between(start: str, end: str) -> int:
    first, last = pd.Period(start, freq="M"), pd.Period(end, freq="M")
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _time(out: pd.DataFrame, quarter) -> tuple[list[tuple[str, str]], list[str]]:
    """Time columns of each row and the report columns they replace."""
    if "window" in out.columns:
        return [window_time(str(w), quarter) for w in out["window"]], ["window"]
    if "month" in out.columns:
        months = [str(m) for m in out["month"]]
        return [span_time(m, m) for m in months], ["month"]
    if "cohort" in out.columns:
        spans = [cohort_span(c) for c in out["cohort"]]
        return [span_time(a, b) for a, b in spans], ["cohort"]
    if "comparison" in out.columns:
        return [comparison_time(c, quarter) for c in out["comparison"]], []
    return [quarter_time(quarter)] * len(out), []


# --------------------------------------------------------------------------- geography


CODE_LEVELS = (
    (re.compile(r"^[EW]01"), "LSOA"),
    (re.compile(r"^[EW]02"), "MSOA"),
    (re.compile(r"^[EW]05"), "Ward"),
    (re.compile(r"^(E0[6-9]|W06)"), "Local authority district"),
    (re.compile(r"^E23"), FORCE_LEVEL),
    (re.compile(r"^(K0[2-4]|E92|W92)"), NATIONAL_LEVEL),
)
"""Geographic level of an ONS area code from its entity prefix (when a table has no level)."""


def level_of_code(code: str, force: str) -> str:
    """Geographic level of ``code`` (an ONS GSS code or the force slug)."""
    if code == force:
        return FORCE_LEVEL
    for pattern, level in CODE_LEVELS:
        if pattern.match(str(code)):
            return level
    return NOT_AVAILABLE


@dataclass
class Areas:
    """Names and codes of areas, for tables that give one but not the other.

    Attributes
    ----------
    force : str
        The run's force slug.
    names : dict
        ONS code -> area name (the catalog's forces and national areas; the store's LSOAs,
        wards, local authorities and force areas once :meth:`load_store` has run).
    forces : dict
        Force slug -> ``(PFA code, PFA name)``.
    processed_dir : str or None
        The run's store, read at most once and only when a name or code is missing.
    """

    force: str
    names: dict = field(default_factory=dict)
    forces: dict = field(default_factory=dict)
    processed_dir: str | None = None
    _loaded: bool = False

    @classmethod
    def for_run(cls, run) -> Areas:
        """The catalog's forces and the national areas; the run's store on demand."""
        from analysis.catalog import load_catalog

        store = getattr(run, "processed_path", None)
        areas = cls(force=run.force, processed_dir=str(store) if store is not None else None)
        for slug, known in load_catalog().forces.items():
            if "pfa_code" in known and "pfa_name" in known:
                areas.forces[slug] = (known["pfa_code"], known["pfa_name"])
                areas.names[known["pfa_code"]] = known["pfa_name"]
        areas.names.update({code: name for name, code in NATIONAL_AREAS.items()})
        return areas

    def load_store(self) -> None:
        """Add every LSOA, ward, local authority and force area of the run's store (once).

        A run without a store (no ``processed_dir`` or no complete store there) keeps what it
        has: names then missing are written ``[x]``.
        """
        if self._loaded or not self.processed_dir:
            return
        self._loaded = True
        from analysis.store import Store

        try:
            store = Store(self.processed_dir)
        except CrimeplanError:
            return
        with store:
            lsoa = store.table("lsoa")
            forces = store.table("forces") if "forces" in store._views() else None
        for code, name in (("lsoa21_code", "lsoa21_name"), ("ward_code", "ward_name"),
                           ("lad_code", "lad_name"), ("pfa_code", "pfa_name")):  # fmt: skip
            if code in lsoa.columns and name in lsoa.columns:
                pairs = lsoa[[code, name]].dropna().drop_duplicates(code)
                self.names.update(
                    zip(pairs[code].astype(str), pairs[name].astype(str), strict=True)
                )
        if forces is not None:
            rows = forces[["force", "pfa_code", "pfa_name"]].drop_duplicates("force")
            for slug, code, name in rows.itertuples(index=False):
                self.forces.setdefault(str(slug), (str(code), str(name)))

    def force_area(self, slug: str | None = None) -> tuple[str, str]:
        """``(code, name)`` of a force (the run's by default): its PFA code and name, else the
        slug and a name made from it."""
        slug = slug or self.force
        if slug not in self.forces:
            self.load_store()
        return self.forces.get(slug, (slug, slug.replace("-", " ").title()))

    def name_of(self, code: str) -> str:
        """Name of an ONS area code, ``[x]`` when neither the catalog nor the store has it."""
        if code not in self.names:
            self.load_store()
        return self.names.get(code, NOT_AVAILABLE)

    def code_of(self, name: str) -> str:
        """ONS code of a national area or force area named ``name``, ``[x]`` when unknown."""
        if name in NATIONAL_AREAS:
            return NATIONAL_AREAS[name]
        for code, force_name in self.forces.values():
            if force_name == name:
                return code
        self.load_store()
        for code, force_name in self.forces.values():
            if force_name == name:
                return code
        return NOT_AVAILABLE


def _text(value) -> str | None:
    return None if pd.isna(value) or str(value).strip() == "" else str(value)


def _geography(out: pd.DataFrame, areas: Areas) -> tuple[list[tuple[str, str, str]], list[str]]:
    """``(level, code, name)`` of each row and the report columns they replace."""
    force_code, force_name = areas.force_area()
    n = len(out)
    column = {c: [_text(v) for v in out[c]] if c in out.columns else [None] * n for c in (
        "area_level", "area_code", "area_name", "force", "area", "id"
    )}  # fmt: skip
    rows, used = [], []
    if "force" in out.columns:
        for slug in column["force"]:
            code, name = areas.force_area(slug) if slug else (NOT_AVAILABLE, NOT_AVAILABLE)
            rows.append((FORCE_LEVEL, code, name))
        return rows, ["force"]
    if "area_level" in out.columns or "area_code" in out.columns:
        used = [c for c in ("area_level", "area_code", "area_name") if c in out.columns]
        for level, code, name in zip(
            column["area_level"], column["area_code"], column["area_name"], strict=True
        ):
            level = LEVELS.get(level, level) if level else level_of_code(code, areas.force)
            if level == FORCE_LEVEL and code in (None, areas.force, force_code):
                rows.append((level, force_code, force_name))
                continue
            code = code or NOT_AVAILABLE
            if not name or name == WHOLE_FORCE:
                name = areas.name_of(code) if code != NOT_AVAILABLE else NOT_AVAILABLE
            rows.append((level, code, name))
        return rows, used
    if "area" in out.columns:
        kept = False  # the area column stays when it says more than the area's name
        for name, ident in zip(column["area"], column["id"], strict=True):
            code_in_id = ident.rsplit(":", 1)[1] if ident and ":" in ident else None
            if name in (None, WHOLE_FORCE, force_name):
                rows.append((FORCE_LEVEL, force_code, force_name))
            elif code_in_id and level_of_code(code_in_id, areas.force) != NOT_AVAILABLE:
                rows.append((level_of_code(code_in_id, areas.force), code_in_id, name))
            elif name.lower().startswith(("rural", "urban")):  # a part of the force's LSOAs
                rows.append((FORCE_LEVEL, force_code, force_name))
                kept = True
            else:
                code = areas.code_of(name)
                rows.append((level_of_code(code, areas.force), code, name))
        return rows, [] if kept else ["area"]
    return [(FORCE_LEVEL, force_code, force_name)] * n, []


REOFFENDING_BREAKDOWN = re.compile(
    r"^(All|Adult|Juvenile); (new|old) measure; (3|12)-month cohort$"
)
REOFFENDING_GROUPS = {"All": "All offenders", "Adult": "Adults", "Juvenile": "Juveniles"}


def _split_breakdown(out: pd.DataFrame) -> pd.DataFrame:
    """The national reoffending ``breakdown`` (``"Adult; new measure; 3-month cohort"``) as
    three columns: ``offender_group``, ``reoffending_measure`` and ``cohort_length``.

    Other breakdowns (a local table's ``"All offenders"`` or an index disposal) are the row's
    ``offender_group``, its measure ``[x]``; the cohort length then comes from the cohort's
    span."""
    groups, measures, lengths = [], [], []
    spans = [cohort_span(c) for c in out["cohort"]] if "cohort" in out.columns else None
    for i, value in enumerate(out["breakdown"].astype(str)):
        found = REOFFENDING_BREAKDOWN.fullmatch(value)
        if found:
            groups.append(REOFFENDING_GROUPS[found.group(1)])
            measures.append(f"{found.group(2).capitalize()} measure")
            lengths.append(f"{found.group(3)} months")
        else:
            groups.append(value)
            measures.append(NOT_AVAILABLE)
            lengths.append(f"{_months_between(*spans[i])} months" if spans else NOT_AVAILABLE)
    at = out.columns.get_loc("breakdown")
    out = out.drop(columns="breakdown")
    for offset, (name, values) in enumerate(
        (("offender_group", groups), ("reoffending_measure", measures), ("cohort_length", lengths))
    ):
        out.insert(at + offset, name, values)
    return out


# --------------------------------------------------------------------------- cells


def _format_number(value: float, places: int, strip: bool = False) -> str:
    text = f"{value:.{places}f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "-0." + "0" * places) else text


def _format_column(column: str, series: pd.Series, previous: int | None) -> pd.Series:
    """Cells of one figure column as publication text (missing cells left missing)."""
    values = series.to_numpy(dtype=float)
    finite = np.isfinite(values)
    if column in MIXED_COLUMNS:
        return series.map(lambda v: _format_number(v, 4, strip=True) if pd.notna(v) else None)
    stem = re.sub(r"_(low|high)$", "", column)
    places = _named_places(stem)
    if column in ("low", "high") and previous is not None:
        places = previous
    if places is None:
        whole = bool(finite.any()) and bool((values[finite] == np.round(values[finite])).all())
        places = 0 if whole else DEFAULT_DECIMALS
    if _named_places(stem) == 4 and re.search(r"(^|_)p(_|$)|^p_", stem):  # p-values, never 0
        return series.map(
            lambda v: (
                None
                if pd.isna(v)
                else (f"{v:.1e}" if 0 < v < SMALL_P else _format_number(v, places))
            )
        )
    return series.map(lambda v: _format_number(v, places) if pd.notna(v) else None)


def _numbers_among_symbols(series: pd.Series) -> pd.Series | None:
    """A figure column as floats (symbol cells missing), or None for a column of text.

    A numeric column is a figure column; so is an object column whose cells are all numbers
    (Python or NumPy, not text), missing or symbols (a report's column with ``[c]`` cells).
    Text that looks like a number (a published CSV read back) stays text.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if series.dtype != object:
        return None
    numeric = series.map(
        lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    ).to_numpy(dtype=bool)
    rest = series[~numeric]
    if not numeric.any() or not (rest.isna() | rest.isin(SYMBOLS)).all():
        return None
    return pd.Series(
        [float(v) if n else np.nan for v, n in zip(series, numeric, strict=True)],
        index=series.index,
    )


def tidy_table(table: pd.DataFrame, run, areas: Areas | None = None) -> pd.DataFrame:
    """The publishable form of one report table for ``run`` (see the module docstring).

    Idempotent: a table that already has the time and geography columns keeps them, and its
    cells (text read back from a published CSV) stay as they are.

    Parameters
    ----------
    table : DataFrame
        A report's table as its metrics return it (``window``/``month``/``cohort``/
        ``comparison`` and ``area_level``/``area_code``/``area_name``/``ruc_class``/``force``/
        ``area`` columns optional; suppressed cells either already ``"[c]"`` or marked by a
        boolean ``suppressed`` column).
    run : RunParameters
        The run (its quarter gives the default time columns, its force the default geography,
        its store the area names a table leaves out).
    areas : Areas, optional
        Area names and codes (default :meth:`Areas.for_run`), to share one store read between
        tables.

    Returns
    -------
    DataFrame
        Time and geography columns first, then the table's own columns; every cell text.

    Raises
    ------
    KeyError
        A ``window`` or ``comparison`` names a period the module does not know.
    ValueError
        A ``month`` or ``cohort`` cell is not a period.
    """
    out = table.copy().reset_index(drop=True)
    first = [*TIME_COLUMNS, *GEOGRAPHY_COLUMNS]
    if not set(first) <= set(out.columns):
        areas = areas or Areas.for_run(run)
        if "breakdown" in out.columns and "cohort" in out.columns:
            out = _split_breakdown(out)
        times, time_used = (
            _time(out, run.period)
            if "time_period" not in out.columns
            else (list(zip(out["time_period"], out["time_identifier"], strict=True)), [])
        )
        places, place_used = _geography(out, areas)
        out = out.drop(columns=[*time_used, *place_used, *first], errors="ignore")
        head = pd.DataFrame(
            {
                "time_period": [t[0] for t in times],
                "time_identifier": [t[1] for t in times],
                "geographic_level": [p[0] for p in places],
                "area_code": [p[1] for p in places],
                "area_name": [p[2] for p in places],
            }
        )
        out = pd.concat([head, out], axis=1)
    hidden = out.pop("suppressed").astype(bool) if "suppressed" in out.columns else None
    previous = None
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.map({True: "true", False: "false"}).astype(object)
            continue
        numbers = _numbers_among_symbols(series) if column not in first else None
        if numbers is not None:
            shown = _format_column(column, numbers, previous)
            if column not in ("low", "high") and not column.endswith(("_low", "_high")):
                previous = decimals_for(column) if _named_places(column) is not None else None
                if previous is None and shown.notna().any():
                    previous = max(len(s.partition(".")[2]) for s in shown.dropna())
            symbols = series.isin(SYMBOLS).to_numpy(dtype=bool)
            series = shown.astype(object).where(~symbols, series.astype(object))
        else:
            series = series.astype(object).map(lambda v: v if pd.isna(v) else str(v))
        missing = series.isna() | (series.astype(str).str.strip() == "")
        if hidden is not None and missing.any():
            series = series.where(~(missing & hidden), SUPPRESSED)
            missing = missing & ~hidden
        out[column] = series.where(~missing, NOT_AVAILABLE)
    return out.astype(object)


# --------------------------------------------------------------------------- checklist


def check_tidy(table: pd.DataFrame, name: str = "table") -> list[str]:
    """Problems that stop ``table`` being a reusable statistical data file (empty when none).

    The checklist: snake_case column names; ``time_period``, ``time_identifier``,
    ``geographic_level``, ``area_code`` and ``area_name`` present and first, in that order; a
    ``time_period`` of four digits (a year) or six (a financial year, ``202223``); no blank,
    ``NA`` or ``nan`` cell; no bare ``c``/``x``/``z`` (symbols are bracketed); no duplicate
    column names.
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
    if set(TIME_COLUMNS + GEOGRAPHY_COLUMNS) <= set(columns) and columns[:5] != [
        *TIME_COLUMNS,
        *GEOGRAPHY_COLUMNS,
    ]:
        problems.append(f"{name}: time and geography columns are not the first five")
    if "time_period" in columns:
        bad = int((~table["time_period"].astype(str).str.fullmatch(r"\d{4}|\d{6}")).sum())
        if bad:
            problems.append(f"{name}: {bad} time_period cells are not YYYY or YYYYYY")
    text = table.astype(str)
    blank = table.isna() | text.apply(
        lambda s: s.str.strip().isin(["", "nan", "NaN", "NA", "None", "<NA>"])
    )
    for column in columns:
        n = int(blank[column].sum())
        if n:
            problems.append(f"{name}: {n} blank or NA cells in {column!r}")
        bare = int(text[column].isin(["c", "x", "z"]).sum())
        if bare:
            problems.append(f"{name}: {bare} unbracketed symbols in {column!r}")
    return problems


# --------------------------------------------------------------------------- metadata

COLUMN_LABELS = {
    "time_period": "Year (YYYY), or financial year April to March (YYYYYY, e.g. 202223)",
    "time_identifier": "Period of the year the row covers: Calendar year, Calendar year Q1 to "
    "Q4, Financial year, Year ending <month> (12 months), or a month",
    "geographic_level": "Geographic level: National, Police force area, Local authority "
    "district, Ward or LSOA",
    "area_code": "ONS area code (GSS)",
    "area_name": "Area name",
    "ruc_class": "Rural-urban classification (RUC 2021) of the LSOAs: a class code; URBAN, RURAL "
    "or FORCE for the urban, rural or all classes together; UNCLASSIFIED for crimes with no "
    "location in the force's LSOAs",
    "ruc_label": "Name of the rural-urban class",
    "area": "Part of the area the row describes",
    "crime_type": "Crime type (data.police.uk category)",
    "count": "Count",
    "crimes": "Crimes recorded",
    "population": "Usual residents (Census 2021)",
    "rate_per_1000": "Rate per 1,000 residents",
    "p_value": "p-value of the test",
    "p_adjusted": "p-value adjusted for multiple comparisons (Benjamini-Hochberg)",
    "verdict": "Result of the test in words",
    "verdict_adjusted": "Result of the test in words, after adjusting for multiple comparisons",
    "comparison": "Periods compared (the row's period against the one named)",
    "ratio": "Ratio of the later figure to the earlier one",
    "low": "Lower limit of the 95% confidence interval of the figure before",
    "high": "Upper limit of the 95% confidence interval of the figure before",
    "months": "Months of data held for the period (YYYY-MM)",
    "months_before": "Months of data held for the earlier period (YYYY-MM)",
    "months_after": "Months of data held for the later period (YYYY-MM)",
    "months_held": "Number of months of data held for the period",
    "family_size": "Number of tests adjusted together",
    "method": "Statistical method",
    "share": "Share (proportion, 0 to 1)",
    "rate_low": "Lower limit of the 95% confidence interval of the rate",
    "rate_high": "Upper limit of the 95% confidence interval of the rate",
    "rr": "Rate ratio",
    "lq": "Location quotient",
    "rows": "Street-level records of the force in the month",
    "asb_rows": "Anti-social behaviour records",
    "no_location_rows": "Records with no location",
    "outside_force_rows": "Records located outside the force's local authorities",
    "duplicate_crime_ids": "Crime IDs found more than once",
    "rows_quarantined": "Records the ingest could not use",
    "outcome_group": "Latest outcome recorded, grouped",
    "offender_group": "Offenders in the cohort (age group, or index disposal for local rows)",
    "reoffending_measure": "Proven reoffending measure (MoJ): new measure or old measure",
    "cohort_length": "Length of the offender cohort",
    "offenders": "Offenders in the cohort",
    "reoffenders": "Offenders who reoffended within a year (proven by a court or caution)",
    "reoffences": "Proven reoffences",
    "binary_rate": "Proven reoffending rate: reoffenders as a percentage of offenders",
    "frequency": "Reoffences per reoffender",
    "location_quotient": "Location quotient: the class's share of the crime type divided by its "
    "share of all crime",
    "urban_rural": "Urban or rural",
    "searches": "Stop and searches",
    "rr_vs_white": "Rate ratio against White residents",
    "eb_rate": "Rate per 1,000 residents smoothed towards the force rate (empirical Bayes)",
    "gi_z": "Getis-Ord Gi* z-score",
    "gi_p": "p-value of the Getis-Ord Gi* z-score",
    "value": "Value of the indicator (unit as the indicator says)",
    "comparison_value": "Value the indicator is compared with",
    "lsoa_vintage": "LSOA boundaries the month's file uses (2011 or 2021)",
}


def _label(column: str) -> str:
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if found := re.fullmatch(r"(.+)_(low|high)", column):
        stem = _label(found.group(1))
        side = "Lower" if found.group(2) == "low" else "Upper"
        return f"{side} limit of the 95% confidence interval: {stem[0].lower()}{stem[1:]}"
    return column.replace("_", " ").capitalize()


FILTER_COLUMNS = {"time_period", "area_code", "lsoa_vintage", "seeds", "id"}
"""Columns that classify rows even when their values are numbers."""


def meta_table(table: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per column of a tidy table, as the data file's ``.meta.csv``.

    Columns: ``col_name``; ``col_type`` (``Filter`` for a column that classifies rows,
    ``Indicator`` for a figure); ``label`` (what the column holds); ``indicator_dp`` (decimal
    places shown, blank for a filter); ``symbols`` (the GSS symbols that occur in the column
    and what they mean, blank when none).
    """
    labels = {**COLUMN_LABELS, **(labels or {})}
    rows = []
    for column in table.columns:
        cells = table[column].astype(str)
        values = pd.to_numeric(cells.where(~cells.isin(SYMBOLS)), errors="coerce")
        numeric = (
            column not in FILTER_COLUMNS
            and bool(values.notna().any())
            and bool((values.notna() | cells.isin(SYMBOLS)).all())
        )
        places = ""
        if numeric:
            plain = cells[values.notna() & ~cells.str.contains("e", case=False)]
            places = int(plain.str.partition(".")[2].str.len().max()) if len(plain) else 0
        used = [SYMBOL_NOTES[s] for s in SYMBOLS if (cells == s).any()]
        rows.append(
            {
                "col_name": column,
                "col_type": "Indicator" if numeric else "Filter",
                "label": labels.get(column, _label(column)),
                "indicator_dp": places,
                "symbols": "; ".join(used),
            }
        )
    return pd.DataFrame(rows)


def read_published(path: str | Path) -> pd.DataFrame:
    """A published CSV exactly as written: every cell text, symbols and all (no NA parsing)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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
