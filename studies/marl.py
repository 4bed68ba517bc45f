"""Multi-agent learners in the market against the rule-based population: do IDQN and MADDPG beat the rule traders?

``python -m studies marl [--algo idqn|maddpg|all] [--quick] [--seed S] [--seeds N] [--steps T] [--out DIR]``

Each learner (:class:`solvers.marl.IndependentDQN`, :class:`solvers.marl.MADDPG`) plays seat 0 of a 2-player
``python_lob_market`` in ``num_envs`` batched markets; market ``b``'s other seat is the rule trader
``opponents[b % K]`` (:class:`solvers.marl.opponents.RuleOpponentsEnv`), so it trains against the whole population
at once. After ``steps`` env steps its greedy policy plays ``eval_episodes`` episodes of fresh markets (the same
markets for every policy of a seed: paired comparisons) against each rule trader type. Baselines in seat 0 on the
same markets: the uniform random policy, the untrained network (the same learner before training) and each rule
trader itself. Every number is a mean over ``seeds`` independent seeds (each seeds its learner, its training
markets and its evaluation markets) with a 95% Student-t interval over the seeds.

Verdict: a learner beats the rule population when its mean PnL (over all opponent types) minus the mean PnL of the
rule traders in seat 0 (averaged over the trader types, against the same opponents) has a 95% interval above zero.

Learning curves: each learner's training-episode returns (exploring, against the rule population) averaged in
bins of env steps on one grid for all seeds, with 95% intervals over the seeds; the random policy's and the rule
population's evaluation PnL as reference lines (``learning_curves.png``).

Which strategies survive: the empirical game (:class:`solvers.empirical.EmpiricalGame`, Wellman 2006) of the trained
learners of seed 0 (as OpenSpiel policies, :meth:`solvers.marl.IndependentDQN.policy`) plus the rule trader types,
each player choosing from that list, sampled with the OpenSpiel loop for ``game_episodes`` episodes per profile;
then its Nash equilibria, Pareto-optimal pure profiles, alpha-rank (Omidshafiei et al. 2019) and a bootstrap of
the equilibrium supports (:func:`studies.meta_game.analyse`). A strategy survives when it is in the support of an
equilibrium.

Market quality with and without the learners (:func:`studies.market_run.market_quality`): ``quality_episodes``
OpenSpiel episodes with seat 1 cycling through the rule trader types and seat 0 either a rule trader (cycling
through every pair of types: the rule traders only) or a trained learner of seed 0 (greedy); every condition plays
the same chance draws episode by episode.

Not in this study (issue 10 item 6, still open): learned best responses against the learned agents.
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
import pyspiel

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.envs.spaces import scale_observations
from marketgames.market.population import sample_rows
from marketgames.traders import make_trader, parse_spec
from solvers.empirical import EmpiricalGame
from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig, MADDPGConfig
from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat
from solvers.rl.dqn import DQNConfig

from . import marl_plots
from .cli import run_cli
from .curves import binned_curve, curve_bands, curve_grid, interval
from .market_run import QUALITY_ROWS, market_quality, parse_population, run_episode
from .meta_game import analyse
from .report import ReportWriter, default_run_dir
from .validate import (
    check_bool,
    check_choice,
    check_int,
    check_optional_str,
    check_seed,
)

logger = logging.getLogger(__name__)

STUDY = "marl"
ALGOS = ("idqn", "maddpg")
MAX_EQUILIBRIA_SHOWN = 12


@dataclass
class Config:
    """Configuration of the MARL study.

    Attributes:
        algo: ``"idqn"``, ``"maddpg"`` or ``"all"``.
        opponents: rule trader specs of seat 1 (``marketgames.traders.make_trader``); market ``b`` seats
            ``opponents[b % len(opponents)]``.
        steps: env steps of training per learner and seed (one env step = one market playing one round).
        rounds: rounds per episode.
        num_envs: markets trained and evaluated at once.
        eval_episodes: evaluation episodes per market (``num_envs * eval_episodes`` episodes per policy and seed).
        game_episodes: episodes per profile of the empirical game of learners and rule traders (OpenSpiel loop).
        bootstrap: bootstrap replicates of the empirical game's equilibrium supports.
        quality_episodes: episodes per condition (rule traders only; each learner in seat 0) of the market-quality
            comparison.
        seeds: independent seeds (the intervals are over these; at least 2).
        seed: seed ``k`` of the study is child ``k`` of ``SeedSequence(seed)``.
        out: report folder (default ``reports/marl-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (2 seeds, 20,000 steps, 1 evaluation episode, 4 episodes per profile of the
            empirical game, 10 bootstrap replicates, 10 market-quality episodes).
    """

    algo: str = "all"
    opponents: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")
    steps: int = 200_000
    rounds: int = 20
    num_envs: int = 250
    eval_episodes: int = 4
    game_episodes: int = 50
    bootstrap: int = 50
    quality_episodes: int = 100
    seeds: int = 3
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        self.opponents = tuple(self.opponents)
        check_choice("algo", self.algo, (*ALGOS, "all"))
        if not self.opponents or not all(isinstance(s, str) for s in self.opponents):
            raise ValueError(f"opponents={self.opponents!r} is not allowed: expected at least one trader spec")
        for spec in self.opponents:
            parse_spec(spec)
        check_int("steps", self.steps, 1)
        check_int("rounds", self.rounds, 1)
        check_int("num_envs", self.num_envs, 1)
        check_int("eval_episodes", self.eval_episodes, 1)
        check_int("game_episodes", self.game_episodes, 2)
        check_int("bootstrap", self.bootstrap, 1)
        check_int("quality_episodes", self.quality_episodes, 2)
        check_int("seeds", self.seeds, 2)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, seeds=2, steps=min(self.steps, 20_000), eval_episodes=1,
                                   game_episodes=min(self.game_episodes, 4), bootstrap=min(self.bootstrap, 10),
                                   quality_episodes=min(self.quality_episodes, 10))


# ---------------------------------------------------------------------------------------------------- learners
def make_learner(algo: str, env: RuleOpponentsEnv, seed: np.random.SeedSequence, steps: int
                 ) -> IndependentDQN | MADDPG:
    """The study's learner: the throughput benchmark's settings (``benchmarks/bench_marl.py``); learning starts
    after ``min(2048, steps // 4)`` transitions."""
    warm = min(2_048, steps // 4)
    if algo == "idqn":
        dqn = DQNConfig(hidden=(64, 64), learning_rate=1e-3, batch_size=512, replay_capacity=200_000,
                        min_buffer=warm, target_update_every=50, epsilon_start=1.0, epsilon_end=0.05,
                        epsilon_decay_steps=100_000, discount=0.95, optimizer="adam")
        return IndependentDQN(env, IndependentDQNConfig(dqn=dqn, env_steps_per_update=256), seed=seed)
    return MADDPG(env, MADDPGConfig(batch_size=1024, min_buffer=warm, replay_capacity=200_000,
                                    env_steps_per_update=256), seed=seed)


def _summary(pnl: np.ndarray, other: np.ndarray, index: np.ndarray, k: int) -> dict[str, float]:
    """One seed's measures against opponent ``k``: mean PnL, Sharpe (mean / std per episode), win rate (PnL > 0),
    and the mean PnL of seat 1."""
    p = pnl[:, index == k].ravel()
    std = p.std(ddof=1) if p.size > 1 else 0.0
    return {"pnl": float(p.mean()), "sharpe": float(p.mean() / std) if std > 0 else np.nan,
            "win_rate": float(np.mean(p > 0)), "opponent_pnl": float(other[:, index == k].mean())}


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "MARL study: IDQN and MADDPG against the rule traders", overwrite=eff.overwrite) as w:
        results = _run(eff, w)
    results["out"] = str(out)
    return results


def _run(eff: Config, writer: ReportWriter) -> dict[str, Any]:
    game = pyspiel.load_game(f"python_lob_market(players=2,steps={eff.rounds})")
    opponents = [make_trader(spec, game, player_ids=[1]) for spec in eff.opponents]
    as_seat0 = [make_trader(spec, game, player_ids=[0]) for spec in eff.opponents]
    names = [t.name for t in opponents]
    algos = list(ALGOS) if eff.algo == "all" else [eff.algo]
    per_seed: dict[str, list[list[dict[str, float]]]] = {}  # policy -> seed -> opponent -> measures
    curves: dict[str, list[np.ndarray]] = {a: [] for a in algos}
    edges = curve_grid(eff.steps, eff.num_envs * eff.rounds)
    final: dict[str, IndependentDQN | MADDPG] = {}  # seed 0's trained learners, for the empirical game
    root = np.random.SeedSequence(eff.seed)
    start = time.perf_counter()
    for s, child in enumerate(root.spawn(eff.seeds)):
        train_seed, eval_seed, policy_seed = child.spawn(3)
        # one SeedSequence per learner, made whichever learners run (a learner spawns from its seed: not shared)
        learner_seeds = dict(zip(ALGOS, train_seed.spawn(len(ALGOS))))
        rng = np.random.default_rng(policy_seed)

        def evaluate(act, eval_seed=eval_seed) -> list[dict[str, float]]:
            env = RuleOpponentsEnv(game, opponents, eff.num_envs, seed=eval_seed)
            pnl, other = evaluate_seat(env, act, eff.eval_episodes)
            return [_summary(pnl, other, env.opponent_index, k) for k in range(len(opponents))]

        def record(name: str, rows: list[dict[str, float]]) -> None:
            per_seed.setdefault(name, []).append(rows)

        record("random", evaluate(lambda env, obs, rng=rng: rng.integers(0, game.num_distinct_actions(), len(obs))))
        for trader in as_seat0:
            record(f"rule: {trader.name}",
                   evaluate(lambda env, obs, t=trader, rng=rng: sample_rows(t.probabilities(env.int_obs[:, 0]),
                                                                            rng.random(env.num_envs))))
        for algo in algos:
            learner = make_learner(algo, RuleOpponentsEnv(game, opponents, eff.num_envs, seed=train_seed),
                                   learner_seeds[algo], eff.steps)
            record(f"{algo} untrained", evaluate(lambda env, obs, a=learner: a.act([obs])[0]))
            log = learner.train(eff.steps)
            curves[algo].append(binned_curve(log.episode_returns[:, 0], log.episode_end_steps, edges))
            if s == 0:
                final[algo] = learner
            record(f"{algo} trained", evaluate(lambda env, obs, a=learner: a.act([obs])[0]))
            logger.info("seed %d: %s trained for %d env steps (%.0f s so far)", s, algo, eff.steps,
                        time.perf_counter() - start)
    training_time = time.perf_counter() - start
    game_seed, quality_seed = root.spawn(2)
    game_results = empirical_game(eff, game, final, game_seed)
    quality = quality_with_and_without(eff, game, final, quality_seed)
    elapsed = time.perf_counter() - start

    table = {name: [{m: interval([seeds[k][m] for seeds in rows]) for m in rows[0][k]} for k in range(len(names))]
             for name, rows in per_seed.items()}
    overall = {name: interval([float(np.mean([r["pnl"] for r in seeds])) for seeds in rows])
               for name, rows in per_seed.items()}
    rule_names = [f"rule: {t.name}" for t in as_seat0]
    rule_average = [np.mean([np.mean([r["pnl"] for r in per_seed[n][s]]) for n in rule_names])
                    for s in range(eff.seeds)]
    seed_means = {name: np.array([np.mean([r["pnl"] for r in seeds]) for seeds in rows])
                  for name, rows in per_seed.items()}
    best_rule = max(rule_names, key=lambda n: seed_means[n].mean())
    verdict = {}
    for algo in algos:
        learned = seed_means[f"{algo} trained"]
        diff = interval(learned - np.asarray(rule_average))
        # paired over seeds (same evaluation markets): the learned agent minus each baseline
        paired = {name: interval(learned - seed_means[name])
                  for name in ("random", f"{algo} untrained", best_rule)}
        verdict[algo] = {"advantage": diff, "beats_rule_population": bool(diff[1] > 0), "vs_baselines": paired}
    results: dict[str, Any] = {
        "study": STUDY, "config": dataclasses.asdict(eff), "game_string": str(game), "opponents": names,
        "per_opponent": table, "overall_pnl": overall, "rule_population_pnl": interval(rule_average),
        "verdict": verdict, "curve_steps": edges[1:], "curves": {a: np.array(c) for a, c in curves.items()},
        "empirical_game": game_results, "market_quality": quality, "training_seconds": training_time,
        "seconds": elapsed,
    }
    _write_report(writer, eff, results, names)
    writer.write(results)
    return results


# ---------------------------------------------------------------------------------------------------- empirical game
def empirical_game(eff: Config, game: pyspiel.Game, learners: dict[str, IndependentDQN | MADDPG],
                   seed: np.random.SeedSequence) -> dict[str, Any]:
    """The empirical game of ``learners`` (seat-0 agents as OpenSpiel policies; in seat 1 they read seat 1's
    observation) plus the rule trader types, both players choosing from that one list, and its analysis."""
    payoff_seed, boot_seed = seed.spawn(2)
    strategies: list[Any] = [learner.policy(game, 0) for learner in learners.values()]
    traders = [make_trader(spec, game) for spec in eff.opponents]
    strategies += traders
    short = [t.name for t in traders]
    # trader names label the strategies; their full specs only when two types share a name
    names = list(learners) + (short if len(set(short)) == len(short) else [t.spec for t in traders])
    start = time.perf_counter()
    # the OpenSpiel loop, serial: a few thousand episodes take seconds here
    egame = EmpiricalGame(game, [strategies, strategies], names=[names, names], seed=payoff_seed)
    episodes = egame.sample(min_samples=eff.game_episodes, batch_size=eff.game_episodes)
    analysis = analyse(egame.payoffs, egame.standard_errors, names, bootstrap=eff.bootstrap, seed=boot_seed)
    supports = [sorted({k for eq in analysis["equilibria"] for k in eq["support"][p]}) for p in range(2)]
    survivors = [names[k] for k in sorted(set(supports[0]) | set(supports[1]))]
    return {
        "strategies": names, "specs": list(learners) + [t.spec for t in traders], "learners": list(learners),
        "episodes_simulated": episodes,
        "seconds": time.perf_counter() - start,
        "payoffs": egame.payoffs, "standard_errors": egame.standard_errors,
        "equilibria": analysis["equilibria"], "pareto_pure": analysis["pareto_pure"],
        "alpharank": analysis["alpharank"].marginals,
        "bootstrap_support_frequency": analysis["bootstrap"].support_frequency,
        "bootstrap_failures": analysis["bootstrap"].failures,
        "survivors": survivors, "surviving_learners": [n for n in survivors if n in learners],
    }


# ---------------------------------------------------------------------------------------------------- market quality
class GreedyTrader:
    """A trained learner's greedy seat-0 policy with a rule trader's interface (``probabilities(int_obs)``, one-hot),
    for :func:`studies.market_run.run_episode`: it sees the float observations it was trained on."""

    def __init__(self, game: pyspiel.Game, learner: IndependentDQN | MADDPG) -> None:
        self.game, self.learner = game, learner
        self.num_actions = game.num_distinct_actions()
        self._observer = game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False))

    def probabilities(self, int_obs: np.ndarray) -> np.ndarray:
        actions = self.learner.act([scale_observations(self.game, int_obs, self._observer)])[0]
        out = np.zeros((len(actions), self.num_actions))
        out[np.arange(len(actions)), actions] = 1.0
        return out


def quality_with_and_without(eff: Config, game: pyspiel.Game, learners: dict[str, IndependentDQN | MADDPG],
                             seed: np.random.SeedSequence) -> dict[str, dict[str, Any]]:
    """Market quality of ``quality_episodes`` episodes per condition: seat 1 plays rule type ``e mod K`` in
    episode ``e``; seat 0 plays rule type ``(e // K) mod K`` (rule traders only) or a learner. Episode ``e`` uses
    the same seed in every condition."""
    traders = [make_trader(spec, game) for spec in eff.opponents]
    k = len(traders)
    seat0: dict[str, list[Any]] = {"rule traders only": [traders[(e // k) % k] for e in range(eff.quality_episodes)]}
    for algo, learner in learners.items():
        seat0[f"{algo} in seat 0"] = [GreedyTrader(game, learner)] * eff.quality_episodes
    seeds = seed.spawn(eff.quality_episodes)
    out = {}
    for condition, players in seat0.items():
        records = [run_episode(game, [players[e], traders[e % k]], np.random.default_rng(seeds[e]))
                   for e in range(eff.quality_episodes)]
        out[condition] = market_quality({key: np.stack([r[key] for r in records]) for key in records[0]})
    return out


def _fmt(ci: tuple[float, float, float]) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def _write_report(writer: ReportWriter, eff: Config, results: dict[str, Any], names: list[str]) -> None:
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
    writer.section("Market quality with and without the learners")
    quality = results["market_quality"]
    writer.table(["measure"] + list(quality),
                 [[label] + [f"{q[key]:.3f} ± {1.96 * q[f'{key}_sem']:.3f}" for q in quality.values()]
                  for key, label in QUALITY_ROWS],
                 caption=f"{eff.quality_episodes} episodes per condition (seat 1 cycles through the rule traders; "
                         "the same chance draws in every condition); mean per episode ± 95% half-width")


def _write_game_report(writer: ReportWriter, eff: Config, g: dict[str, Any]) -> None:
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


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"opponents": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
