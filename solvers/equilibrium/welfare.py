"""Social welfare and Pareto efficiency of pure profiles and of sets of (mixed) equilibria.

Pareto dominance as in Pareto (1906) / Mas-Colell, Whinston & Green (1995), ch. 16: ``u`` dominates ``w`` when
``u >= w`` componentwise and ``u > w`` somewhere (here with a tolerance ``tol``, relative to the range of the
payoffs compared, so scaling or shifting them changes no answer).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from solvers.equilibrium.core import as_payoffs, expected_payoffs

__all__ = ["pareto_mask", "pareto_pure", "pareto_equilibria", "utilitarian_welfare", "egalitarian_welfare",
           "welfare_table"]


def pareto_mask(points: np.ndarray | Sequence, *, tol: float = 1e-9) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (``k x n_players`` payoff vectors) that no other row dominates
    (by more than ``tol`` times the range of ``points``)."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2:
        raise ValueError(f"points must be a (k, n_players) array; got shape {pts.shape}")
    span = float(np.ptp(pts)) if pts.size else 0.0
    tol = tol * (span if span > 0 else 1.0)
    ge = np.all(pts[:, None, :] >= pts[None, :, :] - tol, axis=2)  # ge[j, i]: j weakly better than i
    gt = np.any(pts[:, None, :] > pts[None, :, :] + tol, axis=2)
    dominated = np.any(ge & gt, axis=0)
    return ~dominated


def pareto_pure(payoffs: np.ndarray | Sequence, *, tol: float = 1e-9) -> list[tuple[int, ...]]:
    """Pure profiles on the Pareto frontier (among all pure profiles), row-major order."""
    arr = as_payoffs(payoffs)
    n = arr.shape[0]
    pts = arr.reshape(n, -1).T
    idx = np.flatnonzero(pareto_mask(pts, tol=tol))
    return [tuple(int(a) for a in np.unravel_index(k, arr.shape[1:])) for k in idx]


def pareto_equilibria(payoffs: np.ndarray | Sequence, profiles: Sequence[Sequence], *,
                      tol: float = 1e-9) -> list[int]:
    """Indices of ``profiles`` (e.g. equilibria) whose expected payoff vectors no other profile in the set
    dominates."""
    if not profiles:
        return []
    pts = np.array([expected_payoffs(payoffs, p) for p in profiles])
    return [int(k) for k in np.flatnonzero(pareto_mask(pts, tol=tol))]


def utilitarian_welfare(payoffs: np.ndarray | Sequence, profile: Sequence) -> float:
    """Sum of the players' expected payoffs."""
    return float(expected_payoffs(payoffs, profile).sum())


def egalitarian_welfare(payoffs: np.ndarray | Sequence, profile: Sequence) -> float:
    """Smallest expected payoff among the players (Rawlsian welfare)."""
    return float(expected_payoffs(payoffs, profile).min())


def welfare_table(payoffs: np.ndarray | Sequence, profiles: Sequence[Sequence]) -> np.ndarray:
    """``(k, n_players + 2)``: each profile's expected payoffs, then its utilitarian sum and its minimum."""
    rows = []
    for p in profiles:
        u = expected_payoffs(payoffs, p)
        rows.append(np.concatenate([u, [u.sum(), u.min()]]))
    return np.array(rows).reshape(len(rows), -1)
