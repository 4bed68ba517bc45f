"""Unit tests of the order book's rules with hand-checked expectations.

Every test runs on the compiled :class:`OrderBook` and on the reference :class:`NaiveOrderBook`: both must obey the
same written rules (price-time priority, fills at the maker's price, self-trade cancel-resting, ...).
"""
from __future__ import annotations

import numpy as np
import pytest

from marketgames.book import MAX_QUANTITY, Fill, Level, OrderBook, OrderBookError, Side, SubmitResult
from marketgames.book import kernels as K
from marketgames.book.stream import process_messages
from marketgames.book.reference import NaiveOrderBook

from book_checks import raw_state

B, S = Side.BUY, Side.SELL


@pytest.fixture(params=[OrderBook, NaiveOrderBook], ids=["OrderBook", "NaiveOrderBook"])
def make(request):
    return request.param


def snapshot(book, ids) -> tuple:
    """Everything observable about ``book`` (``ids``: the order ids to look at)."""
    n = book.n_ticks
    orders = {i: (book.order(i), book.queue_position(i)) for i in ids if i in book}
    return (book.best_bid, book.best_ask, book.spread, book.mid, book.depth(B, n), book.depth(S, n),
            book.counters, len(book), orders)


def fill(maker, taker, price, qty, aggressor, maker_owner=-1, taker_owner=-1) -> Fill:
    return Fill(maker, taker, maker_owner, taker_owner, price, qty, aggressor)


def test_empty_book(make):
    book = make(10)
    assert (book.best_bid, book.best_ask, book.spread, book.mid) == (None, None, None, None)
    assert book.depth(B, 3) == [] and book.depth(S, 3) == [] and len(book) == 0
    assert book.counters == {"submitted": 0, "resting": 0, "filled": 0, "cancelled": 0}


def test_resting_orders_set_best_prices_spread_mid(make):
    book = make(10)
    assert book.limit(1, B, 3, 5) == SubmitResult([], 5, [])
    assert book.limit(2, S, 6, 4) == SubmitResult([], 4, [])
    assert (book.best_bid, book.best_ask, book.spread, book.mid) == (3, 6, 3, 4.5)
    assert book.order(1) == (B, 3, 5) and book.order(2) == (S, 6, 4)
    assert 1 in book and 2 in book and 3 not in book and len(book) == 2


def test_price_then_time_priority(make):
    book = make(10)
    book.limit(1, S, 6, 2)
    book.limit(2, S, 5, 2)   # better price, later
    book.limit(3, S, 5, 2)   # same price, later still
    res = book.limit(9, B, 6, 5)
    assert res.fills == [fill(2, 9, 5, 2, B), fill(3, 9, 5, 2, B), fill(1, 9, 6, 1, B)]
    assert res.resting == 0 and 9 not in book
    assert book.order(1) == (S, 6, 1)


def test_bid_side_priority_is_highest_price_first(make):
    book = make(10)
    book.limit(1, B, 3, 1)
    book.limit(2, B, 4, 1)
    book.limit(3, B, 4, 1)
    res = book.market(9, S, 3)
    assert [(f.maker_id, f.price) for f in res.fills] == [(2, 4), (3, 4), (1, 3)]


def test_partial_fill_leaves_maker_at_front_with_reduced_size(make):
    book = make(10)
    book.limit(1, S, 5, 10)
    book.limit(2, S, 5, 3)
    res = book.limit(9, B, 5, 4)
    assert res == SubmitResult([fill(1, 9, 5, 4, B)], 0, [])
    assert book.order(1) == (S, 5, 6) and book.queue_position(1) == 0 and book.queue_position(2) == 6
    assert book.depth(S, 5) == [Level(5, 9)]


def test_incoming_remainder_rests_after_partial_fill(make):
    book = make(10)
    book.limit(1, S, 5, 3)
    res = book.limit(9, B, 5, 7)
    assert res == SubmitResult([fill(1, 9, 5, 3, B)], 4, [])
    assert book.order(9) == (B, 5, 4) and (book.best_bid, book.best_ask) == (5, None)


def test_fill_at_maker_price(make):
    book = make(10)
    book.limit(1, S, 5, 2)
    assert book.limit(9, B, 8, 2).fills == [fill(1, 9, 5, 2, B)]
    book.limit(2, B, 4, 2)
    assert book.ioc(10, S, 1, 2).fills == [fill(2, 10, 4, 2, S)]


def test_market_order_sweeps_several_levels(make):
    book = make(10)
    book.limit(1, S, 5, 2)
    book.limit(2, S, 6, 3)
    book.limit(3, S, 8, 4)
    book.limit(4, B, 2, 1)
    res = book.market(9, B, 7, owner=3)
    assert res == SubmitResult([fill(1, 9, 5, 2, B, taker_owner=3), fill(2, 9, 6, 3, B, taker_owner=3),
                                fill(3, 9, 8, 2, B, taker_owner=3)], 0, [])
    assert book.depth(S, 5) == [Level(8, 2)] and book.best_bid == 2
    assert book.counters == {"submitted": 17, "resting": 3, "filled": 14, "cancelled": 0}


def test_market_order_larger_than_the_book_cancels_remainder(make):
    book = make(10)
    book.limit(1, B, 4, 2)
    book.limit(2, B, 0, 1)   # a market sell reaches the lowest tick too
    res = book.market(9, S, 5)
    assert res == SubmitResult([fill(1, 9, 4, 2, S), fill(2, 9, 0, 1, S)], 0, [])
    assert book.best_bid is None and book.best_ask is None and len(book) == 0
    assert book.counters == {"submitted": 8, "resting": 0, "filled": 6, "cancelled": 2}


def test_ioc_remainder_is_cancelled_not_rested(make):
    book = make(10)
    book.limit(1, S, 5, 2)
    book.limit(2, S, 7, 2)
    res = book.ioc(9, B, 6, 5)
    assert res == SubmitResult([fill(1, 9, 5, 2, B)], 0, [])
    assert 9 not in book and book.best_bid is None and book.best_ask == 7
    assert book.counters == {"submitted": 9, "resting": 2, "filled": 4, "cancelled": 3}
    assert book.ioc(10, B, 6, 1) == SubmitResult([], 0, [])   # does not cross: all cancelled


def test_cancel(make):
    book = make(10)
    book.limit(1, B, 4, 3)
    book.limit(2, B, 3, 2)
    assert book.cancel(1) == 3
    assert 1 not in book and book.best_bid == 3 and book.depth(B, 5) == [Level(3, 2)]
    assert book.counters == {"submitted": 5, "resting": 2, "filled": 0, "cancelled": 3}
    with pytest.raises(OrderBookError, match="order_id=1"):
        book.cancel(1)
    book.limit(1, B, 4, 1)   # the id may be used again once it has left the book
    assert book.order(1) == (B, 4, 1)


def test_modify_size_down_keeps_priority(make):
    book = make(10)
    book.limit(1, S, 5, 5)
    book.limit(2, S, 5, 5)
    assert book.modify(1, quantity=2) == SubmitResult([], 2, [])
    assert book.queue_position(1) == 0 and book.queue_position(2) == 2
    assert book.counters == {"submitted": 10, "resting": 7, "filled": 0, "cancelled": 3}
    assert [f.maker_id for f in book.market(9, B, 3).fills] == [1, 2]


@pytest.mark.parametrize("change", [{"quantity": 6}, {"price": 6}, {"price": 4, "quantity": 5}])
def test_modify_size_up_or_new_price_loses_priority(make, change):
    book = make(10)
    book.limit(1, B, 5, 5)
    book.limit(2, B, 5, 5)
    book.limit(3, B, 4, 5)
    assert book.modify(1, **change).fills == []
    price = change.get("price", 5)
    assert book.order(1) == (B, price, change.get("quantity", 5))
    assert book.queue_position(1) == {6: 0, 5: 5, 4: 5}[price]   # back of its (new) queue
    assert book.queue_position(2) == 0


def test_modify_to_crossing_price_trades_and_keeps_owner(make):
    book = make(10)
    book.limit(1, S, 6, 2, owner=4)
    book.limit(2, B, 4, 3, owner=7)
    res = book.modify(2, price=6)
    assert res == SubmitResult([fill(1, 2, 6, 2, B, maker_owner=4, taker_owner=7)], 1, [])
    assert book.order(2) == (B, 6, 1)


def test_modify_without_change_is_a_no_op(make):
    book = make(10)
    book.limit(1, S, 5, 5)
    book.limit(2, S, 5, 5)
    before = snapshot(book, [1, 2])
    assert book.modify(1) == SubmitResult([], 5, []) and book.modify(1, price=5, quantity=5).resting == 5
    assert snapshot(book, [1, 2]) == before


def test_queue_position_counts_quantity_ahead_at_the_same_price_and_side(make):
    book = make(10)
    book.limit(1, B, 5, 3)
    book.limit(2, B, 6, 10)   # other price: not ahead
    book.limit(3, B, 5, 4)
    book.limit(4, S, 7, 9)    # other side: not ahead
    book.limit(5, B, 5, 1)
    assert [book.queue_position(i) for i in (1, 2, 3, 4, 5)] == [0, 0, 3, 0, 7]
    book.cancel(3)
    assert book.queue_position(5) == 3


def test_depth_aggregates_levels_best_first_and_truncates(make):
    book = make(20)
    for i, (side, price, qty) in enumerate([(B, 5, 1), (B, 5, 2), (B, 3, 4), (B, 9, 1), (S, 12, 2), (S, 11, 3),
                                            (S, 12, 5), (S, 19, 1)]):
        book.limit(i, side, price, qty)
    assert book.depth(B, 10) == [Level(9, 1), Level(5, 3), Level(3, 4)]
    assert book.depth(B, 2) == [Level(9, 1), Level(5, 3)]
    assert book.depth(S, 10) == [Level(11, 3), Level(12, 7), Level(19, 1)]
    assert book.depth(S, 1) == [Level(11, 3)]


def test_self_trade_cancels_the_resting_order_and_matching_goes_on(make):
    book = make(10)
    book.limit(1, S, 5, 2, owner=1)
    book.limit(2, S, 5, 3, owner=2)
    book.limit(3, S, 6, 4, owner=1)
    res = book.limit(9, B, 6, 4, owner=1)
    assert res == SubmitResult([fill(2, 9, 5, 3, B, maker_owner=2, taker_owner=1)], 1, [1, 3])
    assert 1 not in book and 3 not in book and book.order(9) == (B, 6, 1)
    assert book.counters == {"submitted": 13, "resting": 1, "filled": 6, "cancelled": 6}


def test_anonymous_orders_never_self_trade(make):
    book = make(10)
    book.limit(1, S, 5, 2)
    assert book.market(9, B, 2).fills == [fill(1, 9, 5, 2, B)]


def test_self_trade_with_nothing_else_cancels_resting_and_incoming_remainder_rests(make):
    book = make(10)
    book.limit(1, B, 5, 2, owner=0)
    res = book.limit(2, S, 4, 3, owner=0)
    assert res == SubmitResult([], 3, [1]) and book.order(2) == (S, 4, 3) and book.best_bid is None


def test_growth_beyond_initial_capacity_keeps_queues_in_order(make):
    book = make(10, capacity=2)
    ids = list(range(40))
    for i in ids:   # interleave two levels per side so links cross the growth boundaries
        book.limit(i, B if i % 2 else S, (4 - i % 4 // 2) if i % 2 else (6 + i % 4 // 2), 1 + i % 3)
    assert len(book) == 40
    assert [book.queue_position(i) for i in (1, 5, 9)] == [0, 2, 2 + 3]
    sells = book.market(100, B, 10**6).fills
    assert [f.maker_id for f in sells] == [i for i in ids if i % 4 == 0] + [i for i in ids if i % 4 == 2]
    buys = book.market(101, S, 10**6).fills
    assert [f.maker_id for f in buys] == [i for i in ids if i % 4 == 1] + [i for i in ids if i % 4 == 3]
    assert len(book) == 0 and book.counters["resting"] == 0


def _bad_calls():
    """``(label, call, parameter named in the error)`` for each kind of bad input."""
    return [
        ("size 0", lambda b: b.limit(50, B, 3, 0), "quantity"),
        ("negative size", lambda b: b.ioc(50, S, 3, -2), "quantity"),
        ("market size 0", lambda b: b.market(50, B, 0), "quantity"),
        ("float size", lambda b: b.limit(50, B, 3, 1.0), "quantity"),
        ("price above grid", lambda b: b.limit(50, B, 10, 1), "price"),
        ("negative price", lambda b: b.limit(50, S, -1, 1), "price"),
        ("float price", lambda b: b.limit(50, B, 3.0, 1), "price"),
        ("bool price", lambda b: b.ioc(50, B, True, 1), "price"),
        ("string price", lambda b: b.limit(50, B, "3", 1), "price"),
        ("unknown id cancel", lambda b: b.cancel(99), "order_id"),
        ("unknown id modify", lambda b: b.modify(99, quantity=1), "order_id"),
        ("unknown id queue", lambda b: b.queue_position(99), "order_id"),
        ("unknown id order", lambda b: b.order(99), "order_id"),
        ("duplicate id", lambda b: b.limit(1, S, 8, 1), "order_id"),
        ("duplicate id market", lambda b: b.market(2, B, 1), "order_id"),
        ("non-integer id", lambda b: b.limit("x", B, 3, 1), "order_id"),
        ("id beyond int64", lambda b: b.limit(2**63, B, 3, 1), "order_id"),
        ("bad side int", lambda b: b.limit(50, 2, 3, 1), "side"),
        ("bad side str", lambda b: b.market(50, "BUY", 1), "side"),
        ("bad side bool", lambda b: b.ioc(50, True, 3, 1), "side"),
        ("bad side depth", lambda b: b.depth(-1, 3), "side"),
        ("bad owner", lambda b: b.limit(50, B, 3, 1, owner=-2), "owner"),
        ("modify size 0", lambda b: b.modify(1, quantity=0), "quantity"),
        ("modify off-grid", lambda b: b.modify(1, price=10), "price"),
        ("modify float price", lambda b: b.modify(1, price=2.5), "price"),
        ("depth levels 0", lambda b: b.depth(B, 0), "levels"),
        # issue 9 item 1: a refused modify used to cancel the order before it noticed the bad id or size
        *[(f"modify id {i!r}", lambda b, i=i: b.modify(i, price=5), "order_id") for i in _NON_IDS],
        ("modify size above MAX_QUANTITY", lambda b: b.modify(1, quantity=MAX_QUANTITY + 1), "quantity"),
        ("modify size int64 max", lambda b: b.modify(1, price=3, quantity=2**63 - 1), "quantity"),
        ("modify bool size", lambda b: b.modify(1, quantity=True), "quantity"),
        ("modify bool price", lambda b: b.modify(1, price=True), "price"),
        # issue 9 item 2: float and bool ids used to find order 1
        *[(f"{m} id {i!r}", lambda b, i=i, m=m: getattr(b, m)(i), "order_id")
          for i in _NON_IDS for m in ("cancel", "order", "queue_position")],
        *[(f"modify no-op id {i!r}", lambda b, i=i: b.modify(i), "order_id") for i in _NON_IDS],
        *[(f"limit id {i!r}", lambda b, i=i: b.limit(i, B, 3, 1), "order_id") for i in _NON_IDS],
        ("market float id", lambda b: b.market(50.0, B, 1), "order_id"),
        # issue 9 item 3: sizes whose sums overflow int64
        ("size above MAX_QUANTITY", lambda b: b.limit(50, B, 3, MAX_QUANTITY + 1), "quantity"),
        ("size int64 max", lambda b: b.limit(50, B, 3, 2**63 - 1), "quantity"),
        ("ioc size 2**62", lambda b: b.ioc(50, S, 4, 2**62), "quantity"),
        ("market size numpy int64 max", lambda b: b.market(50, S, np.int64(2**63 - 1)), "quantity"),
    ]


# Not order ids: floats (even integral), bools, strings. ``1`` is resting in the book of the test below.
_NON_IDS = [1.0, True, np.float64(1.0), np.bool_(True), "1", None]


@pytest.mark.parametrize("label,call,param", _bad_calls(), ids=[c[0] for c in _bad_calls()])
def test_bad_input_raises_naming_the_parameter_and_leaves_the_book_unchanged(make, label, call, param):
    book = make(10, capacity=3)   # full: a refused limit order must not be half-applied around a growth either
    book.limit(1, B, 4, 2, owner=0)
    book.limit(2, S, 6, 3, owner=1)
    book.limit(3, B, 4, 1, owner=1)
    before, raw = snapshot(book, [1, 2, 3, 50, 99]), raw_state(book)
    with pytest.raises(OrderBookError, match=f"^{param}="):
        call(book)
    assert snapshot(book, [1, 2, 3, 50, 99]) == before
    assert raw_state(book) == raw, "a refused operation changed the book"


def test_constructor_rejects_bad_sizes(make):
    with pytest.raises(ValueError, match="n_ticks"):
        make(1)
    with pytest.raises(ValueError, match="capacity"):
        make(10, capacity=0)


def test_numpy_integers_are_accepted(make):
    book = make(10)
    book.limit(np.int64(1), np.int64(0), np.int32(4), np.int64(2), owner=np.int8(3))
    assert book.order(1) == (B, 4, 2) and np.int64(1) in book
    assert book.market(np.int64(2), Side.SELL, np.int64(1)).fills == [fill(1, 2, 4, 1, S, 3, -1)]


def test_process_messages_applies_a_stream_like_the_facade():
    book = K.new_book(10, 4)
    events = np.zeros((4, K.EV_WIDTH), np.int64)
    msgs = np.array([
        # type         side  price qty owner id
        [K.MSG_LIMIT,  S,    5,    2,  1,    0],
        [K.MSG_LIMIT,  S,    6,    3,  2,    1],
        [K.MSG_LIMIT,  B,    4,    1,  1,    2],
        [K.MSG_MARKET, B,    0,    3,  3,    3],   # fills 0 (2 @5) and 1 (1 @6)
        [K.MSG_CANCEL, 0,    0,    0,  0,    0],   # 0 is gone: skipped
        [K.MSG_LIMIT,  S,    4,    2,  1,    4],   # self-trade: cancels 2, rests at 4
        [K.MSG_IOC,    B,    9,    5, -1,    5],   # fills 4 (2 @4), 1 (2 @6); 1 lot cancelled
        [K.MSG_LIMIT,  B,   10,    1, -1,    6],   # off grid: skipped
        [K.MSG_LIMIT,  B,    3,    0, -1,    7],   # size 0: skipped
        [K.MSG_LIMIT,  B,    3,    2, -1,    8],
        [K.MSG_LIMIT,  B,    3,    2, -1,    8],   # duplicate id: skipped
        [K.MSG_CANCEL, 0,    0,    0,  0,    8],
    ], dtype=np.int64)
    assert process_messages(book, msgs, events) == (4, 4, 7, 0)
    assert book[K.H_N_ACTIVE] == 0 and book[K.H_BEST_BID] == -1 and book[K.H_BEST_ASK] == 10
    assert (book[K.H_SUBMITTED], book[K.H_FILLED], book[K.H_CANCELLED]) == (18, 14, 4)


def test_process_messages_in_chunks_knows_orders_rested_earlier_and_reports_full_book():
    book = K.new_book(10, 2)
    events = np.zeros((2, K.EV_WIDTH), np.int64)
    first = np.array([[K.MSG_LIMIT, B, 3, 1, -1, 7], [K.MSG_LIMIT, B, 3, 1, -1, 8]], np.int64)
    assert process_messages(book, first, events) == (0, 0, 0, 0)
    second = np.array([[K.MSG_LIMIT, B, 2, 1, -1, 9], [K.MSG_CANCEL, 0, 0, 0, 0, 7],
                       [K.MSG_LIMIT, S, 2, 1, -1, 10]], np.int64)
    # 9 finds no free slot; 7 is known although rested by the first call; 10 trades with 8.
    assert process_messages(book, second, events) == (0, 1, 1, 1)
    assert book[K.H_N_ACTIVE] == 0 and (book[K.H_SUBMITTED], book[K.H_CANCELLED]) == (4, 2)
