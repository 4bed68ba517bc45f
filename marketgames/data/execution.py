"""A strategy of the market game trading against replayed LOBSTER order flow, with a stated fill model.

The day is cut into decision rounds of ``seconds_per_round`` of real time and into episodes of the market's
``steps`` rounds. At each round the strategy (a rule trader, or any :class:`~marketgames.market.payoffs.BatchPolicy`
such as a trained agent) sees an observation in the market's layout
(:class:`~marketgames.traders.observation.ObservationLayout`) built from the replayed book, and its action becomes
orders exactly as the market's rules place them (limit orders ``k`` ticks behind the touch, two-sided quotes around
the mid, market orders, cancel; cut to ``position_limit`` and ``max_orders``).

Scales: one model tick is ``real_ticks_per_model_tick`` real ticks of ``tick_size`` file units; one lot is
``shares_per_lot`` shares. Each episode anchors the model's middle tick (``price_levels // 2``) at the real mid at
its start; the real bid maps down and the real ask up to model ticks, so the model spread is never below the real
one. Sizes are shares / ``shares_per_lot``, rounded up. Unavailable in real data, and what stands in: the
fundamental (the strategy never sees it; positions are valued at the mid at the end of each episode, not at a
fundamental); book levels past the file's level (price -1, size 0); the last trade price is the last visible or
hidden execution's (the mid before the first).

Fill model (conservative):

* a limit order joins the back of the queue at its price: the shares ahead of it are the replayed book's (the
  reconciled book, with memory of deeper levels) at that price when it is placed;
* the queue ahead shrinks only by visible executions (type 4) at its price -- not by cancels (unless
  ``cancels_advance_queue``: then it is also cut to the shares the replayed book shows there after each row, the
  optimistic bound); executed shares beyond the queue fill the order;
* it fills completely when the price trades through it: a visible execution at a worse price on its side, or the
  opposite touch reaching its price;
* hidden executions (type 5) never fill it (the conservative side of display priority);
* market orders, and the marketable part of a limit order, take the replayed book's levels at the decision time;
  what finds no level is cancelled;
* **the replayed flow does not react**: the strategy's orders and fills do not change the replayed book or any
  later message (no market impact, no one trades against it who would not have traded anyway).

Results (:class:`ExecutionResult`): PnL per lot traded, fill ratio of limit orders, mean absolute inventory and
adverse selection (the mid's move ``adverse_horizon`` rounds after each fill, signed by the fill's side, in real
ticks; negative = the mid moved against the position), each with a moving-block bootstrap CI over blocks of
consecutive episodes (Kunsch 1989, "The jackknife and the bootstrap for general stationary observations").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..book import Side
from ..envs.spaces import scale_observations
from ..market import rules as R
from ..market.config import MarketConfig
from ..traders.observation import ObservationLayout
from .lobster import EXECUTE, HIDDEN, LobsterDay
from .replay import ReplayBook, day_ticks

__all__ = ["ExecutionConfig", "ExecutionResult", "Estimate", "trade_replay", "moving_block_bootstrap"]


@dataclass(frozen=True)
class ExecutionConfig:
    """How a strategy meets the replayed flow.

    Attributes:
        seconds_per_round: real seconds between two decisions.
        real_ticks_per_model_tick: real ticks in one model tick.
        tick_size: file price units in one real tick (100 = one cent at LOBSTER's dollars x 10000).
        shares_per_lot: shares in one model lot.
        cancels_advance_queue: also cut the queue ahead to the shares shown at the order's price (optimistic).
        adverse_horizon: rounds after a fill at which the mid's move is measured.
        block_episodes: episodes per bootstrap block (0: about n ** (1/3)).
        bootstrap: bootstrap replicates.
        seed: seed of the strategy's action draws and of the bootstrap.
    """

    seconds_per_round: float = 1.0
    real_ticks_per_model_tick: int = 1
    tick_size: int = 100
    shares_per_lot: int = 100
    cancels_advance_queue: bool = False
    adverse_horizon: int = 5
    block_episodes: int = 0
    bootstrap: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        def integer(value: Any, low: int) -> bool:
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and bool(value >= low)

        checks = {
            "seconds_per_round": (isinstance(self.seconds_per_round, (int, float)) and not isinstance(
                self.seconds_per_round, bool) and math.isfinite(self.seconds_per_round)
                and self.seconds_per_round > 0, "a positive number"),
            "real_ticks_per_model_tick": (integer(self.real_ticks_per_model_tick, 1), "an int >= 1"),
            "tick_size": (integer(self.tick_size, 1), "an int >= 1"),
            "shares_per_lot": (integer(self.shares_per_lot, 1), "an int >= 1"),
            "cancels_advance_queue": (isinstance(self.cancels_advance_queue, bool), "True or False"),
            "adverse_horizon": (integer(self.adverse_horizon, 1), "an int >= 1"),
            "block_episodes": (integer(self.block_episodes, 0), "an int >= 0"),
            "bootstrap": (integer(self.bootstrap, 1), "an int >= 1"),
            "seed": (integer(self.seed, 0), "an int >= 0"),
        }
        for name, (ok, allowed) in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected {allowed}")


@dataclass(frozen=True)
class Estimate:
    """A statistic and its 95% moving-block bootstrap interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ExecutionResult:
    """Per-episode sums (arrays over episodes, in time order) and the statistics with their CIs.

    ``pnl`` is in model units (model ticks x lots, as the market game's returns); ``pnl_per_lot`` in real ticks
    per lot traded; ``adverse_selection`` in real ticks per lot filled.
    """

    episodes: int
    rounds: int
    pnl: np.ndarray
    lots_traded: np.ndarray
    limit_lots: np.ndarray
    limit_filled: np.ndarray
    abs_inventory: np.ndarray     # sum over the episode's rounds of |inventory| (lots)
    adverse: np.ndarray           # sum over fills of lots x signed mid move (real ticks)
    pnl_per_lot: Estimate
    fill_ratio: Estimate
    mean_abs_inventory: Estimate
    adverse_selection: Estimate
    episode_pnl: Estimate         # mean PnL per episode, model units


def moving_block_bootstrap(columns: np.ndarray, statistic: Any, *, block: int, replicates: int,
                           rng: np.random.Generator) -> tuple[float, float]:
    """2.5% and 97.5% quantiles of ``statistic(columns[idx])`` over moving-block resamples of the rows (Kunsch
    1989): blocks of ``block`` consecutive rows, starts uniform, concatenated to the original length."""
    n = columns.shape[0]
    if n == 0:
        return (math.nan, math.nan)
    block = max(1, min(block, n))
    k = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(replicates, k))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(replicates, -1)[:, :n]
    values = np.array([statistic(columns[i]) for i in idx], dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.quantile(values, [0.025, 0.975])
    return (float(lo), float(hi))


@dataclass
class _Order:
    side: Side
    price: int      # real ticks
    shares: int
    ahead: int


def _ratio(a: int, b: int):
    def stat(c: np.ndarray) -> float:
        den = c[:, b].sum()
        return float(c[:, a].sum() / den) if den else math.nan
    return stat


class _Account:
    """The strategy's orders, inventory and cash in one episode (real ticks and shares)."""

    def __init__(self) -> None:
        self.orders: list[_Order] = []
        self.inventory = 0          # shares
        self.cash = 0.0             # real ticks x shares
        self.cash_model = 0.0       # model ticks x lots
        self.fills: list[tuple[int, int, float]] = []   # (round, signed shares, mid at the fill in real ticks)

    def fill(self, side: Side, shares: int, price: float, model_price: float, lot: int, rnd: int,
             mid: float) -> None:
        sign = side.sign
        self.inventory += sign * shares
        self.cash -= sign * shares * price
        self.cash_model -= sign * (shares / lot) * model_price
        self.fills.append((rnd, sign * shares, mid))


def trade_replay(day: LobsterDay, strategy: Any, game: Any, config: ExecutionConfig | None = None,
                 start: float | None = None, end: float | None = None) -> ExecutionResult:
    """Trade ``strategy`` (seat 0's policy: a rule trader with ``probabilities(obs)`` or a ``BatchPolicy``) of the
    market ``game`` against ``day`` replayed between ``start`` and ``end`` (seconds after midnight; default: the
    whole day) with the fill model of the module docstring."""
    config = config or ExecutionConfig()
    market: MarketConfig | None = getattr(game, "config", None)
    if not isinstance(market, MarketConfig):
        raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game (with a MarketConfig)")
    if not (hasattr(strategy, "probabilities") or hasattr(strategy, "batch_probabilities")):
        raise TypeError(f"strategy={strategy!r} is not allowed: expected a rule trader (probabilities(obs)) or a "
                        "BatchPolicy (batch_probabilities(observations, legal_mask))")
    window = day.window(start, end)
    if len(window) == 0:
        raise ValueError(f"the window start={start!r}, end={end!r} holds no rows of the day")
    ticks = day_ticks(window, tick_size=config.tick_size)
    sim = _Simulation(window, ticks, strategy, game, market, config)
    return sim.run(float(window.time[0]) if start is None else float(start),
                   float(window.time[-1]) if end is None else float(end))


class _Simulation:
    def __init__(self, day: LobsterDay, ticks: Any, strategy: Any, game: Any, market: MarketConfig,
                 config: ExecutionConfig) -> None:
        self.day, self.ticks, self.strategy, self.game, self.m, self.c = day, ticks, strategy, game, market, config
        self.layout = ObservationLayout(market)
        self.rb = ReplayBook(ticks.grid.n_ticks)
        self.rng = np.random.default_rng(config.seed)
        self.centre = market.price_levels // 2
        self.row = 0
        self.last_trade: float | None = None
        self.acc = _Account()
        self.traded = self.limit_lots = self.limit_filled = 0
        self.anchor = 0.0
        self.mid2_history: list[int] = []

    # ------------------------------------------------------------------ scales
    def mid(self) -> float:
        a, _, b, _ = self.rb.touch()
        if a >= 0 and b >= 0:
            return (a + b) / 2
        return self.last_trade if self.last_trade is not None else float(max(a, b))

    def to_model(self, real: float, up: bool) -> int:
        x = (real - self.anchor) / self.c.real_ticks_per_model_tick
        t = self.centre + (math.ceil(x - 1e-9) if up else math.floor(x + 1e-9))
        return min(max(t, 0), self.m.price_levels - 1)

    def to_real(self, model: int) -> int:
        return int(round(self.anchor)) + (model - self.centre) * self.c.real_ticks_per_model_tick

    # ------------------------------------------------------------------ the replayed flow
    def advance(self, until: float, rnd: int) -> None:
        """Replay the rows with time < ``until``, filling the account's orders by the fill model."""
        d, t, rb = self.day, self.ticks, self.rb
        n = len(d)
        while self.row < n and d.time[self.row] < until:
            i = self.row
            event, size, price = int(d.event[i]), int(d.size[i]), int(t.price[i])
            direction = int(d.direction[i])
            rb.apply(event, int(d.order_id[i]), size, price, direction)
            rb.reconcile(t.ask[i], d.ask_size[i], t.bid[i], d.bid_size[i], keep_deeper=True)
            if event == EXECUTE:
                self.last_trade = float(price)
                self._executed(Side.BUY if direction == 1 else Side.SELL, price, size, rnd)
            elif event == HIDDEN:
                grid = self.ticks.grid
                self.last_trade = (int(d.price[i]) - grid.offset) / grid.tick_size   # may be a half tick
            self._through(rnd)
            self.row += 1

    def _executed(self, side: Side, price: int, shares: int, rnd: int) -> None:
        for o in self.acc.orders:
            if o.side is not side or o.shares == 0:
                continue
            better = o.price > price if side is Side.BUY else o.price < price
            if better:
                self._fill(o, o.shares, rnd)
            elif o.price == price:
                beyond = shares - o.ahead
                o.ahead = max(0, o.ahead - shares)
                if beyond > 0:
                    self._fill(o, min(beyond, o.shares), rnd)
        self.acc.orders = [o for o in self.acc.orders if o.shares > 0]

    def _through(self, rnd: int) -> None:
        a, _, b, _ = self.rb.touch()
        for o in self.acc.orders:
            if o.side is Side.BUY and 0 <= a <= o.price or o.side is Side.SELL and 0 <= b and b >= o.price:
                self._fill(o, o.shares, rnd)
            elif self.c.cancels_advance_queue:
                o.ahead = min(o.ahead, self.rb.size_at(o.side, o.price))
        self.acc.orders = [o for o in self.acc.orders if o.shares > 0]

    def _fill(self, o: _Order, shares: int, rnd: int) -> None:
        self._book_fill(o.side, shares, float(o.price), rnd)
        self.limit_filled += shares
        o.shares -= shares

    def _book_fill(self, side: Side, shares: int, price: float, rnd: int) -> None:
        lot = self.c.shares_per_lot
        model_price = self.centre + (price - self.anchor) / self.c.real_ticks_per_model_tick
        self.acc.fill(side, shares, price, model_price, lot, rnd, self.mid())
        self.traded += shares

    # ------------------------------------------------------------------ the strategy
    def observe(self, rnd_in_episode: int) -> np.ndarray:
        m, L = self.m, self.m.book_levels
        obs = np.zeros(self.layout.size, dtype=np.int64)
        lot = self.c.shares_per_lot
        acc = self.acc
        obs[0] = acc.inventory // lot if acc.inventory >= 0 else -((-acc.inventory) // lot)
        obs[1] = int(round(acc.cash_model))
        obs[2] = sum(o.shares for o in acc.orders if o.side is Side.BUY) // lot
        obs[3] = sum(o.shares for o in acc.orders if o.side is Side.SELL) // lot
        for side, prices, sizes, up in ((Side.BUY, self.layout.bid_prices, self.layout.bid_sizes, False),
                                        (Side.SELL, self.layout.ask_prices, self.layout.ask_sizes, True)):
            levels: dict[int, int] = {}
            for lv in self.rb.book.depth(side, self.day.levels):
                key = self.to_model(lv.price, up)
                levels[key] = levels.get(key, 0) + lv.quantity
            order = sorted(levels.items(), reverse=side is Side.BUY)[:L]
            obs[prices] = -1
            for k, (p, q) in enumerate(order):
                obs[prices.start + k], obs[sizes.start + k] = p, -(-q // lot)
        bid, ask = obs[self.layout.bid_prices.start], obs[self.layout.ask_prices.start]
        last = self.to_model(self.last_trade if self.last_trade is not None else self.mid(), False)
        obs[self.layout.last_price_index] = last
        obs[self.layout.spread_index] = ask - bid if bid >= 0 and ask >= 0 else -1
        obs[self.layout.rounds_left_index] = m.steps - rnd_in_episode
        mids = self.mid2_history
        obs[self.layout.mid_changes] = np.diff(np.array(mids[-(m.history + 1):], dtype=np.int64)) \
            if m.history else []
        return obs

    def act(self, obs: np.ndarray) -> int:
        if hasattr(self.strategy, "probabilities"):
            probs = np.asarray(self.strategy.probabilities(obs[None]), dtype=np.float64)[0]
        else:
            tensors = scale_observations(self.game, obs[None])
            legal = np.ones((1, self.m.num_actions), dtype=bool)
            probs = np.asarray(self.strategy.batch_probabilities(tensors, legal), dtype=np.float64)[0]
        if probs.shape != (self.m.num_actions,) or not np.isclose(probs.sum(), 1.0) or (probs < 0).any():
            raise ValueError(f"the strategy returned {probs!r}: expected {self.m.num_actions} probabilities")
        return int(self.rng.choice(self.m.num_actions, p=probs / probs.sum()))

    def place(self, action: int, obs: np.ndarray, rnd: int) -> None:
        m, lay = self.m, self.layout
        if action == R.HOLD:
            return
        if action == R.CANCEL:
            self.acc.orders = []
            return
        K = m.limit_levels
        ref_bid, ref_ask = int(lay.ref_bid(obs[None])[0]), int(lay.ref_ask(obs[None])[0])
        bid, ask = int(lay.best_bid(obs[None])[0]), int(lay.best_ask(obs[None])[0])
        centre = (bid + ask) // 2 if bid >= 0 and ask >= 0 else int(obs[lay.last_price_index])
        top = m.price_levels - 1
        if action == R.MARKET_BUY:
            self.order(Side.BUY, None, rnd)
        elif action == R.MARKET_SELL:
            self.order(Side.SELL, None, rnd)
        elif action < R.FIRST_LIMIT + K:
            self.order(Side.BUY, min(max(ref_bid - (action - R.FIRST_LIMIT), 0), top), rnd)
        elif action < R.FIRST_LIMIT + 2 * K:
            self.order(Side.SELL, min(max(ref_ask + (action - R.FIRST_LIMIT - K), 0), top), rnd)
        else:
            h = action - R.FIRST_LIMIT - 2 * K + 1
            self.acc.orders = []
            self.order(Side.BUY, min(max(centre - h, 0), top), rnd)
            self.order(Side.SELL, min(max(centre + h, 0), top), rnd)

    def order(self, side: Side, model_price: int | None, rnd: int) -> None:
        """One order of ``lot`` lots, cut to the position limit and refused past ``max_orders`` (the rules')."""
        m, lot = self.m, self.c.shares_per_lot
        acc = self.acc
        resting = sum(o.shares for o in acc.orders if o.side is side)
        cap = m.position_limit * lot
        room = cap - acc.inventory - resting if side is Side.BUY else cap + acc.inventory - resting
        shares = min(m.lot * lot, room)
        if shares <= 0 or (model_price is not None and len(acc.orders) >= m.max_orders):
            return
        limit = None if model_price is None else self.to_real(model_price)
        if limit is not None:
            self.limit_lots += shares
        # The marketable part takes the replayed levels (they do not react); the rest rests or is cancelled.
        opposite = side.opposite
        for lv in self.rb.book.depth(opposite, self.rb.n_ticks):
            if shares == 0 or (limit is not None and (lv.price > limit if side is Side.BUY else lv.price < limit)):
                break
            take = min(shares, lv.quantity)
            self._book_fill(side, take, float(lv.price), rnd)
            if limit is not None:
                self.limit_filled += take
            shares -= take
        if shares and limit is not None:
            ahead = self.rb.size_at(side, limit) if 0 <= limit < self.rb.n_ticks else 0
            acc.orders.append(_Order(side, limit, shares, ahead))

    # ------------------------------------------------------------------ the run
    def run(self, t0: float, t_end: float) -> ExecutionResult:
        c, m = self.c, self.m
        rounds = max(1, int((t_end - t0) // c.seconds_per_round))
        episodes = rounds // m.steps
        if episodes < 1:
            raise ValueError(f"the window has {rounds} rounds of seconds_per_round={c.seconds_per_round}: fewer "
                             f"than one episode of steps={m.steps}")
        self.advance(float(np.nextafter(t0, np.inf)), 0)   # the first row's book
        mids: list[float] = []
        fills: list[tuple[int, int, float]] = []
        sums = np.zeros((episodes, 6))
        for e in range(episodes):
            self.acc = _Account()
            self.traded = self.limit_lots = self.limit_filled = 0
            self.anchor = self.mid()
            self.mid2_history = [2 * self.centre] * (m.history + 1)
            abs_inv = 0
            for k in range(m.steps):
                rnd = e * m.steps + k
                obs = self.observe(k)
                self.place(self.act(obs), obs, rnd)
                self.advance(t0 + (rnd + 1) * c.seconds_per_round, rnd)
                mids.append(self.mid())
                ask, _, bid, _ = self.rb.touch()
                self.mid2_history.append(self.to_model(ask, True) + self.to_model(bid, False)
                                         if ask >= 0 and bid >= 0 else self.mid2_history[-1])
                abs_inv += abs(self.acc.inventory)
            acc = self.acc
            value = acc.cash + acc.inventory * self.mid()          # real ticks x shares, marked at the mid
            value_model = acc.cash_model + (acc.inventory / c.shares_per_lot) * (
                self.centre + (self.mid() - self.anchor) / c.real_ticks_per_model_tick)
            fills.extend(acc.fills)
            sums[e] = (value_model, self.traded / c.shares_per_lot, self.limit_lots / c.shares_per_lot,
                       self.limit_filled / c.shares_per_lot, abs_inv / c.shares_per_lot, value / c.shares_per_lot)
        adverse = np.zeros(episodes)
        filled_lots = np.zeros(episodes)
        mids_arr = np.array(mids)
        for rnd, signed, mid in fills:
            later = mids_arr[min(rnd + c.adverse_horizon, len(mids_arr) - 1)]
            e = min(rnd // m.steps, episodes - 1)
            adverse[e] += signed / c.shares_per_lot * (later - mid)
            filled_lots[e] += abs(signed) / c.shares_per_lot
        cols = np.column_stack([sums, adverse, filled_lots, np.full(episodes, m.steps)])
        block = c.block_episodes or max(1, round(episodes ** (1 / 3)))
        rng = np.random.default_rng([c.seed, 1])

        def estimate(stat: Any) -> Estimate:
            lo, hi = moving_block_bootstrap(cols, stat, block=block, replicates=c.bootstrap, rng=rng)
            return Estimate(stat(cols), lo, hi)

        return ExecutionResult(
            episodes=episodes, rounds=episodes * m.steps, pnl=sums[:, 0], lots_traded=sums[:, 1],
            limit_lots=sums[:, 2], limit_filled=sums[:, 3], abs_inventory=sums[:, 4], adverse=adverse,
            pnl_per_lot=estimate(_ratio(5, 1)), fill_ratio=estimate(_ratio(3, 2)),
            mean_abs_inventory=estimate(_ratio(4, 8)), adverse_selection=estimate(_ratio(6, 7)),
            episode_pnl=estimate(lambda x: float(x[:, 0].mean())))
