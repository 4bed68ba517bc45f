"""Nash equilibria of n-player normal-form games: support enumeration with a polynomial system per support
profile, polishing of approximate equilibria, and McLennan-Tourky's fixed-point iteration.

References:
    Porter, Nudelman & Shoham (2008), "Simple search methods for finding a Nash equilibrium", Games and Economic
    Behavior 63(2): support profiles by increasing size and balance, pruned by conditional strict dominance; on
    each support the indifference conditions form a polynomial system (solved here by bounded least squares,
    scipy's trust-region reflective method, from several starts).
    McLennan & Tourky (2006), "From imitation games to Kakutani" (quantecon's ``mclennan_tourky``).
    Fischer (1992), "A special Newton-type optimization method", Optimization 24: the complementarity function
    used by :func:`complementarity_polish` (Nash equilibria as solutions of a nonlinear complementarity problem,
    McKelvey & McLennan 1996, "Computation of equilibria in finite games").

Every ``tol`` (and McLennan-Tourky's ``epsilon``) is relative to the payoff range: each public function works on
the payoffs mapped onto ``[0, 1]`` (:func:`solvers.equilibrium.core.normalize`), so the residual bounds inside are
relative too and scaling or shifting a game changes no answer.
"""
from __future__ import annotations

import itertools
import logging
from typing import Any, Iterator, Sequence

import numpy as np
from scipy import optimize

from marketgames.seeding import SeedLike, as_generator
from solvers.equilibrium.core import as_profile, deviation_payoffs, mixture_regret, normalize
from solvers.equilibrium.two_player import EquilibriumNotFoundError, deduplicate, pure_nash

logger = logging.getLogger(__name__)

__all__ = ["solve_support", "polish", "complementarity_polish", "support_profiles", "support_enumeration",
           "mclennan_tourky"]


def _expand(sizes: Sequence[int], supports: Sequence[np.ndarray], z: np.ndarray) -> list[np.ndarray]:
    out, pos = [], 0
    for s, sup in zip(sizes, supports):
        v = np.zeros(s)
        v[sup] = z[pos:pos + len(sup)]
        pos += len(sup)
        out.append(v)
    return out


def _solve_two_player(arr: np.ndarray, supports: Sequence[np.ndarray]) -> list[np.ndarray] | None:
    """Linear indifference system of a bimatrix game on supports (I, J); least squares for unequal sizes.
    ``arr`` has unit payoff range, so the residual bound is relative."""
    I, J = supports
    A, B = arr[0], arr[1]
    out = []
    # y on J makes the row player indifferent over I; x on I makes the column player indifferent over J.
    for M, rows, cols in ((A[np.ix_(I, J)], I, J), (B[np.ix_(I, J)].T, J, I)):
        k = len(cols)
        lhs = np.zeros((len(rows) + 1, k + 1))
        lhs[:len(rows), :k] = M
        lhs[:len(rows), k] = -1.0
        lhs[len(rows), :k] = 1.0
        rhs = np.zeros(len(rows) + 1)
        rhs[-1] = 1.0
        sol, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
        if np.max(np.abs(lhs @ sol - rhs)) > 1e-9:
            return None
        out.append(sol[:k])
    y, x = out
    return _expand(arr.shape[1:], supports, np.concatenate([x, y]))


def solve_support(payoffs: np.ndarray, supports: Sequence[Sequence[int] | np.ndarray], *,
                  x0: Sequence[np.ndarray] | None = None, starts: int = 3, seed: SeedLike = 0,
                  tol: float = 1e-8) -> list[list[np.ndarray]]:
    """Profiles with the given supports where each player is indifferent over their support, found from
    ``starts`` starting points (``x0`` first, then uniform, then Dirichlet draws from ``seed``). Returned profiles
    are verified Nash equilibria (largest regret <= ``tol`` times the payoff range); may be empty.
    """
    arr = normalize(payoffs).unit
    sizes = arr.shape[1:]
    sups = [np.asarray(s, dtype=int) for s in supports]
    n = arr.shape[0]
    if n == 2:
        prof = _solve_two_player(arr, sups)
        cands = [] if prof is None else [prof]
    else:
        sub = arr[(slice(None),) + np.ix_(*sups)]
        k = [len(s) for s in sups]

        def residual(z: np.ndarray) -> np.ndarray:
            xs, pos = [], 0
            for ki in k:
                xs.append(z[pos:pos + ki])
                pos += ki
            v = z[pos:]
            dev = deviation_payoffs(sub, xs)
            return np.concatenate([dev[i] - v[i] for i in range(n)] + [np.array([x.sum() - 1.0]) for x in xs])

        rng = as_generator(seed)
        inits = []
        if x0 is not None:
            inits.append([np.asarray(p, float)[s] for p, s in zip(x0, sups)])
        inits.append([np.full(ki, 1.0 / ki) for ki in k])
        while len(inits) < max(starts, 1) + (x0 is not None):
            inits.append([rng.dirichlet(np.ones(ki)) for ki in k])
        lo = np.concatenate([np.zeros(sum(k)), np.full(n, -np.inf)])
        hi = np.concatenate([np.ones(sum(k)), np.full(n, np.inf)])
        cands = []
        for xs in inits:
            v0 = np.array([d @ x for d, x in zip(deviation_payoffs(sub, xs), xs)])
            z0 = np.clip(np.concatenate(xs + [v0]), lo, hi)
            try:
                res = optimize.least_squares(residual, z0, bounds=(lo, hi), xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                             max_nfev=200)
            except ValueError:
                continue
            if np.max(np.abs(res.fun)) < 1e-7:
                cands.append(_expand(sizes, sups, res.x[:sum(k)]))
    out = []
    for prof in cands:
        if any(p.min() < -1e-9 or not np.all(np.isfinite(p)) for p in prof):
            continue
        prof = [np.clip(p, 0, None) / np.clip(p, 0, None).sum() for p in prof]
        if mixture_regret(arr, prof) <= tol:
            out.append(prof)
    return deduplicate(out)


def polish(payoffs: np.ndarray | Sequence, profile: Sequence, *, support_tol: float | Sequence[float] = 1e-4,
           tol: float = 1e-8) -> list[np.ndarray] | None:
    """Turn an approximate equilibrium into an exact one: re-solve the indifference system on its support
    (probabilities above ``support_tol``, or above each of several thresholds in turn), starting from it, and
    failing that refine it without a support guess (:func:`complementarity_polish`). ``None`` when the result's
    regret exceeds ``tol`` times the payoff range."""
    arr = normalize(payoffs).unit
    prof = as_profile(arr, profile, tol=1e-6)
    if mixture_regret(arr, prof) <= tol:
        return prof
    tried = set()
    for threshold in np.atleast_1d(np.asarray(support_tol, dtype=float)):
        sups = tuple(tuple(np.flatnonzero(p > threshold).tolist()) for p in prof)
        if sups in tried or not all(sups):
            continue
        tried.add(sups)
        sols = solve_support(arr, sups, x0=prof, starts=1, tol=tol)
        if sols:
            return sols[0]
    return complementarity_polish(arr, prof, tol=tol)


def complementarity_polish(payoffs: np.ndarray | Sequence, profile: Sequence, *, tol: float = 1e-8,
                           max_nfev: int = 60) -> list[np.ndarray] | None:
    """Refine an approximate equilibrium to an exact one without guessing its support.

    A profile ``x`` with values ``v`` is a Nash equilibrium iff for every player ``i`` and strategy ``k``:
    ``x_ik >= 0``, ``v_i - u_ik(x_-i) >= 0``, their product is 0, and ``sum_k x_ik = 1`` -- a nonlinear
    complementarity problem. The Fischer-Burmeister function ``phi(a, b) = a + b - sqrt(a^2 + b^2)`` is zero
    exactly when ``a, b >= 0`` and ``ab = 0``, so the equilibria are the zeros of a square system, found here by
    least squares from ``profile`` (payoffs mapped onto ``[0, 1]``). The support falls out of the solution, which
    is what makes this work where support polishing guessed wrong. From a start near an equilibrium it converges in
    a few dozen evaluations; ``max_nfev`` caps the (finite-difference) effort elsewhere. ``None`` unless the result's
    regret <= ``tol`` times the payoff range.
    """
    arr = normalize(payoffs).unit
    prof = as_profile(arr, profile, tol=1e-6)
    n, sizes = arr.shape[0], arr.shape[1:]
    cuts = np.cumsum(sizes)[:-1]

    def residual(z: np.ndarray) -> np.ndarray:
        xs = np.split(z[:-n], cuts)
        dev = deviation_payoffs(arr, xs)
        parts = []
        for i in range(n):
            a, b = xs[i], z[-n + i] - dev[i]
            parts += [a + b - np.sqrt(a * a + b * b), np.array([xs[i].sum() - 1.0])]
        return np.concatenate(parts)

    z0 = np.concatenate(prof + [np.array([d.max() for d in deviation_payoffs(arr, prof)])])
    try:
        res = optimize.least_squares(residual, z0, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=max_nfev)
    except ValueError:  # pragma: no cover - non-finite residuals
        return None
    xs = [np.clip(x, 0.0, None) for x in np.split(res.x[:-n], cuts)]
    if any(not np.isfinite(x).all() or x.sum() <= 0 for x in xs):
        return None
    xs = [x / x.sum() for x in xs]
    return xs if mixture_regret(arr, xs) <= tol else None


def _conditionally_dominated(arr: np.ndarray, sups: Sequence[np.ndarray]) -> bool:
    """Some strategy in a support is strictly dominated, given the others play within their supports."""
    n = arr.shape[0]
    for i in range(n):
        sub = arr[i][np.ix_(*[np.arange(arr.shape[1 + i]) if j == i else sups[j] for j in range(n)])]
        mat = np.moveaxis(sub, i, 0).reshape(sub.shape[i], -1)
        rows = mat[sups[i]]
        # dominated[a] = exists a' with mat[a'] > rows[a] everywhere
        if np.any(np.all(mat[None, :, :] > rows[:, None, :], axis=2).any(axis=1)):
            return True
    return False


def support_profiles(sizes: Sequence[int]) -> Iterator[tuple[np.ndarray, ...]]:
    """All support profiles, by increasing total size then imbalance (Porter, Nudelman & Shoham, 2008)."""
    by_size = {}
    for s in sizes:
        if s not in by_size:
            by_size[s] = [np.array(c) for k in range(1, s + 1) for c in itertools.combinations(range(s), k)]
    keyed = sorted(itertools.product(*[range(len(by_size[s])) for s in sizes]),
                   key=lambda idx: (sum(len(by_size[s][j]) for s, j in zip(sizes, idx)),
                                    max(len(by_size[s][j]) for s, j in zip(sizes, idx))
                                    - min(len(by_size[s][j]) for s, j in zip(sizes, idx))))
    for idx in keyed:
        yield tuple(by_size[s][j] for s, j in zip(sizes, idx))


def support_enumeration(payoffs: np.ndarray | Sequence, *, tol: float = 1e-8, first_only: bool = False,
                        max_supports: int = 200_000, starts: int = 3, seed: SeedLike = 0,
                        dedup_tol: float = 1e-6) -> list[list[np.ndarray]]:
    """Nash equilibria of an n-player game by support enumeration (Porter, Nudelman & Shoham, 2008).

    Pure equilibria come first (direct check). Every returned profile is verified (largest regret <= ``tol``
    times the payoff range).
    For n >= 3 the per-support polynomial system is solved numerically from ``starts`` points, so isolated
    equilibria may in rare cases be missed; for 2 players the system is linear (exact). Degenerate games with
    continua of equilibria give one representative per support profile.

    Raises:
        ValueError: the game has more than ``max_supports`` support profiles.
    """
    arr = normalize(payoffs).unit
    sizes = arr.shape[1:]
    total = int(np.prod([2 ** s - 1 for s in sizes], dtype=float))
    if total > max_supports:
        raise ValueError(f"payoffs of shape {arr.shape} has {total} support profiles > max_supports={max_supports}; "
                         "use lemke_howson (2 players) or mclennan_tourky")
    found = [[np.eye(s)[a] for s, a in zip(sizes, prof)] for prof in pure_nash(arr, tol=tol)]
    if first_only and found:
        return found[:1]
    for sups in support_profiles(sizes):
        if all(len(s) == 1 for s in sups) or _conditionally_dominated(arr, sups):
            continue
        sols = solve_support(arr, sups, starts=starts, seed=seed, tol=tol)
        found.extend(sols)
        if first_only and found:
            break
    return deduplicate(found, tol=dedup_tol)


def mclennan_tourky_epsilon(payoffs: np.ndarray, *, epsilon: float, max_iter: int, init: Sequence | None = None
                            ) -> tuple[list[np.ndarray], Any]:
    """quantecon's McLennan-Tourky iteration on the payoffs mapped onto ``[0, 1]``: an epsilon-equilibrium
    (``epsilon`` relative to the payoff range; unverified) and its result record (quantecon's untyped
    ``NashResult``)."""
    from quantecon.game_theory import NormalFormGame
    from quantecon.game_theory import mclennan_tourky as quantecon_mclennan_tourky

    # quantecon's payoff_profile_array has shape (S_1, ..., S_n, n)
    g = NormalFormGame(np.moveaxis(normalize(payoffs).unit, 0, -1))
    ne, res = quantecon_mclennan_tourky(g, init=init, epsilon=epsilon, max_iter=max_iter, full_output=True)
    return [np.asarray(p, float) for p in ne], res


def mclennan_tourky(payoffs: np.ndarray | Sequence, *, epsilon: float = 1e-4, max_iter: int = 2000,
                    tol: float = 1e-8, init: Sequence | None = None) -> list[np.ndarray]:
    """One Nash equilibrium of an n-player game: McLennan & Tourky's (2006, "From imitation games to Kakutani")
    iteration (quantecon) to an epsilon-equilibrium, then :func:`polish` to an exact one, verified (largest regret
    <= ``tol``; ``tol`` and ``epsilon`` relative to the payoff range).

    The iteration's cost grows with the square of its length (each step solves a growing imitation game), and an
    epsilon-equilibrium usually already has the exact equilibrium's support. So epsilon is tightened in steps,
    ``1e-2, 3e-3, 1e-3, ...`` down to ``epsilon``, polishing (at a few support thresholds) after each, and the
    first verified profile is returned: ~5-10x faster than iterating straight to ``epsilon=1e-4`` on PSRO's
    3-player meta-games.

    Raises:
        EquilibriumNotFoundError: no polished profile is within ``tol``, down to ``epsilon``.
    """
    arr = normalize(payoffs).unit
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon={epsilon!r} is not allowed: expected a number in (0, 1)")
    schedule = [e for e in (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5) if e > epsilon] + [epsilon]
    for eps in schedule:
        prof, res = mclennan_tourky_epsilon(arr, epsilon=eps, max_iter=max_iter, init=init)
        fixed = polish(arr, prof, support_tol=(1e-4, 1e-3, 1e-2), tol=tol)
        if fixed is not None:
            return fixed
    raise EquilibriumNotFoundError(
        f"McLennan-Tourky: relative regret {mixture_regret(arr, prof):.3g} after {res.num_iter} iterations at "
        f"epsilon={epsilon} (converged={res.converged}); polishing did not reach tol={tol}")
