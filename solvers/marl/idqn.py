"""Independent DQN (Tan 1993, "Multi-Agent Reinforcement Learning: Independent vs. Cooperative Agents"; Tampuu et
al. 2017, "Multiagent cooperation and competition with deep reinforcement learning"): one
:class:`solvers.rl.dqn.DQN` per agent, each treating the other agents as part of its environment.

With ``share_parameters`` all agents use one DQN (and one replay) whose input is the observation followed by a
one-hot agent id (Gupta et al. 2017's parameter sharing); that needs every agent to have the same observation size
and the same Discrete action space.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from solvers.marl.base import MultiAgentLearner, torch_bytes, torch_load
from solvers.marl.envs import VectorStep
from solvers.rl.dqn import DQN, DQNConfig

__all__ = ["IndependentDQN", "IndependentDQNConfig"]


def _default_dqn() -> DQNConfig:
    # Adam and a linear epsilon schedule from 1 (the usual single-agent DQN settings, cleanrl's dqn.py), not the
    # NFSP-tuned defaults of DQNConfig
    return DQNConfig(hidden=(64, 64), learning_rate=1e-3, batch_size=128, replay_capacity=100_000, min_buffer=1_000,
                     target_update_every=250, epsilon_start=1.0, epsilon_end=0.05, epsilon_decay_steps=20_000,
                     discount=0.95, optimizer="adam")


@dataclass
class IndependentDQNConfig:
    """Hyper-parameters of :class:`IndependentDQN`.

    Attributes:
        dqn: each agent's DQN (``epsilon_decay_steps`` counts that network's acting rows: env steps, times the
            number of agents when shared).
        share_parameters: one DQN for all agents, with a one-hot agent id appended to the observation.
        num_envs: copies of the env when the learner is built from a factory of PettingZoo envs (markets of a
            ``MarketVectorEnv`` when built from a ``python_lob_market`` game or its string).
        env_steps_per_update: env steps (summed over the ``num_envs`` copies) per gradient step of each network.
    """

    dqn: DQNConfig = field(default_factory=_default_dqn)
    share_parameters: bool = False
    num_envs: int = 1
    env_steps_per_update: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.dqn, dict):  # from a checkpoint's JSON
            self.dqn = DQNConfig(**{**self.dqn, "hidden": tuple(self.dqn["hidden"])})
        if not isinstance(self.dqn, DQNConfig):
            raise ValueError(f"dqn={self.dqn!r} is not allowed: expected a DQNConfig")
        checks = {"share_parameters": isinstance(self.share_parameters, bool),
                  "num_envs": isinstance(self.num_envs, int) and self.num_envs >= 1,
                  "env_steps_per_update": isinstance(self.env_steps_per_update, int) and self.env_steps_per_update >= 1}
        expected = {"share_parameters": "a bool", "num_envs": "an int >= 1", "env_steps_per_update": "an int >= 1"}
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected {expected[name]}")


class IndependentDQN(MultiAgentLearner):
    """Independent DQN learners on a :class:`~solvers.marl.envs.MultiAgentVectorEnv` (Discrete actions only).

    Args:
        env_or_factory: see :func:`solvers.marl.envs.as_vector_env`.
        config: hyper-parameters.
        seed: seeds the env copies, every network and every exploration / replay generator.
    """

    kind = "IndependentDQN"

    def __init__(self, env_or_factory: Any, config: IndependentDQNConfig | None = None, *, seed=0) -> None:
        super().__init__(env_or_factory, config or IndependentDQNConfig(), seed=seed)

    def _build(self, seed: np.random.SeedSequence) -> None:
        env, c = self.env, self.config
        num_actions: list[int] = []
        for agent, space in zip(env.agents, env.action_spaces):
            if not isinstance(space, spaces.Discrete):
                raise TypeError(f"action space of agent {agent!r} is {space}: IndependentDQN needs Discrete actions "
                                 "(use MADDPG for Box actions)")
            num_actions.append(int(space.n))
        if c.share_parameters:
            if len(set(env.obs_dims)) > 1 or len(set(num_actions)) > 1:
                raise ValueError(f"share_parameters=True is not allowed: agents {env.agents} have observation sizes "
                                 f"{env.obs_dims} and action counts {num_actions}; sharing needs identical spaces")
            n = env.num_agents
            self.dqns = [DQN(env.obs_dims[0] + n, num_actions[0], c.dqn, seed=seed)]
            self._ids = np.eye(n, dtype=np.float32)
        else:
            self.dqns = [DQN(d, a, c.dqn, seed=child)
                         for d, a, child in zip(env.obs_dims, num_actions, seed.spawn(env.num_agents))]

    # ------------------------------------------------------------------ acting
    def _shared_input(self, i: int, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, np.broadcast_to(self._ids[i], (len(obs), len(self._ids)))], axis=1)

    def _act(self, obs, masks, explore):
        if not self.config.share_parameters:
            return [dqn.act(o, m, explore=explore) for dqn, o, m in zip(self.dqns, obs, masks)]
        n, batch = len(obs), len(obs[0])
        joint = np.concatenate([self._shared_input(i, o) for i, o in enumerate(obs)])
        actions = self.dqns[0].act(joint, np.concatenate(masks), explore=explore)
        return [actions[i * batch:(i + 1) * batch] for i in range(n)]

    def _score_network(self, agent: int) -> tuple[torch.nn.Module, np.ndarray | None]:
        if self.config.share_parameters:
            return self.dqns[0].q, self._ids[agent]
        return self.dqns[agent].q, None

    # ------------------------------------------------------------------ learning
    def _store(self, obs, masks, actions, out: VectorStep) -> None:
        done = out.terminated.astype(np.float32)  # a truncated episode bootstraps from its final observation
        for i in range(len(obs)):
            if self.config.share_parameters:
                o, nxt = self._shared_input(i, obs[i]), self._shared_input(i, out.final_obs[i])
                dqn = self.dqns[0]
            else:
                o, nxt, dqn = obs[i], out.final_obs[i], self.dqns[i]
            dqn.buffer.add(o, actions[i], out.rewards[:, i], nxt, out.final_masks[i], done)

    def _update(self) -> dict[str, np.ndarray] | None:
        losses = [dqn.learn() for dqn in self.dqns]
        if all(loss is None for loss in losses):
            return None
        values = np.array([np.nan if loss is None else loss for loss in losses])
        return {"td_loss": np.repeat(values, self.env.num_agents) if self.config.share_parameters else values}

    # ------------------------------------------------------------------ checkpoints
    _BUFFER = ("obs", "action", "reward", "next_obs", "next_legal", "done")

    def _state(self):
        meta: dict[str, Any] = {"dqns": []}
        arrays, blobs = {}, {}
        for k, dqn in enumerate(self.dqns):
            b = dqn.buffer
            meta["dqns"].append({"steps": dqn.steps, "learn_steps": dqn.learn_steps, "rng": dqn.rng.bit_generator.state,
                                 "buffer_size": b.size, "buffer_next": b._next})
            for name in self._BUFFER:
                arrays[f"dqn{k}_{name}"] = getattr(b, name)[:b.size]
            blobs[f"dqn{k}.pt"] = torch_bytes({"q": dqn.q.state_dict(), "target": dqn.target.state_dict(),
                                               "optimizer": dqn.optimizer.state_dict()})
        return meta, arrays, blobs

    def _restore(self, meta, arrays, blobs) -> None:
        for k, dqn in enumerate(self.dqns):
            m = meta["dqns"][k]
            nets = torch_load(blobs[f"dqn{k}.pt"])
            dqn.q.load_state_dict(nets["q"])
            dqn.target.load_state_dict(nets["target"])
            dqn.optimizer.load_state_dict(nets["optimizer"])
            dqn.rng.bit_generator.state = m["rng"]
            dqn.steps, dqn.learn_steps = int(m["steps"]), int(m["learn_steps"])
            b = dqn.buffer
            for name in self._BUFFER:
                getattr(b, name)[:m["buffer_size"]] = arrays[f"dqn{k}_{name}"]
            b.size, b._next = int(m["buffer_size"]), int(m["buffer_next"])

    @staticmethod
    def _config_from_dict(data: dict[str, Any]) -> IndependentDQNConfig:
        return IndependentDQNConfig(**data)
