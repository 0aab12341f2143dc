"""Reoffending (notebook ``04_reoffending``): what do the Ministry of Justice proven
reoffending statistics say, nationally and (when supplied) for local areas and by sentence?

Answers the Police and Crime Plan's reducing-reoffending commitment and sets its claim that
short custodial sentences are ineffective (64.5% reoffend after custody of under 12 months
against 38% after a community sentence) against the data held. Layers: :mod:`.data` (the
store), :mod:`.metrics` (the figures, public API), :mod:`.sections` (what the notebook shows).
"""

from . import data, metrics, sections

__all__ = ["data", "metrics", "sections"]
