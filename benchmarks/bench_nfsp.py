"""NFSP on Kuhn poker: our batched torch NFSP against OpenSpiel's torch NFSP, timed in the same run.

Runs, all for the same number of episodes, NashConv of the average policy (exact) every ``eval_every`` episodes:

- OpenSpiel's NFSP and ours with OpenSpiel's Kuhn example settings (SGD 1e-2, learning from 1,000 samples): the
  same algorithm and settings, so the per-episode wall-time ratio measures the implementation;
- ours with :meth:`solvers.learners.NFSPConfig.tuned` (Adam 3e-3, learning from 256 samples), and (full run, or
  ``--tuned-openspiel``) OpenSpiel's NFSP with the same tuned settings, so the settings' own gain is visible.

Headline (the issue's target, >= 5x): the training wall time our tuned NFSP needs to reach the NashConv that
OpenSpiel's NFSP (its example settings) has at the end, against OpenSpiel's training time. Both use
``--torch-threads`` intra-op threads (default 1: the networks are tiny and extra threads only spin on 2 shared
cores). Evaluation time is excluded.

Run: ``python -m benchmarks.bench_nfsp [--quick] [--episodes N] [--tuned-openspiel]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyspiel

from solvers.exploitability import build_tree, nash_conv
from solvers.learners.nfsp import NFSP, NFSPConfig


def openspiel_nfsp(episodes: int, eval_every: int, seed: int, *, tuned: bool = False
                   ) -> tuple[float, list[tuple[int, float, float]]]:
    """Train OpenSpiel's NFSP; returns (training seconds, [(episodes, seconds, NashConv)])."""
    import random

    import torch
    from open_spiel.python import rl_environment
    from open_spiel.python.pytorch import nfsp

    random.seed(seed)  # OpenSpiel's agents draw from the global generators
    np.random.seed(seed)
    torch.manual_seed(seed)
    env = rl_environment.Environment("kuhn_poker", players=2)
    size = env.observation_spec()["info_state"][0]
    actions = env.action_spec()["num_actions"]
    settings = (dict(optimizer_str="adam", rl_learning_rate=3e-3, sl_learning_rate=3e-3, min_buffer_size_to_learn=256)
                if tuned else {})
    agents = [nfsp.NFSP(p, size, actions, [128], int(2e6), 0.1, replay_buffer_capacity=int(2e5),
                        epsilon_decay_duration=int(3e6), epsilon_start=0.06, epsilon_end=0.001, seed=seed,
                        **settings)
              for p in range(2)]
    tree = build_tree(pyspiel.load_game("kuhn_poker"))
    curve, train = [], 0.0
    for start in range(0, episodes, eval_every):
        t0 = time.perf_counter()
        for _ in range(min(eval_every, episodes - start)):
            step = env.reset()
            while not step.last():
                p = step.observations["current_player"]
                step = env.step([agents[p].step(step).action])
            for agent in agents:
                agent.step(step)
        train += time.perf_counter() - t0
        table = np.zeros(tree.legal_mask.shape)
        for j, state in enumerate(tree.infoset_state):
            p = int(tree.infoset_player[j])
            obs = {"info_state": [None, None], "legal_actions": [None, None], "current_player": p}
            obs["info_state"][p] = state.information_state_tensor(p)
            obs["legal_actions"][p] = state.legal_actions(p)
            with agents[p].temp_mode_as(nfsp.MODE.AVERAGE_POLICY):
                table[j] = agents[p].step(rl_environment.TimeStep(obs, None, None, None), is_evaluation=True).probs
        curve.append((start + eval_every, train, nash_conv(tree, table)))
    return train, curve


def ours(config: NFSPConfig, episodes: int, seed: int, target: float) -> tuple[float, list[tuple[int, float, float]]]:
    """Train ours for ``episodes`` episodes, and on (up to 3x as many) until its NashConv reaches ``target``.
    Returns (training seconds for ``episodes`` episodes, [(episodes, seconds, NashConv)])."""
    solver = NFSP("kuhn_poker", config, seed=seed, track_nash_conv=False)
    curve: list[tuple[int, float, float]] = []
    train, at_budget = 0.0, float("nan")
    while solver.episodes < episodes or (curve[-1][2] > target and solver.episodes < 3 * episodes):
        t0 = time.perf_counter()
        solver.step()
        train += time.perf_counter() - t0
        curve.append((solver.episodes, train, nash_conv(solver.tree, solver.average_table())))
        if solver.episodes <= episodes + config.episodes_per_step // 2:
            at_budget = train
    return at_budget, curve


def _reach(curve: list[tuple[int, float, float]], target: float) -> tuple[float, float]:
    """(episodes, seconds) of the first evaluation at or below ``target`` (NaN if never)."""
    return next(((e, t) for e, t, nc in curve if nc <= target), (float("nan"), float("nan")))


def _final(curve: list[tuple[int, float, float]], episodes: int) -> float:
    return [nc for e, _, nc in curve if e <= episodes + 500][-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12,000 episodes, no tuned OpenSpiel run")
    parser.add_argument("--episodes", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tuned-openspiel", action="store_true",
                        help="also run OpenSpiel's NFSP with the tuned settings (always in the full run)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads for both implementations (default 1: the networks are tiny "
                             "and extra threads only spin on a shared 2-core machine)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    episodes = 12_000 if args.quick else args.episodes
    eval_every = 1_000
    rows = []
    theirs_time, theirs = openspiel_nfsp(episodes, eval_every, args.seed)
    target = theirs[-1][2]
    rows.append(("OpenSpiel NFSP, example", theirs_time, theirs))
    same_time, same = ours(NFSPConfig(episodes_per_step=eval_every), episodes, args.seed, target)
    rows.append(("ours, example", same_time, same))
    tuned_time, tuned = ours(NFSPConfig.tuned(episodes_per_step=eval_every), episodes, args.seed, target)
    rows.append(("ours, tuned", tuned_time, tuned))
    if args.tuned_openspiel or not args.quick:
        os_tuned_time, os_tuned = openspiel_nfsp(episodes, eval_every, args.seed, tuned=True)
        rows.append(("OpenSpiel NFSP, tuned", os_tuned_time, os_tuned))
    print(f"Kuhn poker, {episodes} episodes, NashConv every {eval_every} (training time only, "
          f"torch threads {args.torch_threads})")
    print(f"{'run':<26}{'seconds':>9}{'ms/episode':>12}{'final NashConv':>16}{'reach ' + format(target, '.3f'):>22}"
          f"{'speed-up':>10}")
    for name, seconds, curve in rows:
        reach_episodes, reach_seconds = _reach(curve, target)
        print(f"{name:<26}{seconds:>9.2f}{1000 * seconds / episodes:>12.3f}{_final(curve, episodes):>16.4f}"
              f"{reach_seconds:>12.2f} s @{reach_episodes:>7}{theirs_time / reach_seconds:>9.1f}x")
    print(f"same settings, same episodes: ours {theirs_time / same_time:.1f}x faster per episode")
    print(f"headline: our tuned NFSP reaches OpenSpiel's final NashConv {target:.4f} in "
          f"{_reach(tuned, target)[1]:.2f} s vs OpenSpiel's {theirs_time:.2f} s -> "
          f"{theirs_time / _reach(tuned, target)[1]:.1f}x (target >= 5x)")
    for name, _, curve in rows:
        print(f"curve {name}: " + ", ".join(f"{e}:{nc:.3f}" for e, _, nc in curve[::max(1, len(curve) // 10)]))


if __name__ == "__main__":
    main()
