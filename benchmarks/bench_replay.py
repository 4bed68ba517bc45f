"""LOBSTER replay throughput: messages per second through :func:`marketgames.data.replay.replay` on the exact
order book, against the pure-Python reference book (:class:`marketgames.book.reference.NaiveOrderBook`) in the
same run.

``python -m benchmarks.bench_replay [--data MESSAGE_FILE] [--rows N] [--naive-rows M] [--quick] [--runs R]``

A replay drives three books per message (open loop, one step, reconciled with memory; see
:mod:`marketgames.data.replay`), so "messages/s" counts file rows, each applied to all three. Before timing, the
two books are checked to give the same match counts on the reference book's prefix. Without ``--data`` the shared
GOOG sample (``../shared/data/lobster``) is used; without that, the benchmark says so and returns.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from marketgames.book.reference import NaiveOrderBook
from marketgames.data import load_day, shared_sample
from marketgames.data.replay import replay

from benchmarks.bench_orderbook import median_time


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="a LOBSTER message file (default: shared sample)")
    parser.add_argument("--rows", type=int, default=None, help="rows replayed on the order book (default: all)")
    parser.add_argument("--naive-rows", type=int, default=None,
                        help="prefix replayed on the reference book (default min(rows, 5,000))")
    parser.add_argument("--quick", action="store_true", help="2,000 rows, reference book on 1,000, one run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per book; the median is reported")
    args = parser.parse_args(argv)
    out = sys.stdout
    path = args.data or shared_sample()
    if path is None:
        out.write("no LOBSTER data: pass --data MESSAGE_FILE (the shared sample ../shared/data/lobster is absent)\n")
        return {}
    start = time.perf_counter()
    day = load_day(path)
    load_s = time.perf_counter() - start
    n = min(len(day), args.rows or (2_000 if args.quick else len(day)))
    n_naive = min(n, args.naive_rows or (1_000 if args.quick else 5_000))
    runs = 1 if args.quick else args.runs
    if n < 1 or n_naive < 1 or runs < 1:
        parser.error(f"need --rows, --naive-rows and --runs >= 1, got {n}, {n_naive}, {runs}")
    part, naive_part = day.window(None, day.time[n - 1] + 1e-9), day.window(None, day.time[n_naive - 1] + 1e-9)
    out.write(f"{Path(path).name}: {len(day):,} rows, loaded in {load_s * 1000:.0f} ms; replaying {len(part):,} "
              f"rows (reference book: {len(naive_part):,})\n")
    replay(day.window(None, day.time[min(50, n - 1)]))   # warm-up: numba's kernels load from its cache
    fast, slow = replay(naive_part), replay(naive_part, book_factory=NaiveOrderBook)
    if fast != slow:
        raise AssertionError("the order book and the reference book replay differently")
    book_s = median_time(lambda: replay(part), runs)
    naive_s = median_time(lambda: replay(naive_part, book_factory=NaiveOrderBook), runs)
    book_rate, naive_rate = len(part) / book_s, len(naive_part) / naive_s
    out.write(f"{'book':<28}{'rows':>9}{'seconds':>10}{'messages/s':>13}{'x reference':>13}\n")
    out.write(f"{'OrderBook (numba kernels)':<28}{len(part):>9,}{book_s:>10.3f}{book_rate:>13,.0f}"
              f"{book_rate / naive_rate:>13.1f}\n")
    out.write(f"{'NaiveOrderBook (reference)':<28}{len(naive_part):>9,}{naive_s:>10.3f}{naive_rate:>13,.0f}"
              f"{1.0:>13.1f}\n")
    result = replay(part)
    out.write("match rates (touch) on the replayed rows: "
              + ", ".join(f"{row['mode']} {row['touch']:.3f} of {row['rows']:,}" for row in result.table()) + "\n")
    return {"rows": len(part), "messages_per_s": book_rate, "reference_messages_per_s": naive_rate,
            "load_s": load_s}


if __name__ == "__main__":
    main()
