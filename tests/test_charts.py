"""Charts render headless, carry a title, a source and alt text stating the key facts."""

from __future__ import annotations

import base64
import csv
import os
import re
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PatchCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from shapely.geometry import box  # noqa: E402

from analysis import charts, stats  # noqa: E402
from analysis.paths import SHARED_DATA_DIR  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_DIR = Path(os.environ.get("CRIMEPLAN_SHARED_DATA", SHARED_DATA_DIR))
"""The shared real data (``CRIMEPLAN_SHARED_DATA`` overrides it, e.g. from a git worktree)."""


def months(n: int) -> list[str]:
    return [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def all_texts(fig) -> list[str]:
    """Every piece of text drawn on a figure (titles, texts, annotations, legends, ticks)."""
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def check_chart(chart: charts.Chart, title: str, source: str) -> str:
    """Common checks; returns the decoded alt attribute of the HTML."""
    assert isinstance(chart, charts.Chart)
    assert chart.title == title and chart.source == source
    assert chart.alt_text.strip() and len(chart.alt_text) > 40
    # title and source are printed once, beside the image (HTML), never inside the figure
    drawn = all_texts(chart.figure)
    assert title not in drawn and not any(source in t for t in drawn if t)
    html = chart._repr_html_()
    assert html.startswith("<figure") and html.endswith("</figure>")
    assert html.count(title) == 1 and html.count(f"Source: {source}") == 1
    assert re.search(r"<figure[^>]*><figcaption[^>]*><strong>" + re.escape(title), html)
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(data)[:8] == PNG_MAGIC
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert alt
    return alt


def test_figures_are_not_registered_with_pyplot():
    before = len(plt.get_fignums())
    table = pd.DataFrame({"type": ["a", "b"], "n": [3, 4]})
    charts.bar_by_group(table, "type", "n", "T", "S")
    assert len(plt.get_fignums()) == before


def test_house_style_and_palette():
    charts.apply_house_style()
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.spines.right"] is False
    assert matplotlib.rcParams["axes.grid"] is True
    cycle = [c.upper() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle[:6] == ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
    blues = charts.sequential_colours(5)
    assert len(set(blues)) == 5
    # the ramp runs from light to dark (decreasing luminance)
    lum = [sum(matplotlib.colors.to_rgb(c)) for c in blues]
    assert lum == sorted(lum, reverse=True)
    matplotlib.rcdefaults()


def test_spc_chart_alt_text_names_the_signal(tmp_path):
    values = [50 + (6 if i % 2 else -6) for i in range(24)]
    values[6] = 110
    xmr = stats.xmr_chart_data(pd.Series(values, index=months(24)))
    chart = charts.spc_chart(xmr, "Burglary by month", "Crimes a month", "data.police.uk")
    alt = check_chart(chart, "Burglary by month", "data.police.uk")
    assert "2021-07 (110)" in alt  # the highest month and its value
    assert "outside the limits (2021-07)" in alt
    legend = [t.get_text() for t in chart.figure.legends[0].get_texts()]
    assert "Special cause" in legend and "Mean" in legend
    path = chart.save(tmp_path / "spc.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert path.with_suffix(".alt.txt").read_text().strip() == chart.alt_text


def test_forest_plot_reports_highest_lowest_and_not_estimable():
    table = pd.DataFrame(
        {
            "group": ["Black", "Asian", "Mixed", "Other"],
            "rr": [3.1, 1.2, np.nan, 0.4],
            "low": [2.5, 0.9, np.nan, 0.2],
            "high": [3.8, 1.6, np.nan, 0.8],
        }
    )
    chart = charts.forest_plot(
        table, "group", "rr", "low", "high", "Searches vs White", "Risk ratio", "Census 2021"
    )
    alt = check_chart(chart, "Searches vs White", "Census 2021")
    assert "Black 3.10 (95% interval 2.50 to 3.80)" in alt
    assert "Other 0.40" in alt
    assert "1 interval(s) wholly above and 1 wholly below" in alt
    assert "Not estimable: Mixed" in alt
    assert chart.figure.axes[0].get_xscale() == "log"


def grid_areas(n: int = 12) -> gpd.GeoDataFrame:
    shapes = [box(i % 4, i // 4, i % 4 + 1, i // 4 + 1) for i in range(n)]
    return gpd.GeoDataFrame(
        {"name": [f"Area {i}" for i in range(n)], "rate": np.arange(n, dtype=float) * 2.5},
        geometry=shapes,
        crs="EPSG:27700",
    )


def test_choropleth_classes_missing_and_highlight():
    gdf = grid_areas()
    gdf.loc[3, "rate"] = np.nan
    gdf["hot"] = gdf["rate"] > 25
    outline = gdf.dissolve()
    chart = charts.choropleth(
        gdf, "rate", "Rate by area", "ONS", k=4, outline=outline, highlight="hot"
    )
    alt = check_chart(chart, "Rate by area", "ONS")
    assert "Highest: Area 11 (27.50)" in alt or "Highest: Area 11 (27.5)" in alt
    assert "Lowest: Area 0 (0)" in alt
    assert "1 areas have no data" in alt and "1 areas are outlined" in alt
    legend = [t.get_text() for t in chart.figure.axes[0].get_legend().get_texts()]
    assert any(t.startswith("No data (1 areas)") for t in legend)
    class_counts = [int(re.search(r"\((\d+) areas\)", t).group(1)) for t in legend[:4]]
    assert sum(class_counts) == 11  # every area with data sits in one class
    ax = chart.figure.axes[0]
    assert ax.get_aspect() == 1.0 and not ax.axison
    # the hot areas' outlines are drawn above every fill
    fills = [c for c in ax.collections if isinstance(c, PatchCollection)]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    orange = [c for c in lines if to_hex(c.get_edgecolor()[0]).upper() == "#F46A25"]
    assert orange and min(c.get_zorder() for c in orange) > max(c.get_zorder() for c in fills)


def test_funnel_plot_labels_outliers():
    table = pd.DataFrame(
        {
            "area": list("abcdefgh"),
            "crimes": [10, 50, 30, 200, 5, 80, 60, 44],
            "pop": [1000, 5000, 4000, 10000, 2000, 5000, 3000, 4400],
        }
    )
    funnel = stats.funnel_table(table, "crimes", "pop", per=1000, label="area")
    chart = charts.funnel_plot(funnel, "Crime rate funnel", "Residents", "Per 1,000", "src")
    alt = check_chart(chart, "Crime rate funnel", "src")
    outside = funnel.loc[funnel["outside998"], "area"].tolist()
    assert outside  # the example has outliers
    annotations = [t.get_text() for t in chart.figure.axes[0].texts]
    assert sorted(annotations) == sorted(outside)
    assert f"{len(outside)} outside the 99.8% limits" in alt
    legend = [t.get_text() for t in chart.figure.axes[0].get_legend().get_texts()]
    assert "Unit" not in legend and "Outside 99.8% limits" in legend
    bare = funnel.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="attrs"):
        charts.funnel_plot(bare, "t", "x", "y", "s", label="area")
    chart = charts.funnel_plot(
        bare, "t", "x", "y", "s", label="area", denominator="pop", kind="rate", per=1000
    )
    assert sorted(t.get_text() for t in chart.figure.axes[0].texts) == sorted(outside)


def test_bar_by_group_error_bars_and_suppressed():
    table = pd.DataFrame(
        {
            "type": ["Burglary", "Robbery", "Theft"] * 2,
            "quarter": ["Q3"] * 3 + ["Q4"] * 3,
            "n": [400, 50, np.nan, 380, 60, 900],
            "lo": [380, 40, np.nan, 360, 50, 850],
            "hi": [420, 60, np.nan, 400, 70, 950],
        }
    )
    chart = charts.bar_by_group(
        table, "type", "n", "Crimes", "police", hue="quarter", low="lo", high="hi"
    )
    alt = check_chart(chart, "Crimes", "police")
    assert "Highest: Theft (Q4) (900)" in alt and "Lowest: Robbery (Q3) (50)" in alt
    assert "Theft (Q3)" in alt.split("No value shown")[1]
    ax = chart.figure.axes[0]
    kinds = Counter(type(c).__name__ for c in ax.containers)
    assert kinds == {"BarContainer": 2, "ErrorbarContainer": 2}  # bars + error bars per quarter
    vertical = charts.bar_by_group(
        table[table.quarter == "Q4"], "type", "n", "V", "s", horizontal=False
    )
    assert [t.get_text() for t in vertical.figure.axes[0].get_xticklabels()] == [
        "Burglary",
        "Robbery",
        "Theft",
    ]


def test_line_chart_facts_and_limit_on_lines():
    table = pd.DataFrame(
        {
            "month": months(6) * 2,
            "force": ["north"] * 6 + ["south"] * 6,
            "n": [10, 12, 14, 13, 11, 9, 20, 22, 35, 21, 20, 19],
        }
    )
    chart = charts.line_chart(table, "month", "n", "Monthly", "Crimes", "src", hue="force")
    alt = check_chart(chart, "Monthly", "src")
    assert "north: 10 in 2021-01, 9 in 2021-06" in alt
    assert "Highest: 35 in 2021-03 (south)" in alt
    too_many = pd.DataFrame({"m": ["a"] * 7, "g": list("abcdefg"), "v": range(7)})
    with pytest.raises(ValueError, match="at most 6"):
        charts.line_chart(too_many, "m", "v", "t", "y", "s", hue="g")


@pytest.mark.realdata
@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"{DATA_DIR} is absent")
def test_real_choropleth_of_gateshead_lsoa_crime():
    boundaries = gpd.read_file(
        DATA_DIR / "reference" / "boundaries" / "lsoa2021_bgc_by_lad" / "E08000037.geojson"
    )
    path = DATA_DIR / "police" / "northumbria" / "2022-10" / "2022-10-northumbria-street.csv"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        counts = Counter(row["LSOA code"] for row in csv.DictReader(handle))
    gdf = boundaries[["LSOA21CD", "LSOA21NM", "geometry"]].copy()
    gdf["crimes"] = gdf["LSOA21CD"].map(counts)  # Counter gives 0 for no crime
    assert gdf["crimes"].notna().sum() > 100
    chart = charts.choropleth(
        gdf, "crimes", "Crimes by LSOA, October 2022", "data.police.uk", label="LSOA21NM"
    )
    alt = check_chart(chart, "Crimes by LSOA, October 2022", "data.police.uk")
    top = gdf.loc[gdf["crimes"].idxmax()]
    assert f"Highest: {top['LSOA21NM']} ({int(top['crimes']):,})" in alt
    assert f"for {len(gdf)} areas" in alt


# --------------------------------------------------------------------------- axes and time


def month_number(text: str) -> int:
    """Months since year 0, computed by hand for the expected positions."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def segments(values: np.ndarray) -> int:
    """Number of unbroken runs of non-NaN values (pieces of a drawn line)."""
    present = ~np.isnan(values)
    return int(present[0]) + int(np.sum(present[1:] & ~present[:-1]))


def test_log_axis_ticks_are_plain_numbers():
    table = pd.DataFrame(
        {"group": list("abcd"), "rr": [0.4, 0.9, 1.8, 3.5], "lo": [0.3, 0.7, 1.5, 2.9],
         "hi": [0.55, 1.2, 2.2, 4.3]}
    )  # fmt: skip
    chart = charts.forest_plot(table, "group", "rr", "lo", "hi", "T", "Ratio", "S")
    ax = chart.figure.axes[0]
    chart.to_png()  # tick labels are set at draw time
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"\d+(\.\d+)?", t) for t in labels), labels
    # each label is its tick's value written out; the doubling steps of the range are there
    ticks = [float(t) for t in ax.get_xticks()]
    assert [float(t) for t in labels] == ticks
    assert {0.5, 1.0, 2.0, 4.0} <= set(ticks)
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True)]
    assert not any(minor)


def test_spc_chart_gap_at_missing_month_quarter_and_end():
    index = months(30)  # 2021-01 .. 2023-06
    series = pd.Series([100.0 + (i % 5) for i in range(30)], index=index).drop("2021-06")
    xmr = stats.xmr_chart_data(series)
    chart = charts.spc_chart(xmr, "T", "Crimes a month", "S", quarter="2022-Q4")
    ax = chart.figure.axes[0]
    line = next(ln for ln in ax.lines if ln.get_label() == "Crimes a month")
    x, y = line.get_xdata().astype(float), line.get_ydata().astype(float)
    gap = month_number("2021-06")
    assert np.isnan(y[x == gap]).all() and (x == gap).sum() == 1
    assert segments(y) == 2  # the line breaks at the missing month
    # the series ends at the quarter's last month (2023 months are dropped)
    assert x.max() == month_number("2022-12")
    shade = [p for p in ax.patches if p.get_gid() == "quarter_shading"]
    assert len(shade) == 1
    verts = shade[0].get_patch_transform().transform(shade[0].get_path().vertices)[:, 0]
    assert (verts.min(), verts.max()) == (
        month_number("2022-10") - 0.5,
        month_number("2022-12") + 0.5,
    )
    assert "No data for 2021-06" in chart.alt_text
    assert "2022-10, 2022-11, 2022-12" in chart.alt_text


def test_spc_chart_explicit_end_and_no_quarter():
    series = pd.Series(np.arange(24, dtype=float), index=months(24))
    chart = charts.spc_chart(stats.xmr_chart_data(series), "T", "n", "S", end="2022-03")
    ax = chart.figure.axes[0]
    line = next(ln for ln in ax.lines if ln.get_label() == "n")
    assert line.get_xdata().max() == month_number("2022-03")
    assert not [p for p in ax.patches if p.get_gid() == "quarter_shading"]


def test_line_chart_gap_quarter_and_end_per_line():
    table = pd.DataFrame(
        {
            "month": months(15) * 2,
            "force": ["north"] * 15 + ["south"] * 15,
            "n": np.arange(30, dtype=float),
        }
    )
    table = table[~((table["force"] == "north") & (table["month"] == "2021-04"))]
    chart = charts.line_chart(
        table, "month", "n", "T", "Crimes", "S", hue="force", quarter="2021-Q4"
    )
    ax = chart.figure.axes[0]
    north = next(ln for ln in ax.lines if ln.get_label() == "north")
    south = next(ln for ln in ax.lines if ln.get_label() == "south")
    nx, ny = north.get_xdata().astype(float), north.get_ydata().astype(float)
    assert np.isnan(ny[nx == month_number("2021-04")]).all() and segments(ny) == 2
    assert segments(south.get_ydata().astype(float)) == 1
    # 2022-01 .. 2022-03 lie after the quarter and are dropped
    assert nx.max() == month_number("2021-12") and south.get_xdata().max() == nx.max()
    shade = next(p for p in ax.patches if p.get_gid() == "quarter_shading")
    verts = shade.get_patch_transform().transform(shade.get_path().vertices)[:, 0]
    assert (verts.min(), verts.max()) == (
        month_number("2021-10") - 0.5,
        month_number("2021-12") + 0.5,
    )
    assert "No data for 2021-04 (north)" in chart.alt_text


def test_quarterly_cohorts_are_not_broken_every_month():
    """A series spaced every 3 months is joined; a missing quarter breaks it."""
    starts = pd.date_range("2018-01-01", periods=8, freq="QS")
    table = pd.DataFrame({"cohort": starts, "rate": np.linspace(25, 28, 8)}).drop(index=4)
    chart = charts.line_chart(table, "cohort", "rate", "T", "%", "S")
    y = chart.figure.axes[0].lines[0].get_ydata().astype(float)
    assert segments(y) == 2 and np.isnan(y).sum() == 1


def test_long_category_lists_get_taller_figures():
    short = pd.DataFrame({"type": [f"t{i}" for i in range(4)], "n": range(4)})
    long = pd.DataFrame({"type": [f"t{i}" for i in range(24)], "n": range(24)})
    h_short = charts.bar_by_group(short, "type", "n", "T", "S").figure.get_figheight()
    h_long = charts.bar_by_group(long, "type", "n", "T", "S").figure.get_figheight()
    assert h_long / 24 >= 0.3 and h_long > 2 * h_short  # at least 0.3 inch a row
    forest = pd.DataFrame({"g": [f"g{i}" for i in range(24)], "e": 1.0, "lo": 0.8, "hi": 1.2})
    chart = charts.forest_plot(forest, "g", "e", "lo", "hi", "T", "x", "S")
    assert chart.figure.get_figheight() / 24 >= 0.3


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_funnel_outliers_labelled_without_overlap_and_caveat():
    rng = np.random.default_rng(3)
    n = 60
    pop = rng.integers(4000, 16000, n)
    crimes = rng.poisson(0.08 * pop)
    crimes[:8] = (pop[:8] * np.array([0.3, 0.28, 0.26, 0.25, 0.02, 0.021, 0.019, 0.2])).astype(int)
    table = pd.DataFrame({"ward": [f"Ward {i}" for i in range(n)], "crimes": crimes, "pop": pop})
    table.loc[0, "ward"] = "Monument"
    funnel = stats.funnel_table(table, "crimes", "pop", per=1000, label="ward", overdispersion=True)
    caveat = "Monument: few residents and many visitors, so a rate per resident overstates risk."
    chart = charts.funnel_plot(
        funnel, "T", "Residents", "Rate", "S", caveat=caveat, caveat_units=["Monument"]
    )
    ax = chart.figure.axes[0]
    outside = funnel.loc[funnel["outside998"], "ward"].tolist()
    assert len(outside) >= 6
    labels = [t for t in ax.texts if t.get_gid() == "outlier_label"]
    texts = sorted(t.get_text().removesuffix(" *") for t in labels)
    assert texts == sorted(outside)
    assert "Monument *" in [t.get_text() for t in labels]
    chart.to_png()
    renderer = chart.figure.canvas.get_renderer()
    boxes = [matplotlib.text.Text.get_window_extent(t, renderer) for t in labels]  # no leader
    assert not any(boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert caveat in [t.get_text() for t in chart.figure.texts]
    assert caveat in chart.alt_text


# --------------------------------------------------------------------------- maps


def fills_and_legend(fig) -> tuple[set[str], set[str], list[str]]:
    """Face colours of every filled polygon drawn, of every legend patch, and legend texts."""
    drawn = set()
    for ax in fig.axes:
        for c in ax.collections:
            if isinstance(c, PatchCollection):
                drawn |= {to_hex(f) for f in c.get_facecolors() if f[3] > 0}
    legend = next(ax.get_legend() for ax in fig.axes if ax.get_legend())
    keyed = {to_hex(h.get_facecolor()) for h in legend.legend_handles if h.get_facecolor()[3] > 0}
    return drawn, keyed, [t.get_text() for t in legend.get_texts()]


def gids(fig, gid: str) -> list:
    return [a for a in fig.findobj(lambda a: a.get_gid() == gid)]


def test_map_from_lon_lat_is_drawn_in_bng_with_furniture():
    # 1 km squares near Newcastle, built in BNG metres, handed over as longitude/latitude
    gdf = grid_areas().set_geometry(grid_areas().scale(1000, 1000, origin=(0, 0)))
    gdf = gdf.set_geometry(gdf.translate(420_000, 560_000)).to_crs("EPSG:4326")
    gdf["rate"] = gdf["rate"].where(gdf.index != 2)
    outline = gpd.GeoDataFrame(geometry=[box(419_000, 559_000, 425_000, 564_000)], crs="EPSG:27700")
    chart = charts.choropleth(gdf, "rate", "T", "S", scheme="Quantiles", k=4, outline=outline)
    ax = chart.figure.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert 418_500 < x0 < 419_000 and 425_000 < x1 < 425_500  # the outline, padded by 3%
    assert 558_500 < y0 < 559_000 and 564_000 < y1 < 564_500
    from matplotlib_scalebar.scalebar import ScaleBar

    assert any(isinstance(a, ScaleBar) for a in ax.artists)
    arrow = gids(chart.figure, "north_arrow")
    assert len(arrow) == 1 and arrow[0].get_text() == "N"
    drawn, keyed, texts = fills_and_legend(chart.figure)
    assert drawn <= keyed  # every fill drawn has a legend entry
    assert "Not classified" in texts  # the outline reaches beyond the areas
    assert any(t.startswith("No data (1 areas)") for t in texts)
    legend = next(a.get_legend() for a in chart.figure.axes if a.get_legend())
    assert "quartiles" in legend.get_title().get_text()


def test_category_map_outlines_on_top_and_every_class_in_legend():
    gdf = grid_areas()
    gdf["spot"] = ["Hot"] * 2 + ["Cold"] * 3 + ["Not significant"] * 6 + [None]
    styles = {
        "Hot": {"facecolor": "#F46A25", "outline": "#801650"},
        "Cold": {"facecolor": "#12436D", "outline": "#000000"},
        "Not significant": {"facecolor": "#EDEDED"},
    }
    chart = charts.category_map(
        gdf, "spot", styles, "T", "S", outlined=["Hot", "Cold"], places=False
    )
    ax = chart.figure.axes[0]
    drawn, keyed, texts = fills_and_legend(chart.figure)
    assert drawn <= keyed
    assert texts == [
        "Hot (2 areas)", "Cold (3 areas)", "Not significant (6 areas)", "No data (1 areas)"
    ]  # fmt: skip
    fills = [c for c in ax.collections if isinstance(c, PatchCollection)]
    edges = {
        to_hex(c.get_edgecolor()[0]): c
        for c in ax.collections
        if isinstance(c, LineCollection) and c.get_linewidth()[0] >= 1.5
    }
    assert {"#801650", "#000000"} <= set(edges)
    top = max(c.get_zorder() for c in fills)
    assert all(edges[k].get_zorder() > top for k in ("#801650", "#000000"))


BOUNDARIES = DATA_DIR / "reference" / "boundaries"
NORTHUMBRIA_LADS = ["E06000057", "E08000021", "E08000022", "E08000023", "E08000024", "E08000037"]
TYNE_AND_WEAR = NORTHUMBRIA_LADS[1:]


@pytest.fixture(scope="module")
def northumbria():
    if not BOUNDARIES.is_dir():
        pytest.skip(f"{BOUNDARIES} is absent")
    lads = gpd.read_file(BOUNDARIES / "lad2022_simplified" / "local_authorities.json")
    lads = lads[lads["id"].isin(NORTHUMBRIA_LADS)]
    lsoa = pd.concat(
        [
            gpd.read_file(BOUNDARIES / "lsoa2021_bgc_by_lad" / f"{c}.geojson")
            for c in NORTHUMBRIA_LADS
        ]
    )
    names = dict(zip(lads["id"], lads["name"], strict=True))
    lsoa["lad_code"] = lsoa["LADCD_ACTIVE"]
    lsoa["lad_name"] = lsoa["lad_code"].map(names)
    lsoa["value"] = np.arange(len(lsoa), dtype=float) % 97
    return lsoa[["LSOA21NM", "lad_code", "lad_name", "value", "geometry"]], lads


@pytest.mark.realdata
def test_real_northumbria_map_bng_names_towns_inset(northumbria):
    lsoa, lads = northumbria
    assert lsoa.crs.to_epsg() == 4326  # the boundaries come unprojected
    inset = charts.map_inset("northumbria")
    assert inset["lad_codes"] == TYNE_AND_WEAR
    chart = charts.choropleth(
        lsoa, "value", "T", "S", scheme="Quantiles", outline=lads.dissolve(),
        label="LSOA21NM", inset=inset,
    )  # fmt: skip
    main, enlarged = chart.figure.axes[0], chart.figure.axes[1]
    x0, x1 = main.get_xlim()
    y0, y1 = main.get_ylim()
    assert 350_000 < x0 < x1 < 480_000 and 520_000 < y0 < y1 < 680_000
    ex0, ex1 = enlarged.get_xlim()
    assert x0 < ex0 < ex1 < x1 and ex1 - ex0 < 0.7 * (x1 - x0)  # a zoomed part
    from matplotlib_scalebar.scalebar import ScaleBar

    for ax in (main, enlarged):
        assert any(isinstance(a, ScaleBar) for a in ax.artists)
        assert [t.get_text() for t in ax.texts if t.get_gid() == "north_arrow"] == ["N"]
    la_main = {t.get_text() for t in main.texts if t.get_gid() == "la_label"}
    la_inset = {t.get_text() for t in enlarged.texts if t.get_gid() == "la_label"}
    assert la_main == {"NORTHUMBERLAND"}
    assert {"GATESHEAD", "SUNDERLAND", "NORTH TYNESIDE", "SOUTH TYNESIDE"} <= la_inset
    towns = {
        t.get_text() for ax in (main, enlarged) for t in ax.texts if t.get_gid() == "town_label"
    }
    assert {"Hexham", "Alnwick", "Berwick-upon-Tweed", "Morpeth", "Blyth"} <= towns
    assert {"South Shields", "North Shields"} <= towns
    drawn, keyed, texts = fills_and_legend(chart.figure)
    assert drawn <= keyed
    assert sum(int(re.search(r"\((\d+) areas\)", t).group(1)) for t in texts[:5]) == len(lsoa)
    if os.environ.get("CHARTS_PNG_DIR"):  # to look at by eye
        chart.save(Path(os.environ["CHARTS_PNG_DIR"]) / "northumbria_map.png")


@pytest.mark.realdata
def test_real_rural_map_is_projected_and_places_outside_are_left_out(northumbria):
    lsoa, lads = northumbria
    rural = lsoa[lsoa["lad_code"] == "E06000057"].iloc[::2]
    places = pd.DataFrame(
        {"name": ["Hexham", "London", "Alnwick"], "lat": [54.97, 51.51, 55.41],
         "lon": [-2.10, -0.13, -1.71]}
    )  # fmt: skip
    chart = charts.choropleth(
        rural, "value", "T", "S", outline=lads, lads=lads, places=places,
        unshaded_label="Urban areas (not rural)",
    )  # fmt: skip
    ax = chart.figure.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert 350_000 < x0 < x1 < 480_000
    # in metres the force area is taller than wide (in degrees it would look 1.7 times wider)
    assert (y1 - y0) > (x1 - x0)
    texts = {t.get_text() for t in ax.texts}
    assert {"Hexham", "Alnwick", "NORTHUMBERLAND"} <= texts and "London" not in texts
    drawn, keyed, legend = fills_and_legend(chart.figure)
    assert drawn <= keyed and "Urban areas (not rural)" in legend
    # six local-authority names and the towns in a small area: none overlaps another
    chart.to_png()
    renderer = chart.figure.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_gid() in ("la_label", "town_label")]
    boxes = [matplotlib.text.Text.get_window_extent(t, renderer) for t in labels]
    assert len(labels) >= 5
    assert not any(boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    if os.environ.get("CHARTS_PNG_DIR"):  # to look at by eye
        chart.save(Path(os.environ["CHARTS_PNG_DIR"]) / "rural_map.png")


def test_small_multiples_one_panel_each_with_gap_quarter_and_end():
    rows = [
        {"month": m, "type": t, "n": float(10 * (k + 1) + i)}
        for k, t in enumerate(["Burglary", "Robbery", "Shoplifting", "Vehicle crime"])
        for i, m in enumerate(months(27))  # 2021-01 .. 2023-03
        if not (t == "Robbery" and m == "2022-02")
    ]
    chart = charts.small_multiples(
        pd.DataFrame(rows), "month", "n", "type", "Trends by type", "Crimes a month",
        "data.police.uk", quarter="2022-Q4",
    )  # fmt: skip
    check_chart(chart, "Trends by type", "data.police.uk")
    panels = [ax for ax in chart.figure.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == [
        "Burglary", "Robbery", "Shoplifting", "Vehicle crime"
    ]  # fmt: skip
    for ax in panels:
        x, y = (a.astype(float) for a in ax.lines[0].get_data())
        assert x.max() == month_number("2022-12")  # 2023 months dropped
        shade = next(p for p in ax.patches if p.get_gid() == "quarter_shading")
        verts = shade.get_patch_transform().transform(shade.get_path().vertices)[:, 0]
        assert (verts.min(), verts.max()) == (
            month_number("2022-10") - 0.5,
            month_number("2022-12") + 0.5,
        )
        assert segments(y) == (2 if ax.get_title(loc="left") == "Robbery" else 1)
    # every column's last panel shows its month labels
    chart.to_png()
    assert any(t.get_text() for t in panels[-1].get_xticklabels())
    assert any(t.get_text() for t in panels[1].get_xticklabels())  # above an empty slot
    assert "Vehicle crime 63 in 2022-12" in chart.alt_text
