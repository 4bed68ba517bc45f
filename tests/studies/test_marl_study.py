"""``studies.marl`` on a tiny budget, and the env it trains in (:class:`solvers.marl.opponents.RuleOpponentsEnv`)."""
from __future__ import annotations

import json

import numpy as np
import pyspiel
import pytest

from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket
from marketgames.envs.spaces import scale_observations
from marketgames.market.population import play_population, population_actions, sample_rows
from marketgames.seeding import seed_sequence
from marketgames.traders import make_trader
from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat
from studies import marl

GAME = "python_lob_market(players=2,steps=5)"


def test_rule_opponents_play_as_in_the_batched_population():
    """With one opponent type, the env's markets are the batched engine's markets with that trader in seat 1 drawing
    from the market's own uniforms (population_actions), whatever the learner does."""
    game = pyspiel.load_game(GAME)
    trend = make_trader("trend", game, player_ids=[1])
    trend_seat0 = make_trader("trend", game, player_ids=[0])
    env = RuleOpponentsEnv(game, [trend], 6, seed=3)
    market = BatchedMarket(env.config, 6, seed_sequence(3, name="seed"))
    env.reset()
    ints = market.reset()
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert np.array_equal(env.int_obs, ints)
        own = rng.integers(0, env.config.num_actions, 6)
        seat1 = population_actions([trend_seat0, trend], market, ints)[:, 1]
        assert STREAM_FIRST_SEAT + 1 == 3 and np.array_equal(env.opponent_actions()[:, 0], seat1)
        out = env.step([own])
        ints, rewards, done = market.step(np.stack([own, seat1], axis=1))
        assert np.array_equal(out.rewards[:, 0], rewards[:, 0].astype(np.float32))
    assert done.all() and out.terminated.all() and np.isfinite(out.episode_returns).all()


def test_evaluate_seat_sums_each_episode_and_markets_cycle_through_opponents():
    game = pyspiel.load_game(GAME)
    opponents = [make_trader(s, game, player_ids=[1]) for s in ("noise", "zi")]
    env = RuleOpponentsEnv(game, opponents, 5, seed=0)
    assert env.opponent_index.tolist() == [0, 1, 0, 1, 0]
    pnl, other = evaluate_seat(env, lambda e, obs: np.zeros(len(obs), np.int64), 2)
    assert pnl.shape == other.shape == (2, 5) and np.isfinite(pnl).all()
    with pytest.raises(ValueError, match="opponents"):
        RuleOpponentsEnv(game, [], 5)


def tiny(out, **kw) -> marl.Config:
    return marl.Config(**{"steps": 1_000, "rounds": 5, "num_envs": 20, "eval_episodes": 1, "seeds": 2, "seed": 4,
                          "game_episodes": 2, "bootstrap": 3, "quality_episodes": 4, "br_steps": 500, "untrained": 2,
                          "opponents": ("market_maker(half_spread=1)", "zi"), "out": str(out), **kw})


def test_binned_curve_averages_the_episodes_ending_in_each_bin():
    edges = marl.curve_grid(1_000, 100)
    assert edges.tolist() == [100.0 * k for k in range(11)]
    assert marl.curve_grid(1_000, 400).tolist() == [0.0, 500.0, 1_000.0]  # 2 episode ends: 2 bins, not 10
    returns = np.array([1.0, 3.0, 10.0, -2.0, 7.0])
    ends = np.array([100, 100, 250, 1_000, 1_040])  # a bin is (low, high]; past the grid goes to the last bin
    curve = marl.binned_curve(returns, ends, edges)
    assert curve[0] == 2.0 and curve[2] == 10.0 and curve[9] == 2.5
    assert np.isnan(curve[[1, 3, 4, 5, 6, 7, 8]]).all()


def test_marl_study_writes_a_reproducible_report(tmp_path):
    results = marl.main(tiny(tmp_path / "a"))
    text = (tmp_path / "a" / "report.md").read_text()
    assert "idqn" in text and "maddpg" in text and "rule: zi" in text
    assert set(results["verdict"]) == {"idqn", "maddpg"}
    for name in ("random", "idqn untrained", "idqn trained", "maddpg trained", "rule: market_maker"):
        mean, low, high = results["overall_pnl"][name]
        assert low <= mean <= high
    again = marl.main(tiny(tmp_path / "b", algo="maddpg"))
    for name in ("random", "maddpg untrained", "maddpg trained"):
        assert again["overall_pnl"][name] == results["overall_pnl"][name]  # one learner's numbers: not the others'
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert saved["verdict"]["idqn"]["beats_rule_population"] == results["verdict"]["idqn"]["beats_rule_population"]
    assert (tmp_path / "a" / "learning_curves.png").stat().st_size > 0
    assert len(results["curve_steps"]) == results["curves"]["idqn"].shape[1] == 10  # 1,000 steps / 100 per episode
    exploit = results["exploitability"]
    assert set(exploit) == {"idqn", "maddpg"} and "Approximate exploitability" in text
    for e in exploit.values():
        # gains are paired differences over seeds: their mean is the difference of the means
        assert set(e["gain"]) == {"self", e["best_rule"]} and e["best_rule"] in ("rule: market_maker", "rule: zi")
        for reference in ("self", e["best_rule"]):
            assert np.isclose(e["gain"][reference][0], e["pnl"]["best response"][0] - e["pnl"][reference][0])
    assert again["exploitability"]["maddpg"] == exploit["maddpg"]


def test_marl_study_empirical_game_holds_learners_and_rule_traders(tmp_path):
    results = marl.main(tiny(tmp_path / "g", opponents=("noise", "zi")))
    g = results["empirical_game"]
    assert g["strategies"] == ["idqn", "maddpg", "noise", "zi"]
    assert g["payoffs"].shape == (2, 4, 4) and np.isfinite(g["payoffs"]).all()
    assert g["episodes_simulated"] == 16 * 2
    assert g["equilibria"] and all(eq["regret"] < 1e-6 for eq in g["equilibria"])
    in_support = {g["strategies"][k] for eq in g["equilibria"] for p in range(2) for k in eq["support"][p]}
    assert set(g["survivors"]) == in_support
    assert set(g["surviving_learners"]) == in_support & {"idqn", "maddpg"}
    assert all(np.isclose(np.sum(m), 1.0) for m in g["alpharank"])
    assert "which strategies survive" in (tmp_path / "g" / "report.md").read_text()
    quality = results["market_quality"]
    assert list(quality) == ["rule traders only", "idqn in seat 0", "maddpg in seat 0"]
    assert all(np.isfinite(q["volume_per_round"]) and np.isfinite(q["efficiency_abs_error"]) for q in quality.values())


def test_greedy_trader_plays_the_learners_openspiel_policy():
    """The market-quality episodes seat a learner through GreedyTrader: its one-hot action is the action of the
    learner's OpenSpiel policy (the empirical game's strategy) at the same state."""
    game = pyspiel.load_game(GAME)
    env = RuleOpponentsEnv(game, [make_trader("zi", game, player_ids=[1])], 4, seed=0)
    learner = marl.make_learner("idqn", env, np.random.SeedSequence(1), 100)
    trader, policy = marl.GreedyTrader(game, learner), learner.policy(game, 0)
    state, rng = game.new_initial_state(), np.random.default_rng(0)
    checked = 0
    while not state.is_terminal():
        if state.is_chance_node():
            outcomes, probs = zip(*state.chance_outcomes())
            state.apply_action(int(rng.choice(outcomes, p=probs)))
            continue
        probs = trader.probabilities(np.asarray(state.observation_ints(0))[None])[0]
        best = max(policy.action_probabilities(state, 0).items(), key=lambda kv: kv[1])[0]
        assert probs.sum() == 1.0 and probs[best] == 1.0
        checked += 1
        state.apply_actions([best, int(rng.integers(game.num_distinct_actions()))])
    assert checked == 5


@pytest.mark.parametrize("field, value", [("algo", "ppo"), ("seeds", 1), ("steps", 0), ("opponents", ()),
                                          ("game_episodes", 1), ("bootstrap", 0),
                                          ("quality_episodes", 1), ("br_steps", -1), ("untrained", 0)])
def test_marl_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        marl.Config(**{field: value})


def test_a_frozen_learner_opponent_plays_as_on_the_batched_payoff_simulator():
    """A learner's frozen OpenSpiel policy (a BatchPolicy) in seat 1 of RuleOpponentsEnv: with a rule trader drawing
    seat 0's actions from the market's own uniforms, the episodes are play_population's with the policy read
    through the batched simulator's seat adapter (seat 1's observation tensors), return for return."""
    from marketgames.market.payoffs import TensorSeat

    game = pyspiel.load_game(GAME)
    zi = make_trader("zi", game, player_ids=[1])
    learner = marl.make_learner("idqn", RuleOpponentsEnv(game, [zi], 4, seed=0), np.random.SeedSequence(1), 100)
    frozen = learner.policy(game, 0)
    env = RuleOpponentsEnv(game, [frozen], 8, seed=5)
    trend = make_trader("trend", game, player_ids=[0])
    pnl, other = evaluate_seat(
        env, lambda e, obs: sample_rows(trend.probabilities(e.int_obs[:, 0]), e._market.uniforms(STREAM_FIRST_SEAT)), 1)
    seat = TensorSeat(frozen, game, env.config.num_actions, "frozen")
    expected = play_population([trend, seat], BatchedMarket(env.config, 8, seed_sequence(5, name="seed")))
    assert np.allclose(pnl[0], expected[:, 0]) and np.allclose(other[0], expected[:, 1])
    # seat 1 acts on its own observation: the greedy action of the policy on seat 1's tensors
    env.reset()
    tensors = scale_observations(game, env.int_obs[:, 1], game.make_py_observer(
        pyspiel.IIGObservationType(perfect_recall=False)))
    greedy = frozen.batch_probabilities(tensors, np.ones((8, env.config.num_actions), bool)).argmax(axis=1)
    assert np.array_equal(env.opponent_actions()[:, 0], greedy)


def test_best_response_gains_compare_seat0_strategies_on_the_same_markets():
    """The references' values are their PnL against the frozen learner on the evaluation markets: the learner
    against itself equals evaluate_seat with the frozen policy in seat 1 on that seed; no best-response training
    (0 steps) leaves an untrained network, still evaluated on the same markets."""
    from studies.marl_exploitability import best_response_gains

    game = pyspiel.load_game(GAME)
    zi, zi0 = make_trader("zi", game, player_ids=[1]), make_trader("zi", game, player_ids=[0])
    learner = marl.make_learner("idqn", RuleOpponentsEnv(game, [zi], 6, seed=0), np.random.SeedSequence(1), 200)
    learner.train(200)
    seed = np.random.SeedSequence(7)
    out = best_response_gains(game, learner, [zi0], ["zi"], steps=0, num_envs=6, eval_episodes=2, seed=seed)
    assert set(out) == {"best response", "frozen vs best response", "self", "rule: zi"}
    eval_seed = np.random.SeedSequence(7).spawn(3)[1]
    env = RuleOpponentsEnv(game, [learner.policy(game, 0)], 6, seed=eval_seed)
    pnl, _ = evaluate_seat(env, lambda e, obs: learner.act([obs])[0], 2)
    assert out["self"] == pnl.mean()


def test_untrained_baseline_averages_several_initialisations(tmp_path):
    """The untrained-network baseline is the mean over ``untrained`` networks (the learner before training first):
    more of them change only that baseline, not the trained learner's numbers."""
    one = marl.main(tiny(tmp_path / "u1", algo="idqn", untrained=1, br_steps=0))
    three = marl.main(tiny(tmp_path / "u3", algo="idqn", untrained=3, br_steps=0))
    assert three["overall_pnl"]["idqn trained"] == one["overall_pnl"]["idqn trained"]
    assert three["overall_pnl"]["idqn untrained"] != one["overall_pnl"]["idqn untrained"]
    assert one["exploitability"] == {} and "Approximate exploitability" not in (tmp_path / "u1" / "report.md").read_text()
    rows = [[{"pnl": 1.0, "sharpe": np.nan}], [{"pnl": 3.0, "sharpe": 2.0}]]
    assert marl._mean_rows(rows) == [{"pnl": 2.0, "sharpe": 2.0}]


def test_idqn_exploration_decays_over_half_of_the_budget():
    """At any budget the study's IDQN explores less than uniformly after half of its steps (a fixed 100,000-step
    decay left a 20,000-step quick run at epsilon ~0.8 to the end)."""
    game = pyspiel.load_game(GAME)
    env = RuleOpponentsEnv(game, [make_trader("zi", game, player_ids=[1])], 4, seed=0)
    learner = marl.make_learner("idqn", env, np.random.SeedSequence(1), 20_000)
    learner.dqns[0].steps = 10_000
    assert learner.dqns[0].epsilon == pytest.approx(0.05)
