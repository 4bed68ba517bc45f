"""Welfare/Pareto, response graphs, alpha-rank, bootstrap, learning dynamics and PSRO meta-solvers."""
from __future__ import annotations

import numpy as np
import pytest

from solvers.equilibrium import (all_nash, alpharank, bootstrap_support, expected_payoffs, fictitious_play,
                                 meta_solver, mixture_regret, pareto_equilibria, pareto_pure,
                                 projected_replicator_dynamics, replicator_dynamics, response_graph,
                                 sink_components, utilitarian_welfare, egalitarian_welfare, welfare_table)
from solvers.equilibrium.games import (battle_of_the_sexes, jordan_game, matching_pennies, prisoners_dilemma,
                                       rock_paper_scissors, shapley_game, stag_hunt)


def test_prisoners_dilemma_equilibrium_is_pareto_dominated():
    pd = prisoners_dilemma()
    eq = all_nash(pd)[0]
    front = pareto_pure(pd)
    assert front == [(0, 0), (0, 1), (1, 0)]  # (D, D) is the only pure profile off the frontier
    assert utilitarian_welfare(pd, eq) == 2.0 and utilitarian_welfare(pd, [0, 0]) == 6.0


def test_battle_of_the_sexes_welfare_and_pareto_among_equilibria():
    bos = battle_of_the_sexes()
    eqs = all_nash(bos)
    table = welfare_table(bos, eqs)
    sums = sorted(table[:, 2].round(6).tolist())
    assert sums == [2.4, 5.0, 5.0]
    # the mixed equilibrium (6/5, 6/5) is dominated by both pure ones
    mixed = [k for k, e in enumerate(eqs) if e[0].max() < 1][0]
    assert mixed not in pareto_equilibria(bos, eqs) and len(pareto_equilibria(bos, eqs)) == 2
    assert egalitarian_welfare(bos, eqs[mixed]) == pytest.approx(1.2)


def test_response_graph_sinks():
    # Prisoner's dilemma: every path leads to (D, D)
    assert sink_components(response_graph(prisoners_dilemma())) == [[(1, 1)]]
    # Stag hunt: two pure equilibria, two singleton sinks
    assert sink_components(response_graph(stag_hunt())) == [[(0, 0)], [(1, 1)]]
    # Matching pennies: one 4-cycle
    g = response_graph(matching_pennies())
    assert sink_components(g) == [[(0, 0), (0, 1), (1, 0), (1, 1)]]
    assert g.number_of_edges() == 4 and all(d["gain"] == 2 for *_, d in g.edges(data=True))
    # Jordan's game has no pure equilibrium: the sink is a cycle
    assert all(len(c) > 1 for c in sink_components(response_graph(jordan_game())))


def test_alpharank_single_and_multi_population():
    # RPS: symmetric, cyclic -> uniform stationary distribution (single population)
    res = alpharank(rock_paper_scissors())
    assert res.single_population
    np.testing.assert_allclose(res.pi, np.full(3, 1 / 3), atol=1e-6)
    # PD (multi-population): all mass on (D, D)
    res = alpharank(prisoners_dilemma(), single_population=False)
    assert res.pi.shape == (2, 2) and res.pi[1, 1] > 0.99
    np.testing.assert_allclose(res.marginals[0], [0, 1], atol=0.01)
    # Jordan 3-player: the sink cycle of the response graph gets all the mass
    res = alpharank(jordan_game(), use_inf_alpha=True, inf_alpha_eps=1e-6)
    sink = sink_components(response_graph(jordan_game()))[0]
    assert sum(res.pi[p] for p in sink) > 0.99
    with pytest.raises(ValueError, match="symmetric"):
        alpharank(battle_of_the_sexes(), single_population=True)


def test_bootstrap_support_frequencies():
    pd = prisoners_dilemma()
    res = bootstrap_support(pd, np.full(pd.shape, 0.1), replicates=30, seed=1)
    np.testing.assert_allclose(res.support_frequency[0], [0.0, 1.0])  # defect dominates by 1 >> noise
    mp = matching_pennies()
    res2 = bootstrap_support(mp, np.full(mp.shape, 0.05), replicates=30, seed=1)
    np.testing.assert_allclose(res2.support_frequency[0], [1.0, 1.0])
    assert res2.failures == 0 and np.all(res2.regret_on_means < 0.2)
    again = bootstrap_support(mp, np.full(mp.shape, 0.05), replicates=30, seed=1)
    np.testing.assert_array_equal(again.regret_on_means, res2.regret_on_means)


def test_fictitious_play_converges_in_matching_pennies_and_cycles_in_shapley():
    mp = fictitious_play(matching_pennies(), iterations=3000)
    assert mp.status in ("converged", "converging")
    assert mp.nash_conv[-1] < 0.05 < mp.nash_conv[10]
    sh = fictitious_play(shapley_game(), iterations=3000)
    assert sh.status == "cycling"
    assert sh.nash_conv[-1000:].min() > 0.1  # stays away from the unique equilibrium
    # the empirical frequencies are what FP says they are
    np.testing.assert_allclose(sh.profiles[0][-1], np.bincount(sh.actions[:, 0], minlength=3) / 3000)


def test_replicator_dynamics():
    # RPS (single population) orbits the interior equilibrium: a conserved product x1 x2 x3
    rps = replicator_dynamics(rock_paper_scissors(), x0=[np.array([0.5, 0.3, 0.2])], single_population=True,
                              steps=3000)
    assert rps.status == "cycling"
    prod = rps.profiles[0].prod(axis=1)
    assert np.ptp(prod) / prod[0] < 1e-3
    # PD: defection takes over
    pd = replicator_dynamics(prisoners_dilemma(), steps=3000)
    assert pd.status == "converged" and pd.final[0][1] > 0.99
    # BoS two-population from a start favouring (0, 0) goes there
    bos = replicator_dynamics(battle_of_the_sexes(), x0=[np.array([0.7, 0.3]), np.array([0.6, 0.4])], steps=3000)
    assert bos.status == "converged" and bos.final[0][0] > 0.99 and bos.final[1][0] > 0.99


@pytest.mark.parametrize("name", ["uniform", "nash", "prd", "alpharank"])
def test_meta_solvers(name):
    solve = meta_solver(name)
    assert [p.tolist() for p in solve(np.zeros((2, 1, 1)))] == [[1.0], [1.0]]  # PSRO's first meta-game
    out = solve(rock_paper_scissors())
    for p in out:
        np.testing.assert_allclose(p, np.full(3, 1 / 3), atol=1e-3)
    out = solve(jordan_game())
    assert len(out) == 3 and all(abs(p.sum() - 1) < 1e-12 for p in out)
    if name in ("nash", "prd"):
        assert mixture_regret(prisoners_dilemma(), solve(prisoners_dilemma())) < 1e-3


def test_meta_solver_callable_and_errors():
    solve = meta_solver(lambda payoffs: [np.array([2.0, 0.0]), np.array([1.0, 1.0])])
    assert [p.tolist() for p in solve(matching_pennies())] == [[1.0, 0.0], [0.5, 0.5]]
    with pytest.raises(ValueError, match="meta_solver='bogus'"):
        meta_solver("bogus")
    with pytest.raises(ValueError, match="shapes"):
        meta_solver(lambda payoffs: [np.ones(3)])(matching_pennies())


def test_prd_approaches_equilibrium():
    prof = projected_replicator_dynamics(battle_of_the_sexes())
    assert mixture_regret(battle_of_the_sexes(), prof) < 1e-2
    assert expected_payoffs(battle_of_the_sexes(), prof).sum() > 2.3
