"""MADDPG (Lowe et al. 2017, "Multi-Agent Actor-Critic for Mixed Cooperative-Competitive Environments").

Each agent has a decentralised actor on its own observation and a centralised critic ``Q_i(o_1..o_n, a_1..a_n)``
on every agent's observation and action. Following the authors' code (openai/maddpg, ``trainer/maddpg.py``): the
critic regresses on ``r_i + gamma (1 - done) Q'_i(o', a'_1..a'_n)`` with every ``a'_j`` from agent ``j``'s target
actor; the actor of agent ``i`` maximises ``Q_i`` with its own *current* relaxed action and the others' replayed
actions, plus ``1e-3`` times the mean square of its pre-activation outputs; gradient norms are clipped (0.5),
targets follow by Polyak averaging (tau 0.01), and one update (one batch per agent) runs every 100 env steps once
the replay holds ``batch_size * 25`` transitions, with Adam at 1e-2, 64-unit layers, gamma 0.95 and batches of 1024.

Discrete actions are sampled by Gumbel-max from the masked logits (illegal logits are -inf before the softmax) and
stored one-hot; the actor's gradient goes through the straight-through Gumbel-softmax (Jang et al. 2017). Box
actions are ``tanh`` outputs in ``[-1, 1]`` (the critics see these) mapped affinely to the Box bounds, explored
with Gaussian noise clipped to ``[-1, 1]``; or (``box_activation="softmax"``) points of the simplex, explored by
Gumbel-softmax samples, as openai/maddpg acts in the particle environments.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from solvers.marl.base import MultiAgentLearner, torch_bytes, torch_load
from solvers.marl.buffers import JointReplayBuffer
from solvers.marl.envs import VectorStep, checked_action_spaces
from solvers.rl.dqn import mlp

__all__ = ["MADDPG", "MADDPGConfig"]

BOX_ACTIVATIONS = ("tanh", "softmax")


@dataclass
class MADDPGConfig:
    """Hyper-parameters of :class:`MADDPG` (defaults: openai/maddpg's ``train.py``).

    Attributes:
        actor_hidden / critic_hidden: ReLU hidden layers.
        actor_lr / critic_lr: Adam step sizes.
        discount: gamma.
        tau: Polyak weight of the online networks in each target update.
        batch_size: transitions per agent per update.
        replay_capacity: transitions kept.
        min_buffer: transitions before the first update (openai: ``batch_size * max_episode_len``).
        env_steps_per_update: env steps (summed over copies) per update of every agent.
        gumbel_temperature: temperature of the relaxed discrete action in the actor loss.
        exploration_noise: standard deviation of the Gaussian noise on Box actions (in ``[-1, 1]`` units).
        logit_regularization: weight of the mean squared actor output in the actor loss.
        max_grad_norm: gradient-norm clip of actors and critics.
        box_activation: how an actor's outputs become a Box action. ``"tanh"``: ``tanh`` in ``[-1, 1]`` mapped
            affinely to the bounds, explored with Gaussian noise (``exploration_noise``; DDPG). ``"softmax"``: a
            point of the simplex mapped affinely to the bounds (``low + p (high - low)``), ``softmax(logits)`` when
            greedy and the Gumbel-softmax sample at ``gumbel_temperature`` when exploring and in the actor loss:
            what openai/maddpg feeds the particle environments (its MPE takes a probability vector per agent,
            which is mpe2's ``continuous_actions=True`` interface).
        num_envs: copies of the env when the learner is built from a factory of PettingZoo envs (markets of a
            ``MarketVectorEnv`` when built from a ``python_lob_market`` game or its string).
    """

    actor_hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (64, 64)
    actor_lr: float = 1e-2
    critic_lr: float = 1e-2
    discount: float = 0.95
    tau: float = 0.01
    batch_size: int = 1024
    replay_capacity: int = 1_000_000
    min_buffer: int = 1024 * 25
    env_steps_per_update: int = 100
    gumbel_temperature: float = 1.0
    exploration_noise: float = 0.1
    logit_regularization: float = 1e-3
    max_grad_norm: float = 0.5
    num_envs: int = 1
    box_activation: str = "tanh"

    def __post_init__(self) -> None:
        self.actor_hidden = tuple(int(h) for h in self.actor_hidden)  # checkpoints hand back lists
        self.critic_hidden = tuple(int(h) for h in self.critic_hidden)
        ints = ("batch_size", "replay_capacity", "env_steps_per_update", "num_envs")
        checks = {
            "actor_hidden": all(h >= 1 for h in self.actor_hidden),
            "critic_hidden": all(h >= 1 for h in self.critic_hidden),
            "actor_lr": self.actor_lr > 0, "critic_lr": self.critic_lr > 0, "discount": 0 <= self.discount <= 1,
            "tau": 0 < self.tau <= 1, "min_buffer": isinstance(self.min_buffer, int) and self.min_buffer >= 0,
            "gumbel_temperature": self.gumbel_temperature > 0, "exploration_noise": self.exploration_noise >= 0,
            "logit_regularization": self.logit_regularization >= 0, "max_grad_norm": self.max_grad_norm > 0,
            **{name: isinstance(getattr(self, name), int) and getattr(self, name) >= 1 for name in ints},
        }
        expected = {"actor_hidden": "positive sizes", "critic_hidden": "positive sizes", "discount": "in [0, 1]",
                    "tau": "in (0, 1]", "min_buffer": "an int >= 0", "exploration_noise": ">= 0",
                    "logit_regularization": ">= 0", **{name: "an int >= 1" for name in ints}}
        checks["box_activation"] = self.box_activation in BOX_ACTIVATIONS
        expected["box_activation"] = f"one of {BOX_ACTIVATIONS}"
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: expected "
                                 f"{expected.get(name, 'a positive number')}")


def _polyak(target: nn.Module, online: nn.Module, tau: float) -> None:
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters()):
            t.mul_(1.0 - tau).add_(o, alpha=tau)


class MADDPG(MultiAgentLearner):
    """MADDPG on a :class:`~solvers.marl.envs.MultiAgentVectorEnv` with Discrete and/or Box action spaces.

    Args:
        env_or_factory: see :func:`solvers.marl.envs.as_vector_env`.
        config: hyper-parameters.
        seed: seeds the env copies, the network initialisations, the replay sampling (numpy) and the Gumbel and
            Gaussian exploration noise (a local ``torch.Generator``; the global torch RNG is neither read nor changed).
    """

    kind = "MADDPG"

    def __init__(self, env_or_factory: Any, config: MADDPGConfig | None = None, *, seed=0) -> None:
        super().__init__(env_or_factory, config or MADDPGConfig(), seed=seed)

    def _build(self, seed: np.random.SeedSequence) -> None:
        env, c = self.env, self.config
        action_spaces = checked_action_spaces(env)
        self.discrete = [isinstance(s, spaces.Discrete) for s in action_spaces]
        self.action_dims = [int(s.n) if isinstance(s, spaces.Discrete) else int(np.prod(s.shape))
                            for s in action_spaces]
        # flat Box bounds (None for a Discrete agent)
        self._low: list[torch.Tensor | None] = [
            None if isinstance(s, spaces.Discrete) else torch.as_tensor(s.low.reshape(-1), dtype=torch.float32)
            for s in action_spaces]
        self._high: list[torch.Tensor | None] = [
            None if isinstance(s, spaces.Discrete) else torch.as_tensor(s.high.reshape(-1), dtype=torch.float32)
            for s in action_spaces]
        for agent, low, high in zip(env.agents, self._low, self._high):
            if low is not None and not (torch.isfinite(low).all() and torch.isfinite(high).all()):
                raise ValueError(f"action_space of {agent!r} is unbounded: MADDPG squashes Box actions into finite "
                                 "bounds")
        init_seed, noise_seed, replay_seed = seed.spawn(3)
        joint = sum(env.obs_dims) + sum(self.action_dims)
        with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching the caller's RNG
            torch.manual_seed(int(init_seed.generate_state(1)[0]))
            self.actors = [mlp(d, c.actor_hidden, a) for d, a in zip(env.obs_dims, self.action_dims)]
            self.critics = [mlp(joint, c.critic_hidden, 1) for _ in env.agents]
        self.target_actors = [copy.deepcopy(a) for a in self.actors]
        self.target_critics = [copy.deepcopy(q) for q in self.critics]
        for net in self.target_actors + self.target_critics:
            net.requires_grad_(False)
        self.actor_optimizers = [torch.optim.Adam(a.parameters(), lr=c.actor_lr) for a in self.actors]
        self.critic_optimizers = [torch.optim.Adam(q.parameters(), lr=c.critic_lr) for q in self.critics]
        self.generator = torch.Generator().manual_seed(int(noise_seed.generate_state(1)[0]))
        self.rng = np.random.default_rng(replay_seed)
        mask_dims = [a if d else 0 for a, d in zip(self.action_dims, self.discrete)]
        self.buffer = JointReplayBuffer(c.replay_capacity, env.obs_dims, self.action_dims, mask_dims)
        self.updates = 0

    # ------------------------------------------------------------------ actions
    def _gumbel(self, shape) -> torch.Tensor:
        u = torch.rand(shape, generator=self.generator).clamp_(1e-10, 1.0 - 1e-7)
        return -torch.log(-torch.log(u))

    def _relaxed(self, logits: torch.Tensor, mask: torch.Tensor | None, *, hard: bool) -> torch.Tensor:
        """Gumbel-softmax sample of masked logits; ``hard``: one-hot forward, soft gradient (straight-through)."""
        if mask is not None:
            logits = logits.masked_fill(~mask, float("-inf"))
        if hard and not torch.is_grad_enabled():
            # no gradient to pass straight through (the target actions): the one-hot of the Gumbel-max, without
            # the softmax (same noise drawn, same argmax)
            sample = (logits + self._gumbel(logits.shape)).argmax(dim=-1)
            return nn.functional.one_hot(sample, logits.shape[-1]).to(logits.dtype)
        soft = torch.softmax((logits + self._gumbel(logits.shape)) / self.config.gumbel_temperature, dim=-1)
        if not hard:
            return soft
        one_hot = nn.functional.one_hot(soft.argmax(dim=-1), soft.shape[-1]).to(soft.dtype)
        return one_hot + soft - soft.detach()

    def _box(self, i: int) -> tuple[spaces.Box, torch.Tensor, torch.Tensor]:
        """Agent ``i``'s Box action space and its flat bounds."""
        space, low, high = self.env.action_spaces[i], self._low[i], self._high[i]
        if not isinstance(space, spaces.Box) or low is None or high is None:
            raise TypeError(f"action space of agent {self.env.agents[i]!r} is {space!r}: expected a Box")
        return space, low, high

    def _squash(self, raw: torch.Tensor, *, sample: bool) -> torch.Tensor:
        """A Box agent's actor output in the critics' units: ``tanh`` in ``[-1, 1]``, or (``box_activation``
        ``"softmax"``) a point of the simplex, the Gumbel-softmax sample if ``sample`` else ``softmax``."""
        if self.config.box_activation == "tanh":
            return torch.tanh(raw)
        if sample:
            raw = (raw + self._gumbel(raw.shape)) / self.config.gumbel_temperature
        return torch.softmax(raw, dim=-1)

    def _unit_low(self) -> float:
        """The lower end of the critics' units of a Box action (their upper end is 1)."""
        return -1.0 if self.config.box_activation == "tanh" else 0.0

    def _to_env(self, i: int, squashed: torch.Tensor) -> np.ndarray:
        space, low, high = self._box(i)
        u = self._unit_low()
        return (low + (squashed - u) / (1.0 - u) * (high - low)).numpy().reshape(-1, *space.shape)

    def _act(self, obs, masks, explore):
        out = []
        with torch.no_grad():
            for i, (actor, o, m) in enumerate(zip(self.actors, obs, masks)):
                raw = actor(torch.as_tensor(o))
                if self.discrete[i]:
                    logits = raw.masked_fill(~torch.as_tensor(m), float("-inf"))
                    if explore:
                        logits = logits + self._gumbel(logits.shape)
                    out.append(logits.argmax(dim=-1).numpy())
                elif self.config.box_activation == "softmax":
                    out.append(self._to_env(i, self._squash(raw, sample=explore)))
                else:
                    squashed = torch.tanh(raw)
                    if explore and self.config.exploration_noise > 0:
                        noise = torch.randn(squashed.shape, generator=self.generator) * self.config.exploration_noise
                        squashed = (squashed + noise).clamp(-1.0, 1.0)
                    out.append(self._to_env(i, squashed))
        return out

    def _score_network(self, agent: int) -> tuple[torch.nn.Module, np.ndarray | None]:
        return self.actors[agent], None

    # ------------------------------------------------------------------ learning
    def _store(self, obs, masks, actions, out: VectorStep) -> None:
        vectors = []
        for i, a in enumerate(actions):
            if self.discrete[i]:
                vectors.append(np.eye(self.action_dims[i], dtype=np.float32)[a])
            else:
                _, low_t, high_t = self._box(i)
                low, high, u = low_t.numpy(), high_t.numpy(), self._unit_low()
                vectors.append((u + (1.0 - u) * (a.reshape(len(a), -1) - low) / (high - low)).astype(np.float32))
        empty = np.zeros((len(out.terminated), 0), bool)
        masks = [m if d else empty for m, d in zip(masks, self.discrete)]
        next_masks = [m if d else empty for m, d in zip(out.final_masks, self.discrete)]
        self.buffer.add(obs, masks, vectors, out.rewards, out.final_obs, next_masks,
                        out.terminated.astype(np.float32))

    def _update(self) -> dict[str, np.ndarray] | None:
        c, b, n = self.config, self.buffer, self.env.num_agents
        if b.size < max(c.min_buffer, c.batch_size):
            return None
        critic_losses, actor_losses = np.zeros(n), np.zeros(n)
        for i in range(n):  # openai/maddpg: every agent samples its own batch
            idx = b.sample(c.batch_size, self.rng)
            obs = [torch.as_tensor(o[idx]) for o in b.obs]
            acts = [torch.as_tensor(a[idx]) for a in b.action]
            next_obs = [torch.as_tensor(o[idx]) for o in b.next_obs]
            with torch.no_grad():
                next_acts = []
                for j, actor in enumerate(self.target_actors):
                    raw = actor(next_obs[j])
                    if self.discrete[j]:
                        next_acts.append(self._relaxed(raw, torch.as_tensor(b.next_mask[j][idx]), hard=True))
                    else:
                        next_acts.append(self._squash(raw, sample=True))
                q_next = self.target_critics[i](torch.cat(next_obs + next_acts, dim=1)).squeeze(1)
                target = (torch.as_tensor(b.reward[idx, i])
                          + c.discount * (1.0 - torch.as_tensor(b.done[idx])) * q_next)
            q = self.critics[i](torch.cat(obs + acts, dim=1)).squeeze(1)
            critic_loss = nn.functional.mse_loss(q, target)
            self.critic_optimizers[i].zero_grad()
            critic_loss.backward()
            nn.utils.clip_grad_norm_(self.critics[i].parameters(), c.max_grad_norm)
            self.critic_optimizers[i].step()

            raw = self.actors[i](obs[i])
            if self.discrete[i]:
                own = self._relaxed(raw, torch.as_tensor(b.mask[i][idx]), hard=True)
            else:
                own = self._squash(raw, sample=True)
            joint = acts[:i] + [own] + acts[i + 1:]
            # the critic's weights get no gradient from the actor loss (its next step zeroes them anyway): frozen,
            # the backward pass skips their weight gradients
            self.critics[i].requires_grad_(False)
            actor_loss = (-self.critics[i](torch.cat(obs + joint, dim=1)).mean()
                          + c.logit_regularization * raw.pow(2).mean())
            self.actor_optimizers[i].zero_grad()
            actor_loss.backward()
            self.critics[i].requires_grad_(True)
            nn.utils.clip_grad_norm_(self.actors[i].parameters(), c.max_grad_norm)
            self.actor_optimizers[i].step()
            critic_losses[i], actor_losses[i] = critic_loss.item(), actor_loss.item()
        for online, target in zip(self.actors + self.critics, self.target_actors + self.target_critics):
            _polyak(target, online, c.tau)
        self.updates += 1
        return {"critic_loss": critic_losses, "actor_loss": actor_losses}

    # ------------------------------------------------------------------ checkpoints
    def _state(self):
        nets = {"actors": [a.state_dict() for a in self.actors], "critics": [q.state_dict() for q in self.critics],
                "target_actors": [a.state_dict() for a in self.target_actors],
                "target_critics": [q.state_dict() for q in self.target_critics],
                "actor_optimizers": [o.state_dict() for o in self.actor_optimizers],
                "critic_optimizers": [o.state_dict() for o in self.critic_optimizers],
                "generator": self.generator.get_state()}
        b = self.buffer
        arrays = {name: array[:b.size] for name, array in b.arrays().items()}
        meta = {"updates": self.updates, "rng": self.rng.bit_generator.state, "buffer_size": b.size,
                "buffer_next": b.next}
        return meta, arrays, {"networks.pt": torch_bytes(nets)}

    def _restore(self, meta, arrays, blobs) -> None:
        nets = torch_load(blobs["networks.pt"])
        for key in ("actors", "critics", "target_actors", "target_critics", "actor_optimizers", "critic_optimizers"):
            for module, state in zip(getattr(self, key), nets[key], strict=True):
                module.load_state_dict(state)
        self.generator.set_state(nets["generator"])
        self.rng.bit_generator.state = meta["rng"]
        self.updates = int(meta["updates"])
        b = self.buffer
        for name, array in b.arrays().items():
            array[:meta["buffer_size"]] = arrays[name]
        b.size, b.next = int(meta["buffer_size"]), int(meta["buffer_next"])

    @staticmethod
    def _config_from_dict(data: dict[str, Any]) -> MADDPGConfig:
        return MADDPGConfig(**data)
