"""Self-play against a pool of past snapshots and rule traders (Heinrich & Silver 2016's fictitious self-play
against a league; Vinyals et al. 2019, AlphaStar, for prioritised matchmaking), on the batched market.

:class:`SelfPlay` trains one main learner (:class:`solvers.marl.IndependentDQN` or :class:`solvers.marl.MADDPG`, one
contract) in seat 0 of ``num_envs`` batched markets (:class:`solvers.marl.opponents.RuleOpponentsEnv`). Every market
seats one pool member in the other seats for a whole episode: all markets end together (fixed-length episodes,
same-step auto-reset), and after every episode each market draws its next opponent independently from the pool's
matchmaking weights (:mod:`solvers.population.matchmaking`), with the trainer's own generator. The episode's
results (main agent's PnL against the opponent's) update that member's statistics, which drive ``"pfsp"`` and the
replacement of the weakest snapshot. A snapshot (:meth:`solvers.marl.MultiAgentLearner.policy`, a frozen copy of
the network: an OpenSpiel policy and a ``BatchPolicy``) joins the pool at the end of the first episode reaching each
multiple of ``snapshot_every`` env steps.

Same seed, same numbers; :meth:`SelfPlay.save` / :meth:`SelfPlay.load` between calls to :meth:`SelfPlay.train`
resume to the numbers of an uninterrupted run (training runs in whole episodes, so every save is at an episode end).
"""
from __future__ import annotations

import copy
import dataclasses
import tempfile
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel

from marketgames.envs.spaces import market_config
from marketgames.seeding import SeedLike, seed_sequence
from marketgames.traders import make_trader, parse_spec
from solvers.checkpoint import load_checkpoint, save_checkpoint
from solvers.marl import MADDPG, IndependentDQN, IndependentDQNConfig, MADDPGConfig, ObservationGreedyPolicy
from solvers.marl.base import NetworkScores, torch_bytes, torch_load
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.population.matchmaking import MATCHMAKING, OpponentPool, snapshot_due
from solvers.rl.dqn import DQNConfig

__all__ = ["SelfPlay", "SelfPlayConfig", "SelfPlayLog", "default_learner_config"]

LEARNERS = ("idqn", "maddpg")
RULE_TRADERS = ("market_maker(half_spread=1)", "trend", "mean_reversion", "noise", "zi")


def default_learner_config(learner: str, num_envs: int = 64, warm: int = 2_048) -> IndependentDQNConfig | MADDPGConfig:
    """The marl study's settings (``studies.marl.make_learner``) for ``num_envs`` markets; learning starts after
    ``warm`` transitions."""
    if learner == "idqn":
        dqn = DQNConfig(hidden=(64, 64), learning_rate=1e-3, batch_size=512, replay_capacity=200_000,
                        min_buffer=warm, target_update_every=50, epsilon_start=1.0, epsilon_end=0.05,
                        epsilon_decay_steps=100_000, discount=0.95, optimizer="adam")
        return IndependentDQNConfig(dqn=dqn, num_envs=num_envs, env_steps_per_update=256)
    if learner == "maddpg":
        return MADDPGConfig(batch_size=1024, min_buffer=warm, replay_capacity=200_000, env_steps_per_update=256,
                            num_envs=num_envs)
    raise ValueError(f"learner={learner!r} is not allowed: expected one of {LEARNERS}")


@dataclasses.dataclass
class SelfPlayConfig:
    """Hyper-parameters of :class:`SelfPlay`.

    Attributes:
        learner: ``"idqn"`` or ``"maddpg"``.
        learner_config: the main learner's config (an ``IndependentDQNConfig`` for ``"idqn"``, a ``MADDPGConfig``
            for ``"maddpg"``; default :func:`default_learner_config`); its ``num_envs`` is the number of markets.
        opponents: rule trader specs (``marketgames.traders.make_trader``) in the pool from the start, never
            evicted.
        matchmaking: ``"uniform"``, ``"latest"`` or ``"pfsp"`` (:func:`solvers.population.matchmaking_weights`).
        pfsp_k: pfsp's exponent ``k`` of ``(1 - P(main beats opponent))^k``.
        snapshot_every: env steps between snapshots of the main agent.
        capacity: snapshots kept in the pool (the weakest is replaced beyond it).
    """

    learner: str = "idqn"
    learner_config: IndependentDQNConfig | MADDPGConfig | None = None
    opponents: tuple[str, ...] = RULE_TRADERS
    matchmaking: str = "pfsp"
    pfsp_k: float = 2.0
    snapshot_every: int = 20_000
    capacity: int = 4

    def __post_init__(self) -> None:
        if self.learner not in LEARNERS:
            raise ValueError(f"learner={self.learner!r} is not allowed: expected one of {LEARNERS}")
        kind = IndependentDQNConfig if self.learner == "idqn" else MADDPGConfig
        if self.learner_config is None:
            self.learner_config = default_learner_config(self.learner)
        elif isinstance(self.learner_config, dict):  # from a checkpoint's JSON
            self.learner_config = kind(**self.learner_config)
        if not isinstance(self.learner_config, kind):
            raise ValueError(f"learner_config={self.learner_config!r} is not allowed: expected a {kind.__name__} "
                             f"for learner={self.learner!r}")
        if isinstance(self.opponents, str):
            raise ValueError(f"opponents={self.opponents!r} is not allowed: expected a sequence of trader specs")
        self.opponents = tuple(self.opponents)
        if not self.opponents or not all(isinstance(s, str) for s in self.opponents):
            raise ValueError(f"opponents={self.opponents!r} is not allowed: expected at least one trader spec")
        for spec in self.opponents:
            parse_spec(spec)
        if self.matchmaking not in MATCHMAKING:
            raise ValueError(f"matchmaking={self.matchmaking!r} is not allowed: expected one of {MATCHMAKING}")
        if isinstance(self.pfsp_k, bool) or not isinstance(self.pfsp_k, (int, float)) or not 0 <= self.pfsp_k < np.inf:
            raise ValueError(f"pfsp_k={self.pfsp_k!r} is not allowed: expected a finite number >= 0")
        for name in ("snapshot_every", "capacity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} is not allowed: expected an int >= 1")

    @property
    def num_envs(self) -> int:
        return int(self.learner_config.num_envs)  # type: ignore[union-attr]


@dataclasses.dataclass
class SelfPlayLog:
    """What :meth:`SelfPlay.train` returns (one row per episode of the call).

    Attributes:
        end_steps: ``(E,)`` env steps when each episode ended.
        returns: ``(E, B)`` the main agent's training-episode PnL in each market (exploring).
        opponent_returns: ``(E, B)`` the opponents' PnL (mean over their seats).
        opponents: ``(E, B)`` names of the pool members played.
        snapshots: names of the snapshots taken in the call.
        evicted: names of the snapshots evicted in the call.
    """

    end_steps: np.ndarray
    returns: np.ndarray
    opponent_returns: np.ndarray
    opponents: np.ndarray
    snapshots: list[str]
    evicted: list[str]


class SelfPlay:
    """The main learner, its opponent pool and the markets (module doc).

    Args:
        game: a ``python_lob_market`` game (or its string).
        config: hyper-parameters.
        seed: seeds the markets, the learner and the matchmaking draws.

    Attributes:
        learner: the main learner (seat 0).
        env: the markets it trains in.
        pool: the :class:`~solvers.population.matchmaking.OpponentPool`.
        history: ``(env_steps, member names, matchmaking weights)`` at each draw (before every episode).
    """

    kind = "SelfPlay"

    def __init__(self, game: str | pyspiel.Game, config: SelfPlayConfig | None = None, *,
                 seed: SeedLike = 0) -> None:
        game = pyspiel.load_game(game) if isinstance(game, str) else game
        if not isinstance(game, pyspiel.Game) or market_config(game) is None:
            raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game or its string")
        config = SelfPlayConfig() if config is None else config
        if not isinstance(config, SelfPlayConfig):
            raise TypeError(f"config={config!r} is not allowed: expected a SelfPlayConfig")
        self.game, self.config = game, config
        env_seed, learner_seed, match_seed = seed_sequence(seed).spawn(3)
        traders = [make_trader(spec, game) for spec in config.opponents]
        names = [t.name for t in traders]
        names = names if len(set(names)) == len(names) else list(config.opponents)
        self.pool = OpponentPool(traders, names, capacity=config.capacity, matchmaking=config.matchmaking,
                                 pfsp_k=config.pfsp_k)
        self.env = RuleOpponentsEnv(game, traders, config.num_envs, seed=env_seed)
        lc = config.learner_config
        self.learner: IndependentDQN | MADDPG = (
            IndependentDQN(self.env, lc, seed=learner_seed) if isinstance(lc, IndependentDQNConfig)
            else MADDPG(self.env, lc, seed=learner_seed))
        self.episode_steps = config.num_envs * int(market_config(game).steps)  # type: ignore[union-attr]
        self.rng = np.random.default_rng(match_seed)
        self.history: list[tuple[int, list[str], np.ndarray]] = []
        self._seat_next_episode()

    @property
    def env_steps(self) -> int:
        return self.learner.env_steps

    def _seat_next_episode(self) -> None:
        weights = self.pool.weights()
        self.history.append((self.env_steps, self.pool.names, weights))
        self.env.set_opponents(self.pool.strategies, self.rng.choice(len(weights), size=self.env.num_envs,
                                                                     p=weights))

    def main_policy(self) -> ObservationGreedyPolicy:
        """The main agent now, as a frozen OpenSpiel policy (and ``BatchPolicy``)."""
        policy = self.learner.policy(self.game, 0)
        assert isinstance(policy, ObservationGreedyPolicy)
        return policy

    def strategies(self, *, include_main: bool = True) -> tuple[list[str], list[Any]]:
        """``(names, strategies)`` of the pool (and the main agent first, named ``"main"``, unless a snapshot was
        just taken of it: the same network twice): OpenSpiel policies for :class:`solvers.empirical.EmpiricalGame`
        (each plays any seat)."""
        names, strategies = self.pool.names, self.pool.strategies
        if include_main and not any(m.snapshot and m.added_at == self.env_steps for m in self.pool.members):
            names, strategies = ["main", *names], [self.main_policy(), *strategies]
        return names, strategies

    def train(self, steps: int) -> SelfPlayLog:
        """Train for ``steps`` env steps, a multiple of one episode in every market (``num_envs * rounds``)."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0 \
                or steps % self.episode_steps:
            raise ValueError(f"steps={steps!r} is not allowed: expected a multiple of num_envs * rounds = "
                             f"{self.episode_steps}")
        ends, mains, others, played, snaps, evicted = [], [], [], [], [], []
        for _ in range(int(steps) // self.episode_steps):
            before = self.env_steps
            self.learner.train(self.episode_steps)
            returns = self.env.last_episode_returns
            main, other = returns[:, 0], returns[:, 1:].mean(axis=1)
            index = self.env.opponent_index
            self.pool.record(index, main, other)
            ends.append(self.env_steps)
            mains.append(main.copy())
            others.append(other)
            played.append(np.asarray(self.pool.names, dtype=object)[index])
            if snapshot_due(before, self.env_steps, self.config.snapshot_every):
                name = f"{self.config.learner}@{self.env_steps}"
                out = self.pool.add_snapshot(name, self.main_policy(), self.env_steps)
                snaps.append(name)
                if out is not None:
                    evicted.append(out.name)
            self._seat_next_episode()
        b = self.env.num_envs
        return SelfPlayLog(np.asarray(ends, np.int64), np.asarray(mains).reshape(-1, b),
                           np.asarray(others).reshape(-1, b), np.asarray(played, dtype=object).reshape(-1, b),
                           snaps, evicted)

    def weights_over_time(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """``(steps (T,), names (M,), weights (T, M))`` of every member ever in the pool, NaN while absent."""
        names = list(dict.fromkeys(n for _, ns, _ in self.history for n in ns))
        out = np.full((len(self.history), len(names)), np.nan)
        for t, (_, ns, w) in enumerate(self.history):
            out[t, [names.index(n) for n in ns]] = w
        return np.array([s for s, _, _ in self.history], np.int64), names, out

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Write the learner's checkpoint, the pool (snapshot networks and statistics), the seating of the next
        episode, the matchmaking generator and the history."""
        with tempfile.TemporaryDirectory() as tmp:
            learner_bytes = self.learner.save(Path(tmp) / "learner.ckpt").read_bytes()
        blobs = {"learner": learner_bytes}
        arrays = {"opponent_index": self.env.opponent_index}
        snapshots = {}
        for m in self.pool.members:
            if m.snapshot:
                scores = m.strategy.scores
                blobs[f"snapshot/{m.name}"] = torch_bytes(scores.network.state_dict())
                snapshots[m.name] = None if scores.agent_id is None else scores.agent_id.tolist()
        meta = {"config": dataclasses.asdict(self.config), "game": str(self.game), "pool": self.pool.stats_state(),
                "evicted": self.pool.evicted, "snapshots": snapshots, "rng": self.rng.bit_generator.state,
                "history": [[s, ns, w.tolist()] for s, ns, w in self.history]}
        return save_checkpoint(path, kind=self.kind, meta=meta, arrays=arrays, blobs=blobs)

    def load(self, path: str | Path) -> None:
        """Restore :meth:`save`'s checkpoint into a ``SelfPlay`` built with the same game, config and seed."""
        checkpoint = load_checkpoint(path, kind=self.kind)
        meta = checkpoint.meta
        own = json.loads(json.dumps(dataclasses.asdict(self.config)))  # as JSON holds it (tuples are lists)
        if meta["game"] != str(self.game) or meta["config"] != own:
            raise ValueError(f"path={str(path)!r} holds a run of {meta['game']} with config {meta['config']}: this "
                             f"one is {self.game} with {own}")
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "learner.ckpt"
            file.write_bytes(checkpoint.blobs["learner"])
            self.learner.load(file)
        template = self.learner._score_network(0)[0]
        strategies = {m.name: m.strategy for m in self.pool.members if not m.snapshot}
        for name, agent_id in meta["snapshots"].items():
            network = copy.deepcopy(template)
            network.load_state_dict(torch_load(checkpoint.blobs[f"snapshot/{name}"]))
            scores = NetworkScores(network, None if agent_id is None else np.asarray(agent_id, np.float32))
            strategies[name] = ObservationGreedyPolicy(self.game, 0, scores)
        self.pool.restore(meta["pool"], strategies, meta["evicted"])
        self.rng.bit_generator.state = meta["rng"]
        self.history = [(int(s), list(ns), np.asarray(w, float)) for s, ns, w in meta["history"]]
        self.env.set_opponents(self.pool.strategies, checkpoint.arrays["opponent_index"])
