"""PSRO on OpenSpiel's games and the market."""
from __future__ import annotations

import numpy as np
import pytest

import marketgames
from solvers.equilibrium import mixture_regret
from solvers.exploitability import best_response, policy_values
from solvers.learners import PSRO, XFP, Solver


def test_psro_nash_solves_kuhn_and_pins_the_game_value():
    solver = PSRO("kuhn_poker", meta_solver="nash")
    assert isinstance(solver, Solver)
    for _ in range(10):
        metrics = solver.step()
    assert metrics["nash_conv"] < 0.01
    value = policy_values(solver.tree, solver.meta_policy_table())
    assert value[0] == pytest.approx(-1 / 18, abs=1e-6)
    # The meta-strategies are an equilibrium of the meta-game.
    assert mixture_regret(solver.meta_game, solver.meta_strategies) <= 1e-6


def test_psro_uniform_equals_xfp_iteration_by_iteration():
    psro, xfp = PSRO("kuhn_poker", meta_solver="uniform"), XFP("kuhn_poker")
    for _ in range(6):
        assert psro.step()["nash_conv"] == pytest.approx(xfp.step()["nash_conv"], abs=1e-9)


def test_meta_game_entries_are_exact_profile_values():
    solver = PSRO("kuhn_poker(players=3)", meta_solver="nash")
    for _ in range(2):
        solver.step()
    assert solver.meta_game.shape == (3, 3, 3, 3)
    profile = (2, 0, 1)
    np.testing.assert_allclose(solver.meta_game[(slice(None),) + profile],
                               policy_values(solver.tree, solver._joint_table(profile)), atol=1e-12)


def test_psro_on_the_tiny_market_falls():
    solver = PSRO(marketgames.TINY_GAME, meta_solver="nash")
    curve = [solver.step()["nash_conv"] for _ in range(4)]
    assert min(curve) < 0.5 * 1.7404  # uniform policy's NashConv


def test_checkpoint_and_resume_give_identical_numbers(tmp_path):
    a = PSRO("kuhn_poker", meta_solver="nash")
    for _ in range(3):
        a.step()
    path = a.save(tmp_path / "psro.npz")
    b = PSRO.load(path, "kuhn_poker")
    for _ in range(3):
        assert a.step()["nash_conv"] == b.step()["nash_conv"]
    np.testing.assert_array_equal(a.meta_game, b.meta_game)
    with pytest.raises(ValueError, match="checkpoint"):
        PSRO.load(path, "leduc_poker")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="meta_solver"):
        PSRO("kuhn_poker", meta_solver="nope")
    with pytest.raises(ValueError, match="oracle"):
        PSRO("kuhn_poker", oracle="magic")


def test_psro_uniform_on_three_player_kuhn_reaches_xfps_published_value():
    """PSRO with the uniform meta-solver is XFP (Lanctot et al. 2017); OpenSpiel's XFP: 0.279 after 10 on Kuhn 3p."""
    solver = PSRO("kuhn_poker(players=3)", meta_solver="uniform")
    curve = [solver.step()["nash_conv"] for _ in range(10)]
    assert curve[-1] == pytest.approx(0.279, abs=1e-3)
    assert solver.meta_game.shape == (3, 11, 11, 11)


def test_psro_accepts_a_callable_meta_solver():
    """The contract: payoffs (n, S1, ..., Sn) -> n probability vectors; here 'play the latest policy' (which makes
    PSRO iterated best response), checked against the exact best response it must add."""
    def latest(payoffs):
        return [np.eye(s)[-1] for s in payoffs.shape[1:]]

    solver = PSRO("kuhn_poker", meta_solver=latest)
    for _ in range(3):
        metrics = solver.step()
    assert [s.argmax() for s in metrics["meta_strategies"]] == [3, 3]
    previous = solver._joint_table((2, 2))
    np.testing.assert_array_equal(solver.population[0][3][solver.tree.infoset_player == 0],
                                  best_response(solver.tree, previous, 0).table(solver.tree, previous)[
                                      solver.tree.infoset_player == 0])
