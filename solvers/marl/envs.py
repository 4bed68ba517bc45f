"""One vectorised multi-agent interface for the learners of :mod:`solvers.marl`, and its two adapters.

:class:`MultiAgentVectorEnv` steps ``num_envs`` episodes at once and speaks in *per-agent lists*: agent ``i``'s
observations are a ``(B, obs_dims[i])`` float32 array, its action masks ``(B, A_i)`` bool (``None`` for a ``Box``
action space), its actions ``(B,)`` ints or ``(B, k_i)`` floats. Agents may differ in observation size and action
space (mpe2's ``simple_speaker_listener_v4``: observations of 3 and 11 numbers, 3 and 5 actions). Episodes reset
automatically: the observations returned for an ended episode are the first of its next episode, and the last ones
of the ended episode are in :attr:`VectorStep.final_obs` (what a replay buffer needs to bootstrap a truncation).

* :class:`ParallelEnvVector` runs ``B`` copies of any PettingZoo ``ParallelEnv`` made by a factory.
* :class:`MarketVectorAdapter` wraps ``marketgames.envs.vector_env.MarketVectorEnv`` (the batched market) with
  zero-copy views ``obs[:, i]``.
"""
from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces

from marketgames.envs.spaces import market_config
from marketgames.envs.vector_env import MarketVectorEnv
from marketgames.seeding import SeedLike, seed_sequence

__all__ = ["MarketVectorAdapter", "MultiAgentVectorEnv", "ParallelEnvVector", "VectorStep", "as_vector_env"]


@dataclasses.dataclass
class VectorStep:
    """What :meth:`MultiAgentVectorEnv.step` returns (per-agent lists of ``(B, ...)`` arrays).

    Attributes:
        obs: each agent's observations to act on next (a new episode's first ones where an episode ended).
        masks: each agent's legal actions for ``obs`` (``None`` for a ``Box`` action space).
        rewards: ``(B, n)`` float32 rewards of this step.
        final_obs: each agent's true next observations of this step (the last ones of an ended episode).
        final_masks: legal actions for ``final_obs``.
        terminated: ``(B,)`` episodes that reached a terminal state (no bootstrap).
        truncated: ``(B,)`` episodes cut by a time limit (bootstrap from ``final_obs``).
        episode_returns: ``(B, n)`` float64 summed rewards of the episodes that ended this step, NaN elsewhere.
    """

    obs: list[np.ndarray]
    masks: list[np.ndarray | None]
    rewards: np.ndarray
    final_obs: list[np.ndarray]
    final_masks: list[np.ndarray | None]
    terminated: np.ndarray
    truncated: np.ndarray
    episode_returns: np.ndarray


class MultiAgentVectorEnv(abc.ABC):
    """``num_envs`` episodes of an ``n``-agent game stepped together (see the module docstring)."""

    num_envs: int
    agents: list[str]
    obs_dims: list[int]
    action_spaces: list[spaces.Space]

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @abc.abstractmethod
    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """Start all episodes; returns each agent's observations and masks."""

    @abc.abstractmethod
    def step(self, actions: Sequence[np.ndarray]) -> VectorStep:
        """Apply each agent's ``(B,)`` (Discrete) or ``(B, k)`` (Box) actions."""

    def get_state(self) -> dict[str, Any] | None:
        """JSON data that lets :meth:`set_state` restart the episodes exactly where they began (``None``: not
        supported). Used by the learners' checkpoints."""
        return None

    def set_state(self, state: dict[str, Any]) -> None:  # noqa: B027  (optional hook: a no-op by default)
        """Restore :meth:`get_state` data; the next :meth:`reset` restarts each episode as it began."""


def checked_action_spaces(env: MultiAgentVectorEnv) -> list[spaces.Discrete | spaces.Box]:
    """``env.action_spaces``, each checked to be one of the two kinds the learners support."""
    checked: list[spaces.Discrete | spaces.Box] = []
    for agent, space in zip(env.agents, env.action_spaces):
        if not isinstance(space, (spaces.Discrete, spaces.Box)):
            raise TypeError(f"action space of agent {agent!r} is {space!r}: expected a gymnasium Discrete or Box")
        checked.append(space)
    return checked


def _check_actions(env: MultiAgentVectorEnv, actions: Sequence[np.ndarray]) -> list[np.ndarray]:
    if len(actions) != env.num_agents:
        raise ValueError(f"actions has {len(actions)} entries: expected one array per agent {env.agents}")
    checked = []
    for agent, space, a in zip(env.agents, checked_action_spaces(env), actions):
        a = np.asarray(a)
        shape = (env.num_envs,) if isinstance(space, spaces.Discrete) else (env.num_envs, *space.shape)
        if a.shape != shape:
            raise ValueError(f"actions for {agent!r} have shape {a.shape}: expected {shape}")
        checked.append(a)
    return checked


class ParallelEnvVector(MultiAgentVectorEnv):
    """``num_envs`` copies of a PettingZoo ``ParallelEnv`` with automatic reset.

    Copy ``b`` draws the seed of each of its episodes from its own generator, child ``b`` of
    ``seed_sequence(seed)``, so a copy's episodes do not depend on ``num_envs``. Masks come from a ``Dict``
    observation's ``"action_mask"``, else ``infos[agent]["action_mask"]``, else every action is legal. An agent that
    leaves before the episode ends observes zeros and gets reward 0 until it does; the episode ends when no agent is
    left, and counts as terminated if any agent's last step was a termination (else truncated).

    Args:
        factory: makes one ``ParallelEnv`` (called ``num_envs`` times).
        num_envs: copies ``B``.
        seed: seeds every copy.
    """

    def __init__(self, factory: Callable[[], Any], num_envs: int = 1, *, seed: SeedLike = 0) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an int >= 1")
        if not callable(factory):
            raise TypeError(f"factory={factory!r} is not allowed: expected a callable returning a ParallelEnv")
        sequence = seed_sequence(seed)
        self.envs = [factory() for _ in range(int(num_envs))]
        self.num_envs = int(num_envs)
        first = self.envs[0]
        self.agents = list(first.possible_agents)
        self._dict_obs: list[bool] = []
        self.obs_dims, self.action_spaces = [], []
        for agent in self.agents:
            space = first.observation_space(agent)
            is_dict = isinstance(space, spaces.Dict) and "observation" in space.spaces
            box = space["observation"] if is_dict else space
            if not isinstance(box, spaces.Box):
                raise ValueError(f"observation_space({agent!r})={space} is not allowed: expected a Box or a Dict "
                                 "with a Box 'observation'")
            action_space = first.action_space(agent)
            if not isinstance(action_space, (spaces.Discrete, spaces.Box)):
                raise ValueError(f"action_space({agent!r})={action_space} is not allowed: expected Discrete or Box")
            if isinstance(action_space, spaces.Discrete) and action_space.start != 0:
                raise ValueError(f"action_space({agent!r})={action_space} is not allowed: expected start 0")
            self._dict_obs.append(is_dict)
            self.obs_dims.append(int(np.prod(box.shape)))
            self.action_spaces.append(action_space)
        self._rngs = [np.random.default_rng(child) for child in sequence.spawn(self.num_envs)]
        self._episode_seeds = np.zeros(self.num_envs, np.int64)
        self._replay_seeds = False  # set_state: the next reset replays the saved episode seeds
        self._returns = np.zeros((self.num_envs, self.num_agents))
        self._started = False

    # ------------------------------------------------------------------ conversion
    def _read(self, b: int, observations: dict, infos: dict, obs: list[np.ndarray],
              masks: list[np.ndarray | None]) -> None:
        for i, agent in enumerate(self.agents):
            raw = observations.get(agent)
            mask = masks[i]
            if raw is None:  # the agent has left this episode
                obs[i][b] = 0.0
                if mask is not None:
                    mask[b] = True
                continue
            if self._dict_obs[i]:
                if mask is not None and "action_mask" in raw:
                    mask[b] = np.asarray(raw["action_mask"], bool)
                raw = raw["observation"]
            elif mask is not None and "action_mask" in infos.get(agent, {}):
                mask[b] = np.asarray(infos[agent]["action_mask"], bool)
            obs[i][b] = np.asarray(raw, np.float32).reshape(-1)

    def _empty(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        obs = [np.zeros((self.num_envs, d), np.float32) for d in self.obs_dims]
        masks = [np.ones((self.num_envs, s.n), bool) if isinstance(s, spaces.Discrete) else None
                 for s in self.action_spaces]
        return obs, masks

    def _reset_copy(self, b: int, obs, masks) -> None:
        if not self._replay_seeds:
            self._episode_seeds[b] = int(self._rngs[b].integers(0, 2**31 - 1))
        observations, infos = self.envs[b].reset(seed=int(self._episode_seeds[b]))
        self._returns[b] = 0.0
        self._read(b, observations, infos, obs, masks)

    # ------------------------------------------------------------------ API
    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        obs, masks = self._empty()
        for b in range(self.num_envs):
            self._reset_copy(b, obs, masks)
        self._replay_seeds = False
        self._started = True
        return obs, masks

    def step(self, actions: Sequence[np.ndarray]) -> VectorStep:
        if not self._started:
            raise RuntimeError("step() called before reset()")
        actions = _check_actions(self, actions)
        obs, masks = self._empty()
        final_obs, final_masks = self._empty()
        rewards = np.zeros((self.num_envs, self.num_agents), np.float32)
        terminated = np.zeros(self.num_envs, bool)
        truncated = np.zeros(self.num_envs, bool)
        episode_returns = np.full((self.num_envs, self.num_agents), np.nan)
        discrete = [isinstance(s, spaces.Discrete) for s in self.action_spaces]
        for b, env in enumerate(self.envs):
            live = env.agents
            joint = {agent: (int(actions[i][b]) if discrete[i] else actions[i][b])
                     for i, agent in enumerate(self.agents) if agent in live}
            observations, reward, terms, _truncs, infos = env.step(joint)
            for i, agent in enumerate(self.agents):
                rewards[b, i] = reward.get(agent, 0.0)
            self._returns[b] += rewards[b]
            self._read(b, observations, infos, final_obs, final_masks)
            if env.agents:
                for i in range(self.num_agents):
                    obs[i][b] = final_obs[i][b]
                    mask, final_mask = masks[i], final_masks[i]
                    if mask is not None and final_mask is not None:  # both or neither: one _empty() layout
                        mask[b] = final_mask[b]
                continue
            terminated[b] = any(terms.values())
            truncated[b] = not terminated[b]
            episode_returns[b] = self._returns[b]
            self._reset_copy(b, obs, masks)
        return VectorStep(obs, masks, rewards, final_obs, final_masks, terminated, truncated, episode_returns)

    def get_state(self) -> dict[str, Any]:
        return {"rngs": [rng.bit_generator.state for rng in self._rngs],
                "episode_seeds": self._episode_seeds.tolist()}

    def set_state(self, state: dict[str, Any]) -> None:
        for rng, s in zip(self._rngs, state["rngs"], strict=True):
            rng.bit_generator.state = s
        self._episode_seeds[:] = state["episode_seeds"]
        self._replay_seeds = True
        self._started = False


class MarketVectorAdapter(MultiAgentVectorEnv):
    """The batched market ``MarketVectorEnv`` (observations ``(B, n, obs_dim)``) in the per-agent interface.

    Observations, masks and final observations are views ``array[:, i]`` of the env's arrays (no copy). The market
    has no time limit: every ended episode is terminated. Checkpoints hold the env's episode index (when the env has
    ``get_state``), so a learner loaded onto an env built with the same seed replays the episode that was under way.
    """

    def __init__(self, env: Any) -> None:
        for name in ("num_envs", "num_agents", "agents", "obs_dim", "num_actions", "reset", "step"):
            if not hasattr(env, name):
                raise TypeError(f"env={env!r} is not allowed: a MarketVectorEnv has {name!r}")
        self.env = env
        self.num_envs = int(env.num_envs)
        self.agents = list(env.agents)
        self.obs_dims = [int(env.obs_dim)] * len(self.agents)
        self.action_spaces = [spaces.Discrete(int(env.num_actions)) for _ in self.agents]
        self._started = False

    def get_state(self) -> dict[str, Any] | None:
        return self.env.get_state() if hasattr(self.env, "get_state") else None

    def set_state(self, state: dict[str, Any]) -> None:
        if hasattr(self.env, "set_state"):
            self.env.set_state(state)
        self._started = False

    def _split(self, obs: np.ndarray, mask: np.ndarray):
        n = len(self.agents)
        return [obs[:, i] for i in range(n)], [mask[:, i] for i in range(n)]

    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        obs, info = self.env.reset()
        self._started = True
        return self._split(obs, info["action_mask"])

    def step(self, actions: Sequence[np.ndarray]) -> VectorStep:
        if not self._started:
            raise RuntimeError("step() called before reset()")
        joint = np.stack(_check_actions(self, actions), axis=1).astype(np.int64, copy=False)
        obs, rewards, terminated, truncated, info = self.env.step(joint)
        masks = info["action_mask"]
        ended = np.asarray(terminated) | np.asarray(truncated)
        final = info["final_observation"]
        # the env's final observation is defined on ended rows; elsewhere the true next observation is ``obs``
        next_obs = np.where(ended[:, None, None], final, obs) if ended.any() else obs
        o, m = self._split(obs, masks)
        fo, fm = self._split(next_obs, masks)
        return VectorStep(o, m, np.asarray(rewards, np.float32), fo, fm, np.asarray(terminated, bool),
                          np.asarray(truncated, bool), np.asarray(info["episode_return"], np.float64))


def as_vector_env(env_or_factory: Any, *, num_envs: int, seed: SeedLike) -> MultiAgentVectorEnv:
    """The learners' env: a :class:`MultiAgentVectorEnv` as it is, a ``MarketVectorEnv`` wrapped by
    :class:`MarketVectorAdapter`, a PettingZoo ``ParallelEnv`` (one copy) or a factory of them (``num_envs`` copies)
    wrapped by :class:`ParallelEnvVector`, or a ``python_lob_market`` game (or its ``load_game`` string): ``num_envs``
    markets of a ``MarketVectorEnv`` seeded by ``seed``."""
    if isinstance(env_or_factory, MultiAgentVectorEnv):
        return env_or_factory
    if isinstance(env_or_factory, (str, pyspiel.Game)):
        game = pyspiel.load_game(env_or_factory) if isinstance(env_or_factory, str) else env_or_factory
        if market_config(game) is None:
            raise TypeError(f"env_or_factory={env_or_factory!r} is not allowed: a game must be a python_lob_market "
                            "game (other games: pass a PettingZoo env factory)")
        return MarketVectorAdapter(MarketVectorEnv(game, num_envs, seed=seed))
    if all(hasattr(env_or_factory, name) for name in ("num_envs", "num_agents", "obs_dim", "num_actions")):
        return MarketVectorAdapter(env_or_factory)
    if hasattr(env_or_factory, "possible_agents") and hasattr(env_or_factory, "step"):
        env = env_or_factory
        if num_envs != 1:
            raise ValueError(f"num_envs={num_envs} is not allowed with one ParallelEnv instance: pass a factory "
                             "(a callable returning a new env) to run several copies")
        return ParallelEnvVector(lambda: env, 1, seed=seed)
    if callable(env_or_factory):
        return ParallelEnvVector(env_or_factory, num_envs, seed=seed)
    raise TypeError(f"env_or_factory={env_or_factory!r} is not allowed: expected a MultiAgentVectorEnv, a "
                    "MarketVectorEnv, a python_lob_market game or its string, a PettingZoo ParallelEnv or a callable "
                    "returning one")
