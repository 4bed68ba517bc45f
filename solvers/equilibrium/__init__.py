"""Equilibrium analysis of normal-form (meta-)games with payoffs ``(n_players, S_1, ..., S_n)``.

Pure functions (regret, Nash by several methods, zero-sum LP, Pareto/welfare, alpha-rank, response graphs,
bootstrap, learning dynamics), a facade :class:`NormalFormGame`, and PSRO meta-solvers (:func:`meta_solver`).
"""
from solvers.equilibrium.bootstrap import BootstrapResult, bootstrap_support
from solvers.equilibrium.core import (as_payoffs, as_profile, bimatrix, deviation_payoffs, expected_payoffs,
                                      expand_profile, from_bimatrix, is_nash, merge_duplicates, mixture_regret,
                                      nash_conv, normalize, Normalized, payoff_range, pure_profile, regret, support,
                                      uniform_profile)
from solvers.equilibrium.dynamics import (Trajectory, classify, fictitious_play, projected_replicator_dynamics,
                                          replicator_dynamics)
from solvers.equilibrium.game import NormalFormGame
from solvers.equilibrium.graph import AlphaRankResult, alpharank, response_graph, sink_components
from solvers.equilibrium.meta_solvers import META_SOLVERS, meta_solver
from solvers.equilibrium.n_player import (complementarity_polish, mclennan_tourky, polish, solve_support,
                                          support_enumeration)
from solvers.equilibrium.solve import NASH_METHODS, all_nash, approximate_nash, nash
from solvers.equilibrium.two_player import (NASHPY_METHODS, EquilibriumNotFoundError, deduplicate, lemke_howson,
                                            lemke_howson_all, nashpy_equilibria, pure_nash)
from solvers.equilibrium.welfare import (egalitarian_welfare, pareto_equilibria, pareto_mask, pareto_pure,
                                         utilitarian_welfare, welfare_table)
from solvers.equilibrium.zero_sum import ZeroSumSolution, is_constant_sum, is_zero_sum, maximin, solve_zero_sum

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"annotations"}]
