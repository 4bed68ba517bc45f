"""The stream path of the order book: a whole array of orders and cancels applied in one compiled call.

:func:`process_messages` checks everything it is given before the kernel runs -- in Python, and for the book buffer
in one compiled pass over it -- because compiled code does no bounds checks: a wrong shape or dtype or a corrupted
book would otherwise read or write past the end of an array. What is accepted:

- ``buf``: a book from :func:`~marketgames.book.kernels.new_book` (or an ``OrderBook``'s buffer): 1-D, C-contiguous,
  writeable ``int64``, and consistent (header layout, queue links, level sizes, best prices, free list, counters)
  with no resting order whose id exceeds ``MAX_STREAM_ID``.
- ``messages``: shape ``(n, MSG_WIDTH)`` (columns ``kernels.MSG_*``). An integer dtype whose values fit int64 is
  converted to a C-contiguous ``int64`` copy when needed; floats, bools and other dtypes are refused, not rounded
  (``2.5`` lots has no meaning and a float id above 2**53 is not exact): convert them explicitly. Order ids are at
  most ``MAX_STREAM_ID``: the id -> slot map is an array indexed by id, so ids should be dense (message numbers, or
  ``np.unique(ids, return_inverse=True)``); a larger id is refused instead of allocating a giant table.
- ``events``: scratch space, C-contiguous writeable ``int64`` of shape ``(rows, EV_WIDTH)`` with
  ``rows >= capacity``, sharing no memory with ``buf``.

A refused call raises :class:`~marketgames.book.OrderBookError` and leaves ``buf`` and ``events`` unchanged.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from . import kernels as K
from .kernels import (BUY, EV_FILL, EV_KIND, EV_MAKER_ID, EV_MAKER_SLOT, H_BEST_ASK, H_BEST_BID, H_CANCELLED,
                      H_CAPACITY, H_FILLED, H_FREE_HEAD, H_N_ACTIVE, H_N_TICKS, H_OFF_HEAD, H_OFF_ID,
                      H_OFF_LEVEL_QTY, H_OFF_NEXT, H_OFF_OWNER, H_OFF_PREV, H_OFF_PRICE, H_OFF_QTY, H_OFF_SIDE,
                      H_OFF_TAIL, H_SUBMITTED, INT64_MAX, MAX_QUANTITY, MSG_CANCEL, MSG_ID, MSG_LIMIT, MSG_MARKET,
                      MSG_OWNER, MSG_PRICE, MSG_QTY, MSG_SIDE, MSG_TYPE, REJECTED_FULL, SELL, cancel, submit)
from .orderbook import OrderBookError

__all__ = ["MAX_STREAM_ID", "check_book", "process_messages"]

MAX_STREAM_ID = 2**24 - 1   # largest order id of the stream path: the id -> slot table is at most 128 MiB

# Codes returned by ``check_book``.
_BOOK_PROBLEMS = {
    1: "a queue link points outside the slots, revisits a slot or disagrees with its back link",
    2: "a resting order's size is outside [1, MAX_QUANTITY]",
    3: "a resting order's price, side or owner disagrees with its queue",
    4: "a level's size is not the sum of its orders",
    5: "the best bid or ask is not the best non-empty level",
    6: "the free list is broken (out of range, cyclic, holds a resting order, or misses slots)",
    7: "the active order count is wrong",
    8: "the counters are negative or break submitted = resting + filled + cancelled",
}


@njit(cache=True)
def check_book(buf):
    """Consistency of a book whose header layout is right: ``(0 or a problem code, largest resting order id)``.

    Reads only inside the layout, follows a link only after checking its range, and visits each slot once, so a
    corrupted buffer gives a code, never a crash.
    """
    n = buf[H_N_TICKS]
    cap = buf[H_CAPACITY]
    head, tail, lq = buf[H_OFF_HEAD], buf[H_OFF_TAIL], buf[H_OFF_LEVEL_QTY]
    nxt, prv, qtys = buf[H_OFF_NEXT], buf[H_OFF_PREV], buf[H_OFF_QTY]
    seen = np.zeros(cap, np.bool_)
    n_active = 0
    resting = 0
    top = -1
    for side in (BUY, SELL):
        best = -1 if side == BUY else n
        for p in range(n):
            lvl = side * n + p
            s = buf[head + lvl]
            last = -1
            total = 0
            while s != -1:
                if s < 0 or s >= cap or seen[s] or buf[prv + s] != last:
                    return 1, top
                seen[s] = True
                q = buf[qtys + s]
                if q < 1 or q > MAX_QUANTITY:
                    return 2, top
                if buf[buf[H_OFF_PRICE] + s] != p or buf[buf[H_OFF_SIDE] + s] != side or buf[buf[H_OFF_OWNER] + s] < -1:
                    return 3, top
                if total > INT64_MAX - q:
                    return 8, top
                total += q
                top = max(top, buf[buf[H_OFF_ID] + s])
                n_active += 1
                last = s
                s = buf[nxt + s]
            if buf[tail + lvl] != last:
                return 1, top
            if buf[lq + lvl] != total:
                return 4, top
            if total > 0 and (side == BUY or best == n):
                best = p
            if resting > INT64_MAX - total:
                return 8, top
            resting += total
        if buf[H_BEST_BID if side == BUY else H_BEST_ASK] != best:
            return 5, top
    n_free = 0
    s = buf[H_FREE_HEAD]
    while s != -1:
        if s < 0 or s >= cap or seen[s] or buf[qtys + s] != 0:
            return 6, top
        seen[s] = True
        n_free += 1
        s = buf[nxt + s]
    if n_free + n_active != cap:
        return 6, top
    if buf[H_N_ACTIVE] != n_active:
        return 7, top
    sub, fil, can = buf[H_SUBMITTED], buf[H_FILLED], buf[H_CANCELLED]
    if min(sub, fil, can) < 0 or fil % 2 != 0 or sub < resting or sub - resting < fil or sub - resting - fil != can:
        return 8, top
    return 0, top


@njit(cache=True)
def _apply_messages(buf, messages, events, top):
    """The compiled stream loop; ``top`` (the largest id in the stream or the book) sizes the id -> slot table."""
    n = buf[H_N_TICKS]
    cap = buf[H_CAPACITY]
    qtys = buf[H_OFF_QTY]
    ids = buf[H_OFF_ID]
    slot_of = np.full(top + 1, -1, np.int64)
    for s in range(cap):
        if buf[qtys + s] > 0 and buf[ids + s] >= 0:
            slot_of[buf[ids + s]] = s
    n_skipped = 0
    n_fills = 0
    traded = 0
    n_full = 0
    for i in range(messages.shape[0]):
        kind = messages[i, MSG_TYPE]
        side = messages[i, MSG_SIDE]
        oid = messages[i, MSG_ID]
        if oid < 0 or oid > top:
            n_skipped += 1
            continue
        if kind == MSG_CANCEL:
            if slot_of[oid] < 0:
                n_skipped += 1
            else:
                cancel(buf, slot_of[oid])
                slot_of[oid] = -1
            continue
        price = messages[i, MSG_PRICE]
        if kind == MSG_MARKET:
            price = n - 1 if side == BUY else 0
        qty = messages[i, MSG_QTY]
        owner = messages[i, MSG_OWNER]
        if (kind < MSG_LIMIT or kind > MSG_MARKET or (side != BUY and side != SELL) or price < 0 or price >= n
                or qty < 1 or qty > MAX_QUANTITY or buf[H_SUBMITTED] > INT64_MAX - qty or owner < -1
                or slot_of[oid] >= 0):
            n_skipped += 1
            continue
        slot, n_ev, filled = submit(buf, side, price, qty, owner, oid, 0, kind == MSG_LIMIT, events)
        for e in range(n_ev):
            if events[e, EV_KIND] == EV_FILL:
                n_fills += 1
            maker_slot = events[e, EV_MAKER_SLOT]
            maker_id = events[e, EV_MAKER_ID]
            # Gone, or its slot re-used by the incoming order: compare ids, not only quantities.
            if maker_id >= 0 and (buf[qtys + maker_slot] == 0 or buf[ids + maker_slot] != maker_id):
                slot_of[maker_id] = -1
        traded += filled
        if slot >= 0:
            slot_of[oid] = slot
        elif slot == REJECTED_FULL:
            n_full += 1
    return n_skipped, n_fills, traded, n_full


def process_messages(buf: np.ndarray, messages: np.ndarray, events: np.ndarray) -> tuple[int, int, int, int]:
    """Apply a stream of orders and cancels in one compiled call: the batch path of the order book.

    Row ``i`` of ``messages`` is a limit, immediate-or-cancel or market order or a cancel (``kernels.MSG_*``), with
    the meaning of the :class:`~marketgames.book.OrderBook` method of that name, through the same kernels
    (``submit`` and ``cancel``). Orders are named by ids in ``[0, MAX_STREAM_ID]``; the id -> slot map is rebuilt
    from the resting orders on entry, so a stream may be applied in chunks. A message the ``OrderBook`` would refuse
    (unknown kind or side, price off the grid, size outside ``[1, MAX_QUANTITY]`` or past the counters' int64 room,
    owner < -1, negative or duplicate id, cancel of an id that is not resting) is skipped and counted. The book
    cannot grow here: a remainder that finds no free slot is cancelled and counted. Input that is not a stream or a
    book (see the module docstring) raises :class:`~marketgames.book.OrderBookError` before anything changes.

    Returns ``(n_skipped, n_fills, traded_quantity, n_rejected_full)``.
    """
    _check_book_buffer(buf)
    code, top_resting = check_book(buf)
    if code:
        raise OrderBookError(f"buf is not a valid order book: {_BOOK_PROBLEMS[code]}")
    if top_resting > MAX_STREAM_ID:
        raise OrderBookError(f"buf holds a resting order with id {top_resting}: process_messages needs order ids in "
                             f"[0, {MAX_STREAM_ID}] (MAX_STREAM_ID)")
    messages = _as_messages(messages)
    _check_writable_int64("events", events, 2)
    cap = int(buf[H_CAPACITY])
    if events.shape[1] != K.EV_WIDTH or events.shape[0] < cap:
        raise OrderBookError(f"events.shape={events.shape} is not allowed: expected (rows, {K.EV_WIDTH}) with "
                             f"rows >= the book's capacity {cap}")
    if np.may_share_memory(buf, events):
        raise OrderBookError("events shares memory with buf: pass a separate scratch array")
    if np.may_share_memory(messages, buf) or np.may_share_memory(messages, events):
        messages = messages.copy()   # the kernel writes buf and events while it reads messages
    top = top_resting
    if messages.shape[0]:
        ids = messages[:, MSG_ID]
        row = int(np.argmax(ids))
        if ids[row] > MAX_STREAM_ID:
            raise OrderBookError(f"messages[{row}, MSG_ID]={int(ids[row])} is not allowed: process_messages needs "
                                 f"order ids in [0, {MAX_STREAM_ID}] (MAX_STREAM_ID; renumber ids densely)")
        top = max(top, int(ids[row]))
    return _apply_messages(buf, messages, events, top)


def _check_writable_int64(name: str, a: object, ndim: int) -> None:
    if not isinstance(a, np.ndarray):
        raise OrderBookError(f"{name} is a {type(a).__name__}: expected a numpy int64 array")
    if a.dtype != np.int64 or a.ndim != ndim or not a.flags.c_contiguous or not a.flags.writeable:
        raise OrderBookError(f"{name} (dtype {a.dtype}, ndim {a.ndim}, C-contiguous {a.flags.c_contiguous}, writeable "
                             f"{a.flags.writeable}) is not allowed: expected a writeable C-contiguous {ndim}-D int64 "
                             f"array")


def _check_book_buffer(buf: object) -> None:
    """Type and header layout of a book buffer: what ``check_book`` needs to read safely."""
    _check_writable_int64("buf", buf, 1)
    assert isinstance(buf, np.ndarray)
    if buf.shape[0] < K.H_SIZE:
        raise OrderBookError(f"buf has {buf.shape[0]} words: an order book has at least {K.H_SIZE}")
    n, cap = int(buf[H_N_TICKS]), int(buf[H_CAPACITY])
    if not 2 <= n <= K.MAX_TICKS or cap < 0 or K.book_size(n, cap) != buf.shape[0]:
        raise OrderBookError(f"buf is not a valid order book: header n_ticks={n}, capacity={cap} do not describe "
                             f"a {buf.shape[0]}-word book with 2 <= n_ticks <= {K.MAX_TICKS}")
    layout = np.zeros(K.H_SIZE, np.int64)
    K.write_layout(layout, n, cap)
    fields = list(K.LAYOUT_FIELDS)
    if not np.array_equal(buf[fields], layout[fields]):
        raise OrderBookError("buf is not a valid order book: its header offsets are not those of new_book")


def _as_messages(messages: object) -> np.ndarray:
    """``messages`` as a C-contiguous int64 ``(n, MSG_WIDTH)`` array, converting only what converts exactly."""
    try:
        a = np.asarray(messages)
    except ValueError as err:   # ragged nested lists
        raise OrderBookError(f"messages is not an array: {err}") from None
    if a.ndim != 2 or a.shape[1] != K.MSG_WIDTH:
        raise OrderBookError(f"messages.shape={a.shape} is not allowed: expected (n, {K.MSG_WIDTH}), one row per "
                             f"message with columns kernels.MSG_*")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and a.max() > INT64_MAX:
        raise OrderBookError(f"messages holds {a.max()} > int64 max: values must fit int64")
    if a.dtype.kind not in "iu":
        raise OrderBookError(f"messages.dtype={a.dtype} is not allowed: expected an integer dtype (floats are "
                             f"refused, not rounded: convert with messages.astype(np.int64) once they are integers)")
    return np.ascontiguousarray(a, dtype=np.int64)
