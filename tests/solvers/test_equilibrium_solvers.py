"""Nash solvers on textbook games with published equilibria, degenerate games, and hypothesis properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from solvers.equilibrium import (EquilibriumNotFoundError, NormalFormGame, all_nash, approximate_nash,
                                 fictitious_play,
                                 complementarity_polish, expand_profile, expected_payoffs, is_nash, lemke_howson,
                                 mclennan_tourky, merge_duplicates, mixture_regret, nash, nash_conv, nashpy_equilibria,
                                 pure_nash, regret, solve_zero_sum, support_enumeration)
from solvers.equilibrium.games import (battle_of_the_sexes, jordan_game, matching_pennies, prisoners_dilemma,
                                       rock_paper_scissors)

TOL = 1e-8


def _within_tol(game, profile):
    """Largest regret <= TOL times the payoff range: what every solver promises (tolerances are relative)."""
    return mixture_regret(game, profile) <= TOL * (float(np.ptp(game)) or 1.0)


def _as_set(profiles, decimals=6):
    return sorted(tuple(np.round(np.concatenate(p), decimals)) for p in profiles)


# ------------------------------------------------------------------------------------------------ regret
def test_regret_of_pd_cooperation_is_the_temptation_gain():
    pd = prisoners_dilemma()
    # (C, C): each gains 5 - 3 = 2 by defecting
    np.testing.assert_allclose(regret(pd, [0, 0]), [2.0, 2.0])
    assert nash_conv(pd, [0, 0]) == pytest.approx(4.0)
    assert mixture_regret(pd, [1, 1]) == 0.0
    assert is_nash(pd, [1, 1]) and not is_nash(pd, [0, 0])


def test_regret_n_player_jordan_game():
    g = jordan_game()
    half = [np.array([0.5, 0.5])] * 3
    assert mixture_regret(g, half) == pytest.approx(0.0, abs=1e-12)
    # all play 0: player 2 (wants to mismatch player 0) gains 2 by switching
    np.testing.assert_allclose(regret(g, [0, 0, 0]), [0.0, 0.0, 2.0])


def test_profile_validation_names_the_problem():
    with pytest.raises(ValueError, match="profile"):
        regret(matching_pennies(), [np.array([0.7, 0.7]), 0])
    with pytest.raises(ValueError, match="payoffs has shape"):
        regret(np.zeros((3, 2, 2)), [0, 0])


# -------------------------------------------------------------------------------------------- textbook
# nashpy runs in a fresh process bounded by wall time against its known hangs; on a loaded machine the process
# start alone can take seconds, so these terminating games get a generous bound (it is not a speed test)
def test_battle_of_the_sexes_has_three_equilibria():
    expected = [[np.array([1., 0]), np.array([1., 0])], [np.array([0., 1]), np.array([0., 1])],
                [np.array([.6, .4]), np.array([.4, .6])]]
    assert _as_set(all_nash(battle_of_the_sexes())) == _as_set(expected)
    assert _as_set(nashpy_equilibria(battle_of_the_sexes(), method="vertex_enumeration", timeout=120)) == _as_set(expected)
    assert _as_set(nashpy_equilibria(battle_of_the_sexes(), method="support_enumeration", timeout=120)) == _as_set(expected)
    np.testing.assert_allclose(expected_payoffs(battle_of_the_sexes(), expected[2]), [1.2, 1.2])


@pytest.mark.parametrize("method", ["auto", "lemke_howson", "lp", "support_enumeration", "mclennan_tourky",
                                    "nashpy_support_enumeration", "nashpy_vertex_enumeration",
                                    "nashpy_lemke_howson"])
def test_every_method_solves_matching_pennies_and_rps(method):
    for game in (matching_pennies(), rock_paper_scissors()):
        prof = nash(game, method=method)
        k = game.shape[1]
        for p in prof:
            np.testing.assert_allclose(p, np.full(k, 1 / k), atol=1e-7)


def test_prisoners_dilemma_unique_equilibrium_is_defect():
    assert pure_nash(prisoners_dilemma()) == [(1, 1)]
    assert _as_set(all_nash(prisoners_dilemma())) == _as_set([[np.array([0., 1]), np.array([0., 1])]])


def test_three_player_jordan_game_unique_mixed_equilibrium():
    eqs = all_nash(jordan_game())
    assert len(eqs) == 1
    for p in eqs[0]:
        np.testing.assert_allclose(p, [0.5, 0.5], atol=1e-7)
    for method in ("auto", "mclennan_tourky", "support_enumeration"):
        assert _within_tol(jordan_game(), nash(jordan_game(), method=method))


def test_zero_sum_lp_values():
    assert solve_zero_sum(matching_pennies()).value == pytest.approx(0.0, abs=1e-9)
    # Morra-like game with known value: A = [[2, -1], [-1, 1]] has value 1/5, x = (2/5, 3/5)
    from solvers.equilibrium import from_bimatrix

    sol = solve_zero_sum(from_bimatrix([[2, -1], [-1, 1]]))
    assert sol.value == pytest.approx(0.2)
    np.testing.assert_allclose(sol.row, [0.4, 0.6], atol=1e-9)
    with pytest.raises(ValueError, match="zero-sum"):
        solve_zero_sum(battle_of_the_sexes())


# ------------------------------------------------------------------------------------------- degenerate
def test_degenerate_games():
    one = np.zeros((2, 1, 1))
    for method in ("lemke_howson", "nashpy_lemke_howson", "nashpy_vertex_enumeration"):
        assert [p.tolist() for p in nash(one, method=method)] == [[1.0], [1.0]]
    zeros = np.zeros((2, 3, 3))  # every profile is an equilibrium
    for method in ("lemke_howson", "nashpy_vertex_enumeration", "nashpy_support_enumeration", "auto"):
        assert is_nash(zeros, nash(zeros, method=method))
    # a 1 x n game: the row player is stuck, the column player best-responds (strategies 1 and 2 tie: a
    # continuum of equilibria, one representative per support profile)
    row = np.array([[[1.0, 2.0, 3.0]], [[0.0, 5.0, 5.0]]])
    found = all_nash(row)
    assert sorted(tuple(np.flatnonzero(p[1] > 1e-9).tolist()) for p in found) == [(1,), (1, 2), (2,)]
    assert all(_within_tol(row, p) for p in found)
    # classic degenerate game (von Stengel 2007, Fig. 3.4-like): a pure strategy with two best responses
    deg = np.stack([np.array([[3., 3], [2, 5], [0, 6]]), np.array([[3., 2], [2, 6], [3, 1]])])
    for prof in all_nash(deg):
        assert _within_tol(deg, prof)
    assert is_nash(deg, nash(deg, method="nashpy_lemke_howson"))


def test_nashpy_timeout_is_bounded_and_reported():
    rng = np.random.default_rng(0)
    game = rng.standard_normal((2, 9, 9))
    with pytest.raises(EquilibriumNotFoundError, match="timeout"):
        nash(game, method="nashpy_support_enumeration", timeout=0.05)


def test_lemke_howson_large_random_game_is_verified():
    game = np.random.default_rng(1).standard_normal((2, 60, 60))
    assert _within_tol(game, lemke_howson(game))


def test_nash_rejects_unknown_or_unsuitable_methods():
    with pytest.raises(ValueError, match="method='nope'"):
        nash(matching_pennies(), method="nope")
    with pytest.raises(ValueError, match="2-player"):
        nash(jordan_game(), method="lemke_howson")


# ------------------------------------------------------------------------------------------- properties
small_games = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda s: arrays(np.float64, (2,) + s, elements=st.integers(-5, 5).map(float)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_games)
def test_every_returned_equilibrium_is_one(game):
    for prof in all_nash(game):
        assert _within_tol(game, prof)
    assert _within_tol(game, nash(game))
    assert _within_tol(game, lemke_howson(game))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(st.integers(2, 4), st.integers(2, 4)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.integers(-9, 9).map(float))))
def test_lp_and_nashpy_agree_on_zero_sum_values(A):
    game = np.stack([A, -A])
    value = solve_zero_sum(game).value
    eqs = nashpy_equilibria(game, method="vertex_enumeration", timeout=120)
    assert eqs, "nashpy found no verified equilibrium"
    for prof in eqs:  # every equilibrium of a zero-sum game gives the row player the value
        assert expected_payoffs(game, prof)[0] == pytest.approx(value, abs=1e-7)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(np.float64, (3, 2, 2, 2), elements=st.integers(-5, 5).map(float)))
def test_n_player_support_enumeration_is_verified_and_contains_pure(game):
    eqs = support_enumeration(game)
    assert eqs  # every finite game has an equilibrium (Nash, 1951); found here for 2x2x2
    for prof in eqs:
        assert _within_tol(game, prof)
    pures = {tuple(int(np.argmax(p)) for p in prof) for prof in eqs if all(p.max() == 1.0 for p in prof)}
    assert pures == set(pure_nash(game))


def test_mclennan_tourky_random_three_player():
    game = np.random.default_rng(3).standard_normal((3, 3, 3, 3))
    assert _within_tol(game, mclennan_tourky(game))


@pytest.mark.parametrize("seed", range(6))
def test_complementarity_polish_turns_nearby_profiles_into_equilibria_without_a_support(seed):
    """Perturb a verified equilibrium of a random 3-player game (mass on strategies outside its support too);
    the Fischer-Burmeister refinement must return a verified equilibrium."""
    rng = np.random.default_rng(seed)
    game = rng.standard_normal((3, 4, 4, 4))
    eq = nash(game)
    near = [0.97 * x + 0.03 * rng.dirichlet(np.ones(4)) for x in eq]
    assert mixture_regret(game, near) > 1e-4  # really off the equilibrium
    fixed = complementarity_polish(game, near)
    assert fixed is not None and _within_tol(game, fixed)


def test_duplicate_strategies_are_merged_and_equilibria_carry_back():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((3, 3, 3, 3))
    # player 1 gets a copy of its strategy 0 as strategy 3; player 2 a copy of strategy 2 as strategy 3
    game = np.concatenate([base, base[:, :, :1]], axis=2)
    game = np.concatenate([game, game[:, :, :, 2:3]], axis=3)
    reduced, kept = merge_duplicates(game)
    assert reduced.shape == (3, 3, 3, 3) and [k.tolist() for k in kept] == [[0, 1, 2], [0, 1, 2], [0, 1, 2]]
    np.testing.assert_array_equal(reduced, base)
    full = expand_profile(nash(reduced), kept, game.shape[1:])
    assert _within_tol(game, full)
    assert _within_tol(game, nash(game))


def test_three_player_nash_is_bounded_and_approximate_nash_is_close():
    game = np.random.default_rng(11).standard_normal((3, 6, 6, 6))
    assert _within_tol(game, nash(game))
    approx = approximate_nash(game, iterations=3000)
    assert all(np.all(x >= 0) and x.sum() == pytest.approx(1.0) for x in approx)
    # never worse than fictitious play's best time average over the same rounds (one of its candidates)
    assert nash_conv(game, approx) <= fictitious_play(game, iterations=3000).nash_conv.min() + 1e-12


def test_facade():
    g = NormalFormGame(prisoners_dilemma(), names=[["C", "D"], ["C", "D"]])
    assert g.pure_equilibria() == [(1, 1)]
    assert (1, 1) not in g.pareto() and (0, 0) in g.pareto()
    assert g.is_nash(g.nash())
