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
