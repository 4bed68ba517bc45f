"""Replay of LOBSTER files through the order book: match rates with known answers on generated files, the phantom
and reconciliation rules on a book driven by hand, the reference book giving the same replay, the GOOG sample."""
from __future__ import annotations

import numpy as np
import pytest
from lobster_files import EVERY_EVENT, RESTING, T0, random_messages, write_day

from marketgames.book import Side
from marketgames.book.reference import NaiveOrderBook
from marketgames.data import PriceGrid, load_day, shared_sample
from marketgames.data.lobster import DELETE, EXECUTE, NEW, PARTIAL_CANCEL
from marketgames.data.replay import ReplayBook, replay


def test_every_event_level2_has_known_rates(tmp_path):
    day = load_day(write_day(tmp_path, EVERY_EVENT, levels=2, resting=RESTING))
    r = replay(day)
    assert r.rows == 14 and r.never_submitted == 3 and r.removals == 6 and r.ties == 1
    # Row 0 cannot know the orders resting before the window; after it both reconciled books are exact (the
    # hidden execution, the cross and the halts leave the book alone; the unknown ids consume the phantoms).
    assert (r.reconciled.touch, r.one_step.touch) == (13, 13)
    assert r.reveal.rows == 1 and r.reveal.touch == 0
    # Open loop: the unknown bid at the touch spoils every row until it is deleted in the last one.
    assert r.open_loop.touch == 1 and r.open_loop.bid_price == 1
    assert r.counters["reconciled"]["unmatched_shares"] == 0


def test_unknown_ids_consume_phantom_liquidity(tmp_path):
    msgs = [(T0, NEW, 1, 50, 999_900, 1), (T0 + 1, EXECUTE, 900, 40, 1_000_100, -1),
            (T0 + 2, DELETE, 900, 60, 1_000_100, -1)]
    day = load_day(write_day(tmp_path, msgs, resting=[(900, 100, 1_000_100, -1)]))
    r = replay(day)
    assert (r.open_loop.touch, r.open_loop.ask_price, r.open_loop.bid_price, r.open_loop.rows) == (1, 1, 3, 3)
    assert (r.one_step.touch, r.reconciled.touch) == (2, 2)
    assert (r.reveal.rows, r.reveal.touch, r.one_step_known.rows, r.one_step_known.touch) == (1, 0, 2, 2)
    assert r.never_submitted == 2
    assert r.counters["open_loop"]["unmatched_shares"] == 100 and r.counters["reconciled"]["unmatched_shares"] == 0
    assert r.table()[0] == {"mode": "open_loop", "rows": 3, **r.open_loop.rates()}


@pytest.mark.parametrize("seed", [0, 1])
def test_a_window_without_unknown_orders_replays_exactly(tmp_path, seed):
    msgs = random_messages(np.random.default_rng(seed), 400)
    day = load_day(write_day(tmp_path, msgs, levels=1))
    r = replay(day)
    # Every order is in the file: the messages alone give the book, and memory knows every deeper level.
    assert r.open_loop.touch == r.reconciled.touch == r.rows == 400
    assert r.one_step_known.touch == r.one_step_known.rows
    # Without memory a level-1 row tells nothing of the level behind the touch: each reveal is missed.
    assert r.reveal.rows > 0 and r.one_step.touch == r.rows - r.reveal.rows
    assert r.never_submitted == 0 and r.counters["reconciled"]["phantom_added"] == 0


def test_the_reference_book_replays_the_same(tmp_path):
    msgs = random_messages(np.random.default_rng(3), 150, resting=RESTING)
    day = load_day(write_day(tmp_path, msgs, levels=2, resting=RESTING))
    result = replay(day)
    assert result.never_submitted > 0 and result.reconciled.touch < result.rows
    assert result == replay(day, book_factory=NaiveOrderBook)


def test_a_crossed_file_row_does_not_make_the_book_trade(tmp_path):
    # A file whose orderbook rows are crossed (the unknown resting ask is below the new bid): the replay goes on.
    msgs = random_messages(np.random.default_rng(3), 150)
    day = load_day(write_day(tmp_path, msgs, levels=2, resting=RESTING))
    result = replay(day)
    assert result.rows == 150 and result.counters["one_step"]["stale_removed"] > 0
    assert all(c["filled"] == 0 for c in result.counters.values())


def _check_levels(rb: ReplayBook) -> None:
    """The replay book's level totals equal the order book's depth."""
    for side in (Side.BUY, Side.SELL):
        depth = rb.book.depth(side, rb.n_ticks)
        assert [rb.size_at(side, lv.price) for lv in depth] == [lv.quantity for lv in depth]
        assert rb.levels(side) == len(depth)


def test_a_new_order_removes_stale_liquidity_it_would_cross():
    rb = ReplayBook(20)
    rb.apply(NEW, 1, 100, 10, -1)
    rb.apply(NEW, 2, 30, 11, -1)
    rb.apply(NEW, 3, 50, 11, 1)     # a buy at 11: both asks are stale, nothing trades
    assert rb.touch() == (-1, 0, 11, 50) and rb.counters["stale_removed"] == 2
    assert rb.book.counters["filled"] == 0
    _check_levels(rb)


def test_reconcile_cuts_phantoms_first_then_known_orders_from_the_back():
    rb = ReplayBook(20)
    rb.apply(NEW, 1, 100, 10, 1)
    rb.apply(NEW, 2, 100, 10, 1)
    rb.reconcile([-1], [0], [10], [250], keep_deeper=True)       # file shows more: a phantom at the back
    assert rb.touch() == (-1, 0, 10, 250) and rb.book.queue_position(2) == 100
    rb.apply(PARTIAL_CANCEL, 77, 20, 10, 1)                       # an unknown id takes the phantom's shares
    assert rb.size_at(Side.BUY, 10) == 230 and rb.book.order(1)[2] == 100
    rb.reconcile([-1], [0], [10], [150], keep_deeper=True)       # file shows less: phantom, then order 2
    assert rb.book.order(1)[2] == 100 and rb.book.order(2)[2] == 50 and len(rb.book) == 2
    _check_levels(rb)


def test_reconcile_keeps_or_drops_the_levels_behind_the_file():
    for keep in (True, False):
        rb = ReplayBook(20)
        for oid, tick in ((1, 10), (2, 9), (3, 8)):
            rb.apply(NEW, oid, 10, tick, 1)
        rb.apply(NEW, 4, 10, 12, -1)
        changed = rb.reconcile([12], [10], [10], [10], keep_deeper=keep)
        assert changed is (not keep) and rb.levels(Side.BUY) == (3 if keep else 1)
        rb.reconcile([12, -1], [10, 0], [10, 8], [10, 10], keep_deeper=keep)   # level 2: 9 is gone, side complete
        assert [lv.price for lv in rb.book.depth(Side.SELL, 5)] == [12]
        assert [lv.price for lv in rb.book.depth(Side.BUY, 5)] == [10, 8]
        assert rb.size_at(Side.BUY, 8) == 10
        rb.reconcile([-1], [0], [-1], [0], keep_deeper=keep)             # both sides empty
        assert rb.touch() == (-1, 0, -1, 0) and len(rb.book) == 0
        _check_levels(rb)


def test_off_grid_visible_prices_are_refused(tmp_path):
    day = load_day(write_day(tmp_path, EVERY_EVENT, levels=2, resting=RESTING))
    with pytest.raises(ValueError, match="is not on the grid"):
        replay(day, PriceGrid(tick_size=300, offset=990_000, n_ticks=100))


GOOG = shared_sample()


@pytest.mark.skipif(GOOG is None, reason="the shared LOBSTER sample (../shared/data/lobster) is absent")
def test_goog_first_half_hour_replays_like_the_measured_facts():
    assert GOOG is not None
    r = replay(load_day(GOOG).window(34_200, 34_200 + 900))
    assert r.rows > 1000
    assert r.one_step_known.rate() == 1.0          # anchored on the previous row the semantics are exact
    assert r.open_loop.rate() < 0.2 < 0.7 < r.reconciled.rate()
    assert r.reconciled.rate() > r.one_step.rate()
    assert 0.05 < r.never_submitted / r.removals < 0.4
