"""Seat a population of traders in a :class:`~marketgames.market.batched.BatchedMarket` and pick their actions.

A trader here is anything with ``probabilities(obs) -> probs``: a ``(B, obs_size)`` int64 batch of its seat's
observations to ``(B, num_actions)`` action probabilities (the contract of
:class:`marketgames.traders.base.RuleTrader`). Actions are drawn by inverse CDF from the market's own counter-based
uniforms (stream ``STREAM_FIRST_SEAT + seat`` of each market at the current episode and round), so market ``i``'s
choices depend on its seed and history only -- never on the batch size or the thread count -- and equal what the
trader's OpenSpiel policy (``action_probabilities``) gives on the same observation with the same uniform number.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..sampling import draw_rows
from .batched import STREAM_FIRST_SEAT, BatchedMarket


def sample_rows(probabilities: np.ndarray, uniforms: np.ndarray, *, tol: float = 1e-6) -> np.ndarray:
    """One draw per row by inverse CDF: row ``i`` gives the first ``k`` with ``cumsum(p)[k] > u[i] * sum(p)``.

    ``probabilities`` is ``(B, A)``, non-negative and finite with rows summing to 1 within ``tol``; ``uniforms`` is
    ``(B,)`` in ``[0, 1)``. An action of probability zero is never drawn. This is the rule the batched market uses
    for its chance nodes (:func:`marketgames.sampling.inverse_cdf`).
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    u = np.ascontiguousarray(uniforms, dtype=np.float64)
    if probs.ndim != 2 or u.shape != (probs.shape[0],):
        raise ValueError(f"probabilities of shape {probs.shape} and uniforms of shape {u.shape} are not allowed: "
                         "expected (B, num_actions) and (B,)")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise ValueError("probabilities are not allowed: expected finite, non-negative numbers")
    sums = probs.sum(axis=1)
    if probs.shape[0] and np.max(np.abs(sums - 1.0)) > tol:
        worst = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(f"probabilities are not allowed: row {worst} sums to {sums[worst]!r}, expected 1 within "
                         f"tol={tol}")
    if u.size and (u.min() < 0.0 or u.max() >= 1.0):
        raise ValueError("uniforms are not allowed: expected numbers in [0, 1)")
    return draw_rows(probs, u)


def population_actions(traders: Sequence[Any], market: BatchedMarket, obs: np.ndarray | None = None, *,
                       tol: float = 1e-6) -> np.ndarray:
    """``(B, players)`` actions: seat ``p`` is played by ``traders[p]`` in every market of the batch.

    Each trader's ``probabilities`` is called once on the ``(B, obs_size)`` observations of its seat (``obs``
    defaults to ``market.observations()``, the current player node) and one action per market is drawn with the
    market's uniforms of stream ``STREAM_FIRST_SEAT + p`` (:func:`sample_rows`).
    """
    if not isinstance(market, BatchedMarket):
        raise TypeError(f"market={market!r} is not allowed: expected a BatchedMarket")
    n = market.num_players
    if len(traders) != n:
        raise ValueError(f"traders of length {len(traders)} are not allowed: expected one per seat ({n})")
    for p, trader in enumerate(traders):
        if not callable(getattr(trader, "probabilities", None)):
            raise TypeError(f"traders[{p}]={trader!r} is not allowed: expected an object with "
                            "probabilities(obs) -> (B, num_actions)")
        seats = getattr(trader, "player_ids", None)
        if seats is not None and p not in seats:
            raise ValueError(f"traders[{p}]={trader!r} is not allowed: it plays seats {list(seats)}, not {p}")
    if market.done:
        raise RuntimeError("the episode is over (or was never started): call market.reset() first")
    obs = market.observations() if obs is None else np.asarray(obs)
    if obs.shape != (market.batch_size, n, market.obs_size):
        raise ValueError(f"obs of shape {obs.shape} is not allowed: expected "
                         f"{(market.batch_size, n, market.obs_size)}")
    actions = np.empty((market.batch_size, n), dtype=np.int64)
    for p, trader in enumerate(traders):
        probs = np.asarray(trader.probabilities(np.ascontiguousarray(obs[:, p, :])), dtype=np.float64)
        if probs.shape != (market.batch_size, market.num_actions):
            raise ValueError(f"traders[{p}].probabilities returned shape {probs.shape}: expected "
                             f"{(market.batch_size, market.num_actions)}")
        actions[:, p] = sample_rows(probs, market.uniforms(STREAM_FIRST_SEAT + p), tol=tol)
    return actions


def play_population(traders: Sequence[Any], market: BatchedMarket) -> np.ndarray:
    """Play one whole episode in every market of the batch with ``traders[p]`` in seat ``p``; returns the
    ``(B, players)`` returns (the sum of the rewards: final wealth with positions valued at the fundamental).

    Starts a new episode (:meth:`BatchedMarket.reset`); each round's actions come from :func:`population_actions`.
    """
    obs = market.reset()
    while not market.done:
        obs, _, _ = market.step(population_actions(traders, market, obs))
    return market.returns()
