"""What the multi-agent learners share: the training loop over a :class:`MultiAgentVectorEnv`, the training log,
checkpoints and OpenSpiel policies."""
from __future__ import annotations

import abc
import copy
import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel
import torch
from gymnasium import spaces
from open_spiel.python import policy as os_policy

from marketgames.seeding import SeedLike, seed_sequence
from solvers.checkpoint import load_checkpoint, save_checkpoint
from solvers.marl.envs import MultiAgentVectorEnv, VectorStep, as_vector_env

__all__ = ["MultiAgentLearner", "ObservationGreedyPolicy", "TrainLog"]


@dataclasses.dataclass
class TrainLog:
    """What ``train(steps)`` returns.

    Attributes:
        agents: agent names (the columns below).
        episode_returns: ``(E, n)`` summed rewards of each episode that ended, per agent.
        episode_end_steps: ``(E,)`` the learner's env step count when each episode ended.
        losses: name -> ``(U, n)`` loss of each agent at each update (NaN where an agent did not learn).
        loss_steps: ``(U,)`` env step count of each update.
    """

    agents: list[str]
    episode_returns: np.ndarray
    episode_end_steps: np.ndarray
    losses: dict[str, np.ndarray]
    loss_steps: np.ndarray


def torch_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def torch_load(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), weights_only=True)


def check_masks(env: MultiAgentVectorEnv, observations: Sequence[np.ndarray],
                masks: Sequence[np.ndarray | None] | None) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Validate ``act``'s inputs: one ``(B, d_i)`` array per agent; masks default to all legal."""
    if len(observations) != env.num_agents:
        raise ValueError(f"observations has {len(observations)} entries: expected one array per agent {env.agents}")
    obs = []
    for agent, d, o in zip(env.agents, env.obs_dims, observations):
        o = np.asarray(o, np.float32)
        if o.ndim != 2 or o.shape[1] != d:
            raise ValueError(f"observations for {agent!r} have shape {o.shape}: expected (batch, {d})")
        obs.append(o)
    batch = len(obs[0])
    if any(len(o) != batch for o in obs):
        raise ValueError("observations have different batch sizes per agent: expected the same batch for all")
    out: list[np.ndarray | None] = []
    for i, space in enumerate(env.action_spaces):
        if not isinstance(space, spaces.Discrete):
            out.append(None)
            continue
        m = None if masks is None else masks[i]
        m = np.ones((batch, space.n), bool) if m is None else np.asarray(m, bool)
        if m.shape != (batch, space.n):
            raise ValueError(f"masks for {env.agents[i]!r} have shape {m.shape}: expected ({batch}, {space.n})")
        out.append(m | ~m.any(axis=1, keepdims=True))  # a row with no legal action is treated as all legal
    return obs, out


class NetworkScores:
    """A frozen copy of one agent's scoring network (a DQN's Q-network, a MADDPG actor): ``scores(obs)`` for a
    batch, with the agent's one-hot id appended when the network is shared. Picklable, so policies built on it go
    to process-pool and Ray workers; later training of the learner does not change it."""

    def __init__(self, network: torch.nn.Module, agent_id: np.ndarray | None = None) -> None:
        self.network = copy.deepcopy(network).eval()
        self.agent_id = None if agent_id is None else np.asarray(agent_id, np.float32).copy()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, np.float32)
        if self.agent_id is not None:
            obs = np.concatenate([obs, np.broadcast_to(self.agent_id, (len(obs), len(self.agent_id)))], axis=1)
        with torch.no_grad():
            return self.network(torch.as_tensor(obs)).numpy()


class ObservationGreedyPolicy(os_policy.Policy):
    """A trained agent as an OpenSpiel policy for ``player``: the legal action with the highest score of
    ``scores(observation_tensor)`` (a DQN's Q-values, a MADDPG actor's logits) at every state (ties: the lowest
    action).

    It is also a :class:`marketgames.market.payoffs.BatchPolicy`: :meth:`batch_probabilities` scores a whole batch
    of observation tensors in one call (one forward pass), so ``BatchedMarketSimulator`` plays it on the batched
    market."""

    def __init__(self, game: pyspiel.Game, player: int, scores) -> None:
        super().__init__(game, [player])
        self.player = player
        self.scores = scores

    def action_probabilities(self, state, player_id=None):
        player = self.player if player_id is None else player_id
        legal = state.legal_actions(player)
        obs = np.asarray(state.observation_tensor(player), np.float32)[None]
        q = self.scores(obs)[0]
        best = max(legal, key=lambda a: q[a])
        return {a: float(a == best) for a in legal}

    def batch_probabilities(self, observations: np.ndarray, legal_mask: np.ndarray) -> np.ndarray:
        """``(B, A)`` one-hot rows of the greedy legal action of each ``(B, obs_dim)`` observation tensor, for a
        ``(B, A)`` bool ``legal_mask`` (the rows :meth:`action_probabilities` gives on the same states)."""
        obs = np.asarray(observations, np.float32)
        legal = np.asarray(legal_mask, bool)
        if obs.ndim != 2 or legal.ndim != 2 or len(obs) != len(legal) or not legal.any(axis=1).all():
            raise ValueError(f"observations of shape {obs.shape} and legal_mask of shape {legal.shape} are not "
                             "allowed: expected (B, obs_dim) and (B, num_actions) with a legal action in every row")
        q = np.asarray(self.scores(obs))
        if q.shape != legal.shape:
            raise ValueError(f"scores of shape {q.shape} do not match legal_mask of shape {legal.shape}")
        best = np.argmax(np.where(legal, q, -np.inf), axis=1)  # the first maximum, as max() over legal actions
        out = np.zeros(legal.shape)
        out[np.arange(len(best)), best] = 1.0
        return out


class MultiAgentLearner(abc.ABC):
    """Base of :class:`~solvers.marl.IndependentDQN` and :class:`~solvers.marl.MADDPG`: ``Learner(env_or_factory,
    config, *, seed)``, :meth:`train`, :meth:`act`, :meth:`save` / :meth:`load`, :meth:`policy`.

    ``env_or_factory`` is anything :func:`solvers.marl.envs.as_vector_env` takes (a factory of PettingZoo envs runs
    ``config.num_envs`` copies). One env step is one step of one of the ``B`` episodes, so a vector step counts ``B``.
    """

    kind: str = ""

    def __init__(self, env_or_factory: Any, config: Any, *, seed: SeedLike = 0) -> None:
        self.config = config
        env_seed, learner_seed = seed_sequence(seed).spawn(2)
        self.env = as_vector_env(env_or_factory, num_envs=config.num_envs, seed=env_seed)
        self._build(learner_seed)
        self.env_steps = 0
        self._update_credit = 0  # env steps not yet paid for by a gradient update
        self._obs: list[np.ndarray] | None = None
        self._masks: list[np.ndarray | None] | None = None

    # ------------------------------------------------------------------ learner-specific
    @abc.abstractmethod
    def _build(self, seed: np.random.SeedSequence) -> None:
        """Create networks, optimisers, buffers and generators."""

    @abc.abstractmethod
    def _act(self, obs: list[np.ndarray], masks: list[np.ndarray | None], explore: bool) -> list[np.ndarray]:
        """Actions per agent for validated inputs."""

    @abc.abstractmethod
    def _store(self, obs: list[np.ndarray], masks: list[np.ndarray | None], actions: list[np.ndarray],
               out: VectorStep) -> None:
        """Add one vector step's transitions to the replay."""

    @abc.abstractmethod
    def _update(self) -> dict[str, np.ndarray] | None:
        """One gradient update of every agent: loss name -> ``(n,)``, or ``None`` before the replay is warm."""

    @abc.abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
        """Learner-specific ``(meta, arrays, blobs)`` for a checkpoint."""

    @abc.abstractmethod
    def _restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        """Inverse of :meth:`_state`."""

    @abc.abstractmethod
    def _score_network(self, agent: int) -> tuple[torch.nn.Module, np.ndarray | None]:
        """The network whose outputs are a Discrete agent's per-action scores (greedy = masked argmax), and the
        one-hot agent id appended to its input when the network is shared (else None)."""

    @staticmethod
    @abc.abstractmethod
    def _config_from_dict(data: dict[str, Any]) -> Any:
        """The config dataclass from its ``dataclasses.asdict``."""

    # ------------------------------------------------------------------ contract
    @property
    def agents(self) -> list[str]:
        return list(self.env.agents)

    def act(self, observations: Sequence[np.ndarray], masks: Sequence[np.ndarray | None] | None = None, *,
            explore: bool = False) -> list[np.ndarray]:
        """Each agent's actions for a batch: ``observations[i]`` is ``(batch, obs_dims[i])``; ``masks[i]``
        ``(batch, A_i)`` bool (default all legal). Greedy unless ``explore``. Returns ``(batch,)`` ints (Discrete)
        or ``(batch, k)`` floats within the Box bounds."""
        obs, m = check_masks(self.env, observations, masks)
        return self._act(obs, m, explore)

    def train(self, steps: int) -> TrainLog:
        """Train for ``steps`` env steps (rounded up to whole vector steps of ``num_envs``); one gradient update
        every ``config.env_steps_per_update`` env steps."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"steps={steps!r} is not allowed: expected an int >= 0")
        env, every = self.env, self.config.env_steps_per_update
        returns, ends, loss_steps = [], [], []
        losses: dict[str, list[np.ndarray]] = {}
        if self._obs is None or self._masks is None:  # both are set and cleared together
            self._obs, self._masks = env.reset()
        target = self.env_steps + int(steps)
        while self.env_steps < target:
            actions = self._act(self._obs, self._masks, True)
            out = env.step(actions)
            self._store(self._obs, self._masks, actions, out)
            self.env_steps += env.num_envs
            self._update_credit += env.num_envs
            while self._update_credit >= every:
                self._update_credit -= every
                stats = self._update()
                if stats is not None:
                    loss_steps.append(self.env_steps)
                    for name, value in stats.items():
                        losses.setdefault(name, []).append(value)
            ended = np.flatnonzero(out.terminated | out.truncated)
            if ended.size:
                returns.append(out.episode_returns[ended])
                ends.append(np.full(ended.size, self.env_steps))
            self._obs, self._masks = out.obs, out.masks
        n = env.num_agents
        return TrainLog(
            agents=self.agents,
            episode_returns=np.concatenate(returns) if returns else np.zeros((0, n)),
            episode_end_steps=np.concatenate(ends) if ends else np.zeros(0, np.int64),
            losses={k: np.asarray(v, np.float64).reshape(-1, n) for k, v in losses.items()},
            loss_steps=np.asarray(loss_steps, np.int64))

    def policy(self, game: pyspiel.Game, agent: int | str) -> os_policy.Policy:
        """Agent ``agent`` (index or name) as an OpenSpiel policy for ``game`` (the game the env was built on:
        its observation tensors must be the env's observations), greedy over the legal actions. The policy is a
        snapshot: it holds a copy of the agent's network, so it pickles and later training does not change it."""
        index = self.agents.index(agent) if isinstance(agent, str) and agent in self.agents else agent
        if isinstance(index, str) or not 0 <= int(index) < len(self.agents):
            raise ValueError(f"agent={agent!r} is not allowed: expected an index < {len(self.agents)} or one of "
                             f"{self.agents}")
        index = int(index)
        space = self.env.action_spaces[index]
        if not isinstance(space, spaces.Discrete):
            raise ValueError(f"agent={agent!r} has action space {space}: OpenSpiel policies need Discrete actions")
        if game.observation_tensor_size() != self.env.obs_dims[index] or game.num_distinct_actions() != space.n:
            raise ValueError(f"game={game} does not match agent {agent!r}: observation size "
                             f"{game.observation_tensor_size()} vs {self.env.obs_dims[index]}, actions "
                             f"{game.num_distinct_actions()} vs {space.n}")
        return ObservationGreedyPolicy(game, index, NetworkScores(*self._score_network(index)))

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Write networks, optimisers, replay, counters, config and RNG states (and the env's episode seeds when
        the env supports it). Resuming from it gives the same numbers as an uninterrupted run when it was saved at
        the end of a vector step where every episode had just ended (e.g. after a multiple of the episode length
        with fixed-length episodes); otherwise the episodes in progress are restarted."""
        meta, arrays, blobs = self._state()
        meta = {**meta, "config": dataclasses.asdict(self.config), "env_steps": self.env_steps,
                "update_credit": self._update_credit, "env_state": self.env.get_state(), "agents": self.agents}
        return save_checkpoint(path, kind=self.kind, meta=meta, arrays=arrays, blobs=blobs)

    def load(self, path: str | Path) -> None:
        """Restore :meth:`save`'s checkpoint into this learner (built on an env with the same agents and
        spaces). The env's episodes restart at the next :meth:`train`."""
        checkpoint = load_checkpoint(path, kind=self.kind)
        meta = checkpoint.meta
        if meta["agents"] != self.agents:
            raise ValueError(f"path={str(path)!r} holds agents {meta['agents']}: this learner has {self.agents}")
        config = self._config_from_dict(meta["config"])
        if dataclasses.asdict(config) != dataclasses.asdict(self.config):
            # the networks' shapes and the schedules follow the config: rebuild before restoring
            self.config = config
            self._build(np.random.SeedSequence(0))
        self._restore(meta, checkpoint.arrays, checkpoint.blobs)
        self.env_steps = int(meta["env_steps"])
        self._update_credit = int(meta["update_credit"])
        if meta["env_state"] is not None:
            self.env.set_state(meta["env_state"])
        self._obs = self._masks = None
