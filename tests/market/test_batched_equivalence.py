"""The batched market is the OpenSpiel game, market by market: same observations, rewards, returns and buffers.

Each market of a :class:`BatchedMarket` is replayed on its own ``python_lob_market`` state, fed the chance outcomes
of the batch's chance log and the same random joint actions, and compared after every round.
"""
from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pytest
import pyspiel
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import marketgames
from marketgames.market import rules as R
from marketgames.market.batched import BatchedMarket, market_keys
from marketgames.market.config import MarketConfig

TINY = pyspiel.load_game(marketgames.TINY_GAME).config

CONFIGS = {
    "default": MarketConfig(steps=8),
    # Narrow grid, heavy flow, tight limits: rejections, cut orders, self-trade cancels, expiries, clipped prices.
    "crowded": MarketConfig(steps=10, price_levels=9, initial_depth=3, bg_arrival_prob=1.0, bg_value_spread=3,
                            bg_shade_min=0, bg_shade_max=1, bg_ttl=2, position_limit=2, max_orders=2,
                            limit_levels=3, quote_levels=2, shock_prob=1.0, shock_size=2, mean_reversion=0.3,
                            book_levels=2, history=2, lot=2, bg_lot=3),
    # Outcomes of probability zero on both chance nodes, no history, no quotes.
    "tiny": TINY,
}


def _replay(config: MarketConfig, batch: int, seed: int, action_seed: int) -> None:
    """Step a batch and ``batch`` OpenSpiel states side by side; assert equality at every node."""
    market = BatchedMarket(config, batch, seed)
    game = pyspiel.load_game(config.game_string())
    n = config.players
    rng = np.random.default_rng(action_seed)
    market.reset()  # a used batch: reset() must give a fresh market (episode 1)
    market.step(rng.integers(0, config.num_actions, size=(batch, n)))
    obs = market.reset()
    states = [game.new_initial_state() for _ in range(batch)]
    rewards = market.rewards()
    for r in range(config.steps + 1):
        log = market.chance_log
        assert log.shape == (batch, min(r + 1, config.steps), 2)
        for i, state in enumerate(states):
            if r > 0:
                state.apply_actions([int(a) for a in actions[i]])  # noqa: F821  (bound at the end of round r - 1)
            if r < config.steps:
                for outcome in log[i, r]:
                    legal = dict(state.chance_outcomes())
                    assert legal.get(int(outcome), 0.0) > 0.0, (r, i, int(outcome), legal)
                    state.apply_action(int(outcome))
            assert state.is_terminal() == market.done == (r == config.steps)
            assert np.array_equal(state.market_buffer, market.market_buffer(i)), (r, i)
            assert state.rewards() == list(rewards[i]), (r, i)
            assert state.returns() == list(market.returns()[i]), (r, i)
            for p in range(n):
                assert np.array_equal(state.observation_ints(p), obs[i, p]), (r, i, p)
        if r == config.steps:
            break
        actions = rng.integers(0, config.num_actions, size=(batch, n))
        obs, rewards, done = market.step(actions)
        assert done.shape == (batch,) and bool(done.all()) == (r + 1 == config.steps)
    # Summed rewards are the returns (OpenSpiel's contract), here final profits at the fundamental.
    final = market.returns()
    for i, state in enumerate(states):
        assert state.returns() == list(final[i])


@pytest.mark.parametrize("players", [2, 3, 5, 8])
@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), action_seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 12))
def test_batch_equals_openspiel_states(name: str, players: int, seed: int, action_seed: int, batch: int) -> None:
    config = dataclasses.replace(CONFIGS[name], players=players)
    _replay(config, batch=batch, seed=seed, action_seed=action_seed)  # 8+ markets x 8 players: thread pool


def test_tiny_game_in_a_parallel_batch() -> None:
    _replay(TINY, batch=40, seed=7, action_seed=8)  # 80 agents: the thread-pool driver


def _trajectory(market: BatchedMarket, actions: np.ndarray, markets: int) -> list[np.ndarray]:
    out = [market.reset()[:markets]]
    for a in actions:
        obs, rew, _ = market.step(a)
        out += [obs[:markets], rew[:markets]]
    out.append(market.chance_log[:markets])
    return out


def _equal(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_market_does_not_depend_on_batch_size() -> None:
    config = MarketConfig(players=3, steps=12)
    big = np.random.default_rng(5).integers(0, config.num_actions, size=(config.steps, 64, 3))
    small = _trajectory(BatchedMarket(config, 4, seed=11), big[:, :4], 4)
    large = _trajectory(BatchedMarket(config, 64, seed=11), big, 4)
    assert _equal(small, large)
    # ... and an offset batch continues the numbering: market 4 + j of a batch from 0 is market j from 4.
    offset = _trajectory(BatchedMarket(config, 4, seed=11, first_market=4), big[:, 4:8], 4)
    assert _equal(offset, [x[4:8] for x in _trajectory(BatchedMarket(config, 64, seed=11), big, 8)])
    # Different seeds give different markets.
    other = _trajectory(BatchedMarket(config, 4, seed=12), big[:, :4], 4)
    assert not _equal(small, other)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_market_does_not_depend_on_thread_count() -> None:
    config = MarketConfig(players=5, steps=10)
    actions = np.random.default_rng(6).integers(0, config.num_actions, size=(config.steps, 257, 5))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _trajectory(BatchedMarket(config, 257, seed=3), actions, 257)
        numba.set_num_threads(2)
        two = _trajectory(BatchedMarket(config, 257, seed=3), actions, 257)
    finally:
        numba.set_num_threads(before)
    assert _equal(one, two)


def test_seed_forms_and_episodes() -> None:
    config = MarketConfig(players=2, steps=5)
    actions = np.zeros((config.steps, 8, 2), dtype=np.int64)
    ss = np.random.SeedSequence(99)
    assert np.array_equal(market_keys(99, 8), market_keys(ss, 8))
    assert ss.n_children_spawned == 0  # the caller's SeedSequence is not advanced
    rng = np.random.default_rng(5)
    from_rng = market_keys(rng, 8)
    assert np.array_equal(from_rng, market_keys(np.random.default_rng(5), 8))
    assert not np.array_equal(from_rng, market_keys(rng, 8))  # the injected generator moves on
    # The keys are SeedSequence(seed).spawn(B)'s children.
    spawned = [c.generate_state(2, dtype=np.uint64) for c in np.random.SeedSequence(99).spawn(8)]
    assert np.array_equal(market_keys(99, 8), np.array(spawned))
    market = BatchedMarket(config, 8, ss)
    first = _trajectory(market, actions, 8)
    second = _trajectory(market, actions, 8)
    assert market.episode == 1
    assert not np.array_equal(first[-1], second[-1])  # a new episode draws new chance outcomes
    again = BatchedMarket(config, 8, 99)
    assert _equal(first, _trajectory(again, actions, 8)) and _equal(second, _trajectory(again, actions, 8))


def test_chance_frequencies_match_the_configured_probabilities() -> None:
    config = MarketConfig(players=2, steps=50, bg_value_spread=2, bg_shade_min=0, bg_shade_max=2)
    market = BatchedMarket(config, 400, seed=2024)
    market.reset()
    hold = np.zeros((400, 2), dtype=np.int64)
    for _ in range(config.steps):
        market.step(hold)
    log = market.chance_log.reshape(-1, 2)
    assert log.shape == (400 * 50, 2)
    for column, probs in ((0, config.fundamental_outcome_probs()), (1, config.background_outcome_probs())):
        counts = np.bincount(log[:, column], minlength=len(probs))
        assert counts.sum() == len(log) and len(counts) == len(probs)
        test = stats.chisquare(counts, len(log) * probs)
        assert test.pvalue > 1e-4, (column, counts, len(log) * probs)


def test_uniforms_are_uniform_and_streams_independent() -> None:
    market = BatchedMarket(MarketConfig(players=2, steps=3), 20_000, seed=1)
    market.reset()
    u = np.stack([market.uniforms(s) for s in range(2, 6)])
    assert u.min() >= 0.0 and u.max() < 1.0
    for row in u:
        assert stats.kstest(row, "uniform").pvalue > 1e-4
    assert np.abs(np.corrcoef(u)[np.triu_indices(4, 1)]).max() < 0.05
    market.step(np.zeros((20_000, 2), dtype=np.int64))
    assert np.abs(np.corrcoef(u[0], market.uniforms(2))[0, 1]) < 0.05  # the next round draws afresh


def test_bad_arguments_are_refused() -> None:
    config = MarketConfig(players=2, steps=2)
    with pytest.raises(ValueError, match="batch_size"):
        BatchedMarket(config, 0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        BatchedMarket(config, 2, seed=-1)
    with pytest.raises(TypeError, match="config"):
        BatchedMarket({"players": 2}, 2, seed=1)
    market = BatchedMarket(config, 2, seed=1)
    with pytest.raises(RuntimeError, match="reset"):
        market.step(np.zeros((2, 2), dtype=np.int64))
    market.reset()
    with pytest.raises(ValueError, match="shape"):
        market.step(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="actions in"):
        market.step(np.full((2, 2), config.num_actions))
    market.step(np.zeros((2, 2), dtype=np.int64))
    market.step(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(RuntimeError, match="reset"):
        market.step(np.zeros((2, 2), dtype=np.int64))
    assert market.round == config.steps and market.fundamental.shape == (2,)
    assert market.account(1, 0) == tuple(int(x) for x in market.market_buffer(1)[
        [int(config.params()[R.P_OFF_PLAYERS]) + R.A_CASH, int(config.params()[R.P_OFF_PLAYERS]) + R.A_INVENTORY]])
