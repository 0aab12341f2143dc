"""Report 00, main points: the front section of the pack (findings first, one map, trends)."""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
