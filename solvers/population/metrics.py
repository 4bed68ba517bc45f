"""Population measures: fitness from an empirical game, diversity, NashConv of the meta-game, and the learned
best-response exploitability of one member.

The generation's game is symmetric with two seats: ``payoffs[0][i, j]`` is strategy ``i``'s payoff against ``j``;
its first ``N`` strategies are the population's members, the rest rule traders.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from solvers.stats import mean_interval

from marketgames.seeding import SeedLike, seed_sequence
from solvers.equilibrium import alpharank, nash, nash_conv

__all__ = ["FITNESS", "Fitness", "diversity", "fitness", "jensen_shannon", "learned_exploitability",
           "population_nash_conv"]

FITNESS = ("nash", "alpharank", "mean")


@dataclasses.dataclass(frozen=True)
class Fitness:
    """Per-member fitness with its confidence interval (NaN for alpha-rank, a stationary mass with no sampling
    interval), and the population meta-strategy it was measured against (``(N,)``)."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    meta_strategy: np.ndarray


def fitness(payoffs: np.ndarray, standard_errors: np.ndarray, members: int, measure: str = "nash", *,
            confidence: float = 0.95) -> Fitness:
    """Fitness of the first ``members`` strategies of a symmetric 2-seat empirical game ``(2, S, S)``.

    ``"nash"``: the mean payoff against the population's meta-strategy, the column player's mixture of a Nash
    equilibrium (:func:`solvers.equilibrium.nash`) of the members' sub-game (multi-agent PBT, Jaderberg et al. 2019,
    rates agents by their results against the population; here by the empirical game's equilibrium, as PSRO's
    meta-solver does); ``"alpharank"``: the member's alpha-rank mass in that sub-game (Omidshafiei et al. 2019);
    ``"mean"``: the plain mean payoff against every strategy of the game (members and rule traders). Intervals:
    normal approximation from the cells' standard errors with the meta-strategy held fixed.
    """
    if measure not in FITNESS:
        raise ValueError(f"measure={measure!r} is not allowed: expected one of {FITNESS}")
    arr = np.asarray(payoffs, float)
    if arr.ndim != 3 or arr.shape[0] != 2 or arr.shape[1] != arr.shape[2] or not 1 <= members <= arr.shape[1]:
        raise ValueError(f"payoffs of shape {arr.shape} with members={members!r} are not allowed: expected "
                         "(2, S, S) and 1 <= members <= S")
    sub = arr[:, :members, :members]
    se = np.asarray(standard_errors, float)[0]
    if measure == "alpharank":
        mass = np.asarray(alpharank(sub).marginals[0], float) if members > 1 else np.ones(1)
        nan = np.full(members, np.nan)
        return Fitness(mass, nan, nan, mass)
    if measure == "nash":
        weights = np.asarray(nash(sub)[1], float) if members > 1 else np.ones(1)
        table, errors = arr[0, :members, :members], se[:members, :members]
    else:
        weights = np.full(arr.shape[1], 1.0 / arr.shape[1])
        table, errors = arr[0, :members], se[:members]
    value = table @ weights
    half = float(sps.norm.ppf(0.5 + confidence / 2)) * np.sqrt((errors ** 2) @ weights ** 2)
    meta = weights[:members] / weights[:members].sum()
    return Fitness(value, value - half, value + half, meta)


def population_nash_conv(payoffs: np.ndarray, meta_strategy: np.ndarray) -> float:
    """NashConv (:func:`solvers.equilibrium.nash_conv`) of both seats playing the population's ``meta_strategy``
    (over the first ``N`` strategies) in the whole game: the summed gain of the best deviation -- to any member or
    rule trader -- of each seat. Zero when nothing in the game exploits the population's mixture."""
    arr = np.asarray(payoffs, float)
    sigma = np.zeros(arr.shape[1])
    sigma[:len(meta_strategy)] = meta_strategy
    return float(nash_conv(arr, [sigma, sigma]))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise Jensen-Shannon divergence of two ``(B, A)`` distributions, in bits (in ``[0, 1]``)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(a > 0, a * np.log2(a / m), 0.0)
        return terms.sum(axis=1)

    return 0.5 * kl(p) + 0.5 * kl(q)


def diversity(policies: Sequence[Any], observations: np.ndarray) -> float:
    """Mean pairwise Jensen-Shannon divergence (bits) of the members' action distributions
    (``batch_probabilities``) on a fixed ``(B, obs_dim)`` set of observation tensors, averaged over the states.
    For greedy members it is the share of states where two members disagree."""
    obs = np.asarray(observations, np.float32)
    if len(policies) < 2:
        return 0.0
    probs = [np.asarray(p.batch_probabilities(obs, np.ones((len(obs), _actions(p)), bool)), float) for p in policies]
    pairs = [(i, j) for i in range(len(probs)) for j in range(i + 1, len(probs))]
    return float(np.mean([jensen_shannon(probs[i], probs[j]).mean() for i, j in pairs]))


def _actions(policy: Any) -> int:
    return int(policy.game.num_distinct_actions())


def learned_exploitability(game: Any, member: Any, config: Any, *, steps: int, eval_episodes: int,
                           seed: SeedLike = 0) -> dict[str, Any]:
    """Learned best-response exploitability of a frozen ``member`` (Timbers et al. 2022's approximate
    exploitability): a fresh :class:`~solvers.marl.IndependentDQN` (``config``) trained ``steps`` env steps in seat 0
    of batched markets against ``member`` in seat 1, then the response and the member itself each play
    ``eval_episodes`` episodes per market in seat 0 of the same fresh markets. Returns the response's and the
    member's mean seat-0 payoff and the gain (response minus member, paired by market) with 95% intervals."""
    from solvers.marl.best_response import train_best_response
    from solvers.marl.opponents import RuleOpponentsEnv, evaluate_seat
    from solvers.population.workers import torch_threads

    train_seed, eval_seed = seed_sequence(seed).spawn(2)
    with torch_threads(1):
        br = train_best_response(game, member, steps=steps, num_envs=config.num_envs, config=config, seed=train_seed)
        mask = np.ones((config.num_envs, game.num_distinct_actions()), bool)
        pnl_br, _ = evaluate_seat(RuleOpponentsEnv(game, [member], config.num_envs, seed=eval_seed),
                                  lambda env, obs: br.act([obs])[0], eval_episodes)
        pnl_self, _ = evaluate_seat(RuleOpponentsEnv(game, [member], config.num_envs, seed=eval_seed),
                                    lambda env, obs: np.argmax(member.batch_probabilities(obs, mask), axis=1),
                                    eval_episodes)

    return {"response_payoff": mean_interval(pnl_br), "member_payoff": mean_interval(pnl_self),
            "gain": mean_interval(pnl_br - pnl_self),
            "steps": int(steps), "episodes": int(pnl_br.size)}
