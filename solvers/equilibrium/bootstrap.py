"""Bootstrap over payoff noise: how robust are the equilibria of an empirical game to sampling error?

Each replicate draws every cell mean from a normal with the estimated standard error (a parametric bootstrap,
Efron & Tibshirani, 1993, ch. 6; as used for empirical games by Wiedenbeck, Cassell & Wellman, 2014,
"Bootstrap statistics for empirical games"), solves it, and records which strategies are in the support.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Sequence

import numpy as np

from marketgames.seeding import SeedLike, seed_sequence
from solvers.equilibrium.core import as_payoffs, regret

logger = logging.getLogger(__name__)

__all__ = ["BootstrapResult", "bootstrap_support"]


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """``support_frequency[i][a]``: fraction of solved replicates where player ``i``'s strategy ``a`` has
    probability > support_tol; ``mean_profile``: average equilibrium; ``regret_on_means``: each replicate's
    equilibrium's largest regret in the mean game, shape ``(solved,)``; ``failures``: replicates not solved."""

    support_frequency: list[np.ndarray]
    mean_profile: list[np.ndarray]
    regret_on_means: np.ndarray
    replicates: int
    failures: int


def bootstrap_support(means: np.ndarray | Sequence, standard_errors: np.ndarray | Sequence, *,
                      solver: Callable[[np.ndarray], Sequence[np.ndarray]] | None = None, replicates: int = 200,
                      seed: SeedLike = 0, support_tol: float = 1e-6) -> BootstrapResult:
    """Parametric bootstrap of equilibrium supports; ``solver`` maps payoffs to a profile (default
    :func:`solvers.equilibrium.solve.nash`). Replicate ``r`` uses ``SeedSequence(seed).spawn`` child ``r``."""
    from solvers.equilibrium.solve import nash

    mu = as_payoffs(means)
    se = np.asarray(standard_errors, dtype=float)
    if se.shape != mu.shape or not np.all(np.isfinite(se)) or np.any(se < 0):
        raise ValueError(f"standard_errors must be finite, >= 0 and of shape {mu.shape}; got shape {se.shape}")
    if replicates < 1:
        raise ValueError(f"replicates={replicates}; need >= 1")
    solve = solver or nash
    ss = seed_sequence(seed)
    counts = [np.zeros(s) for s in mu.shape[1:]]
    sums = [np.zeros(s) for s in mu.shape[1:]]
    regrets = []
    failures = 0
    for child in ss.spawn(replicates):
        rng = np.random.default_rng(child)
        sample = mu + se * rng.standard_normal(mu.shape)
        try:
            prof = [np.asarray(p, float) for p in solve(sample)]
        except Exception as exc:  # a replicate that cannot be solved is counted, not fatal
            logger.info("bootstrap replicate failed: %s", exc)
            failures += 1
            continue
        for c, s, p in zip(counts, sums, prof):
            c += p > support_tol
            s += p
        regrets.append(float(regret(mu, prof).max()))
    solved = replicates - failures
    denom = max(solved, 1)
    return BootstrapResult(support_frequency=[c / denom for c in counts],
                           mean_profile=[s / denom for s in sums], regret_on_means=np.array(regrets),
                           replicates=replicates, failures=failures)
