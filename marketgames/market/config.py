"""Parameters of the limit-order-book market, with their defaults, validation and derived tables.

One :class:`MarketConfig` describes a market; the OpenSpiel game (``python_lob_market``) and the batched simulator
are both built from it, and both hand :meth:`MarketConfig.params` to the same rule kernels
(:mod:`marketgames.market.rules`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


MAX_PLAYERS = 16


class MarketConfigError(ValueError):
    """A market parameter is out of its allowed range."""


@dataclass(frozen=True)
class MarketConfig:
    """A limit-order-book market played for ``steps`` rounds by ``players`` traders.

    Each round: a chance node moves the fundamental value, a chance node draws background (zero-intelligence) order
    flow, then all players act simultaneously. Prices are integer ticks on ``0 .. price_levels-1``.

    Fundamental (Wah & Wellman 2013, "Latency arbitrage, market fragmentation, and efficiency"): it mean-reverts
    to ``price_levels // 2``: ``r' = rbar + round((1 - mean_reversion) * (r - rbar)) + u``, ``u`` is
    ``-shock_size``, 0 or ``+shock_size`` with probabilities ``shock_prob/2, 1-shock_prob, shock_prob/2``; ``r'`` is
    kept within ``[1, price_levels-2]`` (rounding is half up, in exact integer arithmetic).

    Background flow (ZI-C, Gode & Sunder 1993): with probability ``bg_arrival_prob`` one trader arrives, buyer or
    seller with equal odds, with private value ``r + theta`` (``theta`` uniform on
    ``-bg_value_spread..bg_value_spread``) and surplus demand ``s`` uniform on ``bg_shade_min..bg_shade_max``; it
    sends a limit order for ``bg_lot`` lots at ``r + theta - s`` (buyer) or ``r + theta + s`` (seller), which
    trades against whatever it crosses and rests for ``bg_ttl`` rounds. ``initial_depth`` background orders per side
    (one lot each) start the book at ``rbar -/+ 1 .. initial_depth``.

    Players: see :mod:`marketgames.games.lob_market` for the action menu. Each order is ``lot`` lots; an order that
    could take a player's worst-case position (inventory plus resting orders on that side) beyond
    ``position_limit`` is cut to fit or rejected; a player keeps at most ``max_orders`` resting orders (further
    limit orders are rejected; a two-sided quote first cancels the player's resting orders).

    Rewards: mark-to-market wealth change, ``cash + inventory * mark`` with the mark the mid price (the last trade
    price when one side is empty); at the end positions are valued at the fundamental. Returns are therefore the
    final profit ``cash + inventory * fundamental``, in ticks x lots.
    """

    players: int = 2
    steps: int = 20
    price_levels: int = 41
    mean_reversion: float = 0.05
    shock_prob: float = 0.5
    shock_size: int = 1
    bg_arrival_prob: float = 0.8
    bg_value_spread: int = 2
    bg_shade_min: int = 0
    bg_shade_max: int = 2
    bg_lot: int = 1
    bg_ttl: int = 5
    initial_depth: int = 2
    lot: int = 1
    position_limit: int = 5
    max_orders: int = 4
    limit_levels: int = 2
    quote_levels: int = 2
    book_levels: int = 3
    history: int = 4

    # (name, minimum, maximum) for integers; floats are probabilities in [0, 1].
    _INT_RANGES = {
        "players": (2, MAX_PLAYERS), "steps": (1, 100_000), "price_levels": (5, 100_000),
        "shock_size": (0, 1000), "bg_value_spread": (0, 1000), "bg_shade_min": (0, 1000),
        "bg_shade_max": (0, 1000), "bg_lot": (1, 1_000_000), "bg_ttl": (1, 100_000), "initial_depth": (0, 1000),
        "lot": (1, 1_000_000), "position_limit": (1, 10**9), "max_orders": (1, 1000), "limit_levels": (0, 1000),
        "quote_levels": (0, 1000), "book_levels": (1, 1000), "history": (0, 1000),
    }

    def __post_init__(self) -> None:
        for name, (lo, hi) in self._INT_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
                raise MarketConfigError(f"{name}={value!r} is not allowed: expected an integer in [{lo}, {hi}]")
        for name in ("mean_reversion", "shock_prob", "bg_arrival_prob"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise MarketConfigError(f"{name}={value!r} is not allowed: expected a number in [0, 1]")
        if self.bg_shade_min > self.bg_shade_max:
            raise MarketConfigError(f"bg_shade_min={self.bg_shade_min} is not allowed: it must be <= "
                                    f"bg_shade_max={self.bg_shade_max}")
        half = self.price_levels // 2
        if self.initial_depth >= half:
            raise MarketConfigError(f"initial_depth={self.initial_depth} is not allowed: expected < "
                                    f"price_levels // 2 = {half}")
        if self.quote_levels > 0 and self.max_orders < 2:
            raise MarketConfigError(f"max_orders={self.max_orders} is not allowed with quote_levels="
                                    f"{self.quote_levels} > 0: a two-sided quote needs max_orders >= 2")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "MarketConfig":
        """Build from an OpenSpiel parameter dict (unknown names raise)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            raise MarketConfigError(f"unknown market parameter(s) {unknown}; allowed: {sorted(names)}")
        return cls(**dict(params))

    def to_params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def game_string(self, name: str = "python_lob_market") -> str:
        """The ``pyspiel.load_game`` string for this configuration (only non-default values)."""
        default = MarketConfig()
        parts = [f"{k}={v}" for k, v in self.to_params().items() if getattr(default, k) != v]
        return f"{name}({','.join(parts)})" if parts else name

    # ------------------------------------------------------------------ derived
    @property
    def fundamental_mean(self) -> int:
        return self.price_levels // 2

    @property
    def num_actions(self) -> int:
        return 4 + 2 * self.limit_levels + self.quote_levels

    @property
    def book_capacity(self) -> int:
        """Order slots that can never run out: players' orders plus every background order alive at once."""
        return self.players * self.max_orders + 2 * self.initial_depth + self.bg_ttl + 1

    @property
    def bg_buy_offsets(self) -> np.ndarray:
        return np.arange(-self.bg_value_spread - self.bg_shade_max, self.bg_value_spread - self.bg_shade_min + 1)

    @property
    def bg_sell_offsets(self) -> np.ndarray:
        return np.arange(-self.bg_value_spread + self.bg_shade_min, self.bg_value_spread + self.bg_shade_max + 1)

    def fundamental_outcome_probs(self) -> np.ndarray:
        """Probabilities of the fundamental chance outcomes ``0: -shock, 1: none, 2: +shock``."""
        p = float(self.shock_prob) if self.shock_size > 0 else 0.0
        return np.array([p / 2, 1.0 - p, p / 2])

    def background_outcome_probs(self) -> np.ndarray:
        """Probabilities of background outcomes: ``0`` none, then one per buy offset, then one per sell offset.

        The offset of a buyer's price from the fundamental is ``theta - s`` (a seller's ``theta + s``): the
        convolution of two discrete uniform laws.
        """
        theta = np.full(2 * self.bg_value_spread + 1, 1.0 / (2 * self.bg_value_spread + 1))
        shade = np.full(self.bg_shade_max - self.bg_shade_min + 1, 1.0 / (self.bg_shade_max - self.bg_shade_min + 1))
        conv = np.convolve(theta, shade)  # law of theta + s from its minimum; theta - s is its mirror image
        q = float(self.bg_arrival_prob)
        return np.concatenate([[1.0 - q], q / 2 * conv[::-1], q / 2 * conv])

    def utility_bound(self) -> float:
        """An honest bound on |return|: every lot a player trades is worth at most ``price_levels - 2`` ticks.

        A player submits at most two orders of ``lot`` lots per round, so it trades at most ``2 * lot * steps``
        lots; the fundamental lies in ``[1, price_levels-2]`` and prices in ``[0, price_levels-1]``.
        """
        return float(2 * self.lot * self.steps * (self.price_levels - 2))

    def params(self) -> np.ndarray:
        """The integer parameter vector the rule kernels read (see ``rules.P_*``)."""
        from . import rules

        return rules.pack_params(self)
