"""Proximal Policy Optimization (Schulman et al. 2017, "Proximal Policy Optimization Algorithms") for one player of a
turn-based game, acting on batches of observations.

A standard clipped-surrogate PPO in the spirit of cleanrl's ``ppo.py``: separate actor and critic MLPs with
orthogonal initialisation, illegal actions masked out of the logits, advantages by GAE (Schulman et al. 2016,
"High-Dimensional Continuous Control Using Generalized Advantage Estimation"), several epochs of shuffled minibatches
per rollout, clipped value loss, entropy bonus, global gradient-norm clipping and optional KL early stopping.

What differs from a single-agent PPO is the rollout: the learner only moves at some of the decisions of each episode
(the other players are part of its environment), so one transition runs from one of its decisions to its next one
in the same episode (or to the episode's end) and collects every reward in between, as
:class:`solvers.rl.transitions.PendingTransitions` does for DQN. :class:`Rollout` keeps those decisions per episode in
the order taken, which is all GAE needs. A decision still open when the rollout is full is carried into the next one
(with the log-probability of the policy that took it, so the importance ratio stays correct) instead of dropped,
which would under-sample the decisions that span a rollout boundary.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from marketgames.seeding import SeedLike, seed_sequence
from solvers.rl.checks import is_int, is_real, refuse_invalid
from solvers.rl.dqn import OPTIMIZERS, hidden_sizes, make_optimizer, mlp

logger = logging.getLogger(__name__)

__all__ = ["PPO", "PPOConfig", "Rollout"]


@dataclass
class PPOConfig:
    """Hyper-parameters of :class:`PPO` (cleanrl's names in brackets). Defaults are cleanrl's except gamma 1
    (undiscounted game payoffs), a 3e-3 learning rate and 256-decision rollouts: on Kuhn poker best responses within
    3,000 episodes, cleanrl's 2.5e-4 left 0.08-0.11 of regret where 3e-3 left at most 0.011, and 512-decision rollouts
    left 0.07 on two of three seeds. Also unlike cleanrl: ReLU layers (the shared :func:`mlp`) instead of tanh, Adam's
    default epsilon, no learning-rate annealing (the number of updates is not known in advance).

    Attributes:
        hidden: hidden layer sizes of the actor and of the critic (ReLU MLPs).
        learning_rate: step size of the optimizer [learning_rate].
        rollout_steps: learner decisions collected (over all parallel episodes) per update [num_steps * num_envs].
        update_epochs: passes over each rollout [update_epochs].
        num_minibatches: minibatches per pass [num_minibatches].
        clip: the surrogate's ratio clip epsilon, also used for the value clip [clip_coef].
        gamma: discount per learner decision [gamma]; 1.0 because game payoffs are undiscounted.
        gae_lambda: GAE's lambda [gae_lambda].
        value_coef: weight of the value loss [vf_coef].
        entropy_coef: weight of the entropy bonus [ent_coef].
        max_grad_norm: global gradient-norm clip [max_grad_norm].
        normalize_advantages: standardise advantages within each minibatch [norm_adv].
        clip_value_loss: PPO2's clipped value loss [clip_vloss].
        target_kl: stop the epochs of an update once the approximate KL exceeds it (``None``: never) [target_kl].
        optimizer: ``"adam"`` or ``"sgd"``.
        seed: used when :class:`PPO` is built without an explicit ``seed`` (learners made by
            :func:`solvers.exploitability.learn_best_response` get a seed spawned from its own).
    """

    hidden: tuple[int, ...] = (64, 64)
    learning_rate: float = 3e-3
    rollout_steps: int = 256
    update_epochs: int = 4
    num_minibatches: int = 4
    clip: float = 0.2
    gamma: float = 1.0
    gae_lambda: float = 0.95
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    normalize_advantages: bool = True
    clip_value_loss: bool = True
    target_kl: float | None = None
    optimizer: str = "adam"
    seed: int = 0

    def __post_init__(self) -> None:
        hidden = hidden_sizes(self.hidden)
        if isinstance(hidden, tuple):  # otherwise unchanged, refused below
            self.hidden = hidden
        steps_ok = is_int(self.rollout_steps, 1)
        refuse_invalid(self, {
            "hidden": (isinstance(self.hidden, tuple) and all(is_int(h, 1) for h in self.hidden),
                       "a tuple of positive ints"),
            "learning_rate": (is_real(self.learning_rate, 0, open_low=True), "a positive number"),
            "rollout_steps": (steps_ok, "an int >= 1"),
            "update_epochs": (is_int(self.update_epochs, 1), "an int >= 1"),
            "num_minibatches": (is_int(self.num_minibatches, 1, self.rollout_steps if steps_ok else None),
                                "an int between 1 and rollout_steps"),
            "clip": (is_real(self.clip, 0, open_low=True), "a positive number"),
            "gamma": (is_real(self.gamma, 0, 1), "a number in [0, 1]"),
            "gae_lambda": (is_real(self.gae_lambda, 0, 1), "a number in [0, 1]"),
            "value_coef": (is_real(self.value_coef, 0), "a number >= 0"),
            "entropy_coef": (is_real(self.entropy_coef, 0), "a number >= 0"),
            "max_grad_norm": (is_real(self.max_grad_norm, 0, open_low=True), "a positive number"),
            "normalize_advantages": (isinstance(self.normalize_advantages, bool), "True or False"),
            "clip_value_loss": (isinstance(self.clip_value_loss, bool), "True or False"),
            "target_kl": (self.target_kl is None or is_real(self.target_kl, 0, open_low=True), "None or > 0"),
            "optimizer": (isinstance(self.optimizer, str) and self.optimizer in OPTIMIZERS,
                          f"one of {sorted(OPTIMIZERS)}"),
            "seed": (is_int(self.seed, 0), "an int >= 0"),
        })


class Rollout:
    """The learner's decisions in ``num_envs`` parallel episodes, in the order taken.

    Entry ``i`` holds a decision (observation, legal mask, action, log-probability under the acting policy), the
    rewards the learner received until its next decision in that episode (``next[i]``) or the episode's end
    (``done[i]``). The latest decision of each running episode (``last[b]``) is *open*: its reward may still grow.
    """

    def __init__(self, num_envs: int, obs_size: int, num_actions: int, capacity: int = 256) -> None:
        self.num_envs, self.obs_size, self.num_actions = num_envs, obs_size, num_actions
        self.last = np.full(num_envs, -1, np.int64)
        self.size = 0
        self._allocate(max(capacity, 1))

    def _allocate(self, capacity: int) -> None:
        old = {k: getattr(self, k)[:self.size] for k in ("obs", "legal", "action", "logp", "reward", "done", "next")
               } if self.size else None
        self.obs = np.zeros((capacity, self.obs_size), np.float32)
        self.legal = np.zeros((capacity, self.num_actions), bool)
        self.action = np.zeros(capacity, np.int64)
        self.logp = np.zeros(capacity, np.float32)
        self.reward = np.zeros(capacity)
        self.done = np.zeros(capacity, bool)
        self.next = np.full(capacity, -1, np.int64)
        for key, values in (old or {}).items():
            getattr(self, key)[:self.size] = values

    @property
    def num_complete(self) -> int:
        """Decisions whose transition has closed (the ones an update can use)."""
        return self.size - int(np.count_nonzero(self.last >= 0))

    def add(self, rows: np.ndarray, obs: np.ndarray, legal: np.ndarray, actions: np.ndarray,
            logp: np.ndarray) -> None:
        """New decisions in episodes ``rows``; each closes the previous open decision of its episode."""
        k = len(rows)
        if self.size + k > len(self.action):
            self._allocate(2 * (self.size + k))
        idx = self.size + np.arange(k)
        self.obs[idx], self.legal[idx], self.action[idx], self.logp[idx] = obs, legal, actions, logp
        self.reward[idx], self.done[idx], self.next[idx] = 0.0, False, -1
        previous = self.last[rows]
        self.next[previous[previous >= 0]] = idx[previous >= 0]
        self.last[rows] = idx
        self.size += k

    def observe(self, rewards: np.ndarray, done: np.ndarray) -> None:
        """Rewards ``(num_envs,)`` of one environment step go to each episode's open decision; episodes with
        ``done`` close theirs as terminal. (A reward before the learner's first decision of an episode cannot depend
        on its actions and is not recorded.)"""
        rows = np.flatnonzero(self.last >= 0)
        self.reward[self.last[rows]] += rewards[rows]
        ended = np.flatnonzero(done & (self.last >= 0))
        self.done[self.last[ended]] = True
        self.last[ended] = -1

    def advantages(self, values: np.ndarray, gamma: float, gae_lambda: float) -> tuple[np.ndarray, np.ndarray]:
        """GAE of every closed decision given the critic's ``values`` of all ``size`` entries; returns
        ``(advantages (size,), closed mask (size,))``. A closed decision whose successor is still open is
        bootstrapped from the successor's value and its lambda-chain cut there (cleanrl's rollout end)."""
        closed = np.ones(self.size, bool)
        closed[self.last[self.last >= 0]] = False
        adv = np.zeros(self.size)
        for i in range(self.size - 1, -1, -1):  # successors come later, so one backward pass suffices
            if not closed[i]:
                continue
            if self.done[i]:
                adv[i] = self.reward[i] - values[i]
                continue
            j = self.next[i]
            adv[i] = self.reward[i] + gamma * values[j] - values[i] + gamma * gae_lambda * adv[j] * closed[j]
        return adv, closed

    def carry_over(self) -> None:
        """Drop the closed decisions; keep the open ones (with their rewards so far) as the new start."""
        rows = np.flatnonzero(self.last >= 0)
        keep = self.last[rows]
        for key in ("obs", "legal", "action", "logp", "reward"):
            array = getattr(self, key)
            array[:keep.size] = array[keep]
        self.done[:keep.size], self.next[:keep.size] = False, -1
        self.last[rows] = np.arange(keep.size)
        self.size = keep.size


def _orthogonal_(net: nn.Sequential, last_gain: float) -> nn.Sequential:
    """cleanrl's ``layer_init``: orthogonal weights (gain sqrt 2; ``last_gain`` on the output layer), zero biases.
    A 0.01 gain on the actor's output starts it near uniform, the natural exploration policy."""
    linear = [m for m in net if isinstance(m, nn.Linear)]
    for k, layer in enumerate(linear):
        nn.init.orthogonal_(layer.weight, last_gain if k == len(linear) - 1 else math.sqrt(2))
        nn.init.zeros_(layer.bias)
    return net


class PPO:
    """A batched PPO learner for one player.

    Args:
        obs_size: length of the observation vectors.
        num_actions: number of distinct actions.
        config: hyper-parameters.
        num_envs: parallel episodes fed to :meth:`collect` / :meth:`observe` (rows of the rollout).
        seed: seeds the network initialisation and a local ``torch.Generator`` for action sampling and minibatch
            shuffling (default: ``config.seed``); the global torch RNG is neither read nor changed.
    """

    def __init__(self, obs_size: int, num_actions: int, config: PPOConfig | None = None, *, num_envs: int = 1,
                 seed: SeedLike = None) -> None:
        self.config = c = config or PPOConfig()
        seed = c.seed if seed is None else seed
        sequence = seed_sequence(seed)
        init_seed, sample_seed = sequence.spawn(2)
        with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching the caller's RNG
            torch.manual_seed(int(init_seed.generate_state(1)[0]))
            self.actor = _orthogonal_(mlp(obs_size, c.hidden, num_actions), 0.01)
            self.critic = _orthogonal_(mlp(obs_size, c.hidden, 1), 1.0)
        self.parameters = list(self.actor.parameters()) + list(self.critic.parameters())
        self.optimizer = make_optimizer(c.optimizer, self.parameters, c.learning_rate)
        self.generator = torch.Generator().manual_seed(int(sample_seed.generate_state(1)[0]))
        self.rollout = Rollout(num_envs, obs_size, num_actions, capacity=c.rollout_steps + 2 * num_envs)
        self.num_actions = num_actions
        self.steps = 0
        self.updates = 0
        self.stats: dict[str, float] = {}

    # ------------------------------------------------------------------ acting
    def _log_probs(self, obs: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over all actions with illegal ones masked to (effectively) zero probability."""
        logits = self.actor(obs).masked_fill(~legal, torch.finfo(torch.float32).min)
        return torch.log_softmax(logits, dim=-1)

    def probabilities(self, obs: np.ndarray, legal: np.ndarray) -> np.ndarray:
        """The stochastic policy: action probabilities ``(B, num_actions)``, zero on illegal actions."""
        with torch.no_grad():
            return self._log_probs(torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(legal)).exp().numpy()

    def greedy(self, obs: np.ndarray, legal: np.ndarray) -> np.ndarray:
        """The deterministic policy: the most probable legal action of each row."""
        with torch.no_grad():
            logits = self.actor(torch.as_tensor(obs, dtype=torch.float32)).numpy()
        return np.argmax(np.where(legal, logits, -np.inf), axis=1)

    def _sample(self, obs: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logp = self._log_probs(torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(legal))
            actions = torch.multinomial(logp.exp(), 1, generator=self.generator).squeeze(1)
            return actions.numpy(), logp.gather(1, actions[:, None]).squeeze(1).numpy()

    def act(self, obs: np.ndarray, legal: np.ndarray, *, explore: bool = True) -> np.ndarray:
        """Actions for a batch: sampled from the policy (``explore``) or greedy. Records nothing."""
        if not explore:
            return self.greedy(obs, legal)
        self.steps += len(obs)
        return self._sample(obs, legal)[0]

    # ------------------------------------------------------------------ training
    def collect(self, rows: np.ndarray, obs: np.ndarray, legal: np.ndarray) -> np.ndarray:
        """Sample actions for the learner's decisions in episodes ``rows`` and record them in the rollout."""
        actions, logp = self._sample(obs, legal)
        self.steps += len(rows)
        self.rollout.add(np.asarray(rows), obs, legal, actions, logp)
        return actions

    def observe(self, rewards: np.ndarray, done: np.ndarray) -> dict[str, float] | None:
        """The learner's rewards ``(num_envs,)`` and the episode ends of one environment step; runs :meth:`update`
        (and returns its statistics) once ``rollout_steps`` transitions have closed."""
        self.rollout.observe(np.asarray(rewards, np.float64), np.asarray(done, bool))
        if self.rollout.num_complete >= self.config.rollout_steps:
            return self.update()
        return None

    def update(self) -> dict[str, float] | None:
        """PPO-clip on the closed transitions of the rollout, then start a new rollout from the open ones.
        Returns loss statistics (``None`` when nothing has closed)."""
        c, r = self.config, self.rollout
        if r.num_complete == 0:
            return None
        with torch.no_grad():  # cleanrl stores these at acting time; the critic has not changed since
            values = self.critic(torch.as_tensor(r.obs[:r.size])).squeeze(1).numpy().astype(np.float64)
        adv, closed = r.advantages(values, c.gamma, c.gae_lambda)
        idx = np.flatnonzero(closed)
        obs, legal = torch.as_tensor(r.obs[idx]), torch.as_tensor(r.legal[idx])
        actions, old_logp = torch.as_tensor(r.action[idx]), torch.as_tensor(r.logp[idx])
        advantages = torch.as_tensor(adv[idx], dtype=torch.float32)
        old_values = torch.as_tensor(values[idx], dtype=torch.float32)
        returns = advantages + old_values
        totals = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
        batches = 0
        for _ in range(c.update_epochs):
            for mb in torch.randperm(idx.size, generator=self.generator).chunk(c.num_minibatches):
                logp_all = self._log_probs(obs[mb], legal[mb])
                log_ratio = logp_all.gather(1, actions[mb, None]).squeeze(1) - old_logp[mb]
                ratio = log_ratio.exp()
                entropy = -(logp_all.exp() * logp_all).masked_fill(~legal[mb], 0.0).sum(1).mean()
                mb_adv = advantages[mb]
                if c.normalize_advantages and mb.numel() > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                policy_loss = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - c.clip, 1 + c.clip)).mean()
                value = self.critic(obs[mb]).squeeze(1)
                value_loss = (value - returns[mb]) ** 2
                if c.clip_value_loss:
                    clipped = old_values[mb] + (value - old_values[mb]).clamp(-c.clip, c.clip)
                    value_loss = torch.max(value_loss, (clipped - returns[mb]) ** 2)
                value_loss = 0.5 * value_loss.mean()
                loss = policy_loss - c.entropy_coef * entropy + c.value_coef * value_loss
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.parameters, c.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    approx_kl = float(((ratio - 1) - log_ratio).mean())  # Schulman's low-variance k3 estimator
                    clip_fraction = float(((ratio - 1).abs() > c.clip).float().mean())
                for key, v in (("policy_loss", policy_loss.item()), ("value_loss", value_loss.item()),
                               ("entropy", entropy.item()), ("approx_kl", approx_kl),
                               ("clip_fraction", clip_fraction)):
                    totals[key] += v
                batches += 1
            if c.target_kl is not None and approx_kl > c.target_kl:
                break
        self.stats = {k: v / batches for k, v in totals.items()}
        self.stats["transitions"] = float(idx.size)
        r.carry_over()
        self.updates += 1
        logger.debug("PPO update %d: %s", self.updates, self.stats)
        return self.stats
