"""solvers.marl on the real batched market (``MarketVectorEnv``), not a stand-in: training runs, and a trained agent's
OpenSpiel policy picks the action ``act`` picks on the vector env's observation of the same state."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from marketgames.envs import LobMarketParallelEnv, MarketVectorEnv
from solvers.marl import (
    MADDPG,
    IndependentDQN,
    IndependentDQNConfig,
    MADDPGConfig,
    MarketVectorAdapter,
    as_vector_env,
)
from solvers.rl.dqn import DQNConfig

MARKET = "python_lob_market(players=2,steps=5)"


def make(learner: str, env, seed: int = 0):
    if learner == "maddpg":
        return MADDPG(env, MADDPGConfig(actor_hidden=(16,), critic_hidden=(16,), batch_size=64, min_buffer=64,
                                        replay_capacity=2_000, env_steps_per_update=64), seed=seed)
    dqn = DQNConfig(hidden=(16,), learning_rate=1e-3, batch_size=64, replay_capacity=2_000, min_buffer=64,
                    target_update_every=5, epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=1_000,
                    discount=0.9, optimizer="adam")
    return IndependentDQN(env, IndependentDQNConfig(dqn=dqn, env_steps_per_update=64,
                                                    share_parameters=learner == "idqn_shared"), seed=seed)


@pytest.mark.parametrize("learner", ["idqn", "idqn_shared", "maddpg"])
def test_learners_train_on_the_market_vector_env(learner):
    env = MarketVectorEnv(MARKET, 64, seed=1)
    agent = make(learner, env)
    assert isinstance(agent.env, MarketVectorAdapter)
    log = agent.train(3_200)  # 64 markets x 5 rounds x 10 episodes
    assert log.episode_returns.shape == (640, 2) and np.isfinite(log.episode_returns).all()
    # one update per vector step of 64 markets; the first vector step fills min_buffer
    assert (log.episode_end_steps % 320 == 0).all() and log.loss_steps.size == 50
    assert all(np.isfinite(v).all() for v in log.losses.values())


def test_a_market_game_string_builds_a_seeded_market_vector_env():
    a, b = (as_vector_env(MARKET, num_envs=3, seed=4) for _ in range(2))
    c = as_vector_env(pyspiel.load_game(MARKET), num_envs=3, seed=5)
    assert isinstance(a, MarketVectorAdapter) and a.num_envs == 3
    first = [env.reset()[0][0] for env in (a, b, c)]
    assert np.array_equal(first[0], first[1])
    actions = [np.zeros(3, np.int64)] * 2
    steps = [env.step(actions) for env in (a, b, c)]
    assert np.array_equal(steps[0].rewards, steps[1].rewards)
    with pytest.raises(TypeError, match="python_lob_market"):
        as_vector_env("kuhn_poker", num_envs=2, seed=0)


@pytest.mark.parametrize("learner", ["idqn", "idqn_shared", "maddpg"])
def test_policy_agrees_with_act_on_the_market_vector_env(learner):
    game = pyspiel.load_game(MARKET)
    agent = make(learner, MarketVectorEnv(game, 64, seed=1))
    agent.train(3_200)
    # markets of a fresh batch, each replayed by a PettingZoo env on the same chance draws
    vec = MarketVectorEnv(game, 4, seed=2)
    singles = [LobMarketParallelEnv(game, chance_outcome=vec.chance_source(i)) for i in range(vec.num_envs)]
    obs, _ = vec.reset()
    for env in singles:
        env.reset()
    policies = [agent.policy(game, name) for name in agent.agents]
    chosen = set()
    for _ in range(2 * 5):
        actions = agent.act([obs[:, p] for p in range(vec.num_agents)])
        for i, env in enumerate(singles):
            state = env.state_view
            for p in range(vec.num_agents):
                assert np.array_equal(np.asarray(state.observation_tensor(p), np.float32), obs[i, p])
                probs = policies[p].action_probabilities(state, p)
                assert probs[int(actions[p][i])] == 1.0 and sum(probs.values()) == 1.0
                chosen.add(int(actions[p][i]))
        joint = np.stack(actions, axis=1)
        obs, *_ = vec.step(joint)
        for i, env in enumerate(singles):
            env.step({name: int(joint[i, p]) for p, name in enumerate(vec.agents)})
            if not env.agents:
                env.reset()
    assert len(chosen) > 1  # the trained networks are not a constant policy: the check compares real choices


def test_dqn_exploration_draws_the_numbers_of_one_choice_per_row():
    """The vectorised epsilon-greedy of ``DQN.act`` keeps the seeded numbers of the per-row loop it replaced."""
    from solvers.rl.dqn import DQN

    legal = np.random.default_rng(5).random((3_000, 7)) < 0.4
    legal[np.arange(3_000), np.random.default_rng(6).integers(0, 7, 3_000)] = True  # 1..7 legal actions per row
    config = DQNConfig(hidden=(8,), epsilon_start=0.5, epsilon_end=0.5, epsilon_decay_steps=1)
    dqn, reference = DQN(4, 7, config, seed=3), DQN(4, 7, config, seed=3)
    obs = np.random.default_rng(7).normal(size=(3_000, 4)).astype(np.float32)
    actions = dqn.act(obs, legal)
    expected = reference.greedy(obs, legal)
    for k in np.flatnonzero(reference.rng.random(3_000) < 0.5):  # the loop of the earlier DQN.act
        expected[k] = reference.rng.choice(np.flatnonzero(legal[k]))
    assert np.array_equal(actions, expected) and legal[np.arange(3_000), actions].all()
    assert dqn.rng.random() == reference.rng.random()  # the generators are left in the same state
    assert 500 < (actions != dqn.greedy(obs, legal)).sum() < 1_500  # about half the rows explored (1,001 here)


def test_maddpg_critics_keep_learning_after_the_actor_step_freezes_them():
    agent = make("maddpg", MarketVectorEnv(MARKET, 64, seed=1))
    agent.train(128)
    before = [[p.detach().clone() for p in q.parameters()] for q in agent.critics]
    agent.train(128)
    for critic, old in zip(agent.critics, before):
        assert all(p.requires_grad for p in critic.parameters())
        assert all(not np.array_equal(p.detach().numpy(), o.numpy()) for p, o in zip(critic.parameters(), old))


@pytest.mark.parametrize("learner", ["idqn", "maddpg"])
def test_resume_on_the_market_vector_env_equals_uninterrupted_training(learner, tmp_path):
    """The checkpoint holds the markets' episode: a learner loaded onto an env of the same seed goes on with the next
    episode's draws (before, it replayed episode 0 and the runs parted)."""
    make_one = lambda: make(learner, MarketVectorEnv(MARKET, 64, seed=1), seed=2)
    whole = make_one()
    log = whole.train(640)
    first = make_one()
    log_a = first.train(320)  # one whole episode of 5 rounds in 64 markets
    first.save(tmp_path / "ckpt.zip")
    resumed = make_one()
    resumed.load(tmp_path / "ckpt.zip")
    log_b = resumed.train(320)
    assert np.array_equal(log.episode_returns, np.concatenate([log_a.episode_returns, log_b.episode_returns]))
    for name, values in log.losses.items():
        assert np.array_equal(values, np.concatenate([log_a.losses[name], log_b.losses[name]]))
    other = make(learner, MarketVectorEnv(MARKET, 64, seed=3), seed=2)
    with pytest.raises(ValueError, match="seeded differently"):
        other.load(tmp_path / "ckpt.zip")
