"""Two-player zero-sum games by linear programming (von Neumann's minimax theorem; Dantzig, 1951), solved
with scipy's HiGHS (Huangfu & Hall, 2018, "Parallelizing the dual revised simplex method").

The LP runs on the payoffs mapped onto ``[0, 1]`` (HiGHS's tolerances are absolute) and values are reported in
the caller's units; tolerances are relative to the payoff range. Constant-sum games (zero-sum up to a constant,
which includes any positive affine map of a zero-sum game) are solved as zero-sum ones."""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from scipy import optimize

from solvers.equilibrium.core import as_payoffs, from_bimatrix, normalize, payoff_range

__all__ = ["ZeroSumSolution", "maximin", "solve_zero_sum", "is_zero_sum", "is_constant_sum"]


@dataclasses.dataclass(frozen=True)
class ZeroSumSolution:
    """``value``: the row player's game value; ``row``/``col``: maximin (resp. minimax) strategies."""

    value: float
    row: np.ndarray
    col: np.ndarray

    @property
    def profile(self) -> list[np.ndarray]:
        return [self.row, self.col]


def is_zero_sum(payoffs: np.ndarray | Sequence, *, tol: float = 1e-9) -> bool:
    """True when the payoffs of all players sum to zero in every cell (up to ``tol`` times the payoff range)."""
    arr = as_payoffs(payoffs)
    return bool(np.all(np.abs(arr.sum(axis=0)) <= tol * payoff_range(arr)))


def is_constant_sum(payoffs: np.ndarray | Sequence, *, tol: float = 1e-9) -> bool:
    """True when the payoffs of all players have the same sum in every cell (up to ``tol`` times the payoff
    range): a zero-sum game up to a constant, strategically the same."""
    arr = as_payoffs(payoffs)
    return bool(np.ptp(arr.sum(axis=0)) <= tol * payoff_range(arr))


def maximin(A: np.ndarray | Sequence) -> tuple[float, np.ndarray]:
    """Value and maximin mixed strategy of the row player of the matrix game ``A`` (row maximises ``x^T A y``).

    LP: maximise v subject to ``A^T x >= v``, ``sum x = 1``, ``x >= 0``, on ``A`` mapped onto ``[0, 1]``.
    """
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.size == 0 or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a finite non-empty matrix; got shape {A.shape}")
    norm = normalize(from_bimatrix(A, A))
    A = np.asarray(norm.unit[0])
    m, n = A.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0  # minimise -v
    A_ub = np.hstack([-A.T, np.ones((n, 1))])  # v - (A^T x)_j <= 0
    b_ub = np.zeros(n)
    A_eq = np.zeros((1, m + 1))
    A_eq[0, :m] = 1.0
    bounds = [(0, None)] * m + [(None, None)]
    res = optimize.linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - a matrix game LP is always feasible and bounded
        raise RuntimeError(f"linprog failed: {res.message}")
    x = np.clip(res.x[:m], 0, None)
    return float(norm.payoff(res.x[-1])), x / x.sum()


def solve_zero_sum(payoffs: np.ndarray | Sequence, *, tol: float = 1e-9) -> ZeroSumSolution:
    """Value and maximin/minimax strategies of a 2-player zero-sum (or constant-sum) game given as ``(2, m, n)``
    payoffs; ``value`` is the row player's.

    Raises:
        ValueError: not 2 players, or the payoffs' sums differ across cells by more than ``tol`` times the payoff
            range.
    """
    arr = as_payoffs(payoffs)
    if arr.shape[0] != 2:
        raise ValueError(f"payoffs has {arr.shape[0]} players; a zero-sum LP needs 2")
    if not is_constant_sum(arr, tol=tol):
        raise ValueError(f"payoffs is not zero-sum (nor constant-sum) within tol={tol} relative to the payoff range "
                         f"(A + B ranges over {np.ptp(arr.sum(axis=0)):.3g})")
    value, row = maximin(arr[0])
    _, col = maximin(arr[1].T)
    return ZeroSumSolution(value=value, row=row, col=col)
