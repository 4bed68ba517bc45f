"""Calibrate :class:`~marketgames.market.config.MarketConfig` to a LOBSTER day: measured rates, then simulated moments.

Scales (:class:`Scales`) are explicit: one round of the market is ``seconds_per_round`` real seconds and one model
tick is ``ticks_per_model_tick`` real ticks (a real tick is ``tick_size`` file price units; a lot is ``lot_shares``
shares).

1. Measured-rate mapping (Farmer, Patelli & Zovko 2005, "The predictive power of zero intelligence in financial
   markets": order-flow rates measured from the data set the zero-intelligence model's parameters).
   :func:`estimate_flow` measures, on a fit window, arrival rates by event type and time of day, the marketable
   share, limit-price placement relative to the touch, order sizes in lots, deletion rates and order lifetimes, and
   the mid's variance per second at the 1-minute horizon (not at the event scale, where bid-ask bounce dominates).
   :func:`measured_config` maps them: arrival probability per round = touch-level arrivals per second x
   ``seconds_per_round`` (at most one per round), the background's price offset law (``theta - s``) matched in mean
   and variance to the real orders' offsets from the mid, ``bg_lot`` the median order size, ``bg_ttl`` the mean
   lifetime of deleted orders, and the fundamental's shock (``shock_prob * shock_size**2`` = the mid's variance per
   round; no mean reversion, a price grid of +-6 standard deviations of the window's move).
2. Method of simulated moments (McFadden 1989; Franke & Westerhoff 2012 for agent-based market models):
   :func:`refine` minimises ``sum_k ((m_k(sim) - m_k(real)) / se_k)^2`` over the arrival probability, the shock
   probability, the order lifetime, the widest price shading and the value spread with
   ``scipy.optimize.minimize`` (from the best of a 3 x 3 grid over the two integer price parameters around the
   mapping, Nelder-Mead in two legs; a bounded number of evaluations), the simulated moments
   averaged over the same seeds at every evaluation (common random numbers), ``se_k`` the real moment's standard
   error over 15-minute blocks combined with the simulation's over seeds (at the starting point).

The simulated market is seen as level-1 data sees the real one (:func:`simulate_tapes`): players hold, so only the
background flow trades; an arrival counts when it is marketable or at/inside its side's touch, as every row of a
level-1 LOBSTER file is a touch event. Features the rules cannot produce (the kernels are not changed): arrivals
are Bernoulli per round (inter-arrival CV <= 1, real ~3), every background order lives exactly ``bg_ttl`` rounds
(no fleeting orders next to long-lived ones), one order size, no hidden liquidity and a flat intraday profile.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from ..market import rules as R
from ..market.batched import BatchedMarket
from ..market.config import MarketConfig
from ..seeding import SeedLike
from . import realism as RM
from .lobster import DELETE, EXECUTE, HIDDEN, NEW, LobsterDay

logger = logging.getLogger(__name__)

__all__ = ["Calibration", "FlowEstimates", "MSM_TARGETS", "Scales", "calibrate", "estimate_flow", "measured_config",
           "real_tape", "refine", "simulate_tapes", "target_errors"]

MSM_TARGETS = ("spread_mean_ticks", "touch_depth_mean_lots", "trades_per_minute", "arrivals_per_minute",
               "return_std_1min")
BLOCK_SECONDS = 900.0


@dataclass(frozen=True)
class Scales:
    """The real time and price scales of one model round and one model tick.

    Attributes:
        seconds_per_round: real seconds per market round.
        ticks_per_model_tick: real ticks per model tick.
        tick_size: file price units per real tick (LOBSTER: dollars x 10000, so 100 is one cent).
        price_unit: file price units per currency unit (10000 for LOBSTER).
        lot_shares: shares per lot.
    """

    seconds_per_round: float = 0.5
    ticks_per_model_tick: int = 10
    tick_size: int = 100
    price_unit: int = 10_000
    lot_shares: int = 100

    def __post_init__(self) -> None:
        if isinstance(self.seconds_per_round, bool) or not isinstance(self.seconds_per_round, (int, float)) \
                or not 0 < self.seconds_per_round <= 3600:
            raise ValueError(f"seconds_per_round={self.seconds_per_round!r} is not allowed: expected a number in "
                             "(0, 3600]")
        for name in ("ticks_per_model_tick", "tick_size", "price_unit", "lot_shares"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}={v!r} is not allowed: expected an integer >= 1")

    @property
    def model_tick_price(self) -> float:
        """Currency units per model tick."""
        return self.ticks_per_model_tick * self.tick_size / self.price_unit


# ---------------------------------------------------------------- the real side
def _market_order_rows(day: LobsterDay) -> np.ndarray:
    """Indices of the first execution row of each marketable order: executions (visible or hidden) of one
    direction at one timestamp are one incoming order."""
    ex = np.flatnonzero((day.event == EXECUTE) | (day.event == HIDDEN))
    if ex.size == 0:
        return ex
    t, d = day.time[ex], day.direction[ex]
    new = np.ones(ex.size, dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (d[1:] != d[:-1])
    return ex[new]


def _lifetimes(day: LobsterDay) -> np.ndarray:
    """Seconds from submission to deletion of the orders submitted and deleted (type 3) inside the day."""
    sub = np.flatnonzero(day.event == NEW)
    dele = np.flatnonzero(day.event == DELETE)
    if sub.size == 0 or dele.size == 0:
        return np.zeros(0)
    ids, first = np.unique(day.order_id[sub], return_index=True)
    pos = np.searchsorted(ids, day.order_id[dele])
    pos = np.clip(pos, 0, ids.size - 1)
    known = ids[pos] == day.order_id[dele]
    life = day.time[dele[known]] - day.time[sub[first[pos[known]]]]
    return life[life >= 0]


def real_tape(day: LobsterDay, scales: Scales, start: float, end: float) -> RM.Tape:
    """The window ``[start, end)`` of a LOBSTER day in the common units of :class:`~marketgames.data.realism.Tape`.

    The mid is ``(ask + bid) / 2`` of the orderbook file's level 1 in currency units; a trade is one marketable
    order (the executions of one direction at one timestamp, sizes summed), its sign minus the resting orders'
    direction (an execution of a buy limit order is seller-initiated).
    """
    w = day.window(start, end)
    if len(w) < 2:
        raise ValueError(f"window [{start}, {end}) is not allowed: it holds {len(w)} rows, expected at least 2")
    spread = np.where(w.spread >= 0, w.spread / scales.tick_size, np.nan)
    # One trade per incoming marketable order (its executions summed), as in the simulated market.
    mo = _market_order_rows(w)
    ex = np.flatnonzero((w.event == EXECUTE) | (w.event == HIDDEN))
    order_of = np.searchsorted(mo, ex, side="right") - 1
    traded = np.bincount(order_of, weights=w.size[ex], minlength=mo.size) if mo.size else np.zeros(0)
    new = w.event == NEW
    arrivals = np.sort(np.concatenate([w.time[new], w.time[mo]]))
    return RM.Tape(start=float(start), end=float(end), times=w.time, mid=w.mid / scales.price_unit, spread=spread,
                   bid_size=w.bid_size[:, 0] / scales.lot_shares, ask_size=w.ask_size[:, 0] / scales.lot_shares,
                   trade_times=w.time[mo], trade_signs=-w.direction[mo].astype(float),
                   trade_sizes=traded / scales.lot_shares, arrival_times=arrivals,
                   order_sizes=w.size[new] / scales.lot_shares, cancel_times=_lifetimes(w))


@dataclass(frozen=True)
class FlowEstimates:
    """Order flow measured on a window (real units unless said otherwise)."""

    seconds: float
    rates_per_second: dict[str, float]          # by event name, plus "market_order" (grouped executions)
    rates_by_bucket: dict[str, np.ndarray]      # per 15-minute bucket, per second
    marketable_share: float                     # market orders / (market orders + limit submissions)
    placement_ticks: np.ndarray                 # limit orders: real ticks behind the same-side touch (<0: inside)
    offset_from_mid_ticks: np.ndarray           # buyer-signed offsets from the mid of all arrivals, real ticks
    order_size_lots: np.ndarray
    lifetime_seconds: np.ndarray
    mid_variance_per_second: float              # real ticks^2 / s at the 1-minute horizon
    spread_mean_ticks: float


def estimate_flow(day: LobsterDay, scales: Scales, start: float, end: float) -> FlowEstimates:
    """Measure the background order flow of the window ``[start, end)`` (see the module doc)."""
    w = day.window(start, end)
    if len(w) < 10:
        raise ValueError(f"window [{start}, {end}) is not allowed: it holds {len(w)} rows, expected at least 10")
    seconds = float(end - start)
    names = {NEW: "new", 2: "partial_cancel", DELETE: "delete", EXECUTE: "execute", HIDDEN: "hidden"}
    rates = {n: float(np.sum(w.event == k)) / seconds for k, n in names.items()}
    mo = _market_order_rows(w)
    rates["market_order"] = mo.size / seconds
    edges = np.arange(start, end + 1e-9, BLOCK_SECONDS)
    if edges[-1] < end:
        edges = np.append(edges, end)
    widths = np.diff(edges)
    by_bucket = {n: np.histogram(w.time[w.event == k], edges)[0] / widths for k, n in names.items()}
    by_bucket["market_order"] = np.histogram(w.time[mo], edges)[0] / widths
    new = np.flatnonzero(w.event == NEW)
    n_lim, n_mo = len(new), len(mo)
    # The book before a row is the previous row's; the first row of the window has no previous one.
    new = new[new > 0]
    prev_bid = w.bid_price[new - 1, 0].astype(float)
    prev_ask = w.ask_price[new - 1, 0].astype(float)
    ok = (w.bid_size[new - 1, 0] > 0) & (w.ask_size[new - 1, 0] > 0)
    buy = w.direction[new] > 0
    px = w.price[new].astype(float)
    placement = np.where(buy, prev_bid - px, px - prev_ask)[ok] / scales.tick_size
    mid_prev = 0.5 * (prev_bid + prev_ask)
    off_limit = np.where(buy, px - mid_prev, mid_prev - px)[ok] / scales.tick_size
    mo = mo[mo > 0]
    half = 0.5 * (w.ask_price[mo - 1, 0] - w.bid_price[mo - 1, 0]).astype(float) / scales.tick_size
    okm = (w.bid_size[mo - 1, 0] > 0) & (w.ask_size[mo - 1, 0] > 0)
    offsets = np.concatenate([off_limit, half[okm]])
    grid = np.arange(start, end + 1e-9, 60.0)
    mid = RM.sample_on_grid(w.time, w.mid, grid) / scales.tick_size
    dm = np.diff(mid)
    var = float(np.nanvar(dm) / 60.0) if np.isfinite(dm).sum() > 1 else float("nan")
    sp = np.where(w.spread >= 0, w.spread / scales.tick_size, np.nan)
    wt = RM.time_weights(w.time, end)
    oks = np.isfinite(sp)
    return FlowEstimates(
        seconds=seconds, rates_per_second=rates, rates_by_bucket=by_bucket,
        marketable_share=n_mo / (n_lim + n_mo) if n_lim + n_mo else float("nan"), placement_ticks=placement,
        offset_from_mid_ticks=offsets, order_size_lots=w.size[w.event == NEW] / scales.lot_shares,
        lifetime_seconds=_lifetimes(w), mid_variance_per_second=var,
        spread_mean_ticks=float(np.average(sp[oks], weights=wt[oks])) if wt[oks].sum() > 0 else float("nan"))


def _uniform_var(n: int) -> float:
    """Variance of the discrete uniform law on ``n`` consecutive integers."""
    return (n * n - 1) / 12.0


def measured_config(flow: FlowEstimates, scales: Scales, *, players: int = 2, warmup_rounds: int = 0,
                    sigma_range: float = 6.0) -> MarketConfig:
    """The measured-rate mapping of ``flow`` to a market of ``flow.seconds`` (plus ``warmup_rounds``) rounds."""
    spr = float(scales.seconds_per_round)
    k = scales.ticks_per_model_tick
    arrivals = flow.rates_per_second["new"] + flow.rates_per_second["market_order"]
    q = arrivals * spr
    if q > 1.0:
        logger.warning("%.2f touch-level arrivals per round: capped at 1 (at most one arrival per round); use a "
                       "shorter seconds_per_round", q)
    off = flow.offset_from_mid_ticks / k
    m = float(np.mean(off)) if off.size else -1.0
    v = float(np.var(off)) if off.size else 1.0
    shade_max = int(max(0, round(-2.0 * m)))
    var_theta = max(0.0, v - _uniform_var(shade_max + 1))
    value_spread = int(max(0, round((math.sqrt(12.0 * var_theta + 1.0) - 1.0) / 2.0)))
    lots = flow.order_size_lots
    bg_lot = int(max(1, round(float(np.median(lots))))) if lots.size else 1
    life = flow.lifetime_seconds
    # The mean, not the median: most deleted orders are fleeting (< 100 ms) and would leave the book empty.
    ttl = int(np.clip(round(float(np.mean(life)) / spr), 1, 100_000)) if life.size else 10
    var_round = max(0.0, flow.mid_variance_per_second) * spr / (k * k)
    shock = max(1, math.ceil(math.sqrt(var_round))) if var_round > 1 else 1
    steps = int(round(flow.seconds / spr)) + int(warmup_rounds)
    move = math.sqrt(var_round * steps)
    half = int(math.ceil(sigma_range * move)) + value_spread + shade_max + 8
    return MarketConfig(players=players, steps=steps, price_levels=2 * half + 1, mean_reversion=0.0,
                        shock_prob=float(min(1.0, var_round / (shock * shock))), shock_size=shock,
                        bg_arrival_prob=float(min(1.0, q)), bg_value_spread=value_spread, bg_shade_min=0,
                        bg_shade_max=shade_max, bg_lot=bg_lot, bg_ttl=ttl,
                        initial_depth=int(min(half - 1, max(1, value_spread + shade_max))), lot=1, book_levels=1,
                        history=0, limit_levels=0, quote_levels=0, max_orders=1)


# ---------------------------------------------------------------- the simulated side
def simulate_tapes(config: MarketConfig, scales: Scales, start: float, end: float, seeds: int, seed: SeedLike, *,
                   warmup_rounds: int = 0, start_price: float = 100.0) -> list[RM.Tape]:
    """``seeds`` simulated sessions of ``config`` (players hold) as tapes on the clock ``[start, end)``.

    Round ``r`` ends at ``start + (r + 1 - warmup_rounds) * seconds_per_round``; the first ``warmup_rounds``
    rounds are dropped. Prices: ``start_price + (mid - fundamental_mean) * model_tick_price``. Arrivals are the
    level-1 view (marketable, or at/inside the touch of the previous round); cancellation times are the lifetime
    ``bg_ttl`` rounds of every resting touch-level arrival.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ValueError(f"seeds={seeds!r} is not allowed: expected an integer >= 1")
    spr = float(scales.seconds_per_round)
    if config.steps <= warmup_rounds:
        raise ValueError(f"warmup_rounds={warmup_rounds!r} is not allowed: expected < steps={config.steps}")
    B, T, L = int(seeds), config.steps, config.book_levels
    market = BatchedMarket(config, B, seed)
    i0 = R.OBS_PRIVATE
    # State r is the book after round r's background order (the player node of round r).
    bid, ask, bsz, asz, last, fund, vol = (np.empty((T, B), np.int64) for _ in range(7))
    hold = np.zeros((B, config.players), np.int64)
    obs = market.reset()
    for r in range(T):
        if r > 0:
            obs, _, _ = market.step(hold)
        bid[r], bsz[r] = obs[:, 0, i0], obs[:, 0, i0 + L]
        ask[r], asz[r] = obs[:, 0, i0 + 2 * L], obs[:, 0, i0 + 3 * L]
        last[r] = obs[:, 0, i0 + 4 * L]
        fund[r] = market.fundamental
        vol[r] = market.volume
    outcomes = market.chance_log[:, :, 1].T  # (T, B) background outcome of each round
    n_buy = len(config.bg_buy_offsets)
    fm = config.fundamental_mean
    r_time = start + (np.arange(T) - warmup_rounds) * spr
    keep = (np.arange(T) >= warmup_rounds) & (r_time < end)
    tapes = []
    for b in range(B):
        both = (bid[:, b] >= 0) & (ask[:, b] >= 0)  # a missing level shows price -1
        mid_t = np.where(both, 0.5 * (bid[:, b] + ask[:, b]), last[:, b])
        spread = np.where(both, (ask[:, b] - bid[:, b]) * float(scales.ticks_per_model_tick), np.nan)
        o = outcomes[:, b]
        arrived = o > 0
        is_buy = arrived & (o <= n_buy)
        offset = np.where(is_buy, config.bg_buy_offsets[0] + o - 1, config.bg_sell_offsets[0] + o - 1 - n_buy)
        price = fund[:, b] + offset
        traded = np.diff(np.concatenate([[0], vol[:, b]]))  # lots traded by round r's order
        prev_bid = np.concatenate([bid[:1, b], bid[:-1, b]])
        prev_ask = np.concatenate([ask[:1, b], ask[:-1, b]])
        touch = np.where(is_buy, (prev_bid < 0) | (price >= prev_bid), (prev_ask < 0) | (price <= prev_ask))
        level1 = arrived & (touch | (traded > 0))
        tr = keep & (traded > 0)
        rest = keep & level1 & (traded == 0)
        tapes.append(RM.Tape(
            start=float(start), end=float(end), times=r_time[keep],
            mid=start_price + (mid_t[keep] - fm) * scales.model_tick_price, spread=spread[keep],
            bid_size=bsz[keep, b].astype(float), ask_size=asz[keep, b].astype(float), trade_times=r_time[tr],
            trade_signs=np.where(is_buy[tr], 1.0, -1.0), trade_sizes=traded[tr].astype(float),
            arrival_times=r_time[keep & level1], order_sizes=np.full(int(rest.sum()), float(config.bg_lot)),
            cancel_times=np.full(int(rest.sum()), config.bg_ttl * spr)))
    return tapes


# ---------------------------------------------------------------- method of simulated moments
def block_standard_errors(tape: RM.Tape, names: tuple[str, ...] = MSM_TARGETS,
                          block_seconds: float = BLOCK_SECONDS) -> dict[str, float]:
    """Standard error of each scalar fact: the spread of its values over blocks of the session / sqrt(blocks)
    (blocks of ``block_seconds``, shorter when the session holds fewer than 4)."""
    block_seconds = min(block_seconds, (tape.end - tape.start) / 4.0)
    edges = np.arange(tape.start, tape.end + 1e-9, block_seconds)
    values: dict[str, list[float]] = {n: [] for n in names}
    for lo, hi in zip(edges[:-1], edges[1:]):
        sub = _cut(tape, lo, hi)
        if sub is None:
            continue
        facts = RM.scalar_facts(sub, weibull=False)
        for n in names:
            values[n].append(facts[n])
    out = {}
    for n in names:
        v = np.asarray(values[n], float)
        v = v[np.isfinite(v)]
        out[n] = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size >= 2 else float("nan")
    return out


def _cut(tape: RM.Tape, lo: float, hi: float) -> RM.Tape | None:
    s = (tape.times >= lo) & (tape.times < hi)
    if s.sum() < 2:
        return None
    tr = (tape.trade_times >= lo) & (tape.trade_times < hi)
    ar = (tape.arrival_times >= lo) & (tape.arrival_times < hi)
    return RM.Tape(start=float(lo), end=float(hi), times=tape.times[s], mid=tape.mid[s], spread=tape.spread[s],
                   bid_size=tape.bid_size[s], ask_size=tape.ask_size[s], trade_times=tape.trade_times[tr],
                   trade_signs=tape.trade_signs[tr], trade_sizes=tape.trade_sizes[tr],
                   arrival_times=tape.arrival_times[ar], order_sizes=tape.order_sizes[:0])


def _sim_moments(tapes: list[RM.Tape], names: tuple[str, ...]) -> np.ndarray:
    """``(seeds, targets)`` scalar facts of each simulated tape."""
    facts = [RM.scalar_facts(t, weibull=False) for t in tapes]
    return np.array([[f[n] for n in names] for f in facts])


def target_errors(real: dict[str, float], sims: np.ndarray, se: dict[str, float],
                  names: tuple[str, ...] = MSM_TARGETS) -> np.ndarray:
    """Standardised errors ``(mean_sim - real) / se`` per target (``se`` combines real and simulation errors)."""
    mean = np.nanmean(sims, axis=0)
    return np.array([(mean[i] - real[n]) / se[n] for i, n in enumerate(names)])


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`: scales, measured flow, the measured-rate and the refined markets."""

    scales: Scales
    flow: FlowEstimates
    measured: MarketConfig
    refined: MarketConfig
    warmup_rounds: int
    real_targets: dict[str, float]
    standard_errors: dict[str, float]
    objective_measured: float
    objective_refined: float
    evaluations: int
    trace: list[tuple[dict[str, float], float]] = field(default_factory=list)

    def game_string(self) -> str:
        """The ``pyspiel.load_game`` string of the refined market."""
        return self.refined.game_string()


_MSM_PARAMS = ("bg_arrival_prob", "shock_prob", "bg_ttl", "bg_shade_max", "bg_value_spread")


def _with_params(config: MarketConfig, x: np.ndarray) -> MarketConfig:
    """``x`` unconstrained: logits of the two probabilities, the log of the lifetime and the logs of one plus the
    widest shading and one plus the value spread (integers rounded; each stays below a quarter of the price
    grid)."""
    p = 1.0 / (1.0 + np.exp(-np.clip(x[:2], -30, 30)))
    ttl = int(np.clip(round(float(np.exp(np.clip(x[2], 0.0, 11.0)))), 1, 100_000))
    shade = int(np.clip(round(float(np.exp(np.clip(x[3], 0.0, 11.0))) - 1), 0, config.price_levels // 4))
    spread = int(np.clip(round(float(np.exp(np.clip(x[4], 0.0, 11.0))) - 1), 0, config.price_levels // 4))
    return dataclasses.replace(config, bg_arrival_prob=float(min(1.0, max(1e-6, p[0]))),
                               shock_prob=float(min(1.0, max(0.0, p[1]))), bg_ttl=ttl,
                               bg_shade_max=max(shade, config.bg_shade_min), bg_value_spread=spread)


def _to_x(config: MarketConfig) -> np.ndarray:
    def logit(p: float) -> float:
        p = min(max(p, 1e-4), 1 - 1e-4)
        return math.log(p / (1 - p))
    return np.array([logit(config.bg_arrival_prob), logit(config.shock_prob), math.log(config.bg_ttl),
                     math.log(1.0 + config.bg_shade_max), math.log(1.0 + config.bg_value_spread)])


def refine(config: MarketConfig, real: dict[str, float], se_real: dict[str, float], scales: Scales, start: float,
           end: float, *, seeds: int, seed: SeedLike, evaluations: int, warmup_rounds: int,
           start_price: float) -> tuple[MarketConfig, dict[str, float], float, float, int, list[Any]]:
    """Simulated-moments refinement of ``bg_arrival_prob``, ``shock_prob``, ``bg_ttl``, ``bg_shade_max`` and
    ``bg_value_spread`` (see the module doc).

    Returns the refined config, the combined standard errors, the objective at the start and at the end, the
    number of evaluations and the trace ``[(params, objective)]``.
    """
    if isinstance(evaluations, bool) or not isinstance(evaluations, (int, np.integer)) or evaluations < 0:
        raise ValueError(f"evaluations={evaluations!r} is not allowed: expected an integer >= 0")
    names = MSM_TARGETS
    sims0 = _sim_moments(simulate_tapes(config, scales, start, end, seeds, seed, warmup_rounds=warmup_rounds,
                                        start_price=start_price), names)
    sd_sim = np.nanstd(sims0, axis=0, ddof=1) / math.sqrt(max(1, seeds)) if seeds > 1 else np.zeros(len(names))
    se = {}
    for i, n in enumerate(names):
        s = math.sqrt(np.nan_to_num(se_real.get(n, float("nan"))) ** 2 + float(np.nan_to_num(sd_sim[i])) ** 2)
        se[n] = s if s > 0 else max(1e-9, abs(real[n]) * 0.05)
    trace: list[Any] = []

    def objective_of(sims: np.ndarray) -> float:
        z = target_errors(real, sims, se, names)
        return float(np.sum(np.nan_to_num(z, nan=1e3) ** 2))

    f0 = objective_of(sims0)
    trace.append(({p: float(getattr(config, p)) for p in _MSM_PARAMS}, f0))
    cache: dict[tuple, float] = {tuple(getattr(config, p) for p in _MSM_PARAMS): f0}

    def f(x: np.ndarray) -> float:
        c = _with_params(config, x)
        key = tuple(getattr(c, p) for p in _MSM_PARAMS)
        if key not in cache:
            tapes = simulate_tapes(c, scales, start, end, seeds, seed, warmup_rounds=warmup_rounds,
                                   start_price=start_price)
            cache[key] = objective_of(_sim_moments(tapes, names))
            trace.append(({p: float(getattr(c, p)) for p in _MSM_PARAMS}, cache[key]))
        return cache[key]

    best_x, best_f = _to_x(config), f0
    # A coarse start: the two integer price parameters one step either side of the measured mapping (Nelder-Mead
    # alone tends to stall on the plateaus of the rounded integers).
    d = len(best_x)
    if evaluations >= 9 + 2 * (d + 1):
        for shade in (config.bg_shade_max - 1, config.bg_shade_max, config.bg_shade_max + 1):
            for spread in (config.bg_value_spread - 1, config.bg_value_spread, config.bg_value_spread + 1):
                if shade < config.bg_shade_min or spread < 0:
                    continue
                x = _to_x(config)
                x[3], x[4] = math.log(1.0 + shade), math.log(1.0 + spread)
                fx = f(x)
                if fx < best_f:
                    best_x, best_f = x, fx
        evaluations -= 9
    # Two Nelder-Mead legs, the second restarted from the first's best point with a fresh simplex: the objective
    # is noisy and piecewise constant in the integer parameters, where one simplex easily collapses.
    budgets = [evaluations // 2, evaluations - evaluations // 2] if evaluations >= 2 * (len(best_x) + 1) \
        else [evaluations]
    for budget in budgets:
        if budget <= 0:
            continue
        x0 = best_x
        simplex = np.array([x0] + [x0 + 0.5 * np.eye(d)[i] for i in range(d)])
        res = optimize.minimize(f, x0, method="Nelder-Mead",
                                options={"maxfev": int(budget), "initial_simplex": simplex, "xatol": 1e-2,
                                         "fatol": 1e-3})
        if float(res.fun) < best_f:
            best_x, best_f = np.asarray(res.x), float(res.fun)
    refined = _with_params(config, best_x) if best_f < f0 else config
    return refined, se, f0, best_f, len(trace) - 1, trace


def calibrate(day: LobsterDay, scales: Scales, start: float, end: float, *, seeds: int = 8, seed: SeedLike = 0,
              evaluations: int = 60, warmup_seconds: float = 300.0, players: int = 2) -> Calibration:
    """Measured-rate mapping on the window ``[start, end)``, then the simulated-moments refinement."""
    if not end > start:
        raise ValueError(f"end={end!r} is not allowed: expected > start={start!r}")
    flow = estimate_flow(day, scales, start, end)
    warmup = int(round(warmup_seconds / scales.seconds_per_round))
    measured = measured_config(flow, scales, players=players, warmup_rounds=warmup)
    tape = real_tape(day, scales, start, end)
    real = RM.scalar_facts(tape)
    se_real = block_standard_errors(tape)
    start_price = float(tape.mid[np.isfinite(tape.mid)][0])
    refined, se, f0, f1, n_eval, trace = refine(
        measured, {n: real[n] for n in MSM_TARGETS}, se_real, scales, start, end, seeds=seeds, seed=seed,
        evaluations=evaluations, warmup_rounds=warmup, start_price=start_price)
    return Calibration(scales=scales, flow=flow, measured=measured, refined=refined, warmup_rounds=warmup,
                       real_targets={n: real[n] for n in MSM_TARGETS}, standard_errors=se, objective_measured=f0,
                       objective_refined=f1, evaluations=n_eval, trace=trace)
