"""``studies.marl`` on a tiny budget, and the env it trains in (:class:`solvers.marl.opponents.RuleOpponentsEnv`)."""
from __future__ import annotations

import json

import numpy as np
import pyspiel
import pytest

from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket
from marketgames.market.population import population_actions
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
                          "opponents": ("market_maker(half_spread=1)", "zi"), "out": str(out), **kw})


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


@pytest.mark.parametrize("field, value", [("algo", "ppo"), ("seeds", 1), ("steps", 0), ("opponents", ())])
def test_marl_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        marl.Config(**{field: value})
