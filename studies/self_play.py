"""Self-play with an opponent pool in the market: is the self-play agent harder to exploit than a learner trained
against the rule traders only?

``python -m studies self_play [--quick] [--seed S] [--seeds N] [--steps T] [--matchmaking pfsp|uniform|latest]
[--workers W] [--backend serial|process|ray] [--out DIR]``

Per seed, two learners with the same settings and the same env-step budget ``steps`` (rounded up to whole
episodes of the ``num_envs`` markets) play seat 0 of a 2-player ``python_lob_market``:

* **self-play** (:class:`solvers.population.SelfPlay`): every market draws its opponent for each episode from a pool
  of the rule traders and up to ``capacity`` snapshots of the learner itself (one every ``snapshot_every`` env
  steps), by ``matchmaking`` (PFSP by default: weight ``(1 - P(main beats opponent))^k``, "beats" = a higher
  episode PnL than the opponent's; see :mod:`solvers.population.matchmaking`);
* **independent**: the same learner against the rule traders only (market ``b`` plays ``opponents[b % K]``,
  :class:`solvers.marl.opponents.RuleOpponentsEnv`), as in :mod:`studies.marl`.

Exploitability (learned best responses): each trained agent is frozen (its greedy snapshot policy) and a fresh
independent DQN is trained for ``br_steps`` env steps against it alone on the batched market (the agent in seat 1);
then the best response plays ``eval_episodes`` episodes per market of fresh markets against it (the same markets for
both agents of a seed). Exploitability = the best response's mean PnL; the agent is harder to exploit when its
best response earns less. Both agents also play the rule population (same markets). All numbers: mean over
``seeds`` seeds with 95% Student-t intervals; differences are paired by seed.

Seed 0's pool: the per-opponent estimates tracked during training (the main agent's training-episode PnL and PnL
difference against each member, with 95% intervals), the matchmaking weights over time (``matchmaking_weights.png``)
and the empirical game (:class:`solvers.empirical.EmpiricalGame` on the batched simulator, ``game_episodes`` per
profile, on ``backend`` with ``workers``) of the final pool plus the main agent and the independent learner, with
its Nash equilibria, Pareto-optimal pure profiles and alpha-rank (:func:`studies.meta_game.analyse`).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel
import torch

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.traders import make_trader, parse_spec
from solvers.empirical import EmpiricalGame
from solvers.empirical.backends import BACKENDS
from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig
from solvers.marl.best_response import train_best_response
from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat
from solvers.population import MATCHMAKING, SelfPlay, SelfPlayConfig, default_learner_config

from . import marl_plots, self_play_plots
from .cli import run_cli
from .market_run import parse_population
from .curves import binned_curve, curve_bands, curve_grid, interval
from .meta_game import analyse
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_choice, check_int, check_number, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "self_play"
MAX_EQUILIBRIA_SHOWN = 12


@dataclass
class Config:
    """Configuration of the self-play study.

    Attributes:
        learner: ``"idqn"`` or ``"maddpg"`` (the main learner and the independent one).
        opponents: rule trader specs (``marketgames.traders.make_trader``): the pool's rule traders and the
            independent learner's opponents.
        matchmaking: ``"pfsp"``, ``"uniform"`` or ``"latest"``.
        pfsp_k: PFSP's exponent ``k``.
        steps: env steps of training per learner and seed (rounded up to whole episodes of all markets).
        snapshot_every: env steps between snapshots of the self-play agent.
        capacity: snapshots kept in the pool.
        br_steps: env steps of training of each learned best response.
        rounds: rounds per episode.
        num_envs: markets trained and evaluated at once.
        eval_episodes: evaluation episodes per market.
        game_episodes: episodes per profile of the pool's empirical game (batched simulator).
        bootstrap: bootstrap replicates of the empirical game's equilibrium supports.
        seeds: independent seeds (the intervals are over these; at least 2).
        seed: seed ``k`` of the study is child ``k`` of ``SeedSequence(seed)``.
        workers: workers of the empirical game's sampling.
        backend: ``"serial"``, ``"process"`` or ``"ray"`` for the empirical game (default: serial for one worker,
            else processes); the numbers do not depend on it.
        out: report folder (default ``reports/self_play-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (2 seeds, 5-round episodes, 20 markets, 2,000 steps, 1,000 best-response steps,
            1 evaluation episode, 4 episodes per profile, 5 bootstrap replicates).
    """

    learner: str = "idqn"
    opponents: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")
    matchmaking: str = "pfsp"
    pfsp_k: float = 2.0
    steps: int = 150_000
    snapshot_every: int = 25_000
    capacity: int = 4
    br_steps: int = 75_000
    rounds: int = 20
    num_envs: int = 125
    eval_episodes: int = 4
    game_episodes: int = 100
    bootstrap: int = 50
    seeds: int = 3
    seed: int = 0
    workers: int = 1
    backend: str | None = None
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        self.opponents = tuple(self.opponents)
        check_choice("learner", self.learner, ("idqn", "maddpg"))
        if not self.opponents or not all(isinstance(s, str) for s in self.opponents):
            raise ValueError(f"opponents={self.opponents!r} is not allowed: expected at least one trader spec")
        for spec in self.opponents:
            parse_spec(spec)
        check_choice("matchmaking", self.matchmaking, MATCHMAKING)
        check_number("pfsp_k", self.pfsp_k, low=0.0, high=1e6)
        for name in ("steps", "snapshot_every", "capacity", "br_steps", "rounds", "num_envs", "eval_episodes",
                     "bootstrap", "workers"):
            check_int(name, getattr(self, name), 1)
        check_int("game_episodes", self.game_episodes, 2)
        check_int("seeds", self.seeds, 2)
        check_seed("seed", self.seed)
        if self.backend is not None:
            check_choice("backend", self.backend, BACKENDS)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick"):
            check_bool(name, getattr(self, name))

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, seeds=2, rounds=5, num_envs=20, steps=min(self.steps, 2_000),
                                   snapshot_every=min(self.snapshot_every, 500), br_steps=min(self.br_steps, 1_000),
                                   eval_episodes=1, game_episodes=min(self.game_episodes, 4),
                                   bootstrap=min(self.bootstrap, 5))

    def whole_episodes(self, steps: int) -> int:
        """``steps`` rounded up to whole episodes of all markets."""
        episode = self.rounds * self.num_envs
        return -(-steps // episode) * episode


def learner_config(eff: Config, steps: int):
    """The learners' settings (:func:`solvers.population.default_learner_config`): learning starts after
    ``min(2048, steps // 4)`` transitions."""
    return default_learner_config(eff.learner, eff.num_envs, warm=min(2_048, steps // 4))


def make_learner(eff: Config, env: RuleOpponentsEnv, seed: np.random.SeedSequence, steps: int
                 ) -> IndependentDQN | MADDPG:
    config = learner_config(eff, steps)
    if isinstance(config, IndependentDQNConfig):
        return IndependentDQN(env, config, seed=seed)
    return MADDPG(env, config, seed=seed)


def greedy(policy: Any) -> Callable[[RuleOpponentsEnv, np.ndarray], np.ndarray]:
    """A frozen agent's greedy actions on seat 0's observation tensors (``evaluate_seat``'s ``act``)."""
    def act(env: RuleOpponentsEnv, obs: np.ndarray) -> np.ndarray:
        legal = np.ones((len(obs), env.config.num_actions), bool)
        return np.argmax(policy.batch_probabilities(obs, legal), axis=1)
    return act


def best_response(game: pyspiel.Game, eff: Config, target: Any, train_seed: np.random.SeedSequence,
                  eval_seed: np.random.SeedSequence) -> tuple[float, float]:
    """Train a fresh independent DQN for ``br_steps`` against the frozen ``target`` (seat 1 of every market) and
    return its mean evaluation PnL and the target's."""
    steps = eff.whole_episodes(eff.br_steps)
    config = default_learner_config("idqn", eff.num_envs, warm=min(2_048, steps // 4))
    assert isinstance(config, IndependentDQNConfig)
    br = train_best_response(game, target, steps=steps, num_envs=eff.num_envs, config=config, seed=train_seed)
    pnl, other = evaluate_seat(RuleOpponentsEnv(game, [target], eff.num_envs, seed=eval_seed),
                               greedy(br.policy(game, 0)), eff.eval_episodes)
    return float(pnl.mean()), float(other.mean())


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "Self-play with an opponent pool: harder to exploit?", overwrite=eff.overwrite) as w:
        results = _run(eff, w)
    results["out"] = str(out)
    return results


def _run(eff: Config, writer: ReportWriter) -> dict[str, Any]:
    torch.set_num_threads(1)
    game = pyspiel.load_game(f"python_lob_market(players=2,steps={eff.rounds})")
    traders = [make_trader(spec, game) for spec in eff.opponents]
    steps = eff.whole_episodes(eff.steps)
    sp_config = SelfPlayConfig(learner=eff.learner, learner_config=learner_config(eff, steps),
                               opponents=eff.opponents, matchmaking=eff.matchmaking, pfsp_k=eff.pfsp_k,
                               snapshot_every=eff.snapshot_every, capacity=eff.capacity)
    edges = curve_grid(steps, eff.num_envs * eff.rounds)
    agents = ("self-play", "independent")
    curves: dict[str, list[np.ndarray]] = {a: [] for a in agents}
    measures: dict[str, dict[str, list[float]]] = {a: {"rule_pnl": [], "br_pnl": [], "pnl_under_br": []}
                                                  for a in agents}
    seed0: dict[str, Any] = {}
    root = np.random.SeedSequence(eff.seed)
    start = time.perf_counter()
    for s, child in enumerate(root.spawn(eff.seeds)):
        sp_seed, ind_seed, eval_seed, br_seed = child.spawn(4)
        sp = SelfPlay(game, sp_config, seed=sp_seed)
        log = sp.train(steps)
        curves["self-play"].append(binned_curve(log.returns.mean(axis=1), log.end_steps, edges))
        env_seed, learner_seed = ind_seed.spawn(2)
        independent = make_learner(eff, RuleOpponentsEnv(game, traders, eff.num_envs, seed=env_seed),
                                   learner_seed, steps)
        ilog = independent.train(steps)
        curves["independent"].append(binned_curve(ilog.episode_returns[:, 0], ilog.episode_end_steps, edges))
        frozen = {"self-play": sp.main_policy(), "independent": independent.policy(game, 0)}
        rule_seed, br_eval_seed = eval_seed.spawn(2)
        br_train = dict(zip(agents, br_seed.spawn(2)))
        for name, policy in frozen.items():
            pnl, _ = evaluate_seat(RuleOpponentsEnv(game, traders, eff.num_envs, seed=rule_seed),
                                   greedy(policy), eff.eval_episodes)
            measures[name]["rule_pnl"].append(float(pnl.mean()))
            br, under = best_response(game, eff, policy, br_train[name], br_eval_seed)
            measures[name]["br_pnl"].append(br)
            measures[name]["pnl_under_br"].append(under)
        if s == 0:
            seed0 = {"self_play": sp, "independent": frozen["independent"]}
        logger.info("seed %d done (%.0f s so far)", s, time.perf_counter() - start)
    training_seconds = time.perf_counter() - start
    sp = seed0["self_play"]
    pool_table = sp.pool.table()
    w_steps, w_names, weights = sp.weights_over_time()
    game_results = pool_game(eff, game, sp, seed0["independent"], root.spawn(1)[0])
    summary = {a: {m: interval(v) for m, v in measures[a].items()} for a in agents}
    paired = {m: interval(list(np.subtract(measures["self-play"][m], measures["independent"][m])))
              for m in measures["self-play"]}
    diff = paired["br_pnl"]
    verdict = ("harder to exploit" if diff[2] < 0 else "easier to exploit" if diff[1] > 0
               else "not distinguishable")
    results: dict[str, Any] = {
        "study": STUDY, "config": dataclasses.asdict(eff), "game_string": str(game), "steps_trained": steps,
        "br_steps_trained": eff.whole_episodes(eff.br_steps), "per_seed": measures, "summary": summary,
        "paired_difference": paired, "verdict": verdict, "curve_steps": edges[1:],
        "curves": {a: np.array(c) for a, c in curves.items()}, "pool": pool_table, "evicted": sp.pool.evicted,
        "matchmaking": {"steps": w_steps, "names": w_names, "weights": weights},
        "empirical_game": game_results, "training_seconds": training_seconds,
        "seconds": time.perf_counter() - start,
    }
    _write_report(writer, eff, results)
    writer.write(results)
    return results


def pool_game(eff: Config, game: pyspiel.Game, sp: SelfPlay, independent: Any, seed: np.random.SeedSequence
              ) -> dict[str, Any]:
    """The empirical game of the main agent, the final pool and the independent learner (both players choose from
    that list), on the batched simulator, and its analysis."""
    payoff_seed, boot_seed = seed.spawn(2)
    names, strategies = sp.strategies()
    names, strategies = [*names, "independent"], [*strategies, independent]
    start = time.perf_counter()
    egame = EmpiricalGame(game, [strategies, strategies], names=[names, names], seed=payoff_seed,
                          simulator=BatchedMarketSimulator())
    episodes = egame.sample(min_samples=eff.game_episodes, batch_size=eff.game_episodes, backend=eff.backend,
                            workers=eff.workers)
    analysis = analyse(egame.payoffs, egame.standard_errors, names, bootstrap=eff.bootstrap, seed=boot_seed)
    supports = [sorted({k for eq in analysis["equilibria"] for k in eq["support"][p]}) for p in range(2)]
    return {
        "strategies": names, "episodes_simulated": episodes, "seconds": time.perf_counter() - start,
        "payoffs": egame.payoffs, "standard_errors": egame.standard_errors,
        "equilibria": analysis["equilibria"], "pareto_pure": analysis["pareto_pure"],
        "alpharank": analysis["alpharank"].marginals,
        "bootstrap_support_frequency": analysis["bootstrap"].support_frequency,
        "survivors": [names[k] for k in sorted(set(supports[0]) | set(supports[1]))],
    }


# ---------------------------------------------------------------------------------------------------- report
def _fmt(ci: Sequence[float]) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def _write_report(writer: ReportWriter, eff: Config, r: dict[str, Any]) -> None:
    writer.section("Setup")
    writer.text(f"`{r['game_string']}`; learner {eff.learner}; {eff.num_envs} markets; {r['steps_trained']:,} env "
                f"steps per learner and seed; self-play matchmaking {eff.matchmaking}"
                f"{f' (k = {eff.pfsp_k:g})' if eff.matchmaking == 'pfsp' else ''}, a snapshot every "
                f"{eff.snapshot_every:,} env steps, pool capacity {eff.capacity} snapshots plus {len(eff.opponents)} "
                f"rule traders; learned best responses: fresh IDQN, {r['br_steps_trained']:,} env steps; "
                f"{eff.seeds} seeds{' (quick run)' if eff.quick else ''}; {r['seconds']:.0f} s. PnL: final wealth "
                "with positions at the fundamental (ticks x lots). Intervals: 95% Student-t over seeds.")
    writer.section("Verdict: exploitability by learned best responses")
    d = r["paired_difference"]["br_pnl"]
    than = "from" if r["verdict"] == "not distinguishable" else "than"
    writer.text(f"The self-play agent is **{r['verdict']}** {than} the independent learner: best-response PnL "
                f"against self-play minus against independent {_fmt(d)} (paired by seed; negative = harder to "
                "exploit).")
    labels = {"rule_pnl": "PnL against the rule population", "br_pnl": "best response's PnL (exploitability)",
              "pnl_under_br": "agent's PnL against its best response"}
    writer.table(["measure", "self-play", "independent", "self-play minus independent"],
                 [[labels[m], _fmt(r["summary"]["self-play"][m]), _fmt(r["summary"]["independent"][m]),
                   _fmt(r["paired_difference"][m])] for m in labels],
                 caption=f"Mean over {eff.seeds} seeds [95% CI]; {eff.eval_episodes} evaluation episodes per market")
    writer.section("Training curves")
    grid = np.asarray(r["curve_steps"])
    bands = {a: curve_bands(c) for a, c in r["curves"].items()}
    writer.figure(marl_plots.learning_curves(grid, bands, {}), "learning_curves",
                  caption="Mean training-episode return (exploring) in each bin of env steps, 95% intervals over "
                          "seeds; self-play plays its pool, the independent learner the rule traders.")
    writer.table(["learner", "env steps (bin end)", "mean training-episode return [95% CI]"],
                 [[a, f"{int(grid[j]):,}", _fmt(tuple(b[j] for b in band))]
                  for a, band in bands.items() for j in range(len(grid))])
    writer.section("The pool (seed 0): per-opponent estimates tracked during training")
    writer.table(["member", "kind", "added at", "episodes", "P(main beats it)", "main PnL [95% CI]",
                  "main minus opponent PnL [95% CI]"],
                 [[m["name"], "snapshot" if m["snapshot"] else "rule", m["added_at"], m["episodes"],
                   m["win_probability"], _fmt(m["pnl"]), _fmt(m["advantage"])] for m in r["pool"]],
                 caption="Training episodes of the main agent (exploring) against each member; beats = higher "
                         "episode PnL (ties half), posterior mean with a uniform prior. Evicted snapshots: "
                         + (", ".join(f"{e['name']} at {e['evicted_at']:,}" for e in r["evicted"]) or "none"))
    mm = r["matchmaking"]
    writer.figure(self_play_plots.matchmaking_weights(np.asarray(mm["steps"]), mm["names"],
                                                      np.asarray(mm["weights"])), "matchmaking_weights",
                  caption="Probability of drawing each pool member for an episode, at each episode start (0 while "
                          "not in the pool).")
    _write_game(writer, eff, r["empirical_game"])


def _write_game(writer: ReportWriter, eff: Config, g: dict[str, Any]) -> None:
    names = g["strategies"]
    writer.section("Empirical game of the final pool (seed 0)")
    writer.text(f"Both players choose among the main agent, the pool and the independent learner; "
                f"{g['episodes_simulated']:,} episodes ({eff.game_episodes} per profile, batched simulator) in "
                f"{g['seconds']:.0f} s. In the support of a Nash equilibrium: {', '.join(g['survivors']) or 'none'}.")
    writer.table(["strategy", "alpha-rank (seat 0)", "alpha-rank (seat 1)", "bootstrap share (seat 0)",
                  "bootstrap share (seat 1)"],
                 [[n, float(g["alpharank"][0][k]), float(g["alpharank"][1][k]),
                   float(g["bootstrap_support_frequency"][0][k]), float(g["bootstrap_support_frequency"][1][k])]
                  for k, n in enumerate(names)],
                 caption=f"Bootstrap: share of {eff.bootstrap} payoff resamples whose equilibrium uses it")
    payoffs, sems = np.asarray(g["payoffs"]), np.asarray(g["standard_errors"])
    writer.table(["seat 0 \\ seat 1"] + names,
                 [[names[i]] + [f"{payoffs[0, i, j]:.2f} ± {1.96 * sems[0, i, j]:.2f}" for j in range(len(names))]
                  for i in range(len(names))],
                 caption="Seat 0's mean payoff (± 95% half-width)")
    shown = g["equilibria"][:MAX_EQUILIBRIA_SHOWN]
    writer.table(["#", "profile (seat 0 ; seat 1)", "payoffs", "welfare", "regret"],
                 [[k, " ; ".join(eq["description"]), " , ".join(f"{v:.2f}" for v in eq["payoffs"]), eq["welfare"],
                   eq["regret"]] for k, eq in enumerate(shown)],
                 caption="Nash equilibria of the estimated game"
                         + (f"; {len(g['equilibria']) - len(shown)} more in results.json"
                            if len(g["equilibria"]) > len(shown) else ""))
    pareto = ["(" + ", ".join(names[i] for i in p) + ")" for p in g["pareto_pure"]]
    writer.text("Pareto-optimal pure profiles (seat 0, seat 1): " + ", ".join(pareto) + ".")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"opponents": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
