"""Honest windows: which months a window holds, and rates annualised over the months held."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.stats.intervals import poisson_rate_interval


class Window(NamedTuple):
    """A window of months ending with ``end``.

    ``nominal`` the months it should hold, ``held`` those present in the data, ``missing``
    the others, ``label`` the plain-English name of the window, e.g. ``"12 months to December
    2022"`` or ``"11 of the 12 months to December 2022 (January 2022 missing)"``, and
    ``annualise`` the factor ``12 / len(held)`` that turns a total over the held months into
    a yearly figure (NaN when nothing is held).
    """

    end: str
    length: int
    nominal: tuple[str, ...]
    held: tuple[str, ...]
    missing: tuple[str, ...]
    label: str
    annualise: float


def _month_name(month: str) -> str:
    return pd.Period(month, freq="M").strftime("%B %Y")


def window(end: object, held: Iterable[object], length: int = 12) -> Window:
    """The window of ``length`` months ending with ``end``, given the months in the data.

    Parameters
    ----------
    end : str or Period
        Last month of the window (``"YYYY-MM"``).
    held : iterable
        Every month present in the data (more than the window is fine).
    length : int
        Number of months the window should hold (12 for "the year to ...", 3 for a quarter).

    Returns
    -------
    Window
        Never labelled "12 months" when it holds fewer: the label says how many of the
        nominal months are held and names the missing ones.
    """
    last = pd.Period(str(end), freq="M")
    nominal = tuple(str(last - k) for k in range(length - 1, -1, -1))
    present = {str(pd.Period(str(m), freq="M")) for m in held}
    inside = tuple(m for m in nominal if m in present)
    missing = tuple(m for m in nominal if m not in present)
    to = _month_name(str(last))
    unit = "month" if length == 1 else "months"
    if not missing:
        label = f"{length} {unit} to {to}"
    else:
        names = ", ".join(_month_name(m) for m in missing)
        label = (
            f"{len(inside)} of the {length} {unit} to {to} ({names} missing)"
            if inside
            else f"no month of the {length} {unit} to {to}"
        )
    factor = 12.0 / len(inside) if inside else float("nan")
    return Window(str(last), length, nominal, inside, missing, label, factor)


def annualised_rate(
    count: object, population: object, months_held: object, per: float = 1000.0
) -> pd.DataFrame:
    """Yearly rate per ``per`` people from a count over ``months_held`` months, with its interval.

    ``rate = count / population × per × 12 / months_held``: the count is scaled up to a
    year as if each missing month had the average of the months held (no allowance for the
    season of the missing month; say so where it matters). The 95% interval is the Poisson
    interval of the observed count (:func:`analysis.stats.poisson_rate_interval`) scaled by
    the same factor, so it stays as wide as the evidence. With ``months_held == 12`` this is
    the ordinary rate. Returns columns ``rate, low, high, months_held, annualised`` (bool:
    scaled up because fewer than 12 months are held).
    """
    base = poisson_rate_interval(count, population, per=per)
    held = np.broadcast_to(np.asarray(months_held, dtype=float), (len(base),)).astype(float)
    if np.any(held <= 0) or np.any(held > 12):
        raise ValueError("months_held must lie in 1..12")
    factor = 12.0 / held
    out = base.mul(factor, axis=0)
    out["months_held"] = held
    out["annualised"] = held < 12
    return out
