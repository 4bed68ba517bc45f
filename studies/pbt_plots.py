"""Figures of the PBT study (:mod:`studies.pbt`): fitness curves with intervals, the lineage, and the
hyper-parameters of every member over the generations."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def fitness_curves(fitness: np.ndarray, low: np.ndarray, high: np.ndarray, label: str) -> Figure:
    """Each member's fitness per generation (``(G, N)``) with its 95% interval as a band (not drawn where NaN)."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    gens = np.arange(fitness.shape[0])
    for m in range(fitness.shape[1]):
        color = _COLORS[m % len(_COLORS)]
        ax.plot(gens, fitness[:, m], color=color, lw=1.5, marker="o", ms=3, label=f"member {m}")
        band = np.isfinite(low[:, m]) & np.isfinite(high[:, m])
        ax.fill_between(gens[band], low[band, m], high[band, m], color=color, alpha=0.12)
    ax.plot(gens, np.nanmax(fitness, axis=1), color="black", lw=2.2, ls="--", label="best member")
    ax.set_xticks(gens)
    ax.set_xlabel("generation")
    ax.set_ylabel(label)
    ax.set_title("Fitness per generation (bands: 95% intervals)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def lineage(parents: np.ndarray, fitness: np.ndarray) -> Figure:
    """Member slots (y) over generations (x), coloured by fitness; a line joins each member to the slot it
    descends from in the previous generation (a slanted line: a copy)."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    generations, n = parents.shape
    for g in range(1, generations):
        for m in range(n):
            copied = parents[g, m] != m
            ax.plot([g - 1, g], [parents[g, m], m], color="#d62728" if copied else "#999", lw=2.0 if copied else 0.8,
                    zorder=1)
    gg, mm = np.meshgrid(np.arange(generations), np.arange(n), indexing="ij")
    points = ax.scatter(gg.ravel(), mm.ravel(), c=fitness.ravel(), cmap="viridis", s=60, zorder=2)
    fig.colorbar(points, ax=ax, label="fitness")
    ax.set_xlabel("generation")
    ax.set_ylabel("member slot")
    ax.set_yticks(range(n))
    ax.set_xticks(range(generations))
    ax.set_title("Lineage: red lines are copies (exploit), grey lines a member keeping its own weights")
    fig.tight_layout()
    return fig


def hyperparameters(trajectories: Mapping[str, np.ndarray], log: Mapping[str, bool]) -> Figure:
    """One panel per hyper-parameter: each member's value per generation (``(G, N)``)."""
    names = list(trajectories)
    fig = Figure(figsize=(4.2 * len(names), 3.8))
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        values = trajectories[name]
        for m in range(values.shape[1]):
            ax.plot(np.arange(values.shape[0]), values[:, m], color=_COLORS[m % len(_COLORS)], marker="o", ms=3,
                    lw=1.2, label=f"member {m}")
        if log.get(name, False):
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig
