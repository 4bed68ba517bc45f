"""Extensive-form fictitious play: full-width XFP and sampled fictitious self-play (FSP).

XFP (Heinrich, Lanctot & Silver 2015, "Fictitious Self-Play in Extensive-Form Games", Algorithm 1): every player
best-responds exactly to the others' average policies, then each average moves towards its best response with
step ``1/(t+1)``, mixed with the player's own reach probabilities so the result is the behaviour policy of the
mixed strategy (their Eq. 2). The best responses and the mixing are vectorised passes over the compiled tree
(:mod:`solvers.exploitability`), which makes an iteration cost milliseconds.

Sampled FSP (same paper, Algorithm 2): the exact update is replaced by learning from sampled play. Here each
iteration's best response is still exact; the average policy is the empirical action frequencies of episodes in
which every player follows its best response with probability ``eta`` and its average otherwise (a
supervised-learning-by-counting average), so it converges like FSP without function approximation.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel
from open_spiel.python import policy as os_policy

from marketgames.sampling import draw
from marketgames.seeding import SeedLike, as_generator
from solvers.exploitability.exact import (TablePolicy, best_response, mix_tables, nash_conv, policy_values,
                                          uniform_table)
from solvers.exploitability.tree import CHANCE, DEFAULT_MAX_NODES, GameTree, build_tree

__all__ = ["XFP", "SampledFSP"]


def _joint(tree: GameTree, per_player: list[np.ndarray]) -> np.ndarray:
    """A joint table from per-player tables (row ``j`` from its owner's table)."""
    out = np.empty(tree.legal_mask.shape)
    for p, table in enumerate(per_player):
        rows = tree.infoset_player == p
        out[rows] = table[rows]
    return out


class XFP:
    """Full-width extensive-form fictitious play on any perfect-recall OpenSpiel game small enough to enumerate.

    Args:
        game: the game (or its string, or an already built :class:`~solvers.exploitability.tree.GameTree`).
        track_nash_conv: compute the NashConv of the average policy after each step (a few ms on small games).
        max_nodes: refuse a game whose tree has (or is estimated to have) more nodes (:func:`build_tree`).
    """

    def __init__(self, game: pyspiel.Game | str | GameTree, *, track_nash_conv: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES) -> None:
        self.tree = game if isinstance(game, GameTree) else build_tree(game, max_nodes=max_nodes)
        self.iteration = 0
        self.track_nash_conv = track_nash_conv
        self.average = uniform_table(self.tree)

    def step(self) -> dict[str, Any]:
        tree = self.tree
        responses = [best_response(tree, self.average, p).table(tree, self.average)
                     for p in range(tree.num_players)]
        self.iteration += 1
        alpha = 1.0 / (self.iteration + 1)
        self.average = mix_tables(tree, [self.average, _joint(tree, responses)], [1.0 - alpha, alpha])
        metrics: dict[str, Any] = {"iteration": self.iteration}
        if self.track_nash_conv:
            metrics["nash_conv"] = nash_conv(tree, self.average)
        return metrics

    def policy(self) -> os_policy.Policy:
        return TablePolicy(self.tree, self.average.copy())

    def values(self) -> np.ndarray:
        """Expected returns of the average policy."""
        return policy_values(self.tree, self.average)


class SampledFSP:
    """Sampled fictitious self-play with exact best responses and a counting average policy.

    Args:
        game: the game (string, game or tree).
        episodes_per_iteration: episodes sampled per iteration for the average policy.
        eta: anticipatory parameter: the probability that a player follows its latest best response in an episode.
        seed: seed of the sampling.
        track_nash_conv: compute NashConv of the average policy after each step.
        max_nodes: refuse a game whose tree has (or is estimated to have) more nodes (:func:`build_tree`).
    """

    def __init__(self, game: pyspiel.Game | str | GameTree, *, episodes_per_iteration: int = 200,
                 eta: float = 0.1, seed: SeedLike = 0, track_nash_conv: bool = True,
                 max_nodes: int = DEFAULT_MAX_NODES) -> None:
        if episodes_per_iteration < 1:
            raise ValueError(f"episodes_per_iteration={episodes_per_iteration} is not allowed: expected >= 1")
        if not 0 < eta <= 1:
            raise ValueError(f"eta={eta} is not allowed: expected a number in (0, 1]")
        self.tree = game if isinstance(game, GameTree) else build_tree(game, max_nodes=max_nodes)
        self.episodes_per_iteration = int(episodes_per_iteration)
        self.eta = float(eta)
        self.rng = as_generator(seed)
        self.track_nash_conv = track_nash_conv
        self.iteration = 0
        self.counts = np.zeros(self.tree.legal_mask.shape)
        self.average = uniform_table(self.tree)
        tree = self.tree
        order = np.argsort(tree.edge_parent, kind="stable")
        self._children_start = np.searchsorted(tree.edge_parent[order], np.arange(tree.num_nodes + 1))
        self._edges_by_parent = order

    def _sample(self, behaviour: list[np.ndarray]) -> None:
        """Play one episode with per-player tables ``behaviour``; count the average-playing players' actions."""
        tree = self.tree
        node = 0
        while tree.player[node] != -4:
            edges = self._edges_by_parent[self._children_start[node]:self._children_start[node + 1]]
            p = tree.player[node]
            if p == CHANCE:
                probs = tree.edge_prob[edges]
            else:
                probs = behaviour[p][tree.infoset[node], tree.edge_action[edges]]
            e = edges[draw(probs, self.rng.random())]
            if p >= 0:
                self.counts[tree.infoset[node], tree.edge_action[e]] += 1.0
            node = tree.edge_child[e]

    def step(self) -> dict[str, Any]:
        tree = self.tree
        responses = [best_response(tree, self.average, p).table(tree, self.average)
                     for p in range(tree.num_players)]
        for _ in range(self.episodes_per_iteration):
            follow = self.rng.random(tree.num_players) < self.eta
            self._sample([responses[p] if follow[p] else self.average for p in range(tree.num_players)])
        totals = self.counts.sum(axis=1, keepdims=True)
        seen = totals[:, 0] > 0
        average = uniform_table(tree)
        average[seen] = self.counts[seen] / totals[seen]
        self.average = average
        self.iteration += 1
        metrics: dict[str, Any] = {"iteration": self.iteration,
                                   "episodes": self.iteration * self.episodes_per_iteration}
        if self.track_nash_conv:
            metrics["nash_conv"] = nash_conv(tree, self.average)
        return metrics

    def policy(self) -> os_policy.Policy:
        return TablePolicy(self.tree, self.average.copy())
