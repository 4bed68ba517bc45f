"""Realism metrics of a limit-order-book session: stylized facts computed the same way on real and simulated flow.

The facts follow Cont (2001, "Empirical properties of asset returns: stylized facts and statistical issues") and
Vyetrenko et al. (2020, "Get real: realism metrics for robust limit order book market simulations"): heavy tails
of mid-price returns (excess kurtosis at 1 and 5 minutes, also without the opening half hour), no linear
autocorrelation of returns, volatility clustering (autocorrelation of ``|r|`` at lags 1-10), leverage-like
``corr(r, |r|)``, ``corr(volume, |r|)``, the time-weighted spread distribution, touch depth, inter-arrival times
(mean, CV, Weibull shape), order sizes, cancellation times, the autocorrelation of trade signs and intraday
profiles.

Everything here is a pure function of arrays. A session in common units is a :class:`Tape`; real data and the
simulated market each build one (:mod:`marketgames.data.calibration`), and :func:`scalar_facts`,
:func:`distributions` and :func:`profiles` read both the same way: the mid price ``(bid + ask) / 2`` after each
book event, sampled on a clock grid at the last event at or before each grid time; returns are log returns of that
series. Comparison (:func:`compare_scalar`, :func:`compare_distribution`, :func:`compare_vector`): a scalar passes
when the real value lies in the 5-95% range of the simulated values over seeds (at least 30 seeds for a verdict);
distributions by Wasserstein-1 and Kolmogorov-Smirnov distance; vectors by RMSE.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "MIN_SEEDS", "ScalarCheck", "DistributionCheck", "Tape", "autocorrelation", "compare_distribution",
    "compare_scalar", "compare_vector", "correlation", "distributions", "excess_kurtosis", "grid_volume",
    "interarrival_stats", "log_returns", "profiles", "sample_on_grid", "scalar_facts", "time_weights",
    "weighted_ks", "weighted_wasserstein",
]

MIN_SEEDS = 30          # simulated seeds needed for a scalar's pass/fail verdict
ACF_LAGS = 10
OPENING_SECONDS = 1800.0


# ---------------------------------------------------------------- elementary statistics
def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def sample_on_grid(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``values`` at the last event at or before each grid time (``nan`` before the first event).

    ``times`` must be non-decreasing (file order, ties allowed: the last of a tie wins).
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if times.shape != values.shape or times.ndim != 1:
        raise ValueError(f"times of shape {times.shape} and values of shape {values.shape} are not allowed: "
                         "expected equal 1-d shapes")
    if times.size and np.any(np.diff(times) < 0):
        raise ValueError("times are not allowed: expected a non-decreasing sequence")
    idx = np.searchsorted(times, np.asarray(grid, dtype=np.float64), side="right") - 1
    out = np.full(len(idx), np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def log_returns(prices: np.ndarray) -> np.ndarray:
    """``log(p[t+1] / p[t])``; ``nan`` where either price is missing or not positive."""
    p = np.asarray(prices, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), np.nan)
    return np.diff(lp)


def excess_kurtosis(x: np.ndarray) -> float:
    """Fisher's excess kurtosis (0 for a Gaussian) of the finite values; ``nan`` with fewer than 4 or no spread."""
    x = _finite(x)
    if x.size < 4 or np.ptp(x) == 0:
        return float("nan")
    return float(stats.kurtosis(x, fisher=True, bias=True))


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation over the pairs where both are finite; ``nan`` when either has no spread."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x of shape {x.shape} and y of shape {y.shape} are not allowed: expected equal shapes")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def autocorrelation(x: np.ndarray, lags: int | Sequence[int] | np.ndarray) -> np.ndarray:
    """Sample autocorrelation at ``lags`` (an int ``L`` means lags ``1..L``): the standard estimator
    ``sum (x_t - m)(x_{t+k} - m) / sum (x_t - m)^2`` over the finite values, in order (``nan`` values dropped)."""
    if isinstance(lags, (int, np.integer)):
        lag_arr = np.arange(1, int(lags) + 1)
    else:
        lag_arr = np.asarray(lags, dtype=np.int64)
    if lag_arr.size and lag_arr.min() < 1:
        raise ValueError(f"lags={lags!r} are not allowed: expected positive integers")
    x = _finite(x)
    out = np.full(lag_arr.size, np.nan)
    if x.size < 3 or np.ptp(x) == 0:
        return out
    d = x - x.mean()
    denom = float(d @ d)
    for i, k in enumerate(lag_arr):
        if k < x.size:
            out[i] = float(d[:-k] @ d[k:]) / denom
    return out


def time_weights(times: np.ndarray, end: float) -> np.ndarray:
    """How long each state lasts: from its event to the next one (the last to ``end``)."""
    t = np.asarray(times, dtype=np.float64)
    if t.size and end < t[-1]:
        raise ValueError(f"end={end!r} is not allowed: expected >= the last time {t[-1]!r}")
    return np.diff(np.append(t, end))


def interarrival_stats(times: np.ndarray, *, weibull: bool = True) -> dict[str, float]:
    """Mean, coefficient of variation and Weibull shape of the gaps between arrivals.

    The Weibull shape ``k`` (``scipy.stats.weibull_min`` by maximum likelihood, location 0) is fitted on the
    positive gaps only (tied timestamps give zero gaps, which a Weibull law cannot hold); ``k < 1`` is bursty,
    ``k = 1`` Poisson.
    """
    t = np.asarray(times, dtype=np.float64)
    gaps = np.diff(t)
    out = {"mean": float("nan"), "cv": float("nan"), "weibull_shape": float("nan")}
    if gaps.size < 2:
        return out
    out["mean"] = float(gaps.mean())
    if gaps.mean() > 0:
        out["cv"] = float(gaps.std() / gaps.mean())
    pos = gaps[gaps > 0]
    if weibull and pos.size >= 10 and np.ptp(pos) > 0:
        shape, _, _ = stats.weibull_min.fit(pos, floc=0.0)
        out["weibull_shape"] = float(shape)
    return out


def grid_volume(trade_times: np.ndarray, trade_sizes: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Volume traded in each grid interval ``(grid[i], grid[i+1]]``."""
    idx = np.searchsorted(np.asarray(grid, dtype=np.float64), np.asarray(trade_times, dtype=np.float64),
                          side="left") - 1
    ok = (idx >= 0) & (idx < len(grid) - 1)
    return np.bincount(idx[ok], weights=np.asarray(trade_sizes, dtype=np.float64)[ok], minlength=len(grid) - 1)


# ---------------------------------------------------------------- a session in common units
@dataclass(frozen=True)
class Tape:
    """One session of a market in common units (real or simulated), read by the metrics below.

    Attributes:
        start: session start (seconds after midnight).
        end: session end.
        times: times of the book states (non-decreasing).
        mid: mid price after each book event, in currency units (e.g. dollars).
        spread: bid-ask spread after each event, in real ticks (``nan`` when a side is empty).
        bid_size: best-bid size in lots.
        ask_size: best-ask size in lots.
        trade_times: times of trades (executions).
        trade_signs: +1 buyer-initiated, -1 seller-initiated.
        trade_sizes: traded lots.
        arrival_times: times of order arrivals (limit submissions and marketable orders).
        order_sizes: sizes in lots of the submitted limit orders.
        cancel_times: lifetimes (seconds) of the limit orders removed without a fill.
    """

    start: float
    end: float
    times: np.ndarray
    mid: np.ndarray
    spread: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    trade_times: np.ndarray
    trade_signs: np.ndarray
    trade_sizes: np.ndarray
    arrival_times: np.ndarray
    order_sizes: np.ndarray
    cancel_times: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError(f"end={self.end!r} is not allowed: expected > start={self.start!r}")
        n = len(self.times)
        for name in ("mid", "spread", "bid_size", "ask_size"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} of length {len(getattr(self, name))} is not allowed: expected one "
                                 f"value per book state ({n})")
        m = len(self.trade_times)
        for name in ("trade_signs", "trade_sizes"):
            if len(getattr(self, name)) != m:
                raise ValueError(f"{name} of length {len(getattr(self, name))} is not allowed: expected one "
                                 f"value per trade ({m})")

    def mid_grid(self, seconds: float, skip: float = 0.0) -> np.ndarray:
        """The mid on the grid ``start + skip, start + skip + seconds, ...`` up to ``end``."""
        grid = np.arange(self.start + skip, self.end + 1e-9, seconds)
        return sample_on_grid(self.times, self.mid, grid)

    def grid(self, seconds: float, skip: float = 0.0) -> np.ndarray:
        return np.arange(self.start + skip, self.end + 1e-9, seconds)


def scalar_facts(tape: Tape, *, weibull: bool = True) -> dict[str, float]:
    """The scalar stylized facts of a session (names are the table's row labels).

    Returns at 1 and 5 minutes; "late" drops the first 30 minutes of the session (the opening effect). Without
    ``weibull`` the inter-arrival Weibull shape (a maximum-likelihood fit, the slowest fact) is ``nan``.
    """
    out: dict[str, float] = {}
    for minutes in (1, 5):
        r = log_returns(tape.mid_grid(60.0 * minutes))
        out[f"kurtosis_{minutes}min"] = excess_kurtosis(r)
        if tape.end - tape.start > OPENING_SECONDS + 4 * 60.0 * minutes:
            out[f"kurtosis_{minutes}min_late"] = excess_kurtosis(log_returns(tape.mid_grid(60.0 * minutes,
                                                                                         OPENING_SECONDS)))
    grid = tape.grid(60.0)
    r1 = log_returns(sample_on_grid(tape.times, tape.mid, grid))
    out["return_std_1min"] = float(np.nanstd(r1)) if np.isfinite(r1).any() else float("nan")
    out["acf1_return_1min"] = float(autocorrelation(r1, [1])[0])
    acf_abs = autocorrelation(np.abs(r1), ACF_LAGS)
    out["acf_abs_return_1to10_mean"] = float(np.nanmean(acf_abs)) if np.isfinite(acf_abs).any() else float("nan")
    out["corr_r_abs_r"] = correlation(r1, np.abs(r1))
    out["corr_volume_abs_r"] = correlation(grid_volume(tape.trade_times, tape.trade_sizes, grid), np.abs(r1))
    w = time_weights(tape.times, tape.end)
    ok = np.isfinite(tape.spread)
    out["spread_mean_ticks"] = float(np.average(tape.spread[ok], weights=w[ok])) if w[ok].sum() > 0 else float("nan")
    depth = 0.5 * (np.asarray(tape.bid_size, float) + np.asarray(tape.ask_size, float))
    out["touch_depth_mean_lots"] = float(np.average(depth, weights=w)) if w.sum() > 0 else float("nan")
    seconds = tape.end - tape.start
    out["trades_per_minute"] = 60.0 * len(tape.trade_times) / seconds
    out["arrivals_per_minute"] = 60.0 * len(tape.arrival_times) / seconds
    ia = interarrival_stats(tape.arrival_times, weibull=weibull)
    out["interarrival_cv"] = ia["cv"]
    out["interarrival_weibull_shape"] = ia["weibull_shape"]
    out["trade_sign_acf1"] = float(autocorrelation(tape.trade_signs, [1])[0])
    out["order_size_mean_lots"] = float(np.mean(tape.order_sizes)) if len(tape.order_sizes) else float("nan")
    out["cancel_time_median_s"] = (float(np.median(tape.cancel_times)) if len(tape.cancel_times)
                                   else float("nan"))
    return out


def vector_facts(tape: Tape) -> dict[str, np.ndarray]:
    """Vector facts: autocorrelations of 1-minute ``|r|`` and of trade signs at lags 1-10."""
    r1 = log_returns(tape.mid_grid(60.0))
    return {"acf_abs_return_1min": autocorrelation(np.abs(r1), ACF_LAGS),
            "acf_trade_sign": autocorrelation(tape.trade_signs, ACF_LAGS)}


def distributions(tape: Tape) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Distributions as ``(values, weights)``: spread (time-weighted), touch depth (time-weighted), 1-minute
    returns, inter-arrival gaps, order sizes and cancellation times (each observation weight 1)."""
    w = time_weights(tape.times, tape.end)
    ok = np.isfinite(tape.spread)
    depth = 0.5 * (np.asarray(tape.bid_size, float) + np.asarray(tape.ask_size, float))
    r1 = _finite(log_returns(tape.mid_grid(60.0)))

    def ones(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        return x, np.ones(len(x))

    return {"spread_ticks": (np.asarray(tape.spread, float)[ok], w[ok]), "touch_depth_lots": (depth, w),
            "return_1min": ones(r1), "interarrival_s": ones(np.diff(np.asarray(tape.arrival_times, float))),
            "order_size_lots": ones(tape.order_sizes), "cancel_time_s": ones(tape.cancel_times)}


def profiles(tape: Tape, bucket_seconds: float = 900.0) -> dict[str, np.ndarray]:
    """Intraday profiles on buckets of ``bucket_seconds`` from the session start (the last one may be shorter):
    each bucket's arrival rate over the session's (1 everywhere for a flat profile), the time-weighted mean spread
    (ticks) and the mean absolute 1-minute return."""
    if not bucket_seconds > 0:
        raise ValueError(f"bucket_seconds={bucket_seconds!r} is not allowed: expected > 0")
    edges = np.arange(tape.start, tape.end + 1e-9, bucket_seconds)
    if edges[-1] < tape.end:
        edges = np.append(edges, tape.end)
    nb = len(edges) - 1
    arrivals = np.histogram(np.asarray(tape.arrival_times, float), bins=edges)[0].astype(float)
    mean_rate = arrivals.sum() / (tape.end - tape.start)
    ratio = arrivals / np.diff(edges) / mean_rate if mean_rate > 0 else np.full(nb, np.nan)
    w = time_weights(tape.times, tape.end)
    b = np.clip(np.searchsorted(edges, np.asarray(tape.times, float), side="right") - 1, 0, nb - 1)
    ok = np.isfinite(tape.spread)
    num = np.bincount(b[ok], weights=(w * np.nan_to_num(tape.spread))[ok], minlength=nb)
    den = np.bincount(b[ok], weights=w[ok], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(den > 0, num / den, np.nan)
    grid = tape.grid(60.0)
    r = np.abs(log_returns(sample_on_grid(tape.times, tape.mid, grid)))
    rb = np.clip(np.searchsorted(edges, grid[1:], side="left") - 1, 0, nb - 1)
    okr = np.isfinite(r)
    cnt = np.bincount(rb[okr], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        absr = np.where(cnt > 0, np.bincount(rb[okr], weights=r[okr], minlength=nb) / cnt, np.nan)
    return {"arrival_rate_ratio": ratio, "spread_ticks": spread, "abs_return_1min": absr}


# ---------------------------------------------------------------- real vs simulated
@dataclass(frozen=True)
class ScalarCheck:
    """A scalar fact: the real value against the simulated values over seeds (5-95% range)."""

    name: str
    real: float
    sim_median: float
    sim_lo: float
    sim_hi: float
    seeds: int
    passed: bool | None  # None: too few seeds or no finite values for a verdict


def compare_scalar(name: str, real: float, simulated: np.ndarray, *, min_seeds: int = MIN_SEEDS) -> ScalarCheck:
    """Pass when ``real`` lies in the 5-95% range of the finite ``simulated`` values (one per seed); no verdict
    (``passed=None``) with fewer than ``min_seeds`` finite values or a missing real value."""
    sims = _finite(simulated)
    if sims.size == 0:
        return ScalarCheck(name, float(real), float("nan"), float("nan"), float("nan"), 0, None)
    lo, med, hi = np.percentile(sims, [5, 50, 95])
    verdict: bool | None = None
    if sims.size >= min_seeds and np.isfinite(real):
        verdict = bool(lo <= real <= hi)
    return ScalarCheck(name, float(real), float(med), float(lo), float(hi), int(sims.size), verdict)


def _weighted_cdf(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    return np.concatenate([[0.0], cw / cw[-1]])[np.searchsorted(xs, at, side="right")]


def _check_sample(x: np.ndarray, w: np.ndarray | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=np.float64)
    if x.shape != w.shape or x.ndim != 1:
        raise ValueError(f"{name} values of shape {x.shape} and weights of shape {w.shape} are not allowed: "
                         "expected equal 1-d shapes")
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    return x[ok], w[ok]


def weighted_wasserstein(x: np.ndarray, y: np.ndarray, wx: np.ndarray | None = None,
                         wy: np.ndarray | None = None) -> float:
    """Wasserstein-1 distance between two weighted samples (``scipy.stats.wasserstein_distance``)."""
    x, wx_ = _check_sample(x, wx, "x")
    y, wy_ = _check_sample(y, wy, "y")
    if x.size == 0 or y.size == 0:
        return float("nan")
    return float(stats.wasserstein_distance(x, y, wx_, wy_))


def weighted_ks(x: np.ndarray, y: np.ndarray, wx: np.ndarray | None = None, wy: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_x - F_y|`` between two weighted samples (with unit weights, the
    statistic of ``scipy.stats.ks_2samp``)."""
    x, wx_ = _check_sample(x, wx, "x")
    y, wy_ = _check_sample(y, wy, "y")
    if x.size == 0 or y.size == 0:
        return float("nan")
    at = np.union1d(x, y)
    return float(np.max(np.abs(_weighted_cdf(x, wx_, at) - _weighted_cdf(y, wy_, at))))


@dataclass(frozen=True)
class DistributionCheck:
    name: str
    wasserstein: float
    ks: float
    real_median: float
    sim_median: float


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    if x.size == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])


def compare_distribution(name: str, real: tuple[np.ndarray, np.ndarray],
                         simulated: tuple[np.ndarray, np.ndarray]) -> DistributionCheck:
    """Wasserstein-1 and KS distances between the real and the (pooled) simulated ``(values, weights)``."""
    rx, rw = _check_sample(*real, "real")
    sx, sw = _check_sample(*simulated, "simulated")
    return DistributionCheck(name, weighted_wasserstein(rx, sx, rw, sw), weighted_ks(rx, sx, rw, sw),
                             _weighted_median(rx, rw), _weighted_median(sx, sw))


def compare_vector(real: np.ndarray, simulated: np.ndarray) -> float:
    """Root-mean-square difference over the entries where both are finite (``nan`` if none)."""
    a = np.asarray(real, dtype=np.float64)
    b = np.asarray(simulated, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"real of shape {a.shape} and simulated of shape {b.shape} are not allowed: "
                         "expected equal shapes")
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[ok] - b[ok]) ** 2))) if ok.any() else float("nan")
