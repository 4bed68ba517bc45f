"""Rule-based traders: valid distributions, the policy API, no peeking, behaviour that pins each rule's meaning,
clear parameter errors and spec round trips."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import pyspiel
from hypothesis import given, settings
from hypothesis import strategies as st

import marketgames  # noqa: F401
from marketgames.market import rules as R
from marketgames.traders import (TRADERS, ActionLayout, ObservationLayout, RuleTrader, TraderConfigError,
                                 format_spec, make_trader, parse_spec, split_top_level)

GAMES = {
    "default": "python_lob_market(players=3,steps=30)",
    "wide": "python_lob_market(players=2,steps=25,limit_levels=3,quote_levels=3,book_levels=2,history=3,lot=2,"
            "position_limit=6,max_orders=5,price_levels=31)",
}
VARIANTS = [
    *TRADERS,
    "trend(order=limit,window=2,threshold=0.5,max_position=3)",
    "mean_reversion(reference=moving_average,window=2,threshold=1)",
    "mean_reversion(order=limit,threshold=0.5)",
    "noise(buy_prob=0.1,sell_prob=0.6,max_position=2)",
    "market_maker(half_spread=2,unwind=market,skew_inventory=2)",
    "market_maker(unwind=hold)",
    "zi(value=mid,value_spread=2,min_surplus=1,market_orders=True,activity=0.6)",
    "zi(value=fundamental_mean,replace=False,buy_prob=0.8)",
    "spoofer(side=sell,trade_order=limit,period=4)",
    "pump_and_dump(start=3,pump_rounds=2,dump_rounds=3,repeat=False,dump_order=limit)",
]


@functools.lru_cache(maxsize=None)
def game(key: str):
    return pyspiel.load_game(GAMES[key])


@functools.lru_cache(maxsize=None)
def played_states(key: str, seed: int = 0, episodes: int = 4):
    """States at every player node of a few episodes of uniformly random play (a varied set of markets)."""
    g = game(key)
    rng = np.random.default_rng(seed)
    states = []
    for _ in range(episodes):
        s = g.new_initial_state()
        while not s.is_terminal():
            if s.is_chance_node():
                outcomes, probs = zip(*s.chance_outcomes())
                s.apply_action(int(rng.choice(outcomes, p=probs)))
            else:
                states.append(s.clone())
                s.apply_actions([int(rng.integers(g.num_distinct_actions())) for _ in range(g.num_players())])
    return tuple(states)


def observations(key: str) -> np.ndarray:
    g = game(key)
    return np.array([s.observation_ints(p) for s in played_states(key) for p in range(g.num_players())])


def assert_distributions(probs: np.ndarray, batch: int, num_actions: int) -> None:
    assert probs.shape == (batch, num_actions)
    assert probs.dtype == np.float64
    assert np.all(np.isfinite(probs)) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


def obs_with(layout: ObservationLayout, *, inventory=0, resting_buy=0, resting_sell=0, bids=((19, 1),),
             asks=((21, 1),), last=20, rounds_left=10, mid_changes=None) -> np.ndarray:
    """One hand-made observation (a batch of one)."""
    o = np.zeros(layout.size, dtype=np.int64)
    o[layout.INVENTORY], o[layout.RESTING_BUY], o[layout.RESTING_SELL] = inventory, resting_buy, resting_sell
    for side_prices, side_sizes, levels in ((layout.bid_prices, layout.bid_sizes, bids),
                                            (layout.ask_prices, layout.ask_sizes, asks)):
        o[side_prices] = -1
        for i, (price, size) in enumerate(levels):
            o[side_prices.start + i], o[side_sizes.start + i] = price, size
    o[layout.last_price_index] = last
    o[layout.spread_index] = asks[0][0] - bids[0][0] if bids and asks else -1
    o[layout.rounds_left_index] = rounds_left
    o[layout.mid_changes] = 0 if mid_changes is None else mid_changes
    return o[None]


# --------------------------------------------------------------------------------------------- distributions, API
@pytest.mark.parametrize("key", list(GAMES))
@pytest.mark.parametrize("spec", VARIANTS)
def test_probabilities_are_distributions_on_played_states(spec, key):
    g = game(key)
    trader = make_trader(spec, g)
    obs = observations(key)
    assert_distributions(trader.probabilities(obs), len(obs), g.num_distinct_actions())
    # Vectorised over the batch: each row is what the trader says about that observation alone.
    rows = np.array([trader.probabilities(o[None])[0] for o in obs[::7]])
    np.testing.assert_array_equal(rows, trader.probabilities(obs[::7]))


def _obs_strategy(layout: ObservationLayout):
    c = layout.config
    n_t = c.price_levels
    price = st.integers(-1, n_t - 1)
    fields = [st.integers(-c.position_limit, c.position_limit), st.integers(-10_000, 10_000), st.integers(0, 12),
              st.integers(0, 12)]
    fields += [price] * c.book_levels + [st.integers(0, 6)] * c.book_levels
    fields += [price] * c.book_levels + [st.integers(0, 6)] * c.book_levels
    fields += [st.integers(0, n_t - 1), st.integers(-1, n_t), st.integers(0, c.steps)]
    fields += [st.integers(-2 * n_t, 2 * n_t)] * c.history
    return st.lists(st.tuples(*fields), min_size=1, max_size=8)


@pytest.mark.parametrize("spec", VARIANTS)
def test_probabilities_are_distributions_on_arbitrary_observations(spec):
    g = game("wide")
    trader = make_trader(spec, g)

    @settings(max_examples=40, deadline=None)
    @given(_obs_strategy(trader.layout))
    def check(rows):
        obs = np.array(rows, dtype=np.int64)
        assert_distributions(trader.probabilities(obs), len(obs), g.num_distinct_actions())

    check()


@pytest.mark.parametrize("spec", VARIANTS)
def test_action_probabilities_equal_probabilities(spec):
    g = game("default")
    trader = make_trader(spec, g)
    for state in played_states("default")[::5]:
        for p in range(g.num_players()):
            row = trader.probabilities(state.observation_ints(p)[None])[0]
            got = trader.action_probabilities(state, p)
            assert got == {a: row[a] for a in range(len(row)) if row[a] > 0}
            assert sum(got.values()) == pytest.approx(1.0)
    one_seat = make_trader(spec, g, player_ids=[1])
    state = played_states("default")[3]
    assert one_seat.action_probabilities(state) == trader.action_probabilities(state, 1)
    with pytest.raises(ValueError, match="player_id=0"):
        one_seat.action_probabilities(state, 0)


@pytest.mark.parametrize("spec", VARIANTS)
def test_traders_never_peek_at_the_fundamental(spec):
    """Two markets that differ only in the fundamental (no background arrivals, same actions) look the same."""
    g = game("default")
    trader = make_trader(spec, g)
    low, high = g.new_initial_state(), g.new_initial_state()
    rng = np.random.default_rng(3)
    for _ in range(8):
        low.apply_action(0)    # fundamental shock down
        high.apply_action(2)   # shock up
        low.apply_action(0)    # no background arrival
        high.apply_action(0)
        assert low.fundamental < high.fundamental
        actions = []
        for p in range(g.num_players()):
            np.testing.assert_array_equal(low.observation_ints(p), high.observation_ints(p))
            probs = trader.action_probabilities(low, p)
            assert probs == trader.action_probabilities(high, p)
            actions.append(int(rng.choice(list(probs), p=list(probs.values()))))
        low.apply_actions(actions)
        high.apply_actions(actions)


def test_observation_layout_decodes_the_market():
    g = game("wide")
    layout, P = ObservationLayout(g.config), g.params_vector
    for state in played_states("wide")[::3]:
        obs = state.observation_ints(0)[None]
        assert layout.mid2(obs)[0] == R.mark2(state.market_buffer, P)
        assert layout.rounds_left(obs)[0] == g.config.steps - state.round
        assert (layout.inventory(obs)[0], layout.cash(obs)[0]) == state.account(0)[::-1]
        spread = layout.spread(obs)[0]
        if layout.has_bid(obs)[0] and layout.has_ask(obs)[0]:
            assert spread == layout.best_ask(obs)[0] - layout.best_bid(obs)[0] > 0
        else:
            assert spread == -1


def test_limit_prices_are_where_the_market_puts_the_orders():
    """A lone limit buy at offset k rests at ``limit_buy_prices[k]`` (so traders price their orders correctly)."""
    g = pyspiel.load_game("python_lob_market(limit_levels=3,book_levels=5)")
    A = ActionLayout(g.config)
    for k in range(g.config.limit_levels):
        state = g.new_initial_state()
        state.apply_action(1)
        state.apply_action(0)
        layout = ObservationLayout(g.config)
        expected = layout.limit_buy_prices(state.observation_ints(0)[None])[0, k]
        state.apply_actions([A.limit_buy(k), A.HOLD])
        obs = state.observation_ints(0)[None]
        assert layout.resting_buy(obs)[0] == g.config.lot
        assert expected in obs[0, layout.bid_prices]


# --------------------------------------------------------------------------------------------- behaviour
def _action(trader: RuleTrader, obs: np.ndarray) -> int:
    probs = trader.probabilities(obs)[0]
    assert probs.max() == 1.0, "a deterministic rule puts all its mass on one action"
    return int(np.argmax(probs))


def test_trend_follower_buys_after_rises_and_sells_after_falls():
    g = game("default")
    t = make_trader("trend(window=3,threshold=1)", g, [0])
    L, A = t.layout, t.actions
    assert _action(t, obs_with(L, mid_changes=[0, 2, 0, 2])) == A.MARKET_BUY    # +2 ticks over 3 rounds
    assert _action(t, obs_with(L, mid_changes=[0, -1, -1, 0])) == A.MARKET_SELL
    assert _action(t, obs_with(L, mid_changes=[0, 1, 0, 0])) == A.HOLD          # +0.5 tick < threshold
    assert _action(t, obs_with(L, mid_changes=[9, 0, 0, 0])) == A.HOLD          # outside the window
    full = g.config.position_limit
    assert _action(t, obs_with(L, inventory=full, mid_changes=[2, 2, 2, 2])) == A.HOLD
    assert _action(t, obs_with(L, inventory=-full, mid_changes=[-2, -2, -2, -2])) == A.HOLD
    lim = make_trader("trend(order=limit)", g, [0])
    assert _action(lim, obs_with(L, mid_changes=[2, 2, 0, 0])) == A.limit_buy(0)
    assert _action(lim, obs_with(L, resting_sell=1, mid_changes=[2, 2, 0, 0])) == A.CANCEL
    assert _action(lim, obs_with(L, resting_buy=1, mid_changes=[2, 2, 0, 0])) == A.HOLD


def test_mean_reversion_trades_against_deviations():
    g = game("default")
    mean = g.config.fundamental_mean
    m = make_trader("mean_reversion(threshold=2)", g, [0])
    L, A = m.layout, m.actions
    assert _action(m, obs_with(L, bids=((mean + 2, 1),), asks=((mean + 4, 1),))) == A.MARKET_SELL
    assert _action(m, obs_with(L, bids=((mean - 4, 1),), asks=((mean - 2, 1),))) == A.MARKET_BUY
    assert _action(m, obs_with(L, bids=((mean - 1, 1),), asks=((mean + 1, 1),))) == A.HOLD
    # Moving average: after a rise the price is above its average, so it sells where the trend follower buys.
    ma = make_trader("mean_reversion(reference=moving_average,threshold=1)", g, [0])
    trend = make_trader("trend(threshold=1)", g, [0])
    for changes, mr_action, trend_action in (([2, 2, 2, 2], A.MARKET_SELL, A.MARKET_BUY),
                                             ([-2, -2, -2, -2], A.MARKET_BUY, A.MARKET_SELL)):
        obs = obs_with(L, mid_changes=changes)
        assert (_action(ma, obs), _action(trend, obs)) == (mr_action, trend_action)


def test_noise_trader_probabilities():
    g = game("default")
    n = make_trader("noise(buy_prob=0.2,sell_prob=0.3)", g, [0])
    L, A = n.layout, n.actions
    probs = n.probabilities(obs_with(L))[0]
    assert (probs[A.MARKET_BUY], probs[A.MARKET_SELL], probs[A.HOLD]) == pytest.approx((0.2, 0.3, 0.5))
    at_limit = n.probabilities(obs_with(L, inventory=g.config.position_limit))[0]
    assert (at_limit[A.MARKET_BUY], at_limit[A.HOLD]) == pytest.approx((0.0, 0.7))


def test_market_maker_quotes_when_flat_and_stops_adding_at_its_limit():
    g = game("wide")
    mm = make_trader("market_maker(half_spread=2,inventory_limit=4,skew_inventory=2)", g, [0])
    L, A = mm.layout, mm.actions
    assert _action(mm, obs_with(L)) == A.quote(2)
    assert _action(mm, obs_with(L, inventory=1, resting_buy=2, resting_sell=2)) == A.quote(2)
    for inv in (2, 3, 4, 6):
        probs = mm.probabilities(obs_with(L, inventory=inv, resting_buy=2))[0]
        assert probs[A.buy_actions].sum() == 0.0 and probs[A.CANCEL] == 1.0   # withdraw the bids
        probs = mm.probabilities(obs_with(L, inventory=inv))[0]
        assert probs[A.buy_actions].sum() == 0.0 and probs[A.limit_sell(0)] == 1.0  # offer only
        probs = mm.probabilities(obs_with(L, inventory=-inv))[0]
        assert probs[A.sell_actions].sum() == 0.0 and probs[A.limit_buy(0)] == 1.0
    dumping = make_trader("market_maker(unwind=market,inventory_limit=4)", g, [0])
    assert _action(dumping, obs_with(L, inventory=4, resting_sell=2)) == A.MARKET_SELL
    passive = make_trader("market_maker(unwind=hold)", g, [0])
    assert _action(passive, obs_with(L, inventory=-6)) == A.HOLD


def test_market_maker_position_stays_within_its_limit_in_play():
    g = game("default")
    mm = make_trader("market_maker(inventory_limit=2,skew_inventory=1)", g, [0])
    others = [make_trader("noise(buy_prob=0.45,sell_prob=0.45)", g, [p]) for p in (1, 2)]
    rng = np.random.default_rng(5)
    for _ in range(3):
        s = g.new_initial_state()
        while not s.is_terminal():
            if s.is_chance_node():
                outcomes, probs = zip(*s.chance_outcomes())
                s.apply_action(int(rng.choice(outcomes, p=probs)))
                continue
            acts = []
            for p, t in enumerate([mm, *others]):
                probs = t.action_probabilities(s, p)
                acts.append(int(rng.choice(list(probs), p=list(probs.values()))))
            s.apply_actions(acts)
            assert abs(s.account(0)[1]) <= 2 + g.config.lot


ZI_SPECS = ["zi", "zi(value=mid,min_surplus=1)", "zi(value=fundamental_mean,market_orders=True)",
            "zi(value=mid,market_orders=True,value_spread=1,replace=False)"]


@pytest.mark.parametrize("spec", ZI_SPECS)
def test_zi_never_bids_above_or_asks_below_its_value(spec):
    g = game("wide")
    zi = make_trader(spec, g)
    L, A, p = zi.layout, zi.actions, zi.params
    obs = observations("wide")
    probs = zi.probabilities(obs)
    top = zi.value_estimate(obs) + p["value_spread"] - p["min_surplus"]
    low = zi.value_estimate(obs) + -p["value_spread"] + p["min_surplus"]
    buy_px, sell_px = L.limit_buy_prices(obs), L.limit_sell_prices(obs)
    for k in range(g.config.limit_levels):
        assert np.all(buy_px[probs[:, A.limit_buy(k)] > 0, k] <= top[probs[:, A.limit_buy(k)] > 0])
        assert np.all(sell_px[probs[:, A.limit_sell(k)] > 0, k] >= low[probs[:, A.limit_sell(k)] > 0])
    market_buy = probs[:, A.MARKET_BUY] > 0
    assert np.all(L.best_ask(obs)[market_buy] <= top[market_buy]) and np.all(L.has_ask(obs)[market_buy])
    market_sell = probs[:, A.MARKET_SELL] > 0
    assert np.all(L.best_bid(obs)[market_sell] >= low[market_sell])
    assert probs[:, A.buy_actions].sum() > 0 and probs[:, A.sell_actions].sum() > 0  # it does trade
    if p["market_orders"]:
        assert market_buy.any() or market_sell.any()


def test_zi_shades_uniformly_and_replaces_its_order():
    g = game("wide")  # limit_levels = 3
    zi = make_trader("zi(value=fundamental_mean,activity=0.8)", g, [0])
    L, A = zi.layout, zi.actions
    mean = g.config.fundamental_mean
    probs = zi.probabilities(obs_with(L, bids=((mean - 1, 1),), asks=((mean + 1, 1),), mid_changes=[0, 0, 0]))[0]
    np.testing.assert_allclose(probs[[A.limit_buy(k) for k in range(3)]], 0.8 * 0.5 / 3)
    np.testing.assert_allclose(probs[[A.limit_sell(k) for k in range(3)]], 0.8 * 0.5 / 3)
    # The bid is 1 tick above the value: only offsets k >= 1 are acceptable to a buyer.
    probs = zi.probabilities(obs_with(L, bids=((mean + 1, 1),), asks=((mean + 3, 1),), mid_changes=[0, 0, 0]))[0]
    assert probs[A.limit_buy(0)] == 0 and probs[A.limit_buy(1)] == pytest.approx(0.8 * 0.5 / 2)
    probs = zi.probabilities(obs_with(L, resting_buy=1, mid_changes=[0, 0, 0]))[0]
    assert (probs[A.CANCEL], probs[A.HOLD]) == pytest.approx((0.8, 0.2))


def test_spoofer_spoofs_trades_and_cancels():
    g = game("wide")
    sp = make_trader("spoofer(offset=2,period=3)", g, [0])
    L, A, T = sp.layout, sp.actions, g.config.steps

    def at(elapsed, **kw):
        return _action(sp, obs_with(L, rounds_left=T - elapsed, mid_changes=[0, 0, 0], **kw))

    assert at(0) == A.limit_buy(2)                      # fake buying pressure behind the bid
    assert at(1, resting_buy=2) == A.MARKET_SELL        # sell into it
    assert at(2, resting_buy=2) == A.CANCEL             # pull the spoof
    assert at(3) == A.limit_buy(2)
    assert at(2) == A.HOLD                              # nothing left to cancel
    assert at(0, inventory=-2) == A.limit_sell(2)       # short: spoof the ask side, then buy back
    assert at(1, inventory=-2, resting_sell=2) == A.MARKET_BUY


def test_spoofer_orders_rest_then_disappear_in_play():
    g = game("wide")
    sp = make_trader("spoofer", g, [0])
    s = g.new_initial_state()
    resting = []
    for _ in range(6):
        s.apply_action(1)
        s.apply_action(0)
        s.apply_actions([max(sp.action_probabilities(s, 0), key=sp.action_probabilities(s, 0).get), 0])
        obs = s.observation_ints(0)[None]
        resting.append(int(sp.layout.resting_buy(obs)[0] + sp.layout.resting_sell(obs)[0]))
    assert resting[0] > 0 and resting[2] == 0 and resting[3] > 0 and resting[5] == 0


def test_pump_and_dump_schedule():
    g = game("wide")
    pd = make_trader("pump_and_dump(start=1,pump_rounds=2,dump_rounds=2,repeat=False)", g, [0])
    L, A, T = pd.layout, pd.actions, g.config.steps

    def at(elapsed, inventory):
        return _action(pd, obs_with(L, inventory=inventory, rounds_left=T - elapsed, mid_changes=[0, 0, 0]))

    assert [at(0, 0), at(1, 0), at(2, 2), at(3, 4), at(4, 2), at(5, 0), at(7, 3)] == [
        A.HOLD, A.MARKET_BUY, A.MARKET_BUY, A.MARKET_SELL, A.MARKET_SELL, A.HOLD, A.HOLD]
    assert at(2, g.config.position_limit) == A.HOLD
    again = make_trader("pump_and_dump(pump_rounds=2,dump_rounds=2)", g, [0])
    assert _action(again, obs_with(L, rounds_left=T - 4, mid_changes=[0, 0, 0])) == A.MARKET_BUY


# --------------------------------------------------------------------------------------------- errors, registry
BAD = [
    ("default", "trend(window=0)", "window"),
    ("default", "trend(window=9)", "history=4"),
    ("default", "trend(window=1.5)", "window"),
    ("default", "trend(threshold=0)", "threshold"),
    ("default", "trend(order=stop)", "order"),
    ("default", "trend(max_position=99)", "position_limit=5"),
    ("default", "noise(buy_prob=0.8,sell_prob=0.5)", "sell_prob"),
    ("default", "noise(buy_prob=yes)", "buy_prob"),
    ("default", "market_maker(half_spread=3)", "quote_levels=2"),
    ("default", "market_maker(skew_inventory=4,inventory_limit=3)", "skew_inventory"),
    ("default", "spoofer(offset=2)", "limit_levels=2"),
    ("default", "spoofer(period=2)", "period"),
    ("default", "zi(value=oracle)", "value"),
    ("default", "zi(replace=1)", "replace"),
    ("default", "zi(colour=1)", "colour"),
    ("nohistory", "trend", "history=0"),
    ("nohistory", "zi", "history=0"),
    ("noquotes", "market_maker", "quote_levels=0"),
    ("nolimits", "trend(order=limit)", "limit_levels=0"),
    ("nolimits", "zi", "market_orders"),
]


@pytest.mark.parametrize("key,spec,needle", BAD)
def test_bad_parameters_raise_clear_errors(key, spec, needle):
    extra = {"nohistory": "python_lob_market(history=0)", "noquotes": "python_lob_market(quote_levels=0)",
             "nolimits": "python_lob_market(limit_levels=0)"}
    g = pyspiel.load_game(extra[key]) if key in extra else game(key)
    name, params = parse_spec(spec)
    with pytest.raises(TraderConfigError) as info:
        make_trader(spec, g)
    message = str(info.value)
    assert needle in message and name in message
    for key_, value in params.items():
        if key_ in message:
            assert repr(value) in message or str(value) in message


def test_traders_refuse_games_without_a_market_config():
    with pytest.raises(TypeError, match="game="):
        make_trader("noise", pyspiel.load_game("kuhn_poker"))


def test_registry_round_trips_specs():
    assert parse_spec("trend(window=3,threshold=1)") == ("trend", {"window": 3, "threshold": 1})
    assert parse_spec({"name": "trend", "window": 3}) == ("trend", {"window": 3})
    assert parse_spec(" zi ( value = mid , replace = false ) ") == ("zi", {"value": "mid", "replace": False})
    assert split_top_level("market_maker, trend(window=3,threshold=1),noise") == [
        "market_maker", "trend(window=3,threshold=1)", "noise"]
    g = game("default")
    for spec in VARIANTS:
        trader = make_trader(spec, g)
        again = make_trader(trader.spec, g)
        assert type(again) is type(trader) and again.params == trader.params
        name, params = parse_spec(trader.spec)
        assert make_trader({"name": name, **params}, g).params == trader.params
        assert parse_spec(format_spec(name, params)) == (name, params)
    with pytest.raises(TraderConfigError, match="'momentum'.*market_maker"):
        make_trader("momentum", g)
    with pytest.raises(TraderConfigError, match="given twice"):
        parse_spec("trend(window=2,window=3)")
    assert set(TRADERS) == {"trend", "mean_reversion", "noise", "market_maker", "zi", "zi_book", "spoofer", "layering",
                            "pump_and_dump", "predator"}
    assert all(TRADERS[name].__doc__ and name == cls.name for name, cls in TRADERS.items())


@pytest.mark.parametrize("player_ids", [[1.9], [1.0], [True], [np.bool_(False)], "01", "1", [0, "1"], 1, [], [2],
                                        [-1], [None]], ids=repr)
def test_player_ids_must_be_integer_seats(player_ids):
    # [1.9] used to become seat 1 and "01" seats [0, 1]: ids are integers, never floats, bools or strings.
    g = pyspiel.load_game("python_lob_market(players=2,steps=3)")
    with pytest.raises(TraderConfigError) as info:
        make_trader("noise", g, player_ids=player_ids)
    message = str(info.value)
    assert f"player_ids={player_ids!r}" in message and "integer seats in [0, 1]" in message


def test_player_ids_accept_integer_seats():
    g = pyspiel.load_game("python_lob_market(players=3,steps=3)")
    assert make_trader("noise", g, player_ids=[2, 0]).player_ids == [2, 0]
    assert make_trader("noise", g, player_ids=np.array([1])).player_ids == [1]
    assert make_trader("noise", g, player_ids=(np.int64(1),)).player_ids == [1]
    assert all(type(p) is int for p in make_trader("noise", g, player_ids=np.array([1, 2])).player_ids)


def test_mix_is_the_weighted_sum_and_refuses_no_parts():
    from marketgames.traders.base import mix
    w1, w2 = np.array([0.25, 1.0]), np.array([0.75, 0.0])
    rows1, rows2 = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(mix((w1, rows1), (w2, rows2)), [[0.25, 0.75], [0.0, 1.0]])
    with pytest.raises(ValueError, match="at least one"):  # it returned None, not an array
        mix()
