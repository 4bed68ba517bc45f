"""Figures of :mod:`studies.manipulation`."""
from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _bars(ax: Any, labels: list[str], rows: list[tuple[float, float, float]], title: str) -> None:
    mids = [r[0] for r in rows]
    err = [[r[0] - r[1] for r in rows], [r[2] - r[0] for r in rows]]
    ax.barh(range(len(rows)), mids, xerr=err, color="#4878a8", capsize=3)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_title(title, fontsize=9)


def findings(spoofing: dict[str, dict[str, Any]], hurt: dict[str, dict[str, Any]],
             welfare: dict[str, Any]) -> Any:
    """Three panels: the spoof's price-bias change, the surplus changes, the market maker's total-surplus gain."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    labels, bias, surplus, slabels = [], [], [], []
    for spec, by_pop in spoofing.items():
        short = spec
        for pop, d in by_pop.items():
            m = d["price_bias"]
            labels.append(f"{short} / {pop}")
            bias.append((m.difference, m.ci_low, m.ci_high))
            m = d["players_surplus"]
            slabels.append(f"{short} / {pop}: other seats")
            surplus.append((m.difference, m.ci_low, m.ci_high))
        h = hurt[spec]
        slabels.append(f"{short}: reader - non-reader")
        surplus.append((h["difference"], h["ci_low"], h["ci_high"]))
    _bars(axes[0], labels, bias, "price bias change (ticks), spoof vs control")
    axes[1].tick_params(labelsize=6)
    _bars(axes[1], slabels, surplus, "surplus change (ticks x lots)")
    rows = [(d["total_surplus"].difference, d["total_surplus"].ci_low, d["total_surplus"].ci_high)
            for d in welfare.values()]
    _bars(axes[2], [k.replace("_market", "") for k in welfare], rows, "market maker: total surplus change")
    fig.tight_layout()
    return fig
