"""Population-based training (issue 11, items 2-5): truncation selection, explore, lineage, fitness from the empirical
game, metrics, member exports, resume = uninterrupted, and the same numbers on every backend."""
from __future__ import annotations

import dataclasses

import numpy as np
import pyspiel
import pytest

import marketgames
from marketgames.traders import make_trader
from solvers.empirical import EmpiricalGame
from solvers.learners import PSRO
from solvers.marl import IndependentDQN, IndependentDQNConfig
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.population import (PBT, SEARCH_SPACE, Hyperparameter, PBTConfig, diversity, explore, fitness,
                                jensen_shannon, member_config, population_nash_conv, seat_policy,
                                truncation_selection)
from solvers.rl.dqn import DQNConfig

GAME = marketgames.TINY_GAME


def tiny_config(**kw) -> PBTConfig:
    learner = IndependentDQNConfig(dqn=DQNConfig(hidden=(16, 16), batch_size=32, replay_capacity=1024, min_buffer=64,
                                                 target_update_every=10, epsilon_start=1.0, epsilon_end=0.05,
                                                 epsilon_decay_steps=500, optimizer="adam"),
                                   num_envs=16, env_steps_per_update=16)
    space = {**SEARCH_SPACE, "width": Hyperparameter(8, 16, choices=(8, 16), perturb=False)}
    base = dict(population_size=4, steps_per_generation=128, generations=2, eval_episodes=4, diversity_markets=4,
                opponents=("trend", "noise"), learner=learner, search_space=space)
    return PBTConfig(**{**base, **kw})


def numbers(run: PBT) -> tuple:
    """Everything a run computes that must not depend on how it ran."""
    states = run.diversity_states()
    mask = np.ones((len(states), run.game.num_distinct_actions()), bool)
    actions = [p.batch_probabilities(states, mask).argmax(axis=1).tolist() for p in run.policies]
    return run.history, run.lineage.to_dict(), actions, run.empirical_game().payoffs.tolist()


@pytest.fixture(scope="module")
def tiny_run():
    run = PBT(GAME, tiny_config(), seed=3)
    run.run()
    return run


# ------------------------------------------------------------------ exploit / explore
def test_truncation_selection_copies_the_top_quantile_into_the_bottom_quantile():
    fit = [0.5, -1.0, 3.0, 2.0, 0.0, -2.0, 1.0, 4.0]  # ranks: 7, 2, 3, 6, 0, 4, 1, 5
    copies = truncation_selection(fit, 0.25, np.random.default_rng(0))
    assert sorted(copies) == [1, 5]  # ceil(8 * 0.25) = 2 worst members
    assert set(copies.values()) <= {7, 2}  # copy one of the 2 best
    draws = [tuple(truncation_selection(fit, 0.25, np.random.default_rng(s)).values()) for s in range(40)]
    assert {d[0] for d in draws} == {7, 2}  # the source is drawn, not always the best
    # ties rank the lower index higher; the quantile never exceeds half of the population
    assert truncation_selection([1.0, 1.0, 1.0], 0.5, np.random.default_rng(0)) == {2: 0}
    assert truncation_selection([0.0, 1.0], 0.5, np.random.default_rng(0)) == {0: 1}


def test_truncation_selection_refuses_bad_input():
    with pytest.raises(ValueError, match="fitness="):
        truncation_selection([1.0, np.nan], 0.25, np.random.default_rng(0))
    with pytest.raises(ValueError, match="quantile_fraction=0.75"):
        truncation_selection([1.0, 2.0], 0.75, np.random.default_rng(0))


def test_explore_perturbs_by_the_factors_or_resamples_with_its_probability():
    space = {"learning_rate": Hyperparameter(1e-6, 1.0, log=True), "discount": Hyperparameter(0.0, 1.0),
             "width": Hyperparameter(8, 16, choices=(8, 16), perturb=False)}
    hp = {"learning_rate": 0.01, "discount": 0.5, "width": 8.0}
    rng = np.random.default_rng(0)
    for _ in range(50):  # never resampled: exactly x0.8 or x1.2, the width kept
        out = explore(hp, space, rng, resample_probability=0.0)
        assert out["learning_rate"] in (pytest.approx(0.008), pytest.approx(0.012))
        assert out["discount"] in (pytest.approx(0.4), pytest.approx(0.6))
        assert out["width"] == 8.0
    outs = [explore(hp, space, rng, resample_probability=0.25)["discount"] for _ in range(4000)]
    perturbed = np.isclose(outs, 0.4) | np.isclose(outs, 0.6)
    assert 0.22 < 1 - perturbed.mean() < 0.28  # resampled (uniform on [0, 1]) with probability 0.25
    assert 0.45 < np.isclose(outs, 0.6)[perturbed].mean() < 0.55  # both factors equally likely
    clipped = explore({"discount": 0.95}, {"discount": Hyperparameter(0.8, 0.99)}, np.random.default_rng(1),
                      resample_probability=0.0, factors=(1.2, 1.2))
    assert clipped["discount"] == 0.99  # perturbed values stay in the space


def test_member_config_applies_the_hyperparameters():
    c = member_config(tiny_config(), {"learning_rate": 0.002, "discount": 0.9, "epsilon": 0.1, "width": 8.0})
    assert (c.dqn.learning_rate, c.dqn.discount, c.dqn.epsilon_end, c.dqn.hidden) == (0.002, 0.9, 0.1, (8, 8))


def test_config_refuses_bad_values_naming_them():
    with pytest.raises(ValueError, match="population_size=1 is not allowed"):
        PBTConfig(population_size=1)
    with pytest.raises(ValueError, match="fitness='win_rate' is not allowed"):
        PBTConfig(fitness="win_rate")
    with pytest.raises(ValueError, match="quantile_fraction=0.6 is not allowed"):
        PBTConfig(quantile_fraction=0.6)
    with pytest.raises(ValueError, match="search_space="):
        PBTConfig(search_space={"entropy": Hyperparameter(0.0, 1.0)})
    with pytest.raises(ValueError, match=r"search_space\['width'\]"):
        PBTConfig(search_space={"width": Hyperparameter(8, 16, choices=(8, 16))})
    with pytest.raises(ValueError, match="game="):
        PBT("kuhn_poker", tiny_config())
    with pytest.raises(ValueError, match="backend='dask'"):
        PBT(GAME, tiny_config(), backend="dask")


# ------------------------------------------------------------------ fitness and metrics
def test_fitness_is_payoff_against_the_population_meta_strategy():
    # rock-paper-scissors members (Nash uniform) and one rule trader everybody beats by 1
    rps = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], float)
    a = np.zeros((4, 4))
    a[:3, :3] = rps
    a[:3, 3], a[3, :3] = 1.0, -1.0
    payoffs = np.stack([a, a.T])
    se = np.full_like(payoffs, 0.1)
    nash = fitness(payoffs, se, 3, "nash")
    np.testing.assert_allclose(nash.meta_strategy, 1 / 3, atol=1e-9)
    np.testing.assert_allclose(nash.value, 0.0, atol=1e-9)
    np.testing.assert_allclose(nash.high - nash.value, 1.959964 * 0.1 * np.sqrt(3 / 9), rtol=1e-5)
    mean = fitness(payoffs, se, 3, "mean")
    np.testing.assert_allclose(mean.value, 0.25)  # (0 + 1) / 4: the rule trader counts
    rank = fitness(payoffs, se, 3, "alpharank")
    np.testing.assert_allclose(rank.value, 1 / 3, atol=1e-6)
    assert np.isnan(rank.low).all()
    # the population's uniform mixture is exploited by nothing here; the rule trader alone is exploited
    assert population_nash_conv(payoffs, nash.meta_strategy) == pytest.approx(0.0, abs=1e-9)


def test_jensen_shannon_and_diversity():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.0, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(jensen_shannon(p, q), [1.0, 0.0])

    class Fixed:
        def __init__(self, action):
            self.action, self.game = action, pyspiel.load_game(GAME)

        def batch_probabilities(self, obs, mask):
            out = np.zeros(mask.shape)
            out[:, self.action] = 1.0
            return out

    obs = np.zeros((5, 16), np.float32)
    assert diversity([Fixed(0), Fixed(0)], obs) == 0.0
    assert diversity([Fixed(0), Fixed(1), Fixed(1)], obs) == pytest.approx(2 / 3)


def test_a_learner_trains_against_frozen_snapshots_in_seat_one():
    game = pyspiel.load_game(GAME)
    config = IndependentDQNConfig(num_envs=8, env_steps_per_update=8,
                                  dqn=DQNConfig(hidden=(8,), batch_size=8, min_buffer=8, replay_capacity=256))
    snapshot = IndependentDQN(RuleOpponentsEnv(game, [make_trader("noise", game, player_ids=[1])], 8), config,
                              seed=1).policy(game, 0)
    env = RuleOpponentsEnv(game, [snapshot, make_trader("trend", game, player_ids=[1])], 8, seed=0)
    (obs,), _ = env.reset()
    seat1 = env.opponent_actions()[env.opponent_index == 0, 0]
    from marketgames.envs.spaces import scale_observations
    tensors = scale_observations(game, env.int_obs[env.opponent_index == 0, 1],
                                 game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False)))
    greedy = snapshot.batch_probabilities(tensors, np.ones((len(tensors), 5), bool)).argmax(axis=1)
    np.testing.assert_array_equal(seat1, greedy)  # the snapshot plays its greedy action on seat 1's observation


# ------------------------------------------------------------------ a run
def test_lineage_records_every_member_and_every_copy(tiny_run):
    run, c = tiny_run, tiny_run.config
    lin = run.lineage
    assert (lin.generations, lin.population_size, len(lin.records)) == (2, 4, 8)
    assert len(lin.copies) == 1  # ceil(4 * 0.25) = 1 member copied at generation 1
    copy = lin.copies[0]
    assert copy.generation == 1 and copy.member != copy.source
    assert copy.copied == lin.record(0, copy.source).hyperparameters
    assert copy.after == lin.record(1, copy.member).hyperparameters
    assert copy.after["width"] == copy.copied["width"]  # width inherited with the weights
    assert lin.record(1, copy.member).parent == copy.source
    fit = run.history[0]["fitness"]
    order = sorted(range(4), key=lambda i: (-fit[i], i))
    assert (copy.source, copy.member) == (order[0], order[-1])  # quantiles of one: the best and the worst
    assert lin.ancestry(copy.member, 1) == [copy.source, copy.member]
    np.testing.assert_allclose(lin.table("fitness")[1], run.history[1]["fitness"])
    np.testing.assert_allclose(lin.table("learning_rate")[1],
                               [h["learning_rate"] for h in run.history[1]["hyperparameters"]])
    # a copied member carries on from its source's learner (and its step count)
    assert all(r.env_steps == c.steps_per_generation * (r.generation + 1) for r in lin.records)


def test_metrics_per_generation(tiny_run):
    for m in tiny_run.history:
        assert len(m["fitness"]) == 4 and np.all(np.asarray(m["fitness_low"]) <= np.asarray(m["fitness_high"]))
        assert m["nash_conv"] >= -1e-9 and 0.0 <= m["diversity"] <= 1.0
        assert sum(m["meta_strategy"]) == pytest.approx(1.0)
    game = tiny_run.empirical_game()
    assert game.num_strategies == (6, 6) and game.names[0][:4] == [f"member_{m}" for m in range(4)]


def test_members_export_as_policies_and_checkpoints_and_enter_psro(tiny_run, tmp_path):
    run = tiny_run
    path = run.save_member(0, tmp_path / "m0.ckpt")
    game = pyspiel.load_game(GAME)
    learner = run.learner(0)
    fresh = IndependentDQN(RuleOpponentsEnv(game, run.traders(1), 16), member_config(run.config,
                                                                                    run.hyperparameters[0]))
    fresh.load(path)
    states = run.diversity_states()
    np.testing.assert_array_equal(fresh.act([states])[0], learner.act([states])[0])
    policies = run.policies
    np.testing.assert_array_equal(learner.act([states])[0],
                                  policies[0].batch_probabilities(states, np.ones((len(states), 5), bool)).argmax(1))
    psro = PSRO(game, meta_solver="nash",
                initial_population=[[seat_policy(p, 0) for p in policies], [seat_policy(p, 1) for p in policies]])
    assert psro.meta_game.shape == (2, 4, 4)
    assert psro.step()["population"] == [5, 5]
    egame = EmpiricalGame(game, policies + run.traders(), symmetric=True, seed=0)  # the OpenSpiel loop too
    egame.sample(min_samples=4, batch_size=4)
    assert egame.complete


def test_learned_exploitability_of_the_top_member(tiny_run):
    out = tiny_run.exploitability(steps=256, eval_episodes=2)
    assert out["member"] == tiny_run.best_member()
    low, high = out["gain"][1], out["gain"][2]
    assert low <= out["gain"][0] <= high
    assert out["response_payoff"][0] - out["member_payoff"][0] == pytest.approx(out["gain"][0])


def test_resume_gives_the_numbers_of_an_uninterrupted_run(tiny_run, tmp_path):
    path = tmp_path / "pbt.ckpt"
    first = PBT(GAME, tiny_config(), seed=3)
    first.run(1, checkpoint=path)
    resumed = PBT.load(path)
    assert resumed.generation == 1
    resumed.run()
    assert numbers(resumed) == numbers(tiny_run)


def test_the_seed_matters(tiny_run):
    other = PBT(GAME, dataclasses.replace(tiny_config(), generations=1), seed=4)
    other.run()
    assert other.history[0]["hyperparameters"] != tiny_run.history[0]["hyperparameters"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["process", "ray"])
def test_process_and_ray_backends_give_the_serial_numbers(tiny_run, backend):
    with PBT(GAME, tiny_config(), seed=3, backend=backend, workers=2) as run:
        run.run()
        assert numbers(run) == numbers(tiny_run)
