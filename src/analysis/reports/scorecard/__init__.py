"""Report 00, the Police and Crime Plan scorecard: one line per commitment the open data can
speak to, with its figure this quarter, the direction of change and a status.

The scorecard computes no figure of its own: each value, comparison and test is read from the
public metrics of the report that publishes it (crime by area, stop and search, rural crime,
reoffending, justice outcomes), and each status follows that report's verdict after its
adjustment for many tests.

Layers: :mod:`.data` reads the plan and the source reports' data, :mod:`.metrics` assembles the
scorecard from their metrics, :mod:`.sections` turns it into :class:`analysis.section.Section`
objects.
"""

import importlib

__all__ = ["data", "metrics", "sections"]


def __getattr__(name: str):
    """Import a layer on first use (``report.data``, ``report.metrics``...): the runner checks
    each report's data without importing the statistics and charts of every report."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
