"""OpenSpiel's own exact algorithms run on the market's tiny configuration."""
from __future__ import annotations

import pyspiel
import pytest
from open_spiel.python import policy
from open_spiel.python.algorithms import cfr, exploitability

import marketgames


@pytest.mark.slow
def test_cfr_on_the_turn_based_tiny_market_lowers_nash_conv():
    game = pyspiel.load_game(marketgames.TINY_GAME)
    turn_based = pyspiel.convert_to_turn_based(game)
    uniform = exploitability.nash_conv(turn_based, policy.UniformRandomPolicy(turn_based))
    # The turn-based wrapper keeps the game's values: same NashConv as on the simultaneous game.
    assert uniform == pytest.approx(exploitability.nash_conv(game, policy.UniformRandomPolicy(game)), abs=1e-9)
    solver = cfr.CFRSolver(turn_based)
    for _ in range(3):
        solver.evaluate_and_update_policy()
    after = exploitability.nash_conv(turn_based, solver.average_policy())
    assert 0 <= after < 0.6 * uniform
