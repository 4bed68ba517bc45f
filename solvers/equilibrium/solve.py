"""One entry point for Nash equilibria of any normal-form game: :func:`nash` (one verified equilibrium by a
named method) and :func:`all_nash` (every equilibrium of a small game, deduplicated).

Every profile returned here has largest regret <= ``tol`` times the payoff range
(:func:`~solvers.equilibrium.core.payoff_range`) on the given payoffs; otherwise :class:`EquilibriumNotFoundError`
is raised. The solvers run on the payoffs mapped onto ``[0, 1]`` (:func:`~solvers.equilibrium.core.normalize`), so
multiplying a game by a positive constant or adding a constant changes no answer.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from marketgames.seeding import SeedLike
from solvers.equilibrium.core import expand_profile, merge_duplicates, mixture_regret, nash_conv, normalize
from solvers.equilibrium.dynamics import fictitious_play, replicator_dynamics
from solvers.equilibrium.n_player import mclennan_tourky, mclennan_tourky_epsilon, polish, support_enumeration
from solvers.equilibrium.two_player import (EquilibriumNotFoundError, deduplicate, lemke_howson, lemke_howson_all,
                                            nashpy_equilibria, pure_nash)
from solvers.equilibrium.zero_sum import is_constant_sum, solve_zero_sum

logger = logging.getLogger(__name__)

__all__ = ["NASH_METHODS", "nash", "approximate_nash", "all_nash"]

NASH_METHODS = ("auto", "pure", "lemke_howson", "lp", "support_enumeration", "mclennan_tourky", "replicator",
                "fictitious_play", "nashpy_support_enumeration", "nashpy_vertex_enumeration", "nashpy_lemke_howson")


def _verify(arr: np.ndarray, prof: Sequence[np.ndarray], tol: float, method: str) -> list[np.ndarray]:
    """``prof`` (polished if need be) as an equilibrium of the unit game ``arr`` within ``tol``."""
    prof = [np.asarray(p, float) for p in prof]
    if mixture_regret(arr, prof) <= tol:
        return prof
    fixed = polish(arr, prof, tol=tol)
    if fixed is None:
        raise EquilibriumNotFoundError(
            f"method={method!r} returned a profile with regret {mixture_regret(arr, prof):.3g} > tol={tol} "
            "(relative to the payoff range)")
    return fixed


def _mixed_n_player(arr: np.ndarray, *, tol: float, seed: SeedLike) -> list[np.ndarray]:
    """A portfolio, cheapest first, every candidate polished to an exact equilibrium (support re-solve, then the
    complementarity refinement) and verified: fictitious play's best time average, McLennan-Tourky (length-capped:
    on degenerate games its cost grows with the square of its length), longer fictitious play, then support
    enumeration (exhaustive) on small games. Each attempt is bounded by iteration counts, not by wall time, so the
    answer does not depend on the machine's speed or load."""

    def from_fictitious_play(iterations: int) -> list[np.ndarray] | None:
        traj = fictitious_play(arr, iterations=iterations)
        for t in np.argsort(traj.nash_conv, kind="stable")[:2].tolist():
            fixed = polish(arr, [p[t] for p in traj.profiles], support_tol=(1e-3, 1e-2, 3e-2, 1e-1), tol=tol)
            if fixed is not None:
                return fixed
        return None

    def from_mclennan_tourky() -> list[np.ndarray] | None:
        try:
            return mclennan_tourky(arr, tol=tol, epsilon=1e-3, max_iter=250)
        except EquilibriumNotFoundError:
            return None

    def from_support_enumeration() -> list[np.ndarray] | None:
        if np.prod([2.0 ** s - 1 for s in arr.shape[1:]]) > 5000:
            return None
        found = support_enumeration(arr, tol=tol, first_only=True, seed=seed)
        return found[0] if found else None

    attempts = [("fictitious play (2,000 rounds)", lambda: from_fictitious_play(2000)),
                ("McLennan-Tourky", from_mclennan_tourky),
                ("fictitious play (20,000 rounds)", lambda: from_fictitious_play(20_000)),
                ("support enumeration", from_support_enumeration)]
    for name, attempt in attempts:
        found = attempt()
        if found is not None:
            return found
        logger.info("n-player Nash: %s found no verified equilibrium", name)
    raise EquilibriumNotFoundError(f"no verified equilibrium within tol={tol} (fictitious play, McLennan-Tourky and, "
                                   "on small games, support enumeration)")


def nash(payoffs: np.ndarray | Sequence, *, method: str = "auto", tol: float = 1e-8, timeout: float = 10.0,
         seed: SeedLike = 0) -> list[np.ndarray]:
    """One Nash equilibrium, verified (largest regret <= ``tol`` times the payoff range).

    Methods (see :data:`NASH_METHODS`): ``auto`` picks the zero-sum LP for 2-player zero-sum (or constant-sum) games,
    Lemke-Howson (quantecon, numba) for other 2-player games, and for n >= 3 players a pure equilibrium, then, on
    the game with payoff-equivalent strategies merged (:func:`~solvers.equilibrium.core.merge_duplicates`),
    fictitious play, McLennan-Tourky, longer fictitious play and (small games) support enumeration
    (Porter-Nudelman-Shoham 2008), each candidate polished to an exact equilibrium, every attempt bounded by
    iteration counts (the answer does not depend on the machine's speed); ``replicator`` and
    ``fictitious_play`` run the dynamics and succeed only if their end point (polished) is an equilibrium;
    ``nashpy_*`` run nashpy bounded by ``timeout`` seconds. ``seed`` fixes perturbations and random starts.

    Raises:
        ValueError: unknown method, or a 2-player-only method on an n-player game.
        EquilibriumNotFoundError: the method found nothing verified.
    """
    arr = normalize(payoffs).unit
    n = arr.shape[0]
    if method not in NASH_METHODS:
        raise ValueError(f"method={method!r}; choose one of {NASH_METHODS}")
    two_only = {"lemke_howson", "lp", "nashpy_support_enumeration", "nashpy_vertex_enumeration", "nashpy_lemke_howson"}
    if method in two_only and n != 2:
        raise ValueError(f"method={method!r} solves 2-player games only; payoffs has {n} players")
    if method == "auto":
        if n == 2:
            if is_constant_sum(arr):
                try:
                    return _verify(arr, solve_zero_sum(arr).profile, tol, "lp")
                except EquilibriumNotFoundError:
                    logger.info("zero-sum LP not within tol; falling back to Lemke-Howson")
            return lemke_howson(arr, tol=tol, seed=seed)
        pures = pure_nash(arr, tol=tol)
        if pures:
            return [np.eye(s)[a] for s, a in zip(arr.shape[1:], pures[0])]
        reduced, kept = merge_duplicates(arr)
        found = _mixed_n_player(reduced, tol=tol, seed=seed)
        return _verify(arr, expand_profile(found, kept, arr.shape[1:]), tol, "auto")
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
        profiles = support_enumeration(arr, tol=tol, first_only=True, seed=seed)
        if not profiles:
            raise EquilibriumNotFoundError("support enumeration found no equilibrium")
        return profiles[0]
    if method == "mclennan_tourky":
        return mclennan_tourky(arr, tol=tol)
    if method == "replicator":
        traj = replicator_dynamics(arr, steps=20000, dt=0.01, record_every=20000)
        return _verify(arr, traj.final, tol, method)
    if method == "fictitious_play":
        traj = fictitious_play(arr, iterations=5000)
        return _verify(arr, traj.final, tol, method)
    profiles = nashpy_equilibria(arr, method=method[len("nashpy_"):], timeout=timeout, tol=tol, seed=seed)
    if not profiles:
        raise EquilibriumNotFoundError(f"{method}: nothing verified within timeout={timeout} s")
    return profiles[0]


def approximate_nash(payoffs: np.ndarray | Sequence, *, iterations: int = 10_000) -> list[np.ndarray]:
    """An approximate equilibrium for games where :func:`nash` finds no verified one: the lower-NashConv of
    fictitious play's best time average over ``iterations`` rounds (Brown 1951) and McLennan-Tourky's
    epsilon-equilibrium (length-capped), polished to an exact equilibrium when that succeeds. Its quality is
    ``nash_conv(payoffs, profile)``; nothing is verified. Runs on the payoffs mapped onto ``[0, 1]``."""
    arr = normalize(payoffs).unit
    reduced, kept = merge_duplicates(arr)
    traj = fictitious_play(reduced, iterations=iterations)
    best = int(np.argmin(traj.nash_conv))
    candidates = [[p[best] for p in traj.profiles]]
    if reduced.shape[0] > 2:
        candidates.append(mclennan_tourky_epsilon(reduced, epsilon=1e-3, max_iter=250)[0])
    prof = min(candidates, key=lambda c: nash_conv(reduced, c))
    return expand_profile(polish(reduced, prof) or prof, kept, arr.shape[1:])


def all_nash(payoffs: np.ndarray | Sequence, *, tol: float = 1e-8, dedup_tol: float = 1e-6,
             max_supports: int = 200_000, seed: SeedLike = 0) -> list[list[np.ndarray]]:
    """Every equilibrium of a small game, verified and deduplicated (within ``dedup_tol``): support enumeration
    (exact for 2 players; for n >= 3 a polynomial system per support, solved from several starts), plus, for
    2 players, the equilibria Lemke-Howson reaches from every label. Degenerate games with continua of
    equilibria get one representative per support profile. Pure equilibria come first. ``tol`` is relative to
    the payoff range, so the answer is the same for ``c * payoffs + d`` (``c > 0``).

    Raises:
        ValueError: more than ``max_supports`` support profiles (too large to enumerate).
    """
    arr = normalize(payoffs).unit
    found = support_enumeration(arr, tol=tol, max_supports=max_supports, seed=seed, dedup_tol=dedup_tol)
    if arr.shape[0] == 2:
        found += lemke_howson_all(arr, tol=tol)
    return deduplicate(found, tol=dedup_tol)
