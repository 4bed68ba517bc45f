"""Calibration of the market to LOBSTER flow (marketgames.data.calibration), on small generated days."""
from __future__ import annotations

import dataclasses

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.data import LobsterDay
from marketgames.data import calibration as C
from marketgames.data import realism as RM
from marketgames.market.batched import BatchedMarket
from marketgames.market.config import MarketConfig


def make_day(rows, books) -> LobsterDay:
    """A level-1 day from message rows ``(time, event, id, size, price, direction)`` and book rows
    ``(ask, ask size, bid, bid size)``."""
    m = np.array(rows, dtype=float)
    b = np.array(books, dtype=np.int64)
    as_int = lambda j: m[:, j].astype(np.int64)
    return LobsterDay(time=m[:, 0], event=as_int(1), order_id=as_int(2), size=as_int(3), price=as_int(4),
                      direction=as_int(5), state=np.zeros(len(m), np.int64), ask_price=b[:, :1], ask_size=b[:, 1:2],
                      bid_price=b[:, 2:3], bid_size=b[:, 3:4])


# Prices in dollars x 10000; one cent is 100 units. The book starts at bid 100.00 x 200 / ask 100.10 x 300.
ROWS = [
    (10.0, 1, 1, 100, 1_000_200, 1),   # buy inside the spread, 2 ticks above the bid
    (11.0, 4, 99, 50, 1_001_000, -1),  # a marketable buy: three executions at one time, one order
    (11.0, 4, 99, 100, 1_001_000, -1),
    (11.0, 5, 0, 30, 1_000_950, -1),
    (12.0, 3, 1, 100, 1_000_200, 1),   # deleted 2 s after submission
    (13.0, 3, 55, 100, 1_000_000, 1),  # an id never submitted in the file: no lifetime
    (14.0, 4, 98, 100, 1_000_000, 1),  # a marketable sell
    (15.0, 1, 2, 200, 1_001_300, -1),  # sell 3 ticks behind the ask
]
BOOKS = [
    (1_001_000, 300, 1_000_200, 100),
    (1_001_000, 250, 1_000_200, 100),
    (1_001_000, 150, 1_000_200, 100),
    (1_001_000, 150, 1_000_200, 100),
    (1_001_000, 150, 1_000_000, 200),
    (1_001_000, 150, 1_000_000, 100),
    (1_001_000, 150, 999_900, 300),
    (1_001_000, 150, 999_900, 300),
]
SCALES = C.Scales(seconds_per_round=0.5, ticks_per_model_tick=2, tick_size=100, lot_shares=100)


def test_real_tape_groups_executions_into_orders_and_signs_them_by_the_aggressor():
    tape = C.real_tape(make_day(ROWS, BOOKS), SCALES, 10.0, 20.0)
    assert tape.trade_times.tolist() == [11.0, 14.0]
    assert tape.trade_signs.tolist() == [1.0, -1.0]        # executing sell orders = buyer-initiated
    assert tape.trade_sizes.tolist() == [1.8, 1.0]          # 50 + 100 + 30 shares, in lots
    assert tape.arrival_times.tolist() == [10.0, 11.0, 14.0, 15.0]
    assert tape.order_sizes.tolist() == [1.0, 2.0]
    assert tape.cancel_times.tolist() == [2.0]              # id 55 was never submitted: no lifetime
    assert tape.spread[0] == 8.0 and tape.mid[0] == pytest.approx(100.06)


def test_estimate_flow_measures_rates_placement_and_offsets():
    # The rows twice, the second copy 10 s later with fresh order ids.
    later = [(t + 10.0, e, i + 1000 if i else 0, q, p, d) for t, e, i, q, p, d in ROWS]
    day = make_day(ROWS + later, BOOKS * 2)
    flow = C.estimate_flow(day, SCALES, 10.0, 30.0)
    assert flow.rates_per_second["new"] == pytest.approx(4 / 20)
    assert flow.rates_per_second["market_order"] == pytest.approx(4 / 20)
    assert flow.rates_per_second["delete"] == pytest.approx(4 / 20)
    assert flow.marketable_share == pytest.approx(0.5)      # 4 market orders, 4 limit orders
    # The first row of the window has no previous book, so its order is not placed: the buy of the repeat
    # (placed on the previous row's bid 99.99: 3 ticks above it) and both sells (3 ticks behind the ask).
    assert sorted(flow.placement_ticks.tolist()) == [-3.0, 3.0, 3.0]
    assert np.isnan(flow.mid_variance_per_second)           # a 20 s window holds no 1-minute return
    assert flow.lifetime_seconds.tolist() == [2.0, 2.0]


def flow_with(offsets, lifetimes=(4.0,), sizes=(1.0, 1.0, 3.0), var=2.0, new=0.6, mo=0.2, seconds=600.0):
    return C.FlowEstimates(seconds=seconds, rates_per_second={"new": new, "market_order": mo},
                           rates_by_bucket={}, marketable_share=mo / (new + mo),
                           placement_ticks=np.zeros(1), offset_from_mid_ticks=np.asarray(offsets, float),
                           order_size_lots=np.asarray(sizes), lifetime_seconds=np.asarray(lifetimes),
                           mid_variance_per_second=var, spread_mean_ticks=4.0)


def test_measured_config_maps_rates_offsets_lifetimes_and_variance():
    # Offsets (real ticks; /2 in model ticks) of mean -4 and variance of theta - s with V = 1, s in 0..4.
    theta = np.arange(-1, 2)
    s = np.arange(0, 5)
    offsets = 2.0 * (theta[:, None] - s[None, :]).ravel()
    cfg = C.measured_config(flow_with(offsets), SCALES, warmup_rounds=10)
    assert cfg.bg_arrival_prob == pytest.approx(0.8 * 0.5)
    assert (cfg.bg_shade_min, cfg.bg_shade_max, cfg.bg_value_spread) == (0, 4, 1)
    assert cfg.bg_ttl == 8                                  # 4 s / 0.5 s per round
    assert cfg.bg_lot == 1                                  # median size
    assert cfg.shock_size == 1 and cfg.shock_prob == pytest.approx(2.0 * 0.5 / 4)
    assert cfg.steps == 1200 + 10 and cfg.mean_reversion == 0.0
    big = C.measured_config(flow_with(offsets, var=400.0), SCALES)
    assert big.shock_size == 8 and big.shock_prob * big.shock_size ** 2 == pytest.approx(400.0 * 0.5 / 4)
    assert big.price_levels > cfg.price_levels
    assert pyspiel.load_game(cfg.game_string()).config == cfg


def test_scales_validate():
    with pytest.raises(ValueError, match="seconds_per_round"):
        C.Scales(seconds_per_round=0)
    with pytest.raises(ValueError, match="ticks_per_model_tick"):
        C.Scales(ticks_per_model_tick=0)
    assert C.Scales(ticks_per_model_tick=5, tick_size=100, price_unit=10_000).model_tick_price == pytest.approx(0.05)


SIM = MarketConfig(players=2, steps=400, price_levels=61, mean_reversion=0.0, shock_prob=0.3, bg_arrival_prob=0.7,
                   bg_value_spread=2, bg_shade_max=3, bg_ttl=6, initial_depth=3, book_levels=1, history=0,
                   limit_levels=0, quote_levels=0, max_orders=1)


def test_simulated_tapes_are_the_engine_seen_as_level_1_data():
    scales = C.Scales(seconds_per_round=0.5, ticks_per_model_tick=2)
    tapes = C.simulate_tapes(SIM, scales, 100.0, 300.0, 3, 7, warmup_rounds=0, start_price=50.0)
    market = BatchedMarket(SIM, 3, 7)
    market.reset()
    for _ in range(SIM.steps - 1):
        market.step(np.zeros((3, 2), np.int64))
    for b, tape in enumerate(tapes):
        assert tape.times[0] == 100.0 and np.all(np.diff(tape.times) == 0.5) and tape.times[-1] < 300.0
        assert tape.trade_sizes.sum() == market.volume[b]   # every lot traded is on the tape
        assert set(np.unique(tape.trade_signs)) <= {-1.0, 1.0}
        assert np.all(np.isin(tape.spread[np.isfinite(tape.spread)] / 2, np.arange(1, 61)))
    again = C.simulate_tapes(SIM, scales, 100.0, 300.0, 3, 7, warmup_rounds=0, start_price=50.0)
    assert np.array_equal(again[1].mid, tapes[1].mid)
    warm = C.simulate_tapes(SIM, scales, 100.0, 300.0, 1, 7, warmup_rounds=40, start_price=50.0)[0]
    assert warm.times[0] == 100.0 and len(warm.times) == 400 - 40
    with pytest.raises(ValueError, match="seeds"):
        C.simulate_tapes(SIM, scales, 100.0, 300.0, 0, 7)


def test_refine_moves_the_arrival_probability_towards_the_one_that_made_the_targets():
    scales = C.Scales(seconds_per_round=1.0, ticks_per_model_tick=2)
    truth = dataclasses.replace(SIM, bg_arrival_prob=0.8)
    tapes = C.simulate_tapes(truth, scales, 0.0, 400.0, 6, 11)
    real = {n: float(np.mean([RM.scalar_facts(t)[n] for t in tapes])) for n in C.MSM_TARGETS}
    start = dataclasses.replace(SIM, bg_arrival_prob=0.3)
    refined, se, f0, f1, n_eval, trace = C.refine(start, real, {}, scales, 0.0, 400.0, seeds=4, seed=3,
                                                  evaluations=12, warmup_rounds=0, start_price=100.0)
    assert n_eval <= 12 and len(trace) == n_eval + 1 and trace[0][1] == f0
    # Lifetime and shading also move (depth and trades trade off), so the arrival probability need not reach 0.8.
    assert f1 < f0 / 2 and refined.bg_arrival_prob > 0.4
    same, *_ = C.refine(start, real, {}, scales, 0.0, 400.0, seeds=2, seed=3, evaluations=0, warmup_rounds=0,
                        start_price=100.0)
    assert same == start
