"""Response graphs over pure profiles and alpha-rank.

References:
    Omidshafiei et al. (2019), "alpha-Rank: Multi-Agent Evaluation by Evolution", Scientific Reports 9
    (OpenSpiel's ``open_spiel.python.egt.alpharank``).
    Candogan, Menache, Ozdaglar & Parrilo (2011), "Flows and decompositions of games" and Omidshafiei et al.:
    the sink strongly connected components of the (better-)response graph are the infinite-alpha alpha-rank
    support ("Markov-Conley chains" in Omidshafiei et al., 2019).
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import Sequence

import networkx as nx
import numpy as np

from solvers.equilibrium.core import as_payoffs, payoff_range

logger = logging.getLogger(__name__)

__all__ = ["response_graph", "sink_components", "AlphaRankResult", "alpharank"]


def response_graph(payoffs: np.ndarray | Sequence, *, tol: float = 1e-12) -> nx.DiGraph:
    """Directed graph over pure profiles (tuples): an edge ``a -> b`` when ``b`` differs from ``a`` in one
    player's strategy and that player gains more than ``tol`` times the payoff range. Edge attributes: ``player``,
    ``gain`` (in payoff units); node attribute ``payoffs`` (the payoff vector)."""
    arr = as_payoffs(payoffs)
    threshold = tol * payoff_range(arr)
    n = arr.shape[0]
    g = nx.DiGraph()
    for prof in itertools.product(*[range(s) for s in arr.shape[1:]]):
        g.add_node(prof, payoffs=arr[(slice(None),) + prof].copy())
    for prof in g.nodes:
        for i in range(n):
            here = arr[(i,) + prof]
            for a in range(arr.shape[1 + i]):
                if a == prof[i]:
                    continue
                other = prof[:i] + (a,) + prof[i + 1:]
                gain = arr[(i,) + other] - here
                if gain > threshold:
                    g.add_edge(prof, other, player=i, gain=float(gain))
    return g


def sink_components(graph: nx.DiGraph) -> list[list[tuple[int, ...]]]:
    """Strongly connected components with no edge leaving them (sorted); a singleton sink is a pure Nash
    equilibrium."""
    cond = nx.condensation(graph)
    sinks = [sorted(cond.nodes[c]["members"]) for c in cond.nodes if cond.out_degree(c) == 0]
    return sorted(sinks)


@dataclasses.dataclass(frozen=True)
class AlphaRankResult:
    """``pi``: stationary distribution, over strategies (single population) or over pure profiles (shape
    ``(S_1, ..., S_n)``, multi-population); ``marginals``: per-player mass on each strategy; ``rhos``: fixation
    probabilities; ``single_population``: which model was used; ``use_inf_alpha``: whether the infinite-alpha
    model was used (asked for, or as fallback when the finite-alpha chain is numerically reducible)."""

    pi: np.ndarray
    marginals: list[np.ndarray]
    rhos: np.ndarray
    single_population: bool
    use_inf_alpha: bool


def alpharank(payoffs: np.ndarray | Sequence, *, alpha: float = 100.0, population_size: int = 50,
              single_population: bool | None = None, use_inf_alpha: bool = False,
              inf_alpha_eps: float = 0.01) -> AlphaRankResult:
    """alpha-Rank (Omidshafiei et al., 2019) through OpenSpiel's implementation.

    ``single_population=None`` picks the single-population model for symmetric 2-player games (``B == A^T``),
    the multi-population model otherwise. OpenSpiel wants ``[A]`` for the former and one ``(S_1, ..., S_n)``
    table per player for the latter, its profiles in row-major order; both are converted here.
    """
    from open_spiel.python.egt import alpharank as os_alpharank

    arr = as_payoffs(payoffs)
    n = arr.shape[0]
    symmetric = n == 2 and arr.shape[1] == arr.shape[2] and np.allclose(arr[0], arr[1].T)
    if single_population is None:
        single_population = symmetric
    if single_population and not symmetric:
        raise ValueError("single_population=True needs a symmetric 2-player game (payoffs[1] == payoffs[0].T)")
    if alpha <= 0 or population_size < 2:
        raise ValueError(f"alpha={alpha} must be > 0 and population_size={population_size} >= 2")
    tables = [arr[0]] if single_population else [arr[i] for i in range(n)]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        try:
            rhos, _, pi, _, _ = os_alpharank.compute(tables, m=population_size, alpha=alpha,
                                                     use_inf_alpha=use_inf_alpha, inf_alpha_eps=inf_alpha_eps)
        except ValueError as exc:  # fixation probabilities underflow: several stationary distributions
            if use_inf_alpha:
                raise
            logger.info("alpha-rank with alpha=%s failed (%s); using the infinite-alpha model", alpha, exc)
            use_inf_alpha = True
            rhos, _, pi, _, _ = os_alpharank.compute(tables, m=population_size, alpha=alpha, use_inf_alpha=True,
                                                     inf_alpha_eps=inf_alpha_eps)
    pi = np.asarray(pi, dtype=float).reshape(-1)
    pi = np.clip(pi, 0, None)
    pi = pi / pi.sum()
    if single_population:
        marginals = [pi.copy(), pi.copy()]
    else:
        pi = pi.reshape(arr.shape[1:])
        marginals = [pi.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    return AlphaRankResult(pi=pi, marginals=marginals, rhos=np.asarray(rhos),
                           single_population=bool(single_population), use_inf_alpha=bool(use_inf_alpha))
