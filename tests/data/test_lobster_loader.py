"""The LOBSTER loader on generated files (every event type, halts, empty sides, deeper levels, every format error)
and on the shared GOOG sample when it is present."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from lobster_files import EMPTY_ASK, EMPTY_BID, EVERY_EVENT, RESTING, T0, book_rows, names, write_csv, write_day

from marketgames.data import lobster as L
from marketgames.data import LobsterFormatError, PriceGrid, load_day, parse_file_name, shared_sample


@pytest.fixture
def every_event(tmp_path):
    return write_day(tmp_path, EVERY_EVENT, levels=2, resting=RESTING)


def test_every_event_type_loads_as_typed_arrays_in_file_order(every_event):
    day = load_day(every_event)
    assert len(day) == len(EVERY_EVENT) and day.levels == 2
    assert day.event.tolist() == [m[1] for m in EVERY_EVENT]
    assert set(day.event.tolist()) == set(range(1, 8))
    for name, col in (("order_id", 2), ("size", 3), ("price", 4), ("direction", 5)):
        arr = getattr(day, name)
        assert arr.dtype == np.int64 and arr.tolist() == [m[col] for m in EVERY_EVENT]
    assert day.time.dtype == np.float64 and day.time[0] == day.time[1]          # tie kept, not reordered
    assert day.price[2] == 1_000_050                                            # half tick, file units
    assert day.ask_price.shape == (len(EVERY_EVENT), 2) and day.ask_price.dtype == np.int64
    # The orderbook columns are the book after each row: level 2 of the asks is order 1.
    assert day.ask_price[0].tolist() == [1_000_100, 1_000_200] and day.ask_size[0].tolist() == [100, 200]
    assert day.bid_price[1].tolist() == [999_900, 999_800]
    # The emptied ask side is the sentinel with size 0, and the mid is undefined there.
    assert day.ask_price[12].tolist() == [EMPTY_ASK, EMPTY_ASK] and day.ask_size[12].tolist() == [0, 0]
    assert not day.has_ask[12] and np.isnan(day.mid[12]) and day.spread[12] == -1
    assert day.bid_price[-1].tolist() == [999_700, EMPTY_BID]
    assert day.name == parse_file_name(every_event)


def test_halts_run_a_state_machine(every_event):
    state = load_day(every_event).state.tolist()
    T, H, Q = L.TRADING, L.HALTED, L.QUOTING
    assert state == [T] * 6 + [H, H, Q, Q, T, T, T, T]


@pytest.mark.parametrize("indicators, line, allowed", [([1], 1, "while TRADING"), ([-1, -1], 2, "while HALTED"),
                                                      ([-1, 0, 0], 3, "while QUOTING"), ([5], 1, "unknown")])
def test_a_halt_transition_that_cannot_happen_is_refused(tmp_path, indicators, line, allowed):
    msgs = [(T0 + i, 7, 0, 0, ind, -1) for i, ind in enumerate(indicators)]
    path = write_day(tmp_path, msgs, resting=RESTING)
    with pytest.raises(LobsterFormatError, match=rf"line {line}: .*{allowed}"):
        load_day(path)


def test_a_window_may_start_inside_a_halt(tmp_path):
    path = write_day(tmp_path, [(T0, 7, 0, 0, 1, -1)], resting=RESTING)
    assert load_day(path, initial_state=L.HALTED).state.tolist() == [L.TRADING]


def test_file_names_carry_ticker_date_window_and_level(tmp_path):
    info = parse_file_name(tmp_path / "GOOG_2012-06-21_34200000_46800000_orderbook_10.csv")
    assert (info.ticker, info.date, info.start, info.end, info.kind, info.level) == (
        "GOOG", "2012-06-21", 34200.0, 46800.0, "orderbook", 10)
    assert parse_file_name("BRK_A_2012-06-21_0_1_message_1.csv").ticker == "BRK_A"
    for bad in ("GOOG_2012-06-21_message_1.csv", "GOOG_2012-06-21_5_1_message_1.csv",
                "GOOG_2012-06-21_1_5_message_0.csv", "GOOG_2012-06-21_1_5_trades_1.csv"):
        with pytest.raises(LobsterFormatError, match="is not a LOBSTER name"):
            parse_file_name(bad)


def test_deeper_levels_and_an_explicit_orderbook_path(tmp_path):
    msgs = [(T0, 1, k, 10 * k, 1_000_000 + 100 * k, -1) for k in range(1, 6)]
    msgs += [(T0 + 1, 1, 10 + k, 5, 999_900 - 100 * k, 1) for k in range(3)]
    write_csv(tmp_path / "my_messages.csv", msgs)
    write_csv(tmp_path / "my_book.csv", book_rows(msgs, 10))
    day = load_day(tmp_path / "my_messages.csv", tmp_path / "my_book.csv")
    assert day.levels == 10 and day.name is None
    assert day.ask_size[-1].tolist() == [10, 20, 30, 40, 50, 0, 0, 0, 0, 0]
    assert day.bid_price[-1, :4].tolist() == [999_900, 999_800, 999_700, EMPTY_BID]
    with pytest.raises(LobsterFormatError, match="columns; expected exactly 20"):
        load_day(tmp_path / "my_messages.csv", tmp_path / "my_book.csv", levels=5)


def test_extra_trailing_message_columns_are_ignored(tmp_path):
    msgs = [m + (0, 7) for m in EVERY_EVENT]
    path = write_day(tmp_path, msgs, levels=2, books=book_rows(EVERY_EVENT, 2, RESTING))
    day = load_day(path)
    assert day.direction.tolist() == [m[5] for m in EVERY_EVENT]


def test_window_slices_by_time_and_keeps_file_lines(every_event):
    day = load_day(every_event)
    w = day.window(T0 + 0.003, T0 + 0.006)
    assert w.event.tolist() == [4, 2, 6] and w.first_line == 4 and w.ask_price.shape == (3, 2)
    assert len(day.window(T0 + 1, None)) == 0 and len(day.window(None, None)) == len(day)
    assert len(day.window(T0 + 0.005, T0 + 0.001)) == 0


def test_price_grid_maps_visible_prices_to_ticks():
    grid = PriceGrid(tick_size=100, offset=999_000, n_ticks=50)
    assert grid.to_ticks(np.array([999_000, 1_000_100])).tolist() == [0, 11]
    assert grid.on_grid(np.array([1_000_050, 998_900, 1_004_000])).tolist() == [False, False, False]
    assert grid.to_price(10.5) == 1_000_050
    with pytest.raises(ValueError, match="price=1000050 is not on the grid"):
        grid.to_ticks(np.array([1_000_000, 1_000_050]))
    with pytest.raises(ValueError, match="tick_size=0 is not allowed"):
        PriceGrid(0, 0, 10)
    cover = PriceGrid.covering(np.array([1_000_000, 1_000_500]), tick_size=100, margin=3)
    assert cover.to_ticks(np.array([1_000_000, 1_000_500])).tolist() == [3, 8] and cover.n_ticks == 12


# ------------------------------------------------------------------- errors name the file, the line, the expectation
def _break(tmp_path, row, value, levels=1):
    msgs = [list(m) for m in EVERY_EVENT]
    books = book_rows(EVERY_EVENT, levels, RESTING)
    msgs[row] = value
    return write_day(tmp_path, msgs, levels=levels, books=books)


@pytest.mark.parametrize("row, value, pattern", [
    (3, [T0, 4, 900, 40, 1_000_100], r"line 4 has 5 columns; expected 6 like line 1"),
    (0, [T0, 1, 1, 200], r"line 1 has 4 columns; expected at least 6"),
    (5, [T0 - 1, 6, 0, 500, 1_000_000, -1], r"line 6: time=34199.0 goes backwards"),
    (4, [T0 + 0.004, 8, 1, 50, 1_000_200, -1], r"line 5: event type 8 is unknown"),
    (4, [T0 + 0.004, 0, 1, 50, 1_000_200, -1], r"line 5: event type 0 is unknown"),
    (2, [T0 + 0.002, 5, 0, 10, 1_000_050, 0], r"line 3: direction=0 is not allowed: expected -1 \(sell\) or \+1"),
    (2, [T0 + 0.002, 5, 0, 10.5, 1_000_050, 1], r"line 3: size=10.5 is not an integer"),
    (2, [T0 + 0.002, 5, 0, -10, 1_000_050, 1], r"line 3: size=-10 is negative"),
    (1, [T0 + 0.001, 1, "x", 300, 999_800, 1], r"a value is not a number"),
])
def test_message_errors_name_file_line_and_expectation(tmp_path, row, value, pattern):
    path = _break(tmp_path, row, value)
    with pytest.raises(LobsterFormatError, match=pattern) as info:
        load_day(path)
    assert path.name in str(info.value)


def test_orderbook_errors_name_file_line_and_expectation(tmp_path):
    good = book_rows(EVERY_EVENT, 2, RESTING)
    cases = [
        (good[:-1], r"has 13 rows but .* has 14"),
        ([r[:6] for r in good], r"line 1 has 6 columns; expected exactly 8"),
        ([r[:4] if i == 3 else r for i, r in enumerate(good)], r"line 4 has 4 columns; expected 8 like line 1"),
        ([[1_000_100, 0] + r[2:] if i == 2 else r for i, r in enumerate(good)],
         r"line 3: ask level 1 has price 1000100 and size 0"),
        ([r[:2] + [999_900, -3] + r[4:] if i == 0 else r for i, r in enumerate(good)],
         r"line 1: bid level 1 has price 999900 and size -3"),
        ([r[:4] + [999_000] + r[5:] if i == 0 else r for i, r in enumerate(good)],
         r"line 1: ask level 2 \(price 999000\) does not follow level 1"),
    ]
    for k, (books, pattern) in enumerate(cases):
        folder = tmp_path / str(k)
        folder.mkdir()
        path = write_day(folder, EVERY_EVENT, levels=2, books=books)
        with pytest.raises(LobsterFormatError, match=pattern) as info:
            load_day(path)
        assert "orderbook_2.csv" in str(info.value), pattern


def test_a_missing_or_empty_file_is_a_clear_error(tmp_path):
    message_name, _ = names(1)
    (tmp_path / message_name).write_text("")
    with pytest.raises(LobsterFormatError, match="the file is empty"):
        load_day(tmp_path / message_name)
    write_csv(tmp_path / message_name, EVERY_EVENT)
    with pytest.raises(LobsterFormatError, match="cannot read the file"):
        load_day(tmp_path / message_name)
    with pytest.raises(LobsterFormatError, match="is not a LOBSTER name"):
        load_day(tmp_path / "messages.csv")


def test_shared_sample_lookup_follows_the_environment(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "lobster"
    folder.mkdir(parents=True)
    write_day(folder, EVERY_EVENT, levels=2, resting=RESTING)
    monkeypatch.setenv("MARKETGAMES_SHARED", str(tmp_path))
    found = shared_sample()
    assert found is not None and found.name == names(2)[0]
    assert shared_sample(tmp_path / "nowhere") is None


# ------------------------------------------------------------------- the real sample
GOOG = shared_sample()
needs_goog = pytest.mark.skipif(GOOG is None, reason="the shared LOBSTER sample (../shared/data/lobster) is absent")


@needs_goog
def test_goog_sample_loads_with_its_known_shape():
    assert GOOG is not None
    digest = hashlib.sha256(GOOG.read_bytes()).hexdigest()
    if digest != "b9968057e4203892e7bf404c9632b868c8832b1952aa73cbc11aaedbc00306b6":
        pytest.skip("the shared message file is not the documented GOOG sample")
    day = load_day(GOOG)
    assert len(day) == 26_471 and day.levels == 1 and day.name is not None and day.name.ticker == "GOOG"
    assert set(np.unique(day.event).tolist()) <= {1, 2, 3, 4, 5}
    hidden = day.event == L.HIDDEN
    assert (day.order_id[hidden] == 0).all()
    # Hidden executions sit strictly inside the spread of the previous row, some at half ticks.
    prev_ask, prev_bid = day.ask_price[:-1, 0], day.bid_price[:-1, 0]
    h = hidden[1:]
    assert ((day.price[1:][h] > prev_bid[h]) & (day.price[1:][h] < prev_ask[h])).all()
    grid = PriceGrid.covering(day.visible_prices())
    assert 0 < (~grid.on_grid(day.price[hidden])).mean() < 0.05
    assert (day.state == L.TRADING).all()
    assert 0.05 < (np.diff(day.time) == 0).mean() < 0.15
