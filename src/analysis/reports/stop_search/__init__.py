"""Stop and search: is it used fairly and with sufficient grounds?

Search rates per 1,000 residents by ethnic group and the disparity with White residents (95%
intervals), how much they depend on definitions, what searches found, and how complete the
records are (notebook ``02_stop_search_disparity``).
"""

from . import data, metrics, sections

__all__ = ["data", "metrics", "sections"]
