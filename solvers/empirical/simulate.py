"""Monte Carlo play of one strategy profile on any OpenSpiel game (sequential or simultaneous, with chance).

All randomness (chance outcomes, the strategies' mixed actions, seat permutations) comes from the injected
``numpy.random.Generator``: the same generator state gives the same returns.
"""
from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any, Sequence

import numpy as np

__all__ = ["play_episode", "BatchStats", "simulate_batch", "SimulationSpec", "load_game"]


def _draw(probs: Any, rng: np.random.Generator) -> int:
    """One action from ``{action: prob}`` or ``[(action, prob), ...]``, by inverse CDF on one uniform draw."""
    items = list(probs.items()) if isinstance(probs, dict) else list(probs)
    if not items:
        raise ValueError("a strategy returned no action probabilities")
    actions = [int(a) for a, _ in items]
    p = np.array([float(q) for _, q in items])
    total = p.sum()
    if not total > 0 or np.any(p < 0):
        raise ValueError(f"invalid action probabilities {dict(items)}")
    k = int(np.searchsorted(np.cumsum(p), rng.random() * total, side="right"))
    return actions[min(k, len(actions) - 1)]


def play_episode(game: Any, seats: Sequence[Any], rng: np.random.Generator) -> np.ndarray:
    """Play one episode with ``seats[p]`` acting for player ``p``; returns ``state.returns()``."""
    state = game.new_initial_state()
    while not state.is_terminal():
        if state.is_chance_node():
            state.apply_action(_draw(state.chance_outcomes(), rng))
        elif state.is_simultaneous_node():
            joint = [_draw(seats[p].action_probabilities(state, p), rng) if state.legal_actions(p) else 0
                     for p in range(len(seats))]
            state.apply_actions(joint)
        else:
            p = state.current_player()
            state.apply_action(_draw(seats[p].action_probabilities(state, p), rng))
    return np.asarray(state.returns(), dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class BatchStats:
    """Sufficient statistics of a batch, per player (or per slot of a symmetric cell): count, mean, sum of
    squared deviations (``m2``), the raw samples ``(count, n)`` if kept, and the CPU seconds the batch took in
    its worker (diagnostics only; never part of the estimates)."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    samples: np.ndarray | None = None
    cpu_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class SimulationSpec:
    """Everything a worker needs, picklable: the game string (``str(game)``), modules to import first (to
    register Python games), the strategies (``strategies[p][k]``, or one list for a symmetric game)."""

    game_string: str
    strategies: tuple
    symmetric: bool
    n_players: int
    imports: tuple[str, ...] = ()
    keep_samples: bool = False


def load_game(game_string: str, imports: Sequence[str] = ()) -> Any:
    import pyspiel

    for module in imports:
        importlib.import_module(module)
    return pyspiel.load_game(game_string)


def simulate_batch(spec: SimulationSpec, game: Any, cell: tuple[int, ...], size: int,
                   rng: np.random.Generator) -> BatchStats:
    """``size`` episodes of ``cell`` (strategy indices per player, or a sorted multiset for a symmetric game,
    where each episode seats the strategies in a random order and every player's return is credited to the slot
    of its strategy, averaged over the slots sharing that strategy)."""
    n = spec.n_players
    start = time.process_time()
    out = np.empty((size, n))
    if not spec.symmetric:
        seats = [spec.strategies[p][k] for p, k in enumerate(cell)]
        for t in range(size):
            out[t] = play_episode(game, seats, rng)
    else:
        cell_arr = np.asarray(cell)
        same = [np.flatnonzero(cell_arr == cell_arr[k]) for k in range(n)]
        for t in range(size):
            perm = rng.permutation(n)  # slot k sits in seat perm[k]
            seats = [None] * n
            for k in range(n):
                seats[perm[k]] = spec.strategies[cell[k]]
            ret = play_episode(game, seats, rng)
            by_slot = ret[perm]
            out[t] = [by_slot[s].mean() for s in same]
    mean = out.mean(axis=0)
    m2 = ((out - mean) ** 2).sum(axis=0)
    return BatchStats(count=size, mean=mean, m2=m2, samples=out if spec.keep_samples else None,
                      cpu_seconds=time.process_time() - start)
