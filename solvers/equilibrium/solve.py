"""One entry point for Nash equilibria of any normal-form game: :func:`nash` (one verified equilibrium by a
named method) and :func:`all_nash` (every equilibrium of a small game, deduplicated).

Every profile returned here has largest regret <= ``tol`` on the given payoffs; otherwise
:class:`EquilibriumNotFoundError` is raised.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from solvers.equilibrium.core import as_payoffs, mixture_regret
from solvers.equilibrium.dynamics import fictitious_play, replicator_dynamics
from solvers.equilibrium.n_player import mclennan_tourky, polish, support_enumeration
from solvers.equilibrium.two_player import (EquilibriumNotFoundError, deduplicate, lemke_howson, lemke_howson_all,
                                            nashpy_equilibria, pure_nash)
from solvers.equilibrium.zero_sum import is_zero_sum, solve_zero_sum

logger = logging.getLogger(__name__)

__all__ = ["NASH_METHODS", "nash", "all_nash"]

NASH_METHODS = ("auto", "pure", "lemke_howson", "lp", "support_enumeration", "mclennan_tourky", "replicator",
                "fictitious_play", "nashpy_support_enumeration", "nashpy_vertex_enumeration", "nashpy_lemke_howson")


def _verify(arr: np.ndarray, prof: Sequence[np.ndarray], tol: float, method: str) -> list[np.ndarray]:
    prof = [np.asarray(p, float) for p in prof]
    if mixture_regret(arr, prof) <= tol:
        return prof
    fixed = polish(arr, prof, tol=tol)
    if fixed is None:
        raise EquilibriumNotFoundError(
            f"method={method!r} returned a profile with regret {mixture_regret(arr, prof):.3g} > tol={tol}")
    return fixed


def nash(payoffs: np.ndarray | Sequence, *, method: str = "auto", tol: float = 1e-8, timeout: float = 10.0,
         seed: int = 0) -> list[np.ndarray]:
    """One Nash equilibrium, verified (largest regret <= ``tol``).

    Methods (see :data:`NASH_METHODS`): ``auto`` picks the zero-sum LP for 2-player zero-sum games,
    Lemke-Howson (quantecon, numba) for other 2-player games, and for n >= 3 players a pure equilibrium, then
    support enumeration (small games, Porter-Nudelman-Shoham 2008), then McLennan-Tourky; ``replicator`` and
    ``fictitious_play`` run the dynamics and succeed only if their end point (polished) is an equilibrium;
    ``nashpy_*`` run nashpy bounded by ``timeout`` seconds. ``seed`` fixes perturbations and random starts.

    Raises:
        ValueError: unknown method, or a 2-player-only method on an n-player game.
        EquilibriumNotFoundError: the method found nothing verified.
    """
    arr = as_payoffs(payoffs)
    n = arr.shape[0]
    if method not in NASH_METHODS:
        raise ValueError(f"method={method!r}; choose one of {NASH_METHODS}")
    two_only = {"lemke_howson", "lp", "nashpy_support_enumeration", "nashpy_vertex_enumeration", "nashpy_lemke_howson"}
    if method in two_only and n != 2:
        raise ValueError(f"method={method!r} solves 2-player games only; payoffs has {n} players")
    if method == "auto":
        if n == 2:
            if is_zero_sum(arr):
                try:
                    return _verify(arr, solve_zero_sum(arr).profile, tol, "lp")
                except EquilibriumNotFoundError:
                    logger.info("zero-sum LP not within tol; falling back to Lemke-Howson")
            return lemke_howson(arr, tol=tol, seed=seed)
        pures = pure_nash(arr, tol=tol)
        if pures:
            return [np.eye(s)[a] for s, a in zip(arr.shape[1:], pures[0])]
        if np.prod([2.0 ** s - 1 for s in arr.shape[1:]]) <= 5000:
            found = support_enumeration(arr, tol=tol, first_only=True, seed=seed)
            if found:
                return found[0]
        return mclennan_tourky(arr, tol=tol)
    if method == "pure":
        pures = pure_nash(arr, tol=tol)
        if not pures:
            raise EquilibriumNotFoundError("the game has no pure-strategy equilibrium")
        return [np.eye(s)[a] for s, a in zip(arr.shape[1:], pures[0])]
    if method == "lemke_howson":
        return lemke_howson(arr, tol=tol, seed=seed)
    if method == "lp":
        return _verify(arr, solve_zero_sum(arr).profile, tol, method)
    if method == "support_enumeration":
        found = support_enumeration(arr, tol=tol, first_only=True, seed=seed)
        if not found:
            raise EquilibriumNotFoundError("support enumeration found no equilibrium")
        return found[0]
    if method == "mclennan_tourky":
        return mclennan_tourky(arr, tol=tol)
    if method == "replicator":
        traj = replicator_dynamics(arr, steps=20000, dt=0.01, record_every=20000)
        return _verify(arr, traj.final, tol, method)
    if method == "fictitious_play":
        traj = fictitious_play(arr, iterations=5000)
        return _verify(arr, traj.final, tol, method)
    found = nashpy_equilibria(arr, method=method[len("nashpy_"):], timeout=timeout, tol=tol, seed=seed)
    if not found:
        raise EquilibriumNotFoundError(f"{method}: nothing verified within timeout={timeout} s")
    return found[0]


def all_nash(payoffs: np.ndarray | Sequence, *, tol: float = 1e-8, dedup_tol: float = 1e-6,
             max_supports: int = 200_000, seed: int = 0) -> list[list[np.ndarray]]:
    """Every equilibrium of a small game, verified and deduplicated (within ``dedup_tol``): support enumeration
    (exact for 2 players; for n >= 3 a polynomial system per support, solved from several starts), plus, for
    2 players, the equilibria Lemke-Howson reaches from every label. Degenerate games with continua of
    equilibria get one representative per support profile. Pure equilibria come first.

    Raises:
        ValueError: more than ``max_supports`` support profiles (too large to enumerate).
    """
    arr = as_payoffs(payoffs)
    found = support_enumeration(arr, tol=tol, max_supports=max_supports, seed=seed, dedup_tol=dedup_tol)
    if arr.shape[0] == 2:
        found += lemke_howson_all(arr, tol=tol)
    return deduplicate(found, tol=dedup_tol)
