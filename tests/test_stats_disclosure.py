"""Disclosure control that holds (analysis.stats.disclosure): policy by source, run-wide
suppression, and a linear-programming attack on everything published.

The attack sees only the published tables (with "[c]" for hidden values, as in the CSVs), their
zeros and non-negativity; a test fails if any hidden figure's feasible range is narrower than
the threshold.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis import stats
from analysis.paths import SHARED_DATA_DIR

DATA = Path(os.environ.get("CRIMEPLAN_SHARED_DATA", SHARED_DATA_DIR))
T = 5


def published(rows, dims):
    return pd.DataFrame(rows, columns=[*dims, "count"])


# --------------------------------------------------------------------------- policy


def test_policy_by_source():
    cfg = stats.disclosure_config()
    assert cfg["threshold"] == 5
    assert stats.policy_for(["police"]) == "publish"
    assert stats.policy_for(["police", "reoffending_local"]) == "suppress"
    assert stats.policy_for(["force_extract"]) == "suppress"
    assert stats.policy_for(["a_source_nobody_listed"]) == "suppress"


def test_mark_suppressed_writes_c_never_blank_or_zero():
    frame = pd.DataFrame({"n": pd.array([3, pd.NA, 0], dtype="Int64"), "rate": [1.5, np.nan, 0]})
    out = stats.mark_suppressed(frame, ["n", "rate"])
    assert out["n"].tolist() == [3, "[c]", 0] and out["rate"].tolist() == [1.5, "[c]", 0]


# --------------------------------------------------------------------------- the attack works


def test_lp_attack_finds_two_hidden_cells_summing_to_two():
    dims = ["area", "group"]
    rows = [("A", "x", "[c]"), ("A", "y", "[c]"), ("A", "z", 40), ("A", "Total", 42)]
    got = stats.lp_attack({"t": published(rows, dims)}, dims)
    assert got["low"].tolist() == pytest.approx([0, 0]) and got["high"].tolist() == [2, 2]
    assert (got["width"] < T).all()


def test_lp_attack_recovers_a_blanked_column_from_row_totals():
    dims = ["area", "group"]
    rows = [
        ("A", "x", "[c]"), ("A", "y", 12), ("A", "Total", 15),
        ("B", "x", "[c]"), ("B", "y", 20), ("B", "Total", 22),
        ("Total", "x", "[c]"), ("Total", "y", 32), ("Total", "Total", 37),
    ]  # fmt: skip
    got = stats.lp_attack({"t": published(rows, dims)}, dims)
    assert got["width"].tolist() == pytest.approx([0, 0, 0])  # 3, 2 and 5 recovered exactly
    assert sorted(got["low"].round().tolist()) == [2, 3, 5]


def test_lp_attack_uses_a_secondary_cell_published_in_another_table():
    dims = ["area", "group"]
    t1 = [("A", "x", "[c]"), ("A", "y", "[c]"), ("A", "Total", 10)]
    t2 = [("A", "y", 7), ("A", "Total", 10)]  # the same cell, published elsewhere
    got = stats.lp_attack({"t1": published(t1, dims), "t2": published(t2, dims)}, dims)
    assert got["low"].tolist() == pytest.approx([3, 7]) and got["width"].tolist() == [0, 0]


def test_lp_attack_ranges_match_an_independent_linprog():
    # 2 x 2 hidden rectangle: one degree of freedom t, cells a+t, b-t, c-t, d+t
    dims = ["area", "group"]
    a, b, c, d = 2, 9, 8, 6
    rows = [
        ("A", "x", "[c]"), ("A", "y", "[c]"), ("A", "z", 30), ("A", "Total", a + b + 30),
        ("B", "x", "[c]"), ("B", "y", "[c]"), ("B", "z", 25), ("B", "Total", c + d + 25),
        ("Total", "x", a + c), ("Total", "y", b + d), ("Total", "z", 55),
    ]  # fmt: skip
    got = stats.lp_attack({"t": published(rows, dims)}, dims)
    # by hand: t in [-min(a, d), min(b, c)], so each cell's width is min(a, d) + min(b, c)
    assert got["width"].tolist() == pytest.approx([min(a, d) + min(b, c)] * 4)
    eq = [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    rhs = [a + b, c + d, a + c, b + d]
    lo = linprog([1, 0, 0, 0], A_eq=eq, b_eq=rhs, bounds=(0, None)).fun
    hi = -linprog([-1, 0, 0, 0], A_eq=eq, b_eq=rhs, bounds=(0, None)).fun
    assert (got.loc[0, "low"], got.loc[0, "high"]) == pytest.approx((lo, hi))


# --------------------------------------------------------------------------- protection holds


def micro_table(seed=3):
    rng = np.random.default_rng(seed)
    areas, groups, outcomes = list("ABCDE"), ["w", "x", "y", "z"], ["arrest", "none", "other"]
    rows = []
    for a, g, o in product(areas, groups, outcomes):
        mean = {"w": 30, "x": 6, "y": 2, "z": 1}[g] * {"arrest": 0.4, "none": 2, "other": 0.6}[o]
        rows.append((a, g, o, int(rng.poisson(mean))))
    return pd.DataFrame(rows, columns=["area", "group", "outcome", "n"])


TABLES = {"by_area": ["area", "group"], "by_outcome": ["group", "outcome"],
          "area_outcome": ["area", "outcome"]}  # fmt: skip


def as_csv(protected):
    return {name: stats.mark_suppressed(frame, ["count"]) for name, frame in protected.items()}


def test_protect_tables_defeats_the_attack_on_every_table_together():
    micro = micro_table()
    protected = stats.protect_tables(micro, "n", TABLES, threshold=T, suppress_zero=False)
    # primary: every published figure from 1 to 4 is hidden, in every table
    for name, frame in protected.items():
        shown = TABLES[name]
        for _, row in frame.iterrows():
            part = micro
            for d in shown:
                if row[d] != "Total":
                    part = part[part[d] == row[d]]
            true = part["n"].sum()
            if 1 <= true < T:
                assert row["suppressed"], (name, dict(row))
            if not row["suppressed"]:
                assert row["count"] == true
    assert sum(f["suppressed"].sum() for f in protected.values()) > 0
    attack = stats.lp_attack(as_csv(protected), ["area", "group", "outcome"])
    assert len(attack) > 0
    assert (attack["width"] >= T - 1e-6).all(), attack[attack["width"] < T]


def test_a_figure_shown_in_two_tables_is_hidden_in_both_or_neither():
    protected = stats.protect_tables(micro_table(5), "n", TABLES, threshold=T, suppress_zero=False)
    seen: dict[tuple, set] = {}
    for name, frame in protected.items():
        for _, row in frame.iterrows():
            key = tuple(sorted((d, row[d]) for d in TABLES[name] if row[d] != "Total"))
            seen.setdefault(key, set()).add(bool(row["suppressed"]))
    shared = [k for k, v in seen.items() if len(k) == 1]  # margins shared by two tables
    assert shared and all(len(seen[k]) == 1 for k in seen)


@pytest.mark.realdata
def test_real_stop_and_search_tables_survive_the_lp_attack():
    base = DATA / "police" / "northumbria"
    if not base.is_dir():
        pytest.skip(f"real data {base} is absent")
    cells = Counter()
    for m in ("2022-10", "2022-11", "2022-12"):
        path = base / m / f"{m}-northumbria-stop-and-search.csv"
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for r in csv.DictReader(handle):
                cells[
                    (r["Officer-defined ethnicity"] or "Not stated", r["Gender"] or "Not stated",
                     r["Outcome"] or "Not stated")
                ] += 1  # fmt: skip
    eth = sorted({k[0] for k in cells})
    gender = sorted({k[1] for k in cells})
    outcome = sorted({k[2] for k in cells})
    micro = pd.DataFrame(
        [(e, g, o, cells[(e, g, o)]) for e, g, o in product(eth, gender, outcome)],
        columns=["ethnicity", "gender", "outcome", "n"],
    )
    assert micro["n"].sum() > 1000 and ((micro["n"] > 0) & (micro["n"] < 5)).any()
    tables = {"eth_gender": ["ethnicity", "gender"], "eth_outcome": ["ethnicity", "outcome"],
              "gender_outcome": ["gender", "outcome"]}  # fmt: skip
    protected = stats.protect_tables(micro, "n", tables, threshold=T, suppress_zero=False)
    attack = stats.lp_attack(as_csv(protected), ["ethnicity", "gender", "outcome"])
    assert len(attack) > 0
    assert (attack["width"] >= T - 1e-6).all(), attack[attack["width"] < T]
