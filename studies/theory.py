"""Textbook games: Nash equilibrium vs Pareto efficiency, welfare, and learning dynamics.

``python -m studies theory [--seed N] [--out DIR] [--overwrite] [--quick]`` writes a report with:

* the prisoner's dilemma: its unique equilibrium (defect, defect) is Pareto-dominated by (cooperate, cooperate);
* battle of the sexes: its three equilibria (two pure, one mixed), their payoffs and welfare;
* a summary over textbook games: equilibria, response-graph sink components, alpha-rank;
* learning dynamics: replicator dynamics in rock-paper-scissors (closed orbits) and in 2x2 games (phase
  portraits), fictitious play converging in matching pennies (Robinson, 1951) and cycling in Shapley's game
  (Shapley, 1964);
* a bootstrap: how often each strategy is in the equilibrium support when payoffs are observed with noise.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from marketgames.seeding import as_generator
from solvers.equilibrium import (all_nash, alpharank, bootstrap_support, expected_payoffs, fictitious_play,
                                 pareto_equilibria, pareto_pure, pure_nash, replicator_dynamics, response_graph,
                                 sink_components, welfare_table)
from solvers.equilibrium.games import (TEXTBOOK_GAMES, battle_of_the_sexes, matching_pennies, prisoners_dilemma,
                                       rock_paper_scissors, shapley_game, stag_hunt)
from studies.cli import run_cli
from studies.report import ReportWriter, default_run_dir
from studies.validate import check_bool, check_int, check_number, check_optional_str, check_seed

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Config:
    """Settings of the theory study.

    Attributes:
        seed: seeds the random starting points of replicator dynamics and the bootstrap.
        fp_iterations: rounds of fictitious play per game.
        rd_steps: Runge-Kutta steps of replicator dynamics per trajectory.
        rd_dt: step size of replicator dynamics.
        rd_starts: random starting points for the rock-paper-scissors orbits.
        bootstrap_replicates: replicates of the payoff-noise bootstrap.
        noise_se: standard error of the payoff noise in the bootstrap.
        out: report folder (default ``reports/theory-seed<seed>-<timestamp>``).
        overwrite: replace an existing report folder.
        quick: a tiny budget, for a quick look (a few seconds).
    """

    seed: int = 0
    fp_iterations: int = 5000
    rd_steps: int = 4000
    rd_dt: float = 0.01
    rd_starts: int = 4
    bootstrap_replicates: int = 200
    noise_se: float = 0.5
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def effective(self) -> "Config":
        """The settings actually run: ``quick`` caps the budget at a few seconds (smoke tests)."""
        if not self.quick:
            return self
        return dataclasses.replace(self, fp_iterations=min(self.fp_iterations, 300), rd_steps=min(self.rd_steps, 300),
                                   rd_dt=max(self.rd_dt, 0.02), rd_starts=min(self.rd_starts, 2),
                                   bootstrap_replicates=min(self.bootstrap_replicates, 10))

    def __post_init__(self) -> None:
        for name in ("fp_iterations", "rd_steps", "rd_starts", "bootstrap_replicates"):
            check_int(name, getattr(self, name), 1)
        for name in ("rd_dt", "noise_se"):
            check_number(name, getattr(self, name), low=0.0, strict_low=True, high=math.inf)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        check_bool("overwrite", self.overwrite)
        check_bool("quick", self.quick)


def _fmt(profile) -> str:
    return " / ".join("(" + ", ".join(f"{v:.3f}" for v in p) + ")" for p in profile)


def _simplex_xy(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric -> 2D for a triangle with corners (0, 0), (1, 0), (1/2, sqrt(3)/2)."""
    p = np.atleast_2d(p)
    return p[:, 1] + 0.5 * p[:, 2], np.sqrt(3) / 2 * p[:, 2]


def _triangle(ax, labels) -> None:
    ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], color="k", lw=0.8)
    for (x, y), lab in zip([(0, 0), (1, 0), (0.5, np.sqrt(3) / 2)], labels):
        ax.annotate(lab, (x, y), textcoords="offset points", xytext=(0, -12 if y == 0 else 4), ha="center")
    ax.set_aspect("equal")
    ax.axis("off")


def section_nash_vs_pareto(rep: ReportWriter) -> dict:
    pd = prisoners_dilemma()
    eqs = all_nash(pd)
    front = pareto_pure(pd)
    pures = pure_nash(pd)
    names = ["C", "D"]
    rows = []
    for a in range(2):
        for b in range(2):
            u = pd[:, a, b]
            rows.append([f"({names[a]}, {names[b]})", u[0], u[1], u.sum(), u.min(), (a, b) in pures,
                         (a, b) in front])
    rep.section("Prisoner's dilemma: Nash vs Pareto")
    rep.table(["profile", "u1", "u2", "sum", "min", "Nash", "Pareto"], rows, precision=1,
              caption="Pure profiles of the prisoner's dilemma (C = cooperate, D = defect)")
    dominated = (1, 1) not in front
    rep.text(f"The unique equilibrium is {_fmt(eqs[0])} (defect, defect) with payoffs (1, 1); it is "
             f"{'Pareto-dominated' if dominated else 'Pareto-optimal'}: (C, C) gives both players 3. Defection is a "
             "strictly dominant strategy, so individual rationality destroys 4 units of welfare.")
    return {"equilibria": eqs, "pareto_pure": front, "equilibrium_pareto_dominated": dominated}


def section_battle_of_the_sexes(rep: ReportWriter) -> dict:
    bos = battle_of_the_sexes()
    eqs = all_nash(bos)
    table = welfare_table(bos, eqs)
    efficient = pareto_equilibria(bos, eqs)
    rep.section("Battle of the sexes: three equilibria")
    rep.table(["equilibrium (row / column)", "u1", "u2", "sum", "min", "Pareto among equilibria"],
              [[_fmt(e), *table[k], k in efficient] for k, e in enumerate(eqs)], precision=3)
    rep.text("Two pure equilibria coordinate on one event (payoffs (3, 2) and (2, 3)); the mixed equilibrium "
             "((3/5, 2/5), (2/5, 3/5)) miscoordinates often and gives each player only 6/5: it is dominated by both "
             "pure equilibria, which are not comparable with each other.")
    return {"equilibria": eqs, "welfare": table, "pareto_equilibria": efficient}


def section_summary(rep: ReportWriter) -> dict:
    rows, out = [], {}
    for name, make in TEXTBOOK_GAMES.items():
        g = make()
        eqs = all_nash(g)
        sinks = sink_components(response_graph(g))
        ar = alpharank(g, single_population=False)
        rows.append([name, len(eqs), len(pure_nash(g)), len(sinks), max(len(s) for s in sinks),
                     " / ".join(np.array2string(m, precision=2) for m in ar.marginals)])
        out[name] = {"equilibria": eqs, "sink_components": sinks, "alpharank_marginals": ar.marginals}
    rep.section("Textbook games at a glance")
    rep.table(["game", "equilibria", "pure", "sink SCCs", "largest sink", "alpha-rank marginals"], rows,
              caption="Equilibria by support enumeration (verified, deduplicated); sink strongly connected components "
                      "of the better-response graph; multi-population alpha-rank (alpha=100)")
    return out


def section_dynamics(rep: ReportWriter, cfg: Config, rng: np.random.Generator) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rep.section("Learning dynamics")
    results: dict[str, Any] = {}
    # Replicator dynamics in RPS: closed orbits around the interior equilibrium.
    rps = rock_paper_scissors()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    _triangle(ax, ["Rock", "Paper", "Scissors"])
    statuses = []
    for _ in range(cfg.rd_starts):
        x0 = rng.dirichlet(np.ones(3) * 3)
        tr = replicator_dynamics(rps, x0=[x0], single_population=True, steps=cfg.rd_steps, dt=cfg.rd_dt)
        statuses.append(tr.status)
        x, y = _simplex_xy(tr.profiles[0])
        ax.plot(x, y, lw=1)
        ax.plot(*_simplex_xy(x0), "o", ms=3, color="k")
    ax.plot(*_simplex_xy(np.full(3, 1 / 3)), "*", color="red", ms=10)
    rep.figure(fig, "replicator_rps", caption="Replicator dynamics in rock-paper-scissors (single population): "
                                              "closed orbits around the equilibrium (red star)")
    results["replicator_rps_status"] = statuses
    # Two-population replicator in 2x2 games: phase portraits.
    games = {"matching pennies": matching_pennies(), "prisoner's dilemma": prisoners_dilemma(),
             "battle of the sexes": battle_of_the_sexes(), "stag hunt": stag_hunt()}
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    rows = []
    grid = np.linspace(0.05, 0.95, 9)
    for ax, (name, g) in zip(axes, games.items()):
        X, Y = np.meshgrid(grid, grid)
        U, V = np.zeros_like(X), np.zeros_like(Y)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                p, q = np.array([X[i, j], 1 - X[i, j]]), np.array([Y[i, j], 1 - Y[i, j]])
                u, v = g[0] @ q, p @ g[1]
                U[i, j] = p[0] * (u[0] - p @ u)
                V[i, j] = q[0] * (v[0] - q @ v)
        ax.quiver(X, Y, U, V, color="0.6", angles="xy")
        for _ in range(cfg.rd_starts):
            starts = [rng.dirichlet([2, 2]), rng.dirichlet([2, 2])]
            tr = replicator_dynamics(g, x0=starts, steps=cfg.rd_steps, dt=cfg.rd_dt)
            ax.plot(tr.profiles[0][:, 0], tr.profiles[1][:, 0], lw=1.2)
            rows.append([name, _fmt(starts), _fmt(tr.final), tr.status, tr.nash_conv[-1]])
        for e in all_nash(g):
            ax.plot(e[0][0], e[1][0], "*", color="red", ms=10, clip_on=False)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="P(row plays 0)", ylabel="P(column plays 0)", title=name)
    rep.figure(fig, "replicator_2x2", caption="Two-population replicator dynamics in 2x2 games: vector field, "
                                              "trajectories from random starts, equilibria (red stars)")
    rep.table(["game", "start", "end", "status", "NashConv at end"], rows,
              caption="Replicator trajectories: matching pennies orbits (cycling), PD converges to (D, D), "
                      "coordination games to a pure equilibrium depending on the start")
    results["replicator_2x2"] = rows
    # Fictitious play: convergence in matching pennies, cycling in Shapley's game.
    fp_mp = fictitious_play(matching_pennies(), iterations=cfg.fp_iterations, initial_actions=[0, 1])
    fp_sh = fictitious_play(shapley_game(), iterations=cfg.fp_iterations)
    fp_rps = fictitious_play(rock_paper_scissors(), iterations=cfg.fp_iterations, initial_actions=[0, 1])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for tr, lab in ((fp_mp, "matching pennies"), (fp_rps, "rock-paper-scissors"), (fp_sh, "Shapley's game")):
        a1.loglog(tr.times, np.clip(tr.nash_conv, 1e-6, None), label=f"{lab} ({tr.status})")
    a1.set(xlabel="round", ylabel="NashConv of empirical frequencies", title="Fictitious play")
    a1.legend()
    _triangle(a2, ["0", "1", "2"])
    for p, lab in zip(fp_sh.profiles, ("row", "column")):
        a2.plot(*_simplex_xy(p[10:]), lw=0.8, label=lab)
    a2.plot(*_simplex_xy(np.full(3, 1 / 3)), "*", color="red", ms=10)
    a2.legend()
    a2.set_title("Shapley's game: empirical frequencies keep cycling")
    rep.figure(fig, "fictitious_play", caption="Fictitious play: NashConv falls like a power of the round count in "
                                               "zero-sum games (Robinson, 1951) but not in Shapley's game, where "
                                               "the frequencies circle the equilibrium with growing periods")
    fp_rows = [[lab, tr.status, tr.nash_conv[-1], _fmt(tr.final)]
               for tr, lab in ((fp_mp, "matching pennies"), (fp_rps, "rock-paper-scissors"),
                               (fp_sh, "Shapley's game"))]
    rep.table(["game", "status", "final NashConv", "final frequencies"], fp_rows)
    results["fictitious_play"] = {r[0]: {"status": r[1], "final_nash_conv": r[2]} for r in fp_rows}
    return results


def section_bootstrap(rep: ReportWriter, cfg: Config) -> dict:
    rep.section("Bootstrap over payoff noise")
    out = {}
    rows = []
    for name, g in (("prisoner's dilemma", prisoners_dilemma()), ("stag hunt", stag_hunt()),
                    ("matching pennies", matching_pennies())):
        res = bootstrap_support(g, np.full(g.shape, cfg.noise_se), replicates=cfg.bootstrap_replicates,
                                seed=cfg.seed)
        rows.append([name, np.array2string(res.support_frequency[0], precision=2),
                     np.array2string(res.support_frequency[1], precision=2), res.failures,
                     float(np.median(res.regret_on_means)) if res.regret_on_means.size else float("nan")])
        out[name] = res
    rep.table(["game", "row support freq.", "column support freq.", "failures", "median regret in true game"], rows,
              caption=f"Each replicate adds N(0, {cfg.noise_se}^2) noise to every payoff and solves the game")
    return {k: dataclasses.asdict(v) for k, v in out.items()}


def main(config: Config) -> dict:
    """Run the study, write the report, return the results (also in ``results.json``)."""
    config = config.effective()
    out = Path(config.out) if config.out else default_run_dir("theory", config.seed)
    with ReportWriter(out, "Textbook games: Nash, Pareto and learning dynamics", overwrite=config.overwrite) as rep:
        results = _run(config, rep)
    results["out"] = str(out)
    return results


def _run(config: Config, rep: ReportWriter) -> dict[str, Any]:
    rng = as_generator(config.seed)
    rep.text(f"Config: {dataclasses.asdict(config)}")
    results: dict[str, Any] = {"config": dataclasses.asdict(config)}
    results["prisoners_dilemma"] = section_nash_vs_pareto(rep)
    results["battle_of_the_sexes"] = section_battle_of_the_sexes(rep)
    results["summary"] = section_summary(rep)
    results["dynamics"] = section_dynamics(rep, config, rng)
    results["bootstrap"] = section_bootstrap(rep, config)
    results["expected_payoffs_bos_mixed"] = expected_payoffs(
        battle_of_the_sexes(), [np.array([0.6, 0.4]), np.array([0.4, 0.6])])
    rep.write(results)
    return results


def cli(argv: list[str] | None = None) -> int:
    return run_cli("theory", __doc__, Config, main, argv)


if __name__ == "__main__":
    raise SystemExit(cli())
