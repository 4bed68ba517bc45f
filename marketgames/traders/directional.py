"""Directional traders of agent-based market models: trend followers (chartists), mean reversion
(fundamentalists) and noise traders.

References: Kirman (1993), "Ants, rationality, and recruitment"; Lux & Marchesi (1999), "Scaling and criticality in
a stochastic multi-agent model of a financial market"; Chiarella & Iori (2002), "A simulation analysis of the
microstructure of double auction markets", and Chiarella, Iori & Perello (2009), "The impact of heterogeneous
trading rules on the limit order book and order flows" (chartist, fundamentalist and noise components of order
flow); De Long, Shleifer, Summers & Waldmann (1990), "Noise trader risk in financial markets".
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import Param, RuleTrader, mix

_ORDER = Param("market", "market orders cross the spread; limit orders join the best bid/ask (k=0)", str,
               choices=("market", "limit"))
_MAX_POSITION = Param(None, "largest |inventory| the trader builds (default: the market's position_limit)", int,
                      low=1)


class _DirectionalTrader(RuleTrader):
    """Shared plumbing: turn boolean buy/sell signals into orders that respect the trader's position."""

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        params["max_position"] = self._max_position(params["max_position"])
        if params["order"] == "limit":
            self._need_limit_levels("order", "limit", 1)
        return params

    def _orders(self, obs: np.ndarray, buy: np.ndarray, sell: np.ndarray) -> np.ndarray:
        """One-hot rows: buy / sell where signalled and allowed by ``max_position``, else hold.

        With limit orders, a signal first cancels the trader's stale orders on the other side, and does not stack a
        second order on a side where one already rests.
        """
        L, A = self.layout, self.actions
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        cap = self._params["max_position"]
        buy = buy & (inv + rb < cap)
        sell = sell & (inv - rs > -cap)
        action = np.full(obs.shape[0], A.HOLD, dtype=np.int64)
        if self._params["order"] == "market":
            action[buy] = A.MARKET_BUY
            action[sell] = A.MARKET_SELL
        else:
            action[buy & (rb == 0)] = A.limit_buy(0)
            action[sell & (rs == 0)] = A.limit_sell(0)
            action[(buy & (rs > 0)) | (sell & (rb > 0))] = A.CANCEL
        return A.one_hot(action)


class TrendFollower(_DirectionalTrader):
    """Trend follower (chartist): buys after the mid has risen, sells after it has fallen.

    Momentum is the mid's change over the last ``window`` recorded rounds (the sum of the observed mid changes).
    It buys when momentum >= ``threshold`` ticks and sells when momentum <= -``threshold``, while its
    inventory (plus resting orders on that side) stays within ``max_position``; otherwise it holds.
    Chiarella & Iori (2002); Lux & Marchesi (1999).
    """

    name: ClassVar[str] = "trend"
    PARAMS: ClassVar[dict[str, Param]] = {
        "window": Param(None, "rounds of mid changes summed (default: all the market's history)", int, low=1),
        "threshold": Param(1.0, "momentum in ticks that triggers a trade (>= 0.5: mids move in half ticks)",
                           float, low=0.5),
        "order": _ORDER,
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        history = self.config.history
        if history < 1:
            raise self._error("window", params["window"], "a trend follower needs past mid changes, but the "
                              "market has history=0; use a market with history >= 1")
        if params["window"] is None:
            params["window"] = history
        elif params["window"] > history:
            raise self._error("window", params["window"], f"expected <= the market's history={history}")
        return super()._resolve(params)

    def momentum(self, obs: np.ndarray) -> np.ndarray:
        """Mid change over the window, in ticks."""
        obs = self.layout.check(obs)
        return self.layout.mid_changes2(obs)[:, -self._params["window"]:].sum(axis=1) / 2.0

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        m = self.momentum(obs)
        t = self._params["threshold"]
        return self._orders(obs, m >= t, m <= -t)


class MeanReversion(_DirectionalTrader):
    """Mean-reversion trader (fundamentalist / contrarian): trades against deviations from a reference price.

    The price is the mid (the last trade price when a side of the book is empty). The reference is either the
    fundamental's long-run mean ``price_levels // 2`` (public: the fundamental reverts to it) or a moving average of
    the observed mids over ``window`` rounds. It sells when price - reference >= ``threshold`` ticks and buys when
    it is <= -``threshold``, within ``max_position``. Chiarella & Iori (2002); Lux & Marchesi (1999).
    """

    name: ClassVar[str] = "mean_reversion"
    PARAMS: ClassVar[dict[str, Param]] = {
        "reference": Param("fundamental_mean", "the price it expects to revert to", str,
                           choices=("fundamental_mean", "moving_average")),
        "window": Param(None, "rounds in the moving average (default: the market's history)", int, low=1),
        "threshold": Param(2.0, "deviation in ticks that triggers a trade (>= 0.5: mids move in half ticks)",
                           float, low=0.5),
        "order": _ORDER,
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        self._resolve_window(params, choice="reference", fallback="fundamental_mean")
        return super()._resolve(params)

    def reference2(self, obs: np.ndarray) -> np.ndarray:
        """Twice the reference price."""
        obs = self.layout.check(obs)
        if self._params["reference"] == "fundamental_mean":
            return np.full(obs.shape[0], 2.0 * self.config.fundamental_mean)
        w = self._params["window"]
        return self.layout.mid_history2(obs)[:, -(w + 1):].mean(axis=1)

    def deviation(self, obs: np.ndarray) -> np.ndarray:
        """Mid minus reference, in ticks."""
        obs = self.layout.check(obs)
        return (self.layout.mid2(obs) - self.reference2(obs)) / 2.0

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        d = self.deviation(obs)
        t = self._params["threshold"]
        return self._orders(obs, d <= -t, d >= t)


class NoiseTrader(RuleTrader):
    """Noise trader: each round a market buy with ``buy_prob``, a market sell with ``sell_prob``, else holds.

    Uninformed liquidity demand (De Long et al. 1990; the noise component of Chiarella et al. 2009). A side that
    would take |inventory| past ``max_position`` gives its probability to holding.
    """

    name: ClassVar[str] = "noise"
    PARAMS: ClassVar[dict[str, Param]] = {
        "buy_prob": Param(0.25, "probability of a market buy each round", float, low=0.0, high=1.0),
        "sell_prob": Param(0.25, "probability of a market sell each round", float, low=0.0, high=1.0),
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["buy_prob"] + params["sell_prob"] > 1.0:
            raise self._error("sell_prob", params["sell_prob"], f"buy_prob + sell_prob must be <= 1 (buy_prob="
                              f"{params['buy_prob']})")
        params["max_position"] = self._max_position(params["max_position"])
        return params

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A = self.layout, self.actions
        inv = L.inventory(obs)
        cap = self._params["max_position"]
        pb = np.where(inv + L.resting_buy(obs) < cap, self._params["buy_prob"], 0.0)
        ps = np.where(inv - L.resting_sell(obs) > -cap, self._params["sell_prob"], 0.0)
        n = obs.shape[0]
        return mix((pb, A.one_hot(np.full(n, A.MARKET_BUY))), (ps, A.one_hot(np.full(n, A.MARKET_SELL))),
                   (1.0 - pb - ps, A.one_hot(np.full(n, A.HOLD))))
