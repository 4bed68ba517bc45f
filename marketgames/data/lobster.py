"""LOBSTER files (Nasdaq TotalView-ITCH reconstructions) as typed numpy arrays.

A LOBSTER day is a pair of CSV files without a header, named
``TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_LEVEL.csv`` and ``..._orderbook_LEVEL.csv`` (the window in milliseconds
after midnight). The message file has one event per row -- time (seconds after midnight, nanosecond decimals),
event type, order id, size (shares), price (dollars x 10000), direction (-1 sell, +1 buy limit order) -- and the
orderbook file the book *after* that event: ``LEVEL`` groups of (ask price, ask size, bid price, bid size), best
level first; an empty level is ``EMPTY_ASK_PRICE`` / ``EMPTY_BID_PRICE`` with size 0.

Event types (:data:`EVENT_NAMES`): 1 new limit order, 2 partial cancel, 3 delete, 4 execution of a visible order,
5 execution of a hidden order (id 0 in the sample; it never changes the visible book), 6 cross trade (an auction
print), 7 trading halt, whose price field is the halt indicator: -1 halt, 0 quoting resumes, 1 trading resumes.
The loader runs the halts as a state machine (:data:`TRADING` -> -1 -> :data:`HALTED` -> 0 -> :data:`QUOTING` ->
1 -> :data:`TRADING`; 1 may also end a halt directly) and records the state after each row in
:attr:`LobsterDay.state`; any other transition is an error. The direction of a halt row is not used (LOBSTER
writes -1 there); every other row needs -1 or +1.

Prices stay in the file's integer units (a hidden execution may sit at a half tick, e.g. 5795050 between two cent
ticks); :class:`PriceGrid` maps visible prices to the integer ticks of :class:`marketgames.book.OrderBook` with an
explicit tick size and offset. The rows keep the file's order (events with equal timestamps are in sequence).

Every problem found raises :class:`LobsterFormatError` naming the file, the 1-based line and what was expected.
"""
from __future__ import annotations

import dataclasses
import enum
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LobsterDay", "LobsterFileName", "LobsterFormatError", "PriceGrid", "TradingState", "load_day",
           "parse_file_name", "orderbook_path_for", "read_messages", "read_orderbook", "shared_sample", "EVENT_NAMES", "NEW", "PARTIAL_CANCEL",
           "DELETE", "EXECUTE", "HIDDEN", "CROSS", "HALT", "EMPTY_ASK_PRICE", "EMPTY_BID_PRICE", "TRADING",
           "HALTED", "QUOTING", "MESSAGE_COLUMNS"]

NEW, PARTIAL_CANCEL, DELETE, EXECUTE, HIDDEN, CROSS, HALT = 1, 2, 3, 4, 5, 6, 7
EVENT_NAMES = {NEW: "new limit order", PARTIAL_CANCEL: "partial cancel", DELETE: "delete",
               EXECUTE: "visible execution", HIDDEN: "hidden execution", CROSS: "cross trade", HALT: "trading halt"}
EMPTY_ASK_PRICE = 9_999_999_999
EMPTY_BID_PRICE = -9_999_999_999
MESSAGE_COLUMNS = ("time", "event", "order_id", "size", "price", "direction")
# Halt indicator in the price field of a type-7 row.
HALT_INDICATOR, QUOTE_INDICATOR, TRADE_INDICATOR = -1, 0, 1


class TradingState(enum.IntEnum):
    """Trading state after a row: the halts (type 7) drive it."""

    TRADING = 0
    HALTED = 1
    QUOTING = 2


TRADING, HALTED, QUOTING = TradingState.TRADING, TradingState.HALTED, TradingState.QUOTING
# (state, indicator) -> next state; anything else is an error.
_TRANSITIONS = {(TRADING, HALT_INDICATOR): HALTED, (QUOTING, HALT_INDICATOR): HALTED,
                (HALTED, QUOTE_INDICATOR): QUOTING, (HALTED, TRADE_INDICATOR): TRADING,
                (QUOTING, TRADE_INDICATOR): TRADING}


class LobsterFormatError(ValueError):
    """A LOBSTER file does not have the expected format; the message names the file and the line."""


_NAME = re.compile(r"^(?P<ticker>.+?)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
                   r"(?P<kind>message|orderbook)_(?P<level>\d+)\.csv$")


@dataclass(frozen=True)
class LobsterFileName:
    """What a LOBSTER file name says: ``TICKER_DATE_STARTMS_ENDMS_KIND_LEVEL.csv``."""

    ticker: str
    date: str
    start_ms: int
    end_ms: int
    kind: str   # "message" or "orderbook"
    level: int

    @property
    def start(self) -> float:
        """Window start in seconds after midnight."""
        return self.start_ms / 1000.0

    @property
    def end(self) -> float:
        return self.end_ms / 1000.0


def parse_file_name(path: str | os.PathLike[str]) -> LobsterFileName:
    """Ticker, date, window and level from a LOBSTER file name; :class:`LobsterFormatError` if it is not one."""
    name = Path(path).name
    m = _NAME.match(name)
    if m is None or int(m["level"]) < 1 or int(m["end"]) < int(m["start"]):
        raise LobsterFormatError(f"file name {name!r} is not a LOBSTER name: expected "
                                 "TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_LEVEL.csv (or _orderbook_), LEVEL >= 1 "
                                 "and STARTMS <= ENDMS")
    return LobsterFileName(m["ticker"], m["date"], int(m["start"]), int(m["end"]), m["kind"], int(m["level"]))


def orderbook_path_for(message_path: str | os.PathLike[str]) -> Path:
    """The orderbook file beside a message file (``_message_`` -> ``_orderbook_`` in the name)."""
    p = Path(message_path)
    info = parse_file_name(p)
    if info.kind != "message":
        raise LobsterFormatError(f"{p.name!r} is not a message file (its name says {info.kind!r})")
    return p.with_name(p.name.replace("_message_", "_orderbook_"))


def shared_sample(root: str | os.PathLike[str] | None = None) -> Path | None:
    """The project's shared LOBSTER sample (GOOG 2012-06-21, level 1) if present, else ``None``.

    Looked up in ``root``, else ``$MARKETGAMES_SHARED``, else the ``shared`` folder beside the repository
    (``<repo>/../shared``); the message file is ``data/lobster/*_message_*.csv`` there (the first by name).
    """
    if root is None:
        env = os.environ.get("MARKETGAMES_SHARED")
        root = env if env else Path(__file__).resolve().parents[3] / "shared"
    folder = Path(root) / "data" / "lobster"
    found = sorted(folder.glob("*_message_*.csv")) if folder.is_dir() else []
    return found[0] if found else None


@dataclass(frozen=True)
class PriceGrid:
    """Visible LOBSTER prices (file units) <-> integer book ticks: ``tick = (price - offset) // tick_size``.

    Args:
        tick_size: file units per tick (100 for a one-cent tick at LOBSTER's dollars x 10000).
        offset: the file price of tick 0.
        n_ticks: size of the tick grid ``0 .. n_ticks - 1``.
    """

    tick_size: int
    offset: int
    n_ticks: int

    def __post_init__(self) -> None:
        for name, low in (("tick_size", 1), ("n_ticks", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}={value!r} is not allowed: expected an int >= {low}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, (int, np.integer)):
            raise ValueError(f"offset={self.offset!r} is not allowed: expected an int (a file price)")

    @classmethod
    def covering(cls, prices: np.ndarray, tick_size: int = 100, margin: int = 64) -> "PriceGrid":
        """The grid of ``tick_size`` whose ticks cover ``prices`` (file units) with ``margin`` ticks each side,
        aligned so that the smallest price is on the grid."""
        prices = np.asarray(prices, dtype=np.int64)
        if prices.size == 0:
            raise ValueError("prices is empty: no grid covers nothing")
        lo, hi = int(prices.min()), int(prices.max())
        offset = lo - margin * tick_size
        return cls(int(tick_size), offset, -(-(hi - lo) // tick_size) + 2 * margin + 1)

    def on_grid(self, prices: np.ndarray) -> np.ndarray:
        """Boolean mask: the price is a tick of this grid (inside it and a whole number of ticks)."""
        p = np.asarray(prices, dtype=np.int64) - self.offset
        return (p % self.tick_size == 0) & (p >= 0) & (p < self.n_ticks * self.tick_size)

    def to_ticks(self, prices: np.ndarray) -> np.ndarray:
        """Integer ticks of prices that are on the grid; ``ValueError`` naming the first price that is not."""
        p = np.asarray(prices, dtype=np.int64)
        bad = ~self.on_grid(p)
        if bad.any():
            first = int(p.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]])
            raise ValueError(f"price={first} is not on the grid (tick_size={self.tick_size}, offset={self.offset}, "
                             f"n_ticks={self.n_ticks})")
        return (p - self.offset) // self.tick_size

    def to_price(self, ticks: np.ndarray) -> np.ndarray:
        """File prices of integer ticks (halves allowed: ``to_price(t + 0.5)`` is the price between two ticks)."""
        return self.offset + np.asarray(ticks) * self.tick_size


@dataclass(frozen=True)
class LobsterDay:
    """One LOBSTER message file and its orderbook file as arrays, row ``i`` of each belonging together.

    Message columns (shape ``(rows,)``): ``time`` float64 seconds after midnight; ``event`` int64 (1..7);
    ``order_id``, ``size``, ``price`` (file units), ``direction`` (-1/+1) int64; ``state`` the
    :class:`TradingState` after the row (int64). Orderbook columns (shape ``(rows, levels)``, int64): ``ask_price``,
    ``ask_size``, ``bid_price``, ``bid_size`` -- the book after the row, empty levels as the sentinels. ``name``
    is the parsed file name (``None`` when the file name is not a LOBSTER one).
    """

    time: np.ndarray
    event: np.ndarray
    order_id: np.ndarray
    size: np.ndarray
    price: np.ndarray
    direction: np.ndarray
    state: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray
    bid_price: np.ndarray
    bid_size: np.ndarray
    name: LobsterFileName | None = None
    first_line: int = 1   # file line of row 0 (windows keep pointing at the file's lines)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def levels(self) -> int:
        return int(self.ask_price.shape[1])

    def window(self, start: float | None = None, end: float | None = None) -> "LobsterDay":
        """The rows with ``start <= time < end`` (seconds after midnight; ``None`` = open), in file order."""
        lo = 0 if start is None else int(np.searchsorted(self.time, start, side="left"))
        hi = len(self) if end is None else int(np.searchsorted(self.time, end, side="left"))
        hi = max(lo, hi)
        cut = {f.name: getattr(self, f.name)[lo:hi] for f in dataclasses.fields(self)
               if isinstance(getattr(self, f.name), np.ndarray)}
        return dataclasses.replace(self, first_line=self.first_line + lo, **cut)

    # --------------------------------------------------------------- touch helpers (level 1)
    @property
    def has_ask(self) -> np.ndarray:
        return self.ask_size[:, 0] > 0

    @property
    def has_bid(self) -> np.ndarray:
        return self.bid_size[:, 0] > 0

    @property
    def mid(self) -> np.ndarray:
        """Mid price (file units, float) after each row; NaN where a side is empty."""
        both = self.has_ask & self.has_bid
        return np.where(both, (self.ask_price[:, 0] + self.bid_price[:, 0]) / 2.0, np.nan)

    @property
    def spread(self) -> np.ndarray:
        """Best ask - best bid (file units) after each row; -1 where a side is empty."""
        both = self.has_ask & self.has_bid
        return np.where(both, self.ask_price[:, 0] - self.bid_price[:, 0], -1)

    def visible_prices(self) -> np.ndarray:
        """Every price of a visible order or level in the day (for :meth:`PriceGrid.covering`)."""
        msg = self.price[(self.event >= NEW) & (self.event <= EXECUTE)]
        ask = self.ask_price[self.ask_size > 0]
        bid = self.bid_price[self.bid_size > 0]
        return np.concatenate([msg, ask, bid])


# ------------------------------------------------------------------- reading
def _read_rows(path: Path, min_columns: int, exact: bool) -> tuple[list[bytes], int]:
    """The non-empty lines of ``path`` and their column count, checking every line has the same count and at
    least ``min_columns`` (exactly, with ``exact``)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LobsterFormatError(f"{path}: cannot read the file ({e})") from None
    lines = data.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise LobsterFormatError(f"{path}: the file is empty; expected one row per event")
    counts = np.fromiter((line.count(b",") + 1 for line in lines), dtype=np.int64, count=len(lines))
    want = int(counts[0])
    what = f"exactly {min_columns}" if exact else f"at least {min_columns}"
    bad = np.flatnonzero((counts != want) | (counts < min_columns) | ((counts != min_columns) & exact))
    if bad.size:
        i = int(bad[0])
        expected = what if counts[i] == want or i == 0 else f"{want} like line 1 ({what})"
        raise LobsterFormatError(f"{path}: line {i + 1} has {counts[i]} columns; expected {expected}: "
                                 f"{lines[i][:80]!r}")
    return lines, want


def _parse(path: Path, lines: list[bytes], columns: int, dtype: type) -> np.ndarray:
    try:
        arr: np.ndarray = np.loadtxt(lines, delimiter=",", dtype=dtype, usecols=range(columns), ndmin=2,
                         encoding="latin-1")
    except ValueError as e:
        raise LobsterFormatError(f"{path}: a value is not a number ({e}; rows count from 0)") from None
    return arr


def _fail(path: Path, row: int, message: str, first_line: int = 1) -> LobsterFormatError:
    return LobsterFormatError(f"{path}: line {row + first_line}: {message}")


def read_messages(path: str | os.PathLike[str], initial_state: TradingState = TRADING) -> dict[str, np.ndarray]:
    """The message file's columns (see :class:`LobsterDay`) and the trading ``state`` after each row."""
    path = Path(path)
    lines, _ = _read_rows(path, len(MESSAGE_COLUMNS), exact=False)
    raw = _parse(path, lines, len(MESSAGE_COLUMNS), np.float64)
    time = np.ascontiguousarray(raw[:, 0])
    ints = raw[:, 1:]
    if not np.all(np.isfinite(raw)):
        row = int(np.flatnonzero(~np.isfinite(raw).all(axis=1))[0])
        raise _fail(path, row, "a value is not finite; expected numbers")
    # Integer columns must hold whole numbers (they are exact in float64 up to 2**53).
    whole = (ints == np.round(ints)) & (np.abs(ints) < 2.0**53)
    if not whole.all():
        row, col = (int(v[0]) for v in np.nonzero(~whole))
        raise _fail(path, row, f"{MESSAGE_COLUMNS[col + 1]}={float(ints[row, col])!r} is not an integer")
    event, order_id, size, price, direction = (np.ascontiguousarray(ints[:, j]).astype(np.int64) for j in range(5))
    back = np.flatnonzero(np.diff(time) < 0)
    if back.size:
        row = int(back[0]) + 1
        raise _fail(path, row, f"time={float(time[row])!r} goes backwards (the previous row has {float(time[row - 1])!r}); "
                    "expected non-decreasing times in file order")
    unknown = np.flatnonzero((event < NEW) | (event > HALT))
    if unknown.size:
        row = int(unknown[0])
        raise _fail(path, row, f"event type {event[row]} is unknown; expected one of 1..7 ({EVENT_NAMES})")
    bad_dir = np.flatnonzero((event != HALT) & (direction != 1) & (direction != -1))
    if bad_dir.size:
        row = int(bad_dir[0])
        raise _fail(path, row, f"direction={direction[row]} is not allowed: expected -1 (sell) or +1 (buy)")
    bad_size = np.flatnonzero((event != HALT) & (size < 0))
    if bad_size.size:
        row = int(bad_size[0])
        raise _fail(path, row, f"size={size[row]} is negative; expected shares >= 0")
    state = _halt_states(path, event, price, initial_state)
    return {"time": time, "event": event, "order_id": order_id, "size": size, "price": price,
            "direction": direction, "state": state}


def _halt_states(path: Path, event: np.ndarray, price: np.ndarray, initial: TradingState) -> np.ndarray:
    """The trading state after each row: the halt rows (type 7) run the state machine of the module docstring."""
    state = np.empty(event.shape[0], dtype=np.int64)
    halts = np.flatnonzero(event == HALT)
    current = TradingState(initial)
    start = 0
    for row in halts:
        state[start:row] = current
        indicator = int(price[row])
        nxt = _TRANSITIONS.get((current, indicator))
        if nxt is None:
            if indicator not in (HALT_INDICATOR, QUOTE_INDICATOR, TRADE_INDICATOR):
                raise _fail(path, int(row), f"halt indicator (price)={indicator} is unknown; expected -1 (halt), "
                            "0 (quoting resumes) or 1 (trading resumes)")
            raise _fail(path, int(row), f"halt indicator {indicator} is not allowed while {current.name}; allowed: "
                        + ", ".join(str(k[1]) for k in _TRANSITIONS if k[0] == current))
        current = nxt
        state[row] = current
        start = int(row) + 1
    state[start:] = current
    return state


def read_orderbook(path: str | os.PathLike[str], levels: int | None = None) -> dict[str, np.ndarray]:
    """The orderbook file's ``ask_price, ask_size, bid_price, bid_size`` arrays, ``(rows, levels)`` each.

    ``levels`` defaults to the level in the file name (else the column count / 4); the file must have exactly
    ``4 * levels`` columns. An empty level is the sentinel price with size 0; sizes are >= 0, a real level has a
    positive size, the asks rise and the bids fall level by level.
    """
    path = Path(path)
    if levels is None:
        try:
            levels = parse_file_name(path).level
        except LobsterFormatError:
            levels = None
    lines, columns = _read_rows(path, 4 * levels if levels else 4, exact=levels is not None)
    if levels is None:
        if columns % 4:
            raise LobsterFormatError(f"{path}: line 1 has {columns} columns; expected 4 x levels")
        levels = columns // 4
    book = _parse(path, lines, 4 * levels, np.int64)
    ask_price, ask_size, bid_price, bid_size = (np.ascontiguousarray(book[:, j::4]) for j in range(4))
    for name, prices, sizes, empty in (("ask", ask_price, ask_size, EMPTY_ASK_PRICE),
                                       ("bid", bid_price, bid_size, EMPTY_BID_PRICE)):
        bad = (sizes < 0) | ((sizes == 0) != (prices == empty))
        if bad.any():
            row, lev = (int(v[0]) for v in np.nonzero(bad))
            raise _fail(path, row, f"{name} level {lev + 1} has price {prices[row, lev]} and size "
                        f"{sizes[row, lev]}; expected a positive size, or size 0 with the empty-level price {empty}")
    if levels > 1:
        for name, prices, sizes, sign in (("ask", ask_price, ask_size, 1), ("bid", bid_price, bid_size, -1)):
            both = (sizes[:, 1:] > 0) & (sizes[:, :-1] > 0)
            gap = (sizes[:, 1:] > 0) & (sizes[:, :-1] == 0)
            bad = (both & (sign * (prices[:, 1:] - prices[:, :-1]) <= 0)) | gap
            if bad.any():
                row, lev = (int(v[0]) for v in np.nonzero(bad))
                raise _fail(path, row, f"{name} level {lev + 2} (price {prices[row, lev + 1]}) does not follow "
                            f"level {lev + 1} (price {prices[row, lev]}); expected strictly worse prices level by "
                            "level and no level after an empty one")
    return {"ask_price": ask_price, "ask_size": ask_size, "bid_price": bid_price, "bid_size": bid_size}


def load_day(message_path: str | os.PathLike[str], orderbook_path: str | os.PathLike[str] | None = None, *,
             levels: int | None = None, initial_state: TradingState = TRADING) -> LobsterDay:
    """Load a LOBSTER message file and its orderbook file (by default the one beside it, see
    :func:`orderbook_path_for`).

    Args:
        message_path: the message file.
        orderbook_path: the orderbook file; default: the message file's name with ``_orderbook_``.
        levels: book levels in the orderbook file; default: from its file name, else its column count / 4.
        initial_state: the trading state before the first row (a window may start inside a halt).
    """
    message_path = Path(message_path)
    try:
        name: LobsterFileName | None = parse_file_name(message_path)
    except LobsterFormatError:
        if orderbook_path is None:
            raise
        name = None
    if orderbook_path is None:
        orderbook_path = orderbook_path_for(message_path)
    orderbook_path = Path(orderbook_path)
    if levels is None and name is not None:
        levels = name.level
    messages = read_messages(message_path, initial_state)
    book = read_orderbook(orderbook_path, levels)
    n_msg, n_book = messages["time"].shape[0], book["ask_price"].shape[0]
    if n_msg != n_book:
        raise LobsterFormatError(f"{orderbook_path}: has {n_book} rows but {message_path} has {n_msg}; expected "
                                 f"one orderbook row per message (line {min(n_msg, n_book) + 1} is the first "
                                 "without a partner)")
    m, b = messages, book
    return LobsterDay(time=m["time"], event=m["event"], order_id=m["order_id"], size=m["size"], price=m["price"],
                      direction=m["direction"], state=m["state"], ask_price=b["ask_price"], ask_size=b["ask_size"],
                      bid_price=b["bid_price"], bid_size=b["bid_size"], name=name)
