"""Figures of the validation study: NashConv against iterations and against wall time, one panel per game."""
from __future__ import annotations

from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: NashConv values at or below this (PSRO reaches an exact 0 on Kuhn poker and the tiny market) are drawn here,
#: since a log axis cannot show 0.
FLOOR = 1e-9

_COLOURS = {"psro_nash": "tab:blue", "xfp": "tab:orange"}


def nash_conv_panels(runs: Mapping[str, Mapping[str, Mapping[str, Any]]], uniform: Mapping[str, float],
                     labels: Mapping[str, str], *, x: str = "iteration") -> Any:
    """One log-log panel per game: each solver's NashConv against ``x`` (``"iteration"`` or ``"seconds"``, the
    solver's cumulative step time), with the uniform policy's NashConv as a dashed line."""
    if x not in ("iteration", "seconds"):
        raise ValueError(f"x={x!r} is not allowed: expected 'iteration' or 'seconds'")
    games = list(runs)
    fig, axes = plt.subplots(1, len(games), figsize=(4.2 * len(games), 3.8), squeeze=False)
    for ax, game in zip(axes[0], games):
        for solver, run in runs[game].items():
            curve = np.maximum(np.asarray(run["nash_conv"], float), FLOOR)
            xs = np.asarray(run[x], float)
            if x == "seconds":
                xs = np.maximum(xs, 1e-5)  # the first step can take less than the timer's resolution
            ax.plot(xs, curve, label=solver, color=_COLOURS.get(solver), lw=1.3)
        if game in uniform:
            ax.axhline(uniform[game], color="0.5", ls="--", lw=1, label="uniform policy")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(labels.get(game, game), fontsize=10)
        ax.set_xlabel("iteration" if x == "iteration" else "solver wall time (s)")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("NashConv (exact)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig
