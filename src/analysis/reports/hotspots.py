"""Moved to :mod:`analysis.stats.hotspots` (Gi* beside the other statistical methods).

This module re-exports it so existing imports keep working until the reports are rewired.
"""

from analysis.stats.hotspots import *  # noqa: F403
from analysis.stats.hotspots import __all__  # noqa: F401
