"""A thin facade over the pure functions of :mod:`solvers.equilibrium`, in the style of nashpy's ``Game``."""
from __future__ import annotations

from typing import Sequence

import networkx as nx
import numpy as np

from marketgames.seeding import SeedLike
from solvers.equilibrium import core, dynamics, graph, solve, two_player, welfare, zero_sum

__all__ = ["NormalFormGame"]


class NormalFormGame:
    """An n-player normal-form game with payoffs ``(n_players, S_1, ..., S_n)`` and optional strategy names.

    Every ``tol`` is relative to the payoff range (see :mod:`solvers.equilibrium.core`): scaling or shifting the
    payoffs changes no answer.

    Example::

        g = NormalFormGame(prisoners_dilemma(), names=[["C", "D"], ["C", "D"]])
        g.nash()              # one verified equilibrium
        g.equilibria()        # all of them (small games)
        g.pareto()            # Pareto-optimal pure profiles
    """

    def __init__(self, payoffs: np.ndarray | Sequence, *, names: Sequence[Sequence[str]] | None = None) -> None:
        self.payoffs = core.as_payoffs(payoffs)
        self.payoffs.setflags(write=False)
        sizes = self.payoffs.shape[1:]
        if names is None:
            names = [[str(a) for a in range(s)] for s in sizes]
        if len(names) != len(sizes) or any(len(nm) != s for nm, s in zip(names, sizes)):
            raise ValueError(f"names must give {list(sizes)} strategy names per player")
        self.names = [list(map(str, nm)) for nm in names]

    @classmethod
    def from_bimatrix(cls, A: Sequence, B: Sequence | None = None, **kwargs) -> "NormalFormGame":
        return cls(core.from_bimatrix(A, B), **kwargs)

    @property
    def n_players(self) -> int:
        return self.payoffs.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.payoffs.shape[1:]

    def __repr__(self) -> str:
        return f"NormalFormGame(players={self.n_players}, strategies={self.shape})"

    def expected_payoffs(self, profile: Sequence) -> np.ndarray:
        return core.expected_payoffs(self.payoffs, profile)

    def regret(self, profile: Sequence) -> np.ndarray:
        return core.regret(self.payoffs, profile)

    def nash_conv(self, profile: Sequence) -> float:
        return core.nash_conv(self.payoffs, profile)

    def is_nash(self, profile: Sequence, *, tol: float = 1e-8) -> bool:
        return core.is_nash(self.payoffs, profile, tol=tol)

    def nash(self, *, method: str = "auto", tol: float = 1e-8, timeout: float = 10.0,
             seed: SeedLike = 0) -> list[np.ndarray]:
        """See :func:`solvers.equilibrium.solve.nash`."""
        return solve.nash(self.payoffs, method=method, tol=tol, timeout=timeout, seed=seed)

    def equilibria(self, *, tol: float = 1e-8, dedup_tol: float = 1e-6) -> list[list[np.ndarray]]:
        """See :func:`solvers.equilibrium.solve.all_nash`."""
        return solve.all_nash(self.payoffs, tol=tol, dedup_tol=dedup_tol)

    def pure_equilibria(self, *, tol: float = 1e-8) -> list[tuple[int, ...]]:
        return two_player.pure_nash(self.payoffs, tol=tol)

    def zero_sum(self) -> zero_sum.ZeroSumSolution:
        return zero_sum.solve_zero_sum(self.payoffs)

    def pareto(self, *, tol: float = 1e-9) -> list[tuple[int, ...]]:
        """Pareto-optimal pure profiles."""
        return welfare.pareto_pure(self.payoffs, tol=tol)

    def pareto_equilibria(self, profiles: Sequence[Sequence], *, tol: float = 1e-9) -> list[int]:
        return welfare.pareto_equilibria(self.payoffs, profiles, tol=tol)

    def welfare(self, profiles: Sequence[Sequence]) -> np.ndarray:
        """Per profile: expected payoffs, utilitarian sum, minimum."""
        return welfare.welfare_table(self.payoffs, profiles)

    def response_graph(self, *, tol: float = 1e-12) -> nx.DiGraph:
        return graph.response_graph(self.payoffs, tol=tol)

    def sink_components(self, *, tol: float = 1e-12) -> list[list[tuple[int, ...]]]:
        return graph.sink_components(graph.response_graph(self.payoffs, tol=tol))

    def alpharank(self, **kwargs) -> graph.AlphaRankResult:
        return graph.alpharank(self.payoffs, **kwargs)

    def replicator_dynamics(self, **kwargs) -> dynamics.Trajectory:
        return dynamics.replicator_dynamics(self.payoffs, **kwargs)

    def fictitious_play(self, **kwargs) -> dynamics.Trajectory:
        return dynamics.fictitious_play(self.payoffs, **kwargs)
