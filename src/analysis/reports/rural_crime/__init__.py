"""Rural crime (notebook ``03_rural_crime``): how much recorded crime happens in rural places,
which crimes are over-represented there, is it changing, and how are rural stop-and-search
powers used?

"Rural" is defined by place: the ONS Rural-Urban Classification 2021 of the LSOA where a
crime was located. Layers: :mod:`.data` (the store), :mod:`.metrics` (the figures, public
API), :mod:`.sections` (what the notebook shows).
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
