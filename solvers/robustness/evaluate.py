"""A strategy's payoff against held-out opponents and mixtures of them, with 95% confidence intervals.

Works on any OpenSpiel game and any strategy with ``action_probabilities(state, player_id)`` (an OpenSpiel policy,
a rule trader of :mod:`marketgames.traders`, a trained agent's ``learner.policy(game, agent)`` from
:mod:`solvers.marl`). The strategy plays ``seat``; an opponent plays every other seat.

Payoffs are computed exactly on the compiled game tree when it is small enough (``method="exact"``;
:func:`solvers.exploitability.exact.policy_values`, interval of width 0) and by simulation otherwise
(``method="sampled"``: a :class:`solvers.empirical.simulate.Simulator`, by default the batched market engine when
the game is ``python_lob_market`` and every seat is batchable, else the OpenSpiel loop). ``method="auto"`` takes the
tree when it can be built within ``max_nodes``.

A mixture of opponents draws one opponent type per episode with the mixture's weights, so its payoff is the
weighted sum of the types' payoffs (and, the estimates being independent, its variance the weighted sum of theirs
with squared weights).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyspiel
from open_spiel.python import policy as os_policy

from marketgames.envs.spaces import market_config
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.seeding import SeedLike, seed_sequence
from solvers.empirical.simulate import OpenSpielSimulator
from solvers.exploitability.exact import policy_table, policy_values
from solvers.exploitability.tree import DEFAULT_MAX_NODES, GameNotSupportedError, GameTree, build_tree
from solvers.stats import mean_halfwidth

logger = logging.getLogger(__name__)

__all__ = ["KINDS", "METHODS", "Estimate", "RobustnessRecord", "RobustnessSummary", "SeatPolicy", "child_seed",
           "evaluate_against",
           "game_tree", "joint_table", "mixture_estimate", "payoff_estimate", "summarize"]

Z95 = 1.959963984540054
METHODS = ("auto", "exact", "sampled")
KINDS = ("held_out", "mixture", "adversary")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval ``[low, high]`` and standard error; ``n`` samples (episodes or seeds), 0 when
    exact."""

    mean: float
    low: float
    high: float
    se: float
    n: int

    @classmethod
    def exact(cls, value: float) -> Estimate:
        return cls(float(value), float(value), float(value), 0.0, 0)

    @classmethod
    def from_samples(cls, samples: Any) -> Estimate:
        """Normal 95% interval of the mean of many episodes."""
        x = np.asarray(samples, np.float64).ravel()
        if x.size < 2:
            raise ValueError(f"samples of size {x.size} are not allowed: a standard error needs at least 2")
        mean, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))
        return cls(mean, mean - Z95 * se, mean + Z95 * se, se, int(x.size))

    @classmethod
    def over_seeds(cls, values: Any) -> Estimate:
        """Student-t 95% interval of the mean of a few independent seeds."""
        x = np.asarray(values, np.float64).ravel()
        if x.size < 2:
            raise ValueError(f"values of size {x.size} are not allowed: an interval over seeds needs at least 2")
        mean, half = mean_halfwidth(x)
        return cls(float(mean), float(mean - half), float(mean + half), float(x.std(ddof=1) / np.sqrt(x.size)),
                   int(x.size))

    @classmethod
    def combine(cls, estimates: Sequence[Estimate], weights: Sequence[float] | np.ndarray) -> Estimate:
        """``sum_k w_k X_k`` of independent estimates (normal interval from the combined standard error)."""
        w = np.asarray(weights, np.float64)
        if len(estimates) == 0 or len(w) != len(estimates):
            raise ValueError(f"need one weight per estimate; got {len(estimates)} estimates and {len(w)} weights")
        mean = float(sum(wk * e.mean for wk, e in zip(w, estimates)))
        se = float(np.sqrt(sum((wk * e.se) ** 2 for wk, e in zip(w, estimates))))
        return cls(mean, mean - Z95 * se, mean + Z95 * se, se, int(sum(e.n for e in estimates)))

    def difference(self, other: Estimate) -> Estimate:
        """``self - other`` for independent estimates."""
        return Estimate.combine([self, other], [1.0, -1.0])

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclasses.dataclass(frozen=True)
class RobustnessRecord:
    """One strategy against one opponent.

    Attributes:
        strategy: the strategy's name.
        opponent: the opponent's name (a held-out type, a mixture, or an adversary such as ``"spiteful BR"``).
        kind: ``"held_out"``, ``"mixture"`` or ``"adversary"``.
        method: ``"exact"``, ``"sampled"`` or ``"learned"`` (a learned best response, evaluated by simulation).
        payoff: the strategy's payoff against the opponent.
        objective: an adversary's objective (``"selfish"`` or ``"spiteful"``), else ``None``.
        gain: an adversary's gain in its objective over the background profile (the strategy's exploitability by
            that adversary), else ``None``.
    """

    strategy: str
    opponent: str
    kind: str
    method: str
    payoff: Estimate
    objective: str | None = None
    gain: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RobustnessSummary:
    """Worst case and average of a strategy's payoff over a set of records.

    ``worst`` is the record with the lowest mean payoff (a minimum of noisy means is biased downwards: read its
    interval); ``average`` is the equally weighted mean of the records' payoffs.
    """

    strategy: str
    worst: RobustnessRecord
    average: Estimate
    count: int


class SeatPolicy(os_policy.Policy):
    """A joint policy from one policy per seat: ``seats[p]`` answers for player ``p``."""

    def __init__(self, game: pyspiel.Game, seats: Sequence[Any]) -> None:
        if len(seats) != game.num_players():
            raise ValueError(f"seats of length {len(seats)} are not allowed: expected one policy per player "
                             f"({game.num_players()})")
        super().__init__(game, list(range(game.num_players())))
        self.seats = list(seats)

    def action_probabilities(self, state, player_id=None):
        player = state.current_player() if player_id is None else player_id
        return self.seats[player].action_probabilities(state, player)


def child_seed(seed: SeedLike, k: int) -> np.random.SeedSequence:
    """Child ``k`` of ``seed``, the same however often it is asked for (``SeedSequence.spawn`` advances its
    parent, so asking twice gives two different children)."""
    root = seed_sequence(seed)
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, int(k)), pool_size=root.pool_size)


def _game(game: pyspiel.Game | str) -> pyspiel.Game:
    return pyspiel.load_game(game) if isinstance(game, str) else game


def _check_strategy(name: str, strategy: Any) -> None:
    if not callable(getattr(strategy, "action_probabilities", None)):
        raise TypeError(f"{name}={strategy!r} is not allowed: expected an OpenSpiel policy (a rule trader, a trained "
                        "agent's learner.policy(game, agent), ...) with action_probabilities(state, player_id)")


def _check_seat(game: pyspiel.Game, seat: Any, name: str = "seat") -> int:
    n = game.num_players()
    if isinstance(seat, bool) or not isinstance(seat, (int, np.integer)) or not 0 <= seat < n:
        raise ValueError(f"{name}={seat!r} is not allowed: expected an int in [0, {n - 1}] (a player of {game})")
    return int(seat)


def _check_method(method: str, allowed: Sequence[str] = METHODS) -> None:
    if method not in allowed:
        raise ValueError(f"method={method!r} is not allowed: expected one of {list(allowed)}")


def _check_episodes(episodes: Any) -> None:
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 2:
        raise ValueError(f"episodes={episodes!r} is not allowed: expected an int >= 2 (a standard error needs two)")


def game_tree(game: pyspiel.Game, method: str, max_nodes: int) -> GameTree | None:
    """The compiled tree for ``"exact"`` (refused with the tree builder's error if it cannot be built), ``None``
    for ``"sampled"``, and for ``"auto"`` the tree when it can be built within ``max_nodes``, else ``None``."""
    if method == "sampled" or (method == "auto" and market_config(game) is not None):
        return None  # a market's tree is astronomically large: do not even estimate it
    if method == "exact":
        return build_tree(game, max_nodes=max_nodes)
    try:
        return build_tree(game, max_nodes=max_nodes)
    except GameNotSupportedError as exc:
        logger.debug("no exact tree for %s (%s): sampling", game, exc)
        return None


def joint_table(tree: GameTree, seats: Sequence[Any]) -> np.ndarray:
    """The policy table in which player ``p``'s rows come from ``seats[p]``."""
    table = np.empty(tree.legal_mask.shape)
    for p, policy in enumerate(seats):
        rows = tree.infoset_player == p
        table[rows] = policy_table(tree, policy, player=p)[rows]
    return table


def default_simulator(game: pyspiel.Game, seats: Sequence[Any]) -> Any:
    """The batched market engine when it can play ``seats`` on ``game``, else the OpenSpiel loop."""
    batched = BatchedMarketSimulator()
    try:
        batched.check(game, seats)
    except (TypeError, ValueError):
        return OpenSpielSimulator()
    return batched


def _seats(game: pyspiel.Game, strategy: Any, opponent: Any, seat: int) -> list[Any]:
    return [strategy if p == seat else opponent for p in range(game.num_players())]


def payoff_estimate(game: pyspiel.Game | str, seats: Sequence[Any], player: int, *, tree: GameTree | None = None,
                    episodes: int = 1_000, simulator: Any = None, seed: SeedLike = 0) -> Estimate:
    """``player``'s payoff when ``seats[p]`` plays seat ``p``: exact on ``tree`` when given, else the mean of
    ``episodes`` simulated episodes."""
    game = _game(game)
    if tree is not None:
        return Estimate.exact(policy_values(tree, joint_table(tree, seats))[player])
    sim = default_simulator(game, seats) if simulator is None else simulator
    rng = np.random.default_rng(seed_sequence(seed))
    return Estimate.from_samples(np.asarray(sim.returns(game, list(seats), int(episodes), rng))[:, player])


def mixture_estimate(estimates: Mapping[str, Estimate], weights: Mapping[str, float], name: str = "mixture"
                     ) -> Estimate:
    """The payoff against a mixture drawing opponent type ``k`` with probability ``weights[k]`` per episode."""
    unknown = sorted(set(weights) - set(estimates))
    if not weights or unknown:
        raise ValueError(f"mixtures[{name!r}]={dict(weights)!r} is not allowed: expected weights over the opponents "
                         f"{sorted(estimates)} (unknown: {unknown})")
    w = np.array([float(v) for v in weights.values()])
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"mixtures[{name!r}]={dict(weights)!r} is not allowed: expected non-negative weights with a "
                         "positive sum")
    return Estimate.combine([estimates[k] for k in weights], w / w.sum())


def evaluate_against(game: pyspiel.Game | str, strategy: Any, opponents: Mapping[str, Any], *,
                     mixtures: Mapping[str, Mapping[str, float]] | None = None, seat: int = 0,
                     name: str = "strategy", method: str = "auto", episodes: int = 1_000, simulator: Any = None,
                     max_nodes: int = DEFAULT_MAX_NODES, seed: SeedLike = 0) -> list[RobustnessRecord]:
    """The payoff of ``strategy`` (in ``seat``) against each named held-out opponent (playing every other seat) and
    against each mixture of them (``{mixture name: {opponent name: weight}}``).

    Opponent ``k`` is simulated with child ``k`` of ``seed``, whichever strategy is evaluated: two strategies
    evaluated with the same seed meet the same chance draws (paired comparisons on the batched market).
    """
    game = _game(game)
    _check_strategy("strategy", strategy)
    seat = _check_seat(game, seat)
    if not isinstance(opponents, Mapping) or not opponents:
        raise ValueError(f"opponents={opponents!r} is not allowed: expected a non-empty mapping name -> policy")
    for key, opponent in opponents.items():
        _check_strategy(f"opponents[{key!r}]", opponent)
    _check_method(method)
    _check_episodes(episodes)
    mixtures = dict(mixtures or {})
    for key, weights in mixtures.items():
        mixture_estimate({k: Estimate.exact(0.0) for k in opponents}, weights, key)  # validate first
    tree = game_tree(game, method, max_nodes)
    kind_method = "exact" if tree is not None else "sampled"
    estimates: dict[str, Estimate] = {}
    root = seed_sequence(seed)
    for k, (key, opponent) in enumerate(opponents.items()):
        estimates[key] = payoff_estimate(game, _seats(game, strategy, opponent, seat), seat, tree=tree,
                                         episodes=episodes, simulator=simulator, seed=child_seed(root, k))
    records = [RobustnessRecord(name, key, "held_out", kind_method, est) for key, est in estimates.items()]
    records += [RobustnessRecord(name, key, "mixture", kind_method, mixture_estimate(estimates, weights, key))
                for key, weights in mixtures.items()]
    return records


def summarize(records: Sequence[RobustnessRecord]) -> RobustnessSummary:
    """Worst case and average of one strategy's payoffs over ``records`` (held-out opponents, mixtures and
    adversaries alike)."""
    if not records:
        raise ValueError("records=[] is not allowed: expected at least one record")
    names = {r.strategy for r in records}
    if len(names) != 1:
        raise ValueError(f"records of strategies {sorted(names)} are not allowed: summarise one strategy at a time")
    worst = min(records, key=lambda r: r.payoff.mean)
    average = Estimate.combine([r.payoff for r in records], np.full(len(records), 1.0 / len(records)))
    return RobustnessSummary(records[0].strategy, worst, average, len(records))
