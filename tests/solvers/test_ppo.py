"""PPO (Schulman et al. 2017) as a best-response oracle: its rollout bookkeeping, what it learns on Kuhn poker, and
its use in approximate exploitability (Timbers et al. 2020) and learned PSRO."""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pyspiel
import pytest
import torch
from open_spiel.python import policy
from open_spiel.python.algorithms import best_response, expected_game_score

from solvers.checkpoint import CheckpointError
from solvers.exploitability import BestResponseConfig, approximate_exploitability, learn_best_response, nash_conv
from solvers.learners import GreedyPolicy, LearnedPSRO
from solvers.rl import PPO, PPOConfig
from solvers.rl.ppo import Rollout


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The networks are tiny: on a shared 2-core machine torch's intra-op threads only spin. Restored after each
    test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _dirichlet_policy(game: pyspiel.Game, seed: int) -> policy.TabularPolicy:
    """A fixed random behaviour policy: its best response is less obvious than the uniform policy's."""
    table = policy.TabularPolicy(game)
    rng = np.random.default_rng(seed)
    for row, mask in enumerate(table.legal_actions_mask.astype(bool)):
        table.action_probability_array[row] = 0.0
        table.action_probability_array[row, mask] = rng.dirichlet(np.full(mask.sum(), 0.5))
    return table


def test_gae_follows_each_episodes_own_decisions():
    """Two interleaved episodes: rewards go to the open decision of their episode, GAE chains within an episode,
    stops at its end, and bootstraps from a successor that is still open (which is carried to the next rollout)."""
    rollout = Rollout(num_envs=2, obs_size=1, num_actions=2, capacity=1)  # capacity 1: exercises growth
    legal = np.ones((2, 2), bool)
    rollout.add(np.array([0, 1]), np.array([[0.0], [1.0]]), legal, np.array([0, 1]), np.log([0.5, 0.5]))
    rollout.observe(np.array([0.5, 0.0]), np.array([False, False]))
    rollout.add(np.array([0]), np.array([[2.0]]), legal[:1], np.array([1]), np.log([0.25]))
    rollout.observe(np.array([1.0, 2.0]), np.array([True, False]))  # episode 0 ends, 1 goes on
    rollout.add(np.array([0, 1]), np.array([[3.0], [4.0]]), legal, np.array([0, 0]), np.log([0.5, 0.5]))
    rollout.observe(np.array([0.0, 0.0]), np.array([False, False]))
    assert rollout.size == 5 and rollout.num_complete == 3
    values, gamma, lam = np.array([0.1, 0.2, 0.3, 0.4, 0.5]), 0.9, 0.8
    adv, closed = rollout.advantages(values, gamma, lam)
    np.testing.assert_array_equal(closed, [True, True, True, False, False])
    a2 = 1.0 - 0.3
    a0 = 0.5 + gamma * 0.3 - 0.1 + gamma * lam * a2
    a1 = 2.0 + gamma * 0.5 - 0.2  # successor (entry 4) still open: bootstrap, no lambda tail
    np.testing.assert_allclose(adv[:3], [a0, a1, a2])
    rollout.carry_over()
    assert rollout.size == 2 and rollout.num_complete == 0
    np.testing.assert_array_equal(rollout.obs[:2, 0], [3.0, 4.0])
    rollout.observe(np.array([-1.0, 0.0]), np.array([True, False]))
    assert rollout.reward[0] == -1.0 and rollout.done[0] and rollout.num_complete == 1


def test_masked_actions_and_the_two_policies():
    agent = PPO(3, 4, PPOConfig(hidden=(8,)), seed=0)
    obs = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    legal = np.zeros((200, 4), bool)
    legal[:, 1] = True
    legal[::2, 3] = True
    probs = agent.probabilities(obs, legal)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert (probs[~legal] == 0).all()
    sampled = agent.act(obs, legal)
    assert legal[np.arange(200), sampled].all()
    assert set(sampled[::2]) == {1, 3}  # near-uniform initial actor: both legal actions get sampled
    greedy = agent.act(obs, legal, explore=False)
    np.testing.assert_array_equal(greedy, np.argmax(np.where(legal, probs, -1), axis=1))


@pytest.mark.parametrize("player", [0, 1])
def test_ppo_learns_the_exact_best_response_on_kuhn(player):
    """Against a fixed random policy, the greedy PPO response's exact value is within 0.02 of the exact best
    response's (the next-best pure responses are 0.07 to 0.66 worse)."""
    game = pyspiel.load_game("kuhn_poker")
    fixed = _dirichlet_policy(game, 123)
    root = game.new_initial_state()
    target = best_response.BestResponsePolicy(game, player, fixed).value(root)
    config = BestResponseConfig(train_episodes=6000, oracle="ppo")
    learner = learn_best_response(game, fixed, player, config, seed=0)
    assert isinstance(learner, PPO) and learner.updates > 5
    response = GreedyPolicy(game, learner.actor, player)
    seats = [fixed, fixed]
    seats[player] = response
    value = expected_game_score.policy_value(root, seats)[player]
    own = expected_game_score.policy_value(root, [fixed, fixed])[player]
    assert target - 0.02 <= value <= target + 1e-9
    assert value > own + 0.25  # it is a real improvement over the policy's own value
    clone = pickle.loads(pickle.dumps(response))  # policies travel to simulation workers
    state = root.child(0).child(1)
    if player == 1:
        state = state.child(1)
    assert clone.action_probabilities(state) == response.action_probabilities(state)


def test_ppo_approximate_exploitability_matches_kuhn_uniform_nash_conv():
    game = pyspiel.load_game("kuhn_poker")
    uniform = policy.UniformRandomPolicy(game)
    config = BestResponseConfig(train_episodes=4000, eval_episodes=4000, oracle="ppo")
    result = approximate_exploitability(game, uniform, config=config, seed=0)
    exact = nash_conv(game, uniform)  # 11/12
    low, high = result.nash_conv_ci
    assert low <= exact <= high
    assert result.nash_conv > 0.9 * exact
    assert high - low < 0.25


def test_same_seed_same_numbers_and_no_global_rng():
    game = pyspiel.load_game("kuhn_poker")
    uniform = policy.UniformRandomPolicy(game)
    config = BestResponseConfig(train_episodes=600, eval_episodes=300, num_envs=8, oracle="ppo",
                                ppo=PPOConfig(rollout_steps=64))
    torch.manual_seed(1)
    a = approximate_exploitability(game, uniform, config=config, players=[1], seed=3)
    torch.manual_seed(2)  # the global torch RNG must not matter...
    before = torch.random.get_rng_state()
    b = approximate_exploitability(game, uniform, config=config, players=[1], seed=3)
    assert torch.equal(before, torch.random.get_rng_state())  # ...nor be touched
    assert a.nash_conv == b.nash_conv and a.nash_conv_ci == b.nash_conv_ci
    nets = [learn_best_response(game, uniform, 1, config, seed=s).actor.state_dict() for s in (3, 3, 4)]
    assert all(torch.equal(nets[0][k], nets[1][k]) for k in nets[0])
    assert not all(torch.equal(nets[0][k], nets[2][k]) for k in nets[0])


def test_learned_psro_with_ppo_oracle_lowers_kuhn_nash_conv():
    config = BestResponseConfig(train_episodes=2500, eval_episodes=200)
    solver = LearnedPSRO("kuhn_poker", br_config=config, oracle="ppo", samples_per_cell=150, seed=0)
    assert solver.oracle == "ppo" and config.oracle == "dqn"  # the caller's config is not modified
    curve = [solver.step()["nash_conv"] for _ in range(2)]
    assert curve[-1] <= curve[0] + 1e-9
    assert curve[-1] < 0.75 * 11 / 12
    assert all(isinstance(pi, GreedyPolicy) for pi in solver.population[0][1:])


def test_ppo_checkpoint_round_trip(tmp_path):
    config = BestResponseConfig(train_episodes=400, eval_episodes=50, num_envs=8, oracle="ppo",
                                ppo=PPOConfig(hidden=(16,), rollout_steps=64))
    a = LearnedPSRO("kuhn_poker", br_config=config, samples_per_cell=20, meta_solver="uniform", seed=2)
    a.step()
    b = LearnedPSRO.load(a.save(tmp_path / "ppo.pt"))
    assert b.oracle == "ppo" and b.br_config == a.br_config
    ma, mb = a.step(), b.step()
    np.testing.assert_array_equal(ma["meta_game"], mb["meta_game"])
    assert ma["nash_conv"] == mb["nash_conv"]


def test_checkpoint_in_the_old_torch_format_is_refused(tmp_path):
    """Checkpoints written before solvers.checkpoint (a bare ``torch.save`` of the state, with or without the PPO
    oracle's settings) have no content hash, so they are refused instead of loaded unchecked."""
    state = {"format": 1, "game": "kuhn_poker", "br_config": {"train_episodes": 200}}
    torch.save(state, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="is not a marketgames checkpoint"):
        LearnedPSRO.load(tmp_path / "old.pt")


@pytest.mark.parametrize("name, value", [("clip", 0.0), ("gamma", 1.5), ("gae_lambda", -0.1), ("learning_rate", 0.0),
                                         ("num_minibatches", 0), ("update_epochs", 0), ("rollout_steps", 0),
                                         ("hidden", (0,)), ("max_grad_norm", 0.0), ("entropy_coef", -1.0),
                                         ("value_coef", -1.0), ("target_kl", 0.0), ("optimizer", "rmsprop")])
def test_bad_ppo_settings_are_named(name, value):
    with pytest.raises(ValueError, match=f"^{name}="):
        PPOConfig(**{name: value})
    with pytest.raises(ValueError, match=f"^{name}="):  # also through dataclasses.replace
        dataclasses.replace(PPOConfig(), **{name: value})


def test_bad_oracle_is_named_with_the_choices():
    with pytest.raises(ValueError, match=r"oracle='sac' is not allowed: expected one of \['dqn', 'ppo'\]"):
        BestResponseConfig(oracle="sac")
    with pytest.raises(ValueError, match=r"oracle='sac' is not allowed: expected one of \['dqn', 'ppo'\]"):
        LearnedPSRO("kuhn_poker", oracle="sac")
