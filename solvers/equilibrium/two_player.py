"""Two-player Nash equilibria: pure check, Lemke-Howson (quantecon, numba), bounded nashpy methods.

References:
    Lemke & Howson (1964), "Equilibrium points of bimatrix games", SIAM J. Appl. Math. 12(2).
    Codenotti, De Rossi & Pagan (2008), "An experimental analysis of Lemke-Howson algorithm", arXiv:0811.3247.
    von Stengel (2007), "Equilibrium computation for two-player games in strategic and extensive form", AGT ch. 3
    (support enumeration, vertex enumeration).
    Knight & Campbell (2018), "Nashpy: a Python library for the computation of Nash equilibria", JOSS 3(30).

Every ``tol`` and ``perturbation`` is relative to the payoff range: each solver works on the payoffs mapped onto
``[0, 1]`` (:func:`solvers.equilibrium.core.normalize`), so scaling or shifting a game changes no answer.
"""
from __future__ import annotations

import logging
from typing import Iterator, Sequence

import numpy as np

from marketgames.seeding import SeedLike, as_generator
from solvers.equilibrium.bounded import BoundedRun, run_bounded
from solvers.equilibrium.core import as_payoffs, bimatrix, mixture_regret, normalize

logger = logging.getLogger(__name__)

__all__ = [
    "EquilibriumNotFoundError", "pure_nash", "lemke_howson", "lemke_howson_all", "nashpy_equilibria",
    "NASHPY_METHODS", "deduplicate", "trivial_equilibria",
]

NASHPY_METHODS = ("support_enumeration", "vertex_enumeration", "lemke_howson")


class EquilibriumNotFoundError(RuntimeError):
    """No verified equilibrium was found (the message says which method and what was tried)."""


def pure_nash(payoffs: np.ndarray | Sequence, *, tol: float = 1e-8) -> list[tuple[int, ...]]:
    """All pure-strategy Nash equilibria of an n-player game, by direct check of every profile (row-major order).

    A profile is an equilibrium when every player's payoff is within ``tol`` times the payoff range of their best
    unilateral deviation.
    """
    arr = normalize(payoffs).unit
    n = arr.shape[0]
    ok = np.ones(arr.shape[1:], dtype=bool)
    for i in range(n):
        best = arr[i].max(axis=i, keepdims=True)
        ok &= arr[i] >= best - tol
    return [tuple(int(a) for a in idx) for idx in np.argwhere(ok)]


def _unit(size: int, k: int) -> np.ndarray:
    v = np.zeros(size)
    v[k] = 1.0
    return v


def deduplicate(profiles: Sequence[Sequence[np.ndarray]], *, tol: float = 1e-6) -> list[list[np.ndarray]]:
    """Drop profiles within ``tol`` (max-abs over all probabilities) of an earlier one; order is kept."""
    kept: list[list[np.ndarray]] = []
    flat: list[np.ndarray] = []
    for prof in profiles:
        vec = np.concatenate([np.asarray(p, dtype=float) for p in prof])
        if all(vec.shape != f.shape or np.max(np.abs(vec - f)) > tol for f in flat):
            kept.append([np.asarray(p, dtype=float) for p in prof])
            flat.append(vec)
    return kept


def trivial_equilibria(payoffs: np.ndarray, *, tol: float = 1e-8) -> list[list[np.ndarray]] | None:
    """Equilibria of games where some player has a single strategy (1 x n, m x 1): the others' pure best
    responses. ``None`` when the game is not of that kind. (nashpy hangs or raises on these.)"""
    payoffs = as_payoffs(payoffs)
    if min(payoffs.shape[1:]) > 1:
        return None
    return [[_unit(s, a) for s, a in zip(payoffs.shape[1:], prof)] for prof in pure_nash(payoffs, tol=tol)]


def _qe_game(A: np.ndarray, B: np.ndarray):
    from quantecon.game_theory import NormalFormGame, Player

    # fresh writable C-contiguous copies: numba's kernels reject read-only arrays
    return NormalFormGame((Player(np.array(A, dtype=np.float64, order="C")),
                           Player(np.array(B.T, dtype=np.float64, order="C"))))


def lemke_howson(payoffs: np.ndarray | Sequence, *, init_pivot: int = 0, max_iter: int = 10**6,
                 capping: int | None = 10, tol: float = 1e-8, perturbation: float = 1e-9,
                 seed: SeedLike = 0) -> list[np.ndarray]:
    """One Nash equilibrium of a bimatrix game by Lemke-Howson (quantecon's numba implementation, lexicographic
    ratio test), with the capping heuristic of Codenotti et al. (2008) over all initial pivots.

    The result is verified (largest regret <= ``tol`` times the payoff range); if a run fails (cap reached,
    numerical trouble) the other initial pivots are tried, then a copy of the game perturbed by ``perturbation``
    times its payoff range (``seed`` fixes the noise), still verified against the original payoffs.

    Raises:
        EquilibriumNotFoundError: nothing verified.
    """
    arr = normalize(payoffs).unit
    A, B = bimatrix(arr)
    trivial = trivial_equilibria(arr, tol=tol)
    if trivial:
        return trivial[0]
    m, n = A.shape
    if not 0 <= init_pivot < m + n:
        raise ValueError(f"init_pivot={init_pivot}; must be in [0, {m + n})")
    from quantecon.game_theory import lemke_howson as qe_lh

    rng = as_generator(seed)
    attempts = [(A, B, k) for k in [init_pivot] + [k for k in range(m + n) if k != init_pivot]]
    best: tuple[float, list[np.ndarray]] | None = None
    for attempt, (A_, B_, k) in enumerate(attempts):
        try:
            ne, res = qe_lh(_qe_game(A_, B_), init_pivot=k, max_iter=max_iter, capping=capping, full_output=True)
        except Exception as exc:  # numerical failure inside the pivoting
            logger.debug("quantecon lemke_howson pivot %d failed: %s", k, exc)
            continue
        prof = [np.asarray(ne[0], float), np.asarray(ne[1], float)]
        if not all(np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-6 for p in prof):
            continue
        reg = mixture_regret(arr, prof)
        if reg <= tol:
            return prof
        if best is None or reg < best[0]:
            best = (reg, prof)
        if attempt == 0 and capping is not None:
            # with capping, quantecon already cycled through all pivots: go straight to perturbation
            break
    for _ in range(3):
        noise = perturbation  # the unit game has range 1
        A_p = A + noise * rng.standard_normal(A.shape)
        B_p = B + noise * rng.standard_normal(B.shape)
        ne = qe_lh(_qe_game(A_p, B_p), init_pivot=init_pivot, max_iter=max_iter, capping=capping)
        prof = [np.asarray(ne[0], float), np.asarray(ne[1], float)]
        if all(np.all(np.isfinite(p)) for p in prof) and mixture_regret(arr, prof) <= tol:
            return prof
    raise EquilibriumNotFoundError(
        f"Lemke-Howson found no equilibrium with regret <= tol={tol} (relative to the payoff range) on a {m}x{n} "
        f"game (best relative regret {best[0] if best else float('nan'):.3g})")


def lemke_howson_all(payoffs: np.ndarray | Sequence, *, max_iter: int = 10**6, tol: float = 1e-8,
                     dedup_tol: float = 1e-6) -> list[list[np.ndarray]]:
    """Equilibria reached by Lemke-Howson from every initial pivot (label), verified and deduplicated.

    Not guaranteed to find all equilibria (Shapley, 1974: LH reaches an odd number of them). ``tol`` is relative
    to the payoff range."""
    arr = normalize(payoffs).unit
    A, B = bimatrix(arr)
    trivial = trivial_equilibria(arr, tol=tol)
    if trivial is not None:
        return deduplicate(trivial, tol=dedup_tol)
    from quantecon.game_theory import lemke_howson as qe_lh

    g = _qe_game(A, B)
    found = []
    for k in range(sum(A.shape)):
        ne, res = qe_lh(g, init_pivot=k, max_iter=max_iter, full_output=True)
        prof = [np.asarray(ne[0], float), np.asarray(ne[1], float)]
        if res.converged and all(np.all(np.isfinite(p)) for p in prof) and mixture_regret(arr, prof) <= tol:
            found.append(prof)
    return deduplicate(found, tol=dedup_tol)


# ---------------------------------------------------------------------------------------------- nashpy, bounded
def _nashpy_generate(A: np.ndarray, B: np.ndarray, method: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Runs inside the worker process: yields nashpy's equilibria one by one."""
    import warnings

    import nashpy

    warnings.filterwarnings("ignore")
    game = nashpy.Game(A, B)
    if method == "support_enumeration":
        yield from game.support_enumeration()
    elif method == "vertex_enumeration":
        yield from game.vertex_enumeration()
    elif method == "lemke_howson":
        for label in range(sum(A.shape)):
            yield game.lemke_howson(initial_dropped_label=label)
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)


def nashpy_run(payoffs: np.ndarray | Sequence, *, method: str, timeout: float = 10.0,
               mp_context: str | None = None) -> BoundedRun:
    """Raw bounded nashpy call: ``method`` in :data:`NASHPY_METHODS` (``lemke_howson`` runs every initial
    dropped label), in a killable process with a wall-clock ``timeout``. Items are unverified ``(x, y)`` pairs."""
    if method not in NASHPY_METHODS:
        raise ValueError(f"method={method!r}; choose one of {NASHPY_METHODS}")
    A, B = bimatrix(as_payoffs(payoffs))
    return run_bounded(_nashpy_generate, (A, B, method), timeout=timeout, mp_context=mp_context)


def _verified(arr: np.ndarray, items: Sequence, tol: float, *, polish_items: bool = False) -> list[list[np.ndarray]]:
    """Items that are equilibria of ``arr`` within ``tol`` (after re-solving on their support if
    ``polish_items``, for equilibria of a perturbed copy)."""
    from solvers.equilibrium.n_player import polish
    out = []
    for item in items:
        try:
            prof = [np.asarray(item[0], float).reshape(-1), np.asarray(item[1], float).reshape(-1)]
        except Exception:
            continue
        if any(p.shape != (s,) or not np.all(np.isfinite(p)) or p.min() < -1e-9 or abs(p.sum() - 1) > 1e-6
               for p, s in zip(prof, arr.shape[1:])):
            continue
        prof = [np.clip(p, 0, None) / np.clip(p, 0, None).sum() for p in prof]
        if mixture_regret(arr, prof) <= tol:
            out.append(prof)
        elif polish_items:
            fixed = polish(arr, prof, tol=tol)
            if fixed is not None:
                out.append(fixed)
    return out


def nashpy_equilibria(payoffs: np.ndarray | Sequence, *, method: str = "support_enumeration", timeout: float = 10.0,
                      tol: float = 1e-8, dedup_tol: float = 1e-6, perturbation: float = 1e-10, seed: SeedLike = 0,
                      mp_context: str | None = None) -> list[list[np.ndarray]]:
    """Verified, deduplicated equilibria from one of nashpy's methods, each call bounded by ``timeout`` seconds.

    nashpy runs on the payoffs mapped onto ``[0, 1]``; ``tol`` is relative to the payoff range. Games where a
    player has one strategy are solved directly (nashpy hangs or raises on them). When nashpy errors or returns
    nothing verified (degenerate games), it is re-run on copies perturbed by ``perturbation``, then 1e-6, then 1e-3
    times the payoff range (``seed`` fixes the noise); their equilibria are re-solved on their supports in the
    original game (:func:`solvers.equilibrium.n_player.polish`) and verified there. Results found before a timeout
    are kept; a timeout with nothing verified returns ``[]`` (logged).
    """
    arr = normalize(payoffs).unit
    if arr.shape[0] != 2:
        raise ValueError(f"payoffs has {arr.shape[0]} players; nashpy solves 2-player games only")
    trivial = trivial_equilibria(arr, tol=tol)
    if trivial is not None:
        return deduplicate(trivial, tol=dedup_tol)
    run = nashpy_run(arr, method=method, timeout=timeout, mp_context=mp_context)
    found = _verified(arr, run.items, tol)
    rng = as_generator(seed)
    for eps in (perturbation, 1e-6, 1e-3):
        left = timeout - run.seconds
        if found or run.timed_out or left <= 0:
            break
        logger.info("nashpy %s: %s; retrying on a game perturbed by %g", method, run.error or "nothing verified",
                    eps)
        perturbed = arr + eps * rng.standard_normal(arr.shape)
        run = nashpy_run(perturbed, method=method, timeout=left, mp_context=mp_context)
        found = _verified(arr, run.items, tol, polish_items=True)
    if run.timed_out and not found:
        logger.warning("nashpy %s timed out after %.1f s with no verified equilibrium", method, timeout)
    return deduplicate(found, tol=dedup_tol)
