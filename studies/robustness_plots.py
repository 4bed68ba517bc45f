"""Figures of the robustness study (:mod:`studies.robustness`): the strategy x opponent heat map and the payoff
distributions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def heat_map(means: np.ndarray, strategies: Sequence[str], opponents: Sequence[str]) -> Figure:
    """``means[i, j]``: strategy ``i``'s mean PnL against opponent ``j``, annotated; a diverging scale centred
    on 0."""
    fig = Figure(figsize=(1.3 * len(opponents) + 3, 0.55 * len(strategies) + 2))
    ax = fig.add_subplot()
    finite = means[np.isfinite(means)]
    scale = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    image = ax.imshow(means, cmap="RdBu", vmin=-scale, vmax=scale, aspect="auto")
    ax.set_xticks(range(len(opponents)), labels=list(opponents), rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(strategies)), labels=list(strategies), fontsize=8)
    for i in range(means.shape[0]):
        for j in range(means.shape[1]):
            ax.text(j, i, f"{means[i, j]:.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="mean PnL of the strategy (seat 0)")
    ax.set_title("Strategies (rows) against opponents (columns)")
    fig.tight_layout()
    return fig


def distributions(samples: Mapping[str, np.ndarray]) -> Figure:
    """A box plot of each strategy's per-episode PnL."""
    fig = Figure(figsize=(9, 0.45 * len(samples) + 2))
    ax = fig.add_subplot()
    names = list(samples)
    ax.boxplot([np.asarray(samples[n], float) for n in names], orientation="horizontal", showfliers=False)
    ax.set_yticks(range(1, len(names) + 1), labels=names, fontsize=8)
    ax.axvline(0.0, color="#555", lw=1, ls="--")
    ax.set_xlabel("PnL per episode (ticks x lots; whiskers 1.5 IQR, outliers hidden)")
    ax.set_title("Payoff distributions against held-out types and manipulators")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig
