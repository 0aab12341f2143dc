"""Statistical disclosure control: suppression of small counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _primary_mask(counts: pd.Series, threshold: int, suppress_zero: bool) -> np.ndarray:
    c = counts.to_numpy(dtype=float, na_value=np.nan)
    lower = 0 if suppress_zero else 1
    return ~np.isnan(c) & (c >= lower) & (c < threshold)


def suppress_small_counts(
    table: pd.DataFrame,
    count: str,
    by: Sequence[str] | None = None,
    threshold: int = 5,
    dependent: Sequence[str] = (),
    suppress_zero: bool = False,
    secondary: bool = True,
) -> pd.DataFrame:
    """Copy of ``table`` with small counts suppressed so that none can be recovered.

    Parameters
    ----------
    table : DataFrame
        Rows as they will be published.
    count : str
        Count column to protect.
    by : list of str, optional
        Columns whose groups have a published (or derivable) total, e.g. each area's total
        over crime types. ``None`` treats the whole table as one group with a total.
    threshold : int
        Counts from 1 to ``threshold − 1`` are suppressed (primary suppression); 0 is shown
        unless ``suppress_zero``.
    dependent : list of str
        Columns derived from the count (rates, intervals, ratios) blanked on suppressed rows.
    secondary : bool
        Secondary suppression: in a group with exactly one suppressed cell, the next
        smallest cell (the smallest positive count, else a zero) is also suppressed, so the
        suppressed cell cannot be found by subtraction from the group total. A group of one
        row cannot be protected this way: its total is the cell, so suppress the total too.

    Returns
    -------
    DataFrame
        ``count`` as nullable ``Int64`` with ``<NA>`` in suppressed cells (never 0), the
        ``dependent`` columns blanked, and a bool column ``suppressed`` (OR-ed with an existing
        one, so several count columns can be protected in turn).
    """
    out = table.copy()
    counts = pd.to_numeric(out[count], errors="raise")
    mask = pd.Series(_primary_mask(counts, threshold, suppress_zero), index=out.index)
    if secondary and mask.any():
        keys = list(by) if by else None
        if keys and len(keys) == 1:
            keys = keys[0]
        groups = out.groupby(keys, sort=False, dropna=False).groups if keys else {(): out.index}
        values = counts.astype("Float64")
        for idx in groups.values():
            idx = pd.Index(idx)
            if mask.loc[idx].sum() != 1:
                continue
            candidates = values.loc[idx][~mask.loc[idx] & values.loc[idx].notna()]
            if candidates.empty:
                continue
            positive = candidates[candidates > 0]
            pick = (positive if not positive.empty else candidates).astype(float).idxmin()
            mask.loc[pick] = True
    out[count] = counts.round().astype("Int64").mask(mask)
    for col in dependent:
        out[col] = out[col].mask(mask)
    previous = out["suppressed"].astype(bool) if "suppressed" in out.columns else False
    out["suppressed"] = mask | previous
    return out


def _determined_cells(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells recoverable from row and column totals.

    Build the bipartite graph whose nodes are the rows and columns and whose edges are the
    suppressed cells. A cell can be solved for from the margins exactly when its unit vector
    lies in the span of the margin constraints, which for this graph means its edge lies on no
    cycle: it is a bridge. Bridges are found with :func:`networkx.bridges`.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from(
        (("row", int(r)), ("col", int(c))) for r, c in zip(*np.nonzero(mask), strict=True)
    )
    found = []
    for u, v in nx.bridges(graph):
        r, c = (u, v) if u[0] == "row" else (v, u)
        found.append((r[1], c[1]))
    return sorted(found)


def suppress_crosstab(
    wide: pd.DataFrame, threshold: int = 5, suppress_zero: bool = False
) -> pd.DataFrame:
    """Suppress small cells of a two-way table whose row and column totals are published.

    Parameters
    ----------
    wide : DataFrame
        Interior cells only (counts), rows × columns; totals are assumed to be published.
    threshold : int
        Cells from 1 to ``threshold − 1`` are suppressed (0 too when ``suppress_zero``).

    Returns
    -------
    DataFrame
        Same shape, nullable ``Int64``, ``<NA>`` in suppressed cells. Secondary suppression is
        repeated until no suppressed cell can be solved for from any combination of row and
        column totals: for each recoverable cell, the smallest positive unsuppressed cell in
        its row (preferring columns that already hold a suppressed cell) is suppressed, then
        in its column, and so on. Totals themselves are not suppressed here.
    """
    values = wide.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    lower = 0 if suppress_zero else 1
    mask = ~np.isnan(values) & (values >= lower) & (values < threshold)
    turn = 0
    while True:
        determined = _determined_cells(mask)
        if not determined:
            break
        # protect several cells per pass, but only one per row and column, so one secondary
        # cell is not added where an earlier one in this pass may already have closed a cycle
        touched_rows: set[int] = set()
        touched_cols: set[int] = set()
        for r, c in determined:
            if r in touched_rows or c in touched_cols:
                continue
            pick = _secondary_for(values, mask, r, c, along_row=turn % 2 == 0)
            turn += 1
            if pick is None:
                raise ValueError(
                    f"suppress_crosstab: cell ({wide.index[r]!r}, {wide.columns[c]!r}) cannot be "
                    "protected; suppress its row or column total instead"
                )
            mask[pick] = True
            touched_rows.update((r, pick[0]))
            touched_cols.update((c, pick[1]))
    out = wide.apply(pd.to_numeric).round().astype("Int64")
    return out.mask(mask)


def _secondary_for(
    values: np.ndarray, mask: np.ndarray, r: int, c: int, along_row: bool
) -> tuple[int, int] | None:
    """Cell to suppress so that suppressed cell ``(r, c)`` joins a cycle, or None.

    Looks along row ``r`` (or column ``c``) first and the other direction second.
    """
    for row_first in (along_row, not along_row):
        if row_first:
            line = values[r, :]
            free = ~mask[r, :] & ~np.isnan(line)
            choice = _pick_secondary(line, free, mask.any(axis=0))
            if choice is not None:
                return r, choice
        else:
            line = values[:, c]
            free = ~mask[:, c] & ~np.isnan(line)
            choice = _pick_secondary(line, free, mask.any(axis=1))
            if choice is not None:
                return choice, c
    return None


def _pick_secondary(line: np.ndarray, free: np.ndarray, partner: np.ndarray) -> int | None:
    """Index of the cell to suppress next on one row or column, or None."""
    for pool in (free & partner & (line > 0), free & (line > 0), free):
        if pool.any():
            candidates = np.flatnonzero(pool)
            return int(candidates[np.argmin(line[candidates])])
    return None


# --------------------------------------------------------------------------- policy by source

SUPPRESSED = "[c]"
"""How a suppressed value is written in every published CSV (GSS symbol: confidential)."""

TOTAL = "Total"
"""Label of a summed-over dimension in the long tables of :func:`protect_tables`."""


def disclosure_config(path: object = None) -> dict:
    """``config/disclosure.yml``: ``threshold``, ``suppress_zero``, ``sources``, ``default``."""
    import yaml

    from analysis.paths import CONFIG_DIR

    target = path or CONFIG_DIR / "disclosure.yml"
    with open(target, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def policy_for(sources: Sequence[str], config: dict | None = None) -> str:
    """``"publish"`` or ``"suppress"`` for a table built from ``sources`` (catalog keys).

    A table built only from public record-level data (data.police.uk) is published as it is; a
    table with any non-public source (local MoJ tables, force extracts, any source not listed)
    is suppressed: the strictest policy of its sources wins.
    """
    cfg = config if config is not None else disclosure_config()
    listed = cfg.get("sources", {}) or {}
    default = cfg.get("default", "suppress")
    policies = [(listed.get(s) or {}).get("policy", default) for s in sources] or [default]
    for p in policies:
        if p not in ("publish", "suppress"):
            raise ValueError(f"disclosure policy must be 'publish' or 'suppress', got {p!r}")
    return "suppress" if "suppress" in policies else "publish"


def mark_suppressed(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Copy of ``table`` with missing values in ``columns`` written as ``"[c]"`` for a CSV.

    Use on the frame handed to the CSV writer, after suppression: a hidden value is never
    blank and never 0.
    """
    out = table.copy()
    for col in columns:
        values = out[col].astype(object)
        out[col] = values.where(values.notna(), SUPPRESSED)
    return out


# --------------------------------------------------------------------------- run-wide suppression


def _aggregates(micro: pd.DataFrame, dims: list[str], count: str, tables: dict[str, list[str]]):
    """Every published aggregate: key → (value, boolean mask over the microcells, tables)."""
    aggs: dict[tuple, dict] = {}
    values = micro[count].to_numpy(dtype=float)
    for name, shown in tables.items():
        for r in range(len(shown) + 1):
            for fixed in _combinations(shown, r):
                if fixed:
                    groups = micro.groupby(list(fixed), sort=True, dropna=False).indices
                else:
                    groups = {(): np.arange(len(micro))}
                for key_values, rows in groups.items():
                    key_values = key_values if isinstance(key_values, tuple) else (key_values,)
                    key = tuple(sorted(zip(fixed, key_values, strict=True)))
                    if key not in aggs:
                        mask = np.zeros(len(micro), dtype=bool)
                        mask[rows] = True
                        aggs[key] = {"value": float(values[rows].sum()), "mask": mask,
                                     "tables": set(), "interior": len(fixed) == len(shown)}  # fmt: skip
                    aggs[key]["tables"].add(name)
    return aggs


def _combinations(items: list[str], r: int):
    from itertools import combinations

    return combinations(items, r)


def lp_ranges(
    masks: np.ndarray, published: np.ndarray, values: np.ndarray, targets: Sequence[int]
) -> list[tuple[float, float]]:
    """Min and max of each target aggregate given the published ones (scipy ``linprog``).

    ``masks`` is aggregates × microcells (1 where the microcell is in the aggregate),
    ``published`` a boolean per aggregate, ``values`` their values (used only where
    published). Microcells are non-negative; published aggregates are equalities.
    """
    from scipy.optimize import linprog

    a_eq = masks[published].astype(float)
    b_eq = values[published]
    out = []
    for t in targets:
        c = masks[t].astype(float)
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if lo.status != 0:
            raise ValueError(f"lp_ranges: published figures are inconsistent ({lo.message})")
        upper = -hi.fun if hi.status == 0 else float("inf")
        out.append((float(lo.fun), float(upper)))
    return out


def protect_tables(
    micro: pd.DataFrame,
    count: str,
    tables: dict[str, list[str]],
    threshold: int | None = None,
    suppress_zero: bool | None = None,
    max_rounds: int = 500,
) -> dict[str, pd.DataFrame]:
    """Suppress every table of a run together so that no hidden count can be narrowed down.

    Parameters
    ----------
    micro : DataFrame
        The finest counts: one row per combination of the dimension columns (give zeros as
        rows) and ``count``.
    tables : dict
        Table name → the dimensions it shows, e.g. ``{"searches": ["lad", "ethnicity"],
        "outcomes": ["ethnicity", "outcome"]}``. Every table publishes its interior cells and
        all its margins (each dimension summed over, to the grand total).
    threshold, suppress_zero : optional
        From ``config/disclosure.yml`` when not given (5; zeros shown).

    Returns
    -------
    dict
        Table name → long DataFrame: the table's dimensions (``"Total"`` where summed over),
        ``count`` (nullable ``Int64``, ``<NA>`` where hidden; write with
        :func:`mark_suppressed`), ``suppressed`` (bool) and ``reason`` (``"primary"``,
        ``"secondary"`` or ``""``).

    Notes
    -----
    A figure that appears in several tables (the same cell or margin) is one aggregate, so it
    is hidden everywhere or nowhere: a secondary choice cannot be undone by another table.
    Primary suppression hides every aggregate (cells and totals) from 1 to ``threshold − 1``.
    Then, repeatedly, the attacker's problem is solved with linear programming
    (:func:`lp_ranges`: the minimum and maximum of each hidden aggregate given every published
    figure of the run, zeros included, and non-negativity); while any hidden aggregate's range
    ``max − min`` is below ``threshold``, one more aggregate is hidden: the smallest positive
    published cell of the same table in the same row or column as that hidden one, preferring
    cells whose row or column already holds a hidden cell (else the smallest published
    aggregate overlapping it, e.g. its total). The check runs on every hidden figure until
    all are safe.
    """
    cfg = None
    if threshold is None or suppress_zero is None:
        cfg = disclosure_config()
    threshold = int(threshold if threshold is not None else cfg.get("threshold", 5))
    if suppress_zero is None:
        suppress_zero = bool(cfg.get("suppress_zero", False))
    dims = sorted({d for shown in tables.values() for d in shown})
    micro = micro.reset_index(drop=True)
    aggs = _aggregates(micro, dims, count, tables)
    keys = list(aggs)
    masks = np.array([aggs[k]["mask"] for k in keys])
    values = np.array([aggs[k]["value"] for k in keys])
    lower = 0 if suppress_zero else 1
    hidden = (values >= lower) & (values < threshold)
    reason = np.where(hidden, "primary", "")
    position = {k: i for i, k in enumerate(keys)}
    checked: set[int] = set()  # hidden aggregates found safe since the last change
    for _ in range(max_rounds):
        weak = None
        # check the smallest hidden figures first; stop at the first one that is not safe
        for t in sorted(np.flatnonzero(hidden), key=lambda i: values[i]):
            if t in checked:
                continue
            ((lo, hi),) = lp_ranges(masks, ~hidden, values, [t])
            if hi - lo < threshold - 1e-7:
                weak = t
                break
            checked.add(t)
        if weak is None:
            break
        pick = _next_secondary(keys[weak], aggs, keys, position, hidden, values, masks)
        if pick is None:
            raise ValueError(
                f"protect_tables: cannot protect {dict(keys[weak])}; nothing left to hide"
            )
        hidden[pick] = True
        reason[pick] = "secondary"
        checked.clear()  # hiding more only widens ranges, but re-check to be sure
    else:
        raise ValueError("protect_tables: no protection found within max_rounds")
    out = {}
    for name, shown in tables.items():
        rows = []
        for key in keys:
            if name not in aggs[key]["tables"]:
                continue
            fixed = dict(key)
            if not set(fixed) <= set(shown):
                continue
            i = position[key]
            row = {d: fixed.get(d, TOTAL) for d in shown}
            row.update({"count": values[i], "suppressed": bool(hidden[i]), "reason": reason[i]})
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame["count"] = frame["count"].round().astype("Int64").mask(frame["suppressed"])
        out[name] = frame.sort_values(shown, key=lambda s: s.astype(str)).reset_index(drop=True)
    return out


def _next_secondary(weak_key, aggs, keys, position, hidden, values, masks):
    """Aggregate to hide next to protect ``weak_key`` (see :func:`protect_tables`)."""
    weak = dict(weak_key)
    candidates = []
    for key in keys:
        i = position[key]
        if hidden[i]:
            continue
        other = dict(key)
        if set(other) != set(weak) or not (aggs[key]["tables"] & aggs[weak_key]["tables"]):
            continue
        if sum(other[d] != weak[d] for d in weak) == 1:  # same row or column of one table
            candidates.append(i)
    positive = [i for i in candidates if values[i] > 0]
    pool = positive or candidates
    if not pool:  # e.g. the only cell of its row: hide an overlapping aggregate (its total)
        overlap = masks[:, masks[position[weak_key]]].any(axis=1) & ~hidden
        pool = list(np.flatnonzero(overlap))
    if not pool:
        return None
    # prefer cells whose row or column already holds a hidden cell, then the smallest value
    partnered = [i for i in pool if _touches_hidden(keys[i], keys, position, hidden, weak_key)]
    pool = partnered or pool
    return min(pool, key=lambda i: (values[i], str(keys[i])))


def _touches_hidden(key, keys, position, hidden, exclude) -> bool:
    cell = dict(key)
    for other in keys:
        if other == exclude or other == key or not hidden[position[other]]:
            continue
        o = dict(other)
        if set(o) == set(cell) and sum(o[d] != cell[d] for d in cell) == 1:
            return True
    return False


def lp_attack(
    published: dict[str, pd.DataFrame], dims: Sequence[str], count: str = "count"
) -> pd.DataFrame:
    """Attack published tables: the feasible range of every hidden figure.

    Parameters
    ----------
    published : dict
        Table name → long table as published: dimension columns (``"Total"`` where summed
        over) and ``count`` with hidden values missing or ``"[c]"``.
    dims : list of str
        Every dimension of the run.

    Returns
    -------
    DataFrame
        One row per hidden figure (``table``, the dimension values, ``low``, ``high``,
        ``width``) from :func:`lp_ranges`, using only what was published: every shown figure,
        zeros included, and non-negativity. Microcells are all combinations of the category
        values seen in the tables.
    """
    from itertools import product

    levels = {d: set() for d in dims}
    for frame in published.values():
        for d in dims:
            if d in frame.columns:
                levels[d].update(v for v in frame[d].astype(str) if v != TOTAL)
    grid = list(product(*[sorted(levels[d]) for d in dims]))
    index = {d: np.array([g[k] for g in grid]) for k, d in enumerate(dims)}
    masks, known, vals, labels = [], [], [], []
    for name, frame in published.items():
        for _, row in frame.iterrows():
            mask = np.ones(len(grid), dtype=bool)
            for d in dims:
                if d in frame.columns and str(row[d]) != TOTAL:
                    mask &= index[d] == str(row[d])
            raw = row[count]
            shown = not (pd.isna(raw) or str(raw) == SUPPRESSED)
            masks.append(mask)
            known.append(shown)
            vals.append(float(raw) if shown else 0.0)
            labels.append({"table": name, **{d: row[d] for d in dims if d in frame.columns}})
    masks_arr = np.array(masks)
    known_arr = np.array(known)
    targets = np.flatnonzero(~known_arr)
    ranges = lp_ranges(masks_arr, known_arr, np.array(vals), targets)
    rows = []
    for t, (lo, hi) in zip(targets, ranges, strict=True):
        rows.append({**labels[t], "low": lo, "high": hi, "width": hi - lo})
    return pd.DataFrame(rows, columns=["table", *dims, "low", "high", "width"])
