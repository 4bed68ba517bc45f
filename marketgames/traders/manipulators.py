"""Manipulative traders: a spoofer, a layering trader, a pump-and-dump (momentum ignition) trader and a predatory
liquidity taker.

The first three follow a fixed schedule read off the observed round (``steps - rounds_left``), so they need no
memory; the predator reacts to the depth it observes. Their damage to the market is measured by
:func:`solvers.robustness.market_damage` (``python -m studies manipulation``), not assumed here.

References: Wang & Wellman (2017), "Spoofing the limit order book: an agent-based model" (AAMAS), and Wang,
Vorobeychik & Wellman (2018), "A cloaking mechanism to mitigate market manipulation"; Allen & Gale (1992),
"Stock-price manipulation" (trade-based manipulation); Kyle & Viswanathan (2008), "How to define illegal price
manipulation"; the SEC's 2010 "Concept release on equity market structure" (momentum ignition).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import Param, RuleTrader
from .observation import ActionLayout

_MAX_POSITION = Param(None, "largest |inventory| the trader builds (default: the market's position_limit)", int,
                      low=1)


class Spoofer(RuleTrader):
    """Spoofer: fakes pressure on one side with an order behind the touch, trades on the other side, cancels.

    A cycle of ``period`` rounds: round 0 of the cycle places the spoof, a limit order ``offset`` ticks behind the
    best bid (a buy spoof) or best ask (a sell spoof), where it is unlikely to execute but shows as depth; round 1
    trades on the opposite side (``trade_order``: a market order, or a limit order joining the touch); the remaining
    rounds cancel all its resting orders (the spoof) and wait. ``spoof=False`` is the control: the same schedule of
    genuine trades and cancels without the spoof orders (the paired comparison isolates the spoof's effect). The
    menu's ``cancel`` withdraws all of a player's orders, so with ``trade_order="limit"`` an unfilled genuine order
    is withdrawn with the spoof. With ``side="auto"`` it spoofs buys when flat or long
    (to sell into the pressure) and sells when short (to buy back), so it keeps its position small; ``"buy"`` /
    ``"sell"`` fix the spoof side. Wang & Wellman (2017).
    """

    name: ClassVar[str] = "spoofer"
    PARAMS: ClassVar[dict[str, Param]] = {
        "side": Param("auto", "side of the spoof orders", str, choices=("auto", "buy", "sell")),
        "offset": Param(1, "ticks behind the touch of the spoof order (needs limit_levels > offset)", int, low=1),
        "period": Param(3, "rounds in a spoof / trade / cancel cycle", int, low=3),
        "trade_order": Param("market", "order type of the genuine trade", str, choices=("market", "limit")),
        "max_position": _MAX_POSITION,
        "spoof": Param(True, "place the spoof orders (False: the same trades without them, the control arm)", bool),
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        self._need_limit_levels("offset", params["offset"], params["offset"] + 1)
        params["max_position"] = self._max_position(params["max_position"])
        return params

    def phase(self, obs: np.ndarray) -> np.ndarray:
        """Position in the cycle: 0 spoof, 1 trade, >= 2 cancel."""
        obs = self.layout.check(obs)
        return self.layout.elapsed(obs) % self._params["period"]

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A, p = self.layout, self.actions, self._params
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        cap = p["max_position"]
        if p["side"] == "auto":
            spoof_buy = inv >= 0
        else:
            spoof_buy = np.full(obs.shape[0], p["side"] == "buy")
        phase = self.phase(obs)
        k = p["offset"]
        spoof = np.where(spoof_buy, np.where(inv + rb < cap, A.limit_buy(k), A.HOLD),
                         np.where(inv - rs > -cap, A.limit_sell(k), A.HOLD))
        if not p["spoof"]:
            spoof = np.full(obs.shape[0], A.HOLD)
        trade, cancel = _trade_and_cancel(A, p["trade_order"], spoof_buy, inv, rb, rs, cap)
        action = np.where(phase == 0, spoof, np.where(phase == 1, trade, cancel))
        return A.one_hot(action)


class Layering(RuleTrader):
    """Layering: several orders at successive price levels on one side, then a trade on the other, then all
    cancelled together.

    The action menu sends one order per round, each ``limit_buy_k`` at ``k`` ticks behind the best bid seen that
    round (``limit_sell_k`` behind the best ask), so the layers are built over successive rounds: a cycle of
    ``layers + 2`` rounds places layer ``j`` (``j = 0 .. layers-1``) with ``limit_buy(offset + j)`` in round ``j``
    -- at successive levels ``bid - offset``, ``bid - offset - 1``, ... while the touch stays put -- trades on the
    opposite side in round ``layers`` (``trade_order``), and in the last round sends ``cancel``, which withdraws all
    of its resting orders at once. Needs ``limit_levels >= offset + layers`` and ``max_orders >= layers``.
    ``side``, ``trade_order`` and ``spoof`` as for :class:`Spoofer`. The SEC and FINRA's description of layering (e.g. SEC v. Lek Securities,
    2017); Wang & Wellman (2017) on spoofing.
    """

    name: ClassVar[str] = "layering"
    PARAMS: ClassVar[dict[str, Param]] = {
        "side": Param("auto", "side of the layered orders", str, choices=("auto", "buy", "sell")),
        "layers": Param(2, "orders at successive levels (needs limit_levels >= offset + layers)", int, low=2),
        "offset": Param(None, "ticks behind the touch of the first layer (default: 1 if the market's limit_levels "
                              "allows it, else 0)", int, low=0),
        "trade_order": Param("market", "order type of the genuine trade", str, choices=("market", "limit")),
        "max_position": _MAX_POSITION,
        "spoof": Param(True, "place the layers (False: the same trades without them, the control arm)", bool),
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["offset"] is None:
            params["offset"] = 1 if self.config.limit_levels >= params["layers"] + 1 else 0
        self._need_limit_levels("layers", params["layers"], params["offset"] + params["layers"])
        if params["layers"] > self.config.max_orders:
            raise self._error("layers", params["layers"], f"expected <= the market's max_orders="
                              f"{self.config.max_orders} (further resting orders are rejected)")
        params["max_position"] = self._max_position(params["max_position"])
        return params

    def phase(self, obs: np.ndarray) -> np.ndarray:
        """Position in the cycle: ``0 .. layers-1`` place layer ``j``, ``layers`` trade, ``layers + 1`` cancel."""
        obs = self.layout.check(obs)
        return self.layout.elapsed(obs) % (self._params["layers"] + 2)

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A, p = self.layout, self.actions, self._params
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        cap, n = p["max_position"], p["layers"]
        layer_buy = inv >= 0 if p["side"] == "auto" else np.full(obs.shape[0], p["side"] == "buy")
        phase = self.phase(obs)
        k = p["offset"] + np.minimum(phase, n - 1)
        layer = np.where(layer_buy, np.where(inv + rb < cap, A.limit_buy(k), A.HOLD),
                         np.where(inv - rs > -cap, A.limit_sell(k), A.HOLD))
        if not p["spoof"]:
            layer = np.full(obs.shape[0], A.HOLD)
        trade, cancel = _trade_and_cancel(A, p["trade_order"], layer_buy, inv, rb, rs, cap)
        action = np.where(phase < n, layer, np.where(phase == n, trade, cancel))
        return A.one_hot(action)


class PumpAndDump(RuleTrader):
    """Pump and dump (momentum ignition): buys aggressively for ``pump_rounds`` to push the price up, then sells.

    From round ``start``: ``pump_rounds`` of market buys (while below ``max_position``), then ``dump_rounds`` of
    selling its long inventory (``dump_order``: market sells, or limit sells joining the best ask, cancelling
    leftover resting buys first); flat or short in the dump, it holds. With ``repeat=True`` the cycle starts again
    after each dump; otherwise it holds afterwards. Allen & Gale (1992); SEC (2010) on momentum ignition.
    """

    name: ClassVar[str] = "pump_and_dump"
    PARAMS: ClassVar[dict[str, Param]] = {
        "start": Param(0, "round of the first pump", int, low=0),
        "pump_rounds": Param(5, "rounds of buying", int, low=1),
        "dump_rounds": Param(5, "rounds of selling", int, low=1),
        "repeat": Param(True, "start a new pump after each dump", bool),
        "dump_order": Param("market", "order type of the dump", str, choices=("market", "limit")),
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["dump_order"] == "limit":
            self._need_limit_levels("dump_order", "limit", 1)
        params["max_position"] = self._max_position(params["max_position"])
        return params

    def stage(self, obs: np.ndarray) -> np.ndarray:
        """0 before the first pump or after the last dump, 1 pumping, 2 dumping."""
        obs = self.layout.check(obs)
        p = self._params
        t = self.layout.elapsed(obs) - p["start"]
        cycle = p["pump_rounds"] + p["dump_rounds"]
        pos = np.mod(t, cycle)
        active = (t >= 0) & (p["repeat"] | (t < cycle))
        return np.where(active, np.where(pos < p["pump_rounds"], 1, 2), 0)

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A, p = self.layout, self.actions, self._params
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        stage = self.stage(obs)
        pump = np.where(inv + rb < p["max_position"], A.MARKET_BUY, A.HOLD)
        if p["dump_order"] == "market":
            dump = np.where(inv > 0, A.MARKET_SELL, A.HOLD)
        else:
            dump = np.where(inv > rs, A.limit_sell(0), A.HOLD)
            dump = np.where((inv > 0) & (rb > 0), A.CANCEL, dump)
        action = np.where(stage == 1, pump, np.where(stage == 2, dump, A.HOLD))
        return A.one_hot(action)


class PredatoryTaker(RuleTrader):
    """Predatory liquidity taker: sends market orders against resting quotes when one side of the book is thin.

    When the visible depth of one side (lots over the observed ``book_levels``) is positive but at most
    ``thin_depth``, it takes it with a market order (buys a thin ask side, sells into a thin bid side; the thinner
    side when both are thin, buying on a tie), sweeping the little liquidity there and moving the price the most
    per lot. Otherwise it unwinds its inventory (``unwind``: a limit order joining the touch, a market order, or
    hold), cancelling resting orders on the side that would add to it first. It never builds more than
    ``max_position``. In the spirit of Brunnermeier & Pedersen (2005), "Predatory trading", where a trader
    exploits the price impact of trading against scarce liquidity.
    """

    name: ClassVar[str] = "predator"
    PARAMS: ClassVar[dict[str, Param]] = {
        "thin_depth": Param(1, "visible lots on a side at or below which the side counts as thin", int, low=1),
        "unwind": Param("limit", "how it sheds inventory when no side is thin", str,
                        choices=("limit", "market", "hold")),
        "max_position": _MAX_POSITION,
    }

    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["unwind"] == "limit":
            self._need_limit_levels("unwind", "limit", 1)
        params["max_position"] = self._max_position(params["max_position"])
        return params

    def side_depth(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(bid lots, ask lots)`` visible in the observed book levels."""
        obs = self.layout.check(obs)
        return obs[:, self.layout.bid_sizes].sum(axis=1), obs[:, self.layout.ask_sizes].sum(axis=1)

    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        L, A, p = self.layout, self.actions, self._params
        inv, rb, rs = L.inventory(obs), L.resting_buy(obs), L.resting_sell(obs)
        # own resting lots are part of the visible depth but not liquidity it can take
        bid, ask = self.side_depth(obs)
        bid, ask = bid - rb, ask - rs
        cap, thin = p["max_position"], p["thin_depth"]
        thin_ask = (ask > 0) & (ask <= thin) & (inv < cap)
        thin_bid = (bid > 0) & (bid <= thin) & (inv > -cap)
        buy = thin_ask & (~thin_bid | (ask <= bid))
        sell = thin_bid & ~buy
        unwind = np.full(obs.shape[0], A.HOLD, dtype=np.int64)
        if p["unwind"] == "limit":
            unwind = np.where((inv > 0) & (rs == 0), A.limit_sell(0), unwind)
            unwind = np.where((inv < 0) & (rb == 0), A.limit_buy(0), unwind)
        elif p["unwind"] == "market":
            unwind = np.where(inv > 0, A.MARKET_SELL, np.where(inv < 0, A.MARKET_BUY, unwind))
        # withdraw orders that would add to the position before shedding it
        unwind = np.where(((inv > 0) & (rb > 0)) | ((inv < 0) & (rs > 0)), A.CANCEL, unwind)
        action = np.where(buy, A.MARKET_BUY, np.where(sell, A.MARKET_SELL, unwind))
        return A.one_hot(action)


def _trade_and_cancel(A: ActionLayout, trade_order: str, fake_buy: np.ndarray, inv: np.ndarray, rb: np.ndarray, rs: np.ndarray,
                      cap: int) -> tuple[np.ndarray, np.ndarray]:
    """What a spoofer or layerer does after its fake orders: the genuine trade on the other side (market or at the
    touch, within the position limit), then the cancel that withdraws everything it has resting."""
    sell, buy = (A.MARKET_SELL, A.MARKET_BUY) if trade_order == "market" else (A.limit_sell(0), A.limit_buy(0))
    trade = np.where(fake_buy, np.where(inv - rs > -cap, sell, A.HOLD), np.where(inv + rb < cap, buy, A.HOLD))
    return trade, np.where(rb + rs > 0, A.CANCEL, A.HOLD)
