"""The lineage of a PBT run: each member's hyper-parameters and fitness per generation, and who copied whom.

Members are slots ``0 .. N-1`` (Jaderberg et al. 2017): when slot ``i`` copies slot ``j`` at the start of generation
``g`` (exploit), it takes ``j``'s weights and hyper-parameters and then perturbs them (explore); the record of
generation ``g`` names ``j`` as ``i``'s parent. A slot's ancestry follows the parents back through the generations.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["CopyEvent", "Lineage", "MemberRecord"]


@dataclasses.dataclass(frozen=True)
class MemberRecord:
    """One member in one generation.

    Attributes:
        generation: the generation (0-based).
        member: the slot.
        parent: the slot it copied at the start of this generation (exploit), or ``None`` (it kept its own).
        hyperparameters: the values it trained with in this generation.
        fitness: its fitness in this generation's empirical game.
        fitness_low, fitness_high: the fitness's confidence interval (NaN when the measure has none).
        env_steps: its learner's env steps at the end of the generation.
    """

    generation: int
    member: int
    parent: int | None
    hyperparameters: dict[str, float]
    fitness: float
    fitness_low: float
    fitness_high: float
    env_steps: int


@dataclasses.dataclass(frozen=True)
class CopyEvent:
    """Slot ``member`` copied slot ``source`` at the start of ``generation``: ``before`` were its hyper-parameters,
    ``copied`` the source's, ``after`` the explored (perturbed or resampled) values it trains with."""

    generation: int
    member: int
    source: int
    before: dict[str, float]
    copied: dict[str, float]
    after: dict[str, float]


@dataclasses.dataclass
class Lineage:
    """Every :class:`MemberRecord` and :class:`CopyEvent` of a run, in order."""

    records: list[MemberRecord] = dataclasses.field(default_factory=list)
    copies: list[CopyEvent] = dataclasses.field(default_factory=list)

    @property
    def generations(self) -> int:
        return 1 + max((r.generation for r in self.records), default=-1)

    @property
    def population_size(self) -> int:
        return 1 + max((r.member for r in self.records), default=-1)

    def record(self, generation: int, member: int) -> MemberRecord:
        for r in self.records:
            if r.generation == generation and r.member == member:
                return r
        raise KeyError(f"no record of member {member} in generation {generation}")

    def table(self, field: str) -> np.ndarray:
        """``(generations, N)`` of a record field (``"fitness"``, ``"env_steps"``, ...) or, by its name, a
        hyper-parameter; NaN where a member has no record."""
        out = np.full((self.generations, self.population_size), np.nan)
        for r in self.records:
            value = r.hyperparameters[field] if field in r.hyperparameters else getattr(r, field)
            out[r.generation, r.member] = np.nan if value is None else value
        return out

    def parents(self) -> np.ndarray:
        """``(generations, N)`` ints: the slot each member descends from in the previous generation (itself
        unless it copied)."""
        out = np.tile(np.arange(self.population_size), (self.generations, 1))
        for r in self.records:
            if r.parent is not None:
                out[r.generation, r.member] = r.parent
        return out

    def ancestry(self, member: int, generation: int) -> list[int]:
        """The slots of ``member``'s ancestors at generations ``0 .. generation`` (the last entry is ``member``)."""
        parents = self.parents()
        chain = [int(member)]
        for g in range(generation, 0, -1):
            chain.append(int(parents[g, chain[-1]]))
        return chain[::-1]

    def to_dict(self) -> dict[str, Any]:
        return {"records": [dataclasses.asdict(r) for r in self.records],
                "copies": [dataclasses.asdict(c) for c in self.copies]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lineage:
        return cls([MemberRecord(**r) for r in data["records"]], [CopyEvent(**c) for c in data["copies"]])
