"""``studies.robustness`` in its quick mode, and the robust trader's training loop."""
from __future__ import annotations

import json

import numpy as np
import pyspiel
import pytest

from marketgames.traders import make_trader
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.robustness.robust_trader import RobustTraderConfig, train_robust_trader
from studies import robustness


def test_robustness_study_quick_writes_the_tables(tmp_path):
    results = robustness.main(robustness.Config(quick=True, out=str(tmp_path / "r"), seed=2))
    strategies = results["strategies"]
    assert {"independent learner", "robust trader", "self-play", "PSRO meta-strategy"} <= set(strategies)
    assert {"selfish adversary", "spiteful adversary", "zi", "spoofer(period=4)"} <= set(results["opponents"])
    for name in strategies:
        s = results["summary"][name]
        worst, average = s["worst"], s["average"]
        assert worst["low"] <= worst["mean"] <= worst["high"] and worst["n"] == 2
        assert worst["mean"] <= average["mean"] + 1e-12  # per seed, the minimum is below the mean
        cells = [results["table"][name][op]["mean"] for op in results["opponents"]]
        assert min(cells) >= worst["mean"] - 1e-9
    diff = results["robust_vs_independent"]["worst_difference"]
    assert diff["mean"] == pytest.approx(results["summary"]["robust trader"]["worst"]["mean"]
                                         - results["summary"]["independent learner"]["worst"]["mean"])
    assert set(results["damage"]) >= {"spoofer(period=4)"}
    text = (tmp_path / "r" / "report.md").read_text()
    assert "Robust trader against the independent learner" in text and "Exploitability by adversary" in text
    assert (tmp_path / "r" / "heat_map.png").stat().st_size > 0
    assert (tmp_path / "r" / "payoff_distributions.png").stat().st_size > 0
    saved = json.loads((tmp_path / "r" / "results.json").read_text())
    assert saved["summary"]["robust trader"]["worst"]["mean"] == results["summary"]["robust trader"]["worst"]["mean"]


def test_robust_trader_grows_its_pool_with_adversaries():
    game = pyspiel.load_game("python_lob_market(players=2,steps=5)")
    population = [make_trader("zi", game)]
    run = train_robust_trader(game, population, RobustTraderConfig(steps=480, generations=3, adversary_steps=80,
                                                                   num_envs=16), seed=0)
    assert run.objectives == ["spiteful", "selfish"] and len(run.adversaries) == 2
    assert run.env_steps == 480 and run.adversary_env_steps == 160
    env = run.learner.env
    assert isinstance(env, RuleOpponentsEnv) and len(env.opponents) == 3  # zi and the two adversaries
    assert env.opponent_index.tolist() == [b % 3 for b in range(16)]
    again = train_robust_trader(game, population, RobustTraderConfig(steps=480, generations=3, adversary_steps=80,
                                                                     num_envs=16), seed=0)
    obs = np.random.default_rng(0).random((8, game.observation_tensor_size())).astype(np.float32)
    legal = np.ones((8, game.num_distinct_actions()), bool)
    assert np.array_equal(run.trader.batch_probabilities(obs, legal), again.trader.batch_probabilities(obs, legal))


@pytest.mark.parametrize("field, value", [("seeds", 1), ("steps", 0), ("held_out", ()), ("eval_episodes", 1),
                                          ("generations", 0), ("population", ("nonsense(",))])
def test_robustness_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field if field != "population" else "spec"):
        robustness.Config(**{field: value})


def test_robust_trader_config_refuses_bad_values():
    with pytest.raises(ValueError, match="objectives"):
        RobustTraderConfig(objectives=("greedy",))
    with pytest.raises(ValueError, match="generations"):
        RobustTraderConfig(generations=0)
