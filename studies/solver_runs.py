"""How the solver studies (:mod:`studies.exploitability`, :mod:`studies.validation`) run a solver: step it for a
number of iterations and record the exact NashConv after each, and how a run ended, for the reports."""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from solvers.exploitability import player_gains, policy_table

__all__ = ["run_solver", "stop_note"]

logger = logging.getLogger(__name__)


def run_solver(solver: Any, *, iterations: int, progress: bool, label: str, target_nash_conv: float = 0.0,
               max_seconds: float | None = None) -> dict[str, Any]:
    """Step ``solver`` and record NashConv against iterations and wall time (evaluation time excluded), for
    ``iterations`` or until NashConv <= ``target_nash_conv`` (when that is > 0). ``max_seconds`` is only a guard:
    a run it stops says so in ``stopped_by`` (``"iterations"``, ``"target_nash_conv"`` or ``"time limit"``)."""
    curve, wall = [], []
    elapsed = 0.0
    stopped_by = "iterations"
    for _ in tqdm(range(iterations), desc=label, unit="it", disable=not progress, leave=False):
        start = time.perf_counter()
        solver.track_nash_conv = False
        solver.step()
        elapsed += time.perf_counter() - start
        curve.append(player_gains(solver.tree, policy_table(solver.tree, solver.policy())).sum())
        wall.append(elapsed)
        if target_nash_conv > 0 and curve[-1] <= target_nash_conv:
            stopped_by = "target_nash_conv"
            break
        if len(curve) < iterations and max_seconds is not None and elapsed > max_seconds:
            stopped_by = "time limit"
            logger.warning("%s: stopped by time limit (%g s) after %d iterations", label, max_seconds, len(curve))
            break
    return {"nash_conv": np.array(curve), "seconds": np.array(wall), "iterations": len(curve),
            "stopped_by": stopped_by}


def stop_note(run: dict[str, Any]) -> str:
    """How a solver run ended: ``"stopped by time limit after N iterations"`` when the
    ``max_seconds`` guard stopped it."""
    if run.get("stopped_by") == "time limit":
        return f"stopped by time limit after {run['iterations']} iterations"
    if run.get("stopped_by") == "target_nash_conv":
        return f"reached target_nash_conv after {run['iterations']} iterations"
    return f"{run['iterations']} iterations"
