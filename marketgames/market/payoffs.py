"""Payoff estimation on the batched engine: a simulator for :class:`solvers.empirical.EmpiricalGame`.

:class:`BatchedMarketSimulator` plays the episodes of one seating of rule-based traders in ``python_lob_market`` as
markets of a :class:`~marketgames.market.batched.BatchedMarket` (the same rules as the OpenSpiel game, stepped by the
compiled kernels) instead of walking OpenSpiel states one episode at a time. It satisfies the ``Simulator`` protocol
of :mod:`solvers.empirical.simulate` by its shape alone (this package does not import ``solvers``): pass it as
``EmpiricalGame(game, traders, simulator=BatchedMarketSimulator())``.

Episode ``i`` of a call is market ``i`` of ``SeedSequence(s)``, with ``s`` drawn once from the caller's generator,
so its chance outcomes and action draws depend on the generator state and ``i`` only -- not on ``max_batch``, the
thread count or the worker that runs it. The draws are the engine's counter-based streams, not the generator's, so
the numbers differ from the OpenSpiel loop's episode by episode; the distribution of returns is the same (tested).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from ..seeding import seed_sequence
from .batched import BatchedMarket
from .config import MarketConfig
from .population import play_population

__all__ = ["BatchedMarketSimulator"]


@dataclasses.dataclass(frozen=True)
class BatchedMarketSimulator:
    """Plays rule-based traders (anything with ``probabilities(obs)``, e.g. :mod:`marketgames.traders`) on the
    batched engine, ``max_batch`` markets at a time. Refuses any other strategy (learned policies, OpenSpiel
    policies that read the state) and any game that is not ``python_lob_market``: use the default OpenSpiel loop
    for those.
    """

    max_batch: int = 4096
    name = "batched"

    def __post_init__(self) -> None:
        if isinstance(self.max_batch, bool) or not isinstance(self.max_batch, (int, np.integer)) or self.max_batch < 1:
            raise ValueError(f"max_batch={self.max_batch!r} is not allowed: expected an integer >= 1")

    def check(self, game: Any, strategies: Sequence[Any]) -> None:
        """Raise unless ``game`` is a ``python_lob_market`` and every strategy is a batchable trader of it."""
        config = _config(game)
        for k, s in enumerate(strategies):
            if not callable(getattr(s, "probabilities", None)):
                raise TypeError(f"strategies[{k}]={s!r} cannot be played on the batched market: it has no "
                                "probabilities(obs) -> (B, num_actions) (only rule-based traders do); use the "
                                "default OpenSpiel simulator for it")
            own = getattr(s, "config", config)
            if own != config:
                raise ValueError(f"strategies[{k}]={s!r} was built for another market ({own.game_string()}); "
                                 f"this game is {config.game_string()}")

    def returns(self, game: Any, seats: Sequence[Any], episodes: int, rng: np.random.Generator) -> np.ndarray:
        """``(episodes, players)`` returns of ``seats[p]`` in seat ``p``, ``max_batch`` markets at a time."""
        config = _config(game)
        if len(seats) != config.players:
            raise ValueError(f"seats of length {len(seats)} are not allowed: expected one per player "
                             f"({config.players})")
        out = np.empty((int(episodes), config.players))
        if episodes <= 0:
            return out
        seed = seed_sequence(rng, name="rng")  # a child of the caller's generator (advances it)
        for lo in range(0, int(episodes), self.max_batch):
            size = min(self.max_batch, int(episodes) - lo)
            out[lo:lo + size] = play_population(seats, BatchedMarket(config, size, seed, first_market=lo))
        return out


def _config(game: Any) -> MarketConfig:
    config = getattr(game, "config", None)
    if not isinstance(config, MarketConfig):
        raise TypeError(f"game={game!r} cannot be simulated by BatchedMarketSimulator: expected a "
                        "python_lob_market game (with a MarketConfig `config`)")
    return config
