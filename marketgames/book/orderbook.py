"""A limit order book with strict price-time priority, integer price ticks and integer lot sizes.

The book is a pure data structure: it knows no clock, logger or agent. Every operation that trades returns its
:class:`Fill` records. Invariants after every operation: the book is never crossed; quantity is conserved
(submitted = resting + filled + cancelled); no size is negative. Bad input raises :class:`OrderBookError` (a
``ValueError``) and leaves the book bit-identical: every argument is checked before anything changes.

Order ids are integers (``int`` or a numpy integer; never ``bool`` or a float, even an integral one). Bounds, so
that every sum the book keeps fits int64 (see :mod:`marketgames.book.kernels`): ``2 <= n_ticks <= MAX_TICKS``
(2**20), ``1 <= quantity <= MAX_QUANTITY`` (2**40) per order, ids and owners in int64, and an order is refused if
it would take the lifetime ``submitted`` counter past ``2**63 - 1`` (it bounds every other sum).

Matching is done by :mod:`marketgames.book.kernels` (numba), the same code the market game and the batched
simulator use. Self-trade rule: *cancel resting* -- an incoming order never trades with a resting order of the same
owner; that resting order is cancelled and matching continues. Orders without an owner never self-trade.
"""
from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from typing import NamedTuple, TypeGuard

import numpy as np

from . import kernels as K

__all__ = ["Side", "Fill", "OrderBook", "OrderBookError", "SubmitResult", "Level"]


class Side(enum.IntEnum):
    """Side of an order: ``BUY`` rests on the bid, ``SELL`` on the ask."""

    BUY = K.BUY
    SELL = K.SELL

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell (the change of the buyer's inventory per lot)."""
        return 1 if self is Side.BUY else -1


class OrderBookError(ValueError):
    """Invalid input to the order book; the book is unchanged."""


@dataclass(frozen=True)
class Fill:
    """One trade: ``quantity`` lots at the resting (maker) order's ``price``."""

    maker_id: int
    taker_id: int
    maker_owner: int
    taker_owner: int
    price: int
    quantity: int
    aggressor: Side


class SubmitResult(NamedTuple):
    """What an order did: its fills, the quantity left resting, and the ids of orders cancelled by self-trade."""

    fills: list[Fill]
    resting: int
    self_trade_cancelled: list[int]


class Level(NamedTuple):
    price: int
    quantity: int


NO_OWNER = -1
INT64_MIN, INT64_MAX = K.INT64_MIN, K.INT64_MAX
MAX_TICKS, MAX_QUANTITY = K.MAX_TICKS, K.MAX_QUANTITY


class OrderEntry(abc.ABC):
    """Limit, immediate-or-cancel and market orders, all in terms of ``_submit`` (shared by the book and its
    reference model, :class:`marketgames.book.reference.NaiveOrderBook`)."""

    @property
    @abc.abstractmethod
    def n_ticks(self) -> int:
        """Number of price levels (prices are ``0 .. n_ticks-1``)."""

    @abc.abstractmethod
    def _submit(self, order_id: int, side: Side, price: int, quantity: int, owner: int, *,
                rest: bool) -> SubmitResult:
        """Match an order and, with ``rest``, rest its remainder; validates every argument."""

    def limit(self, order_id: int, side: Side, price: int, quantity: int, owner: int = NO_OWNER) -> SubmitResult:
        """A limit order: trades what crosses, rests the remainder at ``price``."""
        return self._submit(order_id, side, price, quantity, owner, rest=True)

    def ioc(self, order_id: int, side: Side, price: int, quantity: int, owner: int = NO_OWNER) -> SubmitResult:
        """Immediate-or-cancel: trades what crosses at ``price`` or better; the remainder is cancelled."""
        return self._submit(order_id, side, price, quantity, owner, rest=False)

    def market(self, order_id: int, side: Side, quantity: int, owner: int = NO_OWNER) -> SubmitResult:
        """A market order: trades against the best prices until filled or the book side is empty."""
        side = check_side(side)
        worst = self.n_ticks - 1 if side is Side.BUY else 0
        return self._submit(order_id, side, worst, quantity, owner, rest=False)


class OrderBook(OrderEntry):
    """Price-time-priority limit order book on the price grid ``0 .. n_ticks-1``.

    Args:
        n_ticks: number of price levels (prices are integer ticks ``0 <= price < n_ticks``).
        capacity: initial number of order slots; the book grows as needed.
    """

    def __init__(self, n_ticks: int, capacity: int = 1024) -> None:
        _check_int("n_ticks", n_ticks, 2, MAX_TICKS)
        _check_int("capacity", capacity, 1)
        self._n_ticks = int(n_ticks)
        self._buf = K.new_book(self._n_ticks, int(capacity))
        self._events = np.zeros((int(capacity), K.EV_WIDTH), dtype=np.int64)
        self._slot_of: dict[int, int] = {}

    # ----------------------------------------------------------------- queries
    @property
    def n_ticks(self) -> int:
        return self._n_ticks

    @property
    def best_bid(self) -> int | None:
        p = int(self._buf[K.H_BEST_BID])
        return None if p < 0 else p

    @property
    def best_ask(self) -> int | None:
        p = int(self._buf[K.H_BEST_ASK])
        return None if p >= self.n_ticks else p

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
        side = check_side(side)
        _check_int("levels", levels, 1, error=OrderBookError)
        levels = min(int(levels), self.n_ticks)   # no more levels exist: do not allocate for more
        prices = np.empty(levels, dtype=np.int64)
        sizes = np.empty(levels, dtype=np.int64)
        k = K.depth(self._buf, int(side), levels, prices, sizes)
        return [Level(int(prices[i]), int(sizes[i])) for i in range(k)]

    def queue_position(self, order_id: int) -> int:
        """Quantity queued ahead of a resting order at its price (0 = first in line)."""
        return int(K.queue_ahead(self._buf, self._slot(order_id)))

    def order(self, order_id: int) -> tuple[Side, int, int]:
        """``(side, price, remaining quantity)`` of a resting order."""
        slot = self._slot(order_id)
        b = self._buf
        return (Side(int(b[b[K.H_OFF_SIDE] + slot])), int(b[b[K.H_OFF_PRICE] + slot]),
                int(b[b[K.H_OFF_QTY] + slot]))

    def __contains__(self, order_id: object) -> bool:
        return is_int(order_id) and order_id in self._slot_of

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def counters(self) -> dict[str, int]:
        """Lifetime quantities: ``submitted == resting + filled + cancelled`` always holds."""
        b = self._buf
        return {"submitted": int(b[K.H_SUBMITTED]), "resting": int(K.resting_quantity(b)),
                "filled": int(b[K.H_FILLED]), "cancelled": int(b[K.H_CANCELLED])}

    # ----------------------------------------------------------------- orders
    def cancel(self, order_id: int) -> int:
        """Cancel a resting order; returns the quantity cancelled."""
        slot = self._slot(order_id)
        del self._slot_of[order_id]
        return int(K.cancel(self._buf, slot))

    def modify(self, order_id: int, *, price: int | None = None, quantity: int | None = None) -> SubmitResult:
        """Change a resting order.

        Reducing the size at the same price keeps the queue position. A new price or a larger size cancels the order
        and re-enters it (same id) at the back of the queue; re-entered at a crossing price it trades.
        """
        slot = self._slot(order_id)
        side, old_price, old_qty = self.order(order_id)
        new_price = old_price if price is None else price
        new_qty = old_qty if quantity is None else quantity
        self._check_price("price", new_price)
        _check_quantity(new_qty)
        new_price, new_qty = int(new_price), int(new_qty)
        if new_price == old_price and new_qty <= old_qty:
            if new_qty < old_qty:
                K.reduce(self._buf, slot, new_qty)
            return SubmitResult([], new_qty, [])
        self._check_room(new_qty)
        # Everything is checked: from here on nothing can fail, so the order is never lost half-way.
        owner = int(self._buf[self._buf[K.H_OFF_OWNER] + slot])
        del self._slot_of[order_id]
        K.cancel(self._buf, slot)
        return self._match(int(order_id), side, new_price, new_qty, owner, rest=True)

    # ----------------------------------------------------------------- internals
    def _slot(self, order_id: int) -> int:
        if type(order_id) is not int:   # fast path for the common case; bool is a subclass of int
            check_order_id(order_id)
        try:
            return self._slot_of[order_id]
        except (KeyError, TypeError):
            raise OrderBookError(f"order_id={order_id!r} is not a resting order of this book") from None

    def _check_price(self, name: str, price: int) -> None:
        if not is_int(price) or not 0 <= int(price) < self.n_ticks:
            raise OrderBookError(f"{name}={price!r} is off the price grid: expected an integer tick in "
                                 f"[0, {self.n_ticks - 1}]")

    def _submit(self, order_id: int, side: Side, price: int, quantity: int, owner: int, *, rest: bool) -> SubmitResult:
        # Fast path for plain ints and a Side; anything else goes through the checks in the documented order.
        if not (type(order_id) is int and type(side) is Side and type(price) is int and type(quantity) is int
                and type(owner) is int and INT64_MIN <= order_id <= INT64_MAX and 0 <= price < self._n_ticks
                and 1 <= quantity <= MAX_QUANTITY and -1 <= owner <= INT64_MAX):
            side = check_side(side)
            check_order_id(order_id)
            if order_id in self._slot_of:
                raise OrderBookError(f"order_id={order_id!r} is already resting in the book (duplicate id)")
            self._check_price("price", price)
            _check_quantity(quantity)
            _check_int("owner", owner, -1, error=OrderBookError)
            order_id, price, quantity, owner = int(order_id), int(price), int(quantity), int(owner)
        elif order_id in self._slot_of:
            raise OrderBookError(f"order_id={order_id!r} is already resting in the book (duplicate id)")
        self._check_room(quantity)
        return self._match(order_id, side, price, quantity, owner, rest=rest)

    def _check_room(self, quantity: int) -> None:
        # ``submitted`` bounds every sum the book keeps; the order would push it past int64.
        submitted = int(self._buf[K.H_SUBMITTED])
        if submitted > INT64_MAX - quantity:
            raise OrderBookError(f"quantity={quantity!r} is not allowed: the book has {submitted} lots submitted in "
                                 f"its lifetime and at most {INT64_MAX} fit in its int64 counters")

    def _match(self, order_id: int, side: Side, price: int, quantity: int, owner: int, *, rest: bool) -> SubmitResult:
        """Run a checked order through the kernel and translate its events."""
        if rest and self._buf[K.H_FREE_HEAD] == -1:
            self._grow()
        buf, events = self._buf, self._events
        slot, n_ev, _ = K.submit(buf, int(side), price, quantity, owner, order_id, 0, rest, events)
        fills: list[Fill] = []
        cancelled: list[int] = []
        for row in events[:n_ev]:
            maker_id = int(row[K.EV_MAKER_ID])
            if row[K.EV_KIND] == K.EV_FILL:
                fills.append(Fill(maker_id, order_id, int(row[K.EV_MAKER_OWNER]), owner,
                                  int(row[K.EV_PRICE]), int(row[K.EV_QTY]), side))
            else:
                cancelled.append(maker_id)
            maker_slot = row[K.EV_MAKER_SLOT]
            # The taker may have re-used a freed maker slot, so compare ids, not only quantities.
            if buf[buf[K.H_OFF_QTY] + maker_slot] == 0 or buf[buf[K.H_OFF_ID] + maker_slot] != maker_id:
                self._slot_of.pop(maker_id, None)
        resting = 0
        if slot >= 0:
            self._slot_of[order_id] = int(slot)
            resting = int(buf[buf[K.H_OFF_QTY] + slot])
        return SubmitResult(fills, resting, cancelled)

    def _grow(self) -> None:
        """Double the slot capacity, keeping every queue in order."""
        old = self._buf
        cap = int(old[K.H_CAPACITY])
        new = K.new_book(self.n_ticks, 2 * cap)
        # Slots keep their index, so the links copy over unchanged; only the free list is rebuilt.
        for field in (K.H_OFF_NEXT, K.H_OFF_PREV, K.H_OFF_PRICE, K.H_OFF_QTY, K.H_OFF_SIDE, K.H_OFF_OWNER,
                      K.H_OFF_ID, K.H_OFF_TAG):
            new[new[field]:new[field] + cap] = old[old[field]:old[field] + cap]
        n2 = 2 * self.n_ticks
        for field in (K.H_OFF_HEAD, K.H_OFF_TAIL, K.H_OFF_LEVEL_QTY):
            new[new[field]:new[field] + n2] = old[old[field]:old[field] + n2]
        for h in (K.H_BEST_BID, K.H_BEST_ASK, K.H_N_ACTIVE, K.H_SUBMITTED, K.H_FILLED, K.H_CANCELLED):
            new[h] = old[h]
        nxt = new[K.H_OFF_NEXT]
        new[nxt + 2 * cap - 1] = -1
        new[nxt + cap:nxt + 2 * cap - 1] = np.arange(cap + 1, 2 * cap)
        new[K.H_FREE_HEAD] = cap  # the old book was full
        self._buf = new
        self._events = np.zeros((2 * cap, K.EV_WIDTH), dtype=np.int64)


def check_side(side: object) -> Side:
    # Only integers 0/1 (a Side is one): ``Side(True)`` or ``Side(1.0)`` would otherwise be accepted as SELL.
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side not in (K.BUY, K.SELL):
        raise OrderBookError(f"side={side!r} is not a Side: expected Side.BUY or Side.SELL")
    return Side(int(side))


def is_int(value: object) -> TypeGuard[int | np.integer]:
    """An ``int`` or a numpy integer, not a ``bool`` (nor ``np.bool_``, which is no ``np.integer``)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_order_id(order_id: object) -> None:
    if not is_int(order_id) or not INT64_MIN <= int(order_id) <= INT64_MAX:
        raise OrderBookError(f"order_id={order_id!r} is not an order id: expected an int in [{INT64_MIN}, "
                             f"{INT64_MAX}] (not a float or bool)")


def _check_quantity(quantity: object) -> None:
    _check_int("quantity", quantity, 1, MAX_QUANTITY, error=OrderBookError)


def _check_int(name: str, value: object, minimum: int, maximum: int = INT64_MAX,
               error: type[Exception] = ValueError) -> None:
    # The kernels store int64 and bound sizes (MAX_QUANTITY): a larger value would overflow a sum.
    if not is_int(value) or not minimum <= int(value) <= maximum:
        raise error(f"{name}={value!r} is not allowed: expected an int in [{minimum}, {maximum}]")
