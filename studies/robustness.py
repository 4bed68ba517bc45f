"""Robustness of market strategies: held-out opponents, manipulators and learned adversaries.

``python -m studies robustness [--quick] [--seed S] [--seeds N] [--steps T] [--out DIR]``

Strategies (seat 0 of a 2-player ``python_lob_market``): the rule traders ``strategies``; an **independent
learner** (IDQN, :func:`solvers.robustness.robust_trader.train_independent_trader`) trained ``steps`` env steps
against the rule ``population``; the **robust trader** (:func:`solvers.robustness.robust_trader.train_robust_trader`)
trained for the same ``steps`` against the population, the ``train_manipulators`` and learned adversaries of itself
(adversarial training, ``generations`` phases); a **self-play** agent (one IDQN with shared parameters in both seats,
same ``steps``; ``self_play=False`` drops it); and the **PSRO meta-strategy**: the Nash mixture of the empirical game
(:class:`solvers.empirical.EmpiricalGame`, batched engine) of all the strategies above, i.e. PSRO's meta-solver step
on this population (the market's tree is far too large for PSRO's exact oracle).

Opponents (seat 1): ``held_out`` rule traders that no strategy trained against; ``manipulators`` (variants not used
in training, plus h18's ``registered_manipulators`` when the trader registry has them); and two **learned
adversaries** per strategy, trained ``adversary_steps`` env steps against it: a selfish best response (its own PnL)
and a spiteful one (rewarded with minus the strategy's PnL; :mod:`solvers.robustness.adversary`). The PSRO mixture's
adversaries train against its members in proportion to its weights.

Every cell: mean PnL of the strategy over ``eval_episodes`` markets (the same markets for every strategy of a seed:
paired), then a 95% Student-t interval over ``seeds`` seeds. The strategy plays seat 0 against the rule opponents and
seat 1 against its learned adversaries (they train in seat 0 of :class:`solvers.marl.opponents.RuleOpponentsEnv` and
are evaluated where they trained). Worst case: per seed, the minimum over opponents; average:
per seed, the mean over opponents; both then over the seeds. Exploitability by adversary: the adversary's gain in its
objective over the strategy's self-play profile. Market-quality damage of each manipulator:
:func:`solvers.robustness.damage.market_damage` (paired with and without it, against the first held-out type).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyspiel
import torch

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.traders import TRADERS, make_trader, parse_spec
from solvers.empirical import EmpiricalGame
from solvers.equilibrium.meta_solvers import meta_solver
from solvers.marl import IndependentDQN
from solvers.marl.best_response import market_idqn_config
from solvers.robustness import (Estimate, MarketAdversaryConfig, best_response_adversary, evaluate_against,
                                payoff_estimate, train_market_adversary)
from solvers.robustness.evaluate import child_seed
from solvers.robustness.robust_trader import RobustTraderConfig, train_independent_trader, train_robust_trader

from . import robustness_plots
from .cli import run_cli
from .market_run import parse_population
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_int, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "robustness"
OBJECTIVES = ("selfish", "spiteful")
DAMAGE_ROWS = (("efficiency_abs_error", "abs(mid - fundamental)"), ("price_bias", "mid - fundamental"),
               ("spread", "spread"), ("top_depth", "depth at the touch"), ("volatility", "volatility"),
               ("others_surplus", "others' surplus"), ("total_surplus", "total surplus"))


@dataclass
class Config:
    """Configuration of the robustness study.

    Attributes:
        strategies: rule trader specs evaluated in seat 0.
        population: rule traders both learners train against (seat 1).
        train_manipulators: manipulators added to the robust trader's training pool.
        held_out: rule trader specs no strategy trained against (opponents).
        manipulators: manipulator specs used as opponents (variants not used in training).
        registered_manipulators: further manipulators by registry name, used when registered (else skipped).
        steps: env steps of training of each learner (independent, robust, self-play).
        generations: the robust trader's training phases (a learned adversary joins its pool after each but the last).
        train_adversary_steps: env steps of each adversary inside the robust trader's training.
        adversary_steps: env steps of each evaluation adversary (selfish and spiteful, per strategy and seed).
        self_play: include the self-play agent.
        psro: include the PSRO meta-strategy (Nash of the empirical game of the strategies).
        game_episodes: episodes per profile of that empirical game.
        rounds: rounds per episode.
        num_envs: markets trained at once.
        eval_episodes: markets per strategy and opponent at evaluation.
        damage_episodes: paired episodes per manipulator of the market-quality damage.
        seeds: independent seeds (>= 2; the intervals are over these).
        seed: seed ``k`` of the study is child ``k`` of ``SeedSequence(seed)``.
        out: report folder (default ``reports/robustness-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (2 seeds, 10 rounds, 32 markets, 2,560 steps, 2 generations, tiny adversaries).
    """

    strategies: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "zi", "noise")
    population: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "noise")
    train_manipulators: tuple[str, ...] = ("spoofer", "pump_and_dump")
    held_out: tuple[str, ...] = ("zi", "mean_reversion", "market_maker(half_spread=2)")
    manipulators: tuple[str, ...] = ("spoofer(period=4)", "pump_and_dump(pump_rounds=3,dump_rounds=3)")
    registered_manipulators: tuple[str, ...] = ("layering", "predator")
    steps: int = 60_000
    generations: int = 3
    train_adversary_steps: int = 15_000
    adversary_steps: int = 15_000
    self_play: bool = True
    psro: bool = True
    game_episodes: int = 200
    rounds: int = 20
    num_envs: int = 250
    eval_episodes: int = 1_000
    damage_episodes: int = 1_000
    seeds: int = 3
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        for name in ("strategies", "population", "train_manipulators", "held_out", "manipulators",
                     "registered_manipulators"):
            value = tuple(getattr(self, name))
            setattr(self, name, value)
            if not all(isinstance(s, str) for s in value):
                raise ValueError(f"{name}={value!r} is not allowed: expected trader specs (strings)")
            for spec in value:
                parse_spec(spec)
        for name in ("population", "held_out"):
            if not getattr(self, name):
                raise ValueError(f"{name}=() is not allowed: expected at least one trader spec")
        check_int("steps", self.steps, 1)
        check_int("generations", self.generations, 1)
        check_int("train_adversary_steps", self.train_adversary_steps, 1)
        check_int("adversary_steps", self.adversary_steps, 1)
        check_int("game_episodes", self.game_episodes, 2)
        check_int("rounds", self.rounds, 1)
        check_int("num_envs", self.num_envs, 1)
        check_int("eval_episodes", self.eval_episodes, 2)
        check_int("damage_episodes", self.damage_episodes, 2)
        check_int("seeds", self.seeds, 2)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("self_play", "psro", "overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, seeds=2, rounds=10, num_envs=32, steps=min(self.steps, 2_560),
                                   generations=min(self.generations, 2),
                                   train_adversary_steps=min(self.train_adversary_steps, 640),
                                   adversary_steps=min(self.adversary_steps, 320), strategies=self.strategies[:2],
                                   game_episodes=min(self.game_episodes, 8), eval_episodes=min(self.eval_episodes, 64),
                                   damage_episodes=min(self.damage_episodes, 32))


# ---------------------------------------------------------------------------------------------------- strategies
def _traders(game: pyspiel.Game, specs: Sequence[str]) -> dict[str, Any]:
    """Rule traders labelled by their specs as given."""
    return {spec: make_trader(spec, game) for spec in specs}


def manipulator_specs(eff: Config) -> list[str]:
    """The manipulators used as opponents: ``manipulators`` plus the registered ones among
    ``registered_manipulators``."""
    extra = [s for s in eff.registered_manipulators if parse_spec(s)[0] in TRADERS]
    return list(eff.manipulators) + extra


def self_play_agent(game: pyspiel.Game, eff: Config, seed: np.random.SeedSequence) -> Any:
    """One IDQN with shared parameters playing both seats of the batched market for ``steps`` env steps; its seat-0
    greedy policy."""
    config = dataclasses.replace(market_idqn_config(eff.steps), share_parameters=True, num_envs=eff.num_envs)
    learner = IndependentDQN(game, config, seed=seed)
    learner.train(eff.steps)
    return learner.policy(game, 0)


def psro_meta_strategy(game: pyspiel.Game, strategies: dict[str, Any], episodes: int,
                       seed: np.random.SeedSequence) -> np.ndarray:
    """Seat 0's Nash mixture of the empirical game of ``strategies`` (both seats choose among them)."""
    members = list(strategies.values())
    names = list(strategies)
    egame = EmpiricalGame(game, [members, members], names=[names, names], seed=seed,
                          simulator=BatchedMarketSimulator())
    egame.sample(min_samples=episodes, batch_size=episodes)
    return np.asarray(meta_solver("nash")(egame.payoffs)[0], np.float64)


def _slots(weights: np.ndarray, members: list[Any], slots: int = 20) -> list[Any]:
    """``members`` repeated in proportion to ``weights`` (at least the largest once): a per-market mixture."""
    counts = np.round(weights / weights.sum() * slots).astype(int)
    if counts.sum() == 0:
        counts[int(np.argmax(weights))] = 1
    return [m for m, c in zip(members, counts) for _ in range(c)]


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    # one thread each: on a shared machine numba's parallel market kernel pays ~30 ms per step in thread
    # synchronisation with 2 threads, against 0.05 ms for 32 markets with one (restored afterwards)
    threads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        with ReportWriter(out, "Robustness: held-out opponents, manipulators and learned adversaries",
                          overwrite=eff.overwrite) as w:
            results = _run(eff, w)
    finally:
        torch.set_num_threads(threads[0])
        numba.set_num_threads(threads[1])
    results["out"] = str(out)
    return results


def _seed_run(eff: Config, game: pyspiel.Game, child: np.random.SeedSequence) -> dict[str, Any]:
    """One seed: train the learners, evaluate every strategy against every opponent and its adversaries."""
    train_seed, eval_seed, adversary_seed, game_seed, sample_seed = child.spawn(5)
    base_seed, robust_seed, self_seed = train_seed.spawn(3)
    population = [make_trader(s, game) for s in eff.population]
    manip_train = [make_trader(s, game) for s in eff.train_manipulators]
    strategies = _traders(game, eff.strategies)
    baseline = train_independent_trader(game, population, eff.steps, num_envs=eff.num_envs, seed=base_seed)
    strategies["independent learner"] = baseline.policy(game, 0)
    robust = train_robust_trader(game, population + manip_train, RobustTraderConfig(
        steps=eff.steps, generations=eff.generations, adversary_steps=eff.train_adversary_steps,
        num_envs=eff.num_envs), seed=robust_seed)
    strategies["robust trader"] = robust.trader
    if eff.self_play:
        strategies["self-play"] = self_play_agent(game, eff, self_seed)
    opponents = _traders(game, eff.held_out)
    kinds = {name: "held-out" for name in opponents}
    for name, trader in _traders(game, manipulator_specs(eff)).items():
        opponents[name] = trader
        kinds[name] = "manipulator"
    sim = BatchedMarketSimulator()
    adv_config = MarketAdversaryConfig(steps=eff.adversary_steps, num_envs=eff.num_envs)
    payoff: dict[str, dict[str, float]] = {}
    gain: dict[str, dict[str, float]] = {}
    samples: dict[str, np.ndarray] = {}
    for k, (name, strategy) in enumerate(strategies.items()):
        records = evaluate_against(game, strategy, opponents, name=name, episodes=eff.eval_episodes, simulator=sim,
                                   seed=eval_seed)
        payoff[name] = {r.opponent: r.payoff.mean for r in records}
        gain[name] = {}
        for j, o in enumerate(OBJECTIVES):
            rec = best_response_adversary(game, strategy, seat=1, objective=o, market=adv_config,
                                          episodes=eff.eval_episodes, simulator=sim,
                                          seed=child_seed(child_seed(adversary_seed, k), j), name=name)
            payoff[name][f"{o} adversary"] = rec.payoff.mean
            gain[name][o] = rec.gain.mean if rec.gain is not None else float("nan")
        rng = np.random.default_rng(sample_seed)  # the same markets for every strategy
        samples[name] = np.concatenate([sim.returns(game, [strategy, opp], eff.eval_episodes, rng)[:, 0]
                                        for opp in opponents.values()])
    weights = None
    if eff.psro:
        members = dict(strategies)
        weights = psro_meta_strategy(game, members, eff.game_episodes, game_seed)
        keep = [n for n, w in zip(members, weights) if w > 1e-9]
        w = np.array([x for x in weights if x > 1e-9])
        w /= w.sum()
        name = "PSRO meta-strategy"
        payoff[name] = {opp: float(sum(wk * payoff[m][opp] for wk, m in zip(w, keep))) for opp in opponents}
        gain[name] = {}
        for j, o in enumerate(OBJECTIVES):
            train_s, eval_s = child_seed(child_seed(adversary_seed, len(strategies)), j).spawn(2)
            adversary = train_market_adversary(game, _slots(w, [members[m] for m in keep]), objective=o,
                                               config=adv_config, seed=train_s)
            per = [payoff_estimate(game, [adversary, members[m]], 1, episodes=eff.eval_episodes, simulator=sim,
                                   seed=c) for m, c in zip(keep, eval_s.spawn(len(keep)))]
            payoff[name][f"{o} adversary"] = Estimate.combine(per, w).mean
            gain[name][o] = float("nan")  # measured for single strategies only
        rng = np.random.default_rng(game_seed.spawn(1)[0])  # the mixture's episodes: members' in proportion
        samples[name] = np.concatenate([rng.choice(samples[m], int(round(wk * len(samples[m])))) for m, wk in
                                        zip(keep, w)])
    return {"payoff": payoff, "gain": gain, "samples": samples, "kinds": kinds,
            "psro_weights": None if weights is None else dict(zip(list(strategies), weights.tolist())),
            "robust_objectives": robust.objectives, "adversary_env_steps": robust.adversary_env_steps}


def _run(eff: Config, writer: ReportWriter) -> dict[str, Any]:
    game = pyspiel.load_game(f"python_lob_market(players=2,steps={eff.rounds})")
    root = np.random.SeedSequence(eff.seed)
    start = time.perf_counter()
    runs = []
    for s, child in enumerate(root.spawn(eff.seeds)):
        runs.append(_seed_run(eff, game, child))
        logger.info("seed %d done (%.0f s)", s, time.perf_counter() - start)
    strategies = list(runs[0]["payoff"])
    opponents = list(runs[0]["payoff"][strategies[0]])
    kinds = {**runs[0]["kinds"], **{f"{o} adversary": "adversary" for o in OBJECTIVES}}
    table = {st: {op: Estimate.over_seeds([r["payoff"][st][op] for r in runs]) for op in opponents}
             for st in strategies}
    worst_seeds = {st: np.array([min(r["payoff"][st].values()) for r in runs]) for st in strategies}
    mean_seeds = {st: np.array([np.mean(list(r["payoff"][st].values())) for r in runs]) for st in strategies}
    adversarial = [op for op in opponents if kinds[op] == "adversary"]
    worst_adv = {st: np.array([min(r["payoff"][st][op] for op in adversarial) for r in runs]) for st in strategies}
    worst_rule = {st: np.array([min(v for op, v in r["payoff"][st].items() if op not in adversarial) for r in runs])
                  for st in strategies}
    summary = {st: {"worst": Estimate.over_seeds(worst_seeds[st]), "average": Estimate.over_seeds(mean_seeds[st]),
                    "worst_opponent": min(table[st], key=lambda op: table[st][op].mean),
                    "worst_adversarial": Estimate.over_seeds(worst_adv[st]),
                    "worst_rule": Estimate.over_seeds(worst_rule[st])} for st in strategies}
    gains = {st: {o: Estimate.over_seeds([r["gain"][st][o] for r in runs]) if np.isfinite(runs[0]["gain"][st][o])
                  else None for o in OBJECTIVES} for st in strategies}
    comparison: dict[str, Any] = {"worst_difference": Estimate.over_seeds(worst_seeds["robust trader"]
                                                          - worst_seeds["independent learner"]),
                  "average_difference": Estimate.over_seeds(mean_seeds["robust trader"]
                                                            - mean_seeds["independent learner"])}
    comparison["adversarial_worst_difference"] = Estimate.over_seeds(worst_adv["robust trader"]
                                                                     - worst_adv["independent learner"])
    comparison["robust_better_worst_case"] = bool(comparison["worst_difference"].low > 0)
    damage = _damage(eff, game, root.spawn(eff.seeds + 1)[-1])
    elapsed = time.perf_counter() - start
    results: dict[str, Any] = {
        "study": STUDY, "config": dataclasses.asdict(eff), "game_string": str(game), "strategies": strategies,
        "opponents": opponents, "opponent_kinds": kinds,
        "table": {st: {op: dataclasses.asdict(e) for op, e in row.items()} for st, row in table.items()},
        "summary": {st: {k: dataclasses.asdict(e) if isinstance(e, Estimate) else e for k, e in v.items()}
                    for st, v in summary.items()},
        "exploitability": {st: {o: None if e is None else dataclasses.asdict(e) for o, e in row.items()}
                           for st, row in gains.items()},
        "robust_vs_independent": {k: dataclasses.asdict(v) if isinstance(v, Estimate) else v
                                  for k, v in comparison.items()},
        "psro_weights": [r["psro_weights"] for r in runs], "damage": damage, "seconds": elapsed,
        "robust_adversary_objectives": runs[0]["robust_objectives"],
        "robust_adversary_env_steps": runs[0]["adversary_env_steps"],
    }
    _write_report(writer, eff, results, table, summary, gains, comparison, runs[0]["samples"])
    writer.write(results)
    return results


def _damage(eff: Config, game: pyspiel.Game, seed: np.random.SeedSequence) -> dict[str, Any] | None:
    """Market-quality damage of each manipulator against the first held-out type (``None`` without h18's
    :mod:`solvers.robustness.damage`)."""
    try:
        from solvers.robustness.damage import market_damage
    except ImportError:  # pragma: no cover  (the damage function arrives with another branch)
        return None
    out = {}
    for spec, child in zip(manipulator_specs(eff), seed.spawn(len(manipulator_specs(eff)))):
        d = market_damage(game, [eff.held_out[0]], spec, seat=1, episodes=eff.damage_episodes, seed=child)
        out[spec] = {key: dataclasses.asdict(d[key]) for key, _ in DAMAGE_ROWS}
    return out


# ---------------------------------------------------------------------------------------------------- report
def _write_report(writer: ReportWriter, eff: Config, results: dict[str, Any], table: dict[str, dict[str, Estimate]],
                  summary: dict[str, dict[str, Any]], gains: dict[str, dict[str, Estimate | None]],
                  comparison: dict[str, Any], samples: dict[str, np.ndarray]) -> None:
    strategies, opponents, kinds = results["strategies"], results["opponents"], results["opponent_kinds"]
    writer.text(f"Game `{results['game_string']}`; {eff.seeds} seeds; {eff.steps:,} training env steps per learner; "
                f"{eff.eval_episodes:,} evaluation markets per cell; evaluation adversaries trained "
                f"{eff.adversary_steps:,} env steps each; {results['seconds']:.0f} s in all. Intervals: 95% "
                "Student-t over seeds.")
    d = comparison
    verdict = "better" if d["robust_better_worst_case"] else "not better (its interval includes or is below zero)"
    writer.section("Robust trader against the independent learner")
    writer.text(f"Worst case over held-out, manipulating and adversarial opponents: robust trader "
                f"{summary['robust trader']['worst']} vs independent learner "
                f"{summary['independent learner']['worst']}; paired difference {d['worst_difference']}: **{verdict}**. "
                f"Worst case over the learned adversaries alone: difference {d['adversarial_worst_difference']}. "
                f"Average: difference {d['average_difference']} (the cost, if negative). The robust trader trained "
                f"for the same {eff.steps:,} env steps, against the population, the manipulators "
                f"{', '.join(eff.train_manipulators)} and {eff.generations - 1} learned adversaries "
                f"({', '.join(results['robust_adversary_objectives'])}; {results['robust_adversary_env_steps']:,} "
                "extra env steps of adversary training).")
    writer.section("Worst case and average per strategy")
    writer.table(["strategy", "worst case [95% CI]", "worst opponent", "worst held-out / manipulator",
                  "worst learned adversary", "average [95% CI]"],
                 [[st, str(summary[st]["worst"]), summary[st]["worst_opponent"], str(summary[st]["worst_rule"]),
                   str(summary[st]["worst_adversarial"]), str(summary[st]["average"])] for st in strategies],
                 caption="Per seed the minimum (worst case) and mean (average) over the opponents, then over seeds")
    writer.section("Mean PnL against each opponent")
    writer.table(["strategy \\ opponent"] + [f"{op} ({kinds[op]})" for op in opponents],
                 [[st] + [str(table[st][op]) for op in opponents] for st in strategies],
                 caption="Mean PnL per episode of the strategy in seat 0 [95% CI over seeds]")
    means = np.array([[table[st][op].mean for op in opponents] for st in strategies])
    writer.figure(robustness_plots.heat_map(means, strategies, opponents), "heat_map",
                  caption="Mean PnL of each strategy (rows) against each opponent (columns), over seeds")
    writer.figure(robustness_plots.distributions(samples), "payoff_distributions",
                  caption="Per-episode PnL of each strategy against the held-out types and manipulators (seed 0)")
    writer.section("Exploitability by adversary")
    writer.table(["strategy"] + [f"{o} adversary's gain" for o in OBJECTIVES],
                 [[st] + [str(gains[st][o]) if gains[st][o] is not None else "-" for o in OBJECTIVES]
                  for st in strategies],
                 caption="A learned adversary's gain in its objective over the strategy's self-play profile (selfish: "
                         "its own PnL; spiteful: the strategy's loss); a lower bound on the best response's")
    if results["psro_weights"][0] is not None:
        w = results["psro_weights"][0]
        writer.text("PSRO meta-strategy (seed 0): " + ", ".join(f"{k} {v:.2f}" for k, v in w.items() if v > 1e-9)
                    + ".")
    writer.text("Self-play hook: any further agent joins the strategies in `_seed_run` (a name and an OpenSpiel "
                "policy); the self-play agent here is a parameter-shared IDQN in both seats.")
    damage = results["damage"]
    if damage:
        writer.section("Market-quality damage per manipulator")
        writer.table(["measure"] + list(damage),
                     [[label] + [f"{damage[m][key]['difference']:.3f} [{damage[m][key]['ci_low']:.3f}, "
                                 f"{damage[m][key]['ci_high']:.3f}]" for m in damage] for key, label in DAMAGE_ROWS],
                     caption=f"With the manipulator in seat 1 minus an idle seat 1, against {eff.held_out[0]} in "
                             f"seat 0; {eff.damage_episodes:,} paired episodes (95% CI)")


def cli(argv: Sequence[str] | None = None) -> int:
    converters = {name: parse_population for name in ("strategies", "population", "train_manipulators", "held_out",
                                                      "manipulators", "registered_manipulators")}
    return run_cli(STUDY, __doc__, Config, main, argv, converters=converters)


if __name__ == "__main__":
    raise SystemExit(cli())
