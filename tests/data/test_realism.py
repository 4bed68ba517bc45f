"""Realism metrics pinned on series with known answers (marketgames.data.realism)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from marketgames.data import realism as RM


def garch(n: int, rng: np.random.Generator, omega=0.05, alpha=0.15, beta=0.8) -> np.ndarray:
    """A GARCH(1,1) series: volatility clusters, so |r| is autocorrelated and the tails are heavy."""
    r = np.empty(n)
    h = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = np.sqrt(h) * rng.standard_normal()
        h = omega + alpha * r[t] ** 2 + beta * h
    return r


def test_iid_gaussian_returns_have_no_excess_kurtosis_and_no_autocorrelation():
    r = np.random.default_rng(0).standard_normal(20_000)
    assert abs(RM.excess_kurtosis(r)) < 0.15
    assert np.all(np.abs(RM.autocorrelation(r, 10)) < 0.03)
    assert np.all(np.abs(RM.autocorrelation(np.abs(r), 10)) < 0.03)
    assert abs(RM.correlation(r, np.abs(r))) < 0.03


def test_garch_returns_cluster_and_have_heavy_tails():
    r = garch(20_000, np.random.default_rng(1))
    acf = RM.autocorrelation(np.abs(r), 10)
    assert np.all(acf > 0.05)
    assert abs(RM.autocorrelation(r, [1])[0]) < 0.05
    assert RM.excess_kurtosis(r) > 1.0


def test_autocorrelation_of_a_known_ar1_and_of_alternating_signs():
    rng = np.random.default_rng(2)
    x = np.zeros(50_000)
    for t in range(1, x.size):
        x[t] = 0.6 * x[t - 1] + rng.standard_normal()
    acf = RM.autocorrelation(x, 3)
    assert acf == pytest.approx([0.6, 0.36, 0.216], abs=0.02)
    alt = np.tile([1.0, -1.0], 500)
    assert RM.autocorrelation(alt, [1, 2]) == pytest.approx([-1.0, 1.0], abs=0.01)
    with pytest.raises(ValueError, match="lags"):
        RM.autocorrelation(x, [0])


def test_sample_on_grid_takes_the_last_event_at_or_before_and_the_last_of_a_tie():
    times = np.array([1.0, 2.0, 2.0, 5.0])
    values = np.array([10.0, 20.0, 21.0, 50.0])
    out = RM.sample_on_grid(times, values, np.array([0.5, 1.0, 2.0, 4.9, 6.0]))
    assert np.isnan(out[0]) and out[1:].tolist() == [10.0, 21.0, 21.0, 50.0]
    with pytest.raises(ValueError, match="non-decreasing"):
        RM.sample_on_grid(times[::-1], values, np.array([1.0]))


def test_interarrival_stats_of_a_poisson_process_and_of_bursts():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.exponential(2.0, 20_000))
    s = RM.interarrival_stats(t)
    assert s["mean"] == pytest.approx(2.0, rel=0.03)
    assert s["cv"] == pytest.approx(1.0, abs=0.03)
    assert s["weibull_shape"] == pytest.approx(1.0, abs=0.03)
    bursty = np.cumsum(stats.weibull_min.rvs(0.5, size=20_000, random_state=rng))
    b = RM.interarrival_stats(bursty)
    assert b["cv"] > 1.8 and b["weibull_shape"] == pytest.approx(0.5, abs=0.03)


def test_weighted_distances_match_scipy_with_unit_weights_and_respect_weights():
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 1, 500), rng.normal(0.5, 1, 400)
    assert RM.weighted_ks(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic)
    assert RM.weighted_wasserstein(x, y) == pytest.approx(stats.wasserstein_distance(x, y))
    # A state held 3 times as long counts 3 times: equal to repeating it.
    a, wa = np.array([1.0, 2.0]), np.array([3.0, 1.0])
    rep = np.array([1.0, 1.0, 1.0, 2.0])
    b = np.array([1.5, 2.5])
    assert RM.weighted_ks(a, b, wa) == pytest.approx(RM.weighted_ks(rep, b))
    assert RM.weighted_wasserstein(a, b, wa) == pytest.approx(RM.weighted_wasserstein(rep, b))


def test_compare_scalar_passes_inside_the_5_95_range_and_needs_30_seeds():
    sims = np.linspace(0.0, 1.0, 41)
    assert RM.compare_scalar("x", 0.5, sims).passed is True
    assert RM.compare_scalar("x", 0.99, sims).passed is False
    assert RM.compare_scalar("x", 0.5, sims[:29]).passed is None
    assert RM.compare_scalar("x", float("nan"), sims).passed is None
    assert RM.compare_vector(np.array([1.0, 2.0, np.nan]), np.array([2.0, 2.0, 5.0])) == pytest.approx(np.sqrt(0.5))


def make_tape(n_min: int = 240, seed: int = 5) -> RM.Tape:
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, 60.0 * n_min, 5_000))
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0, 1e-4, times.size)))
    spread = rng.integers(1, 4, times.size).astype(float)
    trades = np.sort(rng.uniform(0, 60.0 * n_min, 800))
    return RM.Tape(start=0.0, end=60.0 * n_min, times=times, mid=mid, spread=spread,
                   bid_size=np.full(times.size, 2.0), ask_size=np.full(times.size, 4.0), trade_times=trades,
                   trade_signs=rng.choice([-1.0, 1.0], trades.size), trade_sizes=np.ones(trades.size),
                   arrival_times=times, order_sizes=np.ones(times.size), cancel_times=np.full(10, 3.0))


def test_scalar_facts_of_a_tape():
    tape = make_tape()
    facts = RM.scalar_facts(tape)
    assert facts["touch_depth_mean_lots"] == pytest.approx(3.0)
    assert 1.0 < facts["spread_mean_ticks"] < 3.0
    assert facts["trades_per_minute"] == pytest.approx(800 / 240)
    assert facts["cancel_time_median_s"] == 3.0
    assert abs(facts["acf1_return_1min"]) < 0.2 and abs(facts["trade_sign_acf1"]) < 0.1
    assert "kurtosis_1min_late" in facts and "kurtosis_5min_late" in facts
    prof = RM.profiles(tape, 900.0)
    ratio = prof["arrival_rate_ratio"]
    assert ratio.shape == (16,) and np.mean(ratio) == pytest.approx(1.0)  # equal buckets: rates average to the mean
    short = RM.profiles(tape, 1000.0)["arrival_rate_ratio"]  # 14 full buckets and a short one of 400 s
    assert short.shape == (15,) and np.average(short, weights=[1000.0] * 14 + [400.0]) == pytest.approx(1.0)
    dist = RM.distributions(tape)
    x, w = dist["spread_ticks"]
    assert w.sum() == pytest.approx(tape.end - tape.times[0])


def test_time_weighted_spread_weights_each_state_by_its_duration():
    tape = RM.Tape(start=0.0, end=10.0, times=np.array([0.0, 9.0]), mid=np.array([1.0, 1.0]),
                   spread=np.array([1.0, 11.0]), bid_size=np.ones(2), ask_size=np.ones(2), trade_times=np.zeros(0),
                   trade_signs=np.zeros(0), trade_sizes=np.zeros(0), arrival_times=np.zeros(0),
                   order_sizes=np.zeros(0))
    assert RM.scalar_facts(tape)["spread_mean_ticks"] == pytest.approx((9 * 1 + 1 * 11) / 10)
    with pytest.raises(ValueError, match="spread"):
        RM.Tape(start=0.0, end=1.0, times=np.zeros(2), mid=np.ones(2), spread=np.ones(3), bid_size=np.ones(2),
                ask_size=np.ones(2), trade_times=np.zeros(0), trade_signs=np.zeros(0), trade_sizes=np.zeros(0),
                arrival_times=np.zeros(0), order_sizes=np.zeros(0))
