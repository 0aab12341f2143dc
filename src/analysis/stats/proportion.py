"""Test of change in a proportion between two periods, allowing for over-dispersion."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["proportion_change_test"]


def proportion_change_test(monthly: pd.DataFrame) -> float:
    """Two-sided p-value for a change in a proportion between two periods of months.

    Parameters
    ----------
    monthly : DataFrame
        One row per month: ``successes``, ``trials`` and bool ``after`` (month of the later
        period). Months with no trials are left out.

    Returns
    -------
    float
        p-value of the ``after`` term of a binomial GLM of the monthly proportions (weights =
        trials), its standard error widened by the Pearson over-dispersion between months
        (φ = Pearson χ² / residual df, never below 1: never more confident than the binomial
        test) and judged by Student's t with the residual df (statsmodels ``GLM``). Monthly
        proportions vary more than binomial chance allows (recording practice, crime mix), so
        the months themselves give the noise. NaN when fewer than three months, one period
        absent, or every trial a success or none.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    rows = monthly[monthly["trials"] > 0]
    y = rows["successes"].to_numpy(float)
    n = rows["trials"].to_numpy(float)
    after = rows["after"].to_numpy(bool)
    if len(rows) < 3 or after.all() or not after.any() or y.sum() in (0.0, n.sum()):
        return float("nan")
    x = sm.add_constant(after.astype(float))
    with warnings.catch_warnings():
        # months of a period with identical rates fit exactly: not a problem for this test
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        fit = sm.GLM(y / n, x, family=sm.families.Binomial(), var_weights=n).fit()
    df = max(int(round(fit.df_resid)), 1)
    phi = max(float(fit.pearson_chi2) / df, 1.0)
    t = float(fit.params[1]) / (float(fit.bse[1]) * np.sqrt(phi))
    return float(2 * sps.t.sf(abs(t), df))
