"""Report 01, crime by area: how many crimes and anti-social behaviour incidents were recorded
in each part of the force area this quarter, whether that has gone up or down, where crime is
concentrated, and how the force compares with others.

Layers: :mod:`.data` reads the store, :mod:`.metrics` computes every published figure,
:mod:`.sections` turns the figures into :class:`analysis.section.Section` objects.
"""

from . import data, metrics, sections

__all__ = ["data", "metrics", "sections"]
