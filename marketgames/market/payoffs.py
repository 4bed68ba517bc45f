"""Payoff estimation on the batched engine: a simulator for :class:`solvers.empirical.EmpiricalGame`.

:class:`BatchedMarketSimulator` plays the episodes of one seating of strategies in ``python_lob_market`` as markets
of a :class:`~marketgames.market.batched.BatchedMarket` (the same rules as the OpenSpiel game, stepped by the compiled
kernels) instead of walking OpenSpiel states one episode at a time. It plays two kinds of strategy, each on the whole
batch of its seat at once:

* rule-based traders: ``probabilities(obs)`` on the ``(B, obs_size)`` integer observations
  (:class:`marketgames.traders.base.RuleTrader`);
* :class:`BatchPolicy` strategies, e.g. trained agents (``solvers.marl``'s OpenSpiel policies):
  ``batch_probabilities(observations, legal_mask)`` on the ``(B, obs_dim)`` float32 observations, the same numbers
  as ``state.observation_tensor(p)`` (:func:`marketgames.envs.spaces.scale_observations`), i.e. one forward pass of
  a network on the batch.

It satisfies the ``Simulator`` protocol of :mod:`solvers.empirical.simulate` by its shape alone (this package does not
import ``solvers``): pass it as ``EmpiricalGame(game, strategies, simulator=BatchedMarketSimulator())``.

Episode ``i`` of a call is market ``i`` of ``SeedSequence(s)``, with ``s`` drawn once from the caller's generator,
so its chance outcomes and action draws depend on the generator state and ``i`` only -- not on ``max_batch``, the
thread count or the worker that runs it. The draws are the engine's counter-based streams, not the generator's, so
the numbers differ from the OpenSpiel loop's episode by episode; the distribution of returns is the same (tested).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from ..envs.spaces import _observer, market_config, scale_observations
from ..seeding import seed_sequence
from .batched import BatchedMarket
from .config import MarketConfig
from .population import play_population

__all__ = ["BatchPolicy", "BatchedMarketSimulator", "TensorSeat", "batched_seat", "is_batchable"]


@runtime_checkable
class BatchPolicy(Protocol):
    """A strategy that acts on a whole batch of a seat's observation tensors (e.g. a trained network).

    ``batch_probabilities(observations, legal_mask)`` takes ``observations`` ``(B, obs_dim)`` float32, row ``i``
    equal to ``state.observation_tensor(p)`` of market ``i``'s state for the seat ``p`` it plays, and ``legal_mask``
    ``(B, num_actions)`` bool (``state.legal_actions(p)``), and returns ``(B, num_actions)`` action probabilities
    (rows sum to 1, zero on illegal actions) that equal its OpenSpiel ``action_probabilities(state, p)`` on the same
    state. The batched simulator draws one action per row with the market's own uniforms, as for rule traders; a
    deterministic policy returns one-hot rows. It must not depend on the batch size (no randomness, no memory).
    """

    def batch_probabilities(self, observations: np.ndarray, legal_mask: np.ndarray) -> np.ndarray: ...


class TensorSeat:
    """A :class:`BatchPolicy` as a seat of :func:`~marketgames.market.population.play_population`: integer
    observations scaled to the observation tensor, then the policy's probabilities, checked."""

    def __init__(self, strategy: BatchPolicy, game: Any, num_actions: int, label: str) -> None:
        self.strategy, self.game, self.num_actions, self.label = strategy, game, num_actions, label
        self.observer = _observer(game)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        tensors = scale_observations(self.game, obs, self.observer)
        # python_lob_market has no illegal action at a player node: every row is all legal
        legal = np.ones((len(obs), self.num_actions), dtype=bool)
        probs = np.asarray(self.strategy.batch_probabilities(tensors, legal), dtype=np.float64)
        if probs.shape != legal.shape:
            raise ValueError(f"{self.label}.batch_probabilities returned shape {probs.shape}: expected "
                             f"{legal.shape}")
        return probs


@dataclasses.dataclass(frozen=True)
class BatchedMarketSimulator:
    """Plays rule-based traders (anything with ``probabilities(obs)``, e.g. :mod:`marketgames.traders`) and
    :class:`BatchPolicy` strategies (anything with ``batch_probabilities``, e.g. trained agents) on the batched
    engine, ``max_batch`` markets at a time. Refuses any other strategy (OpenSpiel policies that read the state) and
    any game that is not ``python_lob_market``: use the default OpenSpiel loop for those.
    """

    max_batch: int = 4096
    name = "batched"

    def __post_init__(self) -> None:
        if isinstance(self.max_batch, bool) or not isinstance(self.max_batch, (int, np.integer)) or self.max_batch < 1:
            raise ValueError(f"max_batch={self.max_batch!r} is not allowed: expected an integer >= 1")

    def check(self, game: Any, strategies: Sequence[Any]) -> None:
        """Raise unless ``game`` is a ``python_lob_market`` and every strategy is a batchable strategy of it."""
        config = _config(game)
        for k, s in enumerate(strategies):
            if not is_batchable(s):
                raise TypeError(f"strategies[{k}]={s!r} cannot be played on the batched market: it has neither "
                                "probabilities(obs) -> (B, num_actions) (rule-based traders) nor "
                                "batch_probabilities(observations, legal_mask) -> (B, num_actions) (BatchPolicy, "
                                "e.g. trained agents); use the default OpenSpiel simulator for it")
            own = _own_config(s, config)
            if own != config:
                raise ValueError(f"strategies[{k}]={s!r} was built for another market ({own.game_string()}); "
                                 f"this game is {config.game_string()}")

    def returns(self, game: Any, seats: Sequence[Any], episodes: int, rng: np.random.Generator) -> np.ndarray:
        """``(episodes, players)`` returns of ``seats[p]`` in seat ``p``, ``max_batch`` markets at a time."""
        config = _config(game)
        if len(seats) != config.players:
            raise ValueError(f"seats of length {len(seats)} are not allowed: expected one per player "
                             f"({config.players})")
        self.check(game, seats)
        # a rule trader is its own seat; a BatchPolicy reads the observation tensor (one observer per policy)
        players = [batched_seat(s, game, f"seats[{p}]") for p, s in enumerate(seats)]
        out = np.empty((int(episodes), config.players))
        if episodes <= 0:
            return out
        seed = seed_sequence(rng, name="rng")  # a child of the caller's generator (advances it)
        for lo in range(0, int(episodes), self.max_batch):
            size = min(self.max_batch, int(episodes) - lo)
            out[lo:lo + size] = play_population(players, BatchedMarket(config, size, seed, first_market=lo))
        return out


def _is_trader(strategy: Any) -> bool:
    return callable(getattr(strategy, "probabilities", None))


def is_batchable(strategy: Any) -> bool:
    """Whether the batched engine can seat ``strategy``: a rule trader (``probabilities(int_obs)``) or a
    :class:`BatchPolicy` (``batch_probabilities(observations, legal_mask)``)."""
    return _is_trader(strategy) or callable(getattr(strategy, "batch_probabilities", None))


def batched_seat(strategy: Any, game: Any, label: str = "strategy") -> Any:
    """``strategy`` as a seat of the batched engine (``probabilities(int_obs) -> (B, num_actions)``): a rule trader
    as it is, a :class:`BatchPolicy` read through its seat's observation tensors (:class:`TensorSeat`). The one
    adapter the simulator, the learners' opponent envs and the robustness measures share."""
    if _is_trader(strategy):
        return strategy
    if not is_batchable(strategy):
        raise TypeError(f"{label}={strategy!r} cannot be played on the batched market: expected a rule trader "
                        "(probabilities(obs)) or a BatchPolicy (batch_probabilities(observations, legal_mask))")
    return TensorSeat(strategy, game, _config(game).num_actions, label)


def _own_config(strategy: Any, default: MarketConfig) -> MarketConfig:
    """The market a strategy was built for: its ``config`` (rule traders) or its OpenSpiel ``game``'s."""
    own = getattr(strategy, "config", None)
    if isinstance(own, MarketConfig):
        return own
    game = getattr(strategy, "game", None)
    own = market_config(game) if game is not None else None
    return default if own is None else own


def _config(game: Any) -> MarketConfig:
    config = getattr(game, "config", None)
    if not isinstance(config, MarketConfig):
        raise TypeError(f"game={game!r} cannot be simulated by BatchedMarketSimulator: expected a "
                        "python_lob_market game (with a MarketConfig `config`)")
    return config
