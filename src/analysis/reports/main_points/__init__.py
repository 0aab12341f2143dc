"""Report 00, main points: the front section of the pack (findings first, one map, trends)."""

from . import data, metrics, sections

__all__ = ["data", "metrics", "sections"]
