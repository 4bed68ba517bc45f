"""A learned best response to a frozen strategy in the two-player market, trained on the batched engine.

One mechanism for every caller that asks "how much can a learner trained against this strategy gain?": the
marl, self-play and PBT studies' exploitability estimates and the robustness API's market adversaries. A fresh
independent DQN plays seat 0 of ``num_envs`` batched markets (:class:`~solvers.marl.opponents.RuleOpponentsEnv`)
against the frozen target in seat 1 -- a rule trader or a trained agent's snapshot policy (a
:class:`marketgames.market.payoffs.BatchPolicy`, one forward pass per round for all markets) -- for a count of env
steps. Following Timbers et al. (2020, "Approximate exploitability: learning a best response in large games"), its
payoff is a lower bound on what the true best response earns.

Objectives (:data:`solvers.exploitability.exact.OBJECTIVES`): ``"selfish"`` rewards the response with its own PnL
(the usual best response); ``"spiteful"`` with minus the target's PnL (it maximises the target's loss, whatever that
costs itself).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyspiel

from marketgames.envs.spaces import market_config
from marketgames.seeding import SeedLike, seed_sequence
from solvers.exploitability.exact import OBJECTIVES
from solvers.marl.envs import VectorStep
from solvers.marl.idqn import IndependentDQN, IndependentDQNConfig
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.rl.dqn import DQNConfig

__all__ = ["SpitefulOpponentsEnv", "market_idqn_config", "train_best_response"]


def market_idqn_config(steps: int, *, env_steps_per_update: int = 128) -> IndependentDQNConfig:
    """IDQN settings for ``steps`` env steps on the batched market, with epsilon decaying over the first half of the
    budget and learning from ``min(2048, steps // 4)`` transitions: the default of :func:`train_best_response`, and
    the settings of the marl study's learners and the robustness study's traders and adversaries."""
    dqn = DQNConfig(hidden=(64, 64), learning_rate=1e-3, batch_size=512, replay_capacity=200_000,
                    min_buffer=max(1, min(2_048, steps // 4)), target_update_every=50, epsilon_start=1.0,
                    epsilon_end=0.05, epsilon_decay_steps=max(1, steps // 2), discount=0.95, optimizer="adam")
    return IndependentDQNConfig(dqn=dqn, env_steps_per_update=env_steps_per_update)


class SpitefulOpponentsEnv(RuleOpponentsEnv):
    """:class:`~solvers.marl.opponents.RuleOpponentsEnv` whose learner (seat 0) is rewarded with minus seat 1's
    rewards: training on it learns a spiteful adversary of the strategy in seat 1."""

    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        self._spite = np.zeros(self.num_envs)
        return super().reset()

    def step(self, actions: Sequence[np.ndarray]) -> VectorStep:
        out = super().step(actions)
        reward = -self.last_rewards[:, 1]
        self._spite += reward
        returns = np.full((self.num_envs, 1), np.nan)
        done = out.terminated | out.truncated
        returns[done, 0] = self._spite[done]
        self._spite[done] = 0.0
        return dataclasses.replace(out, rewards=reward[:, None].astype(np.float32), episode_returns=returns)


def train_best_response(game: pyspiel.Game, target: Any, *, steps: int, num_envs: int = 250,
                        objective: str = "selfish", config: IndependentDQNConfig | None = None,
                        seed: SeedLike = 0) -> IndependentDQN:
    """A fresh independent DQN trained ``steps`` env steps in seat 0 of ``num_envs`` markets of ``game`` (a
    2-player ``python_lob_market``) against ``target`` in seat 1, on ``objective``; returns the trained learner
    (``.policy(game, 0)`` is its greedy snapshot, ``.act`` its greedy action).

    ``target`` is a rule trader, a BatchPolicy, or a list of them (market ``b`` seats ``target[b % len(target)]``:
    a mixture; repeat a member to weight it). ``config`` defaults to :func:`market_idqn_config` ``(steps)``.
    """
    if market_config(game) is None or game.num_players() != 2:
        raise ValueError(f"game={game} is not allowed: a learned market best response needs a 2-player "
                         "python_lob_market")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r} is not allowed: expected one of {list(OBJECTIVES)}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps={steps!r} is not allowed: expected an int >= 0 (0: the untrained network)")
    if config is not None and not isinstance(config, IndependentDQNConfig):
        raise TypeError(f"config={config!r} is not allowed: expected an IndependentDQNConfig or None")
    targets = list(target) if isinstance(target, (list, tuple)) else [target]
    env_seed, learner_seed = seed_sequence(seed).spawn(2)
    env_cls = SpitefulOpponentsEnv if objective == "spiteful" else RuleOpponentsEnv
    env = env_cls(game, targets, num_envs, seed=env_seed)
    learner = IndependentDQN(env, market_idqn_config(max(1, int(steps))) if config is None else config,
                             seed=learner_seed)
    learner.train(int(steps))
    return learner
