"""Env steps per second: the PettingZoo env against :class:`MarketVectorEnv` on
``python_lob_market(players=2,steps=20)``.

``python -m benchmarks.bench_envs [--quick] [--numba-threads N]``. An env step is one market playing one round: every
agent acts, the env returns observations, rewards, terminations and infos (with action masks), and auto-resets (the
vector env) or is reset by the loop (the PettingZoo env) at the end of an episode. Actions are uniformly random, drawn
in bulk before timing. Reported: medians of a few repeats after a warm-up (the batched kernels compile or load their
cache), each vector env's ratio to the PettingZoo env timed in the same run, and the load average (the 2 cores are
shared: a busy machine slows the thread-pool driver most).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from numba import get_num_threads, set_num_threads

from marketgames.envs import LobMarketParallelEnv, MarketVectorEnv

GAME = "python_lob_market(players=2,steps=20)"


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pettingzoo_rate(*, steps: int, repeats: int) -> float:
    """Median env steps/s of ``steps`` random-action steps through :class:`LobMarketParallelEnv`."""
    env = LobMarketParallelEnv(GAME)
    n_actions = env.action_space("trader_0").n
    actions = np.random.default_rng(1).integers(0, n_actions, size=(steps, len(env.possible_agents)))

    def run() -> float:
        env.reset(seed=0)
        start = time.perf_counter()
        for a in actions:
            if not env.agents:
                env.reset()
            env.step({agent: int(x) for agent, x in zip(env.possible_agents, a)})
        return time.perf_counter() - start

    run()
    return steps / float(np.median([run() for _ in range(repeats)]))


def vector_rate(num_envs: int, *, min_env_steps: int, repeats: int) -> tuple[float, float]:
    """Median env steps/s (``num_envs`` per call) of random-action ``step`` calls, and microseconds per call."""
    env = MarketVectorEnv(GAME, num_envs, seed=0)
    calls = max(100, -(-min_env_steps // num_envs))
    rng = np.random.default_rng(2)
    actions = rng.integers(0, env.num_actions, size=(min(calls, 200), num_envs, env.num_agents))

    def run() -> float:
        env.reset()
        start = time.perf_counter()
        for c in range(calls):
            env.step(actions[c % len(actions)])
        return time.perf_counter() - start

    run()  # warm-up: compile or load the kernels' cache
    t = float(np.median([run() for _ in range(repeats)]))
    return calls * num_envs / t, 1e6 * t / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_envs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats (~20 s)")
    parser.add_argument("--numba-threads", type=int, default=None,
                        help="numba threads for the batched engine (default: numba's, usually the core count)")
    args = parser.parse_args(argv)
    if args.numba_threads is not None:
        set_num_threads(args.numba_threads)
    repeats = 3 if args.quick else 5
    pz_steps = 1_000 if args.quick else 4_000
    min_env_steps = 50_000 if args.quick else 400_000
    _out(f"{GAME}; numba threads {get_num_threads()}; {'quick' if args.quick else 'full'} run; median of {repeats} "
         f"repeats; load average at start {os.getloadavg()[0]:.2f}")
    _out()
    _out("env                       env steps/s   us per call   vs PettingZoo env")
    base = pettingzoo_rate(steps=pz_steps, repeats=repeats)
    _out(f"{'PettingZoo ParallelEnv':24s}  {base:12,.0f}   {1e6 / base:11.1f}   {'1.0x':>17}")
    for num_envs in (1, 64, 1024):
        rate, per_call = vector_rate(num_envs, min_env_steps=min_env_steps, repeats=repeats)
        _out(f"{f'MarketVectorEnv B={num_envs}':24s}  {rate:12,.0f}   {per_call:11.1f}   {rate / base:16,.1f}x")
    _out(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
