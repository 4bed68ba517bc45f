"""Named, vectorised views of the market's integer observation and of its action menu.

The observation layout is defined by :func:`marketgames.market.rules.observe`; this module is the one place traders
read it through. Every accessor takes a batch ``obs`` of shape ``(B, obs_size)`` (``int64``) and returns arrays over
the batch. Prices are integer ticks; quantities that can fall on half ticks (the mid) are returned doubled (suffix
``2``) so all arithmetic stays exact in integers.
"""
from __future__ import annotations

from typing import overload

import numpy as np

from ..market import rules as R
from ..market.config import MarketConfig


class ObservationLayout:
    """Slices and accessors of the integer observation of a :class:`MarketConfig`.

    Fields (see :func:`marketgames.market.rules.observe`): inventory, cash, resting buy lots, resting sell lots;
    the top ``book_levels`` bid prices, bid sizes, ask prices, ask sizes (price -1 and size 0 where a level is
    missing); last trade price, spread (-1 when a side is empty), rounds left; then the last ``history`` changes of
    twice the mid price recorded after each round, oldest first.
    """

    INVENTORY = 0
    CASH = 1
    RESTING_BUY = 2
    RESTING_SELL = 3

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        L, H = config.book_levels, config.history
        self.book_levels = L
        self.history = H
        self.price_levels = config.price_levels
        self.steps = config.steps
        i = R.OBS_PRIVATE
        self.bid_prices = slice(i, i + L)
        self.bid_sizes = slice(i + L, i + 2 * L)
        self.ask_prices = slice(i + 2 * L, i + 3 * L)
        self.ask_sizes = slice(i + 3 * L, i + 4 * L)
        j = i + 4 * L
        self.last_price_index = j
        self.spread_index = j + 1
        self.rounds_left_index = j + 2
        self.mid_changes = slice(j + 3, j + 3 + H)
        self.size = R.obs_size(L, H)

    # ------------------------------------------------------------------ checks
    def check(self, obs: np.ndarray) -> np.ndarray:
        """``obs`` as a 2-D ``int64`` batch of this layout's width (a single observation becomes a batch of 1)."""
        arr = np.asarray(obs)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.size:
            raise ValueError(f"obs has shape {np.shape(obs)}; expected (B, {self.size}) for book_levels="
                             f"{self.book_levels}, history={self.history}")
        return arr.astype(np.int64, copy=False)

    # ------------------------------------------------------------------ private fields
    def inventory(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.INVENTORY]

    def cash(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.CASH]

    def resting_buy(self, obs: np.ndarray) -> np.ndarray:
        """Lots of the player's own resting buy orders."""
        return obs[:, self.RESTING_BUY]

    def resting_sell(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.RESTING_SELL]

    # ------------------------------------------------------------------ book
    def has_bid(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.bid_sizes.start] > 0

    def has_ask(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.ask_sizes.start] > 0

    def best_bid(self, obs: np.ndarray) -> np.ndarray:
        """Best bid price, -1 when there is no bid."""
        return np.where(self.has_bid(obs), obs[:, self.bid_prices.start], -1)

    def best_ask(self, obs: np.ndarray) -> np.ndarray:
        """Best ask price, -1 when there is no ask."""
        return np.where(self.has_ask(obs), obs[:, self.ask_prices.start], -1)

    def last_price(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.last_price_index]

    def spread(self, obs: np.ndarray) -> np.ndarray:
        """Best ask - best bid, -1 when a side is empty."""
        return obs[:, self.spread_index]

    def rounds_left(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, self.rounds_left_index]

    def elapsed(self, obs: np.ndarray) -> np.ndarray:
        """Rounds played so far (the index of the current round at a player node)."""
        return self.steps - self.rounds_left(obs)

    def mid2(self, obs: np.ndarray) -> np.ndarray:
        """Twice the mark price the market uses: bid + ask with both sides, else twice the last trade price."""
        both = self.has_bid(obs) & self.has_ask(obs)
        return np.where(both, obs[:, self.bid_prices.start] + obs[:, self.ask_prices.start],
                        2 * self.last_price(obs))

    def ref_bid(self, obs: np.ndarray) -> np.ndarray:
        """The price limit buys are placed from (``limit_buy_k`` at ``ref_bid - k``): best bid, else last - 1."""
        return np.where(self.has_bid(obs), obs[:, self.bid_prices.start], self.last_price(obs) - 1)

    def ref_ask(self, obs: np.ndarray) -> np.ndarray:
        """The price limit sells are placed from (``limit_sell_k`` at ``ref_ask + k``): best ask, else last + 1."""
        return np.where(self.has_ask(obs), obs[:, self.ask_prices.start], self.last_price(obs) + 1)

    def limit_buy_prices(self, obs: np.ndarray) -> np.ndarray:
        """``(B, limit_levels)``: the price of ``limit_buy_k`` for each ``k`` (clipped to the grid like the rules)."""
        k = np.arange(self.config.limit_levels)
        return np.clip(self.ref_bid(obs)[:, None] - k[None, :], 0, self.price_levels - 1)

    def limit_sell_prices(self, obs: np.ndarray) -> np.ndarray:
        k = np.arange(self.config.limit_levels)
        return np.clip(self.ref_ask(obs)[:, None] + k[None, :], 0, self.price_levels - 1)

    def top_depth(self, obs: np.ndarray) -> np.ndarray:
        """Lots at the best bid plus lots at the best ask."""
        return obs[:, self.bid_sizes.start] + obs[:, self.ask_sizes.start]

    # ------------------------------------------------------------------ price history
    def mid_changes2(self, obs: np.ndarray) -> np.ndarray:
        """``(B, history)``: changes of twice the mid recorded after each round, oldest first."""
        return obs[:, self.mid_changes]

    def mid_history2(self, obs: np.ndarray) -> np.ndarray:
        """``(B, history + 1)``: twice the past mids, oldest first, ending with the current mid.

        The observation holds the recent mid *changes*, not their levels; the levels are anchored at the current
        mid (an approximation: the book may have moved between the last recorded mid and now).
        """
        changes = self.mid_changes2(obs)
        back = np.cumsum(changes[:, ::-1], axis=1)[:, ::-1]  # sum of the changes after each recorded mid
        now = self.mid2(obs)[:, None]
        return np.concatenate([now - back, now], axis=1)


class ActionLayout:
    """Action ids of a :class:`MarketConfig` (see :func:`marketgames.games.lob_market.action_names`)."""

    HOLD = R.HOLD
    CANCEL = R.CANCEL
    MARKET_BUY = R.MARKET_BUY
    MARKET_SELL = R.MARKET_SELL

    def __init__(self, config: MarketConfig) -> None:
        self.limit_levels = config.limit_levels
        self.quote_levels = config.quote_levels
        self.num_actions = config.num_actions

    @overload
    def limit_buy(self, k: int) -> int: ...
    @overload
    def limit_buy(self, k: np.ndarray) -> np.ndarray: ...

    def limit_buy(self, k: int | np.ndarray) -> int | np.ndarray:
        """Limit buy ``k`` ticks below the best bid."""
        return R.FIRST_LIMIT + k

    @overload
    def limit_sell(self, k: int) -> int: ...
    @overload
    def limit_sell(self, k: np.ndarray) -> np.ndarray: ...

    def limit_sell(self, k: int | np.ndarray) -> int | np.ndarray:
        return R.FIRST_LIMIT + self.limit_levels + k

    def quote(self, h: int) -> int:
        """Two-sided quote at half-spread ``h`` (1-based)."""
        return R.FIRST_LIMIT + 2 * self.limit_levels + h - 1

    @property
    def buy_actions(self) -> list[int]:
        """Actions that can add to a long position (a quote has a buy side)."""
        return ([self.MARKET_BUY] + [self.limit_buy(k) for k in range(self.limit_levels)]
                + [self.quote(h) for h in range(1, self.quote_levels + 1)])

    @property
    def sell_actions(self) -> list[int]:
        return ([self.MARKET_SELL] + [self.limit_sell(k) for k in range(self.limit_levels)]
                + [self.quote(h) for h in range(1, self.quote_levels + 1)])

    def one_hot(self, actions: np.ndarray) -> np.ndarray:
        """``(B, num_actions)`` float64 rows with a 1 at each row's action."""
        actions = np.asarray(actions, dtype=np.int64)
        out = np.zeros((actions.shape[0], self.num_actions), dtype=np.float64)
        out[np.arange(actions.shape[0]), actions] = 1.0
        return out
