"""Meta-solvers for PSRO (Lanctot et al., 2017): map a meta-game's payoffs ``(n_players, S_1, ..., S_n)`` to one
probability vector per player.

``meta_solver(name_or_callable)`` returns such a callable; names: ``uniform`` (fictitious play over the
population), ``nash`` (a verified Nash equilibrium, :func:`solvers.equilibrium.solve.nash`, regret within its
``tol`` relative to the meta-game's payoff range; on a game of 3 or more players where its portfolio, bounded by
iteration counts, finds none, the best approximate one, :func:`solvers.equilibrium.solve.approximate_nash`, with
a logged warning), ``prd`` (projected
replicator dynamics), ``alpharank`` (per-player marginals of the alpha-rank distribution, Muller et al., 2020,
"A generalized training approach for multiagent learning").
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

import numpy as np

from marketgames.seeding import SeedLike
from solvers.equilibrium.core import as_payoffs, nash_conv, uniform_profile
from solvers.equilibrium.dynamics import projected_replicator_dynamics
from solvers.equilibrium.graph import alpharank
from solvers.equilibrium.solve import approximate_nash, nash
from solvers.equilibrium.two_player import EquilibriumNotFoundError

__all__ = ["META_SOLVERS", "meta_solver", "nash_meta_solver"]

logger = logging.getLogger(__name__)

MetaSolver = Callable[[np.ndarray], list]


def _uniform(payoffs: np.ndarray) -> list[np.ndarray]:
    return uniform_profile(as_payoffs(payoffs))


def nash_meta_solver(payoffs: np.ndarray, *, seed: SeedLike = 0) -> list[np.ndarray]:
    """The ``nash`` meta-solver: a verified Nash equilibrium (:func:`solvers.equilibrium.solve.nash`, ``seed`` for
    its perturbations and random starts); for 3 or more players, when its portfolio (bounded by iteration counts,
    so the answer does not depend on the machine) finds none, the best approximate one
    (:func:`solvers.equilibrium.solve.approximate_nash`) with a logged warning."""
    try:
        return [np.asarray(p, float) for p in nash(payoffs, seed=seed)]
    except EquilibriumNotFoundError:
        if payoffs.shape[0] == 2:  # two-player methods are complete: this is a bug, not a hard game
            raise
    profile = approximate_nash(payoffs)
    logger.warning("no verified Nash equilibrium of the %s meta-game found; using an approximate one "
                   "(NashConv %.3g on the meta-game)", "x".join(map(str, payoffs.shape[1:])),
                   nash_conv(payoffs, profile))
    return profile


def _prd(payoffs: np.ndarray) -> list[np.ndarray]:
    return projected_replicator_dynamics(payoffs)


def _alpharank(payoffs: np.ndarray) -> list[np.ndarray]:
    return alpharank(payoffs, single_population=False).marginals


META_SOLVERS: dict[str, MetaSolver] = {"uniform": _uniform, "nash": nash_meta_solver, "prd": _prd, "alpharank": _alpharank}


def meta_solver(name_or_callable: str | Callable[[np.ndarray], Sequence[np.ndarray]]) -> MetaSolver:
    """The meta-solver named ``name_or_callable`` (one of :data:`META_SOLVERS`), or the callable itself wrapped
    so its output is validated: a list of ``n`` probability vectors (float arrays) matching the payoffs."""
    inner: Callable[[np.ndarray], Sequence[np.ndarray]]
    if isinstance(name_or_callable, str):
        if name_or_callable not in META_SOLVERS:
            raise ValueError(f"meta_solver={name_or_callable!r}; choose one of {sorted(META_SOLVERS)} or a callable")
        inner = META_SOLVERS[name_or_callable]
    elif callable(name_or_callable):
        inner = name_or_callable
    else:
        raise TypeError(f"meta_solver must be a name or a callable; got {type(name_or_callable).__name__}")

    def solve(payoffs: np.ndarray) -> list[np.ndarray]:
        arr = as_payoffs(payoffs)
        out = [np.asarray(p, dtype=float).reshape(-1) for p in inner(arr)]
        if len(out) != arr.shape[0] or any(p.shape != (s,) for p, s in zip(out, arr.shape[1:])):
            raise ValueError(f"meta-solver returned shapes {[p.shape for p in out]} for payoffs {arr.shape}")
        out = [np.clip(p, 0, None) for p in out]
        return [p / p.sum() for p in out]

    solve.__name__ = f"meta_solver_{getattr(inner, '__name__', 'custom').lstrip('_')}"
    return solve
