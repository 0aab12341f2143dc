"""Results a report has already computed from one data object, in this process.

A notebook's cells, its ``published_tables`` and the summary reports (main points, scorecard)
ask a report's metrics for the same expensive results (change tests, counts tables). Those
metrics keep them in :func:`computed_for` of the data object they were given: keyed by the
object's identity and dropped when it is collected, so a new (or copied) data object starts
empty and nothing is kept between processes or runs. The frames of a data object are treated as
read-only; results are handed out as copies, so a caller editing its copy changes nothing for the
next.
"""

from __future__ import annotations

import weakref

__all__ = ["computed_for"]

_COMPUTED: dict[int, dict] = {}


def computed_for(data: object) -> dict:
    """The results already computed from ``data`` (a report's data object): a dict to read and
    fill, ``{(function name, arguments...): result}``."""
    key = id(data)
    if key not in _COMPUTED:
        _COMPUTED[key] = {}
        weakref.finalize(data, _COMPUTED.pop, key, None)
    return _COMPUTED[key]
