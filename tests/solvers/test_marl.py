"""solvers.marl: the vector multi-agent interface, its adapters, and the learners' contract."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest
import torch
from gymnasium import spaces
from mpe2 import simple_speaker_listener_v4, simple_spread_v3
from pettingzoo import ParallelEnv

from marketgames.envs import lob_market_parallel_env
from solvers.checkpoint import CheckpointError
from solvers.marl import (
    MADDPG,
    IndependentDQN,
    IndependentDQNConfig,
    MADDPGConfig,
    MarketVectorAdapter,
    MultiAgentVectorEnv,
    ParallelEnvVector,
)
from solvers.rl.dqn import DQNConfig

MARKET = "python_lob_market(players=2,steps=5)"


def speaker_listener(max_cycles=5, continuous=False):
    return lambda: simple_speaker_listener_v4.parallel_env(max_cycles=max_cycles, continuous_actions=continuous)


def small_idqn(**kw):
    dqn = DQNConfig(hidden=(16,), learning_rate=1e-3, batch_size=16, replay_capacity=500, min_buffer=16,
                    target_update_every=5, epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=200,
                    discount=0.9, optimizer="adam")
    return IndependentDQNConfig(**{"dqn": dqn, "num_envs": 2, "env_steps_per_update": 2, **kw})


def small_maddpg(**kw):
    return MADDPGConfig(**{"actor_hidden": (16,), "critic_hidden": (16,), "batch_size": 16, "min_buffer": 16,
                           "replay_capacity": 500, "env_steps_per_update": 4, "num_envs": 2, **kw})


class MaskedToy(ParallelEnv):
    """Two agents, 4 actions, 3 steps; only actions ``{t % 4, (t + 1) % 4}`` are legal at step ``t``, given in
    ``infos[agent]["action_mask"]`` or (``dict_obs``) in a ``Dict`` observation. Illegal actions raise."""

    metadata = {"name": "masked_toy"}

    def __init__(self, dict_obs=False):
        self.possible_agents = ["a", "b"]
        self.dict_obs = dict_obs
        box = spaces.Box(-1, 10, (2,), np.float32)
        self._obs_space = spaces.Dict({"observation": box, "action_mask": spaces.MultiBinary(4)}) if dict_obs else box

    def observation_space(self, agent):
        return self._obs_space

    def action_space(self, agent):
        return spaces.Discrete(4)

    def _mask(self):
        m = np.zeros(4, np.int8)
        m[[self.t % 4, (self.t + 1) % 4]] = 1
        return m

    def _out(self):
        obs = np.array([self.t, 1.0], np.float32)
        if self.dict_obs:
            return {a: {"observation": obs, "action_mask": self._mask()} for a in self.agents}, {a: {} for a in
                                                                                                 self.agents}
        return {a: obs for a in self.agents}, {a: {"action_mask": self._mask()} for a in self.agents}

    def reset(self, seed=None, options=None):
        self.t = 0
        self.agents = list(self.possible_agents)
        return self._out()

    def step(self, actions):
        mask = self._mask()
        for act in actions.values():
            if not mask[act]:
                raise ValueError(f"illegal action {act} at step {self.t}")
        self.t += 1
        done = self.t == 3
        obs, infos = self._out()
        rewards = {a: float(actions[a] == self.t % 4) for a in self.agents}
        terms = {a: done for a in self.agents}
        truncs = {a: False for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos


class FakeMarketVectorEnv:
    """The MarketVectorEnv interface (B markets of ``length`` rounds, n traders) with trivial dynamics."""

    def __init__(self, num_envs=4, num_agents=2, obs_dim=3, num_actions=5, length=4, seed=0):
        self.num_envs, self.num_agents, self.obs_dim, self.num_actions = num_envs, num_agents, obs_dim, num_actions
        self.agents = [f"trader_{i}" for i in range(num_agents)]
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.single_action_space = spaces.Discrete(num_actions)
        self.length = length
        self.rng = np.random.default_rng(seed)

    def _obs(self):
        obs = np.zeros((self.num_envs, self.num_agents, self.obs_dim), np.float32)
        obs[..., 0] = self.t[:, None]
        obs[..., 1] = self.signal
        return obs

    def _mask(self):
        mask = np.ones((self.num_envs, self.num_agents, self.num_actions), bool)
        mask[..., -1] = False  # the last action is never legal
        return mask

    def reset(self, seed=None):
        self.t = np.zeros(self.num_envs, np.int64)
        self.signal = self.rng.integers(0, self.num_actions - 1, (self.num_envs, self.num_agents)).astype(np.float32)
        self.returns = np.zeros((self.num_envs, self.num_agents))
        return self._obs(), {"action_mask": self._mask()}

    def step(self, actions):
        assert actions.shape == (self.num_envs, self.num_agents)
        assert not (actions == self.num_actions - 1).any(), "illegal action"
        rewards = (actions == self.signal).astype(np.float32)
        self.returns += rewards
        self.t += 1
        terminated = self.t == self.length
        final = self._obs()
        episode_return = np.where(terminated[:, None], self.returns, np.nan)
        ended = np.flatnonzero(terminated)
        self.t[ended] = 0
        self.signal[ended] = self.rng.integers(0, self.num_actions - 1, (ended.size, self.num_agents))
        self.returns[ended] = 0.0
        info = {"final_observation": final, "episode_return": episode_return, "action_mask": self._mask()}
        return self._obs(), rewards, terminated, np.zeros(self.num_envs, bool), info


# ---------------------------------------------------------------------- adapters
def test_parallel_adapter_heterogeneous_spaces_and_auto_reset():
    env = ParallelEnvVector(speaker_listener(max_cycles=5), 3, seed=0)
    assert env.obs_dims == [3, 11] and [s.n for s in env.action_spaces] == [3, 5]
    obs, masks = env.reset()
    assert [o.shape for o in obs] == [(3, 3), (3, 11)] and [m.shape for m in masks] == [(3, 3), (3, 5)]
    for t in range(5):
        out = env.step([np.zeros(3, np.int64), np.zeros(3, np.int64)])
        assert out.rewards.shape == (3, 2)
        ended = out.truncated
        assert ended.all() == (t == 4) and not out.terminated.any()
        assert np.isnan(out.episode_returns).all() == (t < 4)
    assert np.isfinite(out.episode_returns).all()
    # the ended episodes' last observations differ from the new episodes' first ones (landmarks are redrawn)
    assert not np.allclose(out.final_obs[1], out.obs[1])


def test_parallel_adapter_seeds_each_copy_from_one_seed():
    def run(num_envs, seed):
        env = ParallelEnvVector(speaker_listener(), num_envs, seed=seed)
        first = [env.reset()[0][1][0].copy()]
        for _ in range(7):  # past one auto-reset
            first.append(env.step([np.ones(num_envs, np.int64)] * 2).obs[1][0].copy())
        return np.array(first)
    assert np.array_equal(run(1, 3), run(3, 3))  # copy 0 does not depend on how many copies run
    assert not np.array_equal(run(1, 3), run(1, 4))


@pytest.mark.parametrize("dict_obs", [False, True])
@pytest.mark.parametrize("learner", ["idqn", "maddpg"])
def test_learners_act_legally_with_masks_from_infos_or_dict_obs(dict_obs, learner):
    factory = lambda: MaskedToy(dict_obs=dict_obs)
    if learner == "idqn":
        agent = IndependentDQN(factory, small_idqn(), seed=0)
    else:
        agent = MADDPG(factory, small_maddpg(), seed=0)
    log = agent.train(60)  # MaskedToy raises on an illegal action
    assert log.episode_returns.shape == (20, 2) and agent.env_steps == 60
    env = ParallelEnvVector(factory, 2, seed=1)
    obs, masks = env.reset()
    assert masks[0][0].tolist() == [True, True, False, False]
    for explore in (False, True):
        actions = agent.act(obs, masks, explore=explore)
        assert all(m[np.arange(2), a].all() for a, m in zip(actions, masks))


def test_market_adapter_views_and_final_observations():
    fake = FakeMarketVectorEnv(num_envs=3, length=2)
    env = MarketVectorAdapter(fake)
    obs, masks = env.reset()
    assert [o.shape for o in obs] == [(3, 3), (3, 3)] and env.agents == ["trader_0", "trader_1"]
    out = env.step([np.zeros(3, np.int64)] * 2)
    out = env.step([np.zeros(3, np.int64)] * 2)
    assert out.terminated.all() and np.isfinite(out.episode_returns).all()
    assert (out.final_obs[0][:, 0] == 2).all() and (out.obs[0][:, 0] == 0).all()
    assert not out.masks[0][:, -1].any()
    with pytest.raises(ValueError, match="shape"):
        env.step([np.zeros(2, np.int64)] * 2)


def test_market_adapter_observations_are_views():
    fake = FakeMarketVectorEnv(num_envs=3)
    captured = {}
    reset = fake.reset

    def spy(seed=None):
        obs, info = reset(seed)
        captured["obs"] = obs
        return obs, info
    fake.reset = spy
    obs, _ = MarketVectorAdapter(fake).reset()
    assert all(np.shares_memory(o, captured["obs"]) for o in obs)


@pytest.mark.parametrize("learner", ["idqn", "idqn_shared", "maddpg"])
def test_learners_train_on_the_market_vector_interface(learner):
    fake = FakeMarketVectorEnv(num_envs=4)
    if learner == "maddpg":
        agent = MADDPG(fake, small_maddpg(), seed=0)
    else:
        agent = IndependentDQN(fake, small_idqn(share_parameters=learner == "idqn_shared"), seed=0)
    log = agent.train(192)  # the fake asserts every action is legal
    assert log.episode_returns.shape == (48, 2) and (log.episode_end_steps % 16 == 0).all()
    assert log.loss_steps.size > 0 and all(v.shape == (log.loss_steps.size, 2) for v in log.losses.values())


# ---------------------------------------------------------------------- contract
def _run_resumed(make, a, b, tmp_path):
    whole = make()
    log = whole.train(a + b)
    first = make()
    log_a = first.train(a)
    first.save(tmp_path / "ckpt.zip")
    resumed = make()
    resumed.load(tmp_path / "ckpt.zip")
    log_b = resumed.train(b)
    return whole, log, resumed, log_a, log_b


@pytest.mark.parametrize("case", ["idqn", "idqn_shared", "maddpg", "maddpg_continuous", "maddpg_softmax"])
def test_train_save_load_train_equals_uninterrupted_training(case, tmp_path):
    if case.startswith("idqn"):
        make = lambda: IndependentDQN(lambda: lob_market_parallel_env(MARKET),
                                      small_idqn(share_parameters=case == "idqn_shared"), seed=5)
    else:
        make = lambda: MADDPG(speaker_listener(continuous=case != "maddpg"),
                              small_maddpg(box_activation="softmax" if case.endswith("softmax") else "tanh"), seed=5)
    # episodes have 5 steps and 2 copies: 40 env steps end every episode
    whole, log, resumed, log_a, log_b = _run_resumed(make, 40, 60, tmp_path)
    assert log_a.loss_steps.size > 0 and log_b.loss_steps.size > 0
    assert np.array_equal(log.episode_returns, np.concatenate([log_a.episode_returns, log_b.episode_returns]))
    assert np.array_equal(log.episode_end_steps, np.concatenate([log_a.episode_end_steps, log_b.episode_end_steps]))
    for name, values in log.losses.items():
        assert np.allclose(values, np.concatenate([log_a.losses[name], log_b.losses[name]]), equal_nan=True,
                           rtol=0, atol=0)
    obs = [np.random.default_rng(0).normal(size=(8, d)).astype(np.float32) for d in whole.env.obs_dims]
    for x, y in zip(whole.act(obs), resumed.act(obs)):
        assert np.array_equal(x, y)


def test_load_refuses_other_kinds_and_other_agents(tmp_path):
    agent = IndependentDQN(lambda: lob_market_parallel_env(MARKET), small_idqn(), seed=0)
    agent.save(tmp_path / "idqn.zip")
    with pytest.raises(CheckpointError, match="IndependentDQN"):
        MADDPG(lambda: lob_market_parallel_env(MARKET), small_maddpg(), seed=0).load(tmp_path / "idqn.zip")
    with pytest.raises(ValueError, match="agents"):
        IndependentDQN(speaker_listener(), small_idqn(), seed=0).load(tmp_path / "idqn.zip")


@pytest.mark.parametrize("learner", ["idqn", "maddpg"])
def test_policy_is_greedy_on_the_openspiel_observation_which_equals_the_env_observation(learner):
    game = pyspiel.load_game(MARKET)
    factory = lambda: lob_market_parallel_env(game)
    agent = (IndependentDQN(factory, small_idqn(), seed=0) if learner == "idqn"
             else MADDPG(factory, small_maddpg(), seed=0))
    agent.train(40)
    policies = [agent.policy(game, "trader_0"), agent.policy(game, 1)]
    env = lob_market_parallel_env(game)
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    while env.agents:
        state = env.state_view
        batch = [obs[a][None] for a in env.possible_agents]
        greedy = agent.act(batch)
        for p, name in enumerate(env.possible_agents):
            assert np.array_equal(np.asarray(state.observation_tensor(p), np.float32), obs[name])
            probs = policies[p].action_probabilities(state, p)
            assert set(probs) == set(state.legal_actions(p)) and probs[int(greedy[p][0])] == 1.0
        obs, *_ = env.step({a: int(rng.integers(10)) for a in env.agents})
    with pytest.raises(ValueError, match="agent"):
        agent.policy(game, "nobody")


def test_policy_refuses_box_actions_and_a_mismatched_game():
    agent = MADDPG(speaker_listener(continuous=True), small_maddpg(), seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        agent.policy(pyspiel.load_game(MARKET), 0)
    agent = MADDPG(speaker_listener(), small_maddpg(), seed=0)
    with pytest.raises(ValueError, match="does not match"):
        agent.policy(pyspiel.load_game(MARKET), 0)


def test_training_leaves_the_global_torch_rng_alone():
    state = torch.random.get_rng_state()
    MADDPG(speaker_listener(continuous=True), small_maddpg(), seed=0).train(40)
    IndependentDQN(speaker_listener(), small_idqn(), seed=0).train(40)
    assert torch.equal(state, torch.random.get_rng_state())


def test_same_seed_same_numbers_different_seed_different_numbers():
    logs = [MADDPG(speaker_listener(), small_maddpg(), seed=s).train(60) for s in (1, 1, 2)]
    assert np.array_equal(logs[0].losses["critic_loss"], logs[1].losses["critic_loss"])
    assert not np.array_equal(logs[0].losses["critic_loss"], logs[2].losses["critic_loss"])


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, name", [({"num_envs": 0}, "num_envs"), ({"env_steps_per_update": 0},
                                          "env_steps_per_update"), ({"share_parameters": 1}, "share_parameters"),
                                         ({"dqn": {"hidden": (8,), "bogus": 1}}, None)])
def test_idqn_config_is_validated(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        IndependentDQNConfig(**kwargs)


@pytest.mark.parametrize("field, value", [("tau", 0.0), ("tau", 1.5), ("discount", 2.0), ("batch_size", 0),
                                          ("actor_hidden", (0,)), ("max_grad_norm", 0.0), ("min_buffer", -1),
                                          ("exploration_noise", -0.1), ("num_envs", 1.5),
                                          ("box_activation", "relu")])
def test_maddpg_config_is_validated(field, value):
    with pytest.raises(ValueError, match=f"{field}="):
        MADDPGConfig(**{field: value})


@pytest.mark.parametrize("explore", [False, True])
def test_maddpg_softmax_box_actions_are_points_of_the_simplex_scaled_to_the_bounds(explore):
    learner = MADDPG(speaker_listener(continuous=True), small_maddpg(box_activation="softmax"), seed=0)
    obs = [np.random.default_rng(1).normal(size=(32, d)).astype(np.float32) for d in learner.env.obs_dims]
    for space, a in zip(learner.env.action_spaces, learner.act(obs, explore=explore)):
        assert a.shape == (32, *space.shape) and (a >= space.low).all() and (a <= space.high).all()
        assert np.allclose(((a - space.low) / (space.high - space.low)).sum(axis=1), 1.0, atol=1e-5)
    learner.train(80)  # stored vectors are the simplex points again (the critics' units)
    b = learner.buffer
    for action in b.action:
        assert np.allclose(action[:b.size].sum(axis=1), 1.0, atol=1e-5) and (action[:b.size] >= 0).all()


def test_idqn_refuses_sharing_across_different_spaces_and_box_actions():
    with pytest.raises(ValueError, match="share_parameters=True"):
        IndependentDQN(speaker_listener(), small_idqn(share_parameters=True), seed=0)
    with pytest.raises(TypeError, match="Discrete"):
        IndependentDQN(speaker_listener(continuous=True), small_idqn(), seed=0)


def test_bad_inputs_are_refused_with_the_parameter_named():
    agent = IndependentDQN(speaker_listener(), small_idqn(), seed=0)
    with pytest.raises(ValueError, match="steps="):
        agent.train(-1)
    with pytest.raises(ValueError, match="observations"):
        agent.act([np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match="'listener_0'"):
        agent.act([np.zeros((2, 3), np.float32), np.zeros((2, 10), np.float32)])
    with pytest.raises(ValueError, match="num_envs=2"):
        IndependentDQN(simple_spread_v3.parallel_env(), small_idqn(), seed=0)
    with pytest.raises(ValueError, match="num_envs=0"):
        ParallelEnvVector(speaker_listener(), 0)


class _MultiDiscreteEnv(MultiAgentVectorEnv):
    """Two agents, the second with a MultiDiscrete action space, which no learner here supports."""

    num_envs = 1
    agents = ["a", "b"]
    obs_dims = [2, 2]
    action_spaces = [spaces.Discrete(2), spaces.MultiDiscrete([2, 3])]

    def reset(self):
        return [np.zeros((1, 2), np.float32)] * 2, [np.ones((1, 2), bool), None]

    def step(self, actions):
        raise AssertionError("never reached")


@pytest.mark.parametrize("learner", ["idqn", "maddpg"])
def test_unsupported_action_spaces_are_refused_naming_the_agent(learner):
    env = _MultiDiscreteEnv()
    with pytest.raises(TypeError, match=r"agent 'b'.*MultiDiscrete"):
        if learner == "idqn":
            IndependentDQN(env, small_idqn(), seed=0)
        else:
            MADDPG(env, small_maddpg(), seed=0)
