"""Policy-Space Response Oracles (Lanctot et al. 2017, "A Unified Game-Theoretic Approach to Multiagent
Reinforcement Learning"), n-player and general-sum.

Each iteration: solve the meta-game (the empirical game of the populations) with a meta-solver, then add for every
player a best response to the others' meta-strategy mixtures, and evaluate the new meta-game cells. The meta-game
is an exact payoff tensor ``(n_players, S_1, ..., S_n)`` in the convention of :mod:`solvers.equilibrium`, so any of
its solvers (Nash, Pareto, alpha-rank) applies to it.

Oracles: ``"exact"`` best responses on the compiled tree, or any callable ``oracle(tree, player, joint_table) ->
table`` returning a policy table whose rows for ``player`` are its response to the others' rows of ``joint_table``
(the meta-strategies' mixture). Either way the game's tree is enumerated, so PSRO is for games small enough for
that; :class:`solvers.learners.LearnedPSRO` is the version with learned responses for large games.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence, cast

import numpy as np
import pyspiel
from open_spiel.python import policy as os_policy

from solvers.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from solvers.equilibrium.core import nash_conv as meta_game_nash_conv
from solvers.equilibrium.meta_solvers import META_SOLVERS
from solvers.equilibrium.meta_solvers import meta_solver as make_meta_solver
from solvers.exploitability.exact import (TablePolicy, best_response, mix_tables, nash_conv, policy_table,
                                          policy_values, uniform_table)
from solvers.exploitability.tree import DEFAULT_MAX_NODES, GameTree, build_tree

logger = logging.getLogger(__name__)

__all__ = ["PSRO"]

_KIND = "PSRO"

Oracle = Callable[[GameTree, int, np.ndarray], np.ndarray]


def exact_oracle(tree: GameTree, player: int, opponents: np.ndarray) -> np.ndarray:
    """The exact best response of ``player`` to the joint table ``opponents`` (its rows for ``player`` unused)."""
    return best_response(tree, opponents, player).table(tree, opponents)


class PSRO:
    """PSRO with exact evaluation of the meta-game.

    Args:
        game: the game (string, game or compiled tree).
        meta_solver: a name of :data:`solvers.equilibrium.meta_solvers.META_SOLVERS` (``"uniform"``, ``"nash"``,
            ``"prd"``, ``"alpharank"``) or a callable ``payoffs -> list of probability vectors``.
        oracle: ``"exact"`` or a callable ``(tree, player, joint_table) -> table`` returning a policy table whose
            rows for ``player`` are the response.
        track_nash_conv: compute the NashConv of the meta-policy after each step.
        max_nodes: refuse a game whose tree has (or is estimated to have) more nodes
            (:func:`~solvers.exploitability.tree.build_tree`).
        initial_population: per player a non-empty list of strategies to start from (OpenSpiel policies, such as
            rule traders or a trained agent's ``policy(game, agent)``, or policy tables of the tree) instead of
            the uniform policy; the first meta-game is their exact payoff tensor, solved by ``meta_solver``.
    """

    def __init__(self, game: pyspiel.Game | str | GameTree, *, meta_solver: str | Callable = "nash",
                 oracle: str | Oracle = "exact", track_nash_conv: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES,
                 initial_population: Sequence[Sequence[os_policy.Policy | np.ndarray]] | None = None) -> None:
        self.tree = game if isinstance(game, GameTree) else build_tree(game, max_nodes=max_nodes)
        starts = self._initial_tables(initial_population)
        self.meta_solver_name = meta_solver if isinstance(meta_solver, str) else getattr(meta_solver, "__name__",
                                                                                        "callable")
        self.meta_solver = make_meta_solver(meta_solver)
        if oracle == "exact":
            self.oracle: Oracle = exact_oracle
        elif callable(oracle):
            self.oracle = oracle
        else:
            raise ValueError(f"oracle={oracle!r} is not allowed: expected 'exact' or a callable")
        self.track_nash_conv = track_nash_conv
        n = self.tree.num_players
        self.iteration = 0
        self.population: list[list[np.ndarray]] = starts or [[uniform_table(self.tree)] for _ in range(n)]
        self.meta_game = np.zeros((n,) + (0,) * n)
        self._extend_meta_game()
        self.meta_strategies = ([np.ones(1) for _ in range(n)] if starts is None else
                                [np.asarray(x, dtype=np.float64) for x in self.meta_solver(self.meta_game)])

    def _initial_tables(self, population: Sequence[Sequence[Any]] | None) -> list[list[np.ndarray]] | None:
        """``initial_population`` as policy tables, checked before anything is built on it."""
        if population is None:
            return None
        n = self.tree.num_players
        if isinstance(population, (str, bytes)) or not isinstance(population, Sequence) or len(population) != n \
                or any(isinstance(pop, (str, bytes)) or not isinstance(pop, Sequence) or not pop
                       for pop in population):
            raise ValueError(f"initial_population={population!r} is not allowed: expected one non-empty list of "
                             f"strategies per player ({n} lists)")
        tables = []
        for p, pop in enumerate(population):
            for k, strategy in enumerate(pop):
                if not isinstance(strategy, (os_policy.Policy, np.ndarray)):
                    raise TypeError(f"initial_population[{p}][{k}]={strategy!r} is not allowed: expected an "
                                    "open_spiel Policy or a policy table")
            tables.append([policy_table(self.tree, strategy, player=p).astype(np.float64, copy=True)
                           for strategy in pop])
        return tables

    # ------------------------------------------------------------------ policies
    def _joint_table(self, profile: Sequence[int]) -> np.ndarray:
        table = np.empty(self.tree.legal_mask.shape)
        for p, k in enumerate(profile):
            rows = self.tree.infoset_player == p
            table[rows] = self.population[p][k][rows]
        return table

    def _mixture_table(self, strategies: Sequence[np.ndarray]) -> np.ndarray:
        """Each player's population mixed by its meta-strategy (behaviour-equivalent, reach-weighted)."""
        table = np.empty(self.tree.legal_mask.shape)
        for p, sigma in enumerate(strategies):
            rows = self.tree.infoset_player == p
            keep = np.flatnonzero(sigma > 0)
            mixed = mix_tables(self.tree, [self.population[p][k] for k in keep], sigma[keep])
            table[rows] = mixed[rows]
        return table

    def policy(self) -> os_policy.Policy:
        """The meta-policy: each player's population mixed by its current meta-strategy."""
        return TablePolicy(self.tree, self._mixture_table(self.meta_strategies))

    def meta_policy_table(self) -> np.ndarray:
        return self._mixture_table(self.meta_strategies)

    # ------------------------------------------------------------------ iteration
    def _extend_meta_game(self) -> None:
        n = self.tree.num_players
        sizes = tuple(len(pop) for pop in self.population)
        old = self.meta_game
        grown = np.full((n,) + sizes, np.nan)
        grown[(slice(None),) + tuple(slice(0, s) for s in old.shape[1:])] = old
        for profile in np.ndindex(*sizes):
            if all(k < s for k, s in zip(profile, old.shape[1:])):
                continue
            grown[(slice(None),) + profile] = policy_values(self.tree, self._joint_table(profile))
        self.meta_game = grown

    def step(self) -> dict[str, Any]:
        """Add one best response per player to the meta-strategies' mixtures, then re-solve the meta-game."""
        mixture = self._mixture_table(self.meta_strategies)
        responses = [self.oracle(self.tree, p, mixture) for p in range(self.tree.num_players)]
        for p, table in enumerate(responses):
            self.population[p].append(table)
        self._extend_meta_game()
        self.meta_strategies = [np.asarray(s, dtype=np.float64) for s in self.meta_solver(self.meta_game)]
        self.iteration += 1
        metrics: dict[str, Any] = {"iteration": self.iteration,
                                   "population": [len(pop) for pop in self.population],
                                   "meta_strategies": [s.copy() for s in self.meta_strategies],
                                   # how far the meta-solver's answer is from a Nash equilibrium of the meta-game
                                   "meta_nash_conv": meta_game_nash_conv(self.meta_game, self.meta_strategies)}
        if self.track_nash_conv:
            metrics["nash_conv"] = nash_conv(self.tree, self.meta_policy_table())
        logger.debug("PSRO iteration %d: %s", self.iteration, metrics.get("nash_conv"))
        return metrics

    # ------------------------------------------------------------------ checkpoint
    def save(self, path: str | Path) -> Path:
        """Write the populations, meta-game and meta-strategies to ``path`` (exactly that name; a
        :mod:`solvers.checkpoint` file with a content hash); :meth:`load` resumes from it."""
        arrays = {f"pop_{p}": np.stack(pop) for p, pop in enumerate(self.population)}
        arrays.update({f"sigma_{p}": s for p, s in enumerate(self.meta_strategies)})
        arrays["meta_game"] = self.meta_game
        named = self.meta_solver_name in META_SOLVERS
        meta = {"game": str(self.tree.game), "iteration": self.iteration,
                "meta_solver": self.meta_solver_name if named else None, "num_players": self.tree.num_players}
        return save_checkpoint(path, kind=_KIND, meta=meta, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path, game: pyspiel.Game | str | GameTree, *,
             meta_solver: str | Callable | None = None, oracle: str | Oracle = "exact",
             track_nash_conv: bool = True, max_nodes: int = DEFAULT_MAX_NODES) -> PSRO:
        """Resume from :meth:`save`; the game must be the one saved (pass ``meta_solver`` again when it was a
        callable). A damaged, foreign or other game's file raises :class:`~solvers.checkpoint.CheckpointError`."""
        checkpoint = load_checkpoint(path, kind=_KIND)
        meta, data = checkpoint.meta, checkpoint.arrays
        if meta_solver is None and meta.get("meta_solver") is None:
            raise ValueError("meta_solver=None is not allowed: the checkpoint's meta-solver was a callable; pass it")
        solver = cls(game, meta_solver=meta_solver or meta["meta_solver"], oracle=oracle,
                     track_nash_conv=track_nash_conv, max_nodes=max_nodes)
        tree = solver.tree
        if str(tree.game) != meta.get("game"):
            raise CheckpointError(f"path={str(path)!r} is a checkpoint of game {meta.get('game')!r}, not "
                                  f"{str(tree.game)!r}")
        n = tree.num_players
        population = [data.get(f"pop_{p}") for p in range(n)]
        sigmas = [data.get(f"sigma_{p}") for p in range(n)]
        meta_game = data.get("meta_game")
        sizes = tuple(len(pop) if pop is not None else -1 for pop in population)
        if (meta.get("num_players") != n or any(pop is None or pop.shape[1:] != tree.legal_mask.shape
                                                for pop in population)
                or any(s is None or s.shape != (k,) for s, k in zip(sigmas, sizes))
                or meta_game is None or meta_game.shape != (n,) + sizes):
            raise CheckpointError(f"path={str(path)!r} does not hold a PSRO state of {tree.game} (array shapes)")
        solver.population = [list(cast(np.ndarray, pop)) for pop in population]  # none is None (checked above)
        solver.meta_strategies = [cast(np.ndarray, s) for s in sigmas]
        solver.meta_game = meta_game
        solver.iteration = int(meta["iteration"])
        return solver
