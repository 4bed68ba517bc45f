"""Order book throughput: the facade, the batch kernel and the naive reference on one mixed message stream.

``python -m benchmarks.bench_orderbook [--messages N] [--naive-messages M] [--quick] [--seed S]``

The stream (seeded): 60% limit orders at prices around a drifting mid on a 2,000-tick grid (mostly passive, some
crossing), 25% cancels of a random resting order, 15% market orders; 100 owners plus anonymous orders, so the
self-trade rule fires now and then. Timed paths, each the median of 3 runs after a warm-up that excludes numba's
compile time:

(a) ``OrderBook`` through its Python API, one call per message;
(b) ``stream.process_messages``: the whole message array in one compiled call;
(c) ``NaiveOrderBook`` (the reference model) on a prefix of the stream -- it is slow by design.

Ratios are against (c), timed in the same run. Before timing, the three paths are checked to end in the same book
(every resting order's side, price, size and queue position, the depth and the counters) on a shared prefix, and
(a) and (b) on the whole stream.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from numba import njit

from marketgames.book import OrderBook, Side
from marketgames.book import kernels as K
from marketgames.book.reference import NaiveOrderBook
from marketgames.book.stream import _apply_messages, process_messages

N_TICKS = 2_000
N_OWNERS = 100


@njit(cache=True)
def _fill_stream(u_kind, u_side, offsets, qtys, owners, u_pick, steps, n_ticks, out, buf, events):
    """Write the messages into ``out`` while applying them to the scratch book ``buf``, so that every cancel names
    an order that is resting at that moment. Returns the largest number of resting orders seen."""
    n = out.shape[0]
    qty_col = buf[K.H_OFF_QTY]
    id_col = buf[K.H_OFF_ID]
    slot_of = np.full(n, -1, np.int64)
    live = np.empty(n, np.int64)       # ids of resting orders, in any order
    where = np.full(n, -1, np.int64)   # id -> index in live
    n_live = 0
    mid = n_ticks // 2
    peak = 0
    for i in range(n):
        mid = min(max(mid + steps[i], 100), n_ticks - 101)
        side = K.BUY if u_side[i] < 0.5 else K.SELL
        if u_kind[i] < 0.25 and n_live > 0:                 # cancel a random resting order
            oid = live[int(u_pick[i] * n_live)]
            out[i, K.MSG_TYPE] = K.MSG_CANCEL
            out[i, K.MSG_ID] = oid
            K.cancel(buf, slot_of[oid])
            slot_of[oid] = -1
            k = where[oid]
            live[k] = live[n_live - 1]
            where[live[k]] = k
            n_live -= 1
            continue
        kind = K.MSG_MARKET if u_kind[i] >= 0.85 else K.MSG_LIMIT
        sign = 1 if side == K.BUY else -1
        price = min(max(mid - sign * offsets[i], 0), n_ticks - 1)
        out[i, K.MSG_TYPE] = kind
        out[i, K.MSG_SIDE] = side
        out[i, K.MSG_PRICE] = price
        out[i, K.MSG_QTY] = qtys[i]
        out[i, K.MSG_OWNER] = owners[i]
        out[i, K.MSG_ID] = i
        if kind == K.MSG_MARKET:
            price = n_ticks - 1 if side == K.BUY else 0
        slot, n_ev, _ = K.submit(buf, side, price, qtys[i], owners[i], i, 0, kind == K.MSG_LIMIT, events)
        for e in range(n_ev):
            ms = events[e, K.EV_MAKER_SLOT]
            mid_ = events[e, K.EV_MAKER_ID]
            if buf[qty_col + ms] == 0 or buf[id_col + ms] != mid_:
                slot_of[mid_] = -1
                k = where[mid_]
                live[k] = live[n_live - 1]
                where[live[k]] = k
                n_live -= 1
        if slot >= 0:
            slot_of[i] = slot
            live[n_live] = i
            where[i] = n_live
            n_live += 1
        peak = max(peak, n_live)
    return peak


def make_stream(n_messages: int, *, seed: int = 0, n_ticks: int = N_TICKS) -> tuple[np.ndarray, int]:
    """The benchmark's message array (``kernels.MSG_*`` columns) and the peak number of resting orders."""
    rng = np.random.default_rng(seed)
    u_kind, u_side, u_pick = rng.random(n_messages), rng.random(n_messages), rng.random(n_messages)
    offsets = np.round(rng.exponential(12.0, n_messages)).astype(np.int64) - 2   # < 0: crosses the spread
    qtys = rng.integers(1, 11, n_messages)
    owners = rng.integers(-1, N_OWNERS, n_messages)
    steps = rng.integers(-1, 2, n_messages)
    out = np.zeros((n_messages, K.MSG_WIDTH), np.int64)
    capacity = max(n_messages, 1)
    buf = K.new_book(n_ticks, capacity)
    events = np.zeros((capacity, K.EV_WIDTH), np.int64)
    peak = _fill_stream(u_kind, u_side, offsets, qtys, owners, u_pick, steps, n_ticks, out, buf, events)
    return out, int(peak)


def as_calls(messages: np.ndarray) -> list[tuple]:
    """The stream as Python values ready for the facade's methods (converted before timing)."""
    sides = (Side.BUY, Side.SELL)
    return [(int(t), int(o)) if t == K.MSG_CANCEL else (int(t), int(o), sides[s], int(p), int(q), int(w))
            for t, s, p, q, w, o in messages.tolist()]


def run_facade(book, calls: list[tuple]) -> None:
    """Path (a)/(c): one method call per message."""
    limit, market, cancel = book.limit, book.market, book.cancel
    for c in calls:
        if c[0] == K.MSG_CANCEL:
            cancel(c[1])
        elif c[0] == K.MSG_LIMIT:
            limit(c[1], c[2], c[3], c[4], c[5])
        else:
            market(c[1], c[2], c[4], c[5])


def run_batch(messages: np.ndarray, capacity: int) -> np.ndarray:
    """Path (b): a fresh book and one compiled call."""
    buf = K.new_book(N_TICKS, capacity)
    events = np.zeros((capacity, K.EV_WIDTH), np.int64)
    skipped, _, _, full = process_messages(buf, messages, events)
    if skipped or full:
        raise RuntimeError(f"batch path skipped {skipped} and could not rest {full} messages")
    return buf


def buffer_state(buf: np.ndarray) -> tuple:
    """``(counters, depth, {id: (side, price, size, queue position)})`` of a kernel book."""
    b = buf
    orders = {int(b[b[K.H_OFF_ID] + s]): (int(b[b[K.H_OFF_SIDE] + s]), int(b[b[K.H_OFF_PRICE] + s]),
                                          int(b[b[K.H_OFF_QTY] + s]), int(K.queue_ahead(b, s)))
              for s in np.flatnonzero(b[b[K.H_OFF_QTY]:b[K.H_OFF_QTY] + b[K.H_CAPACITY]] > 0)}
    counters = (int(b[K.H_SUBMITTED]), int(K.resting_quantity(b)), int(b[K.H_FILLED]), int(b[K.H_CANCELLED]))
    depth = []
    prices, sizes = np.empty(N_TICKS, np.int64), np.empty(N_TICKS, np.int64)
    for side in (K.BUY, K.SELL):
        k = K.depth(b, side, N_TICKS, prices, sizes)
        depth.append([(int(p), int(q)) for p, q in zip(prices[:k], sizes[:k])])
    return counters, depth, orders


def facade_state(book, ids) -> tuple:
    """The same for a facade (``OrderBook`` or ``NaiveOrderBook``), looking at ``ids``."""
    orders = {i: (int(book.order(i)[0]),) + book.order(i)[1:] + (book.queue_position(i),) for i in ids if i in book}
    c = book.counters
    depth = [[tuple(lv) for lv in book.depth(side, N_TICKS)] for side in (Side.BUY, Side.SELL)]
    return (c["submitted"], c["resting"], c["filled"], c["cancelled"]), depth, orders


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_orderbook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="stream length (default 1,000,000)")
    parser.add_argument("--naive-messages", type=int, default=None,
                        help="prefix timed on the naive book (default min(messages, 20,000))")
    parser.add_argument("--quick", action="store_true", help="100,000 messages, naive on 5,000")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per path; the median is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = 100_000 if args.quick and args.messages == 1_000_000 else args.messages
    n_naive = args.naive_messages or min(n, 5_000 if args.quick else 20_000)
    if n < 1 or not 1 <= n_naive <= n:
        parser.error(f"need 1 <= --naive-messages <= --messages, got {n_naive} and {n}")
    out = sys.stdout

    # Compile (or load from numba's cache) every kernel first, and time that separately.
    start = time.perf_counter()
    make_stream(100, seed=args.seed)
    run_batch(make_stream(100, seed=args.seed)[0], 100)
    OrderBook(N_TICKS).limit(0, Side.BUY, 1, 1)
    compile_s = time.perf_counter() - start
    hits = sum(_apply_messages.stats.cache_hits.values())

    start = time.perf_counter()
    messages, peak = make_stream(n, seed=args.seed)
    gen_s = time.perf_counter() - start
    calls = as_calls(messages)
    counts = np.bincount(messages[:, K.MSG_TYPE], minlength=4)
    out.write(f"stream: {n:,} messages (seed {args.seed}): {counts[K.MSG_LIMIT]:,} limit, "
              f"{counts[K.MSG_CANCEL]:,} cancel, {counts[K.MSG_MARKET]:,} market; {N_TICKS:,} ticks; "
              f"peak {peak:,} resting orders; generated in {gen_s:.2f} s\n")
    capacity = max(peak, 1)

    # Same final book on the shared prefix (all three) and on the whole stream ((a) and (b)).
    prefix = messages[:n_naive]
    a, c = OrderBook(N_TICKS), NaiveOrderBook(N_TICKS)
    run_facade(a, calls[:n_naive])
    run_facade(c, calls[:n_naive])
    ids = range(n_naive)
    same_prefix = facade_state(a, ids) == facade_state(c, ids) == buffer_state(run_batch(prefix, n_naive))
    a = OrderBook(N_TICKS)
    run_facade(a, calls)
    whole = buffer_state(run_batch(messages, capacity))
    same_whole = whole[:2] == facade_state(a, ())[:2] and len(whole[2]) == len(a)
    out.write(f"same final book on the first {n_naive:,} messages (a = b = c): {same_prefix}; "
              f"on all {n:,} (a = b): {same_whole}\n")
    if not (same_prefix and same_whole):
        raise RuntimeError("the three paths disagree: see tests/book/test_orderbook_properties.py")

    runs = args.runs
    t_a = median_time(lambda: run_facade(OrderBook(N_TICKS), calls), runs)
    t_b = median_time(lambda: run_batch(messages, capacity), runs)
    t_c = median_time(lambda: run_facade(NaiveOrderBook(N_TICKS), calls[:n_naive]), runs)
    rate = {"facade": n / t_a, "batch": n / t_b, "naive": n_naive / t_c}
    rows = [("(a) OrderBook, Python API", n, t_a, rate["facade"]),
            ("(b) process_messages, one call", n, t_b, rate["batch"]),
            ("(c) NaiveOrderBook (baseline)", n_naive, t_c, rate["naive"])]
    out.write(f"\n{'path':<34}{'messages':>11}{'median s':>11}{'msgs/s':>14}{'vs naive':>10}\n")
    for name, m, t, r in rows:
        out.write(f"{name:<34}{m:>11,}{t:>11.3f}{r:>14,.0f}{r / rate['naive']:>9.1f}x\n")
    out.write(f"\nbatch vs facade: {rate['batch'] / rate['facade']:.1f}x. Medians of {runs} runs after a warm-up; "
              f"kernels' first calls took {compile_s:.2f} s (numba compile or cache load; process_messages cache "
              f"hits: {hits}), not included above.\n")
    out.flush()
    return {"msgs_per_s": rate, "compile_s": compile_s, "same_state": same_prefix and same_whole}


if __name__ == "__main__":
    main()
