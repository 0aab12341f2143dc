"""Report 01, crime by area: how many crimes and anti-social behaviour incidents were recorded
in each part of the force area this quarter, whether that has gone up or down, where crime is
concentrated, and how the force compares with others.

Layers: :mod:`.data` reads the store, :mod:`.metrics` computes every published figure,
:mod:`.sections` turns the figures into :class:`analysis.section.Section` objects.
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
