"""Rural crime (notebook ``03_rural_crime``): how much recorded crime happens in rural places,
which crimes are over-represented there, is it changing, and how are rural stop-and-search
powers used?

"Rural" is defined by place: the ONS Rural-Urban Classification 2021 of the LSOA where a
crime was located. Layers: :mod:`.data` (the store), :mod:`.metrics` (the figures, public
API), :mod:`.sections` (what the notebook shows).
"""

from . import data, metrics, sections

__all__ = ["data", "metrics", "sections"]
