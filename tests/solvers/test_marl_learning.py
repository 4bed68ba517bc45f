"""Item 5 at a test budget: the learners learn on mpe2 tasks (25-step episodes).

MADDPG on ``simple_speaker_listener_v4`` (3 seeds, 4,000 env steps each): over seeds, the greedy trained policy's
mean return beats both the untrained network's and uniform random actions' with a 95% t-interval of the per-seed
differences above zero (each seed's three policies play the same 32 evaluation episodes). Independent DQN on
``simple_spread_v3``: the trained policy beats the untrained network on the same 64 episodes (paired 95% CI over
episodes). The validation curves (``python -m solvers.marl.validation``, docs/marl-validation.md) run longer."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mpe2 import simple_spread_v3

from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig, MADDPGConfig
from solvers.marl.validation import TASKS, evaluate
from solvers.stats import mean_halfwidth


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
    gain, half = mean_halfwidth(trained - untrained)
    assert gain - half > 0, (trained.mean(), untrained.mean(), random.mean())


@pytest.mark.slow
def test_independent_dqn_learns_cooperative_navigation():
    config = IndependentDQNConfig(num_envs=8, env_steps_per_update=8)
    _check_learns(lambda: IndependentDQN(spread(False), config, seed=0), spread(False), 10_000)


@pytest.mark.slow
def test_maddpg_beats_random_and_untrained_on_speaker_listener_over_seeds():
    factory = TASKS["speaker_listener"]
    config = MADDPGConfig(num_envs=8, batch_size=256, min_buffer=1_000, env_steps_per_update=8)
    seeds = 3
    trained, untrained, random = np.zeros(seeds), np.zeros(seeds), np.zeros(seeds)
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        for s in range(seeds):
            learner = MADDPG(factory, config, seed=s)
            untrained[s] = evaluate(learner, factory, episodes=32, seed=100 + s).mean()
            random[s] = evaluate(None, factory, episodes=32, seed=100 + s).mean()
            learner.train(4_000)
            trained[s] = evaluate(learner, factory, episodes=32, seed=100 + s).mean()
    for baseline in (untrained, random):
        gain, half = mean_halfwidth(trained - baseline)
        assert gain - half > 0, (trained, untrained, random)
