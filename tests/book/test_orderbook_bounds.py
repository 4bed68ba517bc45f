"""Issue 9, items 1-3: what the order book accepts as an id and as a size, and that no sum it keeps overflows.

Each test runs on the compiled :class:`OrderBook` and on the reference :class:`NaiveOrderBook`.
"""
from __future__ import annotations

import numpy as np
import pytest

from marketgames.book import MAX_QUANTITY, MAX_TICKS, Level, OrderBook, OrderBookError, Side
from marketgames.book import kernels as K
from marketgames.book.reference import NaiveOrderBook

B, S = Side.BUY, Side.SELL
INT64_MAX = 2**63 - 1


@pytest.fixture(params=[OrderBook, NaiveOrderBook], ids=["OrderBook", "NaiveOrderBook"])
def make(request):
    return request.param


def test_rejected_modify_keeps_the_order_where_it_was(make):
    # The report of issue 9: ``modify(1.0, price=4)`` raised about the id after order 1 had been cancelled.
    book = make(10)
    book.limit(1, B, 3, 5)
    book.limit(2, B, 3, 1)
    for bad in ({"order_id": 1.0, "price": 4}, {"order_id": True, "price": 4}, {"order_id": np.float64(1.0)},
                {"order_id": 1, "quantity": 2**63}, {"order_id": 1, "quantity": MAX_QUANTITY + 1, "price": 4}):
        order_id = bad.pop("order_id")
        with pytest.raises(OrderBookError):
            book.modify(order_id, **bad)
        assert book.order(1) == (B, 3, 5) and book.queue_position(2) == 5, bad
    assert book.counters == {"submitted": 6, "resting": 6, "filled": 0, "cancelled": 0}


@pytest.mark.parametrize("order_id", [1.0, True, np.float64(1.0), np.bool_(True), np.float32(1.0), 1 + 0j])
def test_float_and_bool_ids_find_no_order(make, order_id):
    book = make(10)
    book.limit(1, B, 3, 5)
    assert order_id not in book
    for method in ("cancel", "order", "queue_position", "modify"):
        with pytest.raises(OrderBookError, match="^order_id="):
            getattr(book, method)(order_id)
    assert book.order(1) == (B, 3, 5) and len(book) == 1


@pytest.mark.parametrize("kind", [int, np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_python_and_numpy_integer_ids_are_accepted(make, kind):
    book = make(10)
    book.limit(kind(7), B, 3, 5)
    book.limit(kind(8), B, 3, 1)
    assert kind(7) in book and book.order(kind(7)) == (B, 3, 5) and book.queue_position(kind(8)) == 5
    assert book.modify(kind(7), quantity=4).resting == 4
    assert book.modify(kind(7), price=kind(2)).resting == 4
    assert book.cancel(kind(7)) == 4 and kind(7) not in book and 7 not in book
    assert book.market(kind(9), S, 1).fills[0].maker_id == 8


def test_size_bound_is_documented_and_inclusive(make):
    book = make(10)
    assert book.limit(1, B, 3, MAX_QUANTITY).resting == MAX_QUANTITY
    assert book.limit(2, B, 3, MAX_QUANTITY).resting == MAX_QUANTITY
    assert book.depth(B, 1) == [Level(3, 2 * MAX_QUANTITY)] and book.queue_position(2) == MAX_QUANTITY
    res = book.ioc(3, S, 3, MAX_QUANTITY)
    assert sum(f.quantity for f in res.fills) == MAX_QUANTITY
    assert book.counters == {"submitted": 3 * MAX_QUANTITY, "resting": MAX_QUANTITY, "filled": 2 * MAX_QUANTITY,
                             "cancelled": 0}
    with pytest.raises(OrderBookError, match=rf"^quantity={MAX_QUANTITY + 1} .*\[1, {MAX_QUANTITY}\]"):
        book.limit(4, B, 3, MAX_QUANTITY + 1)


@pytest.mark.parametrize("calls", [
    # the reports of issue 9: two int64-max bids showed an empty depth with best bid 3 and counters at -2, and a
    # 2**62 bid hit by a 2**62 IOC gave filled == -2**63
    [("limit", 1, B, 3, INT64_MAX), ("limit", 2, B, 3, INT64_MAX)],
    [("limit", 1, B, 3, 2**62), ("ioc", 2, S, 3, 2**62)],
])
def test_sizes_that_would_overflow_int64_are_refused(make, calls):
    book = make(10)
    for name, *args in calls:
        with pytest.raises(OrderBookError, match="^quantity="):
            getattr(book, name)(*args)
    assert book.counters == {"submitted": 0, "resting": 0, "filled": 0, "cancelled": 0}


def _near_full_counters(book, room: int):
    """A book whose lifetime ``submitted`` counter has ``room`` lots left before int64 overflows (set directly:
    reaching it honestly takes 2**23 orders of MAX_QUANTITY)."""
    used = INT64_MAX - room
    if isinstance(book, OrderBook):
        book._buf[K.H_SUBMITTED] = used
        book._buf[K.H_CANCELLED] = used
    else:
        book._submitted = book._cancelled = used
    return book


def test_an_order_that_would_overflow_the_lifetime_counters_is_refused(make):
    book = _near_full_counters(make(10), room=10)
    book.limit(1, B, 3, 4)
    with pytest.raises(OrderBookError, match="^quantity=7"):
        book.limit(2, S, 3, 7)
    with pytest.raises(OrderBookError, match="^quantity=7"):
        book.modify(1, quantity=7)   # a larger size re-enters the order: 7 more lots submitted
    assert book.order(1) == (B, 3, 4)
    assert book.modify(1, quantity=2).resting == 2   # a size-down submits nothing
    book.ioc(2, S, 3, 6)
    counters = book.counters
    assert counters["submitted"] == INT64_MAX and counters["filled"] == 4 and counters["resting"] == 0
    with pytest.raises(OrderBookError, match="^quantity=1"):
        book.market(3, B, 1)


def test_price_grid_is_bounded(make):
    with pytest.raises(ValueError, match=f"^n_ticks={MAX_TICKS + 1}"):
        make(MAX_TICKS + 1)
    with pytest.raises(ValueError, match="^n_ticks="):
        make(2**62)


def test_depth_of_many_levels_allocates_only_the_grid(make):
    book = make(10)
    book.limit(1, B, 3, 5)
    assert book.depth(B, 10**15) == [Level(3, 5)] and book.depth(S, INT64_MAX) == []
