"""The market against real order flow: a LOBSTER day, the market calibrated to it, and how realistic it is.

``python -m studies real_data [--data PATH] [--fit-window 09:30-11:15] [--eval-window 11:15-13:00] [--quick]
[--seed S] [--out DIR]``

``PATH`` is a LOBSTER message file (its orderbook file beside it; default: the project's shared GOOG sample,
:func:`marketgames.data.shared_sample`). Sections:

* Replay match rates (:func:`marketgames.data.replay.replay`, when that module is present): the replayed touch
  against the orderbook file, per replay mode, with denominators, on each window.
* Calibration (:func:`marketgames.data.calibration.calibrate`) on the fit window: the measured-rate mapping
  (Farmer, Patelli & Zovko 2005), then the simulated-moments refinement; the game string of the result.
* Calibration table and realism (:mod:`marketgames.data.realism`; Cont 2001, Vyetrenko et al. 2020) on the fit
  and the validation window: each fact's real value, the calibrated market's median and 5-95% range over
  ``seeds`` seeds, pass when the real value lies in that range; distributions by Wasserstein-1 and KS; vectors
  (autocorrelations, intraday profiles) by RMSE. Both sides use the same window and the same price series: the
  level-1 mid ``(bid + ask) / 2`` sampled on a 1-minute clock grid at the last book state at or before each grid
  time; the simulated market's clock is ``seconds_per_round`` per round after a warm-up.
* Gaps: the real features the market's rules cannot produce.

* Sim-to-real gap per strategy (:func:`marketgames.data.execution.trade_replay`, when that module is present):
  each rule trader's PnL per lot on the replayed validation window against the same trader in the calibrated
  market, and the gap with its interval.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import pyspiel

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.data import load_day, shared_sample
from marketgames.data import calibration as C
from marketgames.data import realism as RM
from marketgames.market import rules as MR
from marketgames.market.batched import BatchedMarket
from marketgames.market.config import MarketConfig
from marketgames.market.population import population_actions
from marketgames.traders import make_trader, parse_spec

from . import real_data_plots
from .cli import run_cli
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_int, check_number, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "real_data"
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_window(name: str, text: str) -> tuple[float, float]:
    """``"HH:MM-HH:MM"`` -> (start, end) in seconds after midnight."""
    m = _WINDOW.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{name}={text!r} is not allowed: expected HH:MM-HH:MM, e.g. 09:30-11:15")
    h0, m0, h1, m1 = (int(g) for g in m.groups())
    start, end = 3600.0 * h0 + 60.0 * m0, 3600.0 * h1 + 60.0 * m1
    if not (m0 < 60 and m1 < 60 and h1 <= 24 and end > start):
        raise ValueError(f"{name}={text!r} is not allowed: expected HH:MM-HH:MM with the end after the start")
    return start, end


@dataclass
class Config:
    """Configuration of the real-data study.

    Attributes:
        data: a LOBSTER message file (the orderbook file beside it); default: the shared GOOG sample.
        fit_window: the calibration window, HH:MM-HH:MM.
        eval_window: the validation window, HH:MM-HH:MM.
        seconds_per_round: real seconds per market round.
        ticks_per_model_tick: real ticks per model tick.
        tick_size: file price units per real tick (100: one cent in LOBSTER's dollars x 10000).
        lot_shares: shares per lot.
        seeds: simulated seeds per window for the realism checks (at least 30 for a pass/fail verdict).
        msm_seeds: seeds per simulated-moments evaluation (the same seeds at every evaluation).
        msm_evaluations: at most this many simulated-moments evaluations.
        warmup_seconds: simulated seconds dropped before each window.
        replay: replay each window through the order book and report the match rates.
        strategies: rule trader specs for the sim-to-real gap (seat 0; the other seat holds).
        episode_rounds: rounds per episode of the strategies' market (real and simulated).
        sim_episodes: simulated episodes per strategy in the calibrated market.
        seed: the study's seed.
        out: report folder (default ``reports/real_data-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (windows 10:00-10:15 and 10:15-10:30, 30 seeds, 4 seeds x 4 evaluations of the
            refinement, 60 s of warm-up, replay of 2,000 rows per window, 40 simulated episodes per strategy).
    """

    data: str | None = None
    fit_window: str = "09:30-11:15"
    eval_window: str = "11:15-13:00"
    seconds_per_round: float = 0.5
    ticks_per_model_tick: int = 10
    tick_size: int = 100
    lot_shares: int = 100
    seeds: int = 30
    msm_seeds: int = 8
    msm_evaluations: int = 60
    warmup_seconds: float = 300.0
    replay: bool = True
    strategies: tuple[str, ...] = ("market_maker(half_spread=1)", "noise", "zi")
    episode_rounds: int = 120
    sim_episodes: int = 200
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        check_optional_str("data", self.data)
        if self.data is not None and not Path(self.data).is_file():
            raise ValueError(f"data={self.data!r} is not allowed: no such file (expected a LOBSTER message file)")
        parse_window("fit_window", self.fit_window)
        parse_window("eval_window", self.eval_window)
        check_number("seconds_per_round", self.seconds_per_round, low=0.0, high=3600.0, strict_low=True)
        check_number("warmup_seconds", self.warmup_seconds, low=0.0)
        for name in ("ticks_per_model_tick", "tick_size", "lot_shares"):
            check_int(name, getattr(self, name), 1)
        check_int("seeds", self.seeds, 2)
        self.strategies = tuple(self.strategies)
        for spec in self.strategies:
            parse_spec(spec)
        check_int("episode_rounds", self.episode_rounds, 1)
        check_int("sim_episodes", self.sim_episodes, 2)
        check_int("msm_seeds", self.msm_seeds, 1)
        check_int("msm_evaluations", self.msm_evaluations, 0)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("replay", "overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, fit_window="10:00-10:15", eval_window="10:15-10:30",
                                   seeds=30,
                                   msm_seeds=min(self.msm_seeds, 4), msm_evaluations=min(self.msm_evaluations, 4),
                                   warmup_seconds=min(self.warmup_seconds, 60.0),
                                   sim_episodes=min(self.sim_episodes, 40))

    def data_path(self) -> Path:
        """The message file: ``data``, else the shared sample; a clear error when neither exists."""
        if self.data is not None:
            return Path(self.data)
        found = shared_sample()
        if found is None:
            raise ValueError("data=None is not allowed here: the shared LOBSTER sample is absent; pass --data PATH "
                             "(a LOBSTER message file)")
        return found


# ---------------------------------------------------------------------------------------------------- pieces
def _optional(module: str) -> Any:
    """A module of ``marketgames.data`` that may not be there yet (``None`` when absent)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def replay_rates(day: Any, windows: dict[str, tuple[float, float]], max_rows: int | None) -> dict[str, Any] | None:
    """The replay module's match table per window (``None`` without the module)."""
    mod = _optional("marketgames.data.replay")
    if mod is None:
        return None
    out: dict[str, Any] = {}
    for name, (lo, hi) in windows.items():
        w = day.window(lo, hi)
        if max_rows is not None and len(w) > max_rows:
            w = day.window(lo, float(w.time[max_rows]))
        t0 = time.perf_counter()
        result = mod.replay(w)
        seconds = time.perf_counter() - t0
        out[name] = {"rows": len(w), "table": result.table(), "never_submitted": result.never_submitted,
                     "ties": result.ties, "messages_per_second": len(w) / seconds if seconds > 0 else float("nan")}
    return out


def window_realism(day: Any, calibration: C.Calibration, window: tuple[float, float], seeds: int,
                   seed: np.random.SeedSequence, configs: dict[str, Any]) -> dict[str, Any]:
    """Real facts of ``window`` against each calibrated market's simulated facts over ``seeds`` seeds."""
    sc = calibration.scales
    lo, hi = window
    tape = C.real_tape(day, sc, lo, hi)
    start_price = float(tape.mid[np.isfinite(tape.mid)][0])
    real = RM.scalar_facts(tape)
    out: dict[str, Any] = {"real": real, "real_vectors": RM.vector_facts(tape), "real_profiles": RM.profiles(tape),
                           "markets": {}}
    rounds = int(round((hi - lo) / sc.seconds_per_round)) + calibration.warmup_rounds
    for label, config in configs.items():
        cfg = dataclasses.replace(config, steps=rounds)
        tapes = C.simulate_tapes(cfg, sc, lo, hi, seeds, seed, warmup_rounds=calibration.warmup_rounds,
                                 start_price=start_price)
        facts = [RM.scalar_facts(t) for t in tapes]
        checks = {n: RM.compare_scalar(n, real[n], np.array([f[n] for f in facts])) for n in real}
        vectors = [RM.vector_facts(t) for t in tapes]
        vec = {n: np.nanmean(np.array([v[n] for v in vectors]), axis=0) for n in out["real_vectors"]}
        profs = [RM.profiles(t) for t in tapes]
        prof = {n: np.nanmean(np.array([p[n] for p in profs]), axis=0) for n in out["real_profiles"]}
        real_d = RM.distributions(tape)
        sim_d = [RM.distributions(t) for t in tapes]
        dists = {n: RM.compare_distribution(n, real_d[n], (np.concatenate([d[n][0] for d in sim_d]),
                                                            np.concatenate([d[n][1] for d in sim_d])))
                 for n in real_d}
        out["markets"][label] = {
            "checks": checks, "vectors": vec, "profiles": prof, "distributions": dists,
            "vector_rmse": {n: RM.compare_vector(out["real_vectors"][n], vec[n]) for n in vec},
            "profile_rmse": {n: RM.compare_vector(out["real_profiles"][n], prof[n]) for n in prof},
            "pooled": {n: (np.concatenate([d[n][0] for d in sim_d]), np.concatenate([d[n][1] for d in sim_d]))
                       for n in ("spread_ticks", "return_1min", "interarrival_s")},
            "tape0": tapes[0]}
    out["real_distributions"] = RM.distributions(tape)
    out["tape"] = tape
    return out


class _Hold:
    """The other seat: always holds (so the strategy meets the background flow only, as on the replayed flow)."""

    def __init__(self, num_actions: int) -> None:
        self.num_actions = num_actions

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        out = np.zeros((len(obs), self.num_actions))
        out[:, MR.HOLD] = 1.0
        return out


def trading_market(calibrated: MarketConfig, rounds: int) -> MarketConfig:
    """The calibrated flow with the game's default action menu and observation, episodes of ``rounds`` rounds."""
    d = MarketConfig()
    return dataclasses.replace(calibrated, steps=rounds, limit_levels=d.limit_levels, quote_levels=d.quote_levels,
                               max_orders=d.max_orders, book_levels=d.book_levels, history=d.history)


def _ratio_ci(num: np.ndarray, den: np.ndarray, rng: np.random.Generator, reps: int = 1000) -> tuple[float, ...]:
    """``sum(num) / sum(den)`` and its 95% bootstrap interval over episodes."""
    if den.sum() <= 0:
        return (float("nan"),) * 3
    idx = rng.integers(0, len(num), (reps, len(num)))
    d = den[idx].sum(axis=1)
    boot = np.where(d > 0, num[idx].sum(axis=1) / np.where(d > 0, d, 1), np.nan)
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    return float(num.sum() / den.sum()), float(lo), float(hi)


def strategy_gaps(day: Any, cal: C.Calibration, window: tuple[float, float], eff: Config,
                  seed: np.random.SeedSequence) -> dict[str, Any] | None:
    """PnL per lot (real ticks) of each strategy on the replayed flow (:func:`marketgames.data.execution.
    trade_replay`) and in the calibrated market (seat 0, the other seat holding), and the gap real - simulated with
    an interval combining both 95% half-widths in quadrature (independent samples). ``None`` without the module."""
    ex = _optional("marketgames.data.execution")
    if ex is None:
        return None
    sc = cal.scales
    market = trading_market(cal.refined, eff.episode_rounds)
    game = pyspiel.load_game(market.game_string())
    s_sim, s_boot = seed.spawn(2)
    rng = np.random.default_rng(s_boot)
    P = market.params()
    vol_at = int(P[MR.P_OFF_PLAYERS]) + MR.A_VOLUME
    out: dict[str, Any] = {"game_string": market.game_string()}
    for k, spec in enumerate(eff.strategies):
        trader = make_trader(spec, game, player_ids=[0])
        real = ex.trade_replay(day, trader, game, ex.ExecutionConfig(
            seconds_per_round=float(sc.seconds_per_round), real_ticks_per_model_tick=sc.ticks_per_model_tick,
            tick_size=sc.tick_size, shares_per_lot=sc.lot_shares, bootstrap=500, seed=eff.seed), *window)
        batch = BatchedMarket(market, eff.sim_episodes, s_sim.spawn(len(eff.strategies))[k])
        traders = [trader, _Hold(market.num_actions)]
        obs = batch.reset()
        while not batch.done:
            obs, _, _ = batch.step(population_actions(traders, batch, obs))
        pnl = batch.returns()[:, 0] * sc.ticks_per_model_tick
        lots = np.array([batch.market_buffer(i)[vol_at] for i in range(batch.batch_size)], dtype=float)
        sim = _ratio_ci(pnl, lots, rng)
        r = real.pnl_per_lot
        half = float(np.hypot((r.high - r.low) / 2, (sim[2] - sim[1]) / 2))
        gap = r.value - sim[0]
        out[spec] = {"real_pnl_per_lot": [r.value, r.low, r.high], "sim_pnl_per_lot": list(sim),
                     "gap": [gap, gap - half, gap + half], "real_fill_ratio": real.fill_ratio.value,
                     "real_episodes": real.episodes, "real_lots": float(real.lots_traded.sum()),
                     "sim_episodes": eff.sim_episodes, "sim_lots": float(lots.sum())}
    return out


GAPS = [
    ("inter-arrival CV", "interarrival_cv", "arrivals are Bernoulli per round (geometric gaps, CV <= 1); real "
     "arrivals are bursty"),
    ("fleeting orders", "cancel_time_median_s", "every background order lives exactly bg_ttl rounds; most real "
     "deletions come within 100 ms, next to orders living minutes"),
    ("order sizes", "order_size_mean_lots", "one size (bg_lot) for every background order; real sizes range from "
     "odd lots to many lots"),
    ("trade-sign memory", "trade_sign_acf1", "background orders are independent (no order splitting), so trade "
     "signs have no memory; real signs are long-memory"),
    ("intraday profile", None, "the arrival probability is one number for the whole session (flat profile)"),
    ("hidden liquidity", None, "no hidden orders; real hidden executions carry about a third of the volume"),
]


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    path = eff.data_path()
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "Real data: a LOBSTER day, the calibrated market and its realism",
                      overwrite=eff.overwrite) as w:
        results = _run(eff, path, w)
    results["out"] = str(out)
    return results


def _run(eff: Config, path: Path, writer: ReportWriter) -> dict[str, Any]:
    t0 = time.perf_counter()
    day = load_day(path)
    windows = {"fit": parse_window("fit_window", eff.fit_window), "eval": parse_window("eval_window",
                                                                                        eff.eval_window)}
    scales = C.Scales(seconds_per_round=float(eff.seconds_per_round), ticks_per_model_tick=eff.ticks_per_model_tick,
                      tick_size=eff.tick_size, lot_shares=eff.lot_shares)
    s_cal, s_fit, s_eval = np.random.SeedSequence(eff.seed).spawn(3)
    replayed = replay_rates(day, windows, 2_000 if eff.quick else None) if eff.replay else None
    cal = C.calibrate(day, scales, *windows["fit"], seeds=eff.msm_seeds, seed=s_cal,
                      evaluations=eff.msm_evaluations, warmup_seconds=eff.warmup_seconds)
    configs = {"measured": cal.measured, "calibrated": cal.refined}
    realism = {"fit": window_realism(day, cal, windows["fit"], eff.seeds, s_fit, configs),
               "eval": window_realism(day, cal, windows["eval"], eff.seeds, s_eval, configs)}
    gaps = strategy_gaps(day, cal, windows["eval"], eff, s_eval.spawn(1)[0]) if eff.strategies else None
    seconds = time.perf_counter() - t0
    results = _results(eff, path, cal, realism, replayed, seconds)
    results["strategies"] = gaps
    _write_report(writer, eff, path, cal, realism, replayed, results)
    _write_gaps(writer, eff, gaps)
    writer.write(results)
    return results


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 3600:02d}:{int(seconds) % 3600 // 60:02d}"


def _check_row(c: RM.ScalarCheck) -> list[Any]:
    verdict = "n/a" if c.passed is None else ("pass" if c.passed else "fail")
    return [c.name, c.real, c.sim_median, f"[{c.sim_lo:.4g}, {c.sim_hi:.4g}]", verdict]


def _results(eff: Config, path: Path, cal: C.Calibration, realism: dict[str, Any], replayed: Any,
             seconds: float) -> dict[str, Any]:
    res: dict[str, Any] = {
        "data": str(path), "config": dataclasses.asdict(eff), "seconds": seconds,
        "game_string": cal.game_string(), "measured_game_string": cal.measured.game_string(),
        "scales": dataclasses.asdict(cal.scales),
        "flow": {"rates_per_second": cal.flow.rates_per_second, "marketable_share": cal.flow.marketable_share,
                 "mid_variance_per_second_ticks2": cal.flow.mid_variance_per_second,
                 "spread_mean_ticks": cal.flow.spread_mean_ticks,
                 "lifetime_median_s": float(np.median(cal.flow.lifetime_seconds)) if cal.flow.lifetime_seconds.size
                 else float("nan"),
                 "share_deleted_within_100ms": float(np.mean(cal.flow.lifetime_seconds < 0.1))
                 if cal.flow.lifetime_seconds.size else float("nan"),
                 "rates_by_bucket": {k: v.tolist() for k, v in cal.flow.rates_by_bucket.items()}},
        "msm": {"objective_measured": cal.objective_measured, "objective_refined": cal.objective_refined,
                "evaluations": cal.evaluations, "standard_errors": cal.standard_errors,
                "trace": [{"params": p, "objective": f} for p, f in cal.trace]},
        "replay": replayed, "windows": {}}
    for wname, r in realism.items():
        entry: dict[str, Any] = {"real": r["real"], "markets": {}}
        for label, m in r["markets"].items():
            entry["markets"][label] = {
                "checks": {n: dataclasses.asdict(c) for n, c in m["checks"].items()},
                "passed": int(sum(c.passed is True for c in m["checks"].values())),
                "judged": int(sum(c.passed is not None for c in m["checks"].values())),
                "distributions": {n: dataclasses.asdict(d) for n, d in m["distributions"].items()},
                "vector_rmse": m["vector_rmse"], "profile_rmse": m["profile_rmse"]}
        res["windows"][wname] = entry
    return res


def _write_report(writer: ReportWriter, eff: Config, path: Path, cal: C.Calibration, realism: dict[str, Any],
                  replayed: Any, results: dict[str, Any]) -> None:
    sc = cal.scales
    writer.section("Setup")
    writer.text(f"Data `{path.name}`; fit window {eff.fit_window}, validation window {eff.eval_window}"
                f"{' (quick run)' if eff.quick else ''}. Scales: {sc.seconds_per_round:g} s per round, "
                f"{sc.ticks_per_model_tick} real ticks ({sc.tick_size} file units each) per model tick, "
                f"{sc.lot_shares} shares per lot. {eff.seeds} simulated seeds per window (after "
                f"{eff.warmup_seconds:g} simulated seconds of warm-up); the players hold, so the market is its "
                f"background flow. {results['seconds']:.0f} s.")
    if replayed is not None:
        writer.section("Replay match rates")
        for wname, r in replayed.items():
            writer.table(["mode", "rows", "ask price", "ask size", "bid price", "bid size", "touch"],
                         [[row["mode"], row["rows"], row["ask_price"], row["ask_size"], row["bid_price"],
                           row["bid_size"], row["touch"]] for row in r["table"]],
                         caption=f"{wname} window: {r['rows']} rows; {r['never_submitted']} removals of ids never "
                                 f"submitted; {r['ties']} tied timestamps; {r['messages_per_second']:,.0f} "
                                 "messages/s")
    else:
        writer.section("Replay match rates")
        writer.text("Left out: marketgames.data.replay is not installed in this checkout.")
    writer.section("Calibration")
    f = cal.flow
    writer.table(["event", "per second"], [[k, v] for k, v in f.rates_per_second.items()],
                 caption="Fit window arrival rates by event type (market_order: executions of one direction at one "
                         "timestamp)")
    lo = parse_window("fit_window", eff.fit_window)[0]
    buckets = f.rates_by_bucket
    names = [n for n in ("new", "delete", "market_order", "hidden") if n in buckets]
    writer.table(["bucket start", *names],
                 [[_clock(lo + C.BLOCK_SECONDS * i), *(buckets[n][i] for n in names)]
                  for i in range(len(buckets[names[0]]))] if names else [],
                 caption="Fit window arrival rates per second by time of day (15-minute buckets); the market's "
                         "arrival probability is one number for the whole session")
    writer.text(f"Marketable share {f.marketable_share:.3f}; limit placement behind the same-side touch (real ticks)"
                f" median {np.median(f.placement_ticks):.1f} (inside the spread: "
                f"{np.mean(f.placement_ticks < 0):.0%}); order size median {np.median(f.order_size_lots):.2f} lots; "
                f"deleted-order lifetime median {results['flow']['lifetime_median_s']:.3f} s, mean "
                f"{np.mean(f.lifetime_seconds):.2f} s ({results['flow']['share_deleted_within_100ms']:.0%} within "
                f"100 ms); mid variance {f.mid_variance_per_second:.2f} ticks^2/s at 1 minute.")
    writer.text(f"Measured-rate market: `{cal.measured.game_string()}`")
    writer.text(f"Calibrated market (simulated moments, {cal.evaluations} evaluations x {eff.msm_seeds} seeds, "
                f"objective {cal.objective_measured:.1f} -> {cal.objective_refined:.1f}): `{cal.game_string()}`")
    writer.table(["target", "real", "standard error"],
                 [[n, cal.real_targets[n], cal.standard_errors[n]] for n in C.MSM_TARGETS],
                 caption="Targets of the refinement (fit window); each weighted by 1 / standard error^2")
    for wname in ("fit", "eval"):
        r = realism[wname]
        label = "fit" if wname == "fit" else "validation"
        writer.section(f"Calibration table and realism: {label} window")
        for mlabel, m in r["markets"].items():
            rows = [_check_row(c) for c in m["checks"].values()]
            judged = sum(c.passed is not None for c in m["checks"].values())
            passed = sum(c.passed is True for c in m["checks"].values())
            writer.table(["fact", "real", "sim median", "sim 5-95%", "verdict"], rows,
                         caption=f"{mlabel} market, {label} window: {passed}/{judged} facts pass")
        m = r["markets"]["calibrated"]
        writer.table(["distribution", "W1", "KS", "real median", "sim median"],
                     [[d.name, d.wasserstein, d.ks, d.real_median, d.sim_median]
                      for d in m["distributions"].values()],
                     caption=f"Distributions, calibrated market vs real ({label} window), simulated seeds pooled")
        writer.table(["vector", "RMSE"], [[n, v] for n, v in {**m["vector_rmse"], **m["profile_rmse"]}.items()],
                     caption="Autocorrelations at lags 1-10 and 15-minute intraday profiles: RMSE of the seed mean")
        writer.figure(real_data_plots.realism_figure(r, "calibrated", label), f"realism_{wname}",
                      caption=f"Calibrated market (seed mean or pooled seeds) against the real data, {label} window")
    writer.section("Gaps: real features the market's rules cannot produce")
    ev = realism["eval"]
    writer.table(["feature", "real (validation)", "calibrated (median)", "why"],
                 [[name, ev["real"][key] if key else "", ev["markets"]["calibrated"]["checks"][key].sim_median
                   if key else "", why] for name, key, why in GAPS])


def _write_gaps(writer: ReportWriter, eff: Config, gaps: dict[str, Any] | None) -> None:
    writer.section("Sim-to-real gap per strategy (validation window)")
    if gaps is None:
        writer.text("Left out: it needs marketgames.data.execution (strategies on the replayed flow), absent here.")
        return

    def ci(v: list[float]) -> str:
        return f"{v[0]:.3g} [{v[1]:.3g}, {v[2]:.3g}]"

    writer.text(f"Seat 0 plays the strategy, the other seat holds; episodes of {eff.episode_rounds} rounds in "
                f"`{gaps['game_string']}`. Real: the replayed flow with the fill model of marketgames.data.execution"
                " (back of the queue, FIFO advance on visible executions, fills on trade-through; the replayed flow"
                " does not react), positions valued at the mid at each episode's end, moving-block bootstrap CI. "
                "Simulated: the calibrated market, positions valued at the fundamental, bootstrap CI over "
                "episodes. PnL per lot traded in real ticks.")
    rows = [[spec, ci(g["real_pnl_per_lot"]), ci(g["sim_pnl_per_lot"]), ci(g["gap"]), g["real_fill_ratio"],
             g["real_lots"], g["sim_lots"]] for spec, g in gaps.items() if spec != "game_string"]
    writer.table(["strategy", "real PnL/lot [95% CI]", "sim PnL/lot [95% CI]", "gap real - sim [95% CI]",
                  "real fill ratio", "real lots", "sim lots"], rows)


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv)
