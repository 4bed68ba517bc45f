"""Self-play with an opponent pool (solvers.population): matchmaking weights, snapshot schedule, capacity and
replacement, determinism, resume, OpenSpiel export and the final pool in an empirical game."""
from __future__ import annotations

import pickle

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy

import marketgames  # noqa: F401
from marketgames.envs.spaces import scale_observations
from marketgames.market.payoffs import BatchedMarketSimulator
from solvers.empirical import EmpiricalGame
from solvers.marl import IndependentDQNConfig, MADDPGConfig
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.population import OpponentPool, SelfPlay, SelfPlayConfig, matchmaking_weights, snapshot_due
from solvers.rl.dqn import DQNConfig

GAME = "python_lob_market(players=2,steps=5)"
B = 8
EPISODE = B * 5


def small_config(**kw) -> SelfPlayConfig:
    dqn = DQNConfig(hidden=(16,), learning_rate=1e-3, batch_size=32, replay_capacity=2_000, min_buffer=40,
                    target_update_every=10, epsilon_start=1.0, epsilon_end=0.05, epsilon_decay_steps=400,
                    discount=0.95, optimizer="adam")
    base = dict(learner_config=IndependentDQNConfig(dqn=dqn, num_envs=B, env_steps_per_update=16),
                opponents=("trend", "zi"), snapshot_every=2 * EPISODE, capacity=2)
    return SelfPlayConfig(**{**base, **kw})


# ------------------------------------------------------------------------------------------- matchmaking weights
def test_matchmaking_weights_uniform_latest_and_pfsp():
    x = [0.5, 0.75, 0.0, 1.0]
    assert np.allclose(matchmaking_weights(x, "uniform"), 0.25)
    snap = [False, True, True, False]
    assert np.array_equal(matchmaking_weights(x, "latest", is_snapshot=snap), [0, 0, 1, 0])
    assert np.allclose(matchmaking_weights(x, "latest"), 0.25)  # no snapshot yet: the rule traders alike
    raw = np.array([0.5 ** 2, 0.25 ** 2, 1.0, 0.0])
    assert np.allclose(matchmaking_weights(x, "pfsp", k=2), raw / raw.sum())
    raw = np.array([0.5, 0.25, 1.0, 0.0]) ** 3.5
    assert np.allclose(matchmaking_weights(x, "pfsp", k=3.5), raw / raw.sum())
    assert np.allclose(matchmaking_weights(x, "pfsp", k=0), 0.25)
    assert np.allclose(matchmaking_weights([1.0, 1.0], "pfsp", k=1), 0.5)  # nothing left to prioritise


@pytest.mark.parametrize("kwargs, match", [
    (dict(win_probabilities=[1.5], kind="pfsp"), "win_probabilities"),
    (dict(win_probabilities=[], kind="pfsp"), "win_probabilities"),
    (dict(win_probabilities=[0.5], kind="hard"), "kind"),
    (dict(win_probabilities=[0.5], kind="pfsp", k=-1), "k="),
    (dict(win_probabilities=[0.5], kind="latest", is_snapshot=[True, False]), "is_snapshot"),
])
def test_matchmaking_weights_refuse_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        matchmaking_weights(**kwargs)


def test_win_probability_counts_ties_half_with_a_uniform_prior():
    pool = OpponentPool(["a"], ["a"], capacity=1, matchmaking="pfsp")
    assert pool.members[0].win_probability == 0.5
    pool.record(np.zeros(4, int), np.array([1.0, 0.0, -1.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.0]))
    assert pool.members[0].wins == 2.5
    assert pool.members[0].win_probability == pytest.approx(3.5 / 6)
    mean, low, high = pool.members[0].pnl.interval()
    assert mean == pytest.approx(0.5) and low < mean < high


# ------------------------------------------------------------------------------------------- schedule, capacity
def test_snapshot_schedule():
    ends = np.arange(1, 13) * 160
    assert [int(e) for e, b in zip(ends, ends - 160) if snapshot_due(b, e, 480)] == [480, 960, 1440, 1920]
    # 500 is not an episode end: the snapshot is at the end of the first episode that reaches it
    assert [int(e) for e, b in zip(ends, ends - 160) if snapshot_due(b, e, 500)] == [640, 1120, 1600]
    sp = SelfPlay(GAME, small_config(snapshot_every=3 * EPISODE, capacity=5), seed=0)
    log = sp.train(7 * EPISODE)
    assert log.snapshots == [f"idqn@{3 * EPISODE}", f"idqn@{6 * EPISODE}"]
    assert [m.added_at for m in sp.pool.members if m.snapshot] == [3 * EPISODE, 6 * EPISODE]


def test_capacity_evicts_the_weakest_snapshot_never_a_rule_trader():
    pool = OpponentPool(["r"], ["r"], capacity=2, matchmaking="uniform")
    pool.add_snapshot("a", "A", 1)
    pool.add_snapshot("b", "B", 2)
    # the main agent always beats the rule trader and snapshot b, never a
    pool.record(np.array([0, 1, 2]), np.array([5.0, -1.0, 3.0]), np.zeros(3))
    out = pool.add_snapshot("c", "C", 3)
    assert out is not None and out.name == "b"
    assert pool.names == ["r", "a", "c"] and pool.evicted[0]["name"] == "b" and pool.evicted[0]["evicted_at"] == 3
    out = pool.add_snapshot("d", "D", 4)  # c is unseen (1/2) and a beaten never (1/3): c goes
    assert out is not None and out.name == "c"
    pool.add_snapshot("e", "E", 5)  # d is unseen (1/2): d goes, a stays
    assert pool.names == ["r", "a", "e"]
    ties = OpponentPool(["r"], ["r"], capacity=2, matchmaking="uniform")
    for k, name in enumerate("xyz"):
        ties.add_snapshot(name, name, k)
    assert ties.names == ["r", "y", "z"]  # all unseen: the oldest snapshot is evicted


def test_capacity_in_training_keeps_rule_traders():
    sp = SelfPlay(GAME, small_config(snapshot_every=EPISODE, capacity=2), seed=3)
    log = sp.train(5 * EPISODE)
    assert len(log.snapshots) == 5 and len(log.evicted) == 3
    assert sum(m.snapshot for m in sp.pool.members) == 2
    assert [m.name for m in sp.pool.members if not m.snapshot] == ["trend", "zi"]


# ------------------------------------------------------------------------------------------- training mechanics
def test_opponents_are_drawn_per_market_from_the_weights():
    sp = SelfPlay(GAME, small_config(matchmaking="latest", snapshot_every=EPISODE), seed=1)
    log = sp.train(3 * EPISODE)
    assert set(log.opponents[0]) <= {"trend", "zi"}  # no snapshot before the first episode ends
    assert set(log.opponents[1]) == {f"idqn@{EPISODE}"} and set(log.opponents[2]) == {f"idqn@{2 * EPISODE}"}
    steps, names, weights = sp.weights_over_time()
    assert list(steps) == [0, EPISODE, 2 * EPISODE, 3 * EPISODE]
    assert np.allclose(np.nansum(weights, axis=1), 1.0)
    # the tracked statistics count every market's episode once
    assert sum(m.episodes for m in sp.pool.members) + sum(e["episodes"] for e in sp.pool.evicted) == 3 * B


def test_same_seed_same_numbers_other_seed_other_numbers():
    logs = [SelfPlay(GAME, small_config(), seed=s).train(4 * EPISODE) for s in (7, 7, 8)]
    assert np.array_equal(logs[0].returns, logs[1].returns)
    assert np.array_equal(logs[0].opponents, logs[1].opponents)
    assert not np.array_equal(logs[0].returns, logs[2].returns)


@pytest.mark.parametrize("learner", ["idqn", "maddpg"])
def test_resume_equals_uninterrupted(tmp_path, learner):
    kw: dict = {"learner": learner, "snapshot_every": EPISODE, "capacity": 2, "matchmaking": "pfsp"}
    if learner == "maddpg":
        kw["learner_config"] = MADDPGConfig(actor_hidden=(16,), critic_hidden=(16,), batch_size=32, min_buffer=40,
                                            replay_capacity=2_000, env_steps_per_update=16, num_envs=B)
    full = SelfPlay(GAME, small_config(**kw), seed=5)
    whole = full.train(6 * EPISODE)
    first = SelfPlay(GAME, small_config(**kw), seed=5)
    head = first.train(3 * EPISODE)
    first.save(tmp_path / "sp.ckpt")
    resumed = SelfPlay(GAME, small_config(**kw), seed=5)
    resumed.load(tmp_path / "sp.ckpt")
    tail = resumed.train(3 * EPISODE)
    assert np.array_equal(np.concatenate([head.returns, tail.returns]), whole.returns)
    assert np.array_equal(np.concatenate([head.opponents, tail.opponents]), whole.opponents)
    assert str(resumed.pool.table()) == str(full.pool.table())  # (str: NaN intervals compare unequal)
    assert resumed.pool.names == full.pool.names
    w_full, w_resumed = full.weights_over_time()[2], resumed.weights_over_time()[2]
    assert np.array_equal(np.nan_to_num(w_full, nan=-1), np.nan_to_num(w_resumed, nan=-1))


def test_load_refuses_another_config(tmp_path):
    sp = SelfPlay(GAME, small_config(), seed=0)
    sp.save(tmp_path / "sp.ckpt")
    other = SelfPlay(GAME, small_config(capacity=3), seed=0)
    with pytest.raises(ValueError, match="config"):
        other.load(tmp_path / "sp.ckpt")


@pytest.mark.parametrize("kwargs, match", [
    (dict(learner="ppo"), "learner="),
    (dict(learner="maddpg"), "learner_config="),
    (dict(matchmaking="best"), "matchmaking="),
    (dict(pfsp_k=-0.5), "pfsp_k="),
    (dict(snapshot_every=0), "snapshot_every="),
    (dict(capacity=0), "capacity="),
    (dict(opponents=()), "opponents="),
    (dict(opponents="trend"), "opponents="),
])
def test_config_refuses_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_config(**kwargs)


def test_train_refuses_partial_episodes():
    sp = SelfPlay(GAME, small_config(), seed=0)
    with pytest.raises(ValueError, match="steps="):
        sp.train(EPISODE + 1)
    assert sp.env_steps == 0


# ------------------------------------------------------------------------------------------- outputs that compose
def test_snapshot_opponent_acts_on_its_seat_observations():
    sp = SelfPlay(GAME, small_config(snapshot_every=EPISODE), seed=2)
    sp.train(EPISODE)
    snapshot = sp.pool.members[-1].strategy
    env = RuleOpponentsEnv(GAME, [snapshot], B, seed=9)
    env.reset()
    tensors = scale_observations(env.game, env.int_obs[:, 1])  # seat 1's observation tensors
    greedy = np.argmax(snapshot.batch_probabilities(tensors, np.ones((B, env.config.num_actions), bool)), axis=1)
    assert np.array_equal(env.opponent_actions()[:, 0], greedy)
    with pytest.raises(ValueError, match="opponent_index"):
        env.set_opponents([snapshot], np.ones(B, int))


def test_snapshots_are_openspiel_policies_and_the_pool_enters_an_empirical_game():
    sp = SelfPlay(GAME, small_config(snapshot_every=2 * EPISODE), seed=4)
    sp.train(3 * EPISODE)
    names, strategies = sp.strategies()
    assert names == ["main", "trend", "zi", f"idqn@{2 * EPISODE}"]
    sp.train(EPISODE)  # a snapshot at the end: the main agent is that snapshot, entered once
    assert sp.strategies()[0] == ["trend", "zi", f"idqn@{2 * EPISODE}", f"idqn@{4 * EPISODE}"]
    game = pyspiel.load_game(GAME)
    state = game.new_initial_state()
    while state.is_chance_node():
        state.apply_action(state.legal_actions()[0])
    for policy in strategies[:1] + strategies[3:]:  # the main agent and the snapshots
        assert isinstance(policy, os_policy.Policy)
        for player in (0, 1):
            probs = pickle.loads(pickle.dumps(policy)).action_probabilities(state, player)
            assert sum(probs.values()) == pytest.approx(1.0) and set(probs) == set(state.legal_actions(player))
    egame = EmpiricalGame(GAME, [strategies, strategies], names=[names, names], seed=11,
                          simulator=BatchedMarketSimulator())
    egame.sample(min_samples=4, batch_size=4)
    assert egame.payoffs.shape == (2, 4, 4) and np.isfinite(egame.payoffs).all()


@pytest.mark.slow
def test_the_pool_game_has_the_same_numbers_on_every_backend():
    sp = SelfPlay(GAME, small_config(snapshot_every=EPISODE), seed=4)
    sp.train(EPISODE)
    names, strategies = sp.strategies()
    tables = []
    for backend, workers in (("serial", 1), ("process", 2), ("ray", 2)):
        egame = EmpiricalGame(GAME, [strategies, strategies], names=[names, names], seed=11,
                              simulator=BatchedMarketSimulator())
        egame.sample(min_samples=4, batch_size=4, backend=backend, workers=workers)
        tables.append(egame.payoffs)
    assert all(np.array_equal(tables[0], t) for t in tables[1:])
