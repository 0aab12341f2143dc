"""Reoffending (notebook ``04_reoffending``): what do the Ministry of Justice proven
reoffending statistics say, nationally and (when supplied) for local areas and by sentence?

Answers the Police and Crime Plan's reducing-reoffending commitment and sets its claim that
short custodial sentences are ineffective (64.5% reoffend after custody of under 12 months
against 38% after a community sentence) against the data held. Layers: :mod:`.data` (the
store), :mod:`.metrics` (the figures, public API), :mod:`.sections` (what the notebook shows).
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
