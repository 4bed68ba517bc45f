"""Item 5 at a test budget: independent DQN and MADDPG learn on mpe2's cooperative navigation (``simple_spread_v3``,
3 agents, 25-step episodes): on the same 64 evaluation episodes (same seeds, so paired), the greedy trained policy's
return beats the untrained network's with a 95% confidence interval of the paired differences above zero. (At this
budget neither learner beats uniform random actions on this task: see the validation curves, which run longer.)"""
from __future__ import annotations

import pytest
import torch
from mpe2 import simple_spread_v3

from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig, MADDPGConfig
from solvers.marl.validation import evaluate, mean_ci


def spread(continuous: bool):
    return lambda: simple_spread_v3.parallel_env(continuous_actions=continuous)


def _check_learns(make, factory, steps):
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        learner = make()
        untrained = evaluate(learner, factory, episodes=64)
        random = evaluate(None, factory, episodes=64)
        learner.train(steps)
        trained = evaluate(learner, factory, episodes=64)
    gain, half = mean_ci(trained - untrained)
    assert gain - half > 0, (trained.mean(), untrained.mean(), random.mean())


@pytest.mark.slow
def test_independent_dqn_learns_cooperative_navigation():
    config = IndependentDQNConfig(num_envs=8, env_steps_per_update=8)
    _check_learns(lambda: IndependentDQN(spread(False), config, seed=0), spread(False), 10_000)


@pytest.mark.slow
@pytest.mark.parametrize("continuous", [False])
def test_maddpg_learns_cooperative_navigation(continuous):
    config = MADDPGConfig(num_envs=8, batch_size=512, min_buffer=2_000, env_steps_per_update=50)
    _check_learns(lambda: MADDPG(spread(continuous), config, seed=0), spread(continuous), 15_000)
