"""Which trader types survive competition: an empirical game of rule-based traders in ``python_lob_market``.

Every seat of a symmetric market draws its trader from one population of types and parameter variants. Payoffs of
every profile are estimated by simulation with confidence intervals (:class:`solvers.empirical.EmpiricalGame`),
then the meta-game is solved: all Nash equilibria with their supports and regrets, the Pareto frontier over pure
profiles and over the equilibria, welfare, alpha-rank (Omidshafiei et al. 2019), the best-response graph and its
sink components, a bootstrap of equilibrium supports over payoff noise, and the market quality at each equilibrium
(volatility, spread, price efficiency, liquidity, order-flow balance).

Payoffs are simulated on the batched engine by default (``--simulator batched``: thousands of markets stepped at
once by the compiled rules, ~30x the episodes per second of the OpenSpiel loop); ``--simulator openspiel`` walks
OpenSpiel states instead. Both play the same game; their numbers differ only by sampling noise.

Run: ``python -m studies equilibria [--seed N] [--out DIR] [--overwrite] [--quick] [--workers K]
[--simulator batched|openspiel]``.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pyspiel

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.seeding import seed_sequence
from marketgames.traders import make_trader, parse_spec
from solvers.empirical import EmpiricalGame
from marketgames.market import MarketConfig
from studies import equilibria_plots as plots
from studies.cli import run_cli
from studies.market_run import QUALITY_ROWS, market_quality, parse_market_overrides, parse_population, run_episode
from studies.meta_game import analyse
from studies.report import ReportWriter, default_run_dir
from studies.validate import check_bool, check_choice, check_int, check_number, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "equilibria"
SIMULATORS = ("batched", "openspiel")


@dataclass
class Config:
    """Configuration of the equilibria study.

    Attributes:
        population: the strategy set shared by every seat: trader specs (``marketgames.traders.make_trader``; on
            the command line each value may hold several comma-separated specs).
        players: seats in the market (the game is symmetric: cells are multisets of strategies).
        market: market parameter overrides, as in the market study (``"price_levels=61,shock_prob=0.3"``).
        steps: rounds per episode.
        samples: episodes per profile at least; with ``target_half_width`` more until each 95% CI is that narrow.
        target_half_width: CI half-width to reach per cell (PnL units), or ``None`` for exactly ``samples``.
        max_samples: cap on episodes per profile under adaptive sampling.
        quality_episodes: episodes simulated at each equilibrium to measure market quality.
        bootstrap: bootstrap replicates of the equilibrium support.
        workers: local worker processes for payoff estimation (the numbers do not depend on it).
        simulator: ``"batched"`` (the batched engine, :class:`marketgames.market.payoffs.BatchedMarketSimulator`) or
            ``"openspiel"`` (one OpenSpiel episode at a time); same game, other random streams.
        batch_size: episodes per simulation task (the unit of work of a worker and of the seeds); default
            ``samples`` on the batched engine (large batches are what make it fast), ``min(samples, 50)`` otherwise.
        seed: the one seed: per-cell payoff samples, the bootstrap and the quality episodes derive from it.
        out: report folder (default ``reports/equilibria-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run.
        progress: show progress bars.
    """

    population: tuple[str, ...] = ("market_maker(half_spread=1)", "market_maker(half_spread=2)", "trend",
                                   "mean_reversion", "noise", "zi")
    players: int = 2
    market: str | Mapping[str, Any] = ""
    steps: int = 30
    samples: int = 1000
    target_half_width: float | None = None
    max_samples: int = 20000
    quality_episodes: int = 100
    bootstrap: int = 100
    workers: int = 2
    simulator: str = "batched"
    batch_size: int | None = None
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False
    progress: bool = True

    def effective(self) -> "Config":
        if not self.quick:
            return self
        return dataclasses.replace(self, population=self.population[:4], steps=min(self.steps, 10),
                                   samples=min(self.samples, 8), quality_episodes=min(self.quality_episodes, 6),
                                   bootstrap=min(self.bootstrap, 10), target_half_width=None)

    def __post_init__(self) -> None:
        self.population = tuple(self.population)
        for name, low in (("players", 2), ("steps", 1), ("samples", 2), ("quality_episodes", 1), ("bootstrap", 1),
                          ("workers", 1)):
            check_int(name, getattr(self, name), low)
        check_int("max_samples", self.max_samples, self.samples if isinstance(self.samples, int) else 2)
        check_int("batch_size", self.batch_size, 1, none=True)
        check_number("target_half_width", self.target_half_width, low=0.0, strict_low=True, none=True)
        check_choice("simulator", self.simulator, SIMULATORS)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick", "progress"):
            check_bool(name, getattr(self, name))
        if len(self.population) < 2 or not all(isinstance(p, str) for p in self.population):
            raise ValueError(f"population={self.population!r} is not allowed: expected at least 2 trader specs")
        for spec in self.population:
            parse_spec(spec)
        try:
            MarketConfig(players=self.players, steps=self.steps, **parse_market_overrides(self.market))
        except ValueError as exc:
            message = str(exc)
            raise ValueError(message if message.startswith("market=") else
                             f"market={self.market!r} is not allowed: {message}") from exc


# ---------------------------------------------------------------------------------------------------- analysis
def equilibrium_quality(game: Any, traders: Sequence[Any], profile: Sequence[np.ndarray], *, episodes: int,
                        seed: np.random.SeedSequence) -> dict[str, Any]:
    """Market quality when each seat draws its trader from its equilibrium mixture at the start of every episode.

    Order-flow balance: the players' net buying (sum of their final inventories) over the volume traded; positive
    when the players are net buyers from the background flow.
    """
    records = []
    for child in seed.spawn(episodes):
        rng = np.random.default_rng(child)
        seats = [traders[int(rng.choice(len(x), p=x / x.sum()))] for x in profile]
        records.append(run_episode(game, seats, rng))
    sim = {k: np.stack([r[k] for r in records]) for k in records[0]}
    quality = market_quality(sim)
    volume = sim["volume"].sum(1)
    balance = np.divide(sim["inventory"].sum(1), volume, out=np.full(volume.shape, np.nan), where=volume > 0)
    finite = balance[np.isfinite(balance)]
    quality["order_flow_balance"] = float(finite.mean()) if finite.size else float("nan")
    quality["order_flow_balance_sem"] = (float(finite.std(ddof=1) / np.sqrt(finite.size)) if finite.size > 1
                                         else float("nan"))
    return quality


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    mc = MarketConfig(players=eff.players, steps=eff.steps, **parse_market_overrides(eff.market))
    game = pyspiel.load_game(mc.game_string())
    traders = [make_trader(spec, game) for spec in eff.population]
    names = [t.spec for t in traders]
    short = [f"S{k}" for k in range(len(traders))]
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "Equilibria of rule-based traders in python_lob_market", overwrite=eff.overwrite) as writer:
        results = _run(eff, mc, game, traders, names, short, writer)
    results["out"] = str(out)
    return results


def _run(eff: Config, mc: MarketConfig, game: Any, traders: Sequence[Any], names: list[str], short: list[str],
         writer: ReportWriter) -> dict[str, Any]:
    root = seed_sequence(eff.seed)
    payoff_seed, boot_seed, quality_seed = root.spawn(3)

    start = time.perf_counter()
    simulator = BatchedMarketSimulator() if eff.simulator == "batched" else None
    egame = EmpiricalGame(game, traders, symmetric=True, names=names, seed=payoff_seed, imports=("marketgames",),
                          simulator=simulator)
    batch_size = eff.batch_size or (eff.samples if eff.simulator == "batched" else min(eff.samples, 50))
    episodes = egame.sample(min_samples=eff.samples, batch_size=batch_size,
                            target_half_width=eff.target_half_width, max_samples=eff.max_samples,
                            workers=eff.workers, progress=eff.progress)
    estimation_time = time.perf_counter() - start
    payoffs, sems = egame.payoffs, egame.standard_errors
    analysis = analyse(payoffs, sems, short, bootstrap=eff.bootstrap, seed=boot_seed)
    eq_seeds = quality_seed.spawn(len(analysis["equilibria"]))
    for eq, s in zip(analysis["equilibria"], eq_seeds):
        eq["market_quality"] = equilibrium_quality(game, traders, eq["profile"], episodes=eff.quality_episodes,
                                                   seed=s)
    elapsed = time.perf_counter() - start
    results = {
        "study": STUDY, "config": dataclasses.asdict(eff), "game_string": mc.game_string(),
        "strategies": names, "episodes_simulated": episodes,
        "payoffs": payoffs, "standard_errors": sems, "ci_low": egame.ci_low, "ci_high": egame.ci_high,
        "counts": egame.counts,
        "equilibria": analysis["equilibria"], "pareto_pure": analysis["pareto_pure"],
        "sink_components": analysis["sink_components"],
        # The game is symmetric: seat 0's marginals speak for every seat.
        "alpharank": {"marginal": analysis["alpharank"].marginals[0],
                      "single_population": analysis["alpharank"].single_population},
        "bootstrap_support_frequency": analysis["bootstrap"].support_frequency[0],
        "bootstrap_failures": analysis["bootstrap"].failures,
    }
    _write_report(writer, eff, results, analysis, egame, short, estimation_time, elapsed)
    writer.write(results)
    return results


def _write_report(writer: ReportWriter, eff: Config, results: dict[str, Any], analysis: dict[str, Any],
                  egame: EmpiricalGame, short: Sequence[str], estimation_time: float, elapsed: float) -> None:
    names = results["strategies"]
    writer.section("Setup")
    writer.text(f"A symmetric {eff.players}-player market `{results['game_string']}`; every seat picks one of "
                f"{len(names)} strategies. {results['episodes_simulated']} episodes simulated "
                f"({eff.samples}+ per profile) in {estimation_time:.1f} s with {eff.workers} worker(s) on the "
                f"{'batched engine' if eff.simulator == 'batched' else 'OpenSpiel loop'}; seed "
                f"{eff.seed}{' (quick run)' if eff.quick else ''}. Payoffs are final profits in ticks x lots, "
                "with 95% confidence intervals.")
    writer.table(["id", "strategy", "alpha-rank score", "bootstrap: share of equilibria using it"],
                 [[short[k], names[k], float(results["alpharank"]["marginal"][k]),
                   float(results["bootstrap_support_frequency"][k])] for k in range(len(names))])
    writer.section("Payoffs")
    writer.figure(plots.payoff_heatmap(egame.payoffs, egame.ci_high - egame.payoffs, short), "payoffs",
                  caption="Row player's mean payoff against the column player's strategy (± 95% CI half-width).")
    writer.section("Nash equilibria")
    rows = []
    for k, eq in enumerate(results["equilibria"]):
        rows.append([k, " ; ".join(eq["description"]), " , ".join(f"{v:.2f}" for v in eq["payoffs"]),
                     eq["welfare"], eq["regret"], "yes" if eq["pareto_among_equilibria"] else "no"])
    writer.table(["#", "profile (per seat)", "payoffs", "welfare", "regret", "Pareto among equilibria"], rows)
    writer.text("Every equilibrium is verified: its largest gain from a unilateral deviation (regret) is below "
                "the tolerance on the estimated payoffs. Sampling noise can move equilibria: see the bootstrap "
                "column above.")
    writer.section("Market quality at each equilibrium")
    writer.table(["measure"] + [f"eq {k}" for k in range(len(results["equilibria"]))],
                 [[label] + [eq["market_quality"][key] for eq in results["equilibria"]]
                  for key, label in QUALITY_ROWS + [("order_flow_balance",
                                                     "order-flow balance: players' net buying / volume")]])
    writer.section("Pareto frontier and response graph")
    pareto = ["(" + ", ".join(short[i] for i in p) + ")" for p in results["pareto_pure"]]
    writer.text("Pareto-optimal pure profiles: " + ", ".join(pareto) + ".")
    sinks = ["{" + " ".join("(" + ",".join(short[i] for i in p) + ")" for p in comp) + "}"
             for comp in results["sink_components"]]
    writer.text("Sink strongly connected components of the best-response graph (a singleton is a pure "
                "equilibrium): " + ", ".join(sinks) + ".")
    writer.figure(plots.response_graph_figure(analysis["graph"], short, results["sink_components"]),
                  "response_graph", caption="Best-response graph over pure profiles (row: seat 0's strategy, "
                  "column: seat 1's): from each profile, an arrow to each seat's best deviation when it gains; "
                  "sink components in red.")
    writer.text(f"Total run time {elapsed:.1f} s.")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"population": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
