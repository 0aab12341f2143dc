"""House-style charts: colour-blind-safe, sourced, and carrying alt text.

Every chart function returns a :class:`Chart`. Figures are built with
:class:`matplotlib.figure.Figure` directly (not ``pyplot``), so nothing is registered with
pyplot, nothing is shown twice in Jupyter, and nothing needs closing: Jupyter, nbconvert HTML
and the PDF render the chart through :meth:`Chart._repr_html_`, an HTML ``<figure>`` with the
title as its caption, an embedded PNG with its ``alt`` text, and the source. The title and
source are printed there once and are not drawn inside the figure.

Colours follow the UK Government Analysis Function guidance on data visualisation colours
(categorical palette in its recommended order; a single-hue blue ramp for maps).

Modules: :mod:`.base` (style, :class:`Chart`), :mod:`.time` (control and line charts on a
continuous month axis), :mod:`.plots` (forest, funnel, bar), :mod:`.maps` (maps in British
National Grid), :mod:`.labels` (label placement without overlaps).
"""

from analysis.charts.base import (
    CATEGORICAL,
    DARK_BLUE,
    DARK_GREY,
    DARK_PINK,
    HOUSE_RC,
    LIGHT_BLUE,
    LIGHT_PURPLE,
    MID_BLUE,
    MISSING_GREY,
    ORANGE,
    PALE_BLUE,
    REFERENCE_GREY,
    SEQUENTIAL_BLUES,
    TURQUOISE,
    Chart,
    apply_house_style,
    plain_log_axis,
    sequential_colours,
)
from analysis.charts.maps import BNG, category_map, choropleth, load_places, map_inset
from analysis.charts.plots import bar_by_group, forest_plot, funnel_plot
from analysis.charts.time import line_chart, small_multiples, spc_chart

__all__ = [
    "BNG",
    "CATEGORICAL",
    "DARK_BLUE",
    "DARK_GREY",
    "DARK_PINK",
    "HOUSE_RC",
    "LIGHT_BLUE",
    "LIGHT_PURPLE",
    "MID_BLUE",
    "MISSING_GREY",
    "ORANGE",
    "PALE_BLUE",
    "REFERENCE_GREY",
    "SEQUENTIAL_BLUES",
    "TURQUOISE",
    "Chart",
    "apply_house_style",
    "bar_by_group",
    "category_map",
    "choropleth",
    "forest_plot",
    "funnel_plot",
    "line_chart",
    "load_places",
    "map_inset",
    "plain_log_axis",
    "sequential_colours",
    "small_multiples",
    "spc_chart",
]
