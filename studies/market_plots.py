"""Figures of the market study (:mod:`studies.market`): prices against the fundamental, liquidity, volume, PnL."""
from __future__ import annotations

import warnings
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .report import ReportWriter

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


# ``vert=False`` is deprecated from Matplotlib 3.10, where ``orientation`` replaces it.
_HORIZONTAL = ({"orientation": "horizontal"} if tuple(int(x) for x in matplotlib.__version__.split(".")[:2]) >= (3, 10)
               else {"vert": False})


def _rounds(x: np.ndarray) -> np.ndarray:
    return np.arange(1, x.shape[-1] + 1)


def _quantiles(x: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (no two-sided book) stay NaN
        return [np.nanquantile(x, q, axis=0) for q in qs]


def _nanmean(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=0)


def price_figures(writer: ReportWriter, sim: dict[str, np.ndarray], episode: int) -> None:
    """One episode's price, touch and fundamental; then the average over episodes with 10-90% bands."""
    fig = Figure(figsize=(10, 4.2))
    ax = fig.add_subplot()
    r = _rounds(sim["price"][episode])
    ax.fill_between(r, sim["bid"][episode], sim["ask"][episode], step="mid", color="#1f77b4", alpha=0.15,
                    label="best bid - best ask")
    ax.step(r, sim["price"][episode], where="mid", color="#1f77b4", lw=1.8, label="price (mid)")
    ax.step(r, sim["fundamental"][episode], where="mid", color="#d62728", lw=1.8, ls="--", label="fundamental")
    ax.set_xlabel("round")
    ax.set_ylabel("price (ticks)")
    ax.set_title(f"Episode {episode}: price and fundamental")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    writer.figure(fig, "price_example", caption=f"Episode {episode}: the mid price (band: best bid to best ask; "
                  "gaps where a side is empty) against the hidden fundamental.")

    fig = Figure(figsize=(11, 4.2))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    price, fund = sim["price"], sim["fundamental"]
    r = _rounds(price[0])
    for x, color, label in ((price, "#1f77b4", "price (mid)"), (fund, "#d62728", "fundamental")):
        lo, hi = _quantiles(x, (0.1, 0.9))
        ax.fill_between(r, lo, hi, color=color, alpha=0.12)
        ax.plot(r, x.mean(0), color=color, lw=1.8, ls="-" if color == "#1f77b4" else "--",
                label=f"{label}: mean, 10-90%")
    ax.set_xlabel("round")
    ax.set_ylabel("price (ticks)")
    ax.set_title(f"Average over {price.shape[0]} episodes")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=9)
    err = np.abs(price - fund)
    lo, hi = _quantiles(err, (0.25, 0.75))
    ax2.fill_between(r, lo, hi, color="#555", alpha=0.15, label="25-75%")
    ax2.plot(r, err.mean(0), color="#333", lw=1.8, label="mean")
    ax2.set_xlabel("round")
    ax2.set_ylabel("|price - fundamental| (ticks)")
    ax2.set_title("Pricing error")
    ax2.grid(alpha=0.3)
    ax2.legend(loc="best", fontsize=9)
    fig.tight_layout()
    writer.figure(fig, "price_average", caption="Left: price and fundamental averaged over episodes (bands: 10th "
                  "to 90th percentile). Right: mean absolute pricing error per round.")


def liquidity_figure(writer: ReportWriter, sim: dict[str, np.ndarray]) -> None:
    """Spread and top-of-book depth over time."""
    fig = Figure(figsize=(11, 4))
    ax, ax2 = fig.subplots(1, 2)
    spread, depth = sim["spread"], sim["depth"]
    r = _rounds(spread[0])
    lo, hi = _quantiles(spread, (0.25, 0.75))
    ax.fill_between(r, lo, hi, color="#2ca02c", alpha=0.15, label="25-75%")
    ax.plot(r, _nanmean(spread), color="#2ca02c", lw=1.8, label="mean (two-sided books)")
    one_sided = np.isnan(spread).mean(0)
    if one_sided.any():
        axt = ax.twinx()
        axt.plot(r, one_sided, color="#999", lw=1, ls=":", label="share one-sided")
        axt.set_ylabel("share of episodes with a one-sided book", color="#777")
        axt.set_ylim(0, 1)
        axt.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("round")
    ax.set_ylabel("spread (ticks)")
    ax.set_title("Spread")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    lo, hi = _quantiles(depth, (0.25, 0.75))
    ax2.fill_between(r, lo, hi, color="#9467bd", alpha=0.15, label="25-75%")
    ax2.plot(r, depth.mean(0), color="#9467bd", lw=1.8, label="mean")
    ax2.set_xlabel("round")
    ax2.set_ylabel("lots at best bid + best ask")
    ax2.set_title("Top-of-book depth")
    ax2.set_ylim(bottom=0)
    ax2.grid(alpha=0.3)
    ax2.legend(loc="best", fontsize=9)
    fig.tight_layout()
    writer.figure(fig, "spread_depth", caption="Liquidity over time, across episodes: spread (when both sides are "
                  "quoted; dotted: share of episodes whose book has an empty side) and depth at the touch. A wave "
                  "with the period of the number of players comes from the rotating seat order (round t processes "
                  "seat t mod players first), which changes whose orders stand at the end of the round.")


def volume_figure(writer: ReportWriter, sim: dict[str, np.ndarray], labels: Sequence[str]) -> None:
    """Volume per round over time, and lots traded per episode by each trader."""
    fig = Figure(figsize=(11, 4))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    vol = sim["volume"]
    r = _rounds(vol[0])
    ax.bar(r, vol.mean(0), color="#ff7f0e", alpha=0.8, width=0.9)
    ax.set_xlabel("round")
    ax.set_ylabel("lots traded (mean over episodes)")
    ax.set_title("Volume per round (all traders and background flow)")
    ax.grid(alpha=0.3, axis="y")
    lots = sim["lots"]
    y = np.arange(len(labels))
    ax2.barh(y, lots.mean(0), xerr=lots.std(0), color=[_COLORS[i % len(_COLORS)] for i in y], alpha=0.85,
             capsize=3)
    ax2.set_yticks(y, labels)
    ax2.invert_yaxis()
    ax2.set_xlabel("lots traded per episode (mean ± std)")
    ax2.set_title("Participation")
    ax2.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    writer.figure(fig, "volume", caption="Left: mean volume per round. Right: lots each trader traded per episode.")


def pnl_figure(writer: ReportWriter, sim: dict[str, np.ndarray], labels: Sequence[str]) -> None:
    """Distribution of per-episode PnL per trader, and mean cumulative PnL over the rounds."""
    pnl = sim["pnl"]
    n = pnl.shape[1]
    fig = Figure(figsize=(11, 0.55 * n + 3.2))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(n)
    parts = ax.violinplot([pnl[:, p] for p in range(n)], positions=y, **_HORIZONTAL, showextrema=False, widths=0.8)
    for p, body in enumerate(parts["bodies"]):
        body.set_facecolor(_COLORS[p % len(_COLORS)])
        body.set_alpha(0.35)
    ax.boxplot([pnl[:, p] for p in range(n)], positions=y, **_HORIZONTAL, widths=0.25, showfliers=False,
               medianprops={"color": "black"})
    ax.scatter(pnl.mean(0), y, marker="D", color="black", zorder=3, s=22, label="mean")
    ax.axvline(0, color="#888", lw=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("PnL per episode (ticks x lots)")
    ax.set_title("PnL distribution (violin, box: quartiles)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="lower right", fontsize=8)
    cum = np.cumsum(sim["round_pnl"], axis=1).mean(0)  # (T, n)
    r = _rounds(cum.T)
    for p in range(n):
        ax2.plot(r, cum[:, p], color=_COLORS[p % len(_COLORS)], lw=1.6, label=labels[p])
    ax2.axhline(0, color="#888", lw=1)
    ax2.set_xlabel("round")
    ax2.set_ylabel("mean cumulative PnL (mark-to-market)")
    ax2.set_title("PnL over the episode")
    ax2.grid(alpha=0.3)
    ax2.legend(loc="best", fontsize=8)
    fig.tight_layout()
    writer.figure(fig, "pnl", caption="Left: per-episode PnL of each trader. Right: mean cumulative wealth change, "
                  "marked to the mid each round and to the fundamental at the end.")
