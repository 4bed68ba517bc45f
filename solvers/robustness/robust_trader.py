"""A robust trader for the market: independent DQN trained against a growing pool of adversaries.

Adversarial training in the spirit of PSRO (Lanctot et al. 2017) and robust adversarial RL (Pinto et al. 2017,
"Robust adversarial reinforcement learning"): the trader trains in seat 0 of batched 2-player markets against a pool
(rule traders and manipulators); after each of ``generations - 1`` phases a best-response adversary of the current
trader (:func:`solvers.robustness.adversary.train_market_adversary`, objectives cycling through
``config.objectives``) joins the pool, so later phases train against opponents built to hurt it. Market ``b`` of
the pool seats pool member ``b % K``: each member gets an equal share of the markets.

The baseline (:func:`train_independent_trader`) is the same learner, same settings and the same number of env
steps, trained against the rule population only. The adversaries' own training steps are extra and reported
(``RobustTraining.adversary_env_steps``).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyspiel

from marketgames.seeding import SeedLike, seed_sequence
from solvers.marl.base import ObservationGreedyPolicy
from solvers.marl.idqn import IndependentDQN
from solvers.marl.opponents import RuleOpponentsEnv
from solvers.rl.checks import is_int, refuse_invalid
from solvers.marl.best_response import market_idqn_config
from solvers.robustness.adversary import OBJECTIVES, MarketAdversaryConfig, train_market_adversary

logger = logging.getLogger(__name__)

__all__ = ["RobustTraderConfig", "RobustTraining", "train_independent_trader",
           "train_robust_trader"]


@dataclasses.dataclass
class RobustTraderConfig:
    """Settings of :func:`train_robust_trader` (and of the baseline's budget).

    Attributes:
        steps: the trader's env steps of training (the baseline gets the same).
        generations: training phases; after each phase but the last a learned adversary joins the pool (>= 1).
        adversary_steps: env steps of each adversary's training (not counted in ``steps``).
        objectives: the adversaries' objectives (``"selfish"``, ``"spiteful"``), cycled over the generations.
        num_envs: markets trained at once.
        env_steps_per_update: env steps per gradient update of the trader and the adversaries.
    """

    steps: int = 60_000
    generations: int = 3
    adversary_steps: int = 20_000
    objectives: tuple[str, ...] = ("spiteful", "selfish")
    num_envs: int = 250
    env_steps_per_update: int = 128

    def __post_init__(self) -> None:
        self.objectives = tuple(self.objectives)
        refuse_invalid(self, {
            "steps": (is_int(self.steps, 1), "an int >= 1"),
            "generations": (is_int(self.generations, 1), "an int >= 1"),
            "adversary_steps": (is_int(self.adversary_steps, 1), "an int >= 1"),
            "objectives": (len(self.objectives) > 0 and all(o in OBJECTIVES for o in self.objectives),
                           f"a non-empty tuple from {list(OBJECTIVES)}"),
            "num_envs": (is_int(self.num_envs, 1), "an int >= 1"),
            "env_steps_per_update": (is_int(self.env_steps_per_update, 1), "an int >= 1"),
        })


@dataclasses.dataclass
class RobustTraining:
    """What :func:`train_robust_trader` returns.

    Attributes:
        trader: the trained trader's greedy policy (seat-agnostic snapshot).
        learner: the learner itself.
        adversaries: the learned adversaries that joined the pool, in order.
        objectives: their objectives.
        env_steps: the trader's env steps.
        adversary_env_steps: env steps spent training the adversaries.
    """

    trader: ObservationGreedyPolicy
    learner: IndependentDQN
    adversaries: list[ObservationGreedyPolicy]
    objectives: list[str]
    env_steps: int
    adversary_env_steps: int


def _check(game: pyspiel.Game | str, population: Sequence[Any]) -> pyspiel.Game:
    game = pyspiel.load_game(game) if isinstance(game, str) else game
    if game.num_players() != 2:
        raise ValueError(f"game={game} is not allowed: expected a 2-player python_lob_market")
    if len(population) < 1:
        raise ValueError(f"population={population!r} is not allowed: expected at least one opponent")
    return game


def train_independent_trader(game: pyspiel.Game | str, population: Sequence[Any], steps: int, *,
                             num_envs: int = 250, env_steps_per_update: int = 128,
                             seed: SeedLike = 0) -> IndependentDQN:
    """The baseline: an independent DQN trained ``steps`` env steps in seat 0 against ``population`` (seat 1)."""
    game = _check(game, population)
    env_seed, learner_seed = seed_sequence(seed).spawn(2)
    env = RuleOpponentsEnv(game, list(population), num_envs, seed=env_seed)
    learner = IndependentDQN(env, market_idqn_config(steps, env_steps_per_update=env_steps_per_update),
                             seed=learner_seed)
    learner.train(steps)
    return learner


def train_robust_trader(game: pyspiel.Game | str, population: Sequence[Any],
                        config: RobustTraderConfig | None = None, *, seed: SeedLike = 0) -> RobustTraining:
    """Adversarial training (module doc) against ``population`` (rule traders, manipulators, any batchable
    strategies) plus the learned adversaries."""
    game = _check(game, population)
    config = RobustTraderConfig() if config is None else config
    if not isinstance(config, RobustTraderConfig):
        raise TypeError(f"config={config!r} is not allowed: expected a RobustTraderConfig")
    env_seed, learner_seed, adversary_seed = seed_sequence(seed).spawn(3)
    pool = list(population)
    env = RuleOpponentsEnv(game, pool, config.num_envs, seed=env_seed)
    learner = IndependentDQN(env, market_idqn_config(config.steps, env_steps_per_update=config.env_steps_per_update),
                             seed=learner_seed)
    episode = config.num_envs * market_rounds(game)
    adversaries: list[ObservationGreedyPolicy] = []
    objectives: list[str] = []
    adversary_config = MarketAdversaryConfig(steps=config.adversary_steps, num_envs=config.num_envs,
                                             env_steps_per_update=config.env_steps_per_update)
    seeds = adversary_seed.spawn(max(1, config.generations - 1))
    for g in range(config.generations):
        # phases end on episode boundaries (all markets end together), so a new pool starts with new episodes
        end = config.steps if g == config.generations - 1 else max(episode, (g + 1) * config.steps
                                                                    // config.generations // episode * episode)
        if end > learner.env_steps:
            learner.train(end - learner.env_steps)
        if g == config.generations - 1:
            break
        objective = config.objectives[g % len(config.objectives)]
        adversary = train_market_adversary(game, learner.policy(game, 0), objective=objective,
                                           config=adversary_config, seed=seeds[g])
        adversaries.append(adversary)
        objectives.append(objective)
        opponents = [*pool, *adversaries]
        env.set_opponents(opponents, np.arange(env.num_envs) % len(opponents))
        logger.info("generation %d: a %s adversary joined the pool after %d env steps", g, objective,
                    learner.env_steps)
    trader = learner.policy(game, 0)
    assert isinstance(trader, ObservationGreedyPolicy)  # what MultiAgentLearner.policy builds
    return RobustTraining(trader, learner, adversaries, objectives, learner.env_steps,
                          len(adversaries) * config.adversary_steps)


def market_rounds(game: pyspiel.Game) -> int:
    """Rounds per episode of a ``python_lob_market`` game."""
    return int(game.config.steps)
