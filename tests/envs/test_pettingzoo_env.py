"""The PettingZoo wrappers of python_lob_market: PettingZoo's API and seed tests, and agreement with OpenSpiel."""
from __future__ import annotations

import warnings

import numpy as np
import pyspiel
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

from marketgames import TINY_GAME
from marketgames.envs import LobMarketParallelEnv, lob_market_aec_env, lob_market_parallel_env

THREE = "python_lob_market(players=3,steps=6,lot=2,position_limit=3)"


@pytest.fixture(autouse=True)
def _quiet_infinite_box_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*observation space value is")
        yield


@pytest.mark.parametrize("game_string", [TINY_GAME, THREE, "python_lob_market(players=5,steps=4)"])
def test_parallel_api(game_string):
    parallel_api_test(lob_market_parallel_env(game_string=game_string), num_cycles=50)


def test_parallel_seed():
    parallel_seed_test(lambda: lob_market_parallel_env(game_string=THREE), num_cycles=50)


def test_aec_api():
    api_test(lob_market_aec_env(game_string=THREE), num_cycles=50)


def _episode(env, seed, action_seed):
    rng = np.random.default_rng(action_seed)
    obs, infos = env.reset(seed=seed)
    total = dict.fromkeys(env.possible_agents, 0.0)
    while env.agents:
        for agent in env.agents:
            assert env.observation_space(agent).contains(obs[agent])
        actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        for agent, r in rewards.items():
            total[agent] += r
        assert not any(truncs.values())
    assert all(terms.values())
    return total, infos, env.state_view


@pytest.mark.parametrize("game_string", [TINY_GAME, THREE])
def test_summed_rewards_equal_openspiel_returns(game_string):
    env = LobMarketParallelEnv(game_string=game_string)
    game = pyspiel.load_game(game_string)
    for seed in range(4):
        total, infos, final = _episode(env, seed, 100 + seed)
        state = game.new_initial_state()  # replay the same chance outcomes and actions in OpenSpiel
        history = final.history()
        i = 0
        while i < len(history):
            if state.is_chance_node():
                state.apply_action(history[i])
                i += 1
            else:
                state.apply_actions(history[i:i + game.num_players()])
                i += game.num_players()
        assert state.is_terminal()
        returns = state.returns()
        for p, agent in enumerate(env.possible_agents):
            assert total[agent] == pytest.approx(returns[p], abs=1e-9)
            assert infos[agent]["return"] == pytest.approx(returns[p], abs=1e-12)
            assert (infos[agent]["cash"], infos[agent]["inventory"]) == state.account(p)


def test_chance_comes_only_from_the_reset_seed():
    env = lob_market_parallel_env(game_string=THREE)
    np.random.seed(0)
    first = _episode(env, 7, 1)[2].history()
    np.random.seed(1)
    again = _episode(env, 7, 1)[2].history()
    other = _episode(env, 8, 1)[2].history()
    assert first == again
    assert first != other


def test_observations_are_the_openspiel_tensors():
    env = lob_market_parallel_env(game_string=THREE)
    obs, infos = env.reset(seed=3)
    state = env.state_view
    for p, agent in enumerate(env.possible_agents):
        assert obs[agent].dtype == np.float32
        assert np.array_equal(obs[agent], np.asarray(state.observation_tensor(p), dtype=np.float32))
        assert infos[agent] == {"cash": 0, "inventory": 0, "round": 0}


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="game_string"):
        LobMarketParallelEnv(game_string="kuhn_poker")
    with pytest.raises(ValueError, match="render_mode"):
        LobMarketParallelEnv(game_string=TINY_GAME, render_mode="human")
    env = LobMarketParallelEnv(game_string=TINY_GAME, render_mode="ansi")
    env.reset(seed=0)
    assert "round 0/2" in env.render()
    with pytest.raises(ValueError, match="missing"):
        env.step({"trader_0": 0})
    with pytest.raises(ValueError, match="trader_1"):
        env.step({"trader_0": 0, "trader_1": 99})
