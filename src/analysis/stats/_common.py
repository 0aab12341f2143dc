"""Shared helpers of :mod:`analysis.stats` (array coercion, broadcasting, constants)."""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
"""Standard normal quantile for a two-sided 95% interval."""


def _as_float_array(values: object) -> np.ndarray:
    """Float array from a scalar, list, array or Series (pandas NA → NaN)."""
    if isinstance(values, pd.Series | pd.Index):
        return (
            pd.to_numeric(values, errors="raise")
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
    arr = np.asarray(values, dtype=object)
    flat = [np.nan if v is None or v is pd.NA else v for v in arr.ravel()]
    return np.asarray(flat, dtype=float).reshape(arr.shape)


def _result_index(*inputs: object, length: int) -> pd.Index:
    """Index of the first Series among ``inputs`` (else a RangeIndex of ``length``)."""
    for value in inputs:
        if isinstance(value, pd.Series):
            return value.index
    return pd.RangeIndex(length)


def _broadcast(*inputs: object) -> tuple[list[np.ndarray], pd.Index]:
    arrays = [np.atleast_1d(_as_float_array(v)) for v in inputs]
    shaped = np.broadcast_arrays(*arrays)
    length = shaped[0].shape[0]
    return [np.array(a, dtype=float) for a in shaped], _result_index(*inputs, length=length)


def _check_non_negative(name: str, values: np.ndarray) -> None:
    if np.any(values[~np.isnan(values)] < 0):
        raise ValueError(f"{name} must not be negative")
