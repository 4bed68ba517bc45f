"""A learner against rule traders in the batched market: :class:`RuleOpponentsEnv`, and :func:`evaluate_seat`.

Market ``b`` of the batch seats the learner in seat 0 and ``opponents[b % K]`` in every other seat, so one batch
trains against the whole rule population at once. The markets are stepped by
:class:`marketgames.market.batched.BatchedMarket` (the game's rules, compiled); the rule traders act on their integer
observations with :meth:`marketgames.traders.RuleTrader.probabilities`, one draw per market from the market's own
uniforms (:func:`marketgames.market.population.sample_rows`, stream ``STREAM_FIRST_SEAT + seat``: the draws
``population_actions`` makes), and the learner sees the game's float observation tensors. Episodes are
``config.steps`` rounds and all markets end together (terminated; auto-reset in the same step). Its state is not
saved in a learner's checkpoint (``get_state`` is ``None``): a loaded learner starts new markets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces

from marketgames.envs.spaces import market_config, scale_observations
from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket
from marketgames.market.payoffs import _TensorSeat
from marketgames.market.population import sample_rows
from marketgames.seeding import SeedLike, seed_sequence
from solvers.marl.envs import MultiAgentVectorEnv, VectorStep, _check_actions

__all__ = ["RuleOpponentsEnv", "evaluate_seat"]


class RuleOpponentsEnv(MultiAgentVectorEnv):
    """``num_envs`` markets of ``game``: one learning agent ``"trader_0"`` against rule traders (module doc).

    Args:
        game: a ``python_lob_market`` game (or its string).
        opponents: rule traders (objects with ``probabilities(int_obs) -> (B, A)``) or
            :class:`~marketgames.market.payoffs.BatchPolicy` strategies (a learner's snapshot policy, playing on its
            seat's observation tensors); market ``b`` seats ``opponents[b % len(opponents)]`` in seats
            ``1 .. players-1``.
        num_envs: markets ``B``.
        seed: the markets' chance draws and the opponents' action draws.

    Attributes:
        int_obs: ``(B, players, obs_size)`` integer observations at the current node (for rule traders in seat 0).
        opponent_index: ``(B,)`` which opponent plays market ``b``.
        last_rewards: ``(B, players)`` every seat's rewards of the last step.
    """

    def __init__(self, game: str | pyspiel.Game, opponents: Sequence[Any], num_envs: int, *,
                 seed: SeedLike = 0) -> None:
        game = pyspiel.load_game(game) if isinstance(game, str) else game
        config = market_config(game) if isinstance(game, pyspiel.Game) else None
        if config is None:
            raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game or its string")
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an int >= 1")
        if len(opponents) < 1 or not all(callable(getattr(t, "probabilities", None))
                                         or callable(getattr(t, "batch_probabilities", None)) for t in opponents):
            raise ValueError(f"opponents={opponents!r} is not allowed: expected at least one trader with "
                             "probabilities(obs) or BatchPolicy with batch_probabilities(observations, legal_mask)")
        self.game, self.config = game, config
        # a BatchPolicy (e.g. a frozen learner's snapshot) reads its seat's observation tensors, as in the simulator
        self.opponents = [t if callable(getattr(t, "probabilities", None))
                          else _TensorSeat(t, game, config.num_actions, f"opponents[{k}]")
                          for k, t in enumerate(opponents)]
        self.num_envs = int(num_envs)
        self.agents = ["trader_0"]
        self.obs_dims = [game.observation_tensor_size()]
        self.action_spaces = [spaces.Discrete(config.num_actions)]
        self.opponent_index = np.arange(self.num_envs) % len(self.opponents)
        self._rows = [np.flatnonzero(self.opponent_index == k) for k in range(len(self.opponents))]
        self._observer = game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False))
        self._market = BatchedMarket(config, self.num_envs, seed_sequence(seed, name="seed"))
        self._mask = np.ones((self.num_envs, config.num_actions), bool)  # every action is legal at a player node
        self._returns = np.zeros(self.num_envs)
        self.int_obs = np.zeros((self.num_envs, config.players, self._market.obs_size), np.int64)
        self.last_rewards = np.zeros((self.num_envs, config.players))
        self._started = False

    def _learner_obs(self, ints: np.ndarray) -> np.ndarray:
        return scale_observations(self.game, ints[:, 0], self._observer)

    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        self.int_obs = self._market.reset()
        self._returns[:] = 0.0
        self._started = True
        return [self._learner_obs(self.int_obs)], [self._mask.copy()]

    def opponent_actions(self) -> np.ndarray:
        """``(B, players - 1)`` the rule traders' actions at the current node (seats 1..)."""
        m = self._market
        out = np.empty((self.num_envs, self.config.players - 1), np.int64)
        for seat in range(1, self.config.players):
            probs = np.empty((self.num_envs, self.config.num_actions))
            for trader, rows in zip(self.opponents, self._rows):
                if rows.size:
                    probs[rows] = trader.probabilities(np.ascontiguousarray(self.int_obs[rows, seat]))
            out[:, seat - 1] = sample_rows(probs, m.uniforms(STREAM_FIRST_SEAT + seat))
        return out

    def step(self, actions: Sequence[np.ndarray]) -> VectorStep:
        if not self._started:
            raise RuntimeError("step() called before reset()")
        (own,) = _check_actions(self, actions)
        joint = np.concatenate([np.asarray(own, np.int64)[:, None], self.opponent_actions()], axis=1)
        ints, rewards, done = self._market.step(joint)
        self.last_rewards = rewards
        self._returns += rewards[:, 0]
        final = self._learner_obs(ints)
        episode_returns = np.full((self.num_envs, 1), np.nan)
        if done.any():
            episode_returns[done, 0] = self._returns[done]
            self._returns[done] = 0.0
            self.int_obs = self._market.reset()
            obs = self._learner_obs(self.int_obs)
        else:
            self.int_obs, obs = ints, final
        return VectorStep([obs], [self._mask.copy()], rewards[:, :1].astype(np.float32), [final],
                          [self._mask.copy()], done.copy(), np.zeros(self.num_envs, bool), episode_returns)


def evaluate_seat(env: RuleOpponentsEnv, act: Callable[[RuleOpponentsEnv, np.ndarray], np.ndarray],
                  episodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Play ``episodes`` episodes in every market with ``act(env, obs) -> (B,)`` actions in seat 0.

    Returns ``(pnl, opponent_pnl)``, each ``(episodes, B)``: seat 0's and seat 1's summed rewards per episode (the
    market's final wealth with positions valued at the fundamental).
    """
    pnl = np.zeros((episodes, env.num_envs))
    other = np.zeros((episodes, env.num_envs))
    (obs,), _ = env.reset()
    for e in range(episodes):
        for _ in range(env.config.steps):
            out = env.step([act(env, obs)])
            pnl[e] += env.last_rewards[:, 0]
            other[e] += env.last_rewards[:, 1]
            obs = out.obs[0]
    return pnl, other
