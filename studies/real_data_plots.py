"""Figures of the real-data study (:mod:`studies.real_data`): the calibrated market against the real data."""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

_REAL, _SIM = "#222222", "#1f77b4"


def _hist(ax: Any, real: tuple[np.ndarray, np.ndarray], sim: tuple[np.ndarray, np.ndarray], title: str,
          xlabel: str) -> None:
    data = [x for x in (real[0], sim[0]) if x.size]
    if not data:
        return
    allx = np.concatenate(data)
    lo, hi = np.percentile(allx, [0.5, 99.5])
    bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
    for (x, w), color, label in ((real, _REAL, "real"), (sim, _SIM, "simulated")):
        if x.size:
            ax.hist(x, bins=bins, weights=w / w.sum(), histtype="step", color=color, lw=1.5, label=label)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.legend(fontsize=7)


def realism_figure(window: dict[str, Any], market: str, label: str) -> Figure:
    """Spread (time-weighted), 1-minute returns, inter-arrival gaps, |r| autocorrelation, trade-sign
    autocorrelation and the intraday arrival profile: real against the ``market``'s simulations."""
    m = window["markets"][market]
    fig = Figure(figsize=(12, 6.5))
    axes = fig.subplots(2, 3)
    real_d = window["real_distributions"]
    _hist(axes[0, 0], real_d["spread_ticks"], m["pooled"]["spread_ticks"], "spread (time-weighted)", "real ticks")
    _hist(axes[0, 1], real_d["return_1min"], m["pooled"]["return_1min"], "1-minute mid log returns", "return")
    gaps_r = real_d["interarrival_s"]
    gaps_s = m["pooled"]["interarrival_s"]
    _hist(axes[0, 2], (np.log10(np.maximum(gaps_r[0], 1e-4)), gaps_r[1]),
          (np.log10(np.maximum(gaps_s[0], 1e-4)), gaps_s[1]), "inter-arrival gaps", "log10 seconds")
    lags = np.arange(1, len(window["real_vectors"]["acf_abs_return_1min"]) + 1)
    for ax, name, title in ((axes[1, 0], "acf_abs_return_1min", "autocorrelation of |1-min return|"),
                            (axes[1, 1], "acf_trade_sign", "autocorrelation of trade signs")):
        ax.plot(lags, window["real_vectors"][name], color=_REAL, marker="o", ms=3, label="real")
        ax.plot(lags, m["vectors"][name], color=_SIM, marker="s", ms=3, label="simulated (seed mean)")
        ax.axhline(0, color="#999", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("lag", fontsize=8)
        ax.legend(fontsize=7)
    share_r = window["real_profiles"]["arrival_rate_ratio"]
    share_s = m["profiles"]["arrival_rate_ratio"]
    x = np.arange(len(share_r))
    axes[1, 2].bar(x - 0.2, share_r, width=0.4, color=_REAL, label="real")
    axes[1, 2].bar(x + 0.2, share_s, width=0.4, color=_SIM, label="simulated")
    axes[1, 2].set_title("intraday profile: arrival rate / session rate", fontsize=9)
    axes[1, 2].set_xticks(x)
    axes[1, 2].set_xlabel("15-minute bucket", fontsize=8)
    axes[1, 2].legend(fontsize=7)
    fig.suptitle(f"{market} market vs real, {label} window", fontsize=11)
    fig.tight_layout()
    return fig
