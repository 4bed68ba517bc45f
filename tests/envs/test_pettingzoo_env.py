"""The PettingZoo wrappers of python_lob_market: PettingZoo's API and seed tests, agreement with OpenSpiel, action
checks, action masks and bounded observation spaces."""
from __future__ import annotations

import warnings

import numpy as np
import pyspiel
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

from marketgames import TINY_GAME
from marketgames.envs import (
    LobMarketParallelEnv,
    lob_market_aec_env,
    lob_market_parallel_env,
)
from marketgames.market.config import MarketConfig

THREE = "python_lob_market(players=3,steps=6,lot=2,position_limit=3)"
GOOFSPIEL = "goofspiel(num_cards=4,imp_info=True,points_order=random)"  # simultaneous, with illegal actions

# Configurations that push every observed piece: a crowded narrow book, large lots against a small position limit,
# no background flow, a wide grid with long history.
BOUND_CONFIGS = {
    "default": MarketConfig(steps=12),
    "crowded": MarketConfig(players=3, steps=10, price_levels=9, initial_depth=3, bg_arrival_prob=1.0,
                            bg_value_spread=3, bg_shade_min=0, bg_shade_max=1, bg_ttl=2, position_limit=2,
                            max_orders=2, limit_levels=3, quote_levels=2, shock_prob=1.0, shock_size=2,
                            mean_reversion=0.3, book_levels=2, history=2, lot=2, bg_lot=3),
    "big_lots": MarketConfig(players=2, steps=15, price_levels=11, lot=4, position_limit=3, max_orders=3,
                             bg_lot=2, initial_depth=4, bg_ttl=8, book_levels=4, history=3),
    "no_flow": MarketConfig(players=4, steps=8, price_levels=7, bg_arrival_prob=0.0, initial_depth=1,
                            position_limit=1, quote_levels=3, history=1),
    "tiny": pyspiel.load_game(TINY_GAME).config,
}


@pytest.mark.parametrize("game_string, dict_observations", [
    *((g, d) for g in (TINY_GAME, THREE, "python_lob_market(players=5,steps=4)") for d in (False, True)),
    (GOOFSPIEL, True),  # parallel_api_test reads masks from Dict observations only
])
def test_parallel_api(game_string, dict_observations):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Live agent was not given info"
        parallel_api_test(lob_market_parallel_env(game_string=game_string, dict_observations=dict_observations),
                          num_cycles=50)


def test_parallel_seed():
    parallel_seed_test(lambda: lob_market_parallel_env(game_string=THREE), num_cycles=50)


@pytest.mark.parametrize("dict_observations", [False, True])
def test_aec_api(dict_observations):
    api_test(lob_market_aec_env(game_string=THREE, dict_observations=dict_observations), num_cycles=50)


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
        mask = infos[agent].pop("action_mask")
        assert mask.dtype == np.int8 and np.array_equal(mask, np.ones(env.action_space(agent).n, np.int8))
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


# ---------------------------------------------------------------- action checks (issue 9 item 10)
@pytest.mark.parametrize("bad", [2.7, 1.0, "3", True, False, np.bool_(True), np.float64(2.0), np.array(1.5),
                                 np.array(True), np.float32(0.0), [1], None])
def test_non_integer_actions_are_refused_and_nothing_is_played(bad):
    env = LobMarketParallelEnv(game_string=THREE)
    env.reset(seed=0)
    env.step(dict.fromkeys(env.agents, 0))
    before = env.state_view.history()
    with pytest.raises(TypeError, match=r"actions\['trader_1'\]=.* is not allowed: expected an integer action "
                                        r"in \[0, 9\]"):
        env.step({"trader_0": 2, "trader_1": bad, "trader_2": 3})  # trader_0 is valid and checked first
    assert env.state_view.history() == before
    env.step({"trader_0": 2, "trader_1": 0, "trader_2": 3})  # the env goes on


@pytest.mark.parametrize("good", [3, np.int64(3), np.int8(3), np.uint16(3), np.array(3), np.array(3, np.int32)])
def test_integer_actions_are_accepted(good):
    env = LobMarketParallelEnv(game_string=TINY_GAME)
    env.reset(seed=0)
    env.step({"trader_0": good, "trader_1": 0})
    assert env.state_view.history()[2:4] == [3, 0]  # after round 0's two chance outcomes


@pytest.mark.parametrize("bad", [-1, 10, np.int64(10), 2**70])
def test_out_of_range_actions_are_refused_and_nothing_is_played(bad):
    env = LobMarketParallelEnv(game_string=THREE)
    env.reset(seed=0)
    before = env.state_view.history()
    with pytest.raises(ValueError, match=rf"actions\['trader_2'\]={int(bad)} is not allowed: expected an integer "
                                         r"action in \[0, 9\]"):
        env.step({"trader_0": 1, "trader_1": 0, "trader_2": bad})
    assert env.state_view.history() == before


def test_illegal_actions_are_refused_and_nothing_is_played():
    env = LobMarketParallelEnv(game_string=GOOFSPIEL)
    env.reset(seed=0)
    env.step({"trader_0": 2, "trader_1": 3})  # each player has played a card: it is no longer legal
    before = env.state_view.history()
    with pytest.raises(ValueError, match=r"actions\['trader_0'\]=2 is not allowed: illegal here; legal actions "
                                         r"are \[0, 1, 3\]"):
        env.step({"trader_0": 2, "trader_1": 0})
    assert env.state_view.history() == before


# ---------------------------------------------------------------- action masks (issue 10 item 1a)
@pytest.mark.parametrize("dict_observations", [False, True])
@pytest.mark.parametrize("game_string", [THREE, GOOFSPIEL])
def test_masks_are_the_legal_actions(game_string, dict_observations):
    env = LobMarketParallelEnv(game_string=game_string, dict_observations=dict_observations)
    for seed in range(3):
        obs, infos = env.reset(seed=seed)
        while True:
            state = env.state_view
            for p, agent in enumerate(env.possible_agents):
                legal = np.zeros(env.action_space(agent).n, dtype=np.int8)
                legal[state.legal_actions(p)] = 1
                assert infos[agent]["action_mask"].dtype == np.int8
                assert np.array_equal(infos[agent]["action_mask"], legal)
                if dict_observations:
                    assert set(obs[agent]) == {"observation", "action_mask"}
                    assert np.array_equal(obs[agent]["action_mask"], legal)
                    assert np.array_equal(obs[agent]["observation"], state.observation_tensor(p))
                assert env.observation_space(agent).contains(obs[agent])
            if not env.agents:
                assert not any(info["action_mask"].any() for info in infos.values())  # nothing legal at the end
                break
            actions = {a: int(env.action_space(a).sample(mask=infos[a]["action_mask"])) for a in env.agents}
            obs, _, _, _, infos = env.step(actions)


# ---------------------------------------------------------------- bounded observation spaces (issue 10 item 1a)
@pytest.mark.parametrize("dict_observations", [False, True])
@pytest.mark.parametrize("name", sorted(BOUND_CONFIGS))
def test_observation_spaces_are_bounded_and_hold_every_observation(name, dict_observations):
    config = BOUND_CONFIGS[name]
    env = LobMarketParallelEnv(game_string=config.game_string(), dict_observations=dict_observations)
    box = env.observation_space("trader_0")
    box = box["observation"] if dict_observations else box
    assert np.isfinite(box.low).all() and np.isfinite(box.high).all()
    assert box.shape == (pyspiel.load_game(config.game_string()).observation_tensor_size(),)
    rng = np.random.default_rng(11)
    n = config.num_actions
    for seed in range(12):
        # Skewed random policies (one Dirichlet draw per agent and episode) push inventories and cash to extremes.
        policy = {a: rng.dirichlet(np.full(n, 0.3)) for a in env.possible_agents}
        obs, _ = env.reset(seed=seed)
        while True:
            for agent in obs:
                assert env.observation_space(agent).contains(obs[agent]), (name, seed, agent, obs[agent])
            if not env.agents:
                break
            obs, *_ = env.step({a: int(rng.choice(n, p=policy[a])) for a in env.agents})


def test_chance_outcome_option():
    """A chance source decides every chance node; without one the default generator is used as before."""
    calls = []

    def middle(state, episode):
        calls.append(episode)
        outcomes = [a for a, p in state.chance_outcomes() if p > 0]
        return outcomes[len(outcomes) // 2]

    env = LobMarketParallelEnv(game_string=THREE, chance_outcome=middle)
    for _ in range(2):
        env.reset()
        while env.agents:
            env.step(dict.fromkeys(env.agents, 0))
    assert calls == [0] * 12 + [1] * 12  # two chance nodes a round, six rounds, episodes counted from 0
    game = pyspiel.load_game(THREE)
    state, replay = env.state_view, game.new_initial_state()
    history, i = state.history(), 0
    while i < len(history):  # every chance outcome played was the source's
        if replay.is_chance_node():
            assert history[i] == middle(replay, 1)
            replay.apply_action(history[i])
            i += 1
        else:
            replay.apply_actions(history[i:i + 3])
            i += 3
    assert replay.is_terminal()
    env.reset(seed=5)
    assert calls[-1] == 0  # reset(seed=...) restarts the count
    bad = LobMarketParallelEnv(game_string=TINY_GAME, chance_outcome=lambda state, episode: 99)
    with pytest.raises(ValueError, match="chance_outcome returned 99"):
        bad.reset(seed=0)
    with pytest.raises(TypeError, match="chance_outcome"):
        LobMarketParallelEnv(game_string=TINY_GAME, chance_outcome=3)
    with pytest.raises(TypeError, match="dict_observations"):
        LobMarketParallelEnv(game_string=TINY_GAME, dict_observations="yes")
