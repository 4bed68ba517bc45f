"""What the studies of learners share: 95% intervals over seeds and learning curves binned on a grid of env steps.

Used by :mod:`studies.marl` and :mod:`studies.self_play`.
"""
from __future__ import annotations


import numpy as np

from solvers.stats import mean_interval as interval

__all__ = ["CURVE_POINTS", "binned_curve", "curve_bands", "curve_grid", "interval"]

CURVE_POINTS = 10


def curve_grid(steps: int, episode_steps: int) -> np.ndarray:
    """Bin edges ``0 .. steps`` over env steps: ``CURVE_POINTS`` bins, fewer when fewer episodes end (all markets of
    a batch end together, every ``episode_steps`` env steps)."""
    return np.linspace(0, steps, min(CURVE_POINTS, max(1, steps // episode_steps)) + 1)


def binned_curve(returns: np.ndarray, end_steps: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean return of the episodes that ended in each bin ``(edges[i], edges[i + 1]]`` of env steps (the last bin
    also takes episodes ending after ``edges[-1]``); NaN for a bin where none ended."""
    returns, end_steps = np.asarray(returns, float), np.asarray(end_steps)
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, end_steps, side="left") - 1, 0, bins - 1)
    total = np.bincount(index, weights=returns, minlength=bins)
    count = np.bincount(index, minlength=bins)
    return np.divide(total, count, out=np.full(bins, np.nan), where=count > 0)


def curve_bands(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, low and high of the 95% interval over seeds (rows) at each grid point; NaN where a seed has none."""
    cis = np.array([interval(c) if np.isfinite(c).all() else (np.nan,) * 3 for c in curves.T]).reshape(-1, 3)
    return cis[:, 0], cis[:, 1], cis[:, 2]
