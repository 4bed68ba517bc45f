"""Empirical games on kuhn_poker: CIs cover exact values, determinism across workers/backends, save/load."""
from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy
from open_spiel.python.algorithms.expected_game_score import policy_value

from solvers.empirical import (EmpiricalGame, PreferredActionStrategy, ProcessPoolBackend, SerialBackend,
                               UniformStrategy, batch_seed)
from solvers.equilibrium import nash, mixture_regret

KUHN = "kuhn_poker"


@pytest.fixture(scope="module")
def kuhn():
    return pyspiel.load_game(KUHN)


def _strategies(game):
    # Kuhn actions: 0 = pass/check/fold, 1 = bet/call
    return [UniformStrategy(), PreferredActionStrategy([1], name="always_bet"), policy.FirstActionPolicy(game)]


def _exact(game, seats):
    return np.asarray(policy_value(game.new_initial_state(), list(seats)))


def test_confidence_intervals_cover_exact_values(kuhn):
    strats = _strategies(kuhn)
    eg = EmpiricalGame(kuhn, [strats, strats], seed=7)
    drawn = eg.sample(min_samples=1500, batch_size=500)
    assert drawn == 9 * 1500 and eg.complete
    assert eg.payoffs.shape == (2, 3, 3)
    misses = 0
    for a, b in itertools.product(range(3), range(3)):
        exact = _exact(kuhn, [strats[a], strats[b]])
        st = eg.cell_stats((a, b))
        assert st.count == 1500
        misses += int(np.sum((exact < st.ci_low) | (exact > st.ci_high)))
        # zero-sum game: the estimates of both players mirror each other exactly
        np.testing.assert_allclose(st.mean[0], -st.mean[1], atol=1e-12)
    assert misses <= 1  # 95% intervals, 18 checks (9 independent): allow one miss
    # always-bet vs always-check-fold: exact value known by hand is +1 for the bettor... checked by policy_value
    assert eg.payoffs[0, 1, 2] == pytest.approx(_exact(kuhn, [strats[1], strats[2]])[0], abs=0.15)


def test_one_vs_two_workers_bit_identical_and_independent_of_order(kuhn):
    strats = _strategies(kuhn)[:2]
    one = EmpiricalGame(kuhn, [strats, strats], seed=11)
    one.sample(min_samples=400, batch_size=100)
    two = EmpiricalGame(KUHN, [strats, strats], seed=11)
    with ProcessPoolBackend(2) as pool:
        two.sample(min_samples=400, batch_size=100, backend=pool)
    np.testing.assert_array_equal(one.payoffs, two.payoffs)
    np.testing.assert_array_equal(one.standard_errors, two.standard_errors)
    other = EmpiricalGame(kuhn, [strats, strats], seed=12)
    other.sample(min_samples=400, batch_size=100)
    assert not np.array_equal(one.payoffs, other.payoffs)


def test_adaptive_sampling_reaches_target_or_cap(kuhn):
    strats = _strategies(kuhn)[:2]
    eg = EmpiricalGame(kuhn, [strats, strats], seed=3)
    eg.sample(min_samples=100, batch_size=100, target_half_width=0.08, max_samples=2000)
    hw = (eg.ci_high - eg.ci_low) / 2
    counts = eg.counts
    for prof in itertools.product(range(2), range(2)):
        assert counts[prof] >= 100
        assert hw[(slice(None),) + prof].max() <= 0.08 or counts[prof] >= 2000
    assert counts.max() > 100  # some cells needed more than the minimum
    # a second call with the same target adds nothing
    assert eg.sample(min_samples=100, batch_size=100, target_half_width=0.08, max_samples=2000) == 0


def test_adding_a_strategy_samples_only_new_cells_and_keeps_numbers(kuhn):
    strats = _strategies(kuhn)
    grown = EmpiricalGame(kuhn, [strats[:2], strats[:2]], seed=5)
    grown.sample(min_samples=200, batch_size=100)
    before = grown.payoffs.copy()
    assert np.isnan(grown.cell_stats((0, 0)).mean).sum() == 0
    grown.add_strategy(strats[2], player=1)
    assert np.isnan(grown.payoffs[:, :, 2]).all()  # NaN until sampled
    assert grown.sample(min_samples=200, batch_size=100) == 2 * 200
    np.testing.assert_array_equal(grown.payoffs[:, :, :2], before)
    full = EmpiricalGame(kuhn, [strats[:2], strats], seed=5)  # same cells from scratch: same numbers
    full.sample(min_samples=200, batch_size=100)
    np.testing.assert_array_equal(full.payoffs, grown.payoffs)


def test_symmetric_game_counts_multisets_and_matches_seat_average(kuhn):
    strats = _strategies(kuhn)[:2]
    eg = EmpiricalGame(kuhn, strats, symmetric=True, seed=2)
    eg.sample(min_samples=3000, batch_size=1000)
    assert len(eg.cells()) == 3 and eg.counts[0, 1] == eg.counts[1, 0] == 3000
    # value of strategy a against b, averaged over both seatings
    exact = 0.5 * (_exact(kuhn, [strats[0], strats[1]])[0] + _exact(kuhn, [strats[1], strats[0]])[1])
    st = eg.cell_stats((0, 1))
    assert st.ci_low[0] <= exact <= st.ci_high[0]
    np.testing.assert_array_equal(eg.payoffs[0, 0, 1], eg.payoffs[1, 1, 0])  # symmetric tensor
    assert eg.payoffs[0, 0, 0] == pytest.approx(0.0)  # a strategy against itself in a symmetric zero-sum game


def test_save_load_roundtrip_and_resume(tmp_path, kuhn):
    strats = _strategies(kuhn)[:2]
    eg = EmpiricalGame(kuhn, [strats, strats], seed=9, keep_samples=True)
    eg.sample(min_samples=200, batch_size=100)
    path = eg.save(tmp_path / "eg.json")
    back = EmpiricalGame.load(path)
    np.testing.assert_array_equal(back.payoffs, eg.payoffs)
    np.testing.assert_array_equal(back.samples((1, 0)), eg.samples((1, 0)))
    assert eg.samples((1, 0)).shape == (200, 2)
    with pytest.raises(RuntimeError, match="without its object"):
        back.sample(min_samples=300, batch_size=100)
    resumed = EmpiricalGame.load(path, strategies=[strats, strats])
    resumed.sample(min_samples=300, batch_size=100)
    eg.sample(min_samples=300, batch_size=100)
    np.testing.assert_array_equal(resumed.payoffs, eg.payoffs)


def test_empirical_payoffs_feed_the_solvers(kuhn):
    strats = _strategies(kuhn)
    eg = EmpiricalGame(kuhn, [strats, strats], seed=1)
    eg.sample(min_samples=200, batch_size=200)
    prof = nash(eg.payoffs)
    assert mixture_regret(eg.payoffs, prof) <= 1e-8


def test_errors_name_the_parameter(kuhn):
    with pytest.raises(TypeError, match=r"strategies\[0\]\[0\]"):
        EmpiricalGame(kuhn, [[object()], [UniformStrategy()]])
    with pytest.raises(ValueError, match="players"):
        EmpiricalGame(kuhn, [[UniformStrategy()]])
    eg = EmpiricalGame(kuhn, [[UniformStrategy()], [UniformStrategy()]])
    with pytest.raises(ValueError, match="min_samples"):
        eg.sample(min_samples=1)
    with pytest.raises(ValueError, match="backend='gpu'"):
        eg.sample(backend="gpu")


def test_simultaneous_game_with_tabular_policies():
    game = pyspiel.load_game("matrix_rps")
    rock = policy.TabularPolicy(game)
    rock.action_probability_array[:] = [1.0, 0.0, 0.0]
    eg = EmpiricalGame(game, [UniformStrategy(), PreferredActionStrategy([1], name="paper"), rock], symmetric=True,
                       seed=0)
    eg.sample(min_samples=20, batch_size=20)
    assert eg.payoffs[0, 1, 2] == 1.0 and eg.payoffs[0, 2, 1] == -1.0  # paper beats rock, deterministic
    assert eg.standard_errors[0, 1, 2] == 0.0


def test_batch_seeds_are_keyed_by_cell_and_batch():
    root = np.random.SeedSequence(4)
    a = batch_seed(root, (0, 1), 0).generate_state(2)
    assert not np.array_equal(a, batch_seed(root, (1, 0), 0).generate_state(2))
    assert not np.array_equal(a, batch_seed(root, (0, 1), 1).generate_state(2))
    np.testing.assert_array_equal(a, batch_seed(np.random.SeedSequence(4), (0, 1), 0).generate_state(2))


@pytest.mark.slow
def test_ray_backend_matches_process_pool(kuhn):
    ray = pytest.importorskip("ray")
    from solvers.empirical import RayBackend

    strats = _strategies(kuhn)[:2]
    ref = EmpiricalGame(kuhn, [strats, strats], seed=21)
    ref.sample(min_samples=300, batch_size=100, backend=SerialBackend())
    pooled = EmpiricalGame(kuhn, [strats, strats], seed=21)
    pooled.sample(min_samples=300, batch_size=100, workers=2)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = EmpiricalGame(kuhn, [strats, strats], seed=21)
        on_ray.sample(min_samples=300, batch_size=100, backend=RayBackend())
    finally:
        if started:
            ray.shutdown()
    np.testing.assert_array_equal(pooled.payoffs, ref.payoffs)
    np.testing.assert_array_equal(on_ray.payoffs, pooled.payoffs)
    np.testing.assert_array_equal(on_ray.standard_errors, pooled.standard_errors)


class _CountingSimulator:
    """Any object with check/returns is a simulator; this one records the seatings it is asked to play."""

    name = "counting"

    def __init__(self, bad_shape: bool = False) -> None:
        from solvers.empirical import OpenSpielSimulator

        self.inner, self.calls, self.checked, self.bad_shape = OpenSpielSimulator(), [], [], bad_shape

    def check(self, game, strategies):
        self.checked.extend(strategies)

    def returns(self, game, seats, episodes, rng):
        self.calls.append((tuple(getattr(s, "name", "?") for s in seats), episodes))
        out = self.inner.returns(game, seats, episodes, rng)
        return out[:, :1] if self.bad_shape else out


def test_custom_simulator_gets_whole_seatings_and_is_checked_up_front(kuhn):
    strats = _strategies(kuhn)[:2]
    sim = _CountingSimulator()
    eg = EmpiricalGame(kuhn, strats, symmetric=True, seed=4, simulator=sim)
    assert len(sim.checked) == 2
    eg.sample(min_samples=60, batch_size=60)
    # The mixed cell's 60 episodes reach the simulator as (at most) two seatings, not 60 single episodes.
    mixed = [c for c in sim.calls if len(set(c[0])) == 2]
    assert 1 <= len(mixed) <= 2 and sum(e for _, e in mixed) == 60
    loop = EmpiricalGame(kuhn, strats, symmetric=True, seed=4)
    loop.sample(min_samples=60, batch_size=60)
    np.testing.assert_array_equal(eg.payoffs, loop.payoffs)  # same rng use as the default loop
    with pytest.raises(ValueError, match="simulator returned shape"):
        EmpiricalGame(kuhn, strats, symmetric=True, simulator=_CountingSimulator(bad_shape=True)).sample(
            min_samples=2, batch_size=2)


def test_role_symmetric_game_on_three_player_kuhn(tmp_path):
    """Roles [0, 1, 1]: player 0 alone, players 1 and 2 interchangeable. Cells are (a, multiset {b, c}); each
    role-1 slot is worth its strategy's value averaged over both seatings, which the CIs must cover."""
    game = pyspiel.load_game("kuhn_poker(players=3)")
    lone = [UniformStrategy(), PreferredActionStrategy([1], name="always_bet")]
    pair = [UniformStrategy(), PreferredActionStrategy([1], name="always_bet"),
            PreferredActionStrategy([0], name="always_pass")]
    eg = EmpiricalGame(game, [lone, pair], roles=[0, 1, 1], seed=8)
    assert len(eg.cells()) == 2 * 6 and eg.num_strategies == (2, 3, 3)
    assert eg.names[1] == eg.names[2] == ["uniform", "always_bet", "always_pass"]
    eg.sample(min_samples=1200, batch_size=600)
    pay = eg.payoffs
    assert pay.shape == (3, 2, 3, 3) and np.isfinite(pay).all()
    np.testing.assert_array_equal(pay[1], np.swapaxes(pay[2], 1, 2))  # players 1 and 2 interchangeable
    misses = 0
    for a, b, c in itertools.product(range(2), range(3), range(3)):
        if b > c:
            continue
        v1, v2 = _exact(game, [lone[a], pair[b], pair[c]]), _exact(game, [lone[a], pair[c], pair[b]])
        exact = np.array([(v1[0] + v2[0]) / 2, (v1[1] + v2[2]) / 2, (v1[2] + v2[1]) / 2])
        if b == c:  # both slots hold one strategy: each is credited the average of the two seats
            exact[1:] = (v1[1] + v1[2]) / 2
        st = eg.cell_stats((a, b, c))
        misses += int(np.sum((exact < st.ci_low) | (exact > st.ci_high)))
    assert misses <= 2  # 36 checks at 95%
    # save/load keeps the roles; adding a strategy to a role grows every player of that role
    back = EmpiricalGame.load(eg.save(tmp_path / "roles.json"), strategies=[lone, pair])
    assert back.roles == (0, 1, 1)
    np.testing.assert_array_equal(back.payoffs, pay)
    back.add_strategy(PreferredActionStrategy([0, 1], name="pass_then_bet"), role=1)
    assert back.num_strategies == (2, 4, 4) and not back.complete
    with pytest.raises(ValueError, match="roles="):
        EmpiricalGame(game, [lone, pair], roles=[0, 2, 2])
    with pytest.raises(ValueError, match="exactly one"):
        back.add_strategy(UniformStrategy(), player=1, role=1)
