"""Background surplus accounting (shared kernels) and the paired market-damage measure of solvers.robustness."""
from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401
from marketgames.market import rules as R
from marketgames.market.batched import BatchedMarket
from marketgames.market.config import MarketConfig
from marketgames.market.population import play_population
from marketgames.traders import make_trader
from solvers.robustness import DAMAGE_MEASURES, idle_seat, market_damage, market_measures

GAME = "python_lob_market(players=3,steps=12,limit_levels=3)"


@pytest.mark.parametrize("spread,smin,smax", [(2, 0, 2), (0, 0, 0), (3, 1, 1), (1, 0, 4)])
def test_background_value_is_the_expected_private_value_given_the_order(spread, smin, smax):
    """Brute force over (theta, s): twice E[theta | offset] for each background outcome's side and offset."""
    config = MarketConfig(bg_value_spread=spread, bg_shade_min=smin, bg_shade_max=smax)
    P = config.params()
    for side, offsets, sign in ((0, config.bg_buy_offsets, -1), (1, config.bg_sell_offsets, 1)):
        for d in offsets:
            thetas = [t for t, s in itertools.product(range(-spread, spread + 1), range(smin, smax + 1))
                      if t + sign * s == d]
            assert R.background_value2(P, side, int(d)) == pytest.approx(2 * np.mean(thetas))


def _play(game, outcomes, actions):
    state = game.new_initial_state()
    for fund, bg, joint in zip(outcomes[::2], outcomes[1::2], actions):
        state.apply_action(fund)
        state.apply_action(bg)
        state.apply_actions(joint)
    return state


def test_background_surplus_is_value_plus_fundamental_minus_price_per_lot():
    """Known answers: a player buys the initial ask (private value 0) -> the background seller's surplus is price
    minus the final fundamental; a background buyer lifting the other initial ask adds its E[theta] too."""
    game = pyspiel.load_game("python_lob_market(players=2,steps=2,initial_depth=2,shock_prob=0.0)")
    f = game.config.fundamental_mean
    state = _play(game, [1, 0, 1, 0], [[R.MARKET_BUY, R.HOLD], [R.HOLD, R.HOLD]])
    assert state.is_terminal() and state.fundamental == f
    assert state.background_surplus == pytest.approx((f + 1) - f)
    assert state.returns()[0] == pytest.approx(f - (f + 1))
    # a background buyer at offset +2 (theta - s = 2 with theta <= 2, s >= 0: theta = 2) lifts the ask at f + 2
    buys = list(game.config.bg_buy_offsets)
    outcome = 1 + buys.index(2)
    state = _play(game, [1, 0, 1, outcome], [[R.MARKET_BUY, R.HOLD], [R.HOLD, R.HOLD]])
    # background seller at f+1 (to the player): +1; buyer (value f + 2) takes the ask f + 2: 0; seller there: +2
    assert state.background_surplus == pytest.approx(1 + (f + 2 - (f + 2)) + (f + 2 - f))
    assert float(state.market_buffer[R.M_BG_VALUE2]) / 2 == pytest.approx(2.0)  # total surplus: theta of the buyer


def test_background_plus_players_surplus_is_the_private_value_traded_in_batched_play():
    """Cash and lots only change hands: background surplus + players' returns = total signed private value."""
    game = pyspiel.load_game(GAME)
    traders = [make_trader(s, game, [p]) for p, s in enumerate(["zi(value=mid)", "market_maker", "spoofer"])]
    market = BatchedMarket(game.config, 16, 5)
    returns = play_population(traders, market)
    total = np.array([market.market_buffer(i)[R.M_BG_VALUE2] for i in range(16)]) / 2.0
    np.testing.assert_allclose(market.background_surplus() + returns.sum(axis=1), total)
    assert np.any(total != 0)


def test_damage_of_an_idle_trader_is_exactly_zero_with_common_random_numbers():
    game = pyspiel.load_game(GAME)
    d = market_damage(game, ["zi(value=mid)", "noise"], None, episodes=40, seed=3)
    for name in DAMAGE_MEASURES:
        m = d[name]
        if np.isfinite(m.difference):
            assert m.difference == 0.0 and m.sem == 0.0 and not m.significant


def test_damage_pairs_the_same_markets_and_its_accounts_add_up():
    game = pyspiel.load_game(GAME)
    bg = ["zi(value=mid)", "zi(value=mid)"]
    a = market_damage(game, bg, "pump_and_dump", episodes=60, seed=2)
    b = market_damage(game, bg, "predator", episodes=60, seed=2)
    # the same baseline markets whatever the trader
    for name in DAMAGE_MEASURES:
        assert a[name].baseline == b[name].baseline or not np.isfinite(a[name].baseline)
    for d in (a, b):
        assert d["total_surplus"].treated == pytest.approx(d["others_surplus"].treated + d["trader_profit"].treated)
        assert d["trader_profit"].treated == pytest.approx(d["seat2_return"].treated)
        assert d["trader_profit"].baseline == 0.0  # the idle seat never trades
    # the pump moves the price and trades a lot: measured, clearly non-zero
    assert a["volume"].ci_low > 0 and a["efficiency_abs_error"].ci_low > 0
    # the per-episode measures behind it: the baseline arm is the market with an idle seat
    runs = market_measures(game, [*bg, idle_seat(game, 2)], 60, 2)
    assert runs["volume"].mean() == pytest.approx(a["volume"].baseline)
    assert runs["seat_returns"].shape == (60, 3)


def test_damage_numbers_do_not_depend_on_the_batch_size():
    game = pyspiel.load_game(GAME)
    bg = ["zi(value=mid)", "trend"]
    big = market_damage(game, bg, "spoofer", episodes=30, seed=1)
    small = market_damage(game, bg, "spoofer", episodes=30, seed=1, max_batch=7)
    assert big.measures == small.measures


def test_damage_accepts_a_batch_policy():
    game = pyspiel.load_game(GAME)
    n = game.num_distinct_actions()

    class Uniform:
        def batch_probabilities(self, observations, legal_mask):
            return np.full((len(observations), n), 1.0 / n)

    d = market_damage(game, [Uniform(), "zi"], "spoofer", episodes=20, seed=0)
    assert np.isfinite(d["total_surplus"].difference)


@pytest.mark.parametrize("kwargs,needle", [
    ({"episodes": 1}, "episodes=1"),
    ({"seat": 3}, "seat=3"),
    ({"confidence": 1.0}, "confidence=1.0"),
    ({"background": ["zi"]}, "background="),
    ({"trader": 3}, "trader=3"),
    ({"background": ["zi", make_trader("zi", pyspiel.load_game(GAME), [0])]}, "plays seats"),
])
def test_damage_refuses_bad_arguments(kwargs, needle):
    args = {"game": pyspiel.load_game(GAME), "background": ["zi", "zi"], "trader": "spoofer", "episodes": 4,
            **kwargs}
    with pytest.raises((ValueError, TypeError), match=needle):
        market_damage(**args)
