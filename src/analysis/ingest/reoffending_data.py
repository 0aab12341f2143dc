"""Loader for local Ministry of Justice proven reoffending tables (PCC area, local authority,
index disposal) that a user drops into ``<raw>/reference/reoffending/``.

The national England and Wales series (``reoffending_national``) is loaded by the ingest; this
module reads every *other* CSV in that folder into one long table, ``reoffending_local``, using
the column mapping of the ``reoffending_local`` entry in ``config/catalog.yml``. A new MoJ file
with different header spellings is handled by adding the spelling to that mapping, not by
changing code.

Definitions (MoJ Proven Reoffending Statistics): the *cohort* is the offenders released from
custody, convicted at court with a non-custodial sentence, or given a caution, reprimand or
warning in a 3-month (or 12-month) period; a *proven reoffence* is an offence committed in the
one-year follow-up and proven by a court conviction or caution in that year or a further
six-month waiting period. ``offenders`` is the cohort size, ``reoffenders`` the number of them
who committed at least one proven reoffence and ``reoffences`` the number of proven reoffences.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.errors import InputError

CATALOG_KEY = "reoffending_local"
TARGET_COLUMNS = (
    "cohort",
    "breakdown",
    "area_code",
    "area_name",
    "offenders",
    "reoffenders",
    "reoffences",
)
REQUIRED_COLUMNS = ("cohort", "offenders", "reoffenders", "reoffences")
COUNT_COLUMNS = ("offenders", "reoffenders", "reoffences")
SUPPRESSION_MARKERS = frozenset({"*", "..", ":", "-", "[c]", "[x]", "[z]", "[low]", "c", "x"})
"""Cell values MoJ (and the GSS standard) use for suppressed or not-applicable figures."""
ALL_OFFENDERS = "All offenders"
"""``breakdown`` given to rows of a file that has no breakdown column."""


def reoffending_local_columns(catalog: object) -> dict[str, str]:
    """Header mapping ``{MoJ header (lower case): target column}`` from the catalog entry.

    Raises
    ------
    InputError
        When the catalog has no usable ``reoffending_local.columns`` mapping.
    """
    entry = catalog.reference.get(CATALOG_KEY) if hasattr(catalog, "reference") else None
    mapping = (entry or {}).get("columns")
    if not isinstance(mapping, dict) or not mapping:
        raise InputError("config/catalog.yml", f"no '{CATALOG_KEY}: columns:' mapping")
    bad = sorted({str(v) for v in mapping.values()} - set(TARGET_COLUMNS))
    if bad:
        raise InputError(
            "config/catalog.yml",
            f"'{CATALOG_KEY}' maps headers to unknown columns {bad}; allowed: {list(TARGET_COLUMNS)}",
        )
    return {str(k).strip().lower(): str(v) for k, v in mapping.items()}


def reoffending_local_files(raw_dir: Path, catalog: object) -> list[Path]:
    """Local MoJ files under ``raw_dir`` matched by the catalog glob, minus the national file."""
    entry = catalog.reference.get(CATALOG_KEY, {})
    excluded = {Path(p).name for p in entry.get("exclude", [])}
    national = catalog.reference.get("reoffending_national", {}).get("path")
    if national:
        excluded.add(Path(national).name)
    return [
        p for p in catalog.reference_files(Path(raw_dir), CATALOG_KEY) if p.name not in excluded
    ]


def _parse_count(text: str, path: Path, line: int, header: str) -> int | None:
    value = text.strip().replace(",", "")
    if value == "" or value.lower() in SUPPRESSION_MARKERS:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(path, f"column '{header}': {text!r} is not a number", line) from None
    if number < 0 or number != int(number):
        raise InputError(path, f"column '{header}': {text!r} is not a whole count >= 0", line)
    return int(number)


def read_reoffending_local_file(path: Path, mapping: dict[str, str]) -> pd.DataFrame:
    """Read one MoJ CSV into the long ``reoffending_local`` layout.

    Parameters
    ----------
    path : Path
        A CSV file (UTF-8, optional BOM, any line ending) with one header row.
    mapping : dict
        ``{MoJ header (lower case): target column}`` from :func:`reoffending_local_columns`.

    Returns
    -------
    DataFrame
        ``cohort, breakdown, area_code, area_name`` (strings; area columns null when the file
        has none; ``breakdown`` is ``"All offenders"`` when the file has no breakdown column),
        ``offenders, reoffenders, reoffences`` (nullable Int64: suppressed cells such as
        ``*`` become <NA>, thousands separators are removed), ``source_file, source_line``.
        Every data row is kept.

    Raises
    ------
    InputError
        Naming the file (and line) when the header lacks a required column, a row is ragged,
        a count is not a whole number, or reoffenders exceed offenders.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(path, "empty file: expected a header row", 1)
    header = [cell.strip() for cell in rows[0]]
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        target = mapping.get(name.lower())
        if target is None:
            continue
        if target in positions:
            raise InputError(
                path, f"headers '{header[positions[target]]}' and '{name}' both map to {target}", 1
            )
        positions[target] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise InputError(
            path,
            f"header does not match the '{CATALOG_KEY}' column mapping in config/catalog.yml: "
            f"no column for {', '.join(missing)} (header: {', '.join(header)})",
            1,
        )
    records = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank trailing lines carry no data
        if len(row) != len(header):
            raise InputError(path, f"row has {len(row)} fields, header has {len(header)}", line)
        rec: dict[str, object] = {}
        for target in TARGET_COLUMNS:
            if target not in positions:
                rec[target] = None
                continue
            cell = row[positions[target]]
            if target in COUNT_COLUMNS:
                rec[target] = _parse_count(cell, path, line, header[positions[target]])
            else:
                rec[target] = cell.strip() or None
        if rec["cohort"] is None:
            raise InputError(path, "blank cohort period", line)
        if rec["breakdown"] is None:
            rec["breakdown"] = ALL_OFFENDERS
        off, reo = rec["offenders"], rec["reoffenders"]
        if off is not None and reo is not None and reo > off:
            raise InputError(path, f"reoffenders ({reo}) exceed offenders ({off})", line)
        rec["source_file"] = path.name
        rec["source_line"] = line
        records.append(rec)
    table = pd.DataFrame.from_records(
        records, columns=[*TARGET_COLUMNS, "source_file", "source_line"]
    )
    for col in ("cohort", "breakdown", "area_code", "area_name", "source_file"):
        table[col] = table[col].astype("string")
    for col in COUNT_COLUMNS:
        table[col] = pd.array(table[col].tolist(), dtype="Int64")
    table["source_line"] = table["source_line"].astype("int32")
    return table


def load_reoffending_local(raw_dir: Path, catalog: object) -> dict[str, pd.DataFrame]:
    """Reference loader (ingest registry signature) for local MoJ reoffending tables.

    Parameters
    ----------
    raw_dir : Path
        The raw folder (``reference/reoffending/`` below it).
    catalog : analysis.catalog.Catalog
        Parsed ``config/catalog.yml``; its ``reoffending_local`` entry gives the file glob,
        the files to exclude and the header mapping.

    Returns
    -------
    dict
        ``{"reoffending_local": table}`` with the rows of every matching file (see
        :func:`read_reoffending_local_file`), or ``{}`` when no local file is present.
    """
    if CATALOG_KEY not in catalog.reference:
        return {}
    files = reoffending_local_files(raw_dir, catalog)
    if not files:
        return {}
    mapping = reoffending_local_columns(catalog)
    tables = [read_reoffending_local_file(path, mapping) for path in files]
    return {CATALOG_KEY: pd.concat(tables, ignore_index=True)}
