"""Stop and search: is it used fairly and with sufficient grounds?

Search rates per 1,000 residents by ethnic group and the disparity with White residents (95%
intervals), how much they depend on definitions, what searches found, and how complete the
records are (notebook ``02_stop_search_disparity``).
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
