"""The report of the MARL study (:mod:`studies.marl`): its Markdown sections, tables and figures, and the 95%
intervals over seeds they show."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import marl_plots
from .curves import curve_bands
from .market_run import QUALITY_ROWS
from .report import ReportWriter

MAX_EQUILIBRIA_SHOWN = 12

def _fmt(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def write_report(writer: ReportWriter, eff: Any, results: dict[str, Any], names: list[str]) -> None:
    writer.section("Setup")
    writer.text(f"`{results['game_string']}`; {eff.num_envs} markets at once; opponents {', '.join(names)} (market "
                f"b plays opponent b mod {len(names)}); {eff.steps:,} env steps of training per learner and seed; "
                f"{eff.seeds} seeds{' (quick run)' if eff.quick else ''}; {eff.eval_episodes} evaluation episodes "
                f"per market; {results['seconds']:.0f} s. PnL: final wealth with positions at the fundamental (ticks "
                "x lots). Intervals: 95% Student-t over seeds.")
    writer.section("Verdict")
    for algo, v in results["verdict"].items():
        yes = "beats" if v["beats_rule_population"] else "does not beat (the interval reaches zero or below)"
        best, diff = list(v["vs_baselines"].items())[-1]
        against = ("above" if diff[1] > 0 else "below" if diff[2] < 0 else "not distinguishable from")
        writer.text(f"**{algo}** {yes} the rule population: mean PnL minus the rule traders' average "
                    f"{_fmt(v['advantage'])}; against the best rule trader in seat 0 ({best.removeprefix('rule: ')}) "
                    f"it is {against} it: {_fmt(diff)}.")
    writer.table(["learner", "minus baseline", "PnL difference [95% CI]"],
                 [[algo, name, _fmt(ci)] for algo, v in results["verdict"].items()
                  for name, ci in v["vs_baselines"].items()],
                 caption="Paired over seeds (every policy of a seed plays the same evaluation markets); the rule "
                         "baseline is the rule trader with the highest mean PnL in seat 0")
    writer.table(["policy in seat 0", "mean PnL over opponents [95% CI]"],
                 [[name, _fmt(ci)] for name, ci in results["overall_pnl"].items()],
                 caption=f"Rule population average (seat 0): {_fmt(results['rule_population_pnl'])}")
    writer.section("Against each rule trader")
    rows = []
    for name, per in results["per_opponent"].items():
        for k, opponent in enumerate(names):
            m = per[k]
            rows.append([name, opponent, _fmt(m["pnl"]), _fmt(m["sharpe"]), _fmt(m["win_rate"]),
                         _fmt(m["opponent_pnl"])])
    writer.table(["policy", "opponent", "PnL", "Sharpe (episode)", "win rate", "opponent PnL"], rows,
                 caption="Win rate: share of episodes with PnL > 0")
    writer.section("Learning curves")
    grid = np.asarray(results["curve_steps"])
    bands = {algo: curve_bands(c) for algo, c in results["curves"].items()}
    references = {"random policy (evaluation)": results["overall_pnl"]["random"][0],
                  "rule population average (evaluation)": results["rule_population_pnl"][0]}
    writer.figure(marl_plots.learning_curves(grid, bands, references), "learning_curves",
                  caption="Mean return of the training episodes (exploring) that ended in each bin of env steps, "
                          f"with 95% intervals over {eff.seeds} seeds; grey lines: the random policy's and the "
                          "rule traders' mean PnL in seat 0 at evaluation.")
    writer.table(["learner", "env steps (bin end)", "mean training-episode return [95% CI]"],
                 [[algo, f"{int(grid[j]):,}", _fmt(tuple(b[j] for b in band))]
                  for algo, band in bands.items() for j in range(len(grid))],
                 caption=f"Training episodes binned on a grid of {len(grid)} bins of env steps")
    _write_game_report(writer, eff, results["empirical_game"])
    _write_exploitability(writer, eff, results["exploitability"])
    writer.section("Market quality with and without the learners")
    quality = results["market_quality"]
    writer.table(["measure"] + list(quality),
                 [[label] + [f"{q[key]:.3f} ± {1.96 * q[f'{key}_sem']:.3f}" for q in quality.values()]
                  for key, label in QUALITY_ROWS],
                 caption=f"{eff.quality_episodes} episodes per condition (seat 1 cycles through the rule traders; "
                         "the same chance draws in every condition); mean per episode ± 95% half-width")


def _write_game_report(writer: ReportWriter, eff: Any, g: dict[str, Any]) -> None:
    names = g["strategies"]
    writer.section("Empirical game: which strategies survive")
    writer.text(f"Both players choose among the trained learners of seed 0 ({', '.join(g['learners'])}) and the "
                f"rule traders; {g['episodes_simulated']:,} episodes ({eff.game_episodes} per profile) on the "
                f"OpenSpiel loop in {g['seconds']:.0f} s. Payoffs: mean final PnL (ticks x lots).")
    survivors = ", ".join(g["survivors"]) or "none"
    learners = ", ".join(g["surviving_learners"]) or "none of the learners"
    writer.text(f"**Strategies in the support of a Nash equilibrium:** {survivors}; learned agents among them: "
                f"{learners}.")
    in_support = [[sum(k in eq["support"][p] for eq in g["equilibria"]) for p in range(2)]
                  for k in range(len(names))]
    writer.table(["strategy", "equilibria using it (seat 0, seat 1)", "alpha-rank (seat 0)", "alpha-rank (seat 1)",
                  "bootstrap share (seat 0)", "bootstrap share (seat 1)"],
                 [[name, f"{in_support[k][0]}, {in_support[k][1]} of {len(g['equilibria'])}",
                   float(g["alpharank"][0][k]), float(g["alpharank"][1][k]),
                   float(g["bootstrap_support_frequency"][0][k]), float(g["bootstrap_support_frequency"][1][k])]
                  for k, name in enumerate(names)],
                 caption="Alpha-rank: mass of the strategy in the stationary distribution; bootstrap: share of "
                         f"{eff.bootstrap} payoff resamples whose equilibrium uses it")
    payoffs, sems = np.asarray(g["payoffs"]), np.asarray(g["standard_errors"])
    writer.table(["seat 0 \\ seat 1"] + names,
                 [[names[i]] + [f"{payoffs[0, i, j]:.2f} ± {1.96 * sems[0, i, j]:.2f}" for j in range(len(names))]
                  for i in range(len(names))],
                 caption="Seat 0's mean payoff (± 95% half-width) for each pair of strategies")
    shown = g["equilibria"][:MAX_EQUILIBRIA_SHOWN]
    more = len(g["equilibria"]) - len(shown)
    writer.table(["#", "profile (seat 0 ; seat 1)", "payoffs", "welfare", "regret", "Pareto among equilibria"],
                 [[k, " ; ".join(eq["description"]), " , ".join(f"{v:.2f}" for v in eq["payoffs"]), eq["welfare"],
                   eq["regret"], "yes" if eq["pareto_among_equilibria"] else "no"]
                  for k, eq in enumerate(shown)],
                 caption="Nash equilibria of the estimated game (verified: regret below the tolerance)"
                         + (f"; {more} more in results.json" if more > 0 else ""))
    pareto = ["(" + ", ".join(names[i] for i in p) + ")" for p in g["pareto_pure"]]
    writer.text("Pareto-optimal pure profiles (seat 0, seat 1): " + ", ".join(pareto) + ".")


def _write_exploitability(writer: ReportWriter, eff: Any, exploitability: dict[str, dict[str, Any]]) -> None:
    if not exploitability:
        return
    writer.section("Approximate exploitability: learned best responses")
    writer.text(f"For each learner and seed a fresh IDQN (the study's settings) trains {eff.br_steps:,} env steps in "
                "seat 0 against the frozen trained agent in seat 1 (its OpenSpiel policy, a snapshot of its network, "
                f"on the batched market); then every seat-0 strategy below plays the same {eff.num_envs} x "
                f"{eff.eval_episodes} evaluation episodes against the frozen agent. **Gain** = the best response's "
                "mean PnL minus a reference's, paired over seeds: over the learned agent itself (self-play, the "
                "symmetric-game exploitability u(BR, pi) - u(pi, pi)) and over the best rule trader against that "
                "agent. A learned response is no better than the true best response: the gain over the agent itself "
                "is a **lower bound** on its exploitability; a gain whose interval reaches zero does not show that "
                "the agent is exploitable by this budget, and a negative one means the response did not learn to "
                "beat the reference.")
    rows = []
    for algo, e in exploitability.items():
        for reference, ci in e["gain"].items():
            shown = "the learned agent itself" if reference == "self" else reference
            verdict = ("above zero" if ci[1] > 0 else "below zero" if ci[2] < 0 else "not distinguishable from zero")
            rows.append([algo, shown, _fmt(ci), verdict])
    writer.table(["frozen learner", "gain over", "gain [95% CI]", "interval"], rows,
                 caption=f"Intervals: 95% Student-t over {eff.seeds} seeds")
    writer.table(["frozen learner", "seat-0 strategy", "mean PnL against it [95% CI]"],
                 [[algo, name, _fmt(ci)] for algo, e in exploitability.items() for name, ci in e["pnl"].items()],
                 caption="'frozen vs best response': the frozen agent's own PnL against the best response")
