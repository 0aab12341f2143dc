"""Funnel plots: each unit against the pooled value, with exact or over-dispersed limits."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.stats._common import _as_float_array, _broadcast


def _level_name(level: float) -> str:
    text = f"{level * 100:.4f}".rstrip("0").rstrip(".")
    return text.replace(".", "")


def _interpolated_quantile(dist: object, p: float) -> np.ndarray:
    """Spiegelhalter's (2005) interpolated quantile of a discrete distribution.

    ``r = ppf(p)``; ``α = (F(r) − p) / (F(r) − F(r − 1))``; limit count ``r − α``.
    """
    r = dist.ppf(p)
    f_r = dist.cdf(r)
    f_prev = dist.cdf(r - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    return np.maximum(r - alpha, 0.0)


def funnel_limits(
    denominators: object,
    target: float,
    kind: str = "proportion",
    per: float = 1.0,
    levels: Iterable[float] = (0.95, 0.998),
    phi: float = 1.0,
    tau2: float = 0.0,
) -> pd.DataFrame:
    """Funnel-plot control limits around ``target`` at each denominator.

    Parameters
    ----------
    denominators : array or Series
        Unit sizes (trials for proportions; population or exposure for rates).
    target : float
        The target value on the published scale (a proportion × ``per``, or a rate per
        ``per``), usually the pooled value of all units.
    kind : {"proportion", "rate"}
        Binomial limits for proportions, Poisson limits for rates.
    per : float
        Scale of ``target`` and the limits (1 = fraction, 100 = percent, 1000 = per 1,000).
    levels : floats
        Two-sided coverage of each pair of limits; column names drop the point,
        e.g. 0.95 → ``low95, high95`` and 0.998 → ``low998, high998``.
    phi, tau2 : float
        Over-dispersion: multiplicative factor φ and additive between-unit variance τ²
        (on the ``per`` scale squared).

    Returns
    -------
    DataFrame
        ``denominator, target`` and the limits. Without over-dispersion (φ = 1, τ² = 0) the
        limits are exact binomial or Poisson quantiles, interpolated between whole counts
        (Spiegelhalter 2005), divided by the denominator. With over-dispersion they use the
        normal approximation ``target ± z × sqrt(φ × V + τ²)`` with ``V = θ(1 − θ)/n``
        (proportions) or ``θ/n`` (rates). Limits are clipped to the possible range.
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    (n,), index = _broadcast(denominators)
    theta = float(target) / per
    if kind == "proportion" and not 0 <= theta <= 1:
        raise ValueError(f"a proportion target must lie in [0, {per}], got {target}")
    out = pd.DataFrame({"denominator": n, "target": float(target)}, index=index)
    valid = ~np.isnan(n) & (n > 0)
    exact = phi == 1.0 and tau2 == 0.0
    for level in levels:
        name = _level_name(level)
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        low = np.full(len(n), np.nan)
        high = np.full(len(n), np.nan)
        nv = n[valid]
        if exact:
            if kind == "proportion":
                dist = sps.binom(np.round(nv).astype(int), theta)
            else:
                dist = sps.poisson(theta * nv)
            low[valid] = _interpolated_quantile(dist, lo_p) / nv * per
            high[valid] = _interpolated_quantile(dist, hi_p) / nv * per
        else:
            var = theta * (1 - theta) / nv if kind == "proportion" else theta / nv
            sd = np.sqrt(phi * var * per**2 + tau2)
            z = sps.norm.ppf(hi_p)
            low[valid] = float(target) - z * sd
            high[valid] = float(target) + z * sd
        low = np.maximum(low, 0.0)
        if kind == "proportion":
            high = np.minimum(high, per)
        out[f"low{name}"] = low
        out[f"high{name}"] = high
    return out


def funnel_table(
    table: pd.DataFrame,
    count: str,
    denominator: str,
    kind: str = "rate",
    per: float = 1000.0,
    label: str | None = None,
    overdispersion: bool = False,
    levels: Iterable[float] = (0.95, 0.998),
    target: float | None = None,
) -> pd.DataFrame:
    """Funnel-plot table: each unit's value against the pooled value, with limits.

    Parameters
    ----------
    table : DataFrame
        One row per unit (area, force...).
    count, denominator : str
        Columns of events (or successes) and of the denominator.
    kind : {"rate", "proportion"}
        Poisson rate per ``per`` or binomial proportion × ``per``.
    label : str, optional
        Column naming the units (kept; recorded in ``attrs["label"]`` for the plot).
    overdispersion : bool
        Apply Spiegelhalter's (2005) additive random-effects adjustment: z-scores are
        winsorised at their 10th and 90th percentiles, ``φ = mean(z²)``; when ``nφ > n − 1``,
        ``τ² = (nφ − (n − 1)) / (Σw − Σw²/Σw)`` with ``w = 1/V`` and the limits and z-scores
        use ``V + τ²``.
    target : float, optional
        Compare against this value (on the published scale, e.g. a national rate per
        ``per``) instead of the pooled value of the units.

    Returns
    -------
    DataFrame
        Copy of ``table`` with ``value`` (count / denominator × per), ``target`` (pooled:
        Σcount / Σdenominator × per), ``z`` (``(value − target) / sqrt(V + τ²)``), the limits of
        :func:`funnel_limits` at each unit's denominator, ``outside95`` and ``outside998``.
        ``attrs`` holds ``target, phi, tau2, kind, per, count, denominator, label, levels,
        target_is_pooled``.
        Units with a zero or missing denominator get ``NaN`` values and are never outside.
    """
    out = table.copy()
    y = _as_float_array(out[count])
    n = _as_float_array(out[denominator])
    valid = ~np.isnan(y) & ~np.isnan(n) & (n > 0)
    if not valid.any():
        raise ValueError(f"funnel_table: no unit has a positive {denominator!r}")
    theta = y[valid].sum() / n[valid].sum() if target is None else float(target) / per
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(valid, y / n, np.nan)
        var = theta * (1 - theta) / n if kind == "proportion" else theta / n
        var = np.where(valid, var, np.nan)
        z_raw = (value - theta) / np.sqrt(var)

    phi, tau2 = 1.0, 0.0
    if overdispersion:
        zv = z_raw[valid]
        lo, hi = np.percentile(zv, [10, 90])
        zw = np.clip(zv, lo, hi)
        k = zv.size
        phi = float(np.mean(zw**2))
        if k * phi > k - 1:
            w = 1 / var[valid]
            tau2 = float((k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (value - theta) / np.sqrt(var + tau2)

    limits = funnel_limits(n, theta * per, kind=kind, per=per, levels=levels, tau2=tau2 * per**2)
    out["value"] = value * per
    out["target"] = theta * per
    out["z"] = z
    level_names = []
    for level in levels:
        name = _level_name(level)
        level_names.append(name)
        out[f"low{name}"] = limits[f"low{name}"].to_numpy()
        out[f"high{name}"] = limits[f"high{name}"].to_numpy()
        out[f"outside{name}"] = (
            valid & ((out["value"] < out[f"low{name}"]) | (out["value"] > out[f"high{name}"]))
        ).to_numpy()
    out.attrs.update(
        {
            "target": float(theta * per),
            "phi": phi,
            "tau2": float(tau2 * per**2),
            "kind": kind,
            "per": per,
            "count": count,
            "denominator": denominator,
            "label": label,
            "levels": level_names,
            "target_is_pooled": target is None,
        }
    )
    return out
