"""Liquidity-providing traders: an inventory-averse market maker and zero-intelligence constrained (ZI-C) traders.

References: Ho & Stoll (1981), "Optimal dealer pricing under transactions and return uncertainty"; Avellaneda &
Stoikov (2008), "High-frequency trading in a limit order book"; Gode & Sunder (1993), "Allocative efficiency of
markets with zero-intelligence traders"; Wah & Wellman (2013), "Latency arbitrage, market fragmentation, and
efficiency: a two-market model" and Wellman's later market studies, where ZI agents are the background strategy.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import Param, RuleTrader, mix

_MAX_POSITION = Param(None, "largest |inventory| the trader builds (default: the market's position_limit)", int,
                      low=1)


class MarketMaker(RuleTrader):
    """Market maker: quotes both sides at half-spread ``half_spread``; inventory aversion skews it to one side.

    With |inventory| < ``skew_inventory`` it re-quotes two-sided around the mid each round (a quote replaces its
    resting orders). In the spirit of Avellaneda & Stoikov (2008), inventory moves its reservation price against
    the position; with the discrete action menu that means: once long by ``skew_inventory`` or more it stops
    bidding (it cancels resting buys) and only offers, joining the best ask (``unwind="limit"``); short, the mirror
    image. It never adds to a position of ``inventory_limit`` or more. With ``unwind="market"`` it also sells (buys)
    at market once at the limit; with ``unwind="hold"`` it only cancels and waits.
    """

    name: ClassVar[str] = "market_maker"
    PARAMS: ClassVar[dict[str, Param]] = {
        "half_spread": Param(1, "quote half-spread h in ticks (needs the market's quote_levels >= h)", int, low=1),
        "inventory_limit": Param(None, "|inventory| at which it never adds more (default: position_limit)", int,
                                 low=1),
        "skew_inventory": Param(None, "|inventory| from which it quotes one side only (default: "
                                      "ceil(inventory_limit / 2))", int, low=1),
        "unwind": Param("limit", "how it sheds inventory when skewed", str, choices=("limit", "market", "hold")),
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        q = self.config.quote_levels
        if params["half_spread"] > q:
            raise self._error("half_spread", params["half_spread"], f"needs two-sided quotes at h = 1.."
                              f"{params['half_spread']}, but the market has quote_levels={q}; use a market with "
                              f"quote_levels >= {params['half_spread']}")
        limit = params["inventory_limit"]
        if limit is None:
            limit = self.config.position_limit
        elif limit > self.config.position_limit:
            raise self._error("inventory_limit", limit, f"expected <= the market's position_limit="
                              f"{self.config.position_limit}")
        params["inventory_limit"] = limit
        if params["skew_inventory"] is None:
            params["skew_inventory"] = max(1, -(-limit // 2))
        elif params["skew_inventory"] > limit:
            raise self._error("skew_inventory", params["skew_inventory"], f"expected <= inventory_limit={limit}")
        if params["unwind"] in ("limit", "market"):
            self._need_limit_levels("unwind", params["unwind"], 1)
        return params

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A = self.layout, self.actions
        p = self._params
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        skew, limit, unwind = p["skew_inventory"], p["inventory_limit"], p["unwind"]
        action = np.full(obs.shape[0], A.quote(p["half_spread"]), dtype=np.int64)
        for sign, rest_same, rest_other, join, cross in (
                (1, rb, rs, A.limit_sell(0) if A.limit_levels else A.HOLD, A.MARKET_SELL),
                (-1, rs, rb, A.limit_buy(0) if A.limit_levels else A.HOLD, A.MARKET_BUY)):
            pos = sign * inv  # > 0: the position this branch sheds (long for sign=1)
            skewed = pos >= skew
            shed = np.full(obs.shape[0], A.HOLD, dtype=np.int64)
            if unwind != "hold":
                shed = np.where(rest_other == 0, join, A.HOLD)
            if unwind == "market":
                shed = np.where(pos >= limit, cross, shed)
            shed = np.where(rest_same > 0, A.CANCEL, shed)  # first withdraw orders that add to the position
            action = np.where(skewed, shed, action)
        return A.one_hot(action)


class ZeroIntelligence(RuleTrader):
    """Zero-intelligence constrained trader (ZI-C; Gode & Sunder 1993), the background agent of Wellman's studies.

    Each round it acts with probability ``activity``. On arrival it first withdraws its resting orders
    (``replace=True``, as Wellman's ZI agents replace their order on re-entry); otherwise it is a buyer with
    probability ``buy_prob`` (a seller otherwise; only the side its ``max_position`` allows) with private value
    ``v + theta``: ``v`` its estimate of the value from what it observes (``value``: a moving average of the
    observed mids, the current mid, or the fundamental's public long-run mean) and ``theta`` uniform on
    ``-value_spread..value_spread``. It then picks uniformly among the limit orders (``k`` ticks from the touch)
    that leave it a surplus of at least ``min_surplus`` ticks: a buyer never bids above ``v + theta - min_surplus``,
    a seller never asks below ``v + theta + min_surplus`` (limit orders fill at their price or better, so it never
    trades at a loss relative to that value when the order is sent). With ``market_orders=True`` a market order is
    one more choice when the observed opposite side can fill a lot within the value; others acting earlier in the
    same round can move the book first, so the no-loss guarantee holds for market orders only against the observed
    book. With no acceptable order it holds.
    """

    name: ClassVar[str] = "zi"
    PARAMS: ClassVar[dict[str, Param]] = {
        "value": Param("moving_average", "the value estimate v", str,
                       choices=("moving_average", "mid", "fundamental_mean")),
        "window": Param(None, "rounds in the moving average (default: the market's history)", int, low=1),
        "value_spread": Param(0, "private value theta is uniform on -value_spread..value_spread ticks", int, low=0,
                              high=1000),
        "min_surplus": Param(0.0, "least surplus in ticks an order must leave", float, low=0.0),
        "buy_prob": Param(0.5, "probability of being a buyer when both sides are allowed", float, low=0.0,
                          high=1.0),
        "activity": Param(1.0, "probability of acting in a round", float, low=0.0, high=1.0),
        "replace": Param(True, "withdraw resting orders on arrival before sending a new one", bool),
        "market_orders": Param(False, "also consider market orders (no-loss only against the observed book)",
                               bool),
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        params["max_position"] = self._max_position(params["max_position"])
        self._resolve_window(params, choice="value", fallback="mid")
        if self.config.limit_levels < 1 and not params["market_orders"]:
            raise self._error("market_orders", False, "the market has limit_levels=0, so a ZI trader needs "
                              "market_orders=True (or a market with limit_levels >= 1)")
        return params

    def value_estimate(self, obs: np.ndarray) -> np.ndarray:
        """The common part ``v`` of the private value, in ticks (may be a half tick)."""
        obs = self.layout.check(obs)
        L = self.layout
        v = self._params["value"]
        if v == "fundamental_mean":
            return np.full(obs.shape[0], float(self.config.fundamental_mean))
        if v == "mid":
            return L.mid2(obs) / 2.0
        return L.mid_history2(obs)[:, -(self._params["window"] + 1):].mean(axis=1) / 2.0

    def _side(self, obs: np.ndarray, ok_limit: np.ndarray, ok_market: np.ndarray, buy: bool) -> np.ndarray:
        """Uniform rows over the acceptable orders of one side (hold where there is none)."""
        A = self.actions
        out = np.zeros((obs.shape[0], A.num_actions))
        count = ok_limit.sum(axis=1) + ok_market
        safe = np.maximum(count, 1)
        cols = [A.limit_buy(k) if buy else A.limit_sell(k) for k in range(A.limit_levels)]
        out[:, cols] = ok_limit / safe[:, None]
        out[:, A.MARKET_BUY if buy else A.MARKET_SELL] = ok_market / safe
        out[:, A.HOLD] = count == 0
        return out

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A, p = self.layout, self.actions, self._params
        n = obs.shape[0]
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        cap, lot = p["max_position"], self.config.lot
        can_buy, can_sell = inv + rb < cap, inv - rs > -cap
        wb = np.where(can_buy & can_sell, p["buy_prob"], can_buy.astype(float))
        ws = np.where(can_buy & can_sell, 1.0 - p["buy_prob"], can_sell.astype(float))
        v2 = 2.0 * self.value_estimate(obs)
        s2 = 2.0 * p["min_surplus"]
        buy_px2, sell_px2 = 2 * L.limit_buy_prices(obs), 2 * L.limit_sell_prices(obs)
        ask_px2, ask_sz = 2 * obs[:, L.ask_prices], obs[:, L.ask_sizes]
        bid_px2, bid_sz = 2 * obs[:, L.bid_prices], obs[:, L.bid_sizes]
        hold = A.one_hot(np.full(n, A.HOLD))
        thetas = np.arange(-p["value_spread"], p["value_spread"] + 1)
        new = np.zeros((n, A.num_actions))
        for theta in thetas:
            top_buy = v2 + 2 * theta - s2   # twice the highest price a buyer accepts
            low_sell = v2 + 2 * theta + s2  # twice the lowest price a seller accepts
            mb = np.zeros(n, dtype=bool)
            ms = np.zeros(n, dtype=bool)
            if p["market_orders"]:
                mb = (ask_sz * (ask_px2 <= top_buy[:, None])).sum(axis=1) - rs >= lot
                ms = (bid_sz * (bid_px2 >= low_sell[:, None])).sum(axis=1) - rb >= lot
            buy_rows = self._side(obs, buy_px2 <= top_buy[:, None], mb, True)
            sell_rows = self._side(obs, sell_px2 >= low_sell[:, None], ms, False)
            new += mix((wb, buy_rows), (ws, sell_rows), (1.0 - wb - ws, hold)) / len(thetas)
        if p["replace"]:
            cancel = A.one_hot(np.full(n, A.CANCEL))
            new = np.where(((rb + rs) > 0)[:, None], cancel, new)
        return mix((np.full(n, p["activity"]), new), (np.full(n, 1.0 - p["activity"]), hold))
