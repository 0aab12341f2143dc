"""Times to an event with censoring (e.g. days from offence to charge): Kaplan-Meier medians."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd


class KMMedian(NamedTuple):
    """Kaplan-Meier median time with its 95% interval.

    ``n`` cases, ``events`` with the event seen (e.g. charged), ``censored`` still open at the
    end of follow-up; ``median``, ``low``, ``high`` in the unit of the durations (``high`` is
    ``inf`` when the data cannot bound it); ``flag`` is ``""`` or a reason in words.
    """

    n: int
    events: int
    censored: int
    median: float
    low: float
    high: float
    flag: str


def km_median(durations: object, observed: object, alpha: float = 0.05) -> KMMedian:
    """Median time to the event allowing for cases not yet closed (right censoring).

    Parameters
    ----------
    durations : array or Series
        Time from the start (e.g. offence month) to the event, or to the end of follow-up for
        cases where it has not (yet) happened. Non-negative.
    observed : array or Series of bool
        True where the event happened (e.g. a charge), False where the case is censored.

    Returns
    -------
    KMMedian
        The Kaplan-Meier estimate ``S(t) = Π (1 − dᵢ / nᵢ)`` over event times ``tᵢ ≤ t``
        (statsmodels ``SurvfuncRight``); the median is the first event time at which
        ``S(t) < 0.5`` (the SAS and statsmodels convention); its 95% interval inverts the
        test of ``S(t) = 0.5`` on the complementary log-log scale with Greenwood's variance
        (Brookmeyer-Crowley; ``quantile_ci(method="cloglog")``), so its limits are observed
        event times. The median of only the closed cases would ignore the open ones and be
        too short. ``NaN`` median with the flag ``"median not reached"`` when fewer than half
        have had the event by the end of follow-up; ``NaN`` and ``"no cases"`` for no data.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(durations, dtype=float)
    d = np.asarray(observed, dtype=bool)
    if t.shape != d.shape:
        raise ValueError("durations and observed must have the same length")
    keep = ~np.isnan(t)
    t, d = t[keep], d[keep]
    if np.any(t < 0):
        raise ValueError("durations must not be negative")
    n, events = int(t.size), int(d.sum())
    nan = float("nan")
    if n == 0:
        return KMMedian(0, 0, 0, nan, nan, nan, "no cases")
    if events == 0:
        return KMMedian(n, 0, n, nan, nan, nan, "median not reached (no events)")
    sf = SurvfuncRight(t, d.astype(int))
    median = float(sf.quantile(0.5))
    with np.errstate(divide="ignore", invalid="ignore"):  # S = 1 or 0 points: never inside
        ci = sf.quantile_ci(0.5, alpha=alpha, method="cloglog")
    low, high = (float(v) for v in ci)
    flag = "" if np.isfinite(median) else "median not reached"
    if np.isfinite(median) and not np.isfinite(high):
        flag = "upper limit not reached"
    return KMMedian(n, events, n - events, median, low, high, flag)


def km_median_table(
    table: pd.DataFrame, duration: str, observed: str, by: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`km_median` for each group of ``by`` (or the whole table): one row per group with
    ``n, events, censored, median, low, high, flag``."""
    by = list(by or [])
    if not by:
        return pd.DataFrame([km_median(table[duration], table[observed])._asdict()])
    rows = []
    for key, part in table.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row.update(km_median(part[duration], part[observed])._asdict())
        rows.append(row)
    return pd.DataFrame(rows)
