"""One inverse-CDF sampler (Devroye 1986, *Non-Uniform Random Variate Generation*, sec. 2.1) for every draw.

The rule: with ``cdf = cumsum(p)`` (sequential, so ``cdf[-1]`` is the total), one uniform ``u`` in ``[0, 1)`` gives the
first ``k`` with ``cdf[k] > u * cdf[-1]``, i.e. ``cdf[k-1] <= u * total < cdf[k]``. An outcome of probability zero is
never drawn: should ``u * total`` round up to ``total``, the last outcome of positive probability is returned. The
numba kernel :func:`inverse_cdf` is the rule (the batched market's chance nodes and seats call it); :func:`draw` (one
draw, plain Python) and :func:`draw_rows` (one draw per row of a batch, the kernel) are the entry points for Python
callers. Nothing here draws the uniforms: callers pass them, from their own ``Generator`` or counter-based stream.
"""
from __future__ import annotations

from itertools import accumulate
from typing import Sequence

import numpy as np
from numba import njit

__all__ = ["inverse_cdf", "draw", "draw_rows"]


@njit(cache=True)
def inverse_cdf(cdf, u):
    """The outcome ``k`` with ``cdf[k-1] <= u * cdf[-1] < cdf[k]``; never one of probability zero."""
    x = u * cdf[cdf.shape[0] - 1]
    for k in range(cdf.shape[0]):
        if cdf[k] > x:
            return k
    k = cdf.shape[0] - 1  # u * total rounded up to total: the last outcome of positive probability
    while k > 0 and cdf[k] == cdf[k - 1]:
        k -= 1
    return k


@njit(cache=True)
def _inverse_cdf_rows(cdf, u, out):
    for i in range(cdf.shape[0]):
        out[i] = inverse_cdf(cdf[i], u[i])


def draw(probabilities: Sequence[float] | np.ndarray, u: float) -> int:
    """One outcome index of ``probabilities`` (non-negative, not all zero; need not sum to 1) for the uniform ``u``.

    The rule of :func:`inverse_cdf` in plain Python floats (the same sequential float64 sums, so the same result:
    ``tests/util/test_sampling.py``): call sites draw one outcome at a time in Python loops, where a numba call or
    numpy's ``searchsorted`` costs several times the loop over a handful of outcomes.
    """
    cdf = list(accumulate(map(float, probabilities)))
    if not cdf:
        raise ValueError("probabilities=[] is not allowed: expected at least one outcome")
    x = float(u) * cdf[-1]
    for k, c in enumerate(cdf):
        if c > x:
            return k
    k = len(cdf) - 1  # u * total rounded up to total: the last outcome of positive probability
    while k > 0 and cdf[k] == cdf[k - 1]:
        k -= 1
    return k


def draw_rows(probabilities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """``(B,)`` int64 outcome indices: row ``i`` of the ``(B, A)`` ``probabilities`` drawn with ``uniforms[i]``."""
    p = np.asarray(probabilities, dtype=np.float64)
    u = np.ascontiguousarray(uniforms, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] == 0 or u.shape != (p.shape[0],):
        raise ValueError(f"probabilities of shape {p.shape} and uniforms of shape {u.shape} are not allowed: "
                         "expected (B, A) with A >= 1 and (B,)")
    out = np.empty(p.shape[0], dtype=np.int64)
    _inverse_cdf_rows(np.cumsum(p, axis=1), u, out)
    return out
