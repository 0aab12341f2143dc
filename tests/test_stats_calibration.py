"""Calibration of the change tests by simulation, on series fitted to real Northumbria data.

For each real monthly series (counted here from the data.police.uk street CSVs with the csv
module), a Poisson GLM with month-of-year and a linear trend gives the seasonal profile and the
over-dispersion φ (Pearson). Series are then simulated with that profile, a flat level and
gamma-Poisson noise of variance φμ, over the same months as the real data (2020-05 to 2022-12,
2022-01 missing), and tested with :func:`analysis.stats.change_test`:

* with no change, the share of "statistically significant" verdicts must be at most 5% within
  simulation error (5% + 2 standard errors of a proportion);
* with a step of +15% in the last quarter, the share found (the power of the same-quarter
  year-earlier comparison) is reported, and must clearly exceed the false-signal rate.

The rates are printed (``pytest -s``) and recorded in docs/methodology/statistics.md.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from analysis import stats
from analysis.paths import SHARED_DATA_DIR

DATA = Path(os.environ.get("CRIMEPLAN_SHARED_DATA", SHARED_DATA_DIR))
NORTHUMBRIA = DATA / "police" / "northumbria"
SERIES = {
    "All crime and ASB": None,
    "Anti-social behaviour": "Anti-social behaviour",
    "Burglary": "Burglary",
    "Violence and sexual offences": "Violence and sexual offences",
    "Vehicle crime": "Vehicle crime",
}
N_SIM = 120  # simulated series per real series (and per step)
QUARTER = ["2022-10", "2022-11", "2022-12"]
COMPARISONS = ("year_earlier_quarter", "year_ending", "previous_quarter")


def real_monthly() -> pd.DataFrame:
    """Monthly counts by crime type from every Northumbria street CSV (csv module only)."""
    rows = {}
    for path in sorted(NORTHUMBRIA.glob("*/*-northumbria-street.csv")):
        month = path.parent.name
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows[month] = Counter(r["Crime type"] for r in csv.DictReader(handle))
    return pd.DataFrame(rows).T.fillna(0).sort_index()


def fit_profile(series: pd.Series) -> tuple[np.ndarray, float]:
    """Month-of-year profile (mean of the last 12 fitted months, by month) and Pearson φ."""
    frame = pd.DataFrame({"y": series.to_numpy()})
    periods = pd.PeriodIndex(series.index, freq="M")
    frame["moy"] = periods.month
    frame["t"] = [(p - periods[0]).n for p in periods]
    fit = smf.glm("y ~ C(moy) + t", frame, family=sm.families.Poisson()).fit()
    phi = fit.pearson_chi2 / fit.df_resid
    last = frame.iloc[-12:].copy()
    level = fit.predict(last)
    profile = np.zeros(12)
    profile[last["moy"].to_numpy() - 1] = level.to_numpy()
    missing = profile == 0  # a month of year absent from the last 12 (2022-01)
    if missing.any():
        one_back = frame.iloc[-24:-12]
        pred = fit.predict(one_back)
        for moy, value in zip(one_back["moy"], pred, strict=True):
            if profile[moy - 1] == 0:
                profile[moy - 1] = value
    return profile, float(phi)


def simulate(profile, phi, months, rng, step=1.0):
    mu = np.array([profile[pd.Period(m).month - 1] for m in months])
    mu = np.where(np.isin(months, QUARTER), mu * step, mu)
    lam = rng.gamma(mu / (phi - 1), phi - 1) if phi > 1 else mu
    return pd.Series(rng.poisson(lam).astype(float), index=months)


@pytest.mark.realdata
def test_false_signal_rate_at_most_5_percent_and_power_for_a_15_percent_step():
    if not NORTHUMBRIA.is_dir():
        pytest.skip(f"real data {NORTHUMBRIA} is absent")
    counts = real_monthly()
    history = counts.loc[:"2022-09"]
    months = [m for m in counts.index if m <= "2022-12"]
    assert "2022-01" not in months and months[0] == "2020-05"
    rng = np.random.default_rng(20221231)
    results = []
    for name, column in SERIES.items():
        real = history.sum(axis=1) if column is None else history[column]
        profile, phi = fit_profile(real)
        assert phi > 1.5, name  # every real series is over-dispersed
        for step in (1.0, 1.15):
            # power is measured for the headline comparison only, to keep the test fast
            comparisons = COMPARISONS if step == 1.0 else COMPARISONS[:1]
            for _ in range(N_SIM):
                sim = simulate(profile, phi, months, rng, step)
                for comparison in comparisons:
                    res = stats.change_test(sim, "2022Q4", comparison)
                    assert not res.verdict.startswith("not tested"), res.verdict
                    results.append((name, comparison, step, res.p_value < 0.05))
    table = pd.DataFrame(results, columns=["series", "comparison", "step", "signal"])
    rates = table.groupby(["comparison", "step"])["signal"].agg(["mean", "size"])
    by_series = table.groupby(["series", "comparison", "step"])["signal"].mean().unstack()
    print("\n", rates, "\n", by_series)
    for comparison in COMPARISONS:
        null = rates.loc[(comparison, 1.0)]
        se = np.sqrt(0.05 * 0.95 / null["size"])
        assert null["mean"] <= 0.05 + 2 * se, (comparison, null["mean"])
    # the test is not so cautious that it never fires: power well above the false-signal rate
    power = rates.loc[("year_earlier_quarter", 1.15), "mean"]
    assert power > rates.loc[("year_earlier_quarter", 1.0), "mean"] + 0.15
