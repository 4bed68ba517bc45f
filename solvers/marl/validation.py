"""Learning curves of the multi-agent learners on mpe2 tasks over several seeds, with 95% confidence intervals.

``python -m solvers.marl.validation [--steps N] [--seeds K] [--tasks ...] [--algos ...]`` prints, per task and
learner, the greedy policy's mean episode return (summed over agents, averaged over ``eval_episodes`` fresh
episodes) at each checkpoint of training, as mean and t-based 95% CI over seeds, next to the untrained network
(step 0) and a uniformly random policy.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from marketgames.seeding import as_generator
from solvers.marl.envs import ParallelEnvVector, checked_action_spaces
from solvers.marl.idqn import IndependentDQN, IndependentDQNConfig
from solvers.marl.maddpg import MADDPG, MADDPGConfig
from solvers.stats import mean_halfwidth

__all__ = ["TASKS", "Curve", "evaluate", "learning_curves", "mean_halfwidth"]


def _mpe(name: str, continuous: bool) -> Callable[[], Any]:
    def factory():
        from mpe2 import simple_speaker_listener_v4, simple_spread_v3
        module = {"speaker_listener": simple_speaker_listener_v4, "spread": simple_spread_v3}[name]
        return module.parallel_env(continuous_actions=continuous)
    return factory


#: task name -> PettingZoo factory (mpe2 defaults: 25 steps per episode; spread has 3 agents and local_ratio 0.5)
TASKS: dict[str, Callable[[], Any]] = {
    "speaker_listener": _mpe("speaker_listener", False), "speaker_listener_continuous": _mpe("speaker_listener", True),
    "spread": _mpe("spread", False), "spread_continuous": _mpe("spread", True)}


def evaluate(learner: Any | None, factory: Callable[[], Any], *, episodes: int = 50, seed: int = 10_000
             ) -> np.ndarray:
    """Summed-over-agents return of each of ``episodes`` episodes of the greedy ``learner`` (``None``: uniform
    random actions), run together as one :class:`ParallelEnvVector`."""
    env = ParallelEnvVector(factory, episodes, seed=seed)
    rng = as_generator(seed)
    obs, masks = env.reset()
    total = np.zeros(episodes)
    done = np.zeros(episodes, bool)
    while not done.all():
        if learner is None:
            actions = [rng.integers(0, s.n, episodes) if isinstance(s, spaces.Discrete)
                       else rng.uniform(s.low, s.high, (episodes, *s.shape)).astype(np.float32)
                       for s in checked_action_spaces(env)]
        else:
            actions = learner.act(obs, masks)
        out = env.step(actions)
        total += np.where(done, 0.0, out.rewards.sum(axis=1))
        done |= out.terminated | out.truncated
        obs, masks = out.obs, out.masks
    return total


@dataclasses.dataclass
class Curve:
    """Evaluation returns ``(seeds, len(steps))`` of one learner on one task, and the random policy's returns."""

    task: str
    algo: str
    steps: np.ndarray
    returns: np.ndarray
    random: np.ndarray


def default_config(algo: str, num_envs: int = 8, box_activation: str = "tanh") -> Any:
    """The documented validation budget's settings: 8 env copies and one gradient update per 8 env steps (2,500
    updates in 20,000 env steps); MADDPG otherwise with openai/maddpg's defaults (Adam 1e-2, tau 0.01, gamma
    0.95, clip 0.5) except a 512 batch and 2,000 warm-up transitions; IDQN with its defaults.

    openai/maddpg's one update per 100 env steps is sized for its 60,000-episode (1.5M env step) runs: at 20,000
    env steps it is 200 updates, too few for the continuous actors to move (measured: no gain over the untrained
    network on continuous ``simple_spread_v3``; see docs/marl-validation.md)."""
    if algo == "maddpg":
        return MADDPGConfig(num_envs=num_envs, batch_size=512, min_buffer=2_000, env_steps_per_update=8,
                            box_activation=box_activation)
    return IndependentDQNConfig(num_envs=num_envs, env_steps_per_update=8)


def learning_curves(task: str, algo: str, *, steps: int, seeds: int = 3, points: int = 5,
                    eval_episodes: int = 50, config: Any = None) -> Curve:
    """Train ``seeds`` learners for ``steps`` env steps each, evaluating the greedy policy ``points`` times."""
    factory = TASKS[task]
    learner_cls = {"idqn": IndependentDQN, "maddpg": MADDPG}[algo]
    marks = np.linspace(0, steps, points + 1).astype(int)
    returns = np.zeros((seeds, marks.size))
    for s in range(seeds):
        learner = learner_cls(factory, config or default_config(algo), seed=s)
        for k, mark in enumerate(marks):
            if k:
                learner.train(int(mark - learner.env_steps))
            returns[s, k] = evaluate(learner, factory, episodes=eval_episodes).mean()
    return Curve(task, algo, marks, returns, evaluate(None, factory, episodes=eval_episodes))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--tasks", nargs="+", default=["spread", "speaker_listener", "spread_continuous"])
    parser.add_argument("--algos", nargs="+", default=["idqn", "maddpg"])
    parser.add_argument("--box-activation", choices=["tanh", "softmax"], default="tanh",
                        help="MADDPGConfig.box_activation on the continuous tasks")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = sys.stdout
    rows = []
    for task in args.tasks:
        for algo in args.algos:
            if algo == "idqn" and "continuous" in task:
                continue
            config = default_config(algo, box_activation=args.box_activation) if algo == "maddpg" else None
            curve = learning_curves(task, algo, steps=args.steps, seeds=args.seeds, points=args.points,
                                    config=config)
            r_mean, r_half = mean_halfwidth(curve.random)
            out.write(f"{task} {algo}: random policy {r_mean:.2f} +- {r_half:.2f} (95% CI over episodes)\n")
            mean, half = mean_halfwidth(curve.returns)
            for step, m, h in zip(curve.steps, mean, half):
                out.write(f"  env steps {step:>7d}: {m:8.2f} +- {h:.2f} (95% CI over {args.seeds} seeds)\n")
            out.flush()
            name = f"{algo} ({args.box_activation})" if algo == "maddpg" and "continuous" in task else algo
            rows.append(f"| {task} | {name} | {curve.steps[-1]:,} | {r_mean:.1f} +- {r_half:.1f} | "
                        f"{mean[0]:.1f} +- {half[0]:.1f} | {mean[-1]:.1f} +- {half[-1]:.1f} |")
    out.write("\n| task | learner | env steps | random | untrained | trained |\n|---|---|---|---|---|---|\n")
    out.write("".join(row + "\n" for row in rows))


if __name__ == "__main__":
    main()
