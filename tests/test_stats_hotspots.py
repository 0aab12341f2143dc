"""Reproducible hot spots (analysis.stats.hotspots): EB rates, stability across seeds, sparse types."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from analysis.stats import hotspots as hs


def grid(n=10, seed=0, hot=True, high=0.08):
    rng = np.random.default_rng(seed)
    cells = [box(i, j, i + 1, j + 1) for i in range(n) for j in range(n)]
    pop = rng.integers(800, 2000, n * n).astype(float)
    rate = np.full(n * n, 0.02)
    if hot:
        for k, (i, j) in enumerate((i, j) for i in range(n) for j in range(n)):
            if i < 3 and j < 3:
                rate[k] = high
    counts = rng.poisson(rate * pop).astype(float)
    return gpd.GeoDataFrame({"crimes": counts, "population": pop}, geometry=cells)


def eb_by_hand(c, p):
    theta = c.sum() / p.sum()
    r = c / p
    s2 = (p * (r - theta) ** 2).sum() / p.sum() - theta / p.mean()
    if s2 <= 0:
        return np.full(len(c), theta)
    w = s2 / (s2 + theta / p)
    return w * r + (1 - w) * theta


def test_eb_rates_match_marshall_by_hand():
    areas = grid(seed=1)
    got = hs.eb_rates(areas["crimes"], areas["population"], per=1000)
    want = eb_by_hand(areas["crimes"].to_numpy(), areas["population"].to_numpy()) * 1000
    assert got == pytest.approx(want)
    raw = areas["crimes"] / areas["population"] * 1000
    pooled = areas["crimes"].sum() / areas["population"].sum() * 1000
    # every smoothed rate lies between its raw rate and the pooled rate
    assert all(
        min(r, pooled) - 1e-9 <= g <= max(r, pooled) + 1e-9 for r, g in zip(raw, got, strict=True)
    )
    # areas no more different than chance: all get the pooled rate
    flat = hs.eb_rates([10, 10, 10, 10], [1000, 1000, 1000, 1000])
    assert flat == pytest.approx([10.0] * 4)


def test_stable_cluster_is_flagged_and_seeds_are_recorded():
    areas = grid(seed=2)
    out = hs.hotspot_analysis(areas, "crimes", "population", seeds=(1, 2, 3), permutations=999)
    assert out.attrs["seeds"] == [1, 2, 3] and out.attrs["outcome"] == "analysed"
    runs = [hs.gi_star_hotspots(out, "eb_rate", permutations=999, seed=s) for s in (1, 2, 3)]
    labels = np.column_stack([r["hotspot"].to_numpy() for r in runs])
    agree = (labels == labels[:, :1]).all(axis=1)
    expected = np.where(agree, labels[:, 0], hs.UNSTABLE)
    assert out["hotspot"].tolist() == expected.tolist()
    assert out.attrs["n_unstable"] == int((~agree).sum())
    corner = out.index[0]  # cell (0, 0), inside the 3 x 3 cluster of high rates
    assert out.loc[corner, "hotspot"] == hs.HOT and out.loc[corner, "hot_seeds"] == 3


def test_flags_that_change_with_the_seed_are_marked_unstable():
    # a weak cluster and 999 permutations: borderline areas flip between seeds
    areas = grid(seed=0, high=0.03)
    seeds = (5, 6, 7, 8)
    out = hs.hotspot_analysis(areas, "crimes", "population", seeds=seeds, permutations=999)
    per_seed = [
        hs.gi_star_hotspots(out, "eb_rate", permutations=999, seed=s)["hotspot"] for s in seeds
    ]
    hot_by = sum((labels == hs.HOT).astype(int) for labels in per_seed)
    cold_by = sum((labels == hs.COLD).astype(int) for labels in per_seed)
    flagged_by = hot_by + cold_by
    unstable = out["hotspot"] == hs.UNSTABLE
    assert unstable.sum() > 0
    assert ((flagged_by[unstable] > 0) & (flagged_by[unstable] < 4)).all()
    assert (out["hot_seeds"] == hot_by).all() and (out["cold_seeds"] == cold_by).all()
    assert not out.loc[unstable, "significant"].any()
    assert (out.loc[out["hotspot"] == hs.HOT, "hot_seeds"] == 4).all()


def test_sparse_type_gets_too_few_crimes():
    areas = grid(seed=4, hot=False)
    areas["robbery"] = 0.0
    areas.loc[areas.index[:20], "robbery"] = 1.0  # 20 of 100 areas with any robbery
    out = hs.hotspot_analysis(areas, "robbery", "population", seeds=(1,), permutations=99)
    assert out.attrs["outcome"] == hs.TOO_FEW == "Too few crimes for a hot-spot analysis"
    assert (out["hotspot"] == hs.TOO_FEW).all() and not out["significant"].any()
    assert out.attrs["share_with_crime"] == pytest.approx(0.2)
    summary = hs.hotspot_summary(out)
    assert summary[hs.TOO_FEW] == 100 and summary[hs.COLD] == 0


def test_weights_are_built_once_per_analysis_and_flags_equal_each_seed_on_its_own(monkeypatch):
    areas = grid(seed=6)
    seeds = (11, 12, 13)
    out_alone = [
        hs.gi_star_hotspots(
            hs.hotspot_analysis(areas, "crimes", "population", seeds=(1,), permutations=99),
            "eb_rate",
            permutations=199,
            seed=s,
        )
        for s in seeds
    ]
    built = []
    real = hs.queen_weights
    monkeypatch.setattr(hs, "queen_weights", lambda a: built.append(len(a)) or real(a))
    out = hs.hotspot_analysis(areas, "crimes", "population", seeds=seeds, permutations=199)
    assert built == [100, 100]  # once for the islands, once for the areas tested: not per seed
    assert out["gi_z"].tolist() == out_alone[0]["gi_z"].tolist()
    assert out["gi_p"].tolist() == out_alone[0]["gi_p"].tolist()
    hot = sum((r["hotspot"] == hs.HOT).astype(int) for r in out_alone)
    assert out["hot_seeds"].tolist() == hot.tolist()
