"""marketgames.conformance on many configurations and on every registered trader; and that the checks can fail."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from marketgames import TINY_GAME
from marketgames import conformance as C
from marketgames.games.lob_market import LobMarketState
from marketgames.market import rules as R

CONFIGS = {
    "tiny_2p": TINY_GAME,
    "default_2p": "python_lob_market",
    "3p_market_orders_only": "python_lob_market(players=3,steps=6,limit_levels=0,quote_levels=0,max_orders=1)",
    "5p_lot2_limit3": "python_lob_market(players=5,steps=6,lot=2,position_limit=3,limit_levels=2,quote_levels=1)",
    "8p_lot3_quotes": ("python_lob_market(players=8,steps=4,lot=3,position_limit=7,limit_levels=1,quote_levels=2,"
                       "max_orders=2,book_levels=2,history=2)"),
    "2p_volatile_no_limits": ("python_lob_market(players=2,steps=8,mean_reversion=0.5,shock_size=3,bg_lot=2,"
                              "initial_depth=0,limit_levels=0,quote_levels=3,max_orders=3,history=0,bg_ttl=1)"),
    "3p_quiet": ("python_lob_market(players=3,steps=5,price_levels=9,shock_prob=0.0,bg_arrival_prob=0.0,"
                 "initial_depth=3,limit_levels=4,quote_levels=0,position_limit=1,book_levels=5)"),
}
# Configurations where fundamentals can differ behind identical books: the hidden-fundamental check must bite.
TWINNABLE = {"default_2p", "3p_market_orders_only", "5p_lot2_limit3", "8p_lot3_quotes"}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_check_game(name):
    report = C.check_game(CONFIGS[name], num_sims=3, seed=11)
    game = pyspiel.load_game(CONFIGS[name])
    assert report.terminals == 3
    assert report.player_nodes == 3 * game.config.steps
    assert report.states == 3 * (1 + 3 * game.config.steps)
    if name in TWINNABLE:
        assert report.hidden_fundamental_pairs > 0


def test_check_game_takes_any_openspiel_game():
    report = C.check_game("kuhn_poker", num_sims=4, seed=0)
    assert report.terminals == 4 and report.hidden_fundamental_pairs == 0


def test_check_game_refuses_bad_num_sims():
    with pytest.raises(ValueError, match="num_sims"):
        C.check_game(TINY_GAME, num_sims=0)


# --------------------------------------------------------------------------- the checks detect broken games


def _episode_state(game_string, seed=0):
    game = pyspiel.load_game(game_string)
    rng = np.random.default_rng(seed)
    states = list(C._walk(game, rng))
    return game, states[-1]


def test_detects_an_observation_that_reveals_the_fundamental(monkeypatch):
    original = LobMarketState.observation_ints

    def leaky(self, player):
        out = original(self, player)
        out[-1] += self.fundamental
        return out

    monkeypatch.setattr(LobMarketState, "observation_ints", leaky)
    with pytest.raises(C.ConformanceError, match="depends on the fundamental"):
        C.check_game("python_lob_market(players=2,steps=6)", num_sims=3, seed=0, random_sim_test=False)


def test_detects_a_public_observation_that_holds_a_private_account(monkeypatch):
    from marketgames.games import lob_market

    original = lob_market.LobMarketObserver.string_from

    def leaky(self, state, player):  # a public observation naming the player's cash
        return original(self, state, player) + f" account={state.account(player)}"

    monkeypatch.setattr(lob_market.LobMarketObserver, "string_from", leaky)
    game, state = _episode_state("python_lob_market(players=2,steps=6)")
    assert state.account(0) != state.account(1)
    with pytest.raises(C.ConformanceError, match="public observation"):
        C.check_observer(game, state)


def test_detects_rewards_that_do_not_sum_to_returns(monkeypatch):
    monkeypatch.setattr(LobMarketState, "rewards", lambda self: [0.0] * self.get_game().num_players())
    with pytest.raises(C.ConformanceError, match="summed rewards"):
        C.check_game("python_lob_market(players=2,steps=6)", num_sims=3, seed=0, random_sim_test=False,
                     hidden_fundamental=False)


@pytest.mark.parametrize("field,delta,message", [
    ("submitted", 1, "not conserved"),
    ("best_bid", 0, "crossed book"),
])
def test_detects_broken_books(monkeypatch, field, delta, message):
    game, state = _episode_state("python_lob_market(players=2,steps=6)")
    off = int(game.params_vector[R.P_OFF_BOOK])
    buf = state.market_buffer
    from marketgames.book import kernels as BK
    if field == "submitted":
        buf[off + BK.H_SUBMITTED] += delta
    else:  # a bid level above the best ask, with the header saying so
        n = int(buf[off + BK.H_N_TICKS])
        ask = int(buf[off + BK.H_BEST_ASK]) if buf[off + BK.H_BEST_ASK] < n else n - 1
        lq = off + int(buf[off + BK.H_OFF_LEVEL_QTY])
        buf[lq:lq + n] = 0
        buf[lq + ask] = int(buf[lq + n + ask]) if buf[lq + n + ask] > 0 else 1
        buf[lq + n:lq + 2 * n] = 0
        buf[lq + n + ask] = buf[lq + ask]
        buf[off + BK.H_BEST_BID] = ask
        buf[off + BK.H_BEST_ASK] = ask
    monkeypatch.setattr(LobMarketState, "market_buffer", property(lambda self: buf.copy()))
    with pytest.raises(C.ConformanceError, match=message):
        C.check_market_invariants(game, state)


def test_detects_a_position_beyond_the_limit(monkeypatch):
    game, state = _episode_state("python_lob_market(players=2,steps=6)")
    buf = state.market_buffer
    buf[int(game.params_vector[R.P_OFF_PLAYERS]) + R.A_INVENTORY] = game.config.position_limit + 1
    monkeypatch.setattr(LobMarketState, "market_buffer", property(lambda self: buf.copy()))
    with pytest.raises(C.ConformanceError, match="position_limit"):
        C.check_market_invariants(game, state)


# --------------------------------------------------------------------------- traders

try:
    from marketgames.traders import TRADERS, TraderConfigError, make_trader
    TRADER_NAMES = sorted(TRADERS)
    _SKIP = None
except ImportError as exc:  # the traders package is written concurrently
    TRADERS, TRADER_NAMES, _SKIP = {}, ["<none>"], f"marketgames.traders is not importable yet: {exc}"

TRADER_GAMES = {
    "default_2p": CONFIGS["default_2p"],
    "5p_lot2_limit3": CONFIGS["5p_lot2_limit3"],
    "3p_market_orders_only": CONFIGS["3p_market_orders_only"],
}


@pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")
@pytest.mark.parametrize("game_name", sorted(TRADER_GAMES))
@pytest.mark.parametrize("trader", TRADER_NAMES)
def test_check_trader(trader, game_name):
    game = pyspiel.load_game(TRADER_GAMES[game_name])
    try:
        make_trader(trader, game)
    except TraderConfigError as exc:  # a trader may refuse a market lacking what it needs, naming why
        assert "not allowed" in str(exc)
        assert game_name != "default_2p", f"{trader} must play the default market: {exc}"
        pytest.skip(f"{trader} refuses {game_name}: {exc}")
    report = C.check_trader(trader, game, num_sims=2, seed=5)
    assert report.player_nodes == 2 * game.config.steps * game.num_players()


@pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")
def test_check_trader_detects_a_trader_that_is_not_a_distribution():
    game = pyspiel.load_game(CONFIGS["default_2p"])
    trader = make_trader(TRADER_NAMES[0], game)
    original = type(trader).action_probabilities

    class Broken(type(trader)):
        def action_probabilities(self, state, player_id=None):
            return {a: 2 * p for a, p in original(self, state, player_id).items()}

    broken = Broken(game, **trader.params)
    with pytest.raises(C.ConformanceError, match="not a distribution"):
        C.check_trader(broken, game, num_sims=1)


# --------------------------------------------------------------------------- any configuration
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def market_configs(draw):
    price_levels = draw(st.integers(5, 15))
    quote_levels = draw(st.integers(0, 2))
    shade_min = draw(st.integers(0, 2))
    params = dict(
        players=draw(st.integers(2, 6)), steps=draw(st.integers(1, 4)), price_levels=price_levels,
        mean_reversion=draw(st.sampled_from([0.0, 0.05, 0.5, 1.0])), shock_prob=draw(st.sampled_from([0.0, 0.5, 1.0])),
        shock_size=draw(st.integers(0, 3)), bg_arrival_prob=draw(st.sampled_from([0.0, 0.8, 1.0])),
        bg_value_spread=draw(st.integers(0, 2)), bg_shade_min=shade_min, bg_shade_max=draw(st.integers(shade_min, 3)),
        bg_lot=draw(st.integers(1, 3)), bg_ttl=draw(st.integers(1, 4)),
        initial_depth=draw(st.integers(0, price_levels // 2 - 1)), lot=draw(st.integers(1, 3)),
        position_limit=draw(st.integers(1, 4)), max_orders=draw(st.integers(2 if quote_levels else 1, 4)),
        limit_levels=draw(st.integers(0, 3)), quote_levels=quote_levels, book_levels=draw(st.integers(1, 3)),
        history=draw(st.integers(0, 3)))
    return "python_lob_market(" + ",".join(f"{k}={v}" for k, v in params.items()) + ")"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game_string=market_configs(), seed=st.integers(0, 2**31))
def test_check_game_on_random_configurations(game_string, seed):
    report = C.check_game(game_string, num_sims=2, seed=seed)
    assert report.terminals == 2


def test_check_all_traders_reports_on_every_registered_trader():
    """Every trader of the registry either passes on the default market or refuses it with a clear error."""
    from marketgames.traders import TRADERS

    out = C.check_all_traders("python_lob_market(players=2,steps=3)", num_sims=1)
    assert set(out) == set(TRADERS)
    assert all(isinstance(r, (C.ConformanceReport, ValueError)) for r in out.values())
    assert sum(isinstance(r, C.ConformanceReport) for r in out.values()) >= len(TRADERS) - 2
