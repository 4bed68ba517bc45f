"""Monte Carlo play of one strategy profile on any OpenSpiel game (sequential or simultaneous, with chance).

A *simulator* plays episodes of a fixed seating and returns every episode's returns. The default,
:class:`OpenSpielSimulator`, walks OpenSpiel states one episode at a time and works on any game; a game that has a
batched engine can supply its own (e.g. ``marketgames.market.payoffs.BatchedMarketSimulator``, which steps thousands
of markets at once with the same rules). Seat permutations of (role-)symmetric games are drawn here, not by
simulators.

All randomness (chance outcomes, the strategies' mixed actions, seat permutations) comes from the injected
``numpy.random.Generator``: the same generator state gives the same returns.
"""
from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from marketgames.sampling import draw

__all__ = ["play_episode", "Simulator", "OpenSpielSimulator", "BatchStats", "simulate_batch", "SimulationSpec",
           "load_game"]


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
    return actions[draw(p, rng.random())]


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


@runtime_checkable
class Simulator(Protocol):
    """Plays episodes of one seating of a game. Must pickle (it travels to worker processes and Ray tasks).

    ``check(game, strategies)`` raises ``TypeError``/``ValueError`` (naming the offending strategy) when the
    simulator cannot play them on ``game``; it is called when strategies enter an empirical game, so bad input
    fails at once rather than inside a worker. ``returns(game, seats, episodes, rng)`` plays ``episodes`` episodes
    with ``seats[p]`` acting for player ``p`` and returns their returns, shape ``(episodes, num_players)``; it may
    draw from ``rng`` only, so the same generator state gives the same numbers.
    """

    def check(self, game: Any, strategies: Sequence[Any]) -> None: ...

    def returns(self, game: Any, seats: Sequence[Any], episodes: int, rng: np.random.Generator) -> np.ndarray: ...


@dataclasses.dataclass(frozen=True)
class OpenSpielSimulator:
    """The default simulator: :func:`play_episode` in a loop, on any OpenSpiel game and any strategy with
    ``action_probabilities(state, player_id)``."""

    name = "openspiel"

    def check(self, game: Any, strategies: Sequence[Any]) -> None:
        for k, s in enumerate(strategies):
            if not callable(getattr(s, "action_probabilities", None)):
                raise TypeError(f"strategies[{k}]={s!r} has no action_probabilities(state, player_id); pass an "
                                "OpenSpiel policy.Policy or an object with that method")

    def returns(self, game: Any, seats: Sequence[Any], episodes: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((episodes, game.num_players()))
        for t in range(episodes):
            out[t] = play_episode(game, seats, rng)
        return out


@dataclasses.dataclass(frozen=True)
class BatchStats:
    """Sufficient statistics of a batch, per player (per slot of a role-symmetric cell): count, mean, sum of
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
    register Python games), the strategies of each role (``strategies[r][k]``), each player's role (``roles[p]``;
    players of one role are interchangeable) and the :class:`Simulator` that plays them."""

    game_string: str
    strategies: tuple
    roles: tuple[int, ...]
    n_players: int
    imports: tuple[str, ...] = ()
    keep_samples: bool = False
    simulator: Any = OpenSpielSimulator()


def load_game(game_string: str, imports: Sequence[str] = ()) -> Any:
    import pyspiel

    for module in imports:
        importlib.import_module(module)
    return pyspiel.load_game(game_string)


def simulate_batch(spec: SimulationSpec, game: Any, cell: tuple[int, ...], size: int,
                   rng: np.random.Generator) -> BatchStats:
    """``size`` episodes of ``cell`` (a strategy index per player, sorted within each role of several players).

    When a role has several players, every episode seats that role's strategies in a random order among its
    players (all permutations drawn first, from ``rng``); episodes with the same seating go to the simulator
    together, in order of first appearance, and every player's return is credited to the slot of its strategy,
    averaged over the slots of its role sharing that strategy. Without such roles no permutation is drawn.
    """
    n = spec.n_players
    start = time.process_time()
    roles = np.asarray(spec.roles)
    shuffled = [g for g in (np.flatnonzero(roles == r) for r in range(int(roles.max()) + 1)) if len(g) > 1]

    def seats(seating) -> list[Any]:
        return [spec.strategies[roles[p]][k] for p, k in enumerate(seating)]

    if not shuffled:
        out = _checked(spec.simulator.returns(game, seats(cell), size, rng), size, n)
    else:
        cell_arr = np.asarray(cell)
        perms = np.tile(np.arange(n), (size, 1))  # slot k sits in seat perms[t, k]
        for t in range(size):
            for g in shuffled:
                perms[t, g] = g[rng.permutation(len(g))]
        seatings = np.empty_like(perms)  # the strategy index in each seat
        np.put_along_axis(seatings, perms, cell_arr[None, :], axis=1)
        by_slot = np.empty((size, n))
        groups: dict[tuple[int, ...], list[int]] = {}
        for t, seating in enumerate(map(tuple, seatings.tolist())):
            groups.setdefault(seating, []).append(t)
        for seating, episodes in groups.items():
            ret = _checked(spec.simulator.returns(game, seats(seating), len(episodes), rng), len(episodes), n)
            by_slot[episodes] = np.take_along_axis(ret, perms[episodes], axis=1)
        same = [np.flatnonzero((cell_arr == cell_arr[k]) & (roles == roles[k])) for k in range(n)]
        out = np.stack([by_slot[:, s].mean(axis=1) for s in same], axis=1)
    mean = out.mean(axis=0)
    m2 = ((out - mean) ** 2).sum(axis=0)
    return BatchStats(count=size, mean=mean, m2=m2, samples=out if spec.keep_samples else None,
                      cpu_seconds=time.process_time() - start)


def _checked(returns: Any, episodes: int, n: int) -> np.ndarray:
    out = np.asarray(returns, dtype=np.float64)
    if out.shape != (episodes, n):
        raise ValueError(f"the simulator returned shape {out.shape}; expected (episodes, players) = {(episodes, n)}")
    return out
