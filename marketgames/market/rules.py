"""The rules of the market, compiled with numba: the one implementation both the OpenSpiel game and the batched
simulator call.

A market lives in one ``int64`` buffer: a header (round, phase, fundamental, last price, ...), the recent mid
prices, each player's account, then an order book (:mod:`marketgames.book.kernels`). Copying a market is one
array copy. Kernels read the configuration from the integer vector made by :func:`pack_params`.

Per round ``t``: ``apply_fundamental`` (chance) -> ``apply_background`` (chance) -> ``apply_actions`` (all players
at once, processed in the rotating order ``t, t+1, ...`` mod ``players`` so no seat always goes first).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..book import kernels as BK

# ---------------------------------------------------------------- parameter vector
P_PLAYERS = 0
P_STEPS = 1
P_N_TICKS = 2
P_FMEAN = 3
P_KEEP_PPM = 4       # (1 - mean_reversion) in parts per million
P_SHOCK = 5
P_BG_LOT = 6
P_BG_TTL = 7
P_INIT_DEPTH = 8
P_LOT = 9
P_POSLIM = 10
P_MAX_ORDERS = 11
P_LIMIT_LEVELS = 12
P_QUOTE_LEVELS = 13
P_BOOK_LEVELS = 14
P_HISTORY = 15
P_BG_BUY_LO = 16     # price offset of background buy outcome 1
P_BG_N_BUY = 17
P_BG_SELL_LO = 18
P_BG_N_SELL = 19
P_CAPACITY = 20
P_OFF_MID = 21
P_OFF_PLAYERS = 22
P_OFF_BOOK = 23
P_BUF_SIZE = 24
P_OBS_SIZE = 25
P_BG_SPREAD = 26     # bg_value_spread, bg_shade_min, bg_shade_max: for the background private values
P_BG_SHADE_MIN = 27
P_BG_SHADE_MAX = 28
P_SIZE = 29

# ---------------------------------------------------------------- market header
M_ROUND = 0
M_PHASE = 1
M_FUND = 2
M_LAST_PRICE = 3
M_VOLUME = 4         # lots traded so far, all traders
M_TRADES = 5
M_PLAYER_VOLUME = 6  # lots traded so far by players
M_BG_VALUE2 = 7      # twice the private values of the background lots traded: sum of +-2 E[theta] x lots
M_HEADER = 8

PHASE_FUNDAMENTAL = 0
PHASE_BACKGROUND = 1
PHASE_PLAYERS = 2
PHASE_TERMINAL = 3

# ---------------------------------------------------------------- player account
A_CASH = 0
A_INVENTORY = 1
A_VOLUME = 2
A_WIDTH = 3

# ---------------------------------------------------------------- actions
HOLD = 0
CANCEL = 1
MARKET_BUY = 2
MARKET_SELL = 3
FIRST_LIMIT = 4

BG_OWNER = -1

# ---------------------------------------------------------------- observation (integer features)
OBS_PRIVATE = 4      # inventory, cash, resting buy lots, resting sell lots


def obs_size(book_levels: int, history: int) -> int:
    """Length of the integer observation: private, 4 x book levels (bid/ask prices and sizes), market."""
    return OBS_PRIVATE + 4 * book_levels + 3 + history


def pack_params(config) -> np.ndarray:
    """The integer parameter vector of a :class:`~marketgames.market.config.MarketConfig`."""
    p = np.zeros(P_SIZE, dtype=np.int64)
    p[P_PLAYERS] = config.players
    p[P_STEPS] = config.steps
    p[P_N_TICKS] = config.price_levels
    p[P_FMEAN] = config.fundamental_mean
    p[P_KEEP_PPM] = 1_000_000 - int(round(float(config.mean_reversion) * 1_000_000))
    p[P_SHOCK] = config.shock_size
    p[P_BG_LOT] = config.bg_lot
    p[P_BG_TTL] = config.bg_ttl
    p[P_INIT_DEPTH] = config.initial_depth
    p[P_LOT] = config.lot
    p[P_POSLIM] = config.position_limit
    p[P_MAX_ORDERS] = config.max_orders
    p[P_LIMIT_LEVELS] = config.limit_levels
    p[P_QUOTE_LEVELS] = config.quote_levels
    p[P_BOOK_LEVELS] = config.book_levels
    p[P_HISTORY] = config.history
    buy, sell = config.bg_buy_offsets, config.bg_sell_offsets
    p[P_BG_BUY_LO], p[P_BG_N_BUY] = buy[0], len(buy)
    p[P_BG_SELL_LO], p[P_BG_N_SELL] = sell[0], len(sell)
    p[P_CAPACITY] = config.book_capacity
    p[P_OFF_MID] = M_HEADER
    p[P_OFF_PLAYERS] = M_HEADER + config.history + 1
    p[P_OFF_BOOK] = p[P_OFF_PLAYERS] + A_WIDTH * config.players
    p[P_BUF_SIZE] = p[P_OFF_BOOK] + BK.book_size(config.price_levels, config.book_capacity)
    p[P_OBS_SIZE] = obs_size(config.book_levels, config.history)
    p[P_BG_SPREAD] = config.bg_value_spread
    p[P_BG_SHADE_MIN] = config.bg_shade_min
    p[P_BG_SHADE_MAX] = config.bg_shade_max
    return p


@njit(cache=True)
def _book(buf, P):
    return buf[P[P_OFF_BOOK]:]


@njit(cache=True)
def _clip(x, lo, hi):
    return lo if x < lo else (hi if x > hi else x)


@njit(cache=True)
def mark2(buf, P):
    """Twice the mark price: bid + ask when both sides exist, else twice the last trade price."""
    book = _book(buf, P)
    bid = book[BK.H_BEST_BID]
    ask = book[BK.H_BEST_ASK]
    if bid >= 0 and ask < P[P_N_TICKS]:
        return bid + ask
    return 2 * buf[M_LAST_PRICE]


@njit(cache=True)
def market_init(buf, P):
    """The market before round 0: empty accounts, the initial background depth around the fundamental mean."""
    buf[:] = 0
    fmean = P[P_FMEAN]
    buf[M_FUND] = fmean
    buf[M_LAST_PRICE] = fmean
    buf[M_PHASE] = PHASE_FUNDAMENTAL
    book = _book(buf, P)
    BK.book_init(book, P[P_N_TICKS], P[P_CAPACITY])
    events = np.empty((1, BK.EV_WIDTH), dtype=np.int64)
    for k in range(1, P[P_INIT_DEPTH] + 1):
        # initial depth: background orders with private value 0 (their order id is twice that value)
        BK.submit(book, BK.BUY, fmean - k, P[P_BG_LOT], BG_OWNER, 0, 0, True, events)
        BK.submit(book, BK.SELL, fmean + k, P[P_BG_LOT], BG_OWNER, 0, 0, True, events)
    m = mark2(buf, P)
    for i in range(P[P_HISTORY] + 1):
        buf[P[P_OFF_MID] + i] = m


@njit(cache=True)
def background_value2(P, side, offset):
    """Twice the expected private value ``E[theta | order]`` of a background order at ``fundamental + offset``.

    A buyer's offset is ``theta - s``, a seller's ``theta + s`` (``theta`` uniform on ``-V..V``, ``s`` on
    ``smin..smax``, independent): given the offset, ``theta`` is uniform on an interval ``lo..hi``, so twice its
    mean is the integer ``lo + hi``. Whether the order trades depends on its price only, so crediting
    ``E[theta | order]`` instead of ``theta`` leaves expected surpluses unchanged (the chance node draws the offset,
    not ``theta`` and ``s`` apart).
    """
    v = P[P_BG_SPREAD]
    if side == BK.BUY:   # theta = offset + s
        lo, hi = offset + P[P_BG_SHADE_MIN], offset + P[P_BG_SHADE_MAX]
    else:                # theta = offset - s
        lo, hi = offset - P[P_BG_SHADE_MAX], offset - P[P_BG_SHADE_MIN]
    return (lo if lo > -v else -v) + (hi if hi < v else v)


@njit(cache=True)
def _settle(buf, P, taker, taker_side, events, n_ev, taker_value2):
    """Book the fills of one incoming order into the accounts and market counters.

    Background orders (owner ``BG_OWNER``) carry twice their expected private value as their order id (the
    taker's is ``taker_value2``); each background lot traded adds it to ``M_BG_VALUE2``, signed (+ buyer, - seller).
    """
    acc = P[P_OFF_PLAYERS]
    sign = 1 if taker_side == BK.BUY else -1
    for e in range(n_ev):
        if events[e, BK.EV_KIND] != BK.EV_FILL:
            continue
        price = events[e, BK.EV_PRICE]
        qty = events[e, BK.EV_QTY]
        maker = events[e, BK.EV_MAKER_OWNER]
        buf[M_VOLUME] += qty
        buf[M_TRADES] += 1
        buf[M_LAST_PRICE] = price
        if taker == BG_OWNER:
            buf[M_BG_VALUE2] += sign * taker_value2 * qty
        if maker == BG_OWNER:
            buf[M_BG_VALUE2] -= sign * events[e, BK.EV_MAKER_ID] * qty
        if taker >= 0:
            a = acc + A_WIDTH * taker
            buf[a + A_CASH] -= sign * price * qty
            buf[a + A_INVENTORY] += sign * qty
            buf[a + A_VOLUME] += qty
            buf[M_PLAYER_VOLUME] += qty
        if maker >= 0:
            a = acc + A_WIDTH * maker
            buf[a + A_CASH] += sign * price * qty
            buf[a + A_INVENTORY] -= sign * qty
            buf[a + A_VOLUME] += qty
            buf[M_PLAYER_VOLUME] += qty


@njit(cache=True)
def apply_fundamental(buf, P, outcome):
    """Chance: move the fundamental (outcome 0 down, 1 unchanged, 2 up); expire old background orders."""
    dev = buf[M_FUND] - P[P_FMEAN]
    kept = (dev * P[P_KEEP_PPM] + 500_000) // 1_000_000
    f = P[P_FMEAN] + kept + (outcome - 1) * P[P_SHOCK]
    buf[M_FUND] = _clip(f, 1, P[P_N_TICKS] - 2)
    BK.cancel_owned(_book(buf, P), BG_OWNER, buf[M_ROUND] - P[P_BG_TTL], -1)
    buf[M_PHASE] = PHASE_BACKGROUND


@njit(cache=True)
def apply_background(buf, P, outcome, events):
    """Chance: outcome 0 nobody arrives; else a zero-intelligence limit order at fundamental + offset."""
    if outcome > 0:
        if outcome <= P[P_BG_N_BUY]:
            side = BK.BUY
            offset = P[P_BG_BUY_LO] + outcome - 1
        else:
            side = BK.SELL
            offset = P[P_BG_SELL_LO] + outcome - 1 - P[P_BG_N_BUY]
        price = _clip(buf[M_FUND] + offset, 0, P[P_N_TICKS] - 1)
        value2 = background_value2(P, side, offset)
        _, n_ev, _ = BK.submit(_book(buf, P), side, price, P[P_BG_LOT], BG_OWNER, value2, buf[M_ROUND], True,
                               events)
        _settle(buf, P, BG_OWNER, side, events, n_ev, value2)
    buf[M_PHASE] = PHASE_PLAYERS


@njit(cache=True)
def _player_order(buf, P, player, side, price, rest, summary, events):
    """Send one order of ``lot`` lots for ``player``, cut to the position limit and the order-count limit."""
    book = _book(buf, P)
    BK.owned_summary(book, player, summary)
    inventory = buf[P[P_OFF_PLAYERS] + A_WIDTH * player + A_INVENTORY]
    if side == BK.BUY:
        room = P[P_POSLIM] - inventory - summary[1]
    else:
        room = P[P_POSLIM] + inventory - summary[3]
    qty = P[P_LOT] if P[P_LOT] < room else room
    if qty <= 0:
        return
    if rest and summary[0] + summary[2] >= P[P_MAX_ORDERS]:
        return
    _, n_ev, _ = BK.submit(book, side, price, qty, player, -1, buf[M_ROUND], rest, events)
    _settle(buf, P, player, side, events, n_ev, 0)


@njit(cache=True)
def apply_actions(buf, P, actions, events):
    """All players act at once; orders are processed in rotating seat order from the round's first seat.

    Order prices are set from the book as all players saw it at the start of the phase: limit buys at
    ``ref_bid - k`` (``ref_bid`` the best bid, or last price - 1 without one), limit sells at ``ref_ask + k``,
    quotes at ``centre -/+ h`` (centre the floor of the mid, or the last price).
    """
    n = P[P_PLAYERS]
    nt = P[P_N_TICKS]
    book = _book(buf, P)
    bid = book[BK.H_BEST_BID]
    ask = book[BK.H_BEST_ASK]
    last = buf[M_LAST_PRICE]
    ref_bid = bid if bid >= 0 else last - 1
    ref_ask = ask if ask < nt else last + 1
    centre = (bid + ask) // 2 if (bid >= 0 and ask < nt) else last
    K = P[P_LIMIT_LEVELS]
    summary = np.zeros(4, dtype=np.int64)
    for k in range(n):
        player = (buf[M_ROUND] + k) % n
        a = actions[player]
        if a == HOLD:
            continue
        if a == CANCEL:
            BK.cancel_owned(book, player, 1 << 62, -1)
        elif a == MARKET_BUY:
            _player_order(buf, P, player, BK.BUY, nt - 1, False, summary, events)
        elif a == MARKET_SELL:
            _player_order(buf, P, player, BK.SELL, 0, False, summary, events)
        elif a < FIRST_LIMIT + K:
            price = _clip(ref_bid - (a - FIRST_LIMIT), 0, nt - 1)
            _player_order(buf, P, player, BK.BUY, price, True, summary, events)
        elif a < FIRST_LIMIT + 2 * K:
            price = _clip(ref_ask + (a - FIRST_LIMIT - K), 0, nt - 1)
            _player_order(buf, P, player, BK.SELL, price, True, summary, events)
        else:
            h = a - FIRST_LIMIT - 2 * K + 1
            BK.cancel_owned(book, player, 1 << 62, -1)
            _player_order(buf, P, player, BK.BUY, _clip(centre - h, 0, nt - 1), True, summary, events)
            _player_order(buf, P, player, BK.SELL, _clip(centre + h, 0, nt - 1), True, summary, events)
    # Record the mid after the round for the observed price history.
    off = P[P_OFF_MID]
    for i in range(P[P_HISTORY]):
        buf[off + i] = buf[off + i + 1]
    buf[off + P[P_HISTORY]] = mark2(buf, P)
    buf[M_ROUND] += 1
    buf[M_PHASE] = PHASE_TERMINAL if buf[M_ROUND] >= P[P_STEPS] else PHASE_FUNDAMENTAL


@njit(cache=True)
def wealth2(buf, P, player):
    """Twice the player's wealth ``cash + inventory * mark``; at the end the mark is the fundamental."""
    a = P[P_OFF_PLAYERS] + A_WIDTH * player
    m2 = 2 * buf[M_FUND] if buf[M_PHASE] == PHASE_TERMINAL else mark2(buf, P)
    return 2 * buf[a + A_CASH] + buf[a + A_INVENTORY] * m2


@njit(cache=True)
def background_surplus2(buf, P):
    """Twice the background traders' total surplus: private value plus the mark (at the end: the fundamental)
    minus the price, summed over every background lot traded (buyers; sellers the mirror image).

    Cash and lots only change hands, so the background's cash and inventory are minus the players' totals and
    the surplus is ``M_BG_VALUE2 / 2`` minus the players' total wealth; ``M_BG_VALUE2 / 2`` is the total surplus
    of everyone (players' trades among themselves are transfers).
    """
    total = buf[M_BG_VALUE2]
    for p in range(P[P_PLAYERS]):
        total -= wealth2(buf, P, p)
    return total


@njit(cache=True)
def observe(buf, P, player, out):
    """The integer observation of ``player`` (named views: ``LobMarketObserver`` in :mod:`marketgames.games.lob_market`).

    Private: inventory, cash, resting buy lots, resting sell lots. Book: top ``book_levels`` bid prices, bid
    sizes, ask prices, ask sizes (price -1 and size 0 where a level is missing). Market: last trade price, spread
    (-1 when a side is empty), rounds left, then the recent changes of twice the mid price, oldest first.
    """
    book = _book(buf, P)
    a = P[P_OFF_PLAYERS] + A_WIDTH * player
    summary = np.zeros(4, dtype=np.int64)
    BK.owned_summary(book, player, summary)
    out[0] = buf[a + A_INVENTORY]
    out[1] = buf[a + A_CASH]
    out[2] = summary[1]
    out[3] = summary[3]
    L = P[P_BOOK_LEVELS]
    i = OBS_PRIVATE
    BK.depth(book, BK.BUY, L, out[i:i + L], out[i + L:i + 2 * L])
    BK.depth(book, BK.SELL, L, out[i + 2 * L:i + 3 * L], out[i + 3 * L:i + 4 * L])
    i += 4 * L
    bid = book[BK.H_BEST_BID]
    ask = book[BK.H_BEST_ASK]
    out[i] = buf[M_LAST_PRICE]
    out[i + 1] = ask - bid if (bid >= 0 and ask < P[P_N_TICKS]) else -1
    out[i + 2] = P[P_STEPS] - buf[M_ROUND]
    off = P[P_OFF_MID]
    for h in range(P[P_HISTORY]):
        out[i + 3 + h] = buf[off + h + 1] - buf[off + h]
