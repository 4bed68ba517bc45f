"""What the studies of empirical games share: solving a meta-game (Nash equilibria, Pareto sets, alpha-rank, the
best-response graph and a bootstrap of equilibrium supports) from its estimated payoffs.

Used by :mod:`studies.equilibria` and :mod:`studies.marl`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from solvers.equilibrium import (all_nash, alpharank, bootstrap_support, expected_payoffs, lemke_howson_all,
                                 mixture_regret, nash, normalize, pareto_equilibria, pareto_pure, response_graph,
                                 sink_components, support)

__all__ = ["analyse", "profile_names"]


def profile_names(profile: Sequence[np.ndarray], names: Sequence[str], tol: float = 1e-6) -> list[str]:
    """``"0.60 trend + 0.40 zi"`` for each player's mixture."""
    return [" + ".join(f"{x[k]:.2f} {names[int(k)]}" for k in np.flatnonzero(x > tol)) for x in profile]


def analyse(payoffs: np.ndarray, standard_errors: np.ndarray, names: Sequence[str], *, bootstrap: int,
            seed: np.random.SeedSequence) -> dict[str, Any]:
    """Equilibria, Pareto sets, welfare, alpha-rank (Omidshafiei et al. 2019), response graph and bootstrap of a
    meta-game with payoffs ``(n, S_1, ..., S_n)``. The equilibria are all of them (support enumeration) when the game
    is small enough to enumerate, else those Lemke-Howson reaches from every label (2 players) or one."""
    try:
        equilibria = all_nash(payoffs)
    except ValueError:  # too many supports to enumerate (e.g. 9+ strategies): what Lemke-Howson reaches
        equilibria = lemke_howson_all(normalize(payoffs).unit) if np.shape(payoffs)[0] == 2 else []
    if not equilibria:  # all_nash verifies; fall back to one equilibrium of the default method
        equilibria = [nash(payoffs)]
    values = [expected_payoffs(payoffs, eq) for eq in equilibria]
    pareto_eq = set(pareto_equilibria(payoffs, equilibria))
    graph = response_graph(payoffs)
    rank = alpharank(payoffs)
    boot = bootstrap_support(payoffs, standard_errors, replicates=bootstrap, seed=seed)
    return {
        "equilibria": [{
            "profile": [x for x in eq], "support": [list(map(int, support(x))) for x in eq],
            "description": profile_names(eq, names), "payoffs": v, "welfare": float(v.sum()),
            "min_payoff": float(v.min()), "regret": float(mixture_regret(payoffs, eq)),
            "pareto_among_equilibria": k in pareto_eq,
        } for k, (eq, v) in enumerate(zip(equilibria, values))],
        "pareto_pure": [list(map(int, p)) for p in pareto_pure(payoffs)],
        "graph": graph,
        "sink_components": [[list(map(int, p)) for p in comp] for comp in sink_components(graph)],
        "alpharank": rank,
        "bootstrap": boot,
    }
