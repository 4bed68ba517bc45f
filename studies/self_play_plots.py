"""Figures of the self-play study (:mod:`studies.self_play`): matchmaking weights over time."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure


def matchmaking_weights(steps: np.ndarray, names: Sequence[str], weights: np.ndarray) -> Figure:
    """Stacked probabilities of drawing each pool member (columns of ``weights``, NaN while absent) at the env
    steps ``steps`` of each draw."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    w = np.nan_to_num(np.asarray(weights, float), nan=0.0)
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    colors = [palette(k % palette.N) for k in range(len(names))]
    ax.stackplot(np.asarray(steps), w.T, labels=list(names), colors=colors, alpha=0.85, step="post")
    ax.set_xlabel("env steps of training (episode start)")
    ax.set_ylabel("matchmaking probability")
    ax.set_ylim(0, 1)
    ax.set_title("Opponent pool: matchmaking weights over time")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    fig.tight_layout()
    return fig
