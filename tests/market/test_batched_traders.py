"""Traders seated in a batched market choose what their OpenSpiel policy would choose with the same uniform number.

At every player node, :func:`population_actions` on the batch is compared, market by market and seat by seat, with
the trader's ``action_probabilities`` on the replayed ``python_lob_market`` state, sampled by an independent scalar
inverse CDF with the same uniform number (the market's stream for that seat).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import pyspiel
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import marketgames
from marketgames.market import rules as R
from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket
from marketgames.market.config import MarketConfig
from marketgames.market.population import population_actions, sample_rows

try:
    from marketgames.traders import TRADERS, TraderConfigError, make_trader
except ImportError:  # the traders package is optional for these tests
    TRADERS, TraderConfigError, make_trader = {}, ValueError, None


class StubTrader:
    """A tiny mixed strategy on the observation: leans against its inventory, and quotes when the spread is wide.

    ``probabilities`` is vectorised numpy; ``action_probabilities`` recomputes the same law with scalar Python from
    the state, so the two paths share no code.
    """

    def __init__(self, config: MarketConfig, seat: int) -> None:
        self.config = config
        self.player_ids = [seat]
        self._spread = R.OBS_PRIVATE + 4 * config.book_levels + 1

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        inv = obs[:, 0].astype(np.float64)
        wide = obs[:, self._spread] > 2
        probs = np.zeros((obs.shape[0], self.config.num_actions))
        lean = np.clip(0.5 - 0.1 * inv, 0.0, 1.0)
        probs[:, 2] = 0.6 * lean        # market buy
        probs[:, 3] = 0.6 * (1 - lean)  # market sell
        probs[:, 0] = 0.4               # hold
        probs[wide, 0] = 0.1
        probs[wide, self.config.num_actions - 1] = 0.3  # the widest quote (or the last action)
        return probs

    def action_probabilities(self, state, player_id: int) -> dict[int, float]:
        obs = state.observation_ints(player_id)
        inv = float(obs[0])
        lean = min(max(0.5 - 0.1 * inv, 0.0), 1.0)
        probs = {0: 0.4, 2: 0.6 * lean, 3: 0.6 * (1 - lean)}
        if obs[self._spread] > 2:
            probs[0] = 0.1
            probs[self.config.num_actions - 1] = probs.get(self.config.num_actions - 1, 0.0) + 0.3
        return {a: p for a, p in probs.items() if p > 0}


def _reference_draw(probs: dict[int, float], num_actions: int, u: float) -> int:
    """Scalar inverse CDF: the first action whose cumulative probability exceeds ``u`` times the total."""
    dense = [float(probs.get(a, 0.0)) for a in range(num_actions)]
    total, cums = 0.0, []
    for p in dense:
        total += p
        cums.append(total)
    x = u * total
    for a, c in enumerate(cums):
        if c > x:
            return a
    return max(a for a, p in enumerate(dense) if p > 0)


def _play(config: MarketConfig, make_seat, batch: int, seed: int) -> np.ndarray:
    """Play a batch with seated traders against replayed OpenSpiel states; returns the actions played."""
    game = pyspiel.load_game(config.game_string())
    traders = [make_seat(game, p) for p in range(config.players)]
    market = BatchedMarket(config, batch, seed)
    obs = market.reset()
    states = [game.new_initial_state() for _ in range(batch)]
    played = []
    for r in range(config.steps):
        log = market.chance_log
        actions = population_actions(traders, market)
        for i, state in enumerate(states):
            if r > 0:
                state.apply_actions([int(a) for a in played[-1][i]])
            for outcome in log[i, r]:
                state.apply_action(int(outcome))
            for p, trader in enumerate(traders):
                assert np.array_equal(state.observation_ints(p), obs[i, p])
                u = float(market.uniforms(STREAM_FIRST_SEAT + p)[i])
                probs = trader.action_probabilities(state, p)
                assert actions[i, p] == _reference_draw(probs, config.num_actions, u), (r, i, p, probs, u)
                assert probs.get(int(actions[i, p]), 0.0) > 0.0
        obs, _, _ = market.step(actions)
        played.append(actions)
    return np.array(played)


def test_stub_traders_match_their_openspiel_policy() -> None:
    config = MarketConfig(players=3, steps=8, quote_levels=2)
    played = _play(config, lambda game, p: StubTrader(config, p), batch=6, seed=5)
    assert len(np.unique(played)) >= 3  # the draws really mix actions


def test_stub_traders_on_the_tiny_game() -> None:
    config = pyspiel.load_game(marketgames.TINY_GAME).config
    _play(dataclasses.replace(config, players=3), lambda game, p: StubTrader(game.config, p), batch=8, seed=9)


@pytest.mark.skipif(make_trader is None, reason="marketgames.traders is not importable")
@pytest.mark.parametrize("name", sorted(TRADERS))
def test_registered_traders_match_their_openspiel_policy(name: str) -> None:
    config = MarketConfig(players=3, steps=8)
    others = sorted(TRADERS)
    specs = [name] + [others[(others.index(name) + k) % len(others)] for k in (1, 2)]

    def seat(game, p):
        return make_trader(specs[p], game, player_ids=[p])

    try:
        _play(config, seat, batch=5, seed=13)
    except TraderConfigError as exc:  # a trader that needs market features the default market lacks
        pytest.skip(f"{specs}: {exc}")


def test_population_actions_do_not_depend_on_batch_size() -> None:
    config = MarketConfig(players=2, steps=4)
    traders = [StubTrader(config, 0), StubTrader(config, 1)]
    small, large = BatchedMarket(config, 3, seed=4), BatchedMarket(config, 40, seed=4)
    small.reset()
    large.reset()
    for _ in range(config.steps):
        a_small, a_large = population_actions(traders, small), population_actions(traders, large)
        assert np.array_equal(a_small, a_large[:3])
        small.step(a_small)
        large.step(a_large)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5).filter(lambda r: sum(r) > 1e-3),
                     min_size=1, max_size=8),
       us=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=8, max_size=8))
def test_sample_rows_is_the_scalar_inverse_cdf(rows: list[list[float]], us: list[float]) -> None:
    probs = np.array(rows) / np.array(rows).sum(axis=1, keepdims=True)
    u = np.array(us[:len(rows)])
    drawn = sample_rows(probs, u)
    for i in range(len(rows)):
        expected = _reference_draw(dict(enumerate(probs[i])), 5, float(u[i]))
        assert drawn[i] == expected and probs[i, drawn[i]] > 0


def test_sample_rows_frequencies_and_refusals() -> None:
    p = np.array([0.1, 0.0, 0.55, 0.35])
    u = np.random.default_rng(0).random(50_000)
    counts = np.bincount(sample_rows(np.tile(p, (len(u), 1)), u), minlength=4)
    assert counts[1] == 0
    assert stats.chisquare(counts[[0, 2, 3]], len(u) * p[[0, 2, 3]]).pvalue > 1e-4
    with pytest.raises(ValueError, match="sums to"):
        sample_rows(np.array([[0.5, 0.4]]), np.array([0.3]))
    with pytest.raises(ValueError, match="non-negative"):
        sample_rows(np.array([[1.5, -0.5]]), np.array([0.3]))
    with pytest.raises(ValueError, match="uniforms"):
        sample_rows(np.array([[0.5, 0.5]]), np.array([1.0]))


def test_population_actions_refuses_bad_populations() -> None:
    config = MarketConfig(players=2, steps=2)
    market = BatchedMarket(config, 2, seed=1)
    with pytest.raises(RuntimeError, match="reset"):
        population_actions([StubTrader(config, 0), StubTrader(config, 1)], market)
    market.reset()
    with pytest.raises(ValueError, match="one per seat"):
        population_actions([StubTrader(config, 0)], market)
    with pytest.raises(ValueError, match="plays seats"):
        population_actions([StubTrader(config, 1), StubTrader(config, 1)], market)
    with pytest.raises(TypeError, match="probabilities"):
        population_actions([object(), StubTrader(config, 1)], market)
