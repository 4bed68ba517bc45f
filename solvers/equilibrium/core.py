"""Payoff tensors, mixed profiles, expected payoffs and regret for n-player normal-form games.

Convention everywhere in :mod:`solvers.equilibrium`: ``payoffs.shape == (n_players, S_1, ..., S_n)``, where
``payoffs[i][a_1, ..., a_n]`` is player ``i``'s payoff when player ``j`` plays pure strategy ``a_j``. A (mixed)
profile is a sequence of ``n`` probability vectors, ``profile[i].shape == (S_i,)``.

Regret and NashConv follow Nash (1951) and Lanctot et al. (2017), "A Unified Game-Theoretic Approach to
Multiagent Reinforcement Learning" (NashConv = sum over players of the gain from a best response).

Scale-free tolerances: a positive affine map of all payoffs (``c * payoffs + d``, ``c > 0``) changes no
equilibrium, so every tolerance in :mod:`solvers.equilibrium` is relative to the payoff range
(:func:`payoff_range`): the solvers map the payoffs once onto ``[0, 1]`` (:func:`normalize`), decide there, and
report values (regrets, game values) back in the caller's units.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

__all__ = [
    "as_payoffs", "as_profile", "bimatrix", "from_bimatrix", "expected_payoffs", "deviation_payoffs", "regret",
    "nash_conv", "mixture_regret", "is_nash", "pure_profile", "uniform_profile", "support", "payoff_range",
    "Normalized", "normalize",
]


def as_payoffs(payoffs: np.ndarray | Sequence, *, allow_nan: bool = False) -> np.ndarray:
    """Validate and return a float64 payoff tensor of shape ``(n_players, S_1, ..., S_n)``.

    Raises:
        ValueError: wrong shape, empty strategy sets or non-finite entries (unless ``allow_nan``).
    """
    arr = np.asarray(payoffs, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[0] != arr.ndim - 1:
        raise ValueError(
            f"payoffs has shape {arr.shape}; expected (n_players, S_1, ..., S_n) with n_players == ndim - 1, "
            "e.g. (2, 3, 3) for a 3x3 bimatrix game")
    if min(arr.shape[1:]) < 1:
        raise ValueError(f"payoffs has shape {arr.shape}; every player needs at least one strategy")
    if not allow_nan and not np.all(np.isfinite(arr)):
        raise ValueError("payoffs contains NaN or inf entries (unsampled cells?); only finite payoffs are allowed")
    return arr


def payoff_range(payoffs: np.ndarray | Sequence) -> float:
    """Largest minus smallest payoff over all players and cells; 1.0 for a constant game (every profile is then
    an equilibrium, and 1.0 keeps relative tolerances meaningful)."""
    arr = as_payoffs(payoffs)
    span = float(arr.max() - arr.min())
    return span if span > 0 else 1.0


@dataclasses.dataclass(frozen=True)
class Normalized:
    """Payoffs mapped onto ``[0, 1]`` by one positive affine map: ``payoffs == offset + scale * unit``.

    ``unit`` is the same array (up to rounding) for ``payoffs`` and ``c * payoffs + d`` with ``c > 0``, so
    anything decided on it is scale-free; :meth:`payoff` and :meth:`gain` carry values back."""

    unit: np.ndarray
    offset: float
    scale: float

    def payoff(self, value: float | np.ndarray) -> float | np.ndarray:
        """A payoff level of the unit game in the original units."""
        return self.offset + self.scale * value

    def gain(self, value: float | np.ndarray) -> float | np.ndarray:
        """A payoff difference (regret, NashConv) of the unit game in the original units."""
        return self.scale * value


def normalize(payoffs: np.ndarray | Sequence) -> Normalized:
    """Validate ``payoffs`` (:func:`as_payoffs`) and map them onto ``[0, 1]``: subtract the smallest payoff,
    divide by :func:`payoff_range`. Idempotent: a unit game maps to itself exactly."""
    arr = as_payoffs(payoffs)
    offset = float(arr.min())
    scale = payoff_range(arr)
    return Normalized(unit=(arr - offset) / scale, offset=offset, scale=scale)


def bimatrix(payoffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a 2-player tensor ``(2, m, n)`` into the row matrix ``A`` and column matrix ``B`` (both ``m x n``)."""
    arr = as_payoffs(payoffs)
    if arr.shape[0] != 2:
        raise ValueError(f"payoffs has {arr.shape[0]} players; this function needs exactly 2")
    return arr[0], arr[1]


def from_bimatrix(A: np.ndarray | Sequence, B: np.ndarray | Sequence | None = None) -> np.ndarray:
    """Stack row and column payoff matrices into ``(2, m, n)``; ``B=None`` means zero-sum (``B = -A``)."""
    A = np.asarray(A, dtype=np.float64)
    B = -A if B is None else np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or A.shape != B.shape:
        raise ValueError(f"A and B must be matrices of the same shape; got {A.shape} and {B.shape}")
    return np.stack([A, B])


def as_profile(payoffs: np.ndarray, profile: Sequence, *, tol: float = 1e-9) -> list[np.ndarray]:
    """Validate a mixed profile against ``payoffs``; pure strategies (ints) are turned into unit vectors.

    Raises:
        ValueError: wrong number of players or lengths, negative entries, or sums differing from 1 by > ``tol``.
    """
    n = payoffs.shape[0]
    if len(profile) != n:
        raise ValueError(f"profile has {len(profile)} entries; payoffs has {n} players")
    out = []
    for i, p in enumerate(profile):
        size = payoffs.shape[1 + i]
        if np.ndim(p) == 0:
            k = int(p)
            if not 0 <= k < size:
                raise ValueError(f"profile[{i}]={k} is not a strategy index in [0, {size})")
            vec = np.zeros(size)
            vec[k] = 1.0
        else:
            vec = np.asarray(p, dtype=np.float64).reshape(-1)
            if vec.shape != (size,):
                raise ValueError(f"profile[{i}] has length {vec.size}; player {i} has {size} strategies")
            if np.any(vec < -tol) or abs(vec.sum() - 1.0) > max(tol, 1e-9) or not np.all(np.isfinite(vec)):
                raise ValueError(f"profile[{i}]={vec} is not a probability vector (tol={tol})")
            vec = np.clip(vec, 0.0, None)
            vec = vec / vec.sum()
        out.append(vec)
    return out


def pure_profile(payoffs: np.ndarray, actions: Sequence[int]) -> list[np.ndarray]:
    """Unit-vector profile for the pure strategy profile ``actions``."""
    return as_profile(np.asarray(payoffs), [int(a) for a in actions])


def uniform_profile(payoffs: np.ndarray) -> list[np.ndarray]:
    """Every player mixes uniformly."""
    return [np.full(s, 1.0 / s) for s in np.shape(payoffs)[1:]]


def support(strategy: np.ndarray, *, tol: float = 1e-9) -> np.ndarray:
    """Indices with probability above ``tol``."""
    return np.flatnonzero(np.asarray(strategy) > tol)


def deviation_payoffs(payoffs: np.ndarray, profile: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``out[i][a]``: player ``i``'s expected payoff for pure strategy ``a`` when the others play ``profile``."""
    n = payoffs.shape[0]
    out = []
    for i in range(n):
        t = payoffs[i]
        # Contract every axis but i, from the last to the first so axis numbers stay valid.
        for j in range(n - 1, -1, -1):
            if j != i:
                t = np.tensordot(t, profile[j], axes=([j], [0]))
        out.append(np.asarray(t, dtype=np.float64))
    return out


def expected_payoffs(payoffs: np.ndarray | Sequence, profile: Sequence) -> np.ndarray:
    """Expected payoff of each player under the mixed profile (shape ``(n_players,)``)."""
    arr = as_payoffs(payoffs)
    prof = as_profile(arr, profile)
    dev = deviation_payoffs(arr, prof)
    return np.array([float(dev[i] @ prof[i]) for i in range(arr.shape[0])])


def regret(payoffs: np.ndarray | Sequence, profile: Sequence) -> np.ndarray:
    """Per-player regret: best-response payoff minus payoff of ``profile`` (shape ``(n_players,)``, >= 0)."""
    arr = as_payoffs(payoffs)
    prof = as_profile(arr, profile)
    dev = deviation_payoffs(arr, prof)
    return np.array([max(0.0, float(dev[i].max() - dev[i] @ prof[i])) for i in range(arr.shape[0])])


def nash_conv(payoffs: np.ndarray | Sequence, profile: Sequence) -> float:
    """Sum of per-player regrets (Lanctot et al., 2017); zero exactly at a Nash equilibrium."""
    return float(regret(payoffs, profile).sum())


def mixture_regret(payoffs: np.ndarray | Sequence, profile: Sequence) -> float:
    """Largest per-player regret of the mixture (the epsilon of an epsilon-Nash equilibrium)."""
    return float(regret(payoffs, profile).max())


def is_nash(payoffs: np.ndarray | Sequence, profile: Sequence, *, tol: float = 1e-8) -> bool:
    """True when no player gains more than ``tol`` times the payoff range (:func:`payoff_range`) by deviating
    (Nash, 1951)."""
    return mixture_regret(normalize(payoffs).unit, profile) <= tol


def merge_duplicates(payoffs: np.ndarray | Sequence, *, tol: float = 0.0
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The game with payoff-equivalent strategies merged, and each player's kept strategy indices.

    Strategy ``k`` of player ``p`` duplicates an earlier ``j`` when every player's payoff is the same (within
    ``tol`` times the payoff range) whichever the others play; only the first of each class is kept. PSRO
    meta-games are full of such copies (an oracle returns the same best response again), which make the game
    degenerate and slow down every n-player method. An equilibrium of the reduced game, with zeros at the dropped
    strategies, is one of the original game with the same regrets (see :func:`expand_profile`).
    """
    arr = as_payoffs(payoffs)
    atol = tol * payoff_range(arr)
    kept: list[np.ndarray] = []
    for p in range(arr.shape[0]):
        slices = np.moveaxis(arr, 1 + p, 0)
        keep: list[int] = []
        for k in range(slices.shape[0]):
            if not any(np.allclose(slices[k], slices[j], rtol=0.0, atol=atol) for j in keep):
                keep.append(k)
        kept.append(np.asarray(keep))
    return arr[np.ix_(np.arange(arr.shape[0]), *kept)], kept


def expand_profile(profile: Sequence[np.ndarray], kept: Sequence[np.ndarray], sizes: Sequence[int]
                   ) -> list[np.ndarray]:
    """A profile of the reduced game of :func:`merge_duplicates` as a profile of the original game."""
    out = []
    for x, idx, size in zip(profile, kept, sizes):
        full = np.zeros(int(size))
        full[np.asarray(idx)] = np.asarray(x, dtype=float)
        out.append(full)
    return out
