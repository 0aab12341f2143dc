"""Maps in British National Grid with a scale bar, north arrow, place names and an optional
enlarged panel for a dense urban part.

Every map is drawn in British National Grid (EPSG:27700, metres) whatever the CRS of its
inputs, so distances and shapes are true. Furniture on every panel: a scale bar
(matplotlib-scalebar), a north arrow, local-authority names (from a ``lad_name`` column, by
dissolving the areas, or from a local-authority layer) and the main towns of
``config/places.yml`` that fall inside the area shown. Every fill drawn has a legend entry,
including areas inside the outline that are not classified.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from analysis.charts.base import (
    DARK_GREY,
    HOUSE_RC,
    MISSING_GREY,
    ORANGE,
    Chart,
    extremes,
    finish,
    number,
    sequential_colours,
)
from analysis.charts.labels import place_labels, renderer_of

BNG = "EPSG:27700"
UNSHADED = "#F4F4F4"
HALO = [pe.withStroke(linewidth=2.6, foreground="white")]
LAD_NAME_COLUMNS = ("lad_name", "name", "LAD22NM", "LAD23NM", "LAD24NM", "LAD21NM")
LAD_CODE_COLUMNS = ("lad_code", "code", "LAD22CD", "LAD23CD", "LAD24CD", "LAD21CD")

SCHEME_WORDS = {
    "NaturalBreaks": "natural breaks (Jenks)",
    "FisherJenks": "natural breaks (Fisher-Jenks)",
    "JenksCaspall": "natural breaks (Jenks-Caspall)",
    "EqualInterval": "equal intervals",
    "Percentiles": "percentiles",
    "BoxPlot": "box-plot classes",
    "HeadTailBreaks": "head/tail breaks",
    "MaximumBreaks": "maximum breaks",
    "StdMean": "standard deviations from the mean",
}
QUANTILE_WORDS = {3: "terciles", 4: "quartiles", 5: "quintiles", 10: "deciles"}


def classing_words(scheme: str, k: int) -> str:
    """Plain words for a mapclassify scheme: ``Quantiles`` with 5 classes is "quintiles
    (each holds about a fifth of the areas)"."""
    if scheme == "Quantiles":
        name = QUANTILE_WORDS.get(k, f"{k} equal-count classes")
        return f"{name} (equal numbers of areas)"
    return SCHEME_WORDS.get(scheme, scheme)


# --------------------------------------------------------------------------- places


@lru_cache(maxsize=4)
def _read_places_config(path: str) -> dict:
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _places_path(path: str | Path | None) -> Path:
    from analysis.paths import CONFIG_DIR

    return Path(path) if path is not None else CONFIG_DIR / "places.yml"


def load_places(path: str | Path | None = None) -> pd.DataFrame:
    """Main towns from ``config/places.yml`` (or ``path``): ``name, lat, lon``."""
    config = _read_places_config(str(_places_path(path)))
    return pd.DataFrame(config.get("places", []), columns=["name", "lat", "lon"])


def map_inset(force: str, path: str | Path | None = None) -> dict | None:
    """The enlarged panel configured for ``force`` in ``config/places.yml``:
    ``{"title": ..., "lad_codes": [...]}``, or None."""
    config = _read_places_config(str(_places_path(path)))
    return (config.get("insets") or {}).get(force)


# --------------------------------------------------------------------------- geometry


def to_bng(frame):
    """``frame`` (GeoDataFrame or GeoSeries) in British National Grid. A frame without a
    CRS is taken as longitude/latitude when its bounds fit, else as already in metres."""
    if frame is None:
        return None
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        lonlat = -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90
        frame = frame.set_crs("EPSG:4326" if lonlat else BNG)
    return frame if frame.crs.to_epsg() == 27700 else frame.to_crs(BNG)


def _first_column(frame, candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in frame.columns), None)


def _lad_layer(gdf, lads, lad_column: str | None):
    """Local authorities as a GeoDataFrame ``name, code, geometry`` (BNG), or None."""
    import geopandas as gpd

    if lads is not None:
        lads = to_bng(lads)
        name = _first_column(lads, LAD_NAME_COLUMNS)
        code = _first_column(lads, LAD_CODE_COLUMNS)
        if name is None:
            raise ValueError(f"lads needs a name column (one of {', '.join(LAD_NAME_COLUMNS)})")
        out = gpd.GeoDataFrame(
            {
                "name": lads[name].astype(str).to_numpy(),
                "code": (lads[code] if code else lads[name]).astype(str).to_numpy(),
            },
            geometry=lads.geometry.to_numpy(),
            crs=lads.crs,
        )
        return out
    column = lad_column or ("lad_name" if "lad_name" in gdf.columns else None)
    if column is None:
        return None
    keys = [column] + (["lad_code"] if column != "lad_code" and "lad_code" in gdf.columns else [])
    merged = gdf[[*keys, gdf.geometry.name]].dissolve(by=keys).reset_index()
    return gpd.GeoDataFrame(
        {
            "name": merged[column].astype(str).to_numpy(),
            "code": merged[keys[-1]].astype(str).to_numpy(),
        },
        geometry=merged.geometry.to_numpy(),
        crs=gdf.crs,
    )


def _inset_extent(gdf, lad_layer, codes, bounds, column) -> tuple | None:
    if bounds is not None:
        return tuple(float(b) for b in bounds)
    if not codes:
        return None
    codes = set(codes)
    if lad_layer is not None and lad_layer["code"].isin(codes).any():
        part = lad_layer[lad_layer["code"].isin(codes)]
    elif column in gdf.columns and gdf[column].isin(codes).any():
        part = gdf[gdf[column].isin(codes)]
    else:
        raise ValueError(
            f"none of the inset codes {sorted(codes)} is in the map's areas: give the areas a "
            f"{column!r} column or pass lads= (local authorities with their codes)"
        )
    return tuple(part.total_bounds)


def _pad(bounds, frac: float = 0.03) -> tuple:
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * frac, (maxy - miny) * frac
    return minx - dx, miny - dy, maxx + dx, maxy + dy


# --------------------------------------------------------------------------- furniture


def _scale_bar(ax) -> None:
    from matplotlib_scalebar.scalebar import ScaleBar

    bar = ScaleBar(
        1.0, "m", location="lower left", length_fraction=0.25, box_alpha=0.75,
        color=DARK_GREY, font_properties={"size": 8.5}, scale_loc="top",
    )  # fmt: skip
    bar.set_gid("scale_bar")
    ax.add_artist(bar)


def _north_arrow(ax) -> None:
    ann = ax.annotate(
        "N", xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction",
        textcoords="axes fraction", ha="center", va="center", fontsize=10,
        fontweight="bold", color=DARK_GREY,
        arrowprops={"arrowstyle": "-|>", "color": DARK_GREY, "lw": 1.5, "mutation_scale": 14},
    )  # fmt: skip
    ann.set_gid("north_arrow")


def _in_box(x, y, box) -> bool:
    return box is not None and box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _free_spot(ax, text, point, taken, renderer):
    """Move ``text`` to the first spot near ``point`` (centre, then a line above or below,
    then to the sides) that overlaps no box in ``taken``, inside the polygon's label point
    neighbourhood; return its box, or None when every spot is taken."""
    base = ax.transData.transform((point.x, point.y))
    box = text.get_window_extent(renderer)
    w, h = box.width, box.height
    for dx, dy in [(0, 0), (0, 1.3), (0, -1.3), (0.4, 0), (-0.4, 0), (0, 2.6), (0, -2.6)]:
        xy = ax.transData.inverted().transform((base[0] + dx * w, base[1] + dy * h))
        text.set_position(xy)
        box = text.get_window_extent(renderer)
        if not any(_boxes_overlap(box, other) for other in taken):
            return box
    return None


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _label_places(ax, lad_layer, towns, extent, skip_box, renderer) -> None:
    """LA names at a point inside each LA, then town dots and labels placed around LA names."""
    la_names = set()
    boxes = []
    if lad_layer is not None:
        biggest_first = lad_layer.assign(_area=lad_layer.area).sort_values("_area", ascending=False)
        for row in biggest_first.itertuples():
            point = row.geometry.representative_point()
            if not _in_box(point.x, point.y, extent) or _in_box(point.x, point.y, skip_box):
                continue
            text = ax.text(
                point.x, point.y, row.name.upper(), ha="center", va="center", fontsize=8.5,
                color=DARK_GREY, fontweight="bold", path_effects=HALO, zorder=8, gid="la_label",
            )  # fmt: skip
            box = _free_spot(ax, text, point, boxes, renderer)
            if box is None:  # no room near its point: left out rather than overlapping
                text.remove()
                continue
            la_names.add(row.name.casefold())
            boxes.append(box)
    if towns is None or towns.empty:
        return
    keep = [
        i
        for i, (x, y, name) in enumerate(zip(towns["x"], towns["y"], towns["name"], strict=True))
        if _in_box(x, y, extent)
        and not _in_box(x, y, skip_box)
        and str(name).casefold() not in la_names
    ]
    if not keep:
        return
    part = towns.iloc[keep]
    ax.scatter(
        part["x"], part["y"], s=14, color="black", edgecolor="white", linewidth=0.6,
        zorder=9, gid="town_marker",
    )  # fmt: skip
    place_labels(
        ax, part["x"].tolist(), part["y"].tolist(), part["name"].astype(str).tolist(),
        avoid=boxes, fontsize=8.5, color="black", gid="town_label", point_radius=3.0,
        path_effects=HALO, zorder=9, renderer=renderer,
    )  # fmt: skip


def _towns_in(shapes, places) -> pd.DataFrame | None:
    """The places (``name, lat, lon``) within 250 m of one of ``shapes`` (BNG), with their
    BNG ``x, y``."""
    import geopandas as gpd

    if places is False:
        return None
    table = load_places() if places is None else places
    if isinstance(table, str | Path):
        table = load_places(table)
    if table.empty:
        return None
    points = gpd.GeoSeries(gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326")
    points = points.to_crs(BNG)
    hits = shapes.sindex.query(points.buffer(250), predicate="intersects")
    inside = np.zeros(len(points), dtype=bool)
    inside[np.unique(hits[0])] = True
    out = table[inside].copy()
    out["x"], out["y"] = points.x[inside].to_numpy(), points.y[inside].to_numpy()
    return out


def draw_map(
    gdf,
    draw,
    handles: list,
    legend_title: str,
    outline=None,
    lads=None,
    lad_column: str | None = None,
    places=None,
    inset_codes: Sequence[str] | None = None,
    inset_bounds: Sequence[float] | None = None,
    inset_column: str = "lad_code",
    inset_title: str | None = None,
    unshaded_label: str = "Not classified",
    inset: dict | None = None,
):
    """The figure of a map (see :func:`choropleth` for the arguments): ``draw(ax)`` draws the fills of ``gdf`` (already in BNG) on each
    panel; this adds the outline, unshaded areas, LA boundaries and names, towns, scale bar,
    north arrow, legend (``handles``) and the enlarged panel when asked for.

    Returns ``(figure, main_axes, inset_axes_or_None)``.
    """
    from matplotlib.figure import Figure

    if inset:
        inset_codes = inset_codes or inset.get("lad_codes")
        inset_bounds = inset_bounds or inset.get("bounds")
        inset_title = inset_title or inset.get("title")
    outline = to_bng(outline)
    lad_layer = _lad_layer(gdf, lads, lad_column)
    shapes = [gdf.geometry]
    if outline is not None:
        shapes.append(outline.geometry)
    bounds = np.array([s.total_bounds for s in shapes])
    extent = _pad((*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0)))
    zoom = _inset_extent(gdf, lad_layer, inset_codes, inset_bounds, inset_column)
    if zoom is not None:
        zoom = _pad(zoom, 0.02)
    towns = _towns_in((outline if outline is not None else gdf).geometry, places)

    covered = float(gdf.geometry.area.sum())
    unshaded = outline is not None and covered < 0.98 * float(outline.geometry.area.sum())
    if unshaded:
        handles = [*handles, Patch(facecolor=UNSHADED, edgecolor="#BDBDBD", label=unshaded_label)]

    ratio = (extent[3] - extent[1]) / max(extent[2] - extent[0], 1.0)
    with mpl.rc_context(HOUSE_RC):
        if zoom is None:
            fig = Figure(figsize=(9.0, float(np.clip(5.5 * ratio + 0.8, 3.5, 10.0))),
                         layout="constrained")  # fmt: skip
            ax = fig.subplots()
            panels = [(ax, extent, zoom)]
            legend_ax, inset_ax = ax, None
        else:
            height = float(np.clip(5.6 * ratio, 5.0, 9.5))
            fig = Figure(figsize=(11.0, height), layout="constrained")
            axes = fig.subplot_mosaic(
                [["main", "zoom"], ["main", "legend"]], width_ratios=[1.0, 1.0],
                height_ratios=[1.15, 1.0],
            )  # fmt: skip
            ax, inset_ax, legend_ax = axes["main"], axes["zoom"], axes["legend"]
            legend_ax.set_axis_off()
            panels = [(ax, extent, zoom), (inset_ax, zoom, None)]
        for panel, box, _ in panels:
            if outline is not None and unshaded:
                outline.plot(ax=panel, facecolor=UNSHADED, edgecolor="none", zorder=0)
            draw(panel)
            if lad_layer is not None:
                lad_layer.boundary.plot(ax=panel, color=DARK_GREY, linewidth=0.7, zorder=6)
            if outline is not None:
                outline.boundary.plot(ax=panel, color=DARK_GREY, linewidth=1.2, zorder=6)
            panel.set_xlim(box[0], box[2])
            panel.set_ylim(box[1], box[3])
            panel.set_aspect("equal", adjustable="box")
            panel.set_axis_off()
            _scale_bar(panel)
            _north_arrow(panel)
        if inset_ax is not None:
            ax.add_patch(
                Rectangle(
                    (zoom[0], zoom[1]), zoom[2] - zoom[0], zoom[3] - zoom[1],
                    fill=False, edgecolor=DARK_GREY, linestyle="--", linewidth=1.0, zorder=7,
                    gid="inset_frame",
                )
            )  # fmt: skip
            inset_ax.set_title(
                f"{inset_title or 'Urban area'} (enlarged)", loc="left", fontsize=10,
                fontweight="bold", color=DARK_GREY,
            )  # fmt: skip
            inset_ax.set_axis_on()
            inset_ax.set_xticks([])
            inset_ax.set_yticks([])
            inset_ax.set_xlabel("")
            inset_ax.set_ylabel("")
            inset_ax.grid(False)
            for spine in inset_ax.spines.values():
                spine.set_visible(True)
                spine.set_linestyle("--")
                spine.set_edgecolor(DARK_GREY)
        legend_kw = (
            {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)}
            if inset_ax is None
            else {"loc": "upper left", "bbox_to_anchor": (0.0, 1.0)}
        )
        legend_ax.legend(handles=handles, title=legend_title, alignment="left", **legend_kw)
        renderer = renderer_of(fig)
        for panel, box, skip in panels:
            _label_places(panel, lad_layer, towns, box, skip, renderer)
    return fig, ax, inset_ax


# --------------------------------------------------------------------------- choropleth


def choropleth(
    gdf: object,
    column: str,
    title: str,
    source: str,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    outline: object | None = None,
    highlight: object | None = None,
    label: str | None = None,
    legend_title: str | None = None,
    lads: object | None = None,
    lad_column: str | None = None,
    places: object | None = None,
    inset_codes: Sequence[str] | None = None,
    inset_bounds: Sequence[float] | None = None,
    inset_column: str = "lad_code",
    inset_title: str | None = None,
    unshaded_label: str = "Not classified",
    highlight_label: str = "Highlighted",
    inset: dict | None = None,
) -> Chart:
    """Filled map of ``column`` in ``k`` mapclassify classes (``scheme``), pale to dark blue,
    in British National Grid.

    Parameters
    ----------
    gdf : GeoDataFrame
        Areas to shade, in any CRS (drawn in EPSG:27700).
    column : str
        Value to classify; missing values are hatched grey and counted in the legend.
    outline : GeoDataFrame, optional
        Drawn on top as a dark outline (e.g. the force boundary). When the areas of ``gdf``
        cover less than 98% of it (e.g. only rural areas are mapped), the rest is filled pale
        grey with a legend entry ``unshaded_label``; smaller gaps are boundary slivers.
    highlight : GeoDataFrame or str, optional
        Areas to outline in orange on top of every fill (e.g. hot spots): a GeoDataFrame or
        the name of a boolean column of ``gdf``; legend entry ``highlight_label``.
    label : str, optional
        Column naming the areas in the alt text (default: the first text column).
    lads : GeoDataFrame, optional
        Local authorities (a name column: ``lad_name``, ``name`` or ``LAD22NM``...; a code
        column: ``lad_code``, ``code``...), drawn as boundaries and named.
    lad_column : str, optional
        Column of ``gdf`` naming each area's local authority; the areas are dissolved by it
        to draw and name the local authorities. Default ``"lad_name"`` when ``gdf`` has it.
    places : DataFrame, path or False, optional
        Towns to name (``name, lat, lon``); default ``config/places.yml``; False for none.
        Only towns inside the mapped area are drawn.
    inset_codes, inset_bounds, inset_column, inset_title
        An enlarged second panel: the extent of the areas (or local authorities) whose
        ``inset_column`` (default ``lad_code``) is in ``inset_codes``, or ``inset_bounds``
        ``(minx, miny, maxx, maxy)`` in BNG metres; headed ``inset_title``.
    inset : dict, optional
        The same as one dict ``{"lad_codes", "title", "bounds"}``: pass
        ``map_inset(force)`` (the panel configured in ``config/places.yml``, None if none).

    Every panel has a scale bar and a north arrow; the legend states the classing used
    (e.g. "quintiles") and gives each class's bounds and number of areas.
    """
    import mapclassify

    gdf = to_bng(gdf)
    values = pd.to_numeric(gdf[column], errors="coerce").astype(float)
    present = values.notna().to_numpy()
    if label is None:
        text_cols = [
            c
            for c in gdf.columns
            if c not in (column, gdf.geometry.name) and pd.api.types.is_string_dtype(gdf[c])
        ]
        label = text_cols[0] if text_cols else None
    names = gdf[label].astype(str).tolist() if label else [str(i) for i in gdf.index]

    handles, fills = [], []
    k_eff = 0
    if present.any():
        k_eff = int(min(k, np.unique(values[present]).size))
        classifier = mapclassify.classify(values[present].to_numpy(), scheme=scheme, k=k_eff)
        bins = np.asarray(classifier.bins, dtype=float)
        colours = sequential_colours(len(bins))
        yb = np.asarray(classifier.yb)
        counts = np.bincount(yb, minlength=len(bins))
        fills.append((gdf[present], {"color": [colours[c] for c in yb]}))
        lower = float(values[present].min())
        for i, upper in enumerate(bins):
            if counts[i] == 0:
                continue
            lo_b = lower if i == 0 else bins[i - 1]
            handles.append(
                Patch(
                    facecolor=colours[i],
                    edgecolor="none",
                    label=f"{number(lo_b)} to {number(upper)} ({counts[i]} areas)",
                )
            )
    missing_style = {"facecolor": MISSING_GREY, "edgecolor": "#8C8C8C", "hatch": "///"}
    if (~present).any():
        fills.append((gdf[~present], missing_style))
        handles.append(Patch(**missing_style, label=f"No data ({int((~present).sum())} areas)"))
    marked = None
    if highlight is not None:
        if isinstance(highlight, str):
            marked = gdf[gdf[highlight].fillna(False).astype(bool)]
        else:
            marked = to_bng(highlight)
        if len(marked):
            handles.append(
                Patch(facecolor="none", edgecolor=ORANGE, linewidth=2.0, label=highlight_label)
            )

    def draw(ax):
        for part, style in fills:
            part.plot(ax=ax, linewidth=0.3, **({"edgecolor": "white"} | style), zorder=1)
        if marked is not None and len(marked):
            marked.boundary.plot(ax=ax, color=ORANGE, linewidth=2.0, zorder=5)

    title_words = legend_title or column
    legend_heading = f"{title_words}\nClasses: {classing_words(scheme, k_eff)}"
    fig, _, _ = draw_map(
        gdf, draw, handles, legend_heading, outline=outline, lads=lads, lad_column=lad_column,
        places=places, inset_codes=inset_codes, inset_bounds=inset_bounds,
        inset_column=inset_column, inset_title=inset_title, unshaded_label=unshaded_label,
        inset=inset,
    )  # fmt: skip
    finish(fig, fig.axes[0], title, source)
    n_missing = int((~present).sum())
    n_classes = sum(1 for h in handles if h.get_label().endswith("areas)")) - int(n_missing > 0)
    alt = (
        f"Map of {title_words} for {len(gdf)} areas, shaded in {n_classes} classes "
        f"({classing_words(scheme, k_eff)}); darker is higher. "
        f"{extremes(names, values.to_numpy())}"
    )
    if n_missing:
        alt += f" {n_missing} areas have no data (hatched grey)."
    if marked is not None and len(marked):
        alt += f" {len(marked)} areas are outlined in orange."
    return Chart(fig, title, alt, source, data=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))


# --------------------------------------------------------------------------- categories


def category_map(
    gdf: object,
    column: str,
    styles: dict,
    title: str,
    source: str,
    outlined: Sequence[str] = (),
    outline: object | None = None,
    legend_title: str | None = None,
    lads: object | None = None,
    lad_column: str | None = None,
    places: object | None = None,
    inset_codes: Sequence[str] | None = None,
    inset_bounds: Sequence[float] | None = None,
    inset_column: str = "lad_code",
    inset_title: str | None = None,
    unshaded_label: str = "Not classified",
    missing_label: str = "No data",
    inset: dict | None = None,
) -> Chart:
    """Map of the classes in ``column`` (e.g. hot spot / cold spot / not significant), in
    British National Grid, with the same furniture as :func:`choropleth`.

    Parameters
    ----------
    styles : dict
        ``{class: {"facecolor", "edgecolor", "hatch", "outline"}}`` in legend order; a
        class missing from ``styles`` is drawn hatched grey. Every
        class drawn gets a legend entry with its number of areas.
    outlined : sequence of str
        Classes whose areas are also outlined on top of every fill (thick edge in the
        style's ``"outline"`` colour, default dark grey), so small areas stay visible.
    missing_label : str
        Legend entry of areas whose class is missing (hatched grey).
    """
    gdf = to_bng(gdf)
    classes = gdf[column].astype("string").fillna(missing_label)
    other = {"facecolor": MISSING_GREY, "edgecolor": "#8C8C8C", "hatch": "///"}
    order = [c for c in styles if (classes == c).any()]
    rest = sorted(set(classes) - set(styles))
    handles, fills, tops = [], [], []
    for name in order + rest:
        style = dict(styles.get(name, other))
        edge = style.pop("outline", None)
        part = gdf[(classes == name).to_numpy()]
        style = {k: v for k, v in style.items() if v is not None}
        fills.append((part, style))
        patch = {k: v for k, v in style.items() if k in ("facecolor", "edgecolor", "hatch")}
        if str(patch.get("edgecolor", "white")).lower() in ("white", "#ffffff", "none"):
            patch["edgecolor"] = "#BDBDBD"  # a pale fill stays visible in the legend
        if name in outlined:
            edge = edge or DARK_GREY
            tops.append((part, edge))
            patch |= {"edgecolor": edge, "linewidth": 1.6}
        handles.append(Patch(**patch, label=f"{name} ({len(part)} areas)"))

    def draw(ax):
        for part, style in fills:
            part.plot(ax=ax, linewidth=0.3, **({"edgecolor": "white"} | style), zorder=1)
        for part, edge in tops:
            part.boundary.plot(ax=ax, color=edge, linewidth=1.6, zorder=5)

    fig, _, _ = draw_map(
        gdf, draw, handles, legend_title or column, outline=outline, lads=lads,
        lad_column=lad_column, places=places, inset_codes=inset_codes,
        inset_bounds=inset_bounds, inset_column=inset_column, inset_title=inset_title,
        unshaded_label=unshaded_label, inset=inset,
    )  # fmt: skip
    finish(fig, fig.axes[0], title, source)
    counts = "; ".join(h.get_label() for h in handles)
    alt = f"Map of {len(gdf)} areas by {legend_title or column}: {counts}."
    if outlined:
        alt += f" {', '.join(outlined)} areas are outlined on top."
    return Chart(fig, title, alt, source, data=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
