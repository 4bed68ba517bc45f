"""Textbook normal-form games in the ``(n_players, S_1, ..., S_n)`` convention, with their known equilibria
documented (Osborne & Rubinstein, 1994; Shapley, 1964; Jordan, 1993)."""
from __future__ import annotations

import numpy as np

from solvers.equilibrium.core import from_bimatrix

__all__ = ["matching_pennies", "prisoners_dilemma", "battle_of_the_sexes", "rock_paper_scissors", "shapley_game",
           "stag_hunt", "jordan_game", "TEXTBOOK_GAMES"]


def matching_pennies() -> np.ndarray:
    """Zero-sum; unique equilibrium: both mix (1/2, 1/2); value 0."""
    return from_bimatrix([[1, -1], [-1, 1]])


def prisoners_dilemma() -> np.ndarray:
    """Strategies (cooperate, defect); unique equilibrium (defect, defect) with payoffs (1, 1), Pareto-dominated
    by (cooperate, cooperate) with (3, 3)."""
    return from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])


def battle_of_the_sexes() -> np.ndarray:
    """Three equilibria: (0, 0) with payoffs (3, 2), (1, 1) with (2, 3), and the mixed ((3/5, 2/5), (2/5, 3/5))
    with (6/5, 6/5)."""
    return from_bimatrix([[3, 0], [0, 2]], [[2, 0], [0, 3]])


def rock_paper_scissors() -> np.ndarray:
    """Zero-sum, symmetric; unique equilibrium: both uniform; value 0."""
    return from_bimatrix([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])


def shapley_game() -> np.ndarray:
    """Shapley (1964): unique equilibrium both uniform, but fictitious play (from e.g. (0, 0)) cycles forever
    around it with growing periods."""
    return from_bimatrix(np.eye(3), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def stag_hunt() -> np.ndarray:
    """Equilibria: (stag, stag) payoff-dominant (4, 4), (hare, hare) (3, 3), and the mixed one (3/4 stag each)."""
    return from_bimatrix([[4, 0], [3, 3]], [[4, 3], [0, 3]])


def jordan_game() -> np.ndarray:
    """Jordan's (1993) 3-player matching pennies: player 0 wants to match player 1, player 1 wants to match
    player 2, player 2 wants to mismatch player 0. Unique equilibrium: everybody (1/2, 1/2)."""
    out = np.zeros((3, 2, 2, 2))
    for a0 in range(2):
        for a1 in range(2):
            for a2 in range(2):
                out[:, a0, a1, a2] = [1 if a0 == a1 else -1, 1 if a1 == a2 else -1, 1 if a2 != a0 else -1]
    return out


TEXTBOOK_GAMES = {
    "matching_pennies": matching_pennies, "prisoners_dilemma": prisoners_dilemma,
    "battle_of_the_sexes": battle_of_the_sexes, "rock_paper_scissors": rock_paper_scissors,
    "shapley_game": shapley_game, "stag_hunt": stag_hunt, "jordan_game": jordan_game,
}
