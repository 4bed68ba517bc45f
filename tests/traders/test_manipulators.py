"""Manipulative traders: the mechanics that make each one what it is, pinned in play (OpenSpiel and batched)."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401
from marketgames.book import kernels as BK
from marketgames.market import rules as R
from marketgames.market.batched import BatchedMarket
from marketgames.market.population import population_actions
from marketgames.traders import TRADERS, TraderConfigError, make_trader

SPOOF_GAME = "python_lob_market(players=3,steps=30,limit_levels=3)"
STATIC_GAME = "python_lob_market(players=2,steps=12,limit_levels=3,bg_arrival_prob=0.0,shock_prob=0.0)"


def owned_orders(state, player: int) -> list[tuple[int, int, int]]:
    """``(side, price, qty)`` of ``player``'s resting orders, read from the book buffer."""
    buf = state.market_buffer
    book = buf[int(state.get_game().params_vector[R.P_OFF_BOOK]):]
    cap = int(book[BK.H_CAPACITY])
    out = []
    for slot in range(cap):
        if book[book[BK.H_OFF_QTY] + slot] > 0 and book[book[BK.H_OFF_OWNER] + slot] == player:
            out.append((int(book[book[BK.H_OFF_SIDE] + slot]), int(book[book[BK.H_OFF_PRICE] + slot]),
                        int(book[book[BK.H_OFF_QTY] + slot])))
    return sorted(out)


def play_batched(game, specs, episodes: int, seed: int = 0):
    """Per round (at each player node): every seat's observation, the joint actions, and each market's buffer."""
    traders = [make_trader(s, game, [p]) for p, s in enumerate(specs)]
    market = BatchedMarket(game.config, episodes, seed)
    obs = market.reset()
    rec_obs, rec_act, rec_buf = [], [], []
    while not market.done:
        actions = population_actions(traders, market, obs)
        rec_obs.append(obs)
        rec_act.append(actions)
        obs, _, _ = market.step(actions)
        rec_buf.append(np.stack([market.market_buffer(i) for i in range(episodes)]))
    return traders, np.stack(rec_obs, 1), np.stack(rec_act, 1), np.stack(rec_buf, 1)


def lots_bought_sold(game, bufs: np.ndarray, player: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative lots bought and sold by ``player`` after each round: ``(volume +- inventory) / 2``."""
    a = int(game.params_vector[R.P_OFF_PLAYERS]) + R.A_WIDTH * player
    volume, inventory = bufs[..., a + R.A_VOLUME], bufs[..., a + R.A_INVENTORY]
    return (volume + inventory) // 2, (volume - inventory) // 2


def test_new_manipulators_are_registered():
    for name in ("spoofer", "layering", "pump_and_dump", "predator", "zi_book"):
        assert name in TRADERS
        trader = make_trader(name, pyspiel.load_game(SPOOF_GAME), [0])
        assert make_trader(trader.spec, pyspiel.load_game(SPOOF_GAME), [0]).params == trader.params


def test_spoof_orders_are_cancelled_before_they_execute_and_it_trades_the_other_side():
    """Wang & Wellman (2017): the buy spoof sits behind the bid and is pulled; the spoofer's trades are sells."""
    game = pyspiel.load_game("python_lob_market(players=3,steps=30,limit_levels=3,position_limit=30)")
    specs = ["zi_book(market_orders=True,imbalance_weight=3)", "zi(value=mid,market_orders=True)",
             "spoofer(side=buy)"]
    traders, obs, act, bufs = play_batched(game, specs, 200)
    sp = traders[2]
    A = sp.actions
    placed = (act[:, :, 2] == A.limit_buy(1)).sum()
    bought, sold = lots_bought_sold(game, bufs, 2)
    # every lot it bought is a spoof order that executed: the large majority are cancelled first
    assert placed > 1_000
    assert bought[:, -1].sum() < 0.15 * placed
    # it trades on the other side, and more than its spoofs ever execute
    assert sold[:, -1].sum() > 3 * bought[:, -1].sum()
    # at the start of each cycle its spoof is gone (cancelled in the cycle's last round)
    phase = sp.phase(obs[:, :, 2].reshape(-1, obs.shape[-1])).reshape(obs.shape[:2])
    start = obs[:, :, 2][phase == 0]
    assert np.all(sp.layout.resting_buy(start) == 0)


def test_spoofer_control_arm_trades_the_same_schedule_without_spoofs():
    game = pyspiel.load_game(SPOOF_GAME)
    specs = ["zi(value=mid)", "zi(value=mid)", "spoofer(side=buy,trade_order=limit,spoof=False)"]
    traders, obs, act, _ = play_batched(game, specs, 50)
    A = traders[2].actions
    assert not np.any(act[:, :, 2] == A.limit_buy(1))
    assert np.any(act[:, :, 2] == A.limit_sell(0))


def test_layering_places_orders_at_successive_levels_then_cancels_them_together():
    game = pyspiel.load_game(STATIC_GAME)
    layer = make_trader("layering(side=buy,layers=2,offset=1)", game, [0])
    assert layer.params["offset"] == 1
    state = game.new_initial_state()
    history = []
    while not state.is_terminal():
        if state.is_chance_node():  # one outcome each: no shock, no arrival
            (outcome, _), = state.chance_outcomes()
            state.apply_action(outcome)
            continue
        probs = layer.action_probabilities(state, 0)
        state.apply_actions([max(probs, key=probs.get), R.HOLD])
        history.append(owned_orders(state, 0))
    fmean = game.config.fundamental_mean
    # rounds 0, 1: one layer each, at bid - 1 and bid - 2 (the initial best bid is fmean - 1)
    assert history[0] == [(BK.BUY, fmean - 2, 1)]
    assert history[1] == [(BK.BUY, fmean - 3, 1), (BK.BUY, fmean - 2, 1)]
    # round 2: the genuine trade on the other side (a market sell at the best bid) leaves the layers resting
    assert history[2] == history[1] and state.account(0)[1] <= 0
    # round 3: both layers are cancelled at once; the next cycle starts again
    assert history[3] == []
    assert len(history[4]) == 1 and history[4][0][0] == BK.BUY


def test_layering_default_fits_the_market_and_refuses_too_few_levels():
    assert make_trader("layering", pyspiel.load_game("python_lob_market"), [0]).params["offset"] == 0
    assert make_trader("layering", pyspiel.load_game(SPOOF_GAME), [0]).params["offset"] == 1
    with pytest.raises(TraderConfigError, match="layers=3.*limit_levels=3"):
        make_trader("layering(layers=3,offset=1)", pyspiel.load_game(SPOOF_GAME), [0])
    with pytest.raises(TraderConfigError, match="max_orders"):
        make_trader("layering(layers=3,offset=0)", pyspiel.load_game("python_lob_market(limit_levels=3,max_orders=2)"),
                    [0])


def test_pump_and_dump_buys_aggressively_then_sells_into_the_move():
    """Momentum ignition: market buys push the mid up, then it sells at market while the mid is still up (whether
    that pays is measured by the manipulation study, not assumed: here the dump hits a bid below the old mid)."""
    game = pyspiel.load_game("python_lob_market(players=3,steps=12)")
    specs = ["trend(window=2,threshold=1)", "trend(window=2,threshold=1)",
             "pump_and_dump(pump_rounds=4,dump_rounds=4,repeat=False,start=2)"]
    traders, obs, act, bufs = play_batched(game, specs, 300)
    pd = traders[2]
    A, L = pd.actions, pd.layout
    stage = pd.stage(obs[:, :, 2].reshape(-1, obs.shape[-1])).reshape(obs.shape[:2])
    assert np.all(act[:, :, 2][stage == 1] == A.MARKET_BUY)            # inventory stays below the cap here
    dumping = stage == 2
    long = L.inventory(obs[:, :, 2].reshape(-1, obs.shape[-1])).reshape(obs.shape[:2]) > 0
    assert np.all(act[:, :, 2][dumping & long] == A.MARKET_SELL)
    mid = L.mid2(obs[:, :, 0].reshape(-1, obs.shape[-1])).reshape(obs.shape[:2]) / 2.0
    rise = mid[:, 6] - mid[:, 2]  # over the pump (rounds 2..5), seen at the first dump decision (round 6)
    assert rise.mean() - 3 * rise.std(ddof=1) / np.sqrt(rise.size) > 0
    assert np.all(act[:, 6, 2][long[:, 6]] == A.MARKET_SELL)
    bought, sold = lots_bought_sold(game, bufs, 2)
    assert bought[:, 5].mean() > 1.5 and sold[:, -1].mean() > 1.0  # it dumps into the bids that are left


def test_predator_takes_a_thin_side_and_unwinds_otherwise():
    game = pyspiel.load_game(SPOOF_GAME)
    pred = make_trader("predator(thin_depth=2)", game, [0])
    L, A = pred.layout, pred.actions

    def obs(bids, asks, inventory=0, resting_buy=0, resting_sell=0):
        o = np.zeros(L.size, dtype=np.int64)
        o[L.INVENTORY], o[L.RESTING_BUY], o[L.RESTING_SELL] = inventory, resting_buy, resting_sell
        o[L.bid_prices], o[L.ask_prices] = -1, -1
        for i, (p, q) in enumerate(bids):
            o[L.bid_prices.start + i], o[L.bid_sizes.start + i] = p, q
        for i, (p, q) in enumerate(asks):
            o[L.ask_prices.start + i], o[L.ask_sizes.start + i] = p, q
        o[L.last_price_index], o[L.rounds_left_index] = 20, 10
        return o[None]

    def act(*a, **k):
        return int(np.argmax(pred.probabilities(obs(*a, **k))[0]))

    thick = [(19, 3), (18, 2)]
    assert act(thick, [(21, 1), (22, 1)]) == A.MARKET_BUY      # 2 lots on the ask side: thin, take it
    assert act([(19, 2)], [(21, 3), (22, 1)]) == A.MARKET_SELL  # thin bid side
    assert act([(19, 1)], [(21, 2)]) == A.MARKET_SELL           # both thin: the thinner side
    assert act(thick, [(21, 3)]) == A.HOLD                      # nothing thin, flat: wait
    assert act(thick, [(21, 3)], inventory=2) == A.limit_sell(0)  # unwind a long position at the touch
    assert act(thick, [(21, 3)], inventory=2, resting_buy=1) == A.CANCEL
    assert act(thick, [], inventory=0) == A.HOLD                # an empty side is not liquidity to take
    assert act(thick, [(21, 1)], inventory=game.config.position_limit) == A.limit_sell(0)  # at its cap
    # its own resting lots are not liquidity it can take
    assert act(thick, [(21, 3)], resting_sell=2) == A.MARKET_BUY


def test_predator_market_orders_come_only_when_the_book_is_thin_in_play():
    game = pyspiel.load_game(SPOOF_GAME)
    traders, obs, act, _ = play_batched(game, ["zi(value=mid)", "zi(value=mid)", "predator"], 100)
    pred = traders[2]
    o = obs[:, :, 2].reshape(-1, obs.shape[-1])
    a = act[:, :, 2].reshape(-1)
    bid, ask = pred.side_depth(o)
    bid, ask = bid - pred.layout.resting_buy(o), ask - pred.layout.resting_sell(o)
    taken = np.isin(a, [pred.actions.MARKET_BUY, pred.actions.MARKET_SELL])
    assert taken.sum() > 50
    thin = np.minimum(np.where(bid > 0, bid, 99), np.where(ask > 0, ask, 99)) <= 1
    assert np.all(thin[taken])


def test_book_reader_values_lean_to_the_deeper_side():
    game = pyspiel.load_game(SPOOF_GAME)
    reader = make_trader("zi_book(imbalance_weight=2)", game, [0])
    L = reader.layout
    o = np.zeros((3, L.size), dtype=np.int64)
    o[:, L.bid_prices], o[:, L.ask_prices] = -1, -1
    o[:, L.bid_prices.start], o[:, L.ask_prices.start] = 19, 21
    o[:, L.bid_sizes.start] = [3, 1, 1]
    o[:, L.ask_sizes.start] = [1, 1, 3]
    np.testing.assert_allclose(reader.value_estimate(o), [21.0, 20.0, 19.0])
