"""Confidence intervals of a mean from a few independent samples (seeds, paired differences): one Student-t
interval for every solver, study and benchmark that reports "mean [low, high]" over seeds or episodes."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["mean_halfwidth", "mean_interval"]


def mean_halfwidth(values: Any, *, confidence: float = 0.95, axis: int = 0) -> tuple[Any, Any]:
    """Mean of ``values`` along ``axis`` and the half-width of its Student-t ``confidence`` interval,
    ``t_{(1+c)/2, k-1} * s / sqrt(k)`` with ``k`` samples; the half-width is NaN when ``k < 2``. Floats for 1-d
    input, arrays otherwise."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} is not allowed: expected a number in (0, 1)")
    x = np.asarray(values, np.float64)
    k = x.shape[axis]
    mean = x.mean(axis=axis)
    if k < 2:
        return mean, np.full_like(mean, np.nan)
    half = stats.t.ppf(0.5 + confidence / 2.0, k - 1) * x.std(axis=axis, ddof=1) / np.sqrt(k)
    return mean, half


def mean_interval(values: Any, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the Student-t ``confidence`` interval of the mean of the flattened ``values``
    (low and high NaN for fewer than 2 values)."""
    mean, half = mean_halfwidth(np.ravel(np.asarray(values, np.float64)), confidence=confidence)
    return float(mean), float(mean - half), float(mean + half)
