"""Justice outcomes (notebook ``05_justice_outcomes``): what happened to the crimes recorded?

For the crimes recorded in the quarter and the 12 months to its end: how many reached a charge
or summons, a caution or another out-of-court disposal, how many closed with no suspect
identified, how the positive outcome rate differs by local authority, how it builds up in the
months after the crime, and how long charges take. Layers: :mod:`.data` (the store),
:mod:`.metrics` (the figures, public API), :mod:`.sections` (what the notebook shows).
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
