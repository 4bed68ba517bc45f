"""Property tests (the fuzzing of issue 9): the compiled book, its batch path and the naive reference agree on every
message stream.

Streams of limit / ioc / market / cancel / modify messages -- valid and invalid (float, bool and string ids, sizes
beyond ``MAX_QUANTITY`` or int64, prices off the grid, ...), several owners, tiny price grids so that orders cross
often -- go to :class:`OrderBook` and :class:`NaiveOrderBook`; after every message both must have returned the same
thing (or refused it naming the same parameter) and show the same state; the book's invariants must hold (never
crossed, quantity conserved, price-time priority via the reference's queues), and a refused message must leave both
books bit-identical. ``stream.process_messages`` is checked against the facade on the streams it can express.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from marketgames.book import MAX_QUANTITY, OrderBook, OrderBookError, Side
from marketgames.book import kernels as K
from marketgames.book.stream import process_messages
from marketgames.book.reference import NaiveOrderBook

from book_checks import check_buffer, raw_state

B, S = Side.BUY, Side.SELL

# Bounded and reproducible. No shrink phase: shrinking 300-message streams checked message by message takes
# minutes; a failure names the first message where the books part (add Phase.shrink to minimise it).
settings.register_profile(
    "marketgames-book", max_examples=15, derandomize=True, deadline=None, print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BOOK_SETTINGS = settings.get_profile("marketgames-book")

N_IDS = 12          # few ids: duplicates and cancels of filled orders are frequent
IDS = list(range(N_IDS))


# ---------------------------------------------------------------- helpers
def apply(book, msg: tuple):
    """Send ``msg`` = (kind, args, kwargs) to ``book``; returns ("ok", result) or ("error", parameter named)."""
    kind, args, kwargs = msg
    try:
        return "ok", getattr(book, kind)(*args, **kwargs)
    except OrderBookError as err:
        return "error", str(err).split("=", 1)[0]


def snapshot(book, ids) -> tuple:
    n = book.n_ticks
    orders = {i: (book.order(i), book.queue_position(i)) for i in ids if i in book}
    return (book.best_bid, book.best_ask, book.spread, book.mid, book.depth(B, n), book.depth(S, n),
            book.counters, len(book), orders)


def check_invariants(state: tuple) -> None:
    bid, ask, _, _, bids, asks, counters, n_orders, orders = state
    if bid is not None and ask is not None:
        assert bid < ask, "crossed book"
    assert counters["submitted"] == counters["resting"] + counters["filled"] + counters["cancelled"]
    assert min(counters.values()) >= 0 and counters["filled"] % 2 == 0
    assert all(q > 0 for _, q in bids + asks) and all(o[0][2] > 0 and o[1] >= 0 for o in orders.values())
    assert counters["resting"] == sum(q for _, q in bids + asks)
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert bid == (bids[0][0] if bids else None) and ask == (asks[0][0] if asks else None)


# ---------------------------------------------------------------- strategies
def mostly(valid: list, invalid: list, weight: int) -> st.SearchStrategy:
    """Each valid value ``weight`` times as likely as each invalid one (one field in ~30 is invalid)."""
    return st.sampled_from(valid * weight + invalid)


# 1.0, True, np.float64(3.0) and np.bool_(True) are not ids even though they equal ids of resting orders.
ids_ = mostly(IDS + [np.int64(2), np.uint8(3)], [-3, 2**63, 1.5, "x", 1.0, True, np.float64(3.0), np.bool_(True)], 8)
sides = mostly([B, S, 0, 1], [2, -1, True, None], 60)
qtys = mostly([1, 1, 2, 3, 5, 8, MAX_QUANTITY], [0, -1, 2.0, MAX_QUANTITY + 1, 2**62, 2**63 - 1], 15)
owners = mostly([-1, 0, 1, 2], [-2, 2**64], 15)


def prices(n_ticks: int) -> st.SearchStrategy:
    return mostly(list(range(n_ticks)), [-1, n_ticks, 2.5, True], 120 // n_ticks)


@st.composite
def message(draw, n_ticks: int, *, with_modify: bool = True) -> tuple:
    kinds = ["limit"] * 5 + ["ioc", "market", "cancel", "cancel"] + ["modify"] * 2 * with_modify
    kind = draw(st.sampled_from(kinds))
    order_id = draw(ids_)
    if kind == "cancel":
        return kind, (order_id,), {}
    if kind == "modify":
        change = {"price": draw(prices(n_ticks)), "quantity": draw(qtys)}
        keep = draw(st.sampled_from([("price",), ("quantity",), ("price", "quantity"), ()]))
        return kind, (order_id,), {k: change[k] for k in keep}
    side, qty, owner = draw(sides), draw(qtys), draw(owners)
    if kind == "market":
        return kind, (order_id, side, qty, owner), {}
    price = draw(prices(n_ticks))
    if kind == "limit" and side in (B, S) and not isinstance(side, bool) and draw(st.integers(0, 3)):
        # Mostly passive limit orders (own half of the grid) so that the book fills up.
        half = n_ticks // 2
        price = draw(st.integers(0, half - 1) if side == B else st.integers(half, n_ticks - 1))
    return kind, (order_id, side, price, qty, owner), {}


@st.composite
def streams(draw, *, with_modify: bool = True, max_size: int = 300):
    n_ticks = draw(st.integers(2, 8))
    capacity = draw(st.integers(1, 4))
    length = draw(st.integers(0, max_size))   # drawn first so that failures shrink to short streams
    msgs = draw(st.lists(message(n_ticks, with_modify=with_modify), min_size=length, max_size=length))
    return n_ticks, capacity, msgs


# ---------------------------------------------------------------- book vs reference
def check_message(book, ref, msg: tuple, label: str, ids=IDS, *, full: bool = True) -> tuple:
    """Send ``msg`` to both books and check them; returns the book's answer."""
    before = (raw_state(book), raw_state(ref))
    got, want = apply(book, msg), apply(ref, msg)
    assert got == want, f"{label}: {msg}"
    if got[0] == "error":
        assert (raw_state(book), raw_state(ref)) == before, f"{label}: refused but changed a book: {msg}"
    if full:
        ids = ids() if callable(ids) else ids
        state = snapshot(book, ids)
        assert state == snapshot(ref, ids), f"state after {label}: {msg}"
        check_invariants(state)
        check_buffer(book._buf)
    return got


def _matches_reference(stream) -> None:
    n_ticks, capacity, msgs = stream
    book, ref = OrderBook(n_ticks, capacity=capacity), NaiveOrderBook(n_ticks, capacity=capacity)
    for i, msg in enumerate(msgs):
        check_message(book, ref, msg, f"message {i}")


@BOOK_SETTINGS
@given(streams())
def test_orderbook_matches_reference_after_every_message(stream):
    _matches_reference(stream)


@pytest.mark.slow
@settings(BOOK_SETTINGS, max_examples=45)
@given(streams())
def test_orderbook_matches_reference_after_every_message_more_streams(stream):
    _matches_reference(stream)


# ---------------------------------------------------------------- batch path vs facade
_KIND = {"limit": K.MSG_LIMIT, "ioc": K.MSG_IOC, "market": K.MSG_MARKET, "cancel": K.MSG_CANCEL}


def _as_row(msg: tuple) -> np.ndarray | None:
    """The ``process_messages`` row of a message, or None when the message has no int64 encoding."""
    kind, args, _ = msg
    if kind == "cancel":
        args = (args[0], 0, 0, 0, 0)
    elif kind == "market":
        args = (args[0], args[1], 0, args[2], args[3])
    order_id, side, price, qty, owner = args
    values = (order_id, side, price, qty, owner)
    if any(isinstance(v, (bool, np.bool_, float, str)) or v is None or not -2**63 <= v < 2**63 for v in values):
        return None
    if order_id < 0:   # the batch path names orders by non-negative ids only
        return None
    row = np.zeros(K.MSG_WIDTH, np.int64)
    row[[K.MSG_TYPE, K.MSG_SIDE, K.MSG_PRICE, K.MSG_QTY, K.MSG_OWNER, K.MSG_ID]] = (
        _KIND[kind], side, price, qty, owner, order_id)
    return row


@settings(BOOK_SETTINGS, max_examples=15)
@given(streams(with_modify=False), st.booleans())
def test_process_messages_matches_the_facade(stream, one_call):
    n_ticks, _, msgs = stream
    pairs = [(m, r) for m in msgs if (r := _as_row(m)) is not None]
    book = OrderBook(n_ticks, capacity=1)
    buf = K.new_book(n_ticks, max(1, len(pairs)))   # no growth in the batch path: room for every message
    events = np.zeros((max(1, len(pairs)), K.EV_WIDTH), np.int64)
    expected = np.zeros(4, np.int64)
    for msg, row in pairs:
        status, res = apply(book, msg)
        if status == "error":
            want = (1, 0, 0, 0)
        elif msg[0] == "cancel":
            want = (0, 0, 0, 0)
        else:
            want = (0, len(res.fills), sum(f.quantity for f in res.fills), 0)
        expected += want
        if not one_call:   # message by message: the id -> slot map is rebuilt from the buffer each time
            assert process_messages(buf, row[None, :], events) == want, msg
            _assert_same_book(buf, book)
    if one_call and pairs:
        rows = np.stack([r for _, r in pairs])
        assert process_messages(buf, rows, events) == tuple(expected)
        _assert_same_book(buf, book)


def _assert_same_book(buf: np.ndarray, book: OrderBook) -> None:
    check_buffer(buf)
    n = book.n_ticks
    prices_, sizes = np.empty(n, np.int64), np.empty(n, np.int64)
    for side in (B, S):
        k = K.depth(buf, int(side), n, prices_, sizes)
        assert [(int(p), int(q)) for p, q in zip(prices_[:k], sizes[:k])] == book.depth(side, n)
    got = {int(buf[buf[K.H_OFF_ID] + s]): ((Side(int(buf[buf[K.H_OFF_SIDE] + s])), int(buf[buf[K.H_OFF_PRICE] + s]),
                                           int(buf[buf[K.H_OFF_QTY] + s])), int(K.queue_ahead(buf, s)))
           for s in range(int(buf[K.H_CAPACITY])) if buf[buf[K.H_OFF_QTY] + s] > 0}
    assert got == {i: (book.order(i), book.queue_position(i)) for i in IDS if i in book}
    assert [int(buf[h]) for h in (K.H_SUBMITTED, K.H_FILLED, K.H_CANCELLED)] == [
        book.counters[k] for k in ("submitted", "filled", "cancelled")]


# ---------------------------------------------------------------- seeded loop: long streams, valid and invalid
# Bad values per parameter; ids are made from a live order's id (``1.0`` when order 1 rests) so that a book that
# mistook them for that order would change.
_BAD = {"price": lambda n, t: [-1, n, 2.5, True, np.float64(3)],
        "quantity": lambda n, t: [0, -1, 2.0, True, MAX_QUANTITY + 1, 2**62, 2**63 - 1, np.uint64(2**63)],
        "side": lambda n, t: [2, -1, True, 1.0, "BUY"],
        "owner": lambda n, t: [-2, 2**63, 0.0],
        "order_id": lambda n, t: [float(t), np.float64(t), bool(t % 2), np.bool_(t % 2), str(t), None, 2**63]}


def long_stream(n_messages: int, n_ticks: int, rng: np.random.Generator, p_bad: float = 0.0):
    """Mostly valid messages around a drifting mid; cancels and modifies aim at earlier limit orders.

    ``live`` holds the ids of limit orders not yet targeted (some have been filled since: their cancels are refused).
    With probability ``p_bad`` one argument of a message is replaced by a bad value of its parameter; a few sizes
    are ``MAX_QUANTITY`` so that sums reach far beyond 32 bits.
    """
    next_id, mid, live = 0, n_ticks // 2, []

    def spoil(kind, args, kwargs, target):
        names = {"cancel": ["order_id"], "modify": ["order_id", "price", "quantity"],
                 "market": ["order_id", "side", "quantity", "owner"]}.get(
                     kind, ["order_id", "side", "price", "quantity", "owner"])
        name = names[int(rng.integers(len(names)))]
        bad = _BAD[name](n_ticks, target)
        value = bad[int(rng.integers(len(bad)))]
        if name in kwargs or (kind == "modify" and name != "order_id"):
            return kind, args, {**kwargs, name: value}
        args = list(args)
        args[names.index(name)] = value
        return kind, tuple(args), kwargs

    for _ in range(n_messages):
        mid = int(np.clip(mid + rng.integers(-1, 2), 3, n_ticks - 4))
        u = rng.random()
        side = Side(int(rng.integers(2)))
        price = int(np.clip(mid - side.sign * rng.integers(-1, 6), 0, n_ticks - 1))   # mostly passive
        qty = MAX_QUANTITY if rng.random() < 0.005 else int(rng.integers(1, 6)) if rng.random() > 0.01 else 0
        owner = int(rng.integers(-1, 6))
        if u < 0.6 or not live:
            kind = "limit" if u < 0.4 else "ioc" if u < 0.5 else "market"
            msg = kind, ((next_id, side, qty, owner) if kind == "market" else (next_id, side, price, qty, owner)), {}
            if rng.random() < p_bad:
                msg = spoil(*msg, live[-1] if live else 1)
            yield msg
            live += [next_id] if kind == "limit" else []
            next_id += 1
            continue
        k = int(rng.integers(len(live)))
        target = live[k] if rng.random() > 0.05 else next_id + 7   # a few never-seen ids
        if u < 0.9:
            msg = "cancel", (target,), {}
        else:
            msg = "modify", (target,), {"price": price} if rng.random() < 0.5 else {"quantity": qty}
        if rng.random() < p_bad:
            yield spoil(*msg, target)   # refused: the target stays live
            continue
        if msg[0] == "cancel":
            live[k] = live[-1]
            live.pop()
        yield msg


def _fuzz(n_messages: int, seed: int, full_every: int) -> tuple[int, int, int]:
    """Run a long stream through both books, checking every message; returns (fills, refusals, final capacity)."""
    n_ticks = 24
    book, ref = OrderBook(n_ticks, capacity=8), NaiveOrderBook(n_ticks)
    n_errors = n_fills = 0
    for i, msg in enumerate(long_stream(n_messages, n_ticks, np.random.default_rng(seed), p_bad=0.05)):
        resting = lambda: sorted({*book._slot_of, *(o.order_id for o in ref._orders)})  # noqa: E731
        got = check_message(book, ref, msg, f"message {i}", resting, full=i % full_every == 0)
        n_errors += got[0] == "error"
        n_fills += got[0] == "ok" and msg[0] != "cancel" and len(got[1].fills)
        state = (book.best_bid, book.best_ask, book.depth(B, n_ticks), book.depth(S, n_ticks), book.counters,
                 len(book))
        assert state == (ref.best_bid, ref.best_ask, ref.depth(B, n_ticks), ref.depth(S, n_ticks), ref.counters,
                         len(ref)), f"state after message {i}: {msg}"
        if state[0] is not None and state[1] is not None:
            assert state[0] < state[1], f"crossed after message {i}"
    check_buffer(book._buf)
    return n_fills, n_errors, int(book._buf[K.H_CAPACITY])


def test_seeded_fuzz_against_reference():
    n_fills, n_errors, capacity = _fuzz(2_500, seed=1, full_every=5)
    # The stream exercises what it should: trades, refusals of every kind, and a book that has grown.
    assert n_fills > 100 and n_errors > 50 and capacity > 8


@pytest.mark.slow
def test_long_seeded_fuzz_against_reference():
    n_fills, n_errors, capacity = _fuzz(8_000, seed=0, full_every=10)
    assert n_fills > 800 and n_errors > 300 and capacity > 8
