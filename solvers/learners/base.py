"""The one contract every learner follows: ``step()`` runs one iteration and returns its metrics; ``policy()`` is
the current average (or meta) joint policy as an ``open_spiel.python.policy.Policy``."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from open_spiel.python import policy as os_policy


@runtime_checkable
class Solver(Protocol):
    """A learner for an OpenSpiel game."""

    iteration: int

    def step(self) -> dict[str, Any]:
        """One iteration; returns metrics of it (at least ``{"iteration": ...}``)."""

    def policy(self) -> os_policy.Policy:
        """The current average or meta joint policy."""
