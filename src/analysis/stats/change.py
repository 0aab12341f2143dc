"""Tests of change between periods."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
from statsmodels.stats.rates import test_poisson_2indep


class ChangeTest(NamedTuple):
    """Comparison of two Poisson counts (e.g. this quarter against the previous one).

    ``ratio`` is the ratio of rates after / before; ``p_value`` the two-sided exact
    conditional test; ``sqrt_z`` the square-root z statistic; ``verdict`` in words.
    """

    before: float
    after: float
    ratio: float
    p_value: float
    sqrt_z: float
    verdict: str


VERDICT_NONE = "no evidence of change"
VERDICT_UP = "increase unlikely to be chance"
VERDICT_DOWN = "decrease unlikely to be chance"


def poisson_change_test(
    before: float,
    after: float,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
) -> ChangeTest:
    """Exact test of whether the rate of events changed between two periods.

    Parameters
    ----------
    before, after : int
        Event counts in the earlier and later period.
    exposure_before, exposure_after : float
        Exposure of each period (months, population); equal by default.

    Returns
    -------
    ChangeTest
        ``ratio = (after / exposure_after) / (before / exposure_before)`` (``NaN`` when
        ``before`` is 0); ``p_value`` from the exact conditional test — given the total
        ``before + after``, ``after`` is binomial with probability
        ``exposure_after / (exposure_before + exposure_after)`` under no change
        (statsmodels ``test_poisson_2indep(method="exact-cond")``); ``sqrt_z =
        2(√after − √(before × exposure_after / exposure_before))``, which is roughly
        standard normal under no change; ``verdict`` at the 5% level.
    """
    b, a = float(before), float(after)
    eb, ea = float(exposure_before), float(exposure_after)
    if min(a, b) < 0 or min(ea, eb) <= 0 or np.isnan([a, b, ea, eb]).any():
        raise ValueError(
            f"poisson_change_test needs counts >= 0 and exposures > 0, got before={before}, "
            f"after={after}, exposures={exposure_before}, {exposure_after}"
        )
    if a != round(a) or b != round(b):
        raise ValueError(f"counts must be whole numbers, got before={before}, after={after}")
    rate_b, rate_a = b / eb, a / ea
    ratio = rate_a / rate_b if b > 0 else float("nan")
    if a + b == 0:
        p_value = 1.0
    else:
        with warnings.catch_warnings():  # statsmodels divides by a zero 'before' rate
            warnings.simplefilter("ignore", RuntimeWarning)
            res = test_poisson_2indep(int(a), ea, int(b), eb, method="exact-cond")
        p_value = float(min(max(res.pvalue, 0.0), 1.0))
    sqrt_z = 2.0 * (np.sqrt(a) - np.sqrt(b * ea / eb))
    if p_value >= 0.05:
        verdict = VERDICT_NONE
    elif rate_a > rate_b:
        verdict = VERDICT_UP
    else:
        verdict = VERDICT_DOWN
    return ChangeTest(b, a, float(ratio), p_value, float(sqrt_z), verdict)


def change_table(
    table: pd.DataFrame,
    before: str = "count_before",
    after: str = "count_after",
    exposure_before: float | str = 1.0,
    exposure_after: float | str = 1.0,
) -> pd.DataFrame:
    """Copy of ``table`` with ``ratio, p_value, sqrt_z, verdict`` per row.

    Each row is tested with :func:`poisson_change_test`. ``exposure_before`` and
    ``exposure_after`` are numbers or names of columns holding them. Rows with a missing
    count get ``NaN`` and the verdict ``"not tested (missing count)"``.
    """
    out = table.copy()
    results = []
    for _, row in out.iterrows():
        eb = row[exposure_before] if isinstance(exposure_before, str) else exposure_before
        ea = row[exposure_after] if isinstance(exposure_after, str) else exposure_after
        if pd.isna(row[before]) or pd.isna(row[after]):
            results.append((np.nan, np.nan, np.nan, "not tested (missing count)"))
            continue
        t = poisson_change_test(row[before], row[after], eb, ea)
        results.append((t.ratio, t.p_value, t.sqrt_z, t.verdict))
    cols = ["ratio", "p_value", "sqrt_z", "verdict"]
    res = pd.DataFrame(results, columns=cols, index=out.index)
    for col in cols:
        out[col] = res[col] if len(res) else pd.Series(dtype=float if col != "verdict" else object)
    return out
