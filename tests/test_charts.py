"""Charts render headless, carry a title, a source and alt text stating the key facts."""

from __future__ import annotations

import base64
import csv
import re
from collections import Counter

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
@pytest.mark.skipif(not SHARED_DATA_DIR.is_dir(), reason=f"{SHARED_DATA_DIR} is absent")
def test_real_choropleth_of_gateshead_lsoa_crime():
    boundaries = gpd.read_file(
        SHARED_DATA_DIR / "reference" / "boundaries" / "lsoa2021_bgc_by_lad" / "E08000037.geojson"
    )
    path = SHARED_DATA_DIR / "police" / "northumbria" / "2022-10" / "2022-10-northumbria-street.csv"
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
