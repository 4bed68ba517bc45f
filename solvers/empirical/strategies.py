"""Small picklable strategies for any OpenSpiel game (no reference to the game object), usable wherever an
``open_spiel.python.policy.Policy`` is: they implement ``action_probabilities(state, player_id=None)``."""
from __future__ import annotations

from typing import Sequence

__all__ = ["UniformStrategy", "PreferredActionStrategy"]


def _player(state, player_id: int | None) -> int:
    return state.current_player() if player_id is None else int(player_id)


class UniformStrategy:
    """Uniform over the legal actions."""

    name = "uniform"

    def action_probabilities(self, state, player_id: int | None = None) -> dict[int, float]:
        legal = state.legal_actions(_player(state, player_id))
        return {a: 1.0 / len(legal) for a in legal}

    def __repr__(self) -> str:
        return "UniformStrategy()"


class PreferredActionStrategy:
    """Plays the first legal action of ``preferences`` (e.g. ``[1]`` = "always bet" in Kuhn poker); uniform over
    the legal actions when none is legal."""

    def __init__(self, preferences: Sequence[int], *, name: str | None = None) -> None:
        self.preferences = [int(a) for a in preferences]
        if not self.preferences:
            raise ValueError("preferences must name at least one action")
        self.name = name or f"prefer{self.preferences}"

    def action_probabilities(self, state, player_id: int | None = None) -> dict[int, float]:
        legal = state.legal_actions(_player(state, player_id))
        for a in self.preferences:
            if a in legal:
                return {a: 1.0}
        return {a: 1.0 / len(legal) for a in legal}

    def __repr__(self) -> str:
        return f"PreferredActionStrategy({self.preferences})"
