"""Equilibrium answers do not change when a game is multiplied by a positive constant or shifted (issue 9,
item 8): every tolerance is relative to the payoff range."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from solvers.equilibrium import (all_nash, fictitious_play, is_nash, is_zero_sum, lemke_howson, mclennan_tourky,
                                 merge_duplicates, mixture_regret, nash, nashpy_equilibria, pareto_pure, pure_nash,
                                 response_graph, solve_zero_sum, support_enumeration)
from solvers.equilibrium.core import normalize, payoff_range

TOL = 1e-8

# von Stengel (1999), "New maximal numbers of equilibria in bimatrix games", Discrete Comput. Geom. 21: a 6 x 6
# game with 75 Nash equilibria (gambit's contrib/games/stengel.nfg; pairs (row, column) with the row strategy
# varying fastest).
_STENGEL_PAIRS = [
    (9504, 72336), (-111771, -461736), (397584, 1227336), (171204, -1718376), (1303104, 1303104), (737154, -453420),
    (-660, 48081), (31680, -300036), (-113850, 774576), (-45936, -1039236), (-453420, 737154), (-227040, -227040),
    (19976, 29216), (-130944, -178761), (451176, 451176), (208626, -586476), (1227336, 397584), (774576, -113850),
    (-20526, 14124), (168124, -84436), (-586476, 208626), (-263076, -263076), (-1718376, 171204), (-1039236, -45936),
    (1776, 1776), (-8514, -8976), (29216, 19976), (14124, -20526), (72336, 9504), (48081, -660),
    (-8976, -8514), (52764, 52764), (-178761, -130944), (-84436, 168124), (-461736, -111771), (-300036, 31680),
]
VON_STENGEL_EQUILIBRIA = 75


def von_stengel_6x6() -> np.ndarray:
    pairs = np.array(_STENGEL_PAIRS, dtype=float).reshape(6, 6, 2)  # [column, row, player]
    return np.transpose(pairs, (2, 1, 0))


def _supports(profiles, tol=1e-6):
    return sorted(tuple(tuple(np.flatnonzero(p > tol).tolist()) for p in prof) for prof in profiles)


def _relative_regret(game, profile):
    return mixture_regret(game, profile) / payoff_range(game)


# ------------------------------------------------------------------------------------------ von Stengel 6x6
@pytest.fixture(scope="module")
def stengel_equilibria():
    return all_nash(von_stengel_6x6())


def test_von_stengel_6x6_has_all_75_equilibria_at_its_own_scale(stengel_equilibria):
    game = von_stengel_6x6()
    assert np.abs(game).max() > 1e6  # the payoffs as published
    assert len(stengel_equilibria) == VON_STENGEL_EQUILIBRIA
    assert len(set(_supports(stengel_equilibria))) == VON_STENGEL_EQUILIBRIA  # a nondegenerate game
    for prof in stengel_equilibria:
        assert _relative_regret(game, prof) <= TOL


@pytest.mark.parametrize("scale, shift", [(1e-6, 0.0), (1e-12, 3e-6), (1e3, -7e8)])
def test_von_stengel_6x6_equilibria_do_not_depend_on_scale(stengel_equilibria, scale, shift):
    game = von_stengel_6x6()
    found = all_nash(scale * game + shift)
    assert len(found) == VON_STENGEL_EQUILIBRIA
    assert _supports(found) == _supports(stengel_equilibria)
    for prof in found:
        assert _relative_regret(game, prof) <= TOL


# -------------------------------------------------------------------------------------------- n players
def _mixed_only_3x3x3(count):
    out, seed = [], 0
    while len(out) < count:
        game = np.random.default_rng(seed).standard_normal((3, 3, 3, 3))
        if not pure_nash(game):
            out.append(game)
        seed += 1
    return out


@pytest.mark.parametrize("index", range(3))
def test_three_player_nash_on_a_scaled_down_game_is_an_equilibrium_of_the_original(index):
    game = _mixed_only_3x3x3(3)[index]
    prof = nash(1e-6 * game)
    assert _relative_regret(game, prof) <= TOL
    for p, q in zip(prof, nash(game)):
        np.testing.assert_allclose(p, q, atol=1e-6)


# ------------------------------------------------------------------------------------------- properties
scales = st.floats(-8.0, 8.0).map(lambda e: 10.0 ** e)
shifts = st.floats(-100.0, 100.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(2, 4), scales, shifts)
@example(3, 4, 4, 1e-8, 0.0)
@example(5, 3, 4, 1e8, -50.0)
def test_two_player_equilibria_are_invariant_under_positive_affine_maps(seed, m, n, c, u):
    game = np.random.default_rng(seed).standard_normal((2, m, n))
    moved = c * game + c * u
    base, found = all_nash(game), all_nash(moved)
    assert _supports(found) == _supports(base)
    for prof in found:
        assert _relative_regret(game, prof) <= TOL
    for p, q in zip(nash(moved), nash(game)):
        np.testing.assert_allclose(p, q, atol=1e-6)
    assert _relative_regret(game, lemke_howson(moved)) <= TOL
    assert pure_nash(moved) == pure_nash(game)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([(2, 2, 2), (3, 3, 3), (2, 3, 2)]), scales, shifts)
@example(0, (3, 3, 3), 1e-6, 0.0)
def test_n_player_equilibria_are_invariant_under_positive_affine_maps(seed, shape, c, u):
    game = np.random.default_rng(seed).standard_normal((3,) + shape)
    moved = c * game + c * u
    prof = nash(moved)
    assert _relative_regret(game, prof) <= TOL
    for p, q in zip(prof, nash(game)):
        np.testing.assert_allclose(p, q, atol=1e-6)
    if shape == (2, 2, 2):
        found = support_enumeration(moved)
        assert _supports(found) == _supports(support_enumeration(game))
        assert all(_relative_regret(game, p) <= TOL for p in found)


# ------------------------------------------------------------------------------- every tolerance is relative
@pytest.mark.parametrize("c", [1e-9, 1e9])
def test_checks_with_tolerances_give_the_same_answer_on_a_scaled_game(c):
    rng = np.random.default_rng(4)
    game = rng.integers(-3, 4, size=(2, 3, 3)).astype(float)
    small = c * game + 2.0 * c
    # an epsilon-equilibrium with relative regret 1e-6 is one at tol=1e-5, not at tol=1e-7, at any scale
    eq = nash(game)
    near = [0.999 * eq[0] + 0.001 * np.eye(3)[int(np.argmin(eq[0]))], eq[1]]
    rel = _relative_regret(game, near)
    assert 0 < rel
    assert is_nash(small, near, tol=2 * rel) and not is_nash(small, near, tol=rel / 2)
    assert is_nash(game, near, tol=2 * rel) and not is_nash(game, near, tol=rel / 2)
    # zero-sum LP: same strategies, value in the caller's units
    A = rng.standard_normal((3, 4))
    zs, zs_small = solve_zero_sum(np.stack([A, -A])), solve_zero_sum(np.stack([c * A, -c * A]))
    assert is_zero_sum(np.stack([c * A, -c * A]))
    np.testing.assert_allclose(zs_small.row, zs.row, atol=1e-7)
    np.testing.assert_allclose(zs_small.col, zs.col, atol=1e-7)
    assert zs_small.value == pytest.approx(c * zs.value, rel=1e-6)
    # response graph, Pareto frontier, duplicates and dynamics' diagnosis
    assert set(response_graph(small).edges) == set(response_graph(game).edges)
    assert pareto_pure(small) == pareto_pure(game)
    assert [k.tolist() for k in merge_duplicates(small, tol=1e-12)[1]] == \
        [k.tolist() for k in merge_duplicates(game, tol=1e-12)[1]]
    assert fictitious_play(small, iterations=500).status == fictitious_play(game, iterations=500).status
    for p, q in zip(mclennan_tourky(small), mclennan_tourky(game)):
        np.testing.assert_allclose(p, q, atol=1e-6)
    assert _supports(nashpy_equilibria(small, method="vertex_enumeration", timeout=120)) == \
        _supports(nashpy_equilibria(game, method="vertex_enumeration", timeout=120))


def test_normalize_maps_onto_the_unit_interval_and_back():
    game = np.random.default_rng(2).standard_normal((3, 2, 3, 2)) * 1e5 - 4e5
    norm = normalize(game)
    assert norm.unit.min() == 0.0 and norm.unit.max() == 1.0
    np.testing.assert_allclose(norm.payoff(norm.unit), game, rtol=1e-12)
    assert norm.gain(1.0) == pytest.approx(np.ptp(game))
    again = normalize(norm.unit)
    np.testing.assert_array_equal(again.unit, norm.unit)  # idempotent: solvers may call each other
    assert (again.offset, again.scale) == (0.0, 1.0)
    assert payoff_range(np.zeros((2, 2, 2))) == 1.0  # constant games keep a usable scale
