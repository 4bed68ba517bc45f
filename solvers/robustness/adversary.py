"""Best-response adversaries against a fixed strategy: how much can an opponent trained against it gain?

An adversary replaces one seat (``adversary_seat``) and best-responds to the strategy (in ``seat``) with the other
seats playing ``background`` (default: the strategy itself). Two objectives (:data:`OBJECTIVES`):

* ``"selfish"``: the adversary maximises its own payoff (the usual best response; its gain is the strategy's
  exploitability by that seat, a term of NashConv);
* ``"spiteful"``: the adversary maximises the target's *loss*, i.e. it is rewarded with minus the target's reward,
  whatever that costs itself. In a two-player zero-sum game ``-u_target = u_adversary``, so the two coincide; in a
  general-sum game (or with more than two players) a spiteful adversary can hurt the target more than a selfish one.

The gain is measured against the background profile (the strategy in ``seat``, ``background`` everywhere else):
the adversary's objective under its best response minus the same objective when the adversary's seat plays the
background. For a spiteful adversary that is the target's loss.

Methods: ``"exact"`` on the compiled tree (:func:`solvers.exploitability.exact.best_response` with ``objective=``);
``"learned"``: in ``python_lob_market`` an independent DQN trained on the batched engine against the strategy
(:func:`train_market_adversary`), elsewhere :func:`solvers.exploitability.approximate.learn_best_response` (Timbers
et al. 2020), evaluated by simulation with 95% intervals. A learned adversary is no stronger than the true best
response: its gain is a lower bound. ``"auto"`` takes the tree when it can be built within ``max_nodes``. A learned
market adversary is evaluated where it trained: in seat 0 against the strategy in seat 1 (so ``seat=1``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyspiel

from marketgames.envs.spaces import market_config
from marketgames.seeding import SeedLike
from solvers.exploitability.approximate import BestResponseConfig, learn_best_response, play_response
from solvers.exploitability.exact import OBJECTIVES, best_response, policy_values
from solvers.exploitability.tree import DEFAULT_MAX_NODES
from solvers.marl.base import ObservationGreedyPolicy
from solvers.marl.best_response import market_idqn_config, train_best_response
from solvers.rl.checks import is_int, refuse_invalid
from solvers.robustness.evaluate import (Estimate, RobustnessRecord, SeatPolicy, _check_episodes, _check_method,
                                         _check_seat, _check_strategy, _game, child_seed, default_simulator, game_tree,
                                         joint_table)

__all__ = ["ADVERSARY_METHODS", "OBJECTIVES", "MarketAdversaryConfig", "adversary_records",
           "best_response_adversary", "train_market_adversary"]

ADVERSARY_METHODS = ("auto", "exact", "learned")


@dataclasses.dataclass
class MarketAdversaryConfig:
    """Budget of a learned adversary in the market (:func:`train_market_adversary`).

    Attributes:
        steps: env steps of training (one market playing one round is one step).
        num_envs: markets trained at once.
        env_steps_per_update: env steps per gradient update.
    """

    steps: int = 20_000
    num_envs: int = 250
    env_steps_per_update: int = 128

    def __post_init__(self) -> None:
        refuse_invalid(self, {
            "steps": (is_int(self.steps, 1), "an int >= 1"),
            "num_envs": (is_int(self.num_envs, 1), "an int >= 1"),
            "env_steps_per_update": (is_int(self.env_steps_per_update, 1), "an int >= 1"),
        })


def train_market_adversary(game: pyspiel.Game | str, target: Any, *, objective: str = "selfish",
                           config: MarketAdversaryConfig | None = None,
                           seed: SeedLike = 0) -> ObservationGreedyPolicy:
    """An independent DQN trained in seat 0 of ``config.num_envs`` batched markets against ``target`` in seat 1
    (a 2-player ``python_lob_market``), on its own PnL (``"selfish"``) or on minus the target's PnL
    (``"spiteful"``). Returns its greedy policy (a snapshot; seat-agnostic: it reads its own observation).

    ``target`` may be a list of strategies: market ``b`` seats ``target[b % len(target)]`` (a mixture drawn per
    episode; repeat a member to weight it)."""
    game = _game(game)
    config = MarketAdversaryConfig() if config is None else config
    if not isinstance(config, MarketAdversaryConfig):
        raise TypeError(f"config={config!r} is not allowed: expected a MarketAdversaryConfig")
    learner = train_best_response(game, target, steps=config.steps, num_envs=config.num_envs, objective=objective,
                                  config=market_idqn_config(config.steps,
                                                              env_steps_per_update=config.env_steps_per_update),
                                  seed=seed)
    policy = learner.policy(game, 0)
    assert isinstance(policy, ObservationGreedyPolicy)  # what MultiAgentLearner.policy builds
    return policy


def _objective(values: np.ndarray, objective: str, seat: int, adversary: int) -> np.ndarray:
    """Per-episode (or exact) values of the adversary's objective from returns ``(..., n)``."""
    return values[..., adversary] if objective == "selfish" else -values[..., seat]


def best_response_adversary(game: pyspiel.Game | str, strategy: Any, *, seat: int = 0,
                            adversary_seat: int | None = None, objective: str = "selfish", background: Any = None,
                            name: str = "strategy", method: str = "auto", episodes: int = 1_000,
                            br_config: BestResponseConfig | None = None,
                            market: MarketAdversaryConfig | None = None, simulator: Any = None,
                            max_nodes: int = DEFAULT_MAX_NODES, seed: SeedLike = 0) -> RobustnessRecord:
    """The strategy's payoff against a best-response adversary with ``objective``, and the adversary's gain
    (module doc). ``adversary_seat`` defaults to the seat after ``seat``."""
    game = _game(game)
    _check_strategy("strategy", strategy)
    seat = _check_seat(game, seat)
    n = game.num_players()
    adversary = (seat + 1) % n if adversary_seat is None else _check_seat(game, adversary_seat, "adversary_seat")
    if adversary == seat:
        raise ValueError(f"adversary_seat={adversary_seat!r} is not allowed: expected a seat other than seat={seat}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r} is not allowed: expected one of {list(OBJECTIVES)}")
    background = strategy if background is None else background
    _check_strategy("background", background)
    _check_method(method, ADVERSARY_METHODS)
    _check_episodes(episodes)
    label = f"{objective} BR"
    seats = [strategy if p == seat else background for p in range(n)]
    tree = game_tree(game, "sampled" if method == "learned" else method, max_nodes)
    if tree is not None:
        base = joint_table(tree, seats)
        before = policy_values(tree, base)
        br = best_response(tree, base, adversary, objective=objective, target=seat)
        after = policy_values(tree, br.table(tree, base))
        gain = float(_objective(after, objective, seat, adversary) - _objective(before, objective, seat, adversary))
        return RobustnessRecord(name, label, "adversary", "exact", Estimate.exact(after[seat]), objective,
                                Estimate.exact(gain))
    train_seed, eval_seed, ref_seed = (child_seed(seed, k) for k in range(3))
    if market_config(game) is not None:
        if n != 2:
            raise ValueError(f"game={game} is not allowed: learned market adversaries need 2 players")
        if seat != 1:
            raise ValueError(f"seat={seat!r} is not allowed for a learned market adversary: it trains in seat 0 "
                             "against the strategy in seat 1 (RuleOpponentsEnv's layout) and plays there: pass seat=1")
        policy = train_market_adversary(game, strategy, objective=objective, config=market, seed=train_seed)
        adv_seats = [strategy if p == seat else policy for p in range(n)]
        returns = _simulate(game, adv_seats, episodes, simulator, eval_seed)
        reference = _simulate(game, seats, episodes, simulator, ref_seed)
    else:
        joint = SeatPolicy(game, seats)
        learner = learn_best_response(game, joint, adversary, br_config, seed=train_seed, objective=objective,
                                      target=seat)
        num_envs = (br_config or BestResponseConfig()).num_envs
        returns = play_response(game, joint, learner, adversary, episodes, num_envs=num_envs, seed=eval_seed)
        reference = play_response(game, joint, None, adversary, episodes, num_envs=num_envs, seed=ref_seed)
    gain_est = Estimate.from_samples(_objective(returns, objective, seat, adversary)).difference(
        Estimate.from_samples(_objective(reference, objective, seat, adversary)))
    return RobustnessRecord(name, label, "adversary", "learned", Estimate.from_samples(returns[:, seat]), objective,
                            gain_est)


def _simulate(game: pyspiel.Game, seats: list[Any], episodes: int, simulator: Any, seed: Any) -> np.ndarray:
    sim = default_simulator(game, seats) if simulator is None else simulator
    return np.asarray(sim.returns(game, seats, int(episodes), np.random.default_rng(seed)))


def adversary_records(game: pyspiel.Game | str, strategy: Any, *, objectives: Sequence[str] = OBJECTIVES,
                      seed: SeedLike = 0, **kwargs: Any) -> list[RobustnessRecord]:
    """One :func:`best_response_adversary` record per objective (child ``k`` of ``seed`` for objective ``k``)."""
    objectives = list(objectives)
    if not objectives or any(o not in OBJECTIVES for o in objectives):
        raise ValueError(f"objectives={objectives!r} is not allowed: expected a non-empty list from "
                         f"{list(OBJECTIVES)}")
    return [best_response_adversary(game, strategy, objective=o, seed=child_seed(seed, k), **kwargs)
            for k, o in enumerate(objectives)]

