"""Issue 9, item 4: ``process_messages`` checks its inputs before the compiled kernel runs.

Every refused call must raise :class:`OrderBookError` and leave the book and the events array untouched; a corrupted
book buffer must be refused, never read out of bounds (a segfault, or silent corruption, on the old code).
"""
from __future__ import annotations

import numpy as np
import pytest

from marketgames.book import MAX_QUANTITY, MAX_STREAM_ID, OrderBook, OrderBookError, Side
from marketgames.book import kernels as K
from marketgames.book.stream import process_messages

from book_checks import check_buffer

B, S = Side.BUY, Side.SELL
N_TICKS, CAP = 10, 4


def _book() -> np.ndarray:
    """A small valid book with resting orders on both sides and two orders queued at one level."""
    buf = K.new_book(N_TICKS, CAP)
    msgs = np.array([[K.MSG_LIMIT, B, 3, 2, 0, 0], [K.MSG_LIMIT, B, 3, 1, 1, 1], [K.MSG_LIMIT, S, 6, 4, 1, 2]],
                    np.int64)
    assert process_messages(buf, msgs, np.zeros((CAP, K.EV_WIDTH), np.int64)) == (0, 0, 0, 0)
    return buf


def _stream() -> np.ndarray:
    return np.array([[K.MSG_LIMIT, S, 3, 2, 2, 5], [K.MSG_CANCEL, 0, 0, 0, 0, 2], [K.MSG_LIMIT, S, 7, 1, -1, 6]],
                    np.int64)


def _refused(buf, messages, events, match: str) -> None:
    """``process_messages`` raises naming ``match`` and changes neither ``buf`` nor ``events``."""
    before = (buf.copy(), events.copy()) if isinstance(events, np.ndarray) else (buf.copy(), None)
    with pytest.raises(OrderBookError, match=match):
        process_messages(buf, messages, events)
    assert np.array_equal(buf, before[0])
    if before[1] is not None:
        assert np.array_equal(events, before[1])


def test_a_valid_stream_runs():
    buf = _book()
    assert process_messages(buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64)) == (0, 1, 2, 0)


@pytest.mark.parametrize("shape", [(3, 5), (3, 7), (18,), (1, 3, 6)])
def test_messages_of_the_wrong_shape_are_refused(shape):
    # 5 columns used to be read past the end of each row
    _refused(_book(), np.zeros(shape, np.int64), np.zeros((CAP, K.EV_WIDTH), np.int64), r"^messages\.shape=")


@pytest.mark.parametrize("events", [np.zeros((CAP, 2), np.int64), np.zeros((CAP - 1, K.EV_WIDTH), np.int64),
                                    np.zeros(CAP * K.EV_WIDTH, np.int64)])
def test_events_of_the_wrong_shape_are_refused(events):
    # 2 columns used to be written past its end: silent memory corruption
    _refused(_book(), _stream(), events, r"^events")


@pytest.mark.parametrize("events", [np.zeros((CAP, K.EV_WIDTH)), np.zeros((CAP, K.EV_WIDTH), np.int32),
                                    np.zeros((K.EV_WIDTH, CAP), np.int64).T, [[0] * K.EV_WIDTH] * CAP])
def test_events_must_be_writable_contiguous_int64(events):
    _refused(_book(), _stream(), events, r"^events")


def test_read_only_events_and_events_inside_the_book_are_refused():
    events = np.zeros((CAP, K.EV_WIDTH), np.int64)
    events.flags.writeable = False
    _refused(_book(), _stream(), events, r"^events")
    buf = _book()   # events over the book's slot columns: writing an event would corrupt the book
    _refused(buf, _stream(), buf[-CAP * K.EV_WIDTH:].reshape(CAP, K.EV_WIDTH), "shares memory")


def test_float_messages_are_refused_not_rounded():
    # float64 used to give a numba TypingError
    for dtype in (np.float64, np.float32, np.bool_, object):
        _refused(_book(), _stream().astype(dtype), np.zeros((CAP, K.EV_WIDTH), np.int64), r"^messages\.dtype=")


@pytest.mark.parametrize("convert", [lambda m: m.astype(np.int32), lambda m: m.astype(np.uint16) * 0 + m.clip(0),
                                     lambda m: np.asfortranarray(m), lambda m: np.repeat(m, 2, axis=0)[::2],
                                     lambda m: m.tolist()])
def test_exact_integer_messages_are_converted(convert):
    want = process_messages(_book(), _stream().clip(0), np.zeros((CAP, K.EV_WIDTH), np.int64))
    assert process_messages(_book(), convert(_stream().clip(0)), np.zeros((CAP, K.EV_WIDTH), np.int64)) == want


def test_uint64_messages_beyond_int64_are_refused():
    messages = _stream().clip(0).astype(np.uint64)
    messages[0, K.MSG_QTY] = 2**63
    _refused(_book(), messages, np.zeros((CAP, K.EV_WIDTH), np.int64), "int64")


@pytest.mark.parametrize("order_id", [MAX_STREAM_ID + 1, 10**12, 2**63 - 1])
def test_a_huge_id_is_refused_instead_of_allocating_a_table(order_id):
    # 10**12 used to give a MemoryError
    messages = _stream()
    messages[1, K.MSG_ID] = order_id
    _refused(_book(), messages, np.zeros((CAP, K.EV_WIDTH), np.int64), rf"^messages\[1, MSG_ID\]={order_id} ")


def test_the_largest_id_is_accepted():
    messages = _stream()
    messages[0, K.MSG_ID] = MAX_STREAM_ID
    buf = _book()
    assert process_messages(buf, messages, np.zeros((CAP, K.EV_WIDTH), np.int64)) == (0, 1, 2, 0)


def test_a_book_with_a_huge_resting_id_is_refused():
    book = OrderBook(N_TICKS, capacity=CAP)
    book.limit(10**12, B, 3, 1)
    _refused(book._buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64), "id 1000000000000")


def test_sizes_that_overflow_int64_are_skipped_like_the_facade_refuses_them():
    # two int64-max bids used to leave a level size of -2
    buf = K.new_book(N_TICKS, CAP)
    messages = np.array([[K.MSG_LIMIT, B, 3, 2**63 - 1, -1, 0], [K.MSG_LIMIT, B, 3, 2**63 - 1, -1, 1],
                         [K.MSG_LIMIT, B, 3, MAX_QUANTITY + 1, -1, 2], [K.MSG_LIMIT, B, 3, MAX_QUANTITY, -1, 3],
                         [K.MSG_IOC, S, 3, MAX_QUANTITY, -1, 4]], np.int64)
    assert process_messages(buf, messages, np.zeros((CAP, K.EV_WIDTH), np.int64)) == (3, 1, MAX_QUANTITY, 0)
    assert (buf[K.H_SUBMITTED], buf[K.H_FILLED], buf[K.H_N_ACTIVE]) == (2 * MAX_QUANTITY, 2 * MAX_QUANTITY, 0)
    buf[K.H_SUBMITTED] = buf[K.H_CANCELLED] = 2**63 - 1 - 5   # 5 lots of room left in the counters
    buf[K.H_FILLED] = 0
    messages = np.array([[K.MSG_LIMIT, B, 3, 6, -1, 5], [K.MSG_LIMIT, B, 3, 5, -1, 6]], np.int64)
    assert process_messages(buf, messages, np.zeros((CAP, K.EV_WIDTH), np.int64)) == (1, 0, 0, 0)
    assert buf[K.H_SUBMITTED] == 2**63 - 1


@pytest.mark.parametrize("buf", [np.zeros(5, np.int64), K.new_book(N_TICKS, CAP).astype(np.float64),
                                 K.new_book(N_TICKS, CAP)[::1].reshape(1, -1), list(K.new_book(N_TICKS, CAP)),
                                 np.repeat(K.new_book(N_TICKS, CAP), 2)[::2]])
def test_buffers_that_are_not_a_book_are_refused(buf):
    with pytest.raises(OrderBookError, match="^buf"):
        process_messages(buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64))


def test_a_read_only_book_is_refused():
    buf = _book()
    buf.flags.writeable = False
    _refused(buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64), "^buf")


def _slot_field(field: int, slot: int) -> int:
    return int(K.new_book(N_TICKS, CAP)[field]) + slot


# (label, word index in the buffer, new value): each breaks the book in one way the old code trusted.
_CORRUPTIONS = [
    ("n_ticks", K.H_N_TICKS, 10**9), ("n_ticks small", K.H_N_TICKS, 3), ("capacity", K.H_CAPACITY, 10**6),
    ("negative capacity", K.H_CAPACITY, -1), ("offset", K.H_OFF_QTY, 10**12), ("offset near", K.H_OFF_ID, 30),
    ("best bid above grid", K.H_BEST_BID, 10**9), ("best bid stale", K.H_BEST_BID, 2),
    ("best ask", K.H_BEST_ASK, -5), ("free head", K.H_FREE_HEAD, 10**9), ("free head busy", K.H_FREE_HEAD, 0),
    ("active count", K.H_N_ACTIVE, 7), ("counters", K.H_SUBMITTED, -1), ("filled odd", K.H_FILLED, 1),
    ("next link", _slot_field(K.H_OFF_NEXT, 0), 10**9), ("next cycle", _slot_field(K.H_OFF_NEXT, 1), 0),
    ("prev link", _slot_field(K.H_OFF_PREV, 1), -7), ("level head", int(K.new_book(N_TICKS, CAP)[K.H_OFF_HEAD]) + 3,
                                                     10**9),
    ("level size", int(K.new_book(N_TICKS, CAP)[K.H_OFF_LEVEL_QTY]) + 3, 2),
    ("order size", _slot_field(K.H_OFF_QTY, 0), -(2**62)), ("order size huge", _slot_field(K.H_OFF_QTY, 2), 2**62),
    ("order price", _slot_field(K.H_OFF_PRICE, 2), 10**9), ("order side", _slot_field(K.H_OFF_SIDE, 2), 5),
    ("owner", _slot_field(K.H_OFF_OWNER, 0), -3), ("free slot with size", _slot_field(K.H_OFF_QTY, 3), 1),
]


@pytest.mark.parametrize("label,index,value", _CORRUPTIONS, ids=[c[0] for c in _CORRUPTIONS])
def test_a_corrupted_book_is_refused(label, index, value):
    # a corrupted header used to segfault
    buf = _book()
    assert buf[index] != value, label
    buf[index] = value
    _refused(buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64), "^buf")


def test_random_corruption_never_crashes():
    """Any single word of a book set to an awkward value: refused, or a valid run that keeps the book valid."""
    rng = np.random.default_rng(9)
    values = [-(2**63), -(2**62), -2, -1, 0, 1, 2, 3, N_TICKS - 1, N_TICKS, CAP, 2**40, 2**62, 2**63 - 1]
    base = _book()
    n_refused = 0
    for index in range(base.shape[0]):
        for value in rng.choice(values, 4, replace=False):
            buf = base.copy()
            buf[index] = value
            try:
                process_messages(buf, _stream(), np.zeros((CAP, K.EV_WIDTH), np.int64))
            except OrderBookError:
                n_refused += 1
                continue
            check_buffer(buf)
    assert n_refused > base.shape[0]   # most words matter


def test_messages_that_alias_the_events_are_read_from_a_copy():
    # events and messages both have 6 columns: one array passed as both must not be overwritten while it is read
    messages = np.zeros((CAP, K.EV_WIDTH), np.int64)
    messages[:3] = _stream()
    want = process_messages(_book(), messages.copy(), np.zeros((CAP, K.EV_WIDTH), np.int64))
    assert process_messages(_book(), messages, messages) == want
