"""Exact solvers refuse too-large games at once, from a cheap estimate of the tree size (issue 9, item 12)."""
import logging

import numpy as np
import pyspiel
import pytest

import marketgames
from marketgames.games import lob_market
from solvers.exploitability import (
    GameNotSupportedError,
    best_response,
    build_tree,
    estimate_tree_size,
    exploitability,
    nash_conv,
    player_gains,
    policy_values,
)
from solvers.exploitability import tree as tree_module
from solvers.exploitability.tree import ESTIMATE_FACTOR
from solvers.learners import PSRO, XFP, SampledFSP


@pytest.fixture(scope="module")
def tiny_size():
    return build_tree(pyspiel.load_game(marketgames.TINY_GAME)).num_nodes


@pytest.fixture
def count_states(monkeypatch):
    """Counts the market states made by applying actions (every child state is one clone plus one apply)."""
    counter = {"n": 0}
    for name in ("_apply_action", "_apply_actions"):
        original = getattr(lob_market.LobMarketState, name)

        def counted(self, *args, _original=original):
            counter["n"] += 1
            return _original(self, *args)

        monkeypatch.setattr(lob_market.LobMarketState, name, counted)
    return counter


@pytest.mark.parametrize("game_string", ["kuhn_poker", "leduc_poker", "kuhn_poker(players=3)"])
def test_the_estimate_is_within_its_documented_factor_of_the_true_size(game_string):
    game = pyspiel.load_game(game_string)
    true = build_tree(game).num_nodes
    for seed in range(5):
        estimate = estimate_tree_size(game, seed=seed)
        assert true / ESTIMATE_FACTOR <= estimate.nodes <= true * ESTIMATE_FACTOR
        assert estimate.probes == 64 and estimate.std_error >= 0


def test_the_estimate_is_within_its_factor_on_the_tiny_market(tiny_size):
    game = pyspiel.load_game(marketgames.TINY_GAME)
    for seed in range(3):
        nodes = estimate_tree_size(game, seed=seed).nodes
        assert tiny_size / ESTIMATE_FACTOR <= nodes <= tiny_size * ESTIMATE_FACTOR


def test_a_one_path_game_is_counted_exactly():
    """Knuth's estimator is exact when every node at a depth has the same number of children."""
    game = pyspiel.load_game("matrix_rps")  # a simultaneous node (2 virtual levels: 1 + 3 nodes), 9 terminals
    assert estimate_tree_size(game, probes=3).nodes == build_tree(game).num_nodes == 13


def test_a_game_far_above_max_nodes_is_refused_before_any_state_of_the_enumeration(count_states):
    game = pyspiel.load_game(marketgames.TINY_GAME)  # ~12,700 nodes
    estimate_tree_size(game)
    playout_states = count_states["n"]
    count_states["n"] = 0
    with pytest.raises(GameNotSupportedError, match=r"about 1\.27e\+04 nodes \(Knuth's estimate.*max_nodes=1000"):
        build_tree(game, max_nodes=1000)
    assert count_states["n"] == playout_states  # only the estimate's playouts; no state of the enumeration


def test_the_enumeration_stops_as_soon_as_max_nodes_is_exceeded(count_states, tiny_size):
    game = pyspiel.load_game(marketgames.TINY_GAME)
    estimate_tree_size(game)
    playout_states = count_states["n"]
    count_states["n"] = 0
    max_nodes = 4000  # the estimate (about 12,700) is within ESTIMATE_FACTOR of it: enumeration starts
    assert tiny_size < ESTIMATE_FACTOR * max_nodes
    with pytest.raises(GameNotSupportedError, match="more than max_nodes=4000 nodes .the enumeration stopped"):
        build_tree(game, max_nodes=max_nodes)
    assert count_states["n"] - playout_states <= max_nodes


def test_max_nodes_is_exact_at_the_boundary():
    game = pyspiel.load_game("kuhn_poker")
    assert build_tree(game, max_nodes=58).num_nodes == 58
    with pytest.raises(GameNotSupportedError, match="max_nodes=57"):
        build_tree(game, max_nodes=57)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match=r"^max_nodes=.* is not allowed"):
            build_tree(game, max_nodes=bad)


def test_the_exact_solvers_and_nash_conv_entry_points_expose_max_nodes():
    game = pyspiel.load_game("leduc_poker")  # 9,457 nodes: refused at once under max_nodes=1000
    table = np.ones((1, 1))
    calls = [lambda: XFP(game, max_nodes=1000), lambda: SampledFSP(game, max_nodes=1000),
             lambda: PSRO(game, max_nodes=1000), lambda: nash_conv(game, table, max_nodes=1000),
             lambda: player_gains(game, table, max_nodes=1000), lambda: exploitability(game, table, max_nodes=1000),
             lambda: policy_values(game, table, max_nodes=1000), lambda: best_response(game, table, 0, max_nodes=1000)]
    for call in calls:
        with pytest.raises(GameNotSupportedError, match="max_nodes=1000"):
            call()
    assert XFP(game, max_nodes=10_000).tree.num_nodes == 9457


def test_the_full_market_is_refused_on_its_estimate():
    """XFP("python_lob_market") used to enumerate for minutes before refusing."""
    with pytest.raises(GameNotSupportedError, match="Knuth's estimate"):
        XFP("python_lob_market(steps=5)")


def test_a_long_enumeration_is_logged_with_its_estimate(caplog, monkeypatch):
    monkeypatch.setattr(tree_module, "LONG_ENUMERATION", 1000)
    with caplog.at_level(logging.INFO, logger="solvers.exploitability.tree"):
        build_tree(pyspiel.load_game("leduc_poker"))
    starts = [r for r in caplog.records if "enumerating the tree of leduc_poker" in r.getMessage()]
    assert len(starts) == 1 and starts[0].levelno == logging.INFO and "nodes estimated" in starts[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="solvers.exploitability.tree"):
        build_tree(pyspiel.load_game("kuhn_poker"))  # 58 nodes: not a long enumeration
    assert not [r for r in caplog.records if "enumerating" in r.getMessage()]
