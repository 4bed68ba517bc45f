"""Throughput of one PBT generation (:class:`solvers.population.PBT`) with ``N = 8`` members: serial, a local pool of 2
worker processes, and 2 Ray actors (a local Ray), with the same seed.

``python -m benchmarks.bench_population [--quick] [--repeats R]``. A generation = exploit / explore, every member's
training (``steps`` env steps each, against rule traders and the previous generation's snapshots) and the empirical
game of the members and the rule traders (batched engine). Agent-steps: each training env step is one step of one
learning agent; each evaluation round counts the member seats of the cell's market (rule traders are not counted).
Generation 0 is a warm-up (workers start, import torch and load the compiled market kernels) and is not timed; the
medians are over generations ``1 .. R``. Every task runs with one torch thread and one numba thread (set inside the
task, whichever process runs it), so serial uses one core and 2 workers use two: the ratio measures scaling, not
threads. Results are checked bit-identical across the backends (histories, lineage and payoffs). The 2 cores are
shared with other work: the load average is printed; the issue's target is >= 1.8x on 2 workers.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from solvers.marl import IndependentDQNConfig
from solvers.population import PBT, PBTConfig
from solvers.population.pbt import default_learner

TARGET = 1.8


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def config(quick: bool) -> tuple[str, PBTConfig]:
    rounds, steps, envs, episodes = (5, 2_048, 64, 8) if quick else (20, 20_480, 128, 64)
    base = default_learner()
    learner = IndependentDQNConfig(dqn=base.dqn, num_envs=envs, env_steps_per_update=envs)
    return (f"python_lob_market(players=2,steps={rounds})",
            PBTConfig(population_size=8, steps_per_generation=steps, eval_episodes=episodes, learner=learner))


def eval_agent_steps(run: PBT, rounds: int) -> int:
    """Member seat-rounds of one generation's empirical game."""
    n = run.config.population_size
    return sum(run.config.eval_episodes * rounds * sum(k < n for k in cell) for cell in run.empirical_game().cells())


def measure(backend: str, workers: int, game: str, cfg: PBTConfig, repeats: int) -> dict[str, Any]:
    rounds = int(game.split("steps=")[1].rstrip(")"))
    with PBT(game, cfg, seed=0, backend=backend, workers=workers) as run:
        start = time.perf_counter()
        run.step()  # warm-up
        warm = time.perf_counter() - start
        totals = []
        for _ in range(repeats):
            t = time.perf_counter()
            run.step()
            totals.append(time.perf_counter() - t)
        train = statistics.median(t["train_seconds"] for t in run.timings[1:])
        evaluate = statistics.median(t["eval_seconds"] for t in run.timings[1:])
        agent_steps = cfg.population_size * cfg.steps_per_generation + eval_agent_steps(run, rounds)
        return {"seconds": statistics.median(totals), "train": train, "eval": evaluate, "warm_up": warm,
                "agent_steps": agent_steps, "numbers": (run.history, run.lineage.to_dict())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_population", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5-round episodes, 2,048 env steps per member")
    parser.add_argument("--repeats", type=int, default=None, help="timed generations (default 1 quick, 2 full)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 2)
    game, cfg = config(args.quick)
    _out(f"{game}; N = {cfg.population_size} members x {cfg.steps_per_generation:,} env steps per generation, "
         f"{cfg.learner.num_envs} markets each; {cfg.eval_episodes} episodes per cell of the "
         f"{cfg.population_size + len(cfg.opponents)}-strategy empirical game; one torch thread and one numba "
         f"thread per task; load average before: {os.getloadavg()[0]:.1f}")
    rows = {}
    for label, backend, workers in (("serial", "serial", 1), ("process x2", "process", 2), ("ray x2", "ray", 2)):
        rows[label] = measure(backend, workers, game, cfg, repeats)
    base = rows["serial"]
    _out(f"{'backend':<12} {'gen s':>7} {'agent-steps/s':>14} {'ratio':>6} {'train s':>8} {'eval s':>7} "
         f"{'eval share':>10} {'warm-up s':>9} {'identical':>9}")
    for label, r in rows.items():
        same = r["numbers"] == base["numbers"]
        _out(f"{label:<12} {r['seconds']:>7.2f} {r['agent_steps'] / r['seconds']:>14,.0f} "
             f"{base['seconds'] / r['seconds']:>5.2f}x {r['train']:>8.2f} {r['eval']:>7.2f} "
             f"{r['eval'] / (r['train'] + r['eval']):>10.0%} {r['warm_up']:>9.1f} {str(same):>9}")
    ratio = base["seconds"] / rows["process x2"]["seconds"]
    _out(f"2 local workers: {ratio:.2f}x serial (target >= {TARGET}x: {'met' if ratio >= TARGET else 'not met'}); "
         f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
