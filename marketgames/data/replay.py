"""Replay of a LOBSTER day through the exact price-time order book, and how well it reproduces the file's touch.

:class:`ReplayBook` drives a :class:`marketgames.book.OrderBook` order by order from the messages, in book ticks
(:class:`~marketgames.data.lobster.PriceGrid`; shares are the book's lots):

* new limit order (1): rests at its price. LOBSTER writes marketable orders as executions of the resting orders,
  so a new order never trades; any opposite liquidity at or through its price is stale (left from an earlier
  reconciliation) and is removed first (counted in ``stale_removed``).
* partial cancel (2) and visible execution (4): take ``size`` off the named order (keeping its queue position);
  delete (3): remove it.
* a message naming an id that is not resting (placed before the window, or deeper than a level-``L`` file shows)
  consumes *phantom* liquidity at its price instead: orders of negative id that stand for shares of unknown
  origin, oldest first (shares found nowhere are counted in ``unmatched_shares``).
* hidden executions (5), crosses (6) and halts (7) do not change the visible book.

Reconciliation (:meth:`ReplayBook.reconcile`) makes the book's top ``L`` levels of each side equal to an orderbook
row: at each price the file shows, the book's size is cut (phantom orders first, newest first, then the known
orders from the back of the queue) or topped up with a phantom order at the back; prices the book has in that range
but the file does not are removed; a side the file shows with fewer than ``L`` levels is complete, so nothing else
remains on it. With ``keep_deeper`` the book keeps its levels behind the file's ``L``-th one (memory of levels seen
earlier); without, it drops them, so its state is exactly the previous row.

:func:`replay` runs three books over a day at once and compares each one's touch, after each message and before
any reconciliation of that row, with the file's row:

* ``open_loop``: messages only, from an empty book, never reconciled;
* ``one_step``: reconciled to each row without memory -- the previous row plus this message;
* ``reconciled``: reconciled to each row with memory of deeper levels;

and reports the ``reconciled`` book also on the rows that *reveal* a level (``reveal``: the touch of a side moves to
a price the previous row did not show, not set by this row's new order -- the price or size of such a level is not
knowable from level-``L`` data), and the ``one_step`` book on the other rows (``one_step_known``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..book import Level, OrderBook, Side, SubmitResult
from .lobster import DELETE, EXECUTE, NEW, PARTIAL_CANCEL, LobsterDay, PriceGrid

__all__ = ["MatchCounts", "ReplayBook", "ReplayResult", "replay", "day_ticks", "DayTicks", "FIELDS", "BookLike"]



class BookLike(Protocol):
    """What the replay needs of a book: :class:`~marketgames.book.OrderBook` and its reference model have it."""

    @property
    def best_bid(self) -> int | None: ...
    @property
    def best_ask(self) -> int | None: ...
    @property
    def counters(self) -> dict[str, int]: ...
    def depth(self, side: Side, levels: int) -> list[Level]: ...
    def order(self, order_id: int) -> tuple[Side, int, int]: ...
    def limit(self, order_id: int, side: Side, price: int, quantity: int, owner: int = ...) -> SubmitResult: ...
    def cancel(self, order_id: int) -> int: ...
    def modify(self, order_id: int, *, price: int | None = None, quantity: int | None = None) -> SubmitResult: ...
    def queue_position(self, order_id: int) -> int: ...
    def __contains__(self, order_id: Any) -> bool: ...
    def __len__(self) -> int: ...


FIELDS = ("ask_price", "ask_size", "bid_price", "bid_size", "touch")


@dataclass
class MatchCounts:
    """Rows on which a replayed touch matched the file, field by field, out of ``rows``.

    ``ask_price``/``bid_price``: the best price (or both empty); ``ask_size``/``bid_size``: the size at the best
    price (0 when empty), counted on its own; ``touch``: all four at once.
    """

    rows: int = 0
    ask_price: int = 0
    ask_size: int = 0
    bid_price: int = 0
    bid_size: int = 0
    touch: int = 0

    def add(self, mask: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> None:
        """Count rows ``mask`` of ``(rows, 4)`` predicted vs actual ``(ask tick, ask size, bid tick, bid size)``."""
        eq = predicted[mask] == actual[mask]
        self.rows += int(mask.sum())
        for j, name in enumerate(FIELDS[:4]):
            setattr(self, name, getattr(self, name) + int(eq[:, j].sum()))
        self.touch += int(eq.all(axis=1).sum())

    def rate(self, name: str = "touch") -> float:
        """``matched / rows`` of one field (NaN without rows)."""
        if name not in FIELDS:
            raise ValueError(f"name={name!r} is not allowed: expected one of {list(FIELDS)}")
        return getattr(self, name) / self.rows if self.rows else float("nan")

    def rates(self) -> dict[str, float]:
        return {name: self.rate(name) for name in FIELDS}


@dataclass
class ReplayResult:
    """Match counts of each replay mode (see the module docstring) and the replay's bookkeeping."""

    rows: int
    open_loop: MatchCounts
    one_step: MatchCounts
    one_step_known: MatchCounts
    reconciled: MatchCounts
    reveal: MatchCounts
    never_submitted: int          # cancels/deletes/executions naming an id no earlier row submitted
    removals: int                 # rows of type 2, 3 or 4
    ties: int                     # rows whose time equals the previous row's
    # each book's ReplayBook.counters and the shares its order book traded ("filled": 0, the replay never trades)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    def table(self) -> list[dict[str, object]]:
        """One row per mode: its denominator and rates."""
        out: list[dict[str, object]] = []
        for mode in ("open_loop", "one_step", "one_step_known", "reconciled", "reveal"):
            counts: MatchCounts = getattr(self, mode)
            out.append({"mode": mode, "rows": counts.rows, **counts.rates()})
        return out


@dataclass(frozen=True)
class DayTicks:
    """A day's prices in book ticks: the messages' (``-1`` where the row has no visible price: hidden executions,
    crosses, halts) and the file's touch after each row, ``(rows, 4)`` = ask tick, ask size, bid tick, bid size
    (tick ``-1``, size 0 on an empty side) and all ``L`` levels, ``(rows, L)`` each (tick ``-1`` where empty)."""

    grid: PriceGrid
    price: np.ndarray
    touch: np.ndarray
    ask: np.ndarray
    bid: np.ndarray


def day_ticks(day: LobsterDay, grid: PriceGrid | None = None, tick_size: int = 100) -> DayTicks:
    """The day's visible prices mapped to ``grid`` (default: :meth:`PriceGrid.covering` of the day's visible
    prices with ``tick_size``); raises ``ValueError`` naming a visible price that is off the grid."""
    if grid is None:
        grid = PriceGrid.covering(day.visible_prices(), tick_size=tick_size)
    visible = (day.event >= NEW) & (day.event <= EXECUTE)
    price = np.full(len(day), -1, dtype=np.int64)
    price[visible] = grid.to_ticks(day.price[visible])
    sides = []
    for prices, sizes in ((day.ask_price, day.ask_size), (day.bid_price, day.bid_size)):
        ticks = np.full(prices.shape, -1, dtype=np.int64)
        ticks[sizes > 0] = grid.to_ticks(prices[sizes > 0])
        sides.append(ticks)
    touch = np.stack([sides[0][:, 0], day.ask_size[:, 0], sides[1][:, 0], day.bid_size[:, 0]], axis=1)
    return DayTicks(grid, price, touch, sides[0], sides[1])


class ReplayBook:
    """An order book driven by LOBSTER messages, with phantom liquidity for orders it never saw (module docstring).

    Args:
        n_ticks: the price grid's size (:attr:`PriceGrid.n_ticks`).
        book_factory: the book class (``OrderBook``; :class:`marketgames.book.reference.NaiveOrderBook` for the
            benchmark's baseline).
    """

    def __init__(self, n_ticks: int, book_factory: Callable[[int], BookLike] = OrderBook) -> None:
        self.book = book_factory(n_ticks)
        self.n_ticks = int(n_ticks)
        # (side, tick) -> ids resting there in arrival order (a dict as an ordered set; phantoms have ids < 0) and
        # the level's total shares, so the touch is read without a depth query; levels per side.
        self._queues: dict[tuple[int, int], dict[int, None]] = {}
        self._level: dict[tuple[int, int], int] = {}
        self._n_levels = [0, 0]
        self._next_phantom = -1
        self.counters = {"unknown_ids": 0, "unmatched_shares": 0, "stale_removed": 0, "reconciled_rows": 0,
                         "phantom_added": 0}

    # ------------------------------------------------------------------ queries
    def touch(self) -> tuple[int, int, int, int]:
        """``(ask tick, ask size, bid tick, bid size)``; tick -1 and size 0 on an empty side."""
        ask, bid = self.book.best_ask, self.book.best_bid
        return (-1 if ask is None else ask, 0 if ask is None else self._level[(Side.SELL, ask)],
                -1 if bid is None else bid, 0 if bid is None else self._level[(Side.BUY, bid)])

    def size_at(self, side: Side, tick: int) -> int:
        """Shares resting at ``tick`` on ``side`` (known and phantom)."""
        return self._level.get((side, tick), 0)

    def levels(self, side: Side) -> int:
        """Number of non-empty price levels on ``side``."""
        return self._n_levels[side]

    # ------------------------------------------------------------------ messages
    def apply(self, event: int, order_id: int, size: int, tick: int, direction: int) -> None:
        """Apply one message (event type, id, shares, price in ticks, direction -1/+1)."""
        if event < NEW or event > EXECUTE:
            return
        side = Side.BUY if direction == 1 else Side.SELL
        book = self.book
        if event == NEW:
            self._clear_through(side, tick)
            if order_id in book:   # a duplicate id: the file re-used it; the old order is gone
                old_side, old_tick, _ = book.order(order_id)
                self._cancel(order_id, old_side, old_tick)
            self._rest(order_id, side, tick, size)
        elif order_id in book:
            side, at, remaining = book.order(order_id)
            if event == DELETE or size >= remaining:
                self._cancel(order_id, side, at)
            else:
                self._reduce(order_id, side, at, remaining, size)
        else:
            self.counters["unknown_ids"] += 1
            left = self._take(side, tick, size, phantoms_only=True, newest_first=False)
            self.counters["unmatched_shares"] += left

    # ------------------------------------------------------------------ the only three mutations of the book
    def _rest(self, order_id: int, side: Side, tick: int, size: int) -> None:
        self.book.limit(order_id, side, tick, size)
        key = (side, tick)
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = {}
            self._level[key] = 0
            self._n_levels[side] += 1
        q[order_id] = None
        self._level[key] += size

    def _cancel(self, order_id: int, side: Side, tick: int) -> None:
        size = self.book.cancel(order_id)
        key = (side, tick)
        q = self._queues[key]
        del q[order_id]
        self._level[key] -= size
        if not q:
            del self._queues[key], self._level[key]
            self._n_levels[side] -= 1

    def _reduce(self, order_id: int, side: Side, tick: int, remaining: int, by: int) -> None:
        self.book.modify(order_id, quantity=remaining - by)
        self._level[(side, tick)] -= by

    def _take(self, side: Side, tick: int, shares: int, *, phantoms_only: bool, newest_first: bool) -> int:
        """Take ``shares`` off the orders at ``(side, tick)``, phantoms first; returns the shares that found none."""
        q = self._queues.get((side, tick))
        if not q:
            return shares
        order = list(reversed(q)) if newest_first else list(q)
        ids = [i for i in order if i < 0] + ([] if phantoms_only else [i for i in order if i >= 0])
        for i in ids:
            if shares <= 0:
                break
            remaining = self.book.order(i)[2]
            if remaining <= shares:
                self._cancel(i, side, tick)
                shares -= remaining
            else:
                self._reduce(i, side, tick, remaining, shares)
                shares = 0
        return shares

    def _add_phantom(self, side: Side, tick: int, shares: int) -> None:
        pid = self._next_phantom
        self._next_phantom -= 1
        self._clear_through(side, tick)   # a crossed file row: the newer side wins, the book never trades
        self._rest(pid, side, tick, shares)
        self.counters["phantom_added"] += shares

    def _clear_level(self, side: Side, tick: int) -> None:
        for i in list(self._queues.get((side, tick), ())):
            self._cancel(i, side, tick)

    def _clear_through(self, side: Side, tick: int) -> None:
        """Remove opposite liquidity at or through ``tick`` (stale: a new order in the file never trades)."""
        book = self.book
        if side is Side.BUY:
            while book.best_ask is not None and book.best_ask <= tick:
                self.counters["stale_removed"] += 1
                self._clear_level(Side.SELL, book.best_ask)
        else:
            while book.best_bid is not None and book.best_bid >= tick:
                self.counters["stale_removed"] += 1
                self._clear_level(Side.BUY, book.best_bid)

    # ------------------------------------------------------------------ reconciliation
    def reconcile(self, ask: Sequence[int], ask_size: Sequence[int], bid: Sequence[int], bid_size: Sequence[int],
                  *, keep_deeper: bool) -> bool:
        """Make the top levels equal to a file row (ticks -1 where a level is empty; see the module docstring).
        Returns whether anything changed."""
        changed = self._reconcile_side(Side.SELL, ask, ask_size, keep_deeper)
        changed = self._reconcile_side(Side.BUY, bid, bid_size, keep_deeper) or changed
        if changed:
            self.counters["reconciled_rows"] += 1
        return changed

    def _top(self, side: Side, levels: int) -> list[tuple[int, int]]:
        if levels == 1:   # the common level-1 case without a depth query
            best = self.book.best_ask if side is Side.SELL else self.book.best_bid
            return [] if best is None else [(best, self._level[(side, best)])]
        return [(lv.price, lv.quantity) for lv in self.book.depth(side, levels)]

    def _reconcile_side(self, side: Side, ticks: Sequence[int], sizes: Sequence[int], keep_deeper: bool) -> bool:
        L = len(ticks)
        shown = [(int(t), int(s)) for t, s in zip(ticks, sizes) if s > 0]
        complete = len(shown) < L      # the file shows the whole side
        n_have = self._n_levels[side]
        if self._top(side, L) == shown and (n_have == len(shown) or (keep_deeper and not complete)):
            return False
        sign = 1 if side is Side.SELL else -1
        worst = None if complete else shown[-1][0]
        target = dict(shown)

        def inside(price: int) -> bool:
            return worst is None or sign * (price - worst) <= 0

        # Book levels inside the shown range: cut to the file's size or remove; then the missing ones as phantoms.
        while True:
            wrong = [lv for lv in self.book.depth(side, L + 2)
                     if inside(lv.price) and target.get(lv.price, 0) < lv.quantity]
            if not wrong:
                break
            for lv in wrong:
                self._take(side, lv.price, lv.quantity - target.get(lv.price, 0), phantoms_only=False,
                           newest_first=True)
        for tick, size in shown:
            missing = size - self.size_at(side, tick)
            if missing > 0:
                self._add_phantom(side, tick, missing)
        if not keep_deeper and not complete:
            while self._n_levels[side] > len(shown):
                for lv in self.book.depth(side, L + 2)[L:]:
                    self._clear_level(side, lv.price)
        return True


def replay(day: LobsterDay, grid: PriceGrid | None = None, *, tick_size: int = 100,
           book_factory: Callable[[int], BookLike] = OrderBook) -> ReplayResult:
    """Replay ``day`` through three books (open loop, one step, reconciled with memory) and count, for each, the
    rows on which its touch after the message matches the file's row (module docstring).

    Args:
        day: the loaded day (or a :meth:`LobsterDay.window` of it).
        grid: price grid (default: covering the day's visible prices with ``tick_size``).
        tick_size: file units per tick when ``grid`` is not given (100: one cent).
        book_factory: the order-book class (the benchmark passes the pure-Python reference book).
    """
    ticks = day_ticks(day, grid, tick_size)
    n_ticks = ticks.grid.n_ticks
    books = {"open_loop": ReplayBook(n_ticks, book_factory), "one_step": ReplayBook(n_ticks, book_factory),
             "reconciled": ReplayBook(n_ticks, book_factory)}
    n = len(day)
    predicted = {mode: np.empty((n, 4), dtype=np.int64) for mode in books}
    events, ids, sizes, dirs = day.event.tolist(), day.order_id.tolist(), day.size.tolist(), day.direction.tolist()
    prices = ticks.price.tolist()
    ask, bid = ticks.ask.tolist(), ticks.bid.tolist()
    ask_size, bid_size = day.ask_size.tolist(), day.bid_size.tolist()
    one_step, memory = books["one_step"], books["reconciled"]
    for i in range(n):
        message = (events[i], ids[i], sizes[i], prices[i], dirs[i])
        for mode, rb in books.items():
            rb.apply(*message)
            predicted[mode][i] = rb.touch()
        one_step.reconcile(ask[i], ask_size[i], bid[i], bid_size[i], keep_deeper=False)
        memory.reconcile(ask[i], ask_size[i], bid[i], bid_size[i], keep_deeper=True)
    actual = ticks.touch
    reveal = reveal_rows(day, ticks)
    everything = np.ones(n, dtype=bool)
    result = ReplayResult(rows=n, open_loop=MatchCounts(), one_step=MatchCounts(), one_step_known=MatchCounts(),
                          reconciled=MatchCounts(), reveal=MatchCounts(),
                          never_submitted=never_submitted(day), removals=int(np.isin(day.event, (2, 3, 4)).sum()),
                          ties=int((np.diff(day.time) == 0).sum()),
                          counters={mode: {**rb.counters, "filled": rb.book.counters["filled"]}
                                    for mode, rb in books.items()})
    result.open_loop.add(everything, predicted["open_loop"], actual)
    result.one_step.add(everything, predicted["one_step"], actual)
    result.one_step_known.add(~reveal, predicted["one_step"], actual)
    result.reconciled.add(everything, predicted["reconciled"], actual)
    result.reveal.add(reveal, predicted["reconciled"], actual)
    return result


def reveal_rows(day: LobsterDay, ticks: DayTicks) -> np.ndarray:
    """Rows whose touch on some side is at a price the previous row did not show and this row's new order did not
    set (row 0 reveals whatever it shows)."""
    n = len(day)
    out = np.zeros(n, dtype=bool)
    new_tick = np.where(day.event == NEW, ticks.price, -2)
    for levels, direction in ((ticks.ask, -1), (ticks.bid, 1)):
        best = levels[:, 0]
        prev = np.vstack([np.full((1, levels.shape[1]), -3), levels[:-1]])
        seen = (prev == best[:, None]).any(axis=1)
        set_now = (new_tick == best) & (day.direction == direction)
        out |= (best >= 0) & ~seen & ~set_now
    return out


def never_submitted(day: LobsterDay) -> int:
    """Cancels, deletes and visible executions naming an id that no earlier row of the day submitted."""
    seen: set[int] = set()
    count = 0
    for event, oid in zip(day.event.tolist(), day.order_id.tolist()):
        if event == NEW:
            seen.add(oid)
        elif PARTIAL_CANCEL <= event <= EXECUTE and oid not in seen:
            count += 1
    return count
