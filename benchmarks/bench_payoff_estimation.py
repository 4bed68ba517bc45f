"""Payoff-estimation throughput (episodes/s) of an empirical game on kuhn_poker: serial vs a process pool of
1 and 2 workers, timed in the same run (medians of repeats). The scaling ratio is 2-worker throughput over
serial (target >= 1.8x on 2 free cores); "warm" excludes pool start-up, "cold" includes it. Also checks that
all backends give bit-identical payoffs.

Second table: the same estimation on ``python_lob_market`` (2 players, 30 rounds, 3 rule-based trader types,
symmetric) with the default OpenSpiel loop and with the batched engine
(:class:`marketgames.market.payoffs.BatchedMarketSimulator`), serial, episodes/s and the ratio.

Third table: the same with a trained agent (an independent DQN briefly trained on that market, its greedy OpenSpiel
policy) in place of one rule trader: the loop calls its network once per state, the batched engine once per seat
and round on the whole batch (``batch_probabilities``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from solvers.empirical import EmpiricalGame, PreferredActionStrategy, ProcessPoolBackend, SerialBackend, UniformStrategy


def _game(seed: int) -> EmpiricalGame:
    strats = [UniformStrategy(), PreferredActionStrategy([1], name="always_bet"),
              PreferredActionStrategy([0], name="always_pass")]
    return EmpiricalGame("kuhn_poker", [strats, strats], seed=seed)


def _time(backend, episodes_per_cell: int, seed: int) -> tuple[float, np.ndarray]:
    eg = _game(seed)
    cpu = []
    inner = backend.run

    def run(*a, **k):  # record the workers' CPU seconds to tell contention from overhead
        out = inner(*a, **k)
        cpu.append(sum(b.cpu_seconds for b in out))
        return out

    backend.run = run
    start = time.perf_counter()
    try:
        eg.sample(min_samples=episodes_per_cell, batch_size=250, backend=backend)
    finally:
        del backend.run
    wall = time.perf_counter() - start
    _CPU_SHARE.append(sum(cpu) / (wall * backend.workers))
    return wall, eg.payoffs


_CPU_SHARE: list[float] = []


def _market_rate(simulator, episodes_per_cell: int, seed: int, agent=None) -> float:
    """Episodes/s of a symmetric empirical game of 3 strategies: rule traders, the first replaced by
    ``agent(game)`` when given."""
    import pyspiel

    import marketgames  # noqa: F401  (registers python_lob_market)
    from marketgames.market import MarketConfig
    from marketgames.traders import make_trader

    game = pyspiel.load_game(MarketConfig(players=2, steps=30).game_string())
    traders = [make_trader(s, game) for s in ("market_maker(half_spread=1)", "trend", "zi")]
    if agent is not None:
        traders[0] = agent(game)
    eg = EmpiricalGame(game, traders, symmetric=True, seed=seed, simulator=simulator)
    start = time.perf_counter()
    episodes = eg.sample(min_samples=episodes_per_cell, batch_size=episodes_per_cell)
    return episodes / (time.perf_counter() - start)


def market_simulators(quick: bool) -> dict:
    """Episodes/s of payoff estimation on the market: OpenSpiel loop vs the batched engine (serial, medians)."""
    from marketgames.market.payoffs import BatchedMarketSimulator

    repeats = 2 if quick else 3
    loop_cells, batched_cells = (60, 2000) if quick else (200, 8000)
    _market_rate(BatchedMarketSimulator(), 50, 99)  # load the compiled kernels (not timed)
    loop = statistics.median(_market_rate(None, loop_cells, r) for r in range(repeats))
    batched = statistics.median(_market_rate(BatchedMarketSimulator(), batched_cells, r) for r in range(repeats))
    sys.stdout.write(f"\npython_lob_market 2p x 30 rounds, 3 rule traders (6 symmetric cells), serial, median of "
                     f"{repeats}\n")
    sys.stdout.write(f"{'simulator':>12} {'episodes/cell':>13} {'episodes/s':>11} {'vs loop':>8}\n")
    sys.stdout.write(f"{'openspiel':>12} {loop_cells:>13} {loop:>11.0f} {1:>7.2f}x\n")
    sys.stdout.write(f"{'batched':>12} {batched_cells:>13} {batched:>11.0f} {batched / loop:>7.1f}x\n")
    from numba import get_num_threads

    sys.stdout.write(f"(one process each; the batched engine steps its markets on {get_num_threads()} numba "
                     "thread(s), the loop on one)\n")
    return {"openspiel_episodes_per_second": loop, "batched_episodes_per_second": batched, "ratio": batched / loop}


def trained_agent_simulators(quick: bool) -> dict:
    """Episodes/s of payoff estimation with a trained agent (IDQN, greedy) and two rule traders: OpenSpiel loop vs
    the batched engine (serial, medians)."""
    import torch

    from marketgames.market import MarketConfig
    from marketgames.market.payoffs import BatchedMarketSimulator
    from solvers.marl import IndependentDQN, IndependentDQNConfig
    from solvers.rl.dqn import DQNConfig

    dqn = DQNConfig(hidden=(64, 64), batch_size=128, min_buffer=256, replay_capacity=20_000,
                    epsilon_decay_steps=5_000)
    learner = IndependentDQN(MarketConfig(players=2, steps=30).game_string(),
                             IndependentDQNConfig(dqn=dqn, num_envs=64, env_steps_per_update=64), seed=0)
    learner.train(3_840 if quick else 19_200)
    # one torch thread: on 2 shared cores a second one spin-waits against the numba engine (measured ~30x slower
    # forward passes under load); both simulators get the same setting
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def agent(game):
        return learner.policy(game, 0)

    repeats = 2 if quick else 3
    loop_cells, batched_cells = (30, 2000) if quick else (100, 8000)
    _market_rate(BatchedMarketSimulator(), 50, 99, agent)  # load the compiled kernels (not timed)
    loop = statistics.median(_market_rate(None, loop_cells, r, agent) for r in range(repeats))
    batched = statistics.median(_market_rate(BatchedMarketSimulator(), batched_cells, r, agent)
                                for r in range(repeats))
    sys.stdout.write(f"\nthe same market with a trained IDQN agent (64x64 MLP, greedy) and 2 rule traders (6 "
                     f"symmetric cells), serial, median of {repeats}, torch threads {torch.get_num_threads()}\n")
    sys.stdout.write(f"{'simulator':>12} {'episodes/cell':>13} {'episodes/s':>11} {'vs loop':>8}\n")
    sys.stdout.write(f"{'openspiel':>12} {loop_cells:>13} {loop:>11.0f} {1:>7.2f}x\n")
    sys.stdout.write(f"{'batched':>12} {batched_cells:>13} {batched:>11.0f} {batched / loop:>7.1f}x\n")
    torch.set_num_threads(threads)
    return {"openspiel_episodes_per_second": loop, "batched_episodes_per_second": batched, "ratio": batched / loop}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_payoff_estimation", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer episodes and repeats")
    args = parser.parse_args(argv)
    per_cell = 2000 if args.quick else 8000
    repeats = 2 if args.quick else 3
    episodes = 9 * per_cell
    results: dict[str, list[float]] = {"serial": [], "pool1 warm": [], "pool2 warm": [], "pool2 cold": []}
    ref = None
    identical = True
    shares: dict[str, list[float]] = {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with ProcessPoolBackend(1) as pool1, ProcessPoolBackend(2) as pool2:
        _time(pool1, 250, 99)  # start the pools (not timed)
        _time(pool2, 250, 99)
        for r in range(repeats):
            for name, backend in (("serial", SerialBackend()), ("pool1 warm", pool1), ("pool2 warm", pool2)):
                t, pay = _time(backend, per_cell, seed=r)
                results[name].append(t)
                shares.setdefault(name, []).append(_CPU_SHARE[-1])
                if name == "serial":
                    ref = pay
                identical &= bool(np.array_equal(pay, ref))
            with ProcessPoolBackend(2) as cold:
                t, pay = _time(cold, per_cell, seed=r)
            results["pool2 cold"].append(t)
            shares.setdefault("pool2 cold", []).append(_CPU_SHARE[-1])
            identical &= bool(np.array_equal(pay, ref))
    med = {k: statistics.median(v) for k, v in results.items()}
    rate = {k: episodes / v for k, v in med.items()}
    sys.stdout.write(f"kuhn_poker, 3x3 strategies, {episodes} episodes per run, median of {repeats}\n")
    sys.stdout.write(f"load average at start: {load:.2f} on {os.cpu_count()} cores\n")
    sys.stdout.write(f"{'backend':>12} {'seconds':>9} {'episodes/s':>11} {'vs serial':>9} {'CPU share':>9}\n")
    for k in results:
        share = statistics.median(shares[k])
        sys.stdout.write(f"{k:>12} {med[k]:>9.3f} {rate[k]:>11.0f} {rate[k] / rate['serial']:>8.2f}x {share:>9.2f}\n")
    sys.stdout.write("CPU share = worker CPU seconds / (wall seconds x workers): well below 1 means the cores were "
                     "busy with other work, so the scaling ratio is not meaningful in this run\n")
    scaling = rate["pool2 warm"] / rate["serial"]
    sys.stdout.write(f"scaling 2 workers / serial (warm): {scaling:.2f}x (target >= 1.8x); "
                     f"2 workers / 1 worker pool: {rate['pool2 warm'] / rate['pool1 warm']:.2f}x; "
                     f"bit-identical payoffs across backends: {identical}\n")
    market = market_simulators(args.quick)
    trained = trained_agent_simulators(args.quick)
    return {"load_average": load, "cpu_share": {k: statistics.median(v) for k, v in shares.items()},
            "median_seconds": med, "episodes_per_second": rate, "scaling": scaling, "identical": identical,
            "market": market, "trained_agent": trained}


if __name__ == "__main__":
    main()
