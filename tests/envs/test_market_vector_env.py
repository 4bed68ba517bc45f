"""MarketVectorEnv: market by market it is the PettingZoo env given the same chance draws; seeding, auto-reset,
spaces and refused actions."""
from __future__ import annotations

import numba
import numpy as np
import pyspiel
import pytest

from marketgames import TINY_GAME
from marketgames.envs import LobMarketParallelEnv, MarketVectorEnv
from marketgames.market.config import MarketConfig

CONFIGS = {
    "default": MarketConfig(steps=6),
    "crowded": MarketConfig(players=3, steps=5, price_levels=9, initial_depth=3, bg_arrival_prob=1.0,
                            bg_value_spread=3, bg_shade_min=0, bg_shade_max=1, bg_ttl=2, position_limit=2,
                            max_orders=2, limit_levels=3, quote_levels=2, shock_prob=1.0, shock_size=2,
                            mean_reversion=0.3, book_levels=2, history=2, lot=2, bg_lot=3),
    "tiny": pyspiel.load_game(TINY_GAME).config,
    "five": MarketConfig(players=5, steps=4, quote_levels=1),
}


def _joint(actions: np.ndarray, agents: list[str]) -> dict[str, int]:
    return {a: int(x) for a, x in zip(agents, actions)}


@pytest.mark.parametrize("num_envs", [1, 5, 40])  # 40 x 2+ agents: the batched engine's thread-pool driver
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_market_is_a_pettingzoo_env_given_the_same_chance_draws(name: str, num_envs: int) -> None:
    config = CONFIGS[name]
    game = pyspiel.load_game(config.game_string())
    vec = MarketVectorEnv(game, num_envs, seed=17)
    envs = [LobMarketParallelEnv(game, chance_outcome=vec.chance_source(i)) for i in range(num_envs)]
    agents = vec.agents
    assert agents == envs[0].possible_agents
    obs, info = vec.reset()
    singles = [env.reset() for env in envs]
    returns = np.zeros((num_envs, vec.num_agents))
    rng = np.random.default_rng(3)
    episodes = 3
    ended = 0
    for _ in range(episodes * config.steps):
        for i, (o, inf) in enumerate(singles):
            for p, agent in enumerate(agents):
                assert np.array_equal(obs[i, p], o[agent]), (i, agent)
                assert np.array_equal(info["action_mask"][i, p], inf[agent]["action_mask"].astype(bool))
        actions = rng.integers(0, vec.num_actions, size=(num_envs, vec.num_agents))
        obs, rewards, terminated, truncated, info = vec.step(actions)
        assert obs.dtype == np.float32 and rewards.dtype == np.float32 and info["episode_return"].dtype == np.float64
        assert not truncated.any()
        for i, env in enumerate(envs):
            o, r, term, trunc, inf = env.step(_joint(actions[i], agents))
            for p, agent in enumerate(agents):
                assert np.array_equal(info["final_observation"][i, p], o[agent]), (i, agent)
                assert rewards[i, p] == np.float32(r[agent])
                assert terminated[i] == term[agent] and truncated[i] == trunc[agent]
                returns[i, p] += r[agent]
            if term[agent]:
                assert np.array_equal(info["episode_return"][i], returns[i])
                assert np.array_equal(returns[i], [inf[a]["return"] for a in agents])
                returns[i] = 0.0
                singles[i] = env.reset()  # the vector env has auto-reset this market in the same step
                ended += 1
            else:
                assert np.isnan(info["episode_return"][i]).all()
                assert np.array_equal(info["final_observation"][i], obs[i])
                singles[i] = (o, inf)
    assert ended == episodes * num_envs and vec.episode == episodes


def test_same_seed_same_numbers_whatever_the_thread_count_and_global_rng() -> None:
    config = MarketConfig(players=2, steps=5)
    actions = np.random.default_rng(0).integers(0, config.num_actions, size=(12, 64, 2))

    def run(seed) -> list[np.ndarray]:
        vec = MarketVectorEnv(config.game_string(), 64, seed=seed)
        out = [vec.reset()[0]]
        for a in actions:
            obs, rewards, terminated, _, info = vec.step(a)
            out += [obs, rewards, terminated, info["final_observation"], info["episode_return"]]
        return out

    def equal(a, b) -> bool:
        return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))

    np.random.seed(0)
    first = run(5)
    np.random.seed(1)
    assert equal(first, run(5))
    assert equal(first, run(np.random.SeedSequence(5)))
    assert not equal(first, run(6))
    if numba.config.NUMBA_NUM_THREADS >= 2:
        before = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            one = run(5)
        finally:
            numba.set_num_threads(before)
        assert equal(first, one)


def test_reset_with_a_seed_starts_again_and_without_goes_on() -> None:
    vec = MarketVectorEnv(TINY_GAME, 8, seed=3)
    hold = np.zeros((8, 2), dtype=np.int64)
    first = vec.reset()[0]
    step1 = vec.step(hold)[0]
    again = vec.reset(seed=3)[0]
    assert np.array_equal(first, again) and np.array_equal(step1, vec.step(hold)[0])
    vec.step(hold)  # the tiny market ends after 2 rounds: auto-reset to episode 1
    assert vec.episode == 1
    assert np.array_equal(MarketVectorEnv(TINY_GAME, 8, seed=3).reset(seed=4)[0], vec.reset(seed=4)[0])


def test_spaces_are_the_pettingzoo_envs() -> None:
    game = pyspiel.load_game("python_lob_market(players=3,steps=4)")
    vec = MarketVectorEnv(game, 16, seed=0)
    env = LobMarketParallelEnv(game)
    box = env.observation_space("trader_0")
    assert vec.single_observation_space == box and np.isfinite(box.low).all()
    assert vec.single_action_space == env.action_space("trader_0")
    assert (vec.num_envs, vec.num_agents, vec.obs_dim, vec.num_actions) == (16, 3, box.shape[0], 10)
    obs, info = vec.reset()
    assert obs.shape == (16, 3, vec.obs_dim) and info["action_mask"].shape == (16, 3, 10)
    assert info["action_mask"].dtype == bool
    rng = np.random.default_rng(2)
    for _ in range(12):
        assert all(box.contains(o) for o in obs.reshape(-1, vec.obs_dim))
        obs, rewards, terminated, truncated, info = vec.step(rng.integers(0, 10, size=(16, 3)))
        assert rewards.shape == (16, 3) and terminated.shape == truncated.shape == (16,)
        assert info["final_observation"].shape == obs.shape and info["episode_return"].shape == (16, 3)


@pytest.mark.parametrize("bad, error, match", [
    (np.full((4, 2), 1.0), TypeError, r"dtype float64 are not allowed: expected an integer array of shape"),
    (np.ones((4, 2), dtype=bool), TypeError, r"dtype bool are not allowed"),
    ([[1, 2]] * 3, ValueError, r"shape \(3, 2\) are not allowed: expected \(num_envs, num_agents\) = \(4, 2\)"),
    (np.ones(8, dtype=np.int64), ValueError, r"shape \(8,\)"),
    (np.array([[0, 0], [0, 0], [0, 10], [0, 0]]), ValueError,
     r"actions\[2, 1\]=10 \(market 2, agent 'trader_1'\) is not allowed: expected an action in \[0, 9\]"),
    (np.array([[0, 0], [-1, 0], [0, 0], [0, 0]], dtype=np.int8), ValueError, r"actions\[1, 0\]=-1"),
])
def test_bad_actions_are_refused_and_nothing_moves(bad, error, match) -> None:
    config = MarketConfig(players=2, steps=4)
    vec = MarketVectorEnv(config.game_string(), 4, seed=1)
    ref = MarketVectorEnv(config.game_string(), 4, seed=1)
    vec.reset()
    ref.reset()
    good = np.array([[2, 3], [4, 5], [6, 7], [8, 9]])
    vec.step(good)
    ref.step(good)
    with pytest.raises(error, match=match):
        vec.step(bad)
    for a, b in zip(vec.step(good), ref.step(good)):  # the refused step changed nothing
        if isinstance(a, dict):
            assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
        else:
            assert np.array_equal(a, b)


def test_masked_actions_are_refused() -> None:
    vec = MarketVectorEnv(TINY_GAME, 3, seed=0)
    vec.reset()
    vec._mask[1, 0, 2] = False  # python_lob_market has no illegal action: mask one by hand to test the check
    with pytest.raises(ValueError, match=r"actions\[1, 0\]=2 \(market 1, agent 'trader_0'\) is not allowed: illegal "
                                         r"here; legal actions are \[0, 1, 3, 4\]"):
        vec.step(np.array([[0, 0], [2, 0], [0, 0]]))
    assert vec._market.round == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="game_or_string"):
        MarketVectorEnv("kuhn_poker", 2)
    with pytest.raises(ValueError, match="num_envs"):
        MarketVectorEnv(TINY_GAME, 0)
    with pytest.raises(ValueError, match="num_envs"):
        MarketVectorEnv(TINY_GAME, True)
    with pytest.raises(ValueError, match="seed"):
        MarketVectorEnv(TINY_GAME, 2, seed=-1)
    vec = MarketVectorEnv(TINY_GAME, 2)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((2, 2), dtype=np.int64))
    vec.reset()
    with pytest.raises(ValueError, match="seed"):
        vec.reset(seed=-3)
    assert vec.episode == 0  # the refused reset changed nothing
    with pytest.raises(ValueError, match="market"):
        vec.chance_source(2)
    with pytest.raises(ValueError, match="options"):
        vec.reset(options={"x": 1})


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_observations_stay_in_the_box_over_many_markets(name: str) -> None:
    """Hundreds of episodes of skewed random policies (one Dirichlet draw per market and agent): every observation,
    including the last of each episode, lies in the bounded Box derived from the config."""
    config = CONFIGS[name]
    B = 200
    vec = MarketVectorEnv(config.game_string(), B, seed=9)
    box = vec.single_observation_space
    low, high = box.low, box.high
    assert np.isfinite(low).all() and np.isfinite(high).all()
    rng = np.random.default_rng(10)
    obs, _ = vec.reset()
    for _ in range(3):
        cdf = np.cumsum(rng.dirichlet(np.full(vec.num_actions, 0.3), size=(B, vec.num_agents)), axis=-1)
        for _ in range(config.steps):
            assert ((obs >= low) & (obs <= high)).all()
            u = rng.random((B, vec.num_agents, 1))
            actions = np.minimum((u * cdf[..., -1:] >= cdf).sum(axis=-1), vec.num_actions - 1)
            obs, _, _, _, info = vec.step(actions)
            last = info["final_observation"]
            assert ((last >= low) & (last <= high)).all()
    assert box.contains(obs[0, 0])
