"""Population-based training (Jaderberg et al. 2017, "Population Based Training of Neural Networks"; multi-agent as
in Jaderberg et al. 2019, "Human-level performance in 3D multiplayer games with population-based reinforcement
learning") of independent-DQN traders in the batched market, ranked by the empirical game.

Each generation ``g`` of :meth:`PBT.step`:

1. exploit / explore (from ``g = 1``): truncation selection on the previous generation's fitness -- each member of
   the bottom ``quantile_fraction`` copies the weights (its whole learner checkpoint: networks, optimiser, replay)
   and hyper-parameters of a member of the top quantile drawn uniformly (:func:`truncation_selection`, Ray Tune's
   rule and default 0.25) -- then perturbs the copied hyper-parameters (:func:`explore`: each resampled from the
   search space with probability ``resample_probability`` = 0.25, else multiplied by 0.8 or 1.2);
2. train: every member trains ``steps_per_generation`` env steps in seat 0 of batched markets whose seat 1 is a rule
   trader or a frozen snapshot of a member of the previous generation (``train_vs_population``), one task per
   member on the :mod:`~solvers.population.workers` backend;
3. evaluate: the members and the rule traders play each other in a symmetric 2-seat empirical game
   (:class:`solvers.empirical.EmpiricalGame` on :class:`marketgames.market.payoffs.BatchedMarketSimulator`);
   fitness (:func:`solvers.population.metrics.fitness`): payoff against the population's Nash meta-strategy
   (default), alpha-rank mass or plain mean payoff; diversity and NashConv of the meta-game per generation.

Every random draw of generation ``g`` comes from a seed keyed by ``(purpose, g, member)`` under the run's root seed
(as :func:`solvers.empirical.batch_seed` keys batches), and a member's state is its checkpoint, so the numbers do not
depend on the backend or worker count, and a run saved after any generation resumes to the numbers of an
uninterrupted one.

Search space (:data:`SEARCH_SPACE`): ``learning_rate`` (Adam step, log-uniform), ``discount``, ``epsilon`` (the
final exploration rate of the epsilon-greedy schedule, log-uniform) and ``width`` (units of both hidden layers).
The width is drawn at the start and inherited with the weights when a member is copied; it is never perturbed
(``perturb=False``), since copied weights fix the network's shape. Noise scale and entropy (MADDPG, PPO) are not
in this space: the members are independent DQN learners.
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel

from marketgames.envs.spaces import market_config
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.seeding import SeedLike, seed_sequence
from solvers.checkpoint import load_checkpoint, save_checkpoint
from solvers.empirical import EmpiricalGame
from solvers.marl import IndependentDQNConfig, ObservationGreedyPolicy
from solvers.population.exploit_explore import SEARCH_SPACE, Hyperparameter, explore, truncation_selection
from solvers.population.lineage import CopyEvent, Lineage, MemberRecord
from solvers.population.metrics import FITNESS, Fitness, diversity, fitness, learned_exploitability
from solvers.population.metrics import population_nash_conv
from solvers.population.workers import (TrainTask, Workers, learner_from, make_workers, torch_threads,
                                        train_member)
from solvers.rl.dqn import DQNConfig

logger = logging.getLogger(__name__)

__all__ = ["Hyperparameter", "PBT", "PBTConfig", "SEARCH_SPACE", "default_learner", "explore", "member_config",
           "truncation_selection"]

_KIND = "PBT"
_PURPOSE = {"init": 0, "train": 1, "game": 2, "exploit": 3, "states": 4, "state_actions": 5, "hyper": 6}


def default_learner() -> IndependentDQNConfig:
    """The members' default learner settings (the search space's values are replaced per member)."""
    dqn = DQNConfig(hidden=(64, 64), learning_rate=1e-3, batch_size=256, replay_capacity=16_384, min_buffer=1_024,
                    target_update_every=50, epsilon_start=1.0, epsilon_end=0.05, epsilon_decay_steps=20_000,
                    discount=0.95, optimizer="adam")
    return IndependentDQNConfig(dqn=dqn, num_envs=128, env_steps_per_update=128)


def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


@dataclasses.dataclass
class PBTConfig:
    """Settings of :class:`PBT`.

    Attributes:
        population_size: members ``N`` (>= 2).
        steps_per_generation: env steps of training per member and generation.
        generations: generations of :meth:`PBT.run`.
        fitness: ``"nash"`` (payoff against the population's Nash meta-strategy), ``"alpharank"`` or ``"mean"``.
        quantile_fraction: the bottom and top quantiles of truncation selection, in (0, 0.5].
        resample_probability: probability that explore resamples a hyper-parameter instead of perturbing it.
        perturb_factors: the factors explore multiplies by (one drawn uniformly per hyper-parameter).
        opponents: rule trader specs (:func:`marketgames.traders.make_trader`): seat-1 opponents in training and
            strategies of the empirical game.
        train_vs_population: also train against frozen snapshots of the previous generation's members.
        eval_episodes: episodes per cell of each generation's empirical game.
        diversity_markets: markets whose states (every round, a random seat-0 player against the rule traders) are
            the fixed states of the diversity measure.
        learner: the members' learner settings; the search space's values replace ``dqn.learning_rate``,
            ``dqn.discount``, ``dqn.epsilon_end`` and ``dqn.hidden`` per member.
        search_space: name -> :class:`Hyperparameter`, names among :data:`SEARCH_SPACE`'s.
        confidence: level of the fitness intervals.
    """

    population_size: int = 8
    steps_per_generation: int = 20_480
    generations: int = 10
    fitness: str = "nash"
    quantile_fraction: float = 0.25
    resample_probability: float = 0.25
    perturb_factors: tuple[float, float] = (0.8, 1.2)
    opponents: tuple[str, ...] = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")
    train_vs_population: bool = True
    eval_episodes: int = 64
    diversity_markets: int = 32
    learner: IndependentDQNConfig = dataclasses.field(default_factory=default_learner)
    search_space: dict[str, Hyperparameter] = dataclasses.field(default_factory=lambda: dict(SEARCH_SPACE))
    confidence: float = 0.95

    def __post_init__(self) -> None:
        from marketgames.traders import parse_spec

        if isinstance(self.learner, dict):  # from a checkpoint's JSON
            self.learner = IndependentDQNConfig(**self.learner)
        self.search_space = {k: Hyperparameter(**v) if isinstance(v, dict) else v
                             for k, v in dict(self.search_space).items()}
        self.opponents = tuple(self.opponents)
        self.perturb_factors = tuple(self.perturb_factors)  # type: ignore[assignment]
        checks = {
            "population_size": (_is_int(self.population_size, 2), "an int >= 2"),
            "steps_per_generation": (_is_int(self.steps_per_generation, 1), "an int >= 1"),
            "generations": (_is_int(self.generations, 1), "an int >= 1"),
            "fitness": (self.fitness in FITNESS, f"one of {FITNESS}"),
            "quantile_fraction": (isinstance(self.quantile_fraction, float) and 0 < self.quantile_fraction <= 0.5,
                                  "a float in (0, 0.5]"),
            "resample_probability": (isinstance(self.resample_probability, (int, float))
                                     and not isinstance(self.resample_probability, bool)
                                     and 0 <= self.resample_probability <= 1, "a number in [0, 1]"),
            "perturb_factors": (len(self.perturb_factors) == 2 and all(isinstance(f, (int, float)) and f > 0
                                                                         for f in self.perturb_factors),
                                "two positive numbers"),
            "opponents": (len(self.opponents) >= 1 and all(isinstance(s, str) for s in self.opponents),
                          "at least one trader spec"),
            "train_vs_population": (isinstance(self.train_vs_population, bool), "a bool"),
            "eval_episodes": (_is_int(self.eval_episodes, 2), "an int >= 2"),
            "diversity_markets": (_is_int(self.diversity_markets, 1), "an int >= 1"),
            "learner": (isinstance(self.learner, IndependentDQNConfig), "an IndependentDQNConfig"),
            "search_space": (set(self.search_space) <= set(SEARCH_SPACE)
                             and all(isinstance(h, Hyperparameter) for h in self.search_space.values()),
                             f"Hyperparameters named among {sorted(SEARCH_SPACE)}"),
            "confidence": (isinstance(self.confidence, float) and 0 < self.confidence < 1, "a float in (0, 1)"),
        }
        for name, (ok, expected) in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected {expected}")
        for spec in self.opponents:
            parse_spec(spec)
        width = self.search_space.get("width")
        if width is not None and (width.perturb or not width.choices
                                  or any(c != int(c) or c < 1 for c in width.choices)):
            raise ValueError(f"search_space['width']={width!r} is not allowed: expected positive integer choices "
                             "with perturb=False (copied weights fix the network's shape)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def member_config(config: PBTConfig, hyperparameters: Mapping[str, float]) -> IndependentDQNConfig:
    """The member's learner config: ``config.learner`` with its hyper-parameters."""
    base = config.learner
    changes: dict[str, Any] = {}
    if "learning_rate" in hyperparameters:
        changes["learning_rate"] = float(hyperparameters["learning_rate"])
    if "discount" in hyperparameters:
        changes["discount"] = float(hyperparameters["discount"])
    if "epsilon" in hyperparameters:
        changes["epsilon_end"] = float(hyperparameters["epsilon"])
    if "width" in hyperparameters:
        changes["hidden"] = (int(hyperparameters["width"]),) * max(1, len(base.dqn.hidden))
    return dataclasses.replace(base, dqn=dataclasses.replace(base.dqn, **changes))


def _child(root: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The seed keyed by ``key`` under ``root`` (the scheme of :func:`solvers.empirical.batch_seed`)."""
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + tuple(int(k) for k in key))


def seat_policy(policy: ObservationGreedyPolicy, player: int) -> ObservationGreedyPolicy:
    """A member's greedy policy (built for seat 0) as the OpenSpiel policy of ``player`` (the same network on that
    player's observation tensor), e.g. for PSRO's per-player populations."""
    return ObservationGreedyPolicy(policy.game, player, policy.scores)


class PBT:
    """Population-based training of independent-DQN traders on a ``python_lob_market`` game (module docstring).

    Args:
        game: the market (a ``python_lob_market`` game or its string); 2 players.
        config: settings.
        seed: the run's root seed.
        backend: ``"serial"``, ``"process"`` or ``"ray"`` (``None``: serial for ``workers == 1``, else process);
            the numbers do not depend on it.
        workers: processes or Ray actors.
        address: a Ray cluster's address (``None``: a local Ray).

    Attributes:
        generation: generations done.
        hyperparameters: each member's values in the last generation done (the initial draw before any).
        policies: the members' greedy OpenSpiel policies (seat 0) after the last generation's training.
        fitness: the last generation's :class:`~solvers.population.metrics.Fitness`.
        history: one dict of metrics per generation (JSON data).
        lineage: :class:`~solvers.population.lineage.Lineage`.
        timings: seconds of training and of evaluation per generation (not part of the saved numbers).
    """

    def __init__(self, game: str | pyspiel.Game, config: PBTConfig | None = None, *, seed: SeedLike = 0,
                 backend: str | None = None, workers: int = 1, address: str | None = None) -> None:
        import marketgames  # noqa: F401  (registers python_lob_market)

        game = pyspiel.load_game(game) if isinstance(game, str) else game
        if not isinstance(game, pyspiel.Game) or market_config(game) is None or game.num_players() != 2:
            raise ValueError(f"game={game!r} is not allowed: expected a 2-player python_lob_market game")
        config = PBTConfig() if config is None else config
        if not isinstance(config, PBTConfig):
            raise TypeError(f"config={config!r} is not allowed: expected a PBTConfig")
        self.root = seed_sequence(seed)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r} is not allowed: expected an int >= 1")
        if backend is not None and backend not in ("serial", "process", "ray"):
            raise ValueError(f"backend={backend!r} is not allowed: expected 'serial', 'process', 'ray' or None")
        self.game, self.config = game, config
        self.backend, self.workers, self.address = backend, workers, address
        self._workers: Workers | None = None
        self.generation = 0
        rng = np.random.default_rng(_child(self.root, _PURPOSE["hyper"]))
        self.hyperparameters: list[dict[str, float]] = [
            {name: config.search_space[name].sample(rng) for name in sorted(config.search_space)}
            for _ in range(config.population_size)]
        self.checkpoints: list[bytes | None] = [None] * config.population_size
        self.policies: list[ObservationGreedyPolicy] = []
        self.fitness: Fitness | None = None
        self.history: list[dict[str, Any]] = []
        self.lineage = Lineage()
        self.timings: list[dict[str, float]] = []
        self._game: EmpiricalGame | None = None
        self._states: np.ndarray | None = None

    # ------------------------------------------------------------------ pieces
    @property
    def pool(self) -> Workers:
        """The workers (started on first use; :meth:`close` releases them)."""
        if self._workers is None:
            self._workers = make_workers(self.backend, workers=self.workers, address=self.address)
        return self._workers

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def __enter__(self) -> PBT:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def traders(self, player: int | None = None) -> list[Any]:
        """The rule traders of ``config.opponents`` (for every seat by default)."""
        from marketgames.traders import make_trader

        return [make_trader(spec, self.game, player_ids=None if player is None else [player])
                for spec in self.config.opponents]

    def strategy_names(self) -> list[str]:
        """Names of the empirical game's strategies: ``member_0 ..`` then the rule traders (their specs when two
        share a name)."""
        short = [t.name for t in self.traders()]
        rules = short if len(set(short)) == len(short) else list(self.config.opponents)
        return [f"member_{m}" for m in range(self.config.population_size)] + rules

    def diversity_states(self) -> np.ndarray:
        """The fixed observation tensors of the diversity measure: every round of ``diversity_markets`` markets
        with a uniformly random seat 0 against the rule traders (seeded by the run's seed)."""
        if self._states is None:
            from solvers.marl.opponents import RuleOpponentsEnv

            env = RuleOpponentsEnv(self.game, self.traders(1), self.config.diversity_markets,
                                   seed=_child(self.root, _PURPOSE["states"]))
            rng = np.random.default_rng(_child(self.root, _PURPOSE["state_actions"]))
            (obs,), _ = env.reset()
            states = []
            for _ in range(env.config.steps):
                states.append(obs)
                out = env.step([rng.integers(0, env.config.num_actions, env.num_envs)])
                obs = out.obs[0]
            self._states = np.concatenate(states).astype(np.float32)
        return self._states

    def empirical_game(self) -> EmpiricalGame:
        """The last generation's empirical game (members then rule traders, symmetric), sampled."""
        if self._game is None:
            raise RuntimeError("empirical_game() called before the first generation: run step() or run()")
        return self._game

    def learner(self, member: int) -> Any:
        """Member ``member``'s :class:`~solvers.marl.IndependentDQN`, restored from its checkpoint (in seat 0 of
        markets against the rule traders)."""
        self._check_member(member)
        if self.checkpoints[member] is None:
            raise RuntimeError(f"member {member} has no checkpoint before the first generation")
        return learner_from(self.game, self.config.opponents, member_config(self.config, self.hyperparameters[member]),
                            self.checkpoints[member], _child(self.root, _PURPOSE["init"], member),
                            _child(self.root, _PURPOSE["init"], member, 1))

    def save_member(self, member: int, path: str | Path) -> Path:
        """Write member ``member``'s learner checkpoint (loadable by :meth:`solvers.marl.IndependentDQN.load`)."""
        self._check_member(member)
        if self.checkpoints[member] is None:
            raise RuntimeError(f"member {member} has no checkpoint before the first generation")
        path = Path(path)
        path.write_bytes(self.checkpoints[member])  # type: ignore[arg-type]
        return path

    def _check_member(self, member: int) -> None:
        if isinstance(member, bool) or not isinstance(member, (int, np.integer)) \
                or not 0 <= member < self.config.population_size:
            raise ValueError(f"member={member!r} is not allowed: expected an int in [0, {self.config.population_size})")

    def best_member(self) -> int:
        """The member with the highest fitness in the last generation (ties: the lowest index)."""
        if self.fitness is None:
            raise RuntimeError("best_member() called before the first generation")
        return int(np.argmax(self.fitness.value))

    # ------------------------------------------------------------------ the generation loop
    def step(self) -> dict[str, Any]:
        """One generation: exploit / explore (after the first), train, evaluate. Returns its metrics."""
        c, g, n = self.config, self.generation, self.config.population_size
        parents: dict[int, int] = {}
        if g > 0 and self.fitness is not None:
            rng = np.random.default_rng(_child(self.root, _PURPOSE["exploit"], g))
            parents = truncation_selection(self.fitness.value, c.quantile_fraction, rng)
            old_hp, old_ckpt = [dict(h) for h in self.hyperparameters], list(self.checkpoints)
            for member, source in sorted(parents.items()):
                after = explore(old_hp[source], c.search_space, rng, resample_probability=c.resample_probability,
                                factors=c.perturb_factors)
                self.lineage.copies.append(CopyEvent(g, member, source, old_hp[member], old_hp[source], after))
                self.hyperparameters[member] = after
                self.checkpoints[member] = old_ckpt[source]
        opponents = tuple(c.opponents) + (tuple(self.policies) if c.train_vs_population else ())
        tasks = [TrainTask(str(self.game), opponents, member_config(c, self.hyperparameters[m]), self.checkpoints[m],
                           _child(self.root, _PURPOSE["init"], m), _child(self.root, _PURPOSE["train"], g, m),
                           c.steps_per_generation) for m in range(n)]
        start = time.perf_counter()
        results = self.pool.map(train_member, tasks)
        trained = time.perf_counter()
        self.checkpoints = [r.checkpoint for r in results]
        self.policies = [r.policy for r in results]
        egame = EmpiricalGame(self.game, self.policies + self.traders(), symmetric=True, names=self.strategy_names(),
                              seed=_child(self.root, _PURPOSE["game"], g), simulator=BatchedMarketSimulator(),
                              confidence=c.confidence)
        with torch_threads(1):  # as every worker's batches: one core per task, the same sums on every backend
            episodes = egame.sample(min_samples=c.eval_episodes, batch_size=c.eval_episodes,
                                    backend=self.pool.simulation_backend())
        payoffs, errors = egame.payoffs, egame.standard_errors
        fit = fitness(payoffs, errors, n, c.fitness, confidence=c.confidence)
        with torch_threads(1):
            div = diversity(self.policies, self.diversity_states())
        evaluated = time.perf_counter()
        self._game, self.fitness = egame, fit
        for m, r in enumerate(results):
            self.lineage.records.append(MemberRecord(g, m, parents.get(m), dict(self.hyperparameters[m]),
                                                     float(fit.value[m]), float(fit.low[m]), float(fit.high[m]),
                                                     r.env_steps))
        metrics = {
            "generation": g, "fitness": fit.value.tolist(), "fitness_low": fit.low.tolist(),
            "fitness_high": fit.high.tolist(), "meta_strategy": fit.meta_strategy.tolist(),
            "nash_conv": population_nash_conv(payoffs, fit.meta_strategy),
            "nash_conv_uniform": population_nash_conv(payoffs, np.full(n, 1.0 / n)),
            "diversity": div, "train_return": [r.mean_return for r in results],
            "copies": {str(k): v for k, v in sorted(parents.items())},
            "hyperparameters": [dict(h) for h in self.hyperparameters],
            "env_steps": int(sum(r.env_steps for r in results)), "eval_episodes": int(episodes),
            "payoffs": payoffs[0].tolist(),
        }
        self.history.append(metrics)
        self.timings.append({"train_seconds": trained - start, "eval_seconds": evaluated - trained})
        self.generation += 1
        logger.info("PBT generation %d: fitness %s, NashConv %.3g, diversity %.3f", g,
                    np.round(fit.value, 3).tolist(), metrics["nash_conv"], div)
        return metrics

    def run(self, generations: int | None = None, *, checkpoint: str | Path | None = None) -> list[dict[str, Any]]:
        """Run generations until ``generations`` (default ``config.generations``) are done, saving to
        ``checkpoint`` after each one; returns :attr:`history`."""
        target = self.config.generations if generations is None else generations
        if not _is_int(target, 0):
            raise ValueError(f"generations={generations!r} is not allowed: expected an int >= 0")
        while self.generation < target:
            self.step()
            if checkpoint is not None:
                self.save(checkpoint)
        return self.history

    def exploitability(self, member: int | None = None, *, steps: int = 20_480, eval_episodes: int = 4,
                       seed: SeedLike | None = None) -> dict[str, Any]:
        """Learned best-response exploitability of ``member`` (default :meth:`best_member`):
        :func:`solvers.population.metrics.learned_exploitability` with a fresh learner of ``config.learner``."""
        member = self.best_member() if member is None else member
        self._check_member(member)
        seed = _child(self.root, 7, self.generation) if seed is None else seed
        out = learned_exploitability(self.game, self.policies[member], self.config.learner, steps=steps,
                                     eval_episodes=eval_episodes, seed=seed)
        return {"member": int(member), **out}

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Write the run (config, seed, generation, hyper-parameters, lineage, history, the last fitness and
        empirical game, every member's learner checkpoint) atomically to ``path``."""
        blobs = {f"member{m}.ckpt": b for m, b in enumerate(self.checkpoints) if b is not None}
        if self._game is not None:
            with tempfile.TemporaryDirectory() as tmp:
                blobs["game.json"] = self._game.save(Path(tmp) / "game.json").read_bytes()
        fit = None if self.fitness is None else {k: getattr(self.fitness, k).tolist()
                                                 for k in ("value", "low", "high", "meta_strategy")}
        meta = {"config": self.config.to_dict(), "game": str(self.game),
                "seed": {"entropy": str(self.root.entropy), "spawn_key": list(self.root.spawn_key)},
                "generation": self.generation, "hyperparameters": self.hyperparameters,
                "lineage": self.lineage.to_dict(), "history": self.history, "fitness": fit}
        return save_checkpoint(path, kind=_KIND, meta=meta, blobs=blobs)

    @classmethod
    def load(cls, path: str | Path, *, backend: str | None = None, workers: int = 1,
             address: str | None = None) -> PBT:
        """A run saved by :meth:`save`, ready to continue (on any backend: the numbers are the same)."""
        checkpoint = load_checkpoint(path, kind=_KIND)
        meta = checkpoint.meta
        config = PBTConfig(**meta["config"])
        seed = np.random.SeedSequence(int(meta["seed"]["entropy"]), spawn_key=tuple(meta["seed"]["spawn_key"]))
        run = cls(meta["game"], config, seed=seed, backend=backend, workers=workers, address=address)
        run.generation = int(meta["generation"])
        run.hyperparameters = [dict(h) for h in meta["hyperparameters"]]
        run.lineage = Lineage.from_dict(meta["lineage"])
        run.history = list(meta["history"])
        run.checkpoints = [checkpoint.blobs.get(f"member{m}.ckpt") for m in range(config.population_size)]
        if meta["fitness"] is not None:
            f = meta["fitness"]
            run.fitness = Fitness(*(np.asarray(f[k], float) for k in ("value", "low", "high", "meta_strategy")))
            run.policies = [run.learner(m).policy(run.game, 0) for m in range(config.population_size)]
        if "game.json" in checkpoint.blobs:
            with tempfile.TemporaryDirectory() as tmp:
                file = Path(tmp) / "game.json"
                file.write_bytes(checkpoint.blobs["game.json"])
                run._game = EmpiricalGame.load(file, strategies=run.policies + run.traders(),
                                               simulator=BatchedMarketSimulator())
        return run
