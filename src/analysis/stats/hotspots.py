"""Hot and cold spots of crime: local Getis-Ord Gi* with permutation inference and FDR control.

Used by report ``01_crime_by_area`` (formerly ``analysis.reports.hotspots``, which now
re-exports this module). Pure: a GeoDataFrame of areas in, a new GeoDataFrame out.
"""

from __future__ import annotations

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
    "gi_star_hotspots",
    "hotspot_map",
    "hotspot_summary",
    "queen_weights",
]

HOT = "Hot spot"
COLD = "Cold spot"
NOT_SIGNIFICANT = "Not significant"
ISLAND = "Not tested (no neighbour)"
NO_VALUE = "Not tested (no value)"

GI_SEED = 20240101
"""Fixed seed of the permutation test so that a re-run publishes the same hot spots."""


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
    out = areas.copy()
    out["gi_z"] = np.nan
    out["gi_p"] = np.nan
    out["significant"] = False
    out["hotspot"] = NO_VALUE
    has_value = out[value].notna().to_numpy()
    tested = out.loc[has_value]
    w = queen_weights(tested)
    islands = np.zeros(len(tested), dtype=bool)
    islands[list(w.islands)] = True
    positions = np.flatnonzero(has_value)
    out.iloc[positions[islands], out.columns.get_loc("hotspot")] = ISLAND
    keep = positions[~islands]
    threshold = np.nan
    if len(keep) >= 3:
        sub = out.iloc[keep]
        w_sub = queen_weights(sub)
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


def hotspot_summary(hotspots: pd.DataFrame) -> pd.Series:
    """Number of areas in each ``hotspot`` class (all five classes, zeros included)."""
    classes = [HOT, COLD, NOT_SIGNIFICANT, ISLAND, NO_VALUE]
    return hotspots["hotspot"].value_counts().reindex(classes, fill_value=0)


CLASS_STYLE = {
    HOT: {"facecolor": "#F46A25", "edgecolor": "white", "hatch": None},  # house orange
    COLD: {"facecolor": "#12436D", "edgecolor": "white", "hatch": None},  # house dark blue
    NOT_SIGNIFICANT: {"facecolor": "#EDEDED", "edgecolor": "white", "hatch": None},
    ISLAND: {"facecolor": "#D9D9D9", "edgecolor": "#8C8C8C", "hatch": "///"},
    NO_VALUE: {"facecolor": "#D9D9D9", "edgecolor": "#8C8C8C", "hatch": "///"},
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
