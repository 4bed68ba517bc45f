"""A deliberately naive limit order book: the reference model (oracle) for :class:`~marketgames.book.OrderBook`.

Same public API and semantics as :class:`~marketgames.book.OrderBook` -- strict price-time priority, fills at the
resting (maker) order's price, self-trade rule *cancel resting*, ``modify`` keeping the queue position only for a
size reduction at the same price, the same :class:`OrderBookError` (naming the same parameter) on bad input and the
same lifetime counters -- written for obviousness, not speed: the resting orders are one plain list, and every match
sorts the crossing orders by (price, arrival). It shares no matching code with :mod:`marketgames.book.kernels`, so
property tests comparing the two check the compiled kernels against an independent statement of the rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from .orderbook import (INT64_MAX, INT64_MIN, MAX_QUANTITY, MAX_TICKS, NO_OWNER, Fill, Level, OrderBookError,
                        OrderEntry, Side, SubmitResult)

__all__ = ["NaiveOrderBook"]


@dataclass
class _Order:
    order_id: int
    side: Side
    price: int
    quantity: int
    owner: int
    arrival: int


def _is_int(value: object) -> TypeGuard[int | np.integer]:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _need_int(name: str, value: object, minimum: int, maximum: int = INT64_MAX) -> None:
    if not _is_int(value) or not minimum <= int(value) <= maximum:
        raise OrderBookError(f"{name}={value!r} must be an integer in [{minimum}, {maximum}]")


def _need_side(side: object) -> Side:
    if not _is_int(side) or side not in (Side.BUY, Side.SELL):
        raise OrderBookError(f"side={side!r} is not a Side: expected Side.BUY or Side.SELL")
    return Side(int(side))


class NaiveOrderBook(OrderEntry):
    """Reference price-time-priority order book on the price grid ``0 .. n_ticks-1`` (see the module docstring).

    Args:
        n_ticks: number of price levels.
        capacity: accepted for API compatibility with :class:`~marketgames.book.OrderBook`; the list just grows.
    """

    def __init__(self, n_ticks: int, capacity: int = 1024) -> None:
        if not _is_int(n_ticks) or not 2 <= n_ticks <= MAX_TICKS:
            raise ValueError(f"n_ticks={n_ticks!r} must be an integer in [2, {MAX_TICKS}]")
        if not _is_int(capacity) or capacity < 1:
            raise ValueError(f"capacity={capacity!r} must be an integer >= 1")
        self._n_ticks = int(n_ticks)
        self._orders: list[_Order] = []
        self._arrivals = 0
        self._submitted = self._filled = self._cancelled = 0

    @property
    def n_ticks(self) -> int:
        return self._n_ticks

    # ----------------------------------------------------------------- queries
    def _side_orders(self, side: Side) -> list[_Order]:
        """Resting orders of ``side`` in priority order: best price first, then oldest first."""
        orders = [o for o in self._orders if o.side == side]
        sign = -1 if side is Side.BUY else 1
        return sorted(orders, key=lambda o: (sign * o.price, o.arrival))

    @property
    def best_bid(self) -> int | None:
        bids = self._side_orders(Side.BUY)
        return bids[0].price if bids else None

    @property
    def best_ask(self) -> int | None:
        asks = self._side_orders(Side.SELL)
        return asks[0].price if asks else None

    @property
    def spread(self) -> int | None:
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask - bid

    @property
    def mid(self) -> float | None:
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else (bid + ask) / 2

    def depth(self, side: Side, levels: int) -> list[Level]:
        """The top ``levels`` non-empty price levels of ``side``, best first."""
        side = _need_side(side)
        _need_int("levels", levels, 1)
        totals: dict[int, int] = {}
        for o in self._side_orders(side):
            totals[o.price] = totals.get(o.price, 0) + o.quantity
        return [Level(p, q) for p, q in totals.items()][:levels]

    def queue_position(self, order_id: int) -> int:
        """Quantity queued ahead of a resting order at its price (0 = first in line)."""
        me = self._find(order_id)
        return sum(o.quantity for o in self._orders
                   if o.side == me.side and o.price == me.price and o.arrival < me.arrival)

    def order(self, order_id: int) -> tuple[Side, int, int]:
        """``(side, price, remaining quantity)`` of a resting order."""
        o = self._find(order_id)
        return (o.side, o.price, o.quantity)

    def __contains__(self, order_id: object) -> bool:
        return _is_int(order_id) and any(o.order_id == order_id for o in self._orders)

    def __len__(self) -> int:
        return len(self._orders)

    @property
    def counters(self) -> dict[str, int]:
        """Lifetime quantities: ``submitted == resting + filled + cancelled`` (filled counts both sides)."""
        return {"submitted": self._submitted, "resting": sum(o.quantity for o in self._orders),
                "filled": self._filled, "cancelled": self._cancelled}

    # ----------------------------------------------------------------- orders
    def cancel(self, order_id: int) -> int:
        """Cancel a resting order; returns the quantity cancelled."""
        o = self._find(order_id)
        self._orders.remove(o)
        self._cancelled += o.quantity
        return o.quantity

    def modify(self, order_id: int, *, price: int | None = None, quantity: int | None = None) -> SubmitResult:
        """Size down at the same price keeps the queue position; anything else is cancel + a new limit order.

        Everything is checked before the order is touched: a refused modify leaves it as it was.
        """
        o = self._find(order_id)
        new_price = o.price if price is None else price
        new_qty = o.quantity if quantity is None else quantity
        self._need_price(new_price)
        _need_int("quantity", new_qty, 1, MAX_QUANTITY)
        new_price, new_qty = int(new_price), int(new_qty)
        if new_price == o.price and new_qty <= o.quantity:
            self._cancelled += o.quantity - new_qty
            o.quantity = new_qty
            return SubmitResult([], new_qty, [])
        self._need_room(new_qty)
        self.cancel(order_id)
        return self._submit(o.order_id, o.side, new_price, new_qty, o.owner, rest=True)

    # ----------------------------------------------------------------- internals
    def _find(self, order_id: object) -> _Order:
        if not _is_int(order_id):
            raise OrderBookError(f"order_id={order_id!r} is not an order id: ids are integers, not floats or bools")
        for o in self._orders:
            if o.order_id == order_id:
                return o
        raise OrderBookError(f"order_id={order_id!r} is not a resting order of this book")

    def _need_price(self, price: object) -> None:
        if not _is_int(price) or not 0 <= price < self.n_ticks:
            raise OrderBookError(f"price={price!r} is off the price grid: expected an integer tick in "
                                 f"[0, {self.n_ticks - 1}]")

    def _need_room(self, quantity: int) -> None:
        # The compiled book keeps int64 counters: it refuses an order that would take ``submitted`` past int64.
        if self._submitted + quantity > INT64_MAX:
            raise OrderBookError(f"quantity={quantity!r} would take the lifetime submitted quantity past {INT64_MAX}")

    def _submit(self, order_id: int, side: Side, price: int, quantity: int, owner: int, *, rest: bool) -> SubmitResult:
        side = _need_side(side)
        if not _is_int(order_id) or not INT64_MIN <= order_id <= INT64_MAX:
            raise OrderBookError(f"order_id={order_id!r} must be an integer in [{INT64_MIN}, {INT64_MAX}]")
        if order_id in self:
            raise OrderBookError(f"order_id={order_id!r} is already resting in the book (duplicate id)")
        self._need_price(price)
        _need_int("quantity", quantity, 1, MAX_QUANTITY)
        _need_int("owner", owner, NO_OWNER)
        self._need_room(int(quantity))
        order_id, price, remaining, owner = int(order_id), int(price), int(quantity), int(owner)
        self._submitted += remaining
        fills: list[Fill] = []
        self_trade_cancelled: list[int] = []
        while remaining > 0:
            opposite = self._side_orders(side.opposite)
            if not opposite:
                break
            maker = opposite[0]
            if (side is Side.BUY and maker.price > price) or (side is Side.SELL and maker.price < price):
                break
            if owner != NO_OWNER and maker.owner == owner:
                self_trade_cancelled.append(maker.order_id)
                self._cancelled += maker.quantity
                self._orders.remove(maker)
                continue
            qty = min(remaining, maker.quantity)
            fills.append(Fill(maker.order_id, order_id, maker.owner, owner, maker.price, qty, side))
            self._filled += 2 * qty
            remaining -= qty
            maker.quantity -= qty
            if maker.quantity == 0:
                self._orders.remove(maker)
        if remaining > 0 and rest:
            self._orders.append(_Order(order_id, side, price, remaining, owner, self._arrivals))
            self._arrivals += 1
            return SubmitResult(fills, remaining, self_trade_cancelled)
        self._cancelled += remaining
        return SubmitResult(fills, 0, self_trade_cancelled)
