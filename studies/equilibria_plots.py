"""Figures of the equilibria study: the payoff heatmap and the best-response graph."""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402


def payoff_heatmap(payoffs: np.ndarray, half_width: np.ndarray, names: Sequence[str]) -> Any:
    """Seat 0's payoff ``payoffs[0, i, j, 0, ...]`` (row strategy ``i``, column strategy ``j``, other seats at
    strategy 0 when there are more than two), annotated with the CI half-width."""
    index = (0, slice(None), slice(None)) + (0,) * (payoffs.ndim - 3)
    mean, hw = payoffs[index], half_width[index]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2.5, 1.0 * len(names) + 1.5))
    limit = np.nanmax(np.abs(mean)) or 1.0
    image = ax.imshow(mean, cmap="RdBu", vmin=-limit, vmax=limit)
    for i in range(mean.shape[0]):
        for j in range(mean.shape[1]):
            ax.text(j, i, f"{mean[i, j]:.1f}\n±{hw[i, j]:.1f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("opponent's strategy")
    ax.set_ylabel("own strategy")
    fig.colorbar(image, ax=ax, label="mean profit (ticks x lots)")
    fig.tight_layout()
    return fig


def response_graph_figure(graph: nx.DiGraph, names: Sequence[str], sinks: Sequence[Sequence[Sequence[int]]]) -> Any:
    """The best-response graph over pure profiles, sink components highlighted.

    Of the improving deviations in ``graph`` only each seat's best one per profile is drawn, to keep it legible.
    """
    best: dict[tuple, tuple] = {}
    for a, b, data in graph.edges(data=True):
        key = (a, data["player"])
        if key not in best or data["gain"] > graph.edges[best[key]]["gain"]:
            best[key] = (a, b)
    edges = sorted(best.values())
    sink_nodes = {tuple(p) for comp in sinks for p in comp}
    labels = {node: ",".join(names[i] for i in node) for node in graph.nodes}
    nodes = sorted(graph.nodes)
    if nodes and len(nodes[0]) == 2:
        # Two seats: a grid (row = seat 0's strategy, column = seat 1's), so seat 0's deviations are vertical
        # arrows and seat 1's horizontal ones.
        size = max(max(node) for node in nodes) + 1
        pos = {node: (node[1], -node[0]) for node in nodes}
        fig, ax = plt.subplots(figsize=(1.3 * size + 1, 1.1 * size + 1))
    else:
        pos = nx.circular_layout(nodes)
        fig, ax = plt.subplots(figsize=(9, 7))
    colors = ["#d62728" if node in sink_nodes else "#c6dbef" for node in graph.nodes]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors, node_size=520)
    nx.draw_networkx_labels(graph, pos, labels=labels, ax=ax, font_size=7)
    nx.draw_networkx_edges(graph, pos, edgelist=edges, ax=ax, arrowsize=8, width=0.6, alpha=0.5, node_size=520,
                           connectionstyle="arc3,rad=0.25")
    ax.set_axis_off()
    fig.tight_layout()
    return fig
