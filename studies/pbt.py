"""Population-based training of market traders, ranked by the empirical game.

``python -m studies pbt [--quick] [--seed S] [--out DIR] [--workers W] [--backend serial|process|ray]``

A population of ``population`` independent-DQN traders (:class:`solvers.population.PBT`; Jaderberg et al. 2017 and
2019) trains in seat 0 of a 2-player ``python_lob_market`` against the rule traders and frozen snapshots of the
previous generation's members, each with its own learning rate, discount, exploration rate and network width. Every
generation the members and the rule traders play a symmetric empirical game on the batched engine; a member's
fitness is its mean payoff against the population's Nash meta-strategy (``--fitness alpharank`` or ``mean`` for the
alternatives), with a 95% normal interval from the cells' standard errors. Then the bottom quarter copies the weights
and hyper-parameters of the top quarter (truncation selection) and perturbs them (x0.8 / x1.2, or a resample with
probability 0.25).

Reported: fitness curves with intervals, NashConv of the population's meta-strategy in the generation's game,
diversity (mean pairwise Jensen-Shannon divergence of the members' greedy actions on fixed market states), the lineage
and the hyper-parameter trajectories (figures); the final population's empirical game with its Nash equilibria,
Pareto-optimal profiles and alpha-rank (:func:`studies.meta_game.analyse`); the learned best-response exploitability
of the top member (a fresh IDQN trained against it, paired with the member itself on the same markets). The numbers
depend on the seed only, not on ``--backend`` or ``--workers``.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.traders import parse_spec
from solvers.marl import IndependentDQNConfig
from solvers.population import FITNESS, PBT, PBTConfig
from solvers.population.pbt import default_learner
from solvers.population.workers import BACKENDS

from . import pbt_plots
from .cli import run_cli
from .market_run import parse_population
from .meta_game import analyse
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_choice, check_int, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "pbt"
MAX_EQUILIBRIA_SHOWN = 8


@dataclass
class Config:
    """Configuration of the PBT study.

    Attributes:
        population: members of the population (>= 2).
        generations: generations of training, evaluation and exploit / explore.
        steps: env steps of training per member and generation (one env step = one market playing one round).
        rounds: rounds per episode.
        num_envs: markets each member trains in at once.
        eval_episodes: episodes per profile of each generation's empirical game.
        fitness: ``nash`` (payoff against the population's Nash meta-strategy), ``alpharank`` or ``mean``.
        opponents: rule trader specs: training opponents in seat 1 and strategies of the empirical game.
        br_steps: env steps of the learned best response to the top member.
        br_episodes: evaluation episodes per market of the best response and of the member.
        bootstrap: bootstrap replicates of the final empirical game's equilibrium supports.
        workers: processes or Ray actors (the numbers do not depend on it).
        backend: ``serial``, ``process`` or ``ray`` (default: serial for 1 worker, else process).
        seed: the run's root seed.
        out: report folder (default ``reports/pbt-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (4 members, 3 generations of 1,024 env steps, 5-round episodes, 32 markets, 4
            episodes per profile, a 1,024-step best response, 5 bootstrap replicates).
    """

    population: int = 8
    generations: int = 8
    steps: int = 10_240
    rounds: int = 20
    num_envs: int = 128
    eval_episodes: int = 64
    fitness: str = "nash"
    opponents: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")
    br_steps: int = 20_480
    br_episodes: int = 4
    bootstrap: int = 50
    workers: int = 1
    backend: str | None = None
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        self.opponents = tuple(self.opponents)
        check_int("population", self.population, 2)
        check_int("generations", self.generations, 1)
        check_int("steps", self.steps, 1)
        check_int("rounds", self.rounds, 1)
        check_int("num_envs", self.num_envs, 1)
        check_int("eval_episodes", self.eval_episodes, 2)
        check_choice("fitness", self.fitness, FITNESS)
        if not self.opponents or not all(isinstance(s, str) for s in self.opponents):
            raise ValueError(f"opponents={self.opponents!r} is not allowed: expected at least one trader spec")
        for spec in self.opponents:
            parse_spec(spec)
        check_int("br_steps", self.br_steps, 1)
        check_int("br_episodes", self.br_episodes, 1)
        check_int("bootstrap", self.bootstrap, 1)
        check_int("workers", self.workers, 1)
        if self.backend is not None:
            check_choice("backend", self.backend, BACKENDS)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, population=min(self.population, 4), generations=min(self.generations, 3),
                                   steps=min(self.steps, 1_024), rounds=min(self.rounds, 5),
                                   num_envs=min(self.num_envs, 32), eval_episodes=min(self.eval_episodes, 4),
                                   br_steps=min(self.br_steps, 1_024), br_episodes=1,
                                   bootstrap=min(self.bootstrap, 5))

    def pbt_config(self) -> PBTConfig:
        """The :class:`solvers.population.PBTConfig` of this study (the default learner at these sizes)."""
        base = default_learner()
        warm = min(base.dqn.min_buffer, max(self.num_envs, self.steps // 4))
        dqn = dataclasses.replace(base.dqn, min_buffer=warm, batch_size=min(base.dqn.batch_size, warm),
                                  epsilon_decay_steps=self.steps)
        learner = IndependentDQNConfig(dqn=dqn, num_envs=self.num_envs, env_steps_per_update=self.num_envs)
        return PBTConfig(population_size=self.population, steps_per_generation=self.steps,
                         generations=self.generations, fitness=self.fitness, opponents=self.opponents,
                         eval_episodes=self.eval_episodes, learner=learner)


def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    pbt_config = eff.pbt_config()  # validated before any work
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "PBT study: a population of traders ranked by the empirical game",
                      overwrite=eff.overwrite) as w:
        results = _run(eff, pbt_config, w)
    results["out"] = str(out)
    return results


def _run(eff: Config, pbt_config: PBTConfig, writer: ReportWriter) -> dict[str, Any]:
    game_string = f"python_lob_market(players=2,steps={eff.rounds})"
    root = np.random.SeedSequence(eff.seed)
    run_seed, boot_seed, br_seed = root.spawn(3)
    start = time.perf_counter()
    with PBT(game_string, pbt_config, seed=run_seed, backend=eff.backend, workers=eff.workers) as run:
        run.run()
        trained = time.perf_counter()
        egame = run.empirical_game()
        names = run.strategy_names()
        analysis = analyse(egame.payoffs, egame.standard_errors, names, bootstrap=eff.bootstrap, seed=boot_seed)
        exploit = run.exploitability(steps=eff.br_steps, eval_episodes=eff.br_episodes, seed=br_seed)
        history, lineage, timings = run.history, run.lineage, run.timings
        backend = run.pool.name
    elapsed = time.perf_counter() - start
    space = pbt_config.search_space
    results: dict[str, Any] = {
        "study": STUDY, "config": dataclasses.asdict(eff), "game_string": game_string, "backend": backend,
        "history": history, "lineage": lineage.to_dict(),
        "fitness": lineage.table("fitness"), "fitness_low": lineage.table("fitness_low"),
        "fitness_high": lineage.table("fitness_high"), "parents": lineage.parents(),
        "hyperparameters": {name: lineage.table(name) for name in sorted(space)},
        "nash_conv": [h["nash_conv"] for h in history], "diversity": [h["diversity"] for h in history],
        "final_game": {
            "strategies": names, "payoffs": egame.payoffs, "standard_errors": egame.standard_errors,
            "equilibria": analysis["equilibria"], "pareto_pure": analysis["pareto_pure"],
            "alpharank": analysis["alpharank"].marginals,
            "bootstrap_support_frequency": analysis["bootstrap"].support_frequency,
        },
        "exploitability": exploit, "timings": timings, "training_seconds": trained - start, "seconds": elapsed,
    }
    _write_report(writer, eff, results, {name: space[name].log for name in space})
    writer.write(results)
    return results


def _fmt(ci: Sequence[float]) -> str:
    if not np.isfinite(ci[1]):
        return f"{ci[0]:.3f}"
    return f"{ci[0]:.3f} [{ci[1]:.3f}, {ci[2]:.3f}]"


def _write_report(writer: ReportWriter, eff: Config, r: dict[str, Any], log: dict[str, bool]) -> None:
    fit, low, high = r["fitness"], r["fitness_low"], r["fitness_high"]
    label = {"nash": "payoff against the population's Nash meta-strategy", "alpharank": "alpha-rank mass",
             "mean": "mean payoff against all strategies"}[eff.fitness]
    writer.section("Setup")
    writer.text(f"`{r['game_string']}`; {eff.population} members, {eff.generations} generations of {eff.steps:,} env "
                f"steps per member in {eff.num_envs} markets; opponents {', '.join(eff.opponents)} and the previous "
                f"generation's members; {eff.eval_episodes} episodes per profile of each generation's empirical game "
                f"(batched engine); fitness: {label}; backend {r['backend']} with {eff.workers} worker(s)"
                f"{' (quick run)' if eff.quick else ''}; {r['seconds']:.0f} s. Payoffs: final PnL (ticks x lots); "
                "intervals: 95%, normal, from the cells' standard errors.")
    writer.section("Fitness, NashConv and diversity per generation")
    last = fit.shape[0] - 1
    best = int(np.nanargmax(fit[last]))
    writer.text(f"Final generation: best member {best} with fitness {_fmt((fit[last, best], low[last, best], high[last, best]))}"
                f"; population mean {np.nanmean(fit[last]):.3f}.")
    writer.figure(pbt_plots.fitness_curves(fit, low, high, label), "fitness_curves",
                  caption="Each member's fitness per generation with its 95% interval; dashed: the best member.")
    rows = []
    for g, h in enumerate(r["history"]):
        k = int(np.nanargmax(fit[g]))
        copies = ", ".join(f"{m}<-{s}" for m, s in h["copies"].items()) or "-"
        rows.append([g, f"{k}: {_fmt((fit[g, k], low[g, k], high[g, k]))}", f"{np.nanmean(fit[g]):.3f}",
                     f"{h['nash_conv']:.3f}", f"{h['nash_conv_uniform']:.3f}", f"{h['diversity']:.3f}", copies])
    writer.table(["generation", "best member: fitness [95% CI]", "mean fitness", "NashConv (meta-strategy)",
                  "NashConv (uniform)", "diversity (JSD, bits)", "copies (member<-source)"], rows,
                 caption="NashConv: summed gain of the best deviation (to a member or a rule trader) of both seats "
                         "from the population's meta-strategy (or its uniform mixture) in the generation's game; "
                         "diversity: mean pairwise Jensen-Shannon divergence of the members' greedy actions on "
                         "fixed market states")
    writer.section("Lineage and hyper-parameters")
    writer.figure(pbt_plots.lineage(np.asarray(r["parents"]), fit), "lineage",
                  caption="Member slots over generations, coloured by fitness; red: a copy at the start of the "
                          "generation (exploit), then explore.")
    writer.figure(pbt_plots.hyperparameters(r["hyperparameters"], log), "hyperparameters",
                  caption="Each member's hyper-parameters per generation (width: inherited, never perturbed).")
    copies = r["lineage"]["copies"]
    writer.table(["generation", "member", "copied", "hyper-parameters after explore"],
                 [[c["generation"], c["member"], c["source"],
                   ", ".join(f"{k}={v:.4g}" for k, v in sorted(c["after"].items()))] for c in copies],
                 caption="Every copy (exploit) and the explored values")
    g = r["final_game"]
    names = g["strategies"]
    writer.section("The final population's empirical game")
    payoffs, sems = np.asarray(g["payoffs"]), np.asarray(g["standard_errors"])
    writer.table(["row \\ column"] + names,
                 [[names[i]] + [f"{payoffs[0, i, j]:.2f} ± {1.96 * sems[0, i, j]:.2f}" for j in range(len(names))]
                  for i in range(len(names))],
                 caption="The row strategy's mean payoff (± 95% half-width) against the column strategy")
    shown = g["equilibria"][:MAX_EQUILIBRIA_SHOWN]
    writer.table(["#", "profile (seat 0 ; seat 1)", "payoffs", "welfare", "Pareto among equilibria"],
                 [[k, " ; ".join(eq["description"]), " , ".join(f"{v:.2f}" for v in eq["payoffs"]), eq["welfare"],
                   "yes" if eq["pareto_among_equilibria"] else "no"] for k, eq in enumerate(shown)],
                 caption=f"Nash equilibria ({len(g['equilibria'])} found; first {len(shown)} shown)")
    writer.table(["strategy", "alpha-rank", "bootstrap support share"],
                 [[n, float(g["alpharank"][0][k]), float(g["bootstrap_support_frequency"][0][k])]
                  for k, n in enumerate(names)],
                 caption=f"Alpha-rank mass (Omidshafiei et al. 2019); share of {eff.bootstrap} payoff resamples "
                         "whose equilibrium uses the strategy (seat 0)")
    pareto = ["(" + ", ".join(names[i] for i in p) + ")" for p in g["pareto_pure"]]
    writer.text("Pareto-optimal pure profiles: " + (", ".join(pareto) or "none") + ".")
    e = r["exploitability"]
    writer.section("Learned best-response exploitability of the top member")
    writer.text(f"Member {e['member']} (the best of the last generation), frozen in seat 1; a fresh IDQN trained "
                f"{e['steps']:,} env steps against it in seat 0 earns {_fmt(e['response_payoff'])}, the member itself "
                f"in seat 0 earns {_fmt(e['member_payoff'])} on the same {e['episodes']:,} markets; gain "
                f"{_fmt(e['gain'])} (95% Student-t, paired by market). A gain above zero means the member is "
                "exploitable by a learned response.")
    share = np.array([[t["train_seconds"], t["eval_seconds"]] for t in r["timings"]]).sum(axis=0)
    writer.text(f"Time: training {share[0]:.0f} s, evaluation {share[1]:.0f} s "
                f"({share[1] / max(share.sum(), 1e-9):.0%} evaluation).")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"opponents": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
