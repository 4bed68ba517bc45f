"""python_lob_market: loading, parameter errors, tree size, exact NashConv, hand-checked rules, golden playthroughs."""
from __future__ import annotations

import importlib.util
import itertools
import pathlib

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as policy_lib
from open_spiel.python.algorithms import exploitability

import marketgames
from marketgames import TINY_GAME
from marketgames.book import kernels as BK
from marketgames.market import MarketConfig
from marketgames.market import rules as R

HERE = pathlib.Path(__file__).resolve().parent

# --------------------------------------------------------------------------- loading and parameters


def test_load_by_name_with_parameters():
    game = pyspiel.load_game("python_lob_market(players=3,steps=4,limit_levels=1,quote_levels=2)")
    assert game.num_players() == 3
    assert game.config.steps == 4 and game.max_game_length() == 4
    assert game.num_distinct_actions() == 4 + 2 * 1 + 2
    same = pyspiel.load_game("python_lob_market", {"players": 3, "steps": 4, "limit_levels": 1, "quote_levels": 2})
    assert same.config == game.config
    # The config's game string loads the same configuration back.
    assert pyspiel.load_game(game.config.game_string()).config == game.config
    default = pyspiel.load_game("python_lob_market")
    assert default.config == MarketConfig()


BAD_PARAMETERS = [
    ("players=1", "players"),
    ("players=17", "players"),
    ("steps=0", "steps"),
    ("lot=0", "lot"),
    ("lot=-2", "lot"),
    ("bg_lot=0", "bg_lot"),
    ("price_levels=0", "price_levels"),
    ("position_limit=0", "position_limit"),
    ("max_orders=0", "max_orders"),
    ("bg_ttl=-1", "bg_ttl"),
    ("shock_size=-1", "shock_size"),
    ("limit_levels=-1", "limit_levels"),
    ("book_levels=0", "book_levels"),
    ("shock_prob=1.5", "shock_prob"),
    ("bg_arrival_prob=-0.1", "bg_arrival_prob"),
    ("mean_reversion=2.0", "mean_reversion"),
    ("no_such_parameter=3", "no_such_parameter"),
    ("price_levels=11,initial_depth=5", "initial_depth"),
    ("quote_levels=1,max_orders=1", "max_orders"),
    ("bg_shade_min=3,bg_shade_max=1", "bg_shade_min"),
]


@pytest.mark.parametrize("params,name", BAD_PARAMETERS, ids=[p for p, _ in BAD_PARAMETERS])
def test_bad_parameter_is_refused_naming_it(params, name):
    # OpenSpiel raises SpielError (a RuntimeError) for unknown parameters; the game raises MarketConfigError.
    with pytest.raises((ValueError, RuntimeError)) as info:
        pyspiel.load_game(f"python_lob_market({params})")
    assert name in str(info.value)


# --------------------------------------------------------------------------- tree size


def _count_tree(state) -> int:
    if state.is_terminal():
        return 1
    n = 1
    if state.is_chance_node():
        for a, _ in state.chance_outcomes():
            n += _count_tree(state.child(a))
        return n
    for joint in itertools.product(*[state.legal_actions(p) for p in range(state.num_players())]):
        child = state.clone()
        child.apply_actions(list(joint))
        n += _count_tree(child)
    return n


def tree_size_formula(config: MarketConfig) -> int:
    """Histories of a market: each round has one fundamental node, ``F`` background nodes (one per fundamental
    outcome of positive probability), ``F * B`` player nodes and ``F * B * A**n`` children; nothing ends early."""
    F = int(np.count_nonzero(config.fundamental_outcome_probs()))
    B = int(np.count_nonzero(config.background_outcome_probs()))
    J = config.num_actions ** config.players
    total, paths = 0, 1
    for _ in range(config.steps):
        total += paths * (1 + F + F * B)
        paths *= F * B * J
    return total + paths


@pytest.mark.parametrize("game_string", [
    TINY_GAME,
    "python_lob_market(players=3,steps=1,price_levels=7,initial_depth=1,limit_levels=1,quote_levels=0,"
    "bg_value_spread=0,bg_shade_max=1,position_limit=1,max_orders=1,book_levels=1,history=0)",
], ids=["tiny", "3p_one_round"])
def test_whole_tree_size(game_string):
    game = pyspiel.load_game(game_string)
    assert _count_tree(game.new_initial_state()) == tree_size_formula(game.config)


def test_tiny_game_tree_is_small():
    # TINY_GAME is meant for exact algorithms: the shock and an arrival are certain, so each round has 2 x 2 chance
    # paths and 5 x 5 joint actions.
    config = pyspiel.load_game(TINY_GAME).config
    assert config.fundamental_outcome_probs().tolist() == [0.5, 0.0, 0.5]
    assert np.count_nonzero(config.background_outcome_probs()) == 2 and config.num_actions == 5
    assert tree_size_formula(config) == 1 + 2 + 4 + 100 * (1 + 2 + 4) + 100 ** 2


# --------------------------------------------------------------------------- exact NashConv


def _build_tree(game):
    """The whole tree as nested tuples: ("T", returns) / ("C", [(p, node)]) / ("S", infostate keys, {joint: node})."""
    def build(state):
        if state.is_terminal():
            return ("T", np.asarray(state.returns()))
        if state.is_chance_node():
            return ("C", [(p, build(state.child(a))) for a, p in state.chance_outcomes()])
        n = game.num_players()
        keys = tuple(state.information_state_string(p) for p in range(n))
        children = {}
        for joint in itertools.product(*[state.legal_actions(p) for p in range(n)]):
            child = state.clone()
            child.apply_actions(list(joint))
            children[joint] = build(child)
        return ("S", keys, children)
    return build(game.new_initial_state())


def brute_force_nash_conv_uniform(game) -> float:
    """NashConv of the uniform profile by explicit best responses on the tree, written independently of OpenSpiel.

    For each player ``i``: every history of a decision in round ``r`` has exactly ``r`` earlier decisions of ``i``, so
    processing rounds from last to first fixes ``i``'s best action at every deeper information set before a
    shallower one needs it. ``Q(h, a) = E[value of child | i plays a, others uniform]``; the best action of an
    information set maximises the sum over its histories of ``reach_{-i}(h) * Q(h, a)``.
    """
    n, A = game.num_players(), game.num_distinct_actions()
    root = _build_tree(game)
    steps = game.config.steps
    nodes_by_round = [[] for _ in range(steps)]  # (node, reach of chance and uniform opponents, per player)

    def collect(node, reach, r):
        kind = node[0]
        if kind == "C":
            for p, child in node[1]:
                collect(child, reach * p, r)
        elif kind == "S":
            nodes_by_round[r].append((node, reach))
            for child in node[2].values():
                collect(child, reach / A ** (n - 1), r + 1)  # reach of the others: (1/A)^(n-1) per joint action
    collect(root, 1.0, 0)

    def on_policy(node):
        kind = node[0]
        if kind == "T":
            return node[1]
        if kind == "C":
            return sum(p * on_policy(child) for p, child in node[1])
        return sum(on_policy(child) for child in node[2].values()) / len(node[2])

    total = 0.0
    value_on_policy = on_policy(root)
    for i in range(n):
        best: dict[str, int] = {}

        def value(node):
            kind = node[0]
            if kind == "T":
                return node[1][i]
            if kind == "C":
                return sum(p * value(child) for p, child in node[1])
            return q(node)[best[node[1][i]]]

        def q(node):
            out = np.zeros(A)
            for joint, child in node[2].items():
                out[joint[i]] += value(child)
            return out / A ** (n - 1)

        for r in reversed(range(steps)):
            scores: dict[str, np.ndarray] = {}
            for node, reach in nodes_by_round[r]:
                key = node[1][i]
                scores[key] = scores.get(key, 0.0) + reach * q(node)
            best.update({key: int(np.argmax(s)) for key, s in scores.items()})
        total += value(root) - value_on_policy[i]
    return float(total)


@pytest.mark.slow
def test_nash_conv_of_uniform_on_tiny_game_matches_brute_force():
    game = pyspiel.load_game(TINY_GAME)
    expected = brute_force_nash_conv_uniform(game)
    assert expected > 0.1  # the uniform profile is far from an equilibrium
    got = exploitability.nash_conv(game, policy_lib.UniformRandomPolicy(game))
    assert got == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- hand-checked rules
# A market on 0..10 (fundamental mean 5) with the book 3 4 | 6 7 (one lot each) at the start. Chance ids:
# fundamental 0 down / 1 none / 2 up; background 0 none / 1 buy at the fundamental / 2 sell at the fundamental.
BASE = dict(players=2, steps=3, price_levels=11, initial_depth=2, bg_value_spread=0, bg_shade_min=0, bg_shade_max=0,
            bg_ttl=5, shock_prob=0.5, bg_arrival_prob=0.8, limit_levels=3, quote_levels=2, position_limit=5,
            max_orders=4, lot=1, history=1, book_levels=3)
QUIET = (1, 0)
HOLD, CANCEL, BUY, SELL = R.HOLD, R.CANCEL, R.MARKET_BUY, R.MARKET_SELL
LIMIT_BUY = [4, 5, 6]     # k ticks below the best bid
QUOTE = {1: 10, 2: 11}    # half-spread h


def market(**overrides):
    return pyspiel.load_game("python_lob_market", {**BASE, **overrides})


def play(game, *rounds):
    """Apply ``(fundamental, background, joint action)`` per round (a trailing joint action may be omitted)."""
    state = game.new_initial_state()
    for f, b, *joint in rounds:
        state.apply_action(f)
        state.apply_action(b)
        if joint:
            state.apply_actions(list(joint[0]))
    return state


def book_of(state, side):
    obs = state.observation_ints(0)
    L = state.get_game().config.book_levels
    i = R.OBS_PRIVATE + (0 if side == "bid" else 2 * L)
    return [(int(p), int(s)) for p, s in zip(obs[i:i + L], obs[i + L:i + 2 * L]) if s > 0]


def book_counter(state, field):
    game = state.get_game()
    return int(state.market_buffer[int(game.params_vector[R.P_OFF_BOOK]) + field])


def test_initial_book():
    state = play(market(), QUIET)
    assert book_of(state, "bid") == [(4, 1), (3, 1)] and book_of(state, "ask") == [(6, 1), (7, 1)]


def test_market_buy_lifts_best_ask_and_pays_its_price():
    state = play(market(), (*QUIET, [BUY, HOLD]))
    assert state.account(0) == (-6, 1) and state.account(1) == (0, 0)
    assert book_of(state, "ask") == [(7, 1)]
    assert int(state.market_buffer[R.M_LAST_PRICE]) == 6


def test_seats_rotate_each_round():
    game = market()
    state = play(game, (*QUIET, [BUY, BUY]))          # round 0: seat 0 first -> 6, seat 1 -> 7
    assert state.account(0) == (-6, 1) and state.account(1) == (-7, 1)
    state = play(game, (*QUIET, [BUY, BUY]), (*QUIET, [SELL, SELL]))  # round 1: seat 1 first hits the bid 4
    assert state.account(1) == (-7 + 4, 0) and state.account(0) == (-6 + 3, 0)


def test_position_limit_cuts_orders():
    game = market(lot=3, position_limit=2)
    state = play(game, (*QUIET, [BUY, LIMIT_BUY[0]]))
    assert state.account(0) == (-6 - 7, 2)             # 3 lots asked, cut to 2: one at 6, one at 7
    assert state.observation_ints(1)[2] == 2           # the limit buy rests 2 lots, not 3
    assert book_of(state, "bid")[0] == (4, 3)
    state = play(game, (*QUIET, [BUY, LIMIT_BUY[0]]), (*QUIET, [BUY, LIMIT_BUY[0]]))
    assert state.account(0) == (-13, 2)                # at the limit: the second buy does nothing
    assert state.observation_ints(1)[2] == 2           # worst-case position full: rejected


def test_max_orders_rejects_further_limit_orders():
    game = market(max_orders=2, quote_levels=0)
    state = play(game, (*QUIET, [LIMIT_BUY[0], HOLD]), (*QUIET, [LIMIT_BUY[1], HOLD]))
    assert book_of(state, "bid") == [(4, 2), (3, 2)] and state.observation_ints(0)[2] == 2
    submitted = book_counter(state, BK.H_SUBMITTED)
    state.apply_action(1)
    state.apply_action(0)
    state.apply_actions([LIMIT_BUY[2], HOLD])          # would rest at 2: a third order, rejected
    assert book_of(state, "bid") == [(4, 2), (3, 2)]
    assert book_counter(state, BK.H_SUBMITTED) == submitted


def test_quote_replaces_resting_orders():
    game = market()
    state = play(game, (*QUIET, [QUOTE[1], HOLD]))     # centre (4 + 6) // 2 = 5: buy 4, sell 6
    assert book_of(state, "bid")[0] == (4, 2) and book_of(state, "ask")[0] == (6, 2)
    state = play(game, (*QUIET, [QUOTE[1], HOLD]), (*QUIET, [QUOTE[2], HOLD]))  # centre 5: buy 3, sell 7
    assert book_of(state, "bid") == [(4, 1), (3, 2)] and book_of(state, "ask") == [(6, 1), (7, 2)]
    assert tuple(state.observation_ints(0)[2:4]) == (1, 1)
    assert book_counter(state, BK.H_CANCELLED) == 2    # the first quote's two lots


def test_background_orders_expire_after_bg_ttl():
    game = market(bg_ttl=2)
    state = play(game, (1, 1, [HOLD, HOLD]), (1, 1, [HOLD, HOLD]))  # buys at 5 arrive in rounds 0 and 1
    assert book_of(state, "bid") == [(5, 2), (4, 1), (3, 1)]
    state.apply_action(1)                              # round 2 begins: orders of round <= 0 expire
    assert book_of(state, "bid") == [(5, 1)] and book_of(state, "ask") == []
    assert book_counter(state, BK.H_CANCELLED) == 5    # 4 initial lots and the round-0 arrival


def test_rewards_are_mark_to_market_and_telescope_to_returns():
    game = market()
    state = play(game, (*QUIET, [BUY, HOLD]), QUIET)   # next decision: book 3 4 | 7, mark 5.5
    assert state.rewards() == [-6 + 5.5, 0.0]
    rng = np.random.default_rng(3)
    for _ in range(5):
        state, total = game.new_initial_state(), np.zeros(2)
        while not state.is_terminal():
            if state.is_chance_node():
                actions, probs = zip(*state.chance_outcomes())
                state.apply_action(int(rng.choice(actions, p=probs)))
                continue
            total += state.rewards()
            state.apply_actions([int(rng.integers(game.num_distinct_actions())) for _ in range(2)])
        total += state.rewards()
        assert total.tolist() == pytest.approx(state.returns(), abs=1e-12)


def test_terminal_valuation_at_the_fundamental():
    game = market()
    state = play(game, (*QUIET, [BUY, SELL]), (2, 0, [HOLD, HOLD]), (2, 0, [HOLD, HOLD]))
    assert state.is_terminal()
    # mean reversion 0.05: 5 -> 5 + 1 = 6 -> 5 + round(0.95 * 1) + 1 = 7
    assert state.fundamental == 7
    assert state.account(0) == (-6, 1) and state.account(1) == (4, -1)
    assert state.returns() == [-6 + 7, 4 - 7]


# --------------------------------------------------------------------------- golden playthroughs


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate_playthroughs", HERE / "regenerate_playthroughs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(_regenerate_module().PLAYTHROUGHS))
def test_golden_playthrough(name):
    module = _regenerate_module()
    path = module.DIRECTORY / name
    assert path.exists(), f"missing {path}: run python -m tests.games.regenerate_playthroughs"
    assert module.generate(name) == path.read_text(encoding="utf-8"), (
        f"{name} changed; if deliberate, run python -m tests.games.regenerate_playthroughs and review the diff")


def test_marketgames_exports_tiny_game():
    assert marketgames.TINY_GAME == TINY_GAME and pyspiel.load_game(TINY_GAME).num_players() == 2
