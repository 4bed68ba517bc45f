"""NFSP on Kuhn poker: our batched torch NFSP against OpenSpiel's torch NFSP, timed in the same run.

Both train for the same number of episodes with the same hyper-parameters (OpenSpiel's Kuhn example). Reported:
wall time, exact NashConv of the average policy, and the wall time our NFSP needs to reach OpenSpiel's final
NashConv (the issue's target: at least 5x less).

Run: ``python -m benchmarks.bench_nfsp [--quick] [--episodes N]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyspiel

from solvers.exploitability import build_tree, nash_conv
from solvers.learners.nfsp import NFSP, NFSPConfig


def openspiel_nfsp(episodes: int, eval_every: int, seed: int) -> tuple[float, list[tuple[int, float, float]]]:
    """Train OpenSpiel's NFSP; returns (training seconds, [(episodes, seconds, NashConv)])."""
    import torch
    from open_spiel.python import rl_environment
    from open_spiel.python.pytorch import nfsp

    import random

    random.seed(seed)  # OpenSpiel's agents draw from the global generators
    np.random.seed(seed)
    torch.manual_seed(seed)
    env = rl_environment.Environment("kuhn_poker", players=2)
    size = env.observation_spec()["info_state"][0]
    actions = env.action_spec()["num_actions"]
    agents = [nfsp.NFSP(p, size, actions, [128], int(2e6), 0.1, replay_buffer_capacity=int(2e5),
                        epsilon_decay_duration=int(3e6), epsilon_start=0.06, epsilon_end=0.001, seed=seed)
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


def ours(episodes: int, eval_every: int, seed: int, target: float) -> tuple[float, list[tuple[int, float, float]]]:
    """Train ours for ``episodes`` episodes, and on (up to 3x as many) until its NashConv reaches ``target``."""
    solver = NFSP("kuhn_poker", NFSPConfig(episodes_per_step=eval_every), seed=seed, track_nash_conv=False)
    curve: list[tuple[int, float, float]] = []
    train = 0.0
    while solver.episodes < episodes or (curve[-1][2] > target and solver.episodes < 3 * episodes):
        t0 = time.perf_counter()
        solver.step()
        train += time.perf_counter() - t0
        curve.append((solver.episodes, train, nash_conv(solver.tree, solver.average_table())))
    return train, curve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 episodes")
    parser.add_argument("--episodes", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    episodes = 5_000 if args.quick else args.episodes
    eval_every = 1_000
    theirs_time, theirs = openspiel_nfsp(episodes, eval_every, args.seed)
    target = theirs[-1][2]
    _, mine = ours(episodes, eval_every, args.seed, target)
    same = [point for point in mine if point[0] <= episodes + eval_every // 2]
    our_time = same[-1][1]
    reach_at = next(((e, t) for e, t, nc in mine if nc <= target), (float("nan"), float("nan")))
    reach = reach_at[1]
    print(f"Kuhn poker, {episodes} episodes, NashConv every {eval_every} (training time only)")
    print(f"{'implementation':<24}{'seconds':>10}{'ms/episode':>12}{'final NashConv':>16}")
    print(f"{'OpenSpiel torch NFSP':<24}{theirs_time:>10.2f}{1000 * theirs_time / episodes:>12.3f}{target:>16.4f}")
    print(f"{'marketgames NFSP':<24}{our_time:>10.2f}{1000 * our_time / episodes:>12.3f}{same[-1][2]:>16.4f}")
    print(f"same-episode wall-time ratio: {theirs_time / our_time:.1f}x")
    print(f"time to reach OpenSpiel's final NashConv {target:.4f}: ours {reach:.2f} s ({reach_at[0]} episodes) vs "
          f"theirs {theirs_time:.2f} s -> {theirs_time / reach:.1f}x (target >= 5x)")
    print("curves (episodes: OpenSpiel NashConv / ours):",
          ", ".join(f"{e}: {a:.3f}/{b:.3f}" for (e, _, a), (_, _, b) in zip(theirs, mine)))


if __name__ == "__main__":
    main()
