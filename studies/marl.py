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

Not in this study (issue 10 item 6, still open): the empirical game of learned agents plus rule traders (Nash,
Pareto, alpha-rank), learned best responses against the learned agents, and market quality with and without them.
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
from scipy import stats

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.population import sample_rows
from marketgames.traders import make_trader, parse_spec
from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig, MADDPGConfig
from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat
from solvers.rl.dqn import DQNConfig

from .cli import run_cli
from .market_run import parse_population
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
CURVE_POINTS = 10


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
        seeds: independent seeds (the intervals are over these; at least 2).
        seed: seed ``k`` of the study is child ``k`` of ``SeedSequence(seed)``.
        out: report folder (default ``reports/marl-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (2 seeds, 20,000 steps, 1 evaluation episode).
    """

    algo: str = "all"
    opponents: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")
    steps: int = 200_000
    rounds: int = 20
    num_envs: int = 250
    eval_episodes: int = 4
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
        check_int("seeds", self.seeds, 2)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, seeds=2, steps=min(self.steps, 20_000), eval_episodes=1)


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


def interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval over seeds."""
    x = np.asarray(values, float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else np.nan
    return mean, mean - half, mean + half


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
    start = time.perf_counter()
    for s, child in enumerate(np.random.SeedSequence(eff.seed).spawn(eff.seeds)):
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
            returns = log.episode_returns[:, 0]
            bins = np.array_split(returns, min(CURVE_POINTS, max(len(returns), 1)))
            curves[algo].append(np.array([b.mean() if b.size else np.nan for b in bins]))
            record(f"{algo} trained", evaluate(lambda env, obs, a=learner: a.act([obs])[0]))
            logger.info("seed %d: %s trained for %d env steps (%.0f s so far)", s, algo, eff.steps,
                        time.perf_counter() - start)
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
        "verdict": verdict, "curves": {a: np.array(c) for a, c in curves.items()}, "seconds": elapsed,
    }
    _write_report(writer, eff, results, names)
    writer.write(results)
    return results


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
    curve_rows = []
    for algo, c in results["curves"].items():
        for j in range(c.shape[1]):
            curve_rows.append([algo, f"{(j + 1) / c.shape[1]:.0%}", _fmt(interval(c[:, j]))])
    writer.table(["learner", "training progress", "mean training-episode return [95% CI]"], curve_rows,
                 caption=f"Training episodes (exploring) split into {CURVE_POINTS} equal parts")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"opponents": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
