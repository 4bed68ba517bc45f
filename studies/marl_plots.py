"""Figures of the MARL study (:mod:`studies.marl`): learning curves with confidence bands over seeds."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def learning_curves(grid: np.ndarray, curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                    references: Mapping[str, float]) -> Figure:
    """Each learner's mean training-episode return at the env steps ``grid`` with its 95% band (``curves[name] =
    (mean, low, high)``, NaN where no episode ended in a bin: not drawn), and horizontal reference lines."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    for k, (name, (mean, low, high)) in enumerate(curves.items()):
        color = _COLORS[k % len(_COLORS)]
        ok = np.isfinite(mean)
        ax.plot(grid[ok], mean[ok], color=color, lw=1.8, marker="o", ms=3, label=f"{name}: mean over seeds")
        band = ok & np.isfinite(low) & np.isfinite(high)
        ax.fill_between(grid[band], low[band], high[band], color=color, alpha=0.18, label=f"{name}: 95% CI")
    for k, (label, value) in enumerate(references.items()):
        if np.isfinite(value):
            ax.axhline(value, color="#555", lw=1.2, ls=("--", ":", "-.")[k % 3], label=label)
    ax.set_xlabel("env steps of training")
    ax.set_ylabel("episode return of seat 0 (PnL, ticks x lots)")
    ax.set_title("Learning curves against the rule population")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)  # "best" is slow with the filled bands
    fig.tight_layout()
    return fig
