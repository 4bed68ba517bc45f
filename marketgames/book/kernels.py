"""Price-time-priority matching on a flat integer buffer, compiled with numba.

This module *is* the matching rule of the project: the :class:`~marketgames.book.OrderBook` facade, the OpenSpiel
market game and the batched simulator all call these functions, so there is one implementation of the rules.

A book lives in one ``int64`` array (so copying a market is one ``memcpy``). Prices are integer ticks on a grid
``0 .. n_ticks-1``; sizes are integer lots. Each price level of each side is a FIFO doubly linked list of order
slots; free slots form a singly linked free list. The header stores the layout, the best prices and counters that
let tests check conservation of quantity (submitted = resting + filled + cancelled).

Bounds (so that no sum overflows int64): ``2 <= n_ticks <= MAX_TICKS``, ``1 <= quantity <= MAX_QUANTITY`` per order,
and the lifetime ``submitted`` counter stays ``<= INT64_MAX``. Every other sum the book keeps -- a level's size, a
side's total, the resting quantity, ``filled`` (twice the traded volume: each traded lot was submitted once by each
side) and ``cancelled`` -- is at most ``submitted``, so it fits too, and so does ``price * quantity`` of one order
(< 2**60). The kernels trust their callers; the :class:`~marketgames.book.OrderBook` facade and
:func:`marketgames.book.stream.process_messages` check these bounds at the boundary.

Self-trade rule (cancel-resting): when an incoming order would trade with a resting order of the same owner
(owner >= 0), the resting order is cancelled instead (an event of kind ``EV_SELF_TRADE_CANCEL``) and matching
goes on. Owner ``-1`` is anonymous and never self-trades.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BUY = 0
SELL = 1

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_TICKS = 2**20           # price grid 0 .. n_ticks-1 with n_ticks <= MAX_TICKS
MAX_QUANTITY = 2**40        # lots per order (about 1.1e12)

# Header fields.
H_N_TICKS = 0
H_CAPACITY = 1
H_BEST_BID = 2      # -1 when there is no bid
H_BEST_ASK = 3      # n_ticks when there is no ask
H_FREE_HEAD = 4     # first free slot, -1 when full
H_N_ACTIVE = 5
H_OFF_HEAD = 6
H_OFF_TAIL = 7
H_OFF_LEVEL_QTY = 8
H_OFF_NEXT = 9
H_OFF_PREV = 10
H_OFF_PRICE = 11
H_OFF_QTY = 12
H_OFF_SIDE = 13
H_OFF_OWNER = 14
H_OFF_ID = 15
H_OFF_TAG = 16
H_SUBMITTED = 17    # quantity ever submitted
H_FILLED = 18       # quantity filled, both sides counted (2 x traded volume)
H_CANCELLED = 19    # quantity cancelled (explicit, self-trade, IOC remainder, expiry, rejected remainder)
H_SIZE = 20

# Event rows written by ``submit``: one per fill or self-trade cancellation.
EV_KIND = 0
EV_MAKER_SLOT = 1
EV_MAKER_OWNER = 2
EV_MAKER_ID = 3
EV_PRICE = 4
EV_QTY = 5
EV_WIDTH = 6
EV_FILL = 0
EV_SELF_TRADE_CANCEL = 1

# Message rows for :func:`marketgames.book.stream.process_messages`: columns, and the kinds of message.
MSG_TYPE = 0
MSG_SIDE = 1
MSG_PRICE = 2       # ignored by market orders and cancels
MSG_QTY = 3         # ignored by cancels
MSG_OWNER = 4       # ignored by cancels
MSG_ID = 5          # order id (>= 0); a cancel names the order to cancel
MSG_WIDTH = 6
MSG_LIMIT = 0
MSG_IOC = 1
MSG_MARKET = 2
MSG_CANCEL = 3

# ``submit`` result codes besides a slot index.
NOT_RESTING = -1     # fully filled, or immediate-or-cancel
REJECTED_FULL = -2   # the remainder could not rest: no free slot (it is counted as cancelled)


def book_size(n_ticks: int, capacity: int) -> int:
    """Number of int64 words a book of ``n_ticks`` price levels and ``capacity`` order slots occupies."""
    return H_SIZE + 3 * 2 * n_ticks + 8 * capacity


@njit(cache=True)
def write_layout(buf, n_ticks, capacity):
    """Write the layout fields of a header (``H_N_TICKS``, ``H_CAPACITY`` and every ``H_OFF_*``) into ``buf``."""
    buf[H_N_TICKS] = n_ticks
    buf[H_CAPACITY] = capacity
    off = H_SIZE
    buf[H_OFF_HEAD] = off
    off += 2 * n_ticks
    buf[H_OFF_TAIL] = off
    off += 2 * n_ticks
    buf[H_OFF_LEVEL_QTY] = off
    off += 2 * n_ticks
    buf[H_OFF_NEXT] = off
    off += capacity
    buf[H_OFF_PREV] = off
    off += capacity
    buf[H_OFF_PRICE] = off
    off += capacity
    buf[H_OFF_QTY] = off
    off += capacity
    buf[H_OFF_SIDE] = off
    off += capacity
    buf[H_OFF_OWNER] = off
    off += capacity
    buf[H_OFF_ID] = off
    off += capacity
    buf[H_OFF_TAG] = off


# The header fields ``write_layout`` sets: a valid book has exactly these values there.
LAYOUT_FIELDS = (H_N_TICKS, H_CAPACITY, H_OFF_HEAD, H_OFF_TAIL, H_OFF_LEVEL_QTY, H_OFF_NEXT, H_OFF_PREV, H_OFF_PRICE,
                 H_OFF_QTY, H_OFF_SIDE, H_OFF_OWNER, H_OFF_ID, H_OFF_TAG)


@njit(cache=True)
def book_init(buf, n_ticks, capacity):
    """Lay out an empty book in ``buf`` (length ``book_size(n_ticks, capacity)``)."""
    buf[:] = 0
    write_layout(buf, n_ticks, capacity)
    buf[H_BEST_BID] = -1
    buf[H_BEST_ASK] = n_ticks
    for i in range(2 * n_ticks):
        buf[buf[H_OFF_HEAD] + i] = -1
        buf[buf[H_OFF_TAIL] + i] = -1
    nxt = buf[H_OFF_NEXT]
    for s in range(capacity):
        buf[nxt + s] = s + 1 if s + 1 < capacity else -1
        buf[buf[H_OFF_PREV] + s] = -1
    buf[H_FREE_HEAD] = 0 if capacity > 0 else -1


@njit(cache=True)
def _refresh_best(buf, side):
    """Move the best price of ``side`` outward past empty levels."""
    n = buf[H_N_TICKS]
    head = buf[H_OFF_HEAD]
    if side == BUY:
        p = buf[H_BEST_BID]
        while p >= 0 and buf[head + p] == -1:
            p -= 1
        buf[H_BEST_BID] = p
    else:
        p = buf[H_BEST_ASK]
        while p < n and buf[head + n + p] == -1:
            p += 1
        buf[H_BEST_ASK] = p


@njit(cache=True)
def _rest(buf, side, price, qty, owner, order_id, tag):
    """Append a new order at the back of its level's queue; returns its slot or -1 when full."""
    slot = buf[H_FREE_HEAD]
    if slot == -1:
        return -1
    n = buf[H_N_TICKS]
    nxt = buf[H_OFF_NEXT]
    prv = buf[H_OFF_PREV]
    buf[H_FREE_HEAD] = buf[nxt + slot]
    lvl = side * n + price
    tail = buf[buf[H_OFF_TAIL] + lvl]
    buf[nxt + slot] = -1
    buf[prv + slot] = tail
    if tail == -1:
        buf[buf[H_OFF_HEAD] + lvl] = slot
    else:
        buf[nxt + tail] = slot
    buf[buf[H_OFF_TAIL] + lvl] = slot
    buf[buf[H_OFF_LEVEL_QTY] + lvl] += qty
    buf[buf[H_OFF_PRICE] + slot] = price
    buf[buf[H_OFF_QTY] + slot] = qty
    buf[buf[H_OFF_SIDE] + slot] = side
    buf[buf[H_OFF_OWNER] + slot] = owner
    buf[buf[H_OFF_ID] + slot] = order_id
    buf[buf[H_OFF_TAG] + slot] = tag
    buf[H_N_ACTIVE] += 1
    if side == BUY:
        if price > buf[H_BEST_BID]:
            buf[H_BEST_BID] = price
    elif price < buf[H_BEST_ASK]:
        buf[H_BEST_ASK] = price
    return slot


@njit(cache=True)
def _remove(buf, slot):
    """Unlink an active slot from its level and free it (its quantity must already be accounted for)."""
    n = buf[H_N_TICKS]
    nxt = buf[H_OFF_NEXT]
    prv = buf[H_OFF_PREV]
    side = buf[buf[H_OFF_SIDE] + slot]
    price = buf[buf[H_OFF_PRICE] + slot]
    lvl = side * n + price
    a = buf[prv + slot]
    b = buf[nxt + slot]
    if a == -1:
        buf[buf[H_OFF_HEAD] + lvl] = b
    else:
        buf[nxt + a] = b
    if b == -1:
        buf[buf[H_OFF_TAIL] + lvl] = a
    else:
        buf[prv + b] = a
    buf[buf[H_OFF_LEVEL_QTY] + lvl] -= buf[buf[H_OFF_QTY] + slot]
    buf[buf[H_OFF_QTY] + slot] = 0
    buf[prv + slot] = -1
    buf[nxt + slot] = buf[H_FREE_HEAD]
    buf[H_FREE_HEAD] = slot
    buf[H_N_ACTIVE] -= 1
    if buf[buf[H_OFF_HEAD] + lvl] == -1:
        _refresh_best(buf, side)


@njit(cache=True)
def submit(buf, side, price, qty, owner, order_id, tag, rest_remainder, events):
    """Match an incoming order against the opposite side, then rest what is left.

    ``price`` is the limit (a market order passes the worst price of the grid). Fills are at the resting order's
    price, oldest first within a level. Each fill and each self-trade cancellation is written as a row of
    ``events`` (at most ``capacity`` rows are ever needed). With ``rest_remainder`` false the order is
    immediate-or-cancel and its unfilled remainder is cancelled.

    Returns ``(slot, n_events, filled)``: the resting slot, ``NOT_RESTING`` or ``REJECTED_FULL``; the number of
    event rows written; the quantity filled.
    """
    n = buf[H_N_TICKS]
    head = buf[H_OFF_HEAD]
    nxt = buf[H_OFF_NEXT]
    qtys = buf[H_OFF_QTY]
    owners = buf[H_OFF_OWNER]
    opp = SELL if side == BUY else BUY
    buf[H_SUBMITTED] += qty
    remaining = qty
    n_ev = 0
    while remaining > 0:
        if side == BUY:
            best = buf[H_BEST_ASK]
            if best >= n or best > price:
                break
        else:
            best = buf[H_BEST_BID]
            if best < 0 or best < price:
                break
        lvl = opp * n + best
        slot = buf[head + lvl]
        while slot != -1 and remaining > 0:
            following = buf[nxt + slot]
            maker_qty = buf[qtys + slot]
            maker_owner = buf[owners + slot]
            if owner >= 0 and maker_owner == owner:
                events[n_ev, EV_KIND] = EV_SELF_TRADE_CANCEL
                events[n_ev, EV_QTY] = maker_qty
                buf[H_CANCELLED] += maker_qty
            else:
                fill = remaining if remaining < maker_qty else maker_qty
                events[n_ev, EV_KIND] = EV_FILL
                events[n_ev, EV_QTY] = fill
                remaining -= fill
                buf[H_FILLED] += 2 * fill
            events[n_ev, EV_MAKER_SLOT] = slot
            events[n_ev, EV_MAKER_OWNER] = maker_owner
            events[n_ev, EV_MAKER_ID] = buf[buf[H_OFF_ID] + slot]
            events[n_ev, EV_PRICE] = best
            done = events[n_ev, EV_QTY]
            n_ev += 1
            if done == maker_qty:
                _remove(buf, slot)
            else:
                buf[qtys + slot] = maker_qty - done
                buf[buf[H_OFF_LEVEL_QTY] + lvl] -= done
            slot = following
    filled = qty - remaining
    if remaining == 0:
        return NOT_RESTING, n_ev, filled
    if not rest_remainder:
        buf[H_CANCELLED] += remaining
        return NOT_RESTING, n_ev, filled
    slot = _rest(buf, side, price, remaining, owner, order_id, tag)
    if slot == -1:
        buf[H_CANCELLED] += remaining
        return REJECTED_FULL, n_ev, filled
    return slot, n_ev, filled


@njit(cache=True)
def cancel(buf, slot):
    """Cancel a resting order; returns the quantity cancelled (0 if the slot is free)."""
    qty = buf[buf[H_OFF_QTY] + slot]
    if qty > 0:
        buf[H_CANCELLED] += qty
        _remove(buf, slot)
    return qty


@njit(cache=True)
def reduce(buf, slot, new_qty):
    """Reduce a resting order to ``0 < new_qty <= qty`` keeping its queue position; returns the reduction."""
    old = buf[buf[H_OFF_QTY] + slot]
    cut = old - new_qty
    lvl = buf[buf[H_OFF_SIDE] + slot] * buf[H_N_TICKS] + buf[buf[H_OFF_PRICE] + slot]
    buf[buf[H_OFF_QTY] + slot] = new_qty
    buf[buf[H_OFF_LEVEL_QTY] + lvl] -= cut
    buf[H_CANCELLED] += cut
    return cut


@njit(cache=True)
def cancel_owned(buf, owner, max_tag, side):
    """Cancel every resting order of ``owner`` whose tag is <= ``max_tag`` on ``side`` (-1: both sides).

    Returns the quantity cancelled. Used for "cancel all my orders" and for expiring background orders.
    """
    cap = buf[H_CAPACITY]
    qtys = buf[H_OFF_QTY]
    total = 0
    for slot in range(cap):
        if (buf[qtys + slot] > 0 and buf[buf[H_OFF_OWNER] + slot] == owner
                and buf[buf[H_OFF_TAG] + slot] <= max_tag
                and (side < 0 or buf[buf[H_OFF_SIDE] + slot] == side)):
            total += cancel(buf, slot)
    return total


@njit(cache=True)
def owned_summary(buf, owner, out):
    """Write ``[n_buy_orders, buy_qty, n_sell_orders, sell_qty]`` of ``owner``'s resting orders into ``out``."""
    out[:] = 0
    cap = buf[H_CAPACITY]
    qtys = buf[H_OFF_QTY]
    for slot in range(cap):
        q = buf[qtys + slot]
        if q > 0 and buf[buf[H_OFF_OWNER] + slot] == owner:
            k = 2 * buf[buf[H_OFF_SIDE] + slot]
            out[k] += 1
            out[k + 1] += q


@njit(cache=True)
def queue_ahead(buf, slot):
    """Quantity queued ahead of a resting order at its price level (0 at the front)."""
    prv = buf[H_OFF_PREV]
    qtys = buf[H_OFF_QTY]
    total = 0
    s = buf[prv + slot]
    while s != -1:
        total += buf[qtys + s]
        s = buf[prv + s]
    return total


@njit(cache=True)
def depth(buf, side, levels, prices, sizes):
    """Top ``levels`` non-empty price levels of ``side``, best first; returns how many were written.

    Unused entries are set to price -1 and size 0.
    """
    n = buf[H_N_TICKS]
    lq = buf[H_OFF_LEVEL_QTY] + side * n
    for i in range(levels):
        prices[i] = -1
        sizes[i] = 0
    k = 0
    if side == BUY:
        p = buf[H_BEST_BID]
        while p >= 0 and k < levels:
            if buf[lq + p] > 0:
                prices[k] = p
                sizes[k] = buf[lq + p]
                k += 1
            p -= 1
    else:
        p = buf[H_BEST_ASK]
        while p < n and k < levels:
            if buf[lq + p] > 0:
                prices[k] = p
                sizes[k] = buf[lq + p]
                k += 1
            p += 1
    return k


@njit(cache=True)
def resting_quantity(buf):
    """Total quantity resting on both sides."""
    cap = buf[H_CAPACITY]
    qtys = buf[H_OFF_QTY]
    total = 0
    for slot in range(cap):
        total += buf[qtys + slot]
    return total


def new_book(n_ticks: int, capacity: int) -> np.ndarray:
    """A fresh empty book buffer."""
    buf = np.zeros(book_size(n_ticks, capacity), dtype=np.int64)
    book_init(buf, n_ticks, capacity)
    return buf
