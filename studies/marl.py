"""Multi-agent learners in the market against the rule-based population: do IDQN and MADDPG beat the rule traders?

``python -m studies marl [--algo idqn|maddpg|all] [--quick] [--seed S] [--seeds N] [--steps T] [--out DIR]``

Each learner (:class:`solvers.marl.IndependentDQN`, :class:`solvers.marl.MADDPG`) plays seat 0 of a 2-player
``python_lob_market`` in ``num_envs`` batched markets; market ``b``'s other seat is the rule trader
``opponents[b % K]`` (:class:`solvers.marl.opponents.RuleOpponentsEnv`), so it trains against the whole population
at once. After ``steps`` env steps its greedy policy plays ``eval_episodes`` episodes of fresh markets (the same
markets for every policy of a seed: paired comparisons) against each rule trader type. Baselines in seat 0 on the
same markets: the uniform random policy, the untrained network (the mean over ``untrained`` untrained networks of
the learner: the same learner before training and ``untrained - 1`` more initialisations, since untrained greedy
networks differ a lot from one initialisation to the next) and each rule trader itself. Every number is a mean over ``seeds`` independent seeds (each seeds its learner, its training
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

Approximate exploitability (:mod:`studies.marl_exploitability`): for every learner and seed, a fresh IDQN (the
study's settings) trains ``br_steps`` env steps in seat 0 against the frozen trained agent in seat 1 (its OpenSpiel
policy on the batched market); its greedy PnL against the frozen agent minus the agent's own PnL against itself
(self-play) is the gain, a lower bound on the agent's exploitability, with a 95% interval over the seeds; the same
against the best rule trader's PnL against the frozen agent.
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
from solvers.marl import MADDPG, IndependentDQN, MADDPGConfig
from solvers.marl.best_response import market_idqn_config
from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat

from .cli import run_cli
from .curves import binned_curve, curve_grid, interval
from .market_run import market_quality, parse_population, run_episode
from .marl_exploitability import best_response_gains
from .marl_report import write_report
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
        br_steps: env steps of training of each learned best response (0: no exploitability section).
        untrained: untrained networks per learner and seed whose mean is the untrained-network baseline.
        seeds: independent seeds (the intervals are over these; at least 2).
        seed: seed ``k`` of the study is child ``k`` of ``SeedSequence(seed)``.
        out: report folder (default ``reports/marl-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (2 seeds, 20,000 steps, 1 evaluation episode, 4 episodes per profile of the
            empirical game, 10 bootstrap replicates, 10 market-quality episodes, best responses of at most 10,000
            steps).
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
    br_steps: int = 50_000
    untrained: int = 4
    seeds: int = 5
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
        check_int("br_steps", self.br_steps, 0)
        check_int("untrained", self.untrained, 1)
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
                                   quality_episodes=min(self.quality_episodes, 10), br_steps=min(self.br_steps, 10_000))


# ---------------------------------------------------------------------------------------------------- learners
def make_learner(algo: str, env: RuleOpponentsEnv, seed: np.random.SeedSequence, steps: int
                 ) -> IndependentDQN | MADDPG:
    """The study's learner: the throughput benchmark's settings (``benchmarks/bench_marl.py``); learning starts
    after ``min(2048, steps // 4)`` transitions, and IDQN's exploration decays from 1 to 0.05 over the first half of
    its ``steps`` (at any budget, so a short run is not left exploring almost uniformly)."""
    warm = min(2_048, steps // 4)
    if algo == "idqn":
        return IndependentDQN(env, market_idqn_config(steps, env_steps_per_update=256), seed=seed)
    return MADDPG(env, MADDPGConfig(batch_size=1024, min_buffer=warm, replay_capacity=200_000,
                                    env_steps_per_update=256), seed=seed)


def _summary(pnl: np.ndarray, other: np.ndarray, index: np.ndarray, k: int) -> dict[str, float]:
    """One seed's measures against opponent ``k``: mean PnL, Sharpe (mean / std per episode), win rate (PnL > 0),
    and the mean PnL of seat 1."""
    p = pnl[:, index == k].ravel()
    std = p.std(ddof=1) if p.size > 1 else 0.0
    return {"pnl": float(p.mean()), "sharpe": float(p.mean() / std) if std > 0 else np.nan,
            "win_rate": float(np.mean(p > 0)), "opponent_pnl": float(other[:, index == k].mean())}


def _mean_rows(rows: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """Measure by measure and opponent by opponent, the mean over several policies' ``evaluate`` rows."""
    def mean(values: list[float]) -> float:  # a Sharpe ratio is NaN for a constant PnL: left out
        finite = [v for v in values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else np.nan
    return [{m: mean([r[k][m] for r in rows]) for m in rows[0][k]} for k in range(len(rows[0]))]


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
    responses: dict[str, list[dict[str, float]]] = {a: [] for a in algos}  # learner -> seed -> best-response values
    curves: dict[str, list[np.ndarray]] = {a: [] for a in algos}
    edges = curve_grid(eff.steps, eff.num_envs * eff.rounds)
    final: dict[str, IndependentDQN | MADDPG] = {}  # seed 0's trained learners, for the empirical game
    root = np.random.SeedSequence(eff.seed)
    start = time.perf_counter()
    for s, child in enumerate(root.spawn(eff.seeds)):
        train_seed, eval_seed, policy_seed, br_seed, init_seed = child.spawn(5)
        # one SeedSequence per learner, made whichever learners run (a learner spawns from its seed: not shared)
        learner_seeds = dict(zip(ALGOS, train_seed.spawn(len(ALGOS))))
        br_seeds = dict(zip(ALGOS, br_seed.spawn(len(ALGOS))))
        init_seeds = dict(zip(ALGOS, init_seed.spawn(len(ALGOS))))
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
            # the learner itself before training, and more initialisations (their one-market env is never stepped)
            fresh = [learner] + [make_learner(algo, RuleOpponentsEnv(game, opponents, 1, seed=0), init, eff.steps)
                                 for init in init_seeds[algo].spawn(eff.untrained - 1)]
            record(f"{algo} untrained", _mean_rows([evaluate(lambda env, obs, a=a: a.act([obs])[0]) for a in fresh]))
            log = learner.train(eff.steps)
            curves[algo].append(binned_curve(log.episode_returns[:, 0], log.episode_end_steps, edges))
            if s == 0:
                final[algo] = learner
            record(f"{algo} trained", evaluate(lambda env, obs, a=learner: a.act([obs])[0]))
            if eff.br_steps:
                responses[algo].append(best_response_gains(
                    game, learner, as_seat0, [t.name for t in as_seat0],
                    market_idqn_config(eff.br_steps, env_steps_per_update=256), steps=eff.br_steps,
                    num_envs=eff.num_envs, eval_episodes=eff.eval_episodes, seed=br_seeds[algo]))
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
        "exploitability": exploitability_summary(responses, [f"rule: {t.name}" for t in as_seat0]),
        "empirical_game": game_results, "market_quality": quality, "training_seconds": training_time,
        "seconds": elapsed,
    }
    write_report(writer, eff, results, names)
    writer.write(results)
    return results


def exploitability_summary(responses: dict[str, list[dict[str, float]]], rule_names: list[str]
                           ) -> dict[str, dict[str, Any]]:
    """Per learner: each seat-0 strategy's mean PnL against the frozen learner, and the learned best response's
    gains over the learner itself and over the best rule trader (highest mean over seeds against that learner),
    paired over seeds, with 95% intervals. Empty when no best responses were trained."""
    out: dict[str, dict[str, Any]] = {}
    for algo, rows in responses.items():
        if not rows:
            continue
        values = {key: np.array([r[key] for r in rows]) for key in rows[0]}
        best_rule = max(rule_names, key=lambda n: values[n].mean())
        gains = {"self": values["best response"] - values["self"],
                 best_rule: values["best response"] - values[best_rule]}
        out[algo] = {"pnl": {k: interval(v) for k, v in values.items()}, "best_rule": best_rule,
                     "gain": {k: interval(v) for k, v in gains.items()}}
    return out


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


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"opponents": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
