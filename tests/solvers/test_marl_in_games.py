"""Trained multi-agent learners enter the game-theoretic tools like any other strategy: an empirical game next to
rule traders, and PSRO's initial population (issue 10, item 4)."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest
import torch

import marketgames
from marketgames.traders import make_trader
from solvers.empirical import EmpiricalGame
from solvers.exploitability import build_tree, nash_conv, policy_values
from solvers.exploitability.exact import policy_table
from solvers.learners import PSRO
from solvers.marl import IndependentDQN, IndependentDQNConfig
from solvers.rl.dqn import DQNConfig


@pytest.fixture(scope="module")
def tiny_agent():
    config = IndependentDQNConfig(num_envs=64, env_steps_per_update=64,
                                  dqn=DQNConfig(hidden=(16,), batch_size=64, min_buffer=128, replay_capacity=4096,
                                                epsilon_decay_steps=2000))
    agent = IndependentDQN(marketgames.TINY_GAME, config, seed=0)
    agent.train(3_000)
    game = pyspiel.load_game(marketgames.TINY_GAME)
    return game, [agent.policy(game, p) for p in range(game.num_players())]


def test_trained_agents_start_psro_and_their_meta_game_is_exact(tiny_agent):
    game, policies = tiny_agent
    tree = build_tree(game)
    psro = PSRO(tree, meta_solver="nash", initial_population=[[policies[0]], [policies[1]]])
    joint = np.empty(tree.legal_mask.shape)
    for p, pol in enumerate(policies):
        rows = tree.infoset_player == p
        joint[rows] = policy_table(tree, pol, player=p)[rows]
    np.testing.assert_allclose(psro.meta_game[:, 0, 0], policy_values(tree, joint))
    start = nash_conv(tree, joint)
    for _ in range(3):
        metrics = psro.step()
    assert metrics["population"] == [4, 4]
    assert metrics["nash_conv"] < start  # PSRO improves on the trained agents it started from


def test_initial_population_is_checked_before_anything_is_built(tiny_agent):
    game, policies = tiny_agent
    with pytest.raises(ValueError, match="initial_population=.*one non-empty list of strategies per player"):
        PSRO(game, initial_population=[[policies[0]]])
    with pytest.raises(TypeError, match=r"initial_population\[1\]\[0\]"):
        PSRO(game, initial_population=[[policies[0]], ["trend"]])


def test_trained_agents_enter_an_empirical_game_with_rule_traders(tiny_agent):
    game, policies = tiny_agent
    rules = [make_trader("noise", game, player_ids=[p]) for p in range(2)]
    egame = EmpiricalGame(game, [[policies[0], rules[0]], [policies[1], rules[1]]],
                          names=[["idqn", "noise"], ["idqn", "noise"]], seed=0)
    egame.sample(min_samples=200, batch_size=200)
    # the (learner, learner) cell is the exact value of the two greedy policies, up to sampling error
    tree = build_tree(game)
    joint = np.empty(tree.legal_mask.shape)
    for p, pol in enumerate(policies):
        rows = tree.infoset_player == p
        joint[rows] = policy_table(tree, pol, player=p)[rows]
    exact = policy_values(tree, joint)
    mean = egame.payoffs[(slice(None), 0, 0)]
    half = egame.ci_high[(slice(None), 0, 0)] - mean
    assert np.all(np.abs(mean - exact) <= 2 * half + 1e-9), (mean, exact, half)


def test_a_policy_is_a_picklable_snapshot_that_later_training_leaves_unchanged():
    import pickle

    config = IndependentDQNConfig(num_envs=32, env_steps_per_update=32,
                                  dqn=DQNConfig(hidden=(16,), batch_size=32, min_buffer=64, replay_capacity=2048,
                                                learning_rate=1e-2))
    agent = IndependentDQN(marketgames.TINY_GAME, config, seed=1)
    agent.train(500)
    game = pyspiel.load_game(marketgames.TINY_GAME)
    tree = build_tree(game)
    before = agent.policy(game, 0)
    table = policy_table(tree, before, player=0)
    clone = pickle.loads(pickle.dumps(before))  # process-pool and Ray workers receive policies this way
    np.testing.assert_array_equal(policy_table(tree, clone, player=0), table)
    agent.train(3_000)
    np.testing.assert_array_equal(policy_table(tree, before, player=0), table)  # a snapshot: unchanged
    after = agent.policy(game, 0)
    assert not all(torch.equal(a, b) for a, b in zip(before.scores.network.state_dict().values(),
                                                     after.scores.network.state_dict().values()))
