"""Placing text labels next to points without overlaps (simple greedy placement).

Each label tries a ring of positions around its point, nearest first, and takes the first
that overlaps no label already placed, no marked point and stays inside the axes; a label
moved away from its point gets a thin leader line. Written here rather than taken from
adjustText because a fixed ring of candidates is deterministic and enough for the few
labels a chart carries.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.patheffects as pe
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

from analysis.charts.base import DARK_GREY

_DIRECTIONS = [(1, 0.6), (1, -0.6), (-1, 0.6), (-1, -0.6), (0, 1), (0, -1), (1, 0), (-1, 0)]
_RADII = [5, 14, 26, 40, 56, 75, 95]


def renderer_of(fig):
    """Lay the figure out (constrained layout included) and return its renderer."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    ax,
    xs: Sequence[float],
    ys: Sequence[float],
    texts: Sequence[str],
    avoid: Sequence[Bbox] = (),
    fontsize: float = 9,
    color: str = DARK_GREY,
    gid: str = "point_label",
    point_radius: float = 5.0,
    obstacles: tuple[Sequence[float], Sequence[float]] | None = None,
    renderer=None,
    **text_kw,
) -> list:
    """Annotate each point ``(xs[i], ys[i])`` (data coordinates) with ``texts[i]``.

    ``avoid`` holds display-space boxes (e.g. labels placed earlier) that labels must not
    cover; ``obstacles`` holds other points ``(xs, ys)`` (data coordinates) to keep clear
    of; ``renderer`` saves a layout pass when the caller has one. Labels get a white halo unless ``path_effects`` is given. Returns the annotations,
    each with ``gid`` set.
    """
    text_kw.setdefault("path_effects", [pe.withStroke(linewidth=2.5, foreground="white")])
    renderer = renderer or renderer_of(ax.figure)
    axes_box = ax.get_window_extent(renderer)
    pts = ax.transData.transform(np.column_stack([xs, ys])) if len(xs) else np.empty((0, 2))
    dpi_scale = ax.figure.dpi / 72.0
    r = point_radius * dpi_scale
    blocked = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in pts]
    if obstacles is not None and len(obstacles[0]):
        others = ax.transData.transform(np.column_stack(obstacles))
        blocked += [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in others]
    blocked += list(avoid)
    placed = []
    for (px, py), text in zip(pts, texts, strict=True):
        xy = tuple(ax.transData.inverted().transform((px, py)))
        best, best_cost = None, np.inf
        for radius in _RADII:
            for dx, dy in _DIRECTIONS:
                style = {
                    "xytext": (dx * radius, dy * radius),
                    "ha": "left" if dx > 0 else "right" if dx < 0 else "center",
                    "va": "bottom" if dy > 0 else "top" if dy < 0 else "center",
                }
                probe = ax.annotate(
                    text, xy, textcoords="offset points", fontsize=fontsize, **style, **text_kw
                )
                box = probe.get_window_extent(renderer)
                probe.remove()
                cost = sum(_overlap(box, b) for b in blocked) + 50 * (
                    max(0, axes_box.x0 - box.x0)
                    + max(0, box.x1 - axes_box.x1)
                    + max(0, axes_box.y0 - box.y0)
                    + max(0, box.y1 - axes_box.y1)
                )
                if cost < best_cost:
                    best, best_cost = (style, box, radius), cost
                if best_cost == 0:
                    break
            if best_cost == 0:
                break
        style, box, radius = best
        leader = (
            {"arrowstyle": "-", "color": color, "lw": 0.6, "shrinkA": 0, "shrinkB": 3}
            if radius > _RADII[0]
            else None
        )
        ann = ax.annotate(
            text,
            xy,
            textcoords="offset points",
            fontsize=fontsize,
            color=color,
            arrowprops=leader,
            **style,
            **text_kw,
        )
        ann.set_gid(gid)
        blocked.append(box)
        placed.append(ann)
    return placed
