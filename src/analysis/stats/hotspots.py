"""Hot and cold spots of crime: local Getis-Ord Gi* with permutation inference and FDR control.

Used by report ``01_crime_by_area`` (formerly ``analysis.reports.hotspots``, which now
re-exports this module). Pure: a GeoDataFrame of areas in, a new GeoDataFrame out.
"""

from __future__ import annotations

import copy
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

with warnings.catch_warnings():
    # esda pulls in tqdm.auto, which warns inside Jupyter when ipywidgets is absent
    warnings.simplefilter("ignore")
    import esda
    from libpysal.weights import Queen

__all__ = [
    "CLASS_STYLE",
    "COLD",
    "GI_SEED",
    "HOT",
    "ISLAND",
    "NOT_SIGNIFICANT",
    "NO_VALUE",
    "MIN_AREA_SHARE_WITH_CRIME",
    "SEEDS",
    "TOO_FEW",
    "UNSTABLE",
    "eb_rates",
    "gi_star_hotspots",
    "hotspot_analysis",
    "hotspot_map",
    "hotspot_summary",
    "queen_weights",
]

HOT = "Hot spot"
COLD = "Cold spot"
NOT_SIGNIFICANT = "Not significant"
ISLAND = "Not tested (no neighbour)"
NO_VALUE = "Not tested (no value)"

UNSTABLE = "Unstable (differs between seeds)"
TOO_FEW = "Too few crimes for a hot-spot analysis"

GI_SEED = 20240101
"""Fixed seed of the permutation test so that a re-run publishes the same hot spots."""

SEEDS = (GI_SEED, GI_SEED + 1, GI_SEED + 2, GI_SEED + 3, GI_SEED + 4)
"""Seeds of :func:`hotspot_analysis`: a flag is published only when all of them agree."""

MIN_AREA_SHARE_WITH_CRIME = 0.5
"""Hot-spot analysis only when at least half of the areas recorded a crime of the type."""


def queen_weights(areas: gpd.GeoDataFrame) -> Queen:
    """Queen contiguity weights of ``areas`` (areas sharing a boundary point are neighbours).

    The weights are indexed by the positions ``0 .. len(areas) - 1``. Areas with no
    neighbour at all ("islands") are listed in ``weights.islands``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands; callers report them
        return Queen.from_dataframe(areas.reset_index(drop=True), use_index=False)


def gi_star_hotspots(
    areas: gpd.GeoDataFrame,
    value: str,
    permutations: int = 9999,
    alpha: float = 0.05,
    seed: int = GI_SEED,
) -> gpd.GeoDataFrame:
    """Local Getis-Ord Gi* statistic of ``value`` for each area, with FDR-controlled verdicts.

    Definition (Getis and Ord's Gi*, binary weights): for area *i* with ``w`` members (itself
    and its Queen-contiguity neighbours), ``z = (S − w·x̄) / (s·sqrt((n·w − w²) / (n − 1)))``
    where ``S`` is the sum of ``value`` over the members, ``x̄`` and ``s`` the mean and
    (population) standard deviation of ``value`` over the ``n`` areas tested.
    A significantly high sum is a *hot spot* (a cluster of high values), a significantly low
    sum a *cold spot*. Significance comes from a conditional permutation test
    (``permutations`` random re-allocations of the other values to *i*'s neighbours, fixed
    ``seed``); the two-sided pseudo p-value is twice esda's folded one-sided ``p_sim``
    (capped at 1), and the false-discovery rate over all areas is held at ``alpha`` with the
    Benjamini-Hochberg threshold (``esda.fdr``). The default 9,999 permutations matter: with
    hundreds of areas the first discovery needs a p-value near ``alpha / n`` (5e-5 for 927
    LSOAs), and 999 permutations cannot give a two-sided p below 0.002, which makes the set
    of hot spots depend on the seed.

    Areas without any neighbour (islands) cannot be tested: they are dropped from the
    weights and the test, and marked ``Not tested (no neighbour)``. Areas with a missing
    ``value`` (e.g. no resident population) are dropped in the same way and marked
    ``Not tested (no value)``.

    Parameters
    ----------
    areas : GeoDataFrame
        One row per area (e.g. LSOA 2021 of the force), polygons.
    value : str
        Column tested, e.g. the crime rate per 1,000 residents.
    permutations : int
        Number of conditional permutations (9,999 gives two-sided p-values down to 0.0002).
    alpha : float
        False-discovery rate.
    seed : int
        Seed of the permutations.

    Returns
    -------
    GeoDataFrame
        Copy of ``areas`` with ``gi_z`` (standardised Gi*), ``gi_p`` (permutation pseudo
        p-value, two-sided), ``significant`` (bool, after FDR control) and ``hotspot`` (one of
        ``Hot spot``, ``Cold spot``, ``Not significant``, ``Not tested (no neighbour)``,
        ``Not tested (no value)``). ``attrs`` holds ``fdr_threshold``, ``n_tested``,
        ``n_islands``, ``permutations``, ``alpha`` and ``seed``.
    """
    return _gi_star(areas, value, permutations, alpha, seed, {})


def _gi_star(
    areas: gpd.GeoDataFrame,
    value: str,
    permutations: int,
    alpha: float,
    seed: int,
    weights: dict,
) -> gpd.GeoDataFrame:
    """:func:`gi_star_hotspots`; ``weights`` remembers the Queen weights built for ``areas`` so
    that the runs of several seeds on the same areas and ``value`` build them once (a copy is
    handed to esda each time, so no run sees another's weights)."""
    out = areas.copy()
    out["gi_z"] = np.nan
    out["gi_p"] = np.nan
    out["significant"] = False
    out["hotspot"] = NO_VALUE
    has_value = out[value].notna().to_numpy()
    tested = out.loc[has_value]
    if "tested" not in weights:
        weights["tested"] = queen_weights(tested)
    w = weights["tested"]
    islands = np.zeros(len(tested), dtype=bool)
    islands[list(w.islands)] = True
    positions = np.flatnonzero(has_value)
    out.iloc[positions[islands], out.columns.get_loc("hotspot")] = ISLAND
    keep = positions[~islands]
    threshold = np.nan
    if len(keep) >= 3:
        sub = out.iloc[keep]
        if "kept" not in weights:
            weights["kept"] = queen_weights(sub)
        w_sub = copy.deepcopy(weights["kept"])
        y = sub[value].to_numpy(dtype=float)
        with warnings.catch_warnings():
            # esda warns that its folded one-sided p_sim is changing; the two-sided p-value is
            # formed explicitly below
            warnings.simplefilter("ignore", DeprecationWarning)
            # components separated by water are fine for Gi*; islands were removed above
            warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
            # undefined z-scores (no variance) become NaN and are never significant, see below
            warnings.simplefilter("ignore", RuntimeWarning)
            g = esda.G_Local(
                y, w_sub, transform="B", permutations=permutations, star=True, seed=seed, n_jobs=1
            )
        z = np.asarray(g.Zs, dtype=float)
        p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float))
        # a z-score is undefined when every tested area neighbours every other (no variance)
        p = np.where(np.isfinite(z), p, 1.0)
        threshold = float(esda.fdr(p, alpha))
        significant = (p <= threshold) & np.isfinite(z)
        label = np.where(significant, np.where(z > 0, HOT, COLD), NOT_SIGNIFICANT)
        out.iloc[keep, out.columns.get_loc("gi_z")] = z
        out.iloc[keep, out.columns.get_loc("gi_p")] = p
        out.iloc[keep, out.columns.get_loc("significant")] = significant
        out.iloc[keep, out.columns.get_loc("hotspot")] = label
    out.attrs.update(
        {
            "fdr_threshold": threshold,
            "n_tested": int(len(keep)) if len(keep) >= 3 else 0,
            "n_islands": int(islands.sum()),
            "permutations": permutations,
            "alpha": alpha,
            "seed": seed,
        }
    )
    return out


def eb_rates(count: object, population: object, per: float = 1000.0) -> np.ndarray:
    """Global empirical-Bayes smoothed rates per ``per`` residents (Marshall 1991).

    Each area's raw rate ``rᵢ = cᵢ / pᵢ`` is pulled towards the pooled rate
    ``θ = Σc / Σp`` by the weight ``wᵢ = s² / (s² + θ / pᵢ)``, where
    ``s² = Σ pᵢ (rᵢ − θ)² / Σp − θ / p̄`` is the between-area variance of the true rates
    (``esda.smoothing.Empirical_Bayes``). Small areas with few crimes move most. When the
    areas differ no more than chance explains (``s² ≤ 0``) every area gets ``θ``. Areas with
    no population get ``NaN``.
    """
    from esda.smoothing import Empirical_Bayes

    c = np.asarray(count, dtype=float)
    p = np.asarray(population, dtype=float)
    ok = ~np.isnan(c) & ~np.isnan(p) & (p > 0)
    out = np.full(c.shape, np.nan)
    if not ok.any():
        return out
    theta = c[ok].sum() / p[ok].sum()
    between = (p[ok] * (c[ok] / p[ok] - theta) ** 2).sum() / p[ok].sum() - theta / p[ok].mean()
    if between <= 0:
        out[ok] = theta * per
    else:
        out[ok] = Empirical_Bayes(c[ok], p[ok]).r.ravel() * per
    return out


def hotspot_analysis(
    areas: gpd.GeoDataFrame,
    count: str,
    population: str,
    seeds: tuple[int, ...] = SEEDS,
    permutations: int = 9999,
    alpha: float = 0.05,
    min_share_with_crime: float = MIN_AREA_SHARE_WITH_CRIME,
) -> gpd.GeoDataFrame:
    """Reproducible hot spots: Gi* of empirical-Bayes rates, flags kept only when stable.

    Steps: (1) if fewer than ``min_share_with_crime`` of the areas with a population recorded
    any crime of the type, every area is labelled ``"Too few crimes for a hot-spot
    analysis"`` and no test is run (sparse types such as robbery give mostly zero rates,
    for which Gi* calls large empty areas "cold spots"); (2) rates are smoothed with
    :func:`eb_rates` (``eb_rate``, per 1,000); (3) :func:`gi_star_hotspots` is run once per
    seed in ``seeds``; (4) an area keeps its label (hot, cold, not significant) only when every
    seed gives the same one, otherwise it is ``"Unstable (differs between seeds)"``.

    Returns
    -------
    GeoDataFrame
        Copy of ``areas`` with ``eb_rate``, ``gi_z`` and ``gi_p`` (first seed), ``hot_seeds`` and
        ``cold_seeds`` (how many seeds flagged the area hot or cold), ``significant`` (stable hot
        or cold) and ``hotspot``. ``attrs``: ``seeds`` (record them in the run manifest),
        ``permutations``, ``alpha``, ``outcome`` (``"analysed"`` or the too-few sentence),
        ``share_with_crime``, ``n_unstable``.
    """
    out = areas.copy()
    c = pd.to_numeric(out[count], errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(out[population], errors="coerce").to_numpy(dtype=float)
    with_pop = ~np.isnan(p) & (p > 0) & ~np.isnan(c)
    share = float((c[with_pop] > 0).mean()) if with_pop.any() else 0.0
    out["eb_rate"] = eb_rates(c, p)
    base_attrs = {
        "seeds": list(seeds),
        "permutations": permutations,
        "alpha": alpha,
        "share_with_crime": share,
        "min_share_with_crime": min_share_with_crime,
    }
    if share < min_share_with_crime:
        for col in ("gi_z", "gi_p"):
            out[col] = np.nan
        out["hot_seeds"] = 0
        out["cold_seeds"] = 0
        out["significant"] = False
        out["hotspot"] = TOO_FEW
        out.attrs.update(base_attrs | {"outcome": TOO_FEW, "n_unstable": 0})
        return out
    weights: dict = {}  # the same areas for every seed: their weights are built once
    runs = [_gi_star(out, "eb_rate", permutations, alpha, s, weights) for s in seeds]
    labels = np.column_stack([r["hotspot"].to_numpy() for r in runs])
    agree = (labels == labels[:, :1]).all(axis=1)
    final = np.where(agree, labels[:, 0], UNSTABLE)
    out["gi_z"] = runs[0]["gi_z"].to_numpy()
    out["gi_p"] = runs[0]["gi_p"].to_numpy()
    out["hot_seeds"] = (labels == HOT).sum(axis=1)
    out["cold_seeds"] = (labels == COLD).sum(axis=1)
    out["significant"] = np.isin(final, [HOT, COLD])
    out["hotspot"] = final
    out.attrs.update(base_attrs | {"outcome": "analysed", "n_unstable": int((~agree).sum())})
    return out


def hotspot_summary(hotspots: pd.DataFrame) -> pd.Series:
    """Number of areas in each ``hotspot`` class (zeros included; the classes of
    :func:`hotspot_analysis` too when present)."""
    classes = [HOT, COLD, NOT_SIGNIFICANT, ISLAND, NO_VALUE]
    for extra in (UNSTABLE, TOO_FEW):
        if (hotspots["hotspot"] == extra).any():
            classes.append(extra)
    return hotspots["hotspot"].value_counts().reindex(classes, fill_value=0)


CLASS_STYLE = {
    HOT: {"facecolor": "#F46A25", "edgecolor": "white", "hatch": None},  # house orange
    COLD: {"facecolor": "#12436D", "edgecolor": "white", "hatch": None},  # house dark blue
    NOT_SIGNIFICANT: {"facecolor": "#EDEDED", "edgecolor": "white", "hatch": None},
    ISLAND: {"facecolor": "#D9D9D9", "edgecolor": "#8C8C8C", "hatch": "///"},
    NO_VALUE: {"facecolor": "#D9D9D9", "edgecolor": "#8C8C8C", "hatch": "///"},
    UNSTABLE: {"facecolor": "#FFFFFF", "edgecolor": "#8C8C8C", "hatch": "..."},
    TOO_FEW: {"facecolor": "#D9D9D9", "edgecolor": "#8C8C8C", "hatch": "\\\\\\"},
}
"""Map style of each hot-spot class (house palette: orange hot, dark blue cold)."""


def hotspot_map(
    spots: gpd.GeoDataFrame,
    title: str,
    source: str,
    outline: gpd.GeoDataFrame | None = None,
    label: str = "area_name",
):
    """Categorical map of :func:`gi_star_hotspots` output: hot spots orange, cold spots dark
    blue, not significant pale grey, untested areas hatched; legend with the number of areas
    in each class; optional ``outline`` (e.g. the force boundary) on top.

    ``analysis.charts.choropleth`` shades numeric classes only, so this small report-specific
    map draws the classes itself, in the house style, and returns an
    :class:`analysis.charts.Chart` with alt text naming the strongest hot and cold spots.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from analysis.charts import HOUSE_RC, Chart

    with mpl.rc_context(HOUSE_RC):
        minx, miny, maxx, maxy = spots.total_bounds
        ratio = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
        fig = Figure(
            figsize=(9.0, float(np.clip(5.5 * ratio + 1.2, 3.5, 10.0))), layout="constrained"
        )
        ax = fig.subplots()
        counts = hotspot_summary(spots)
        handles = []
        for name, style in CLASS_STYLE.items():
            part = spots[spots["hotspot"] == name]
            if part.empty:
                continue
            part.plot(ax=ax, linewidth=0.3, **{k: v for k, v in style.items() if v is not None})
            handles.append(
                Patch(
                    facecolor=style["facecolor"],
                    edgecolor=style["edgecolor"],
                    hatch=style["hatch"],
                    label=f"{name} ({counts[name]} areas)",
                )
            )
        if outline is not None:
            outline.boundary.plot(ax=ax, color="#3D3D3D", linewidth=1.2)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.legend(
            handles=handles, title="Getis-Ord Gi*", loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        ax.set_title(title, loc="left", fontsize=13, fontweight="bold", color="#3D3D3D", wrap=True)
        fig.text(
            0.0, -0.01, f"Source: {source}", fontsize=8.5, color="#3D3D3D", ha="left", va="top"
        )
    alt = (
        f"Map of {len(spots)} areas: {counts[HOT]} in significant hot spots (orange), "
        f"{counts[COLD]} in significant cold spots (dark blue), {counts[NOT_SIGNIFICANT]} not "
        f"significant, {counts[ISLAND] + counts[NO_VALUE]} not tested."
    )
    names = spots[label].astype(str) if label in spots.columns else spots.index.astype(str)
    for name, pick in ((HOT, "idxmax"), (COLD, "idxmin")):
        members = (spots["hotspot"] == name) & spots["gi_z"].notna()
        if members.any():
            where = getattr(spots.loc[members, "gi_z"], pick)()
            alt += (
                f" Strongest {name.lower()}: {names[where]} (z = {spots.loc[where, 'gi_z']:.1f})."
            )
    return Chart(fig, title, alt, source)
