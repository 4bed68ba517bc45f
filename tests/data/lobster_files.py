"""Small LOBSTER-format files for tests, with an orderbook file computed by an independent naive book.

``write_day(folder, messages, levels, resting=...)`` writes ``TEST_2012-06-21_<start>_<end>_message_<L>.csv`` and
its orderbook file; ``resting`` are orders placed before the window (in the book, absent from the messages), so the
files carry "unknown ids" exactly as real LOBSTER windows do. The orderbook rows come from :func:`book_rows`, a dict
of resting orders aggregated by price -- no code shared with :mod:`marketgames.book` or :mod:`marketgames.data`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

EMPTY_ASK, EMPTY_BID = 9_999_999_999, -9_999_999_999

# (time, event, order_id, size, price, direction)
Message = tuple[float, int, int, int, int, int]
# (order_id, size, price, direction) resting before the first message
Resting = tuple[int, int, int, int]


def book_rows(messages: Sequence[Message], levels: int, resting: Iterable[Resting] = ()) -> list[list[int]]:
    """The book after each message (LOBSTER orderbook columns) from a naive order dict.

    New orders (1) rest; partial cancels (2) and visible executions (4) take ``size`` off the order; deletes (3)
    remove it; hidden executions (5), crosses (6) and halts (7) leave the visible book alone.
    """
    orders: dict[int, list[int]] = {oid: [size, price, d] for oid, size, price, d in resting}
    rows = []
    for _t, event, oid, size, price, direction in messages:
        if event == 1:
            orders[oid] = [size, price, direction]
        elif event in (2, 4):
            orders[oid][0] -= size
            if orders[oid][0] == 0:
                del orders[oid]
        elif event == 3:
            del orders[oid]
        rows.append(_levels(orders, levels))
    return rows


def _levels(orders: dict[int, list[int]], levels: int) -> list[int]:
    asks: dict[int, int] = {}
    bids: dict[int, int] = {}
    for size, price, direction in orders.values():
        side = asks if direction == -1 else bids
        side[price] = side.get(price, 0) + size
    a = sorted(asks.items())[:levels]
    b = sorted(bids.items(), reverse=True)[:levels]
    row: list[int] = []
    for k in range(levels):
        ap, asz = a[k] if k < len(a) else (EMPTY_ASK, 0)
        bp, bsz = b[k] if k < len(b) else (EMPTY_BID, 0)
        row += [ap, asz, bp, bsz]
    return row


def write_csv(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    path.write_text("".join(",".join(_fmt(v) for v in row) + "\n" for row in rows))
    return path


def _fmt(value: object) -> str:
    return f"{value:.9f}" if isinstance(value, float) else str(value)


def names(levels: int, start_ms: int = 34_200_000, end_ms: int = 57_600_000, ticker: str = "TEST") -> tuple[str, str]:
    stem = f"{ticker}_2012-06-21_{start_ms}_{end_ms}"
    return f"{stem}_message_{levels}.csv", f"{stem}_orderbook_{levels}.csv"


def write_day(folder: Path, messages: Sequence[Message], levels: int = 1, resting: Iterable[Resting] = (),
              books: Sequence[Sequence[int]] | None = None, ticker: str = "TEST") -> Path:
    """Write a message file and its orderbook file (``books``, default :func:`book_rows`); returns the message
    file's path."""
    message_name, book_name = names(levels, ticker=ticker)
    write_csv(folder / book_name, books if books is not None else book_rows(messages, levels, resting))
    return write_csv(folder / message_name, messages)


# A level-2 morning touching every event type: unknown resting orders, a cross, a halt cycle, an emptied side.
T0 = 34_200.0
RESTING: list[Resting] = [(900, 100, 1_000_100, -1), (901, 50, 999_900, 1)]
EVERY_EVENT: list[Message] = [
    (T0 + 0.001, 1, 1, 200, 1_000_200, -1),     # second ask level
    (T0 + 0.001, 1, 2, 300, 999_800, 1),        # second bid level (tied timestamp)
    (T0 + 0.002, 5, 0, 10, 1_000_050, 1),       # hidden execution at a half tick
    (T0 + 0.003, 4, 900, 40, 1_000_100, -1),    # execution of the unknown ask
    (T0 + 0.004, 2, 1, 50, 1_000_200, -1),      # partial cancel
    (T0 + 0.005, 6, 0, 500, 1_000_000, -1),     # cross trade
    (T0 + 0.006, 7, 0, 0, -1, -1),              # halt
    (T0 + 0.007, 3, 2, 300, 999_800, 1),        # delete during the halt
    (T0 + 0.008, 7, 0, 0, 0, -1),               # quoting resumes
    (T0 + 0.009, 1, 3, 70, 999_700, 1),         # new bid while quoting
    (T0 + 0.010, 7, 0, 0, 1, -1),               # trading resumes
    (T0 + 0.011, 4, 900, 60, 1_000_100, -1),    # unknown ask executed away: level 2 becomes the touch
    (T0 + 0.012, 4, 1, 150, 1_000_200, -1),     # ... and that one too: the ask side is empty
    (T0 + 0.013, 3, 901, 50, 999_900, 1),       # delete of the unknown bid
]


def random_messages(rng, n: int, mid: int = 1_000_000, tick: int = 100,
                    resting: Iterable[Resting] = ()) -> list[Message]:
    """``n`` messages (new orders never cross; executions hit the front of the best level; ``resting`` orders were
    placed before the stream), with tied timestamps now and then, from ``rng`` (a ``numpy.random.Generator``)."""
    # id -> [size, price, direction], insertion order = time priority
    orders: dict[int, list[int]] = {oid: [size, price, d] for oid, size, price, d in resting}
    out: list[Message] = []
    t, next_id = T0, 1
    for _ in range(n):
        t += 0.0 if rng.random() < 0.1 else float(rng.integers(1, 1000)) / 1000
        asks = sorted(p for s, p, d in orders.values() if d == -1)
        bids = sorted((p for s, p, d in orders.values() if d == 1), reverse=True)
        kind = rng.random()
        if kind < 0.5 or len(orders) < 4:
            direction = 1 if rng.random() < 0.5 else -1
            if direction == 1:
                top = asks[0] - tick if asks else mid
                price = top - tick * int(rng.integers(0, 4))
            else:
                low = bids[0] + tick if bids else mid + tick
                price = low + tick * int(rng.integers(0, 4))
            size = int(rng.integers(1, 20)) * 10
            orders[next_id] = [size, price, direction]
            out.append((t, 1, next_id, size, price, direction))
            next_id += 1
            continue
        if kind < 0.7:   # execution at the front of the best level of a side
            direction = 1 if rng.random() < 0.5 else -1
            best = (bids or [None])[0] if direction == 1 else (asks or [None])[0]
            if best is None:
                continue
            oid = next(i for i, (s, p, d) in orders.items() if d == direction and p == best)
        else:
            oid = list(orders)[int(rng.integers(0, len(orders)))]
        size, price, direction = orders[oid]
        if kind < 0.85 and size > 10:
            cut = 10 * int(rng.integers(1, size // 10))
            event = 4 if kind < 0.7 else 2
        else:
            cut, event = size, (4 if kind < 0.7 else 3)
        orders[oid][0] -= cut
        if orders[oid][0] == 0:
            del orders[oid]
        out.append((t, event, oid, cut, price, direction))
    return out
