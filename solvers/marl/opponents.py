"""A learner against rule traders in the batched market: :class:`RuleOpponentsEnv`, and :func:`evaluate_seat`.

Market ``b`` of the batch seats the learner in seat 0 and ``opponents[b % K]`` in every other seat, so one batch
trains against the whole rule population at once. The markets are stepped by
:class:`marketgames.market.batched.BatchedMarket` (the game's rules, compiled); the rule traders act on their integer
observations with :meth:`marketgames.traders.RuleTrader.probabilities`, one draw per market from the market's own
uniforms (:func:`marketgames.market.population.sample_rows`, stream ``STREAM_FIRST_SEAT + seat``: the draws
``population_actions`` makes), and the learner sees the game's float observation tensors. Episodes are
``config.steps`` rounds and all markets end together (terminated; auto-reset in the same step). An opponent may
also be a :class:`marketgames.market.payoffs.BatchPolicy` (e.g. a learner's snapshot policy): it acts on its seat's
observation tensors. :meth:`RuleOpponentsEnv.set_opponents` re-seats the markets between episodes (self-play).
Its state in a learner's checkpoint is the episode index (``get_state``), so a learner loaded onto an env built with
the same seed replays the episode that was under way.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces

from marketgames.envs.spaces import market_config, scale_observations
from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket
from marketgames.market.payoffs import batched_seat, is_batchable
from marketgames.market.population import sample_rows
from marketgames.seeding import SeedLike, seed_sequence
from solvers.marl.envs import MultiAgentVectorEnv, VectorStep, _check_actions

__all__ = ["RuleOpponentsEnv", "evaluate_seat"]


class RuleOpponentsEnv(MultiAgentVectorEnv):
    """``num_envs`` markets of ``game``: one learning agent ``"trader_0"`` against rule traders (module doc).

    Args:
        game: a ``python_lob_market`` game (or its string).
        opponents: rule traders (objects with ``probabilities(int_obs) -> (B, A)``) or ``BatchPolicy`` strategies
            (``batch_probabilities``); market ``b`` seats ``opponents[b % len(opponents)]`` in seats
            ``1 .. players-1``.
        num_envs: markets ``B``.
        seed: the markets' chance draws and the opponents' action draws.

    Attributes:
        int_obs: ``(B, players, obs_size)`` integer observations at the current node (for rule traders in seat 0).
        opponent_index: ``(B,)`` which opponent plays market ``b``.
        last_rewards: ``(B, players)`` every seat's rewards of the last step.
        last_episode_returns: ``(B, players)`` every seat's summed rewards of the episodes that ended last.
    """

    def __init__(self, game: str | pyspiel.Game, opponents: Sequence[Any], num_envs: int, *,
                 seed: SeedLike = 0) -> None:
        game = pyspiel.load_game(game) if isinstance(game, str) else game
        config = market_config(game) if isinstance(game, pyspiel.Game) else None
        if config is None:
            raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game or its string")
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an int >= 1")
        self.game, self.config = game, config
        self.num_envs = int(num_envs)
        self.set_opponents(opponents, np.arange(self.num_envs) % max(len(opponents), 1))
        self.agents = ["trader_0"]
        self.obs_dims = [game.observation_tensor_size()]
        self.action_spaces = [spaces.Discrete(config.num_actions)]
        self._observer = game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False))
        self._market = BatchedMarket(config, self.num_envs, seed_sequence(seed, name="seed"))
        self._mask = np.ones((self.num_envs, config.num_actions), bool)  # every action is legal at a player node
        self._returns = np.zeros(self.num_envs)
        self.int_obs = np.zeros((self.num_envs, config.players, self._market.obs_size), np.int64)
        self.last_rewards = np.zeros((self.num_envs, config.players))
        self._all_returns = np.zeros((self.num_envs, config.players))
        self.last_episode_returns = np.full((self.num_envs, config.players), np.nan)
        self._started = False

    def set_opponents(self, opponents: Sequence[Any], opponent_index: np.ndarray) -> None:
        """Seat ``opponents[opponent_index[b]]`` in market ``b`` from the next step on (call it between episodes
        to re-seat whole episodes)."""
        index = np.asarray(opponent_index)
        if len(opponents) < 1 or not all(is_batchable(t) for t in opponents):
            raise ValueError(f"opponents={opponents!r} is not allowed: expected at least one trader with "
                             "probabilities(obs) or batch_probabilities(observations, legal_mask)")
        if index.shape != (self.num_envs,) or index.dtype.kind not in "iu" or index.min() < 0 \
                or index.max() >= len(opponents):
            raise ValueError(f"opponent_index={opponent_index!r} is not allowed: expected ({self.num_envs},) ints "
                             f"in [0, {len(opponents) - 1}]")
        self.opponents = list(opponents)
        # a BatchPolicy reads its seat's observation tensor (the scaling the batched simulator uses)
        self._seats = [batched_seat(t, self.game, f"opponents[{k}]") for k, t in enumerate(self.opponents)]
        self.opponent_index = index.astype(np.int64)
        self._rows = [np.flatnonzero(self.opponent_index == k) for k in range(len(self.opponents))]

    def get_state(self) -> dict[str, Any]:
        """The episode under way, so :meth:`set_state` makes the next :meth:`reset` start it again."""
        return {"episode": max(self._market.episode, 0)}

    def set_state(self, state: dict[str, Any]) -> None:
        episode = state.get("episode") if isinstance(state, dict) else None
        if isinstance(episode, bool) or not isinstance(episode, int) or episode < 0:
            raise ValueError(f"state={state!r} is not allowed: expected get_state() data with an episode >= 0")
        self._market._episode = episode - 1  # reset() counts it up (as MarketVectorEnv.set_state)
        self._started = False

    def _learner_obs(self, ints: np.ndarray) -> np.ndarray:
        return scale_observations(self.game, ints[:, 0], self._observer)

    def reset(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        self.int_obs = self._market.reset()
        self._returns[:] = 0.0
        self._all_returns[:] = 0.0
        self._started = True
        return [self._learner_obs(self.int_obs)], [self._mask.copy()]

    def opponent_actions(self) -> np.ndarray:
        """``(B, players - 1)`` the rule traders' actions at the current node (seats 1..)."""
        m = self._market
        out = np.empty((self.num_envs, self.config.players - 1), np.int64)
        for seat in range(1, self.config.players):
            probs = np.empty((self.num_envs, self.config.num_actions))
            for trader, rows in zip(self._seats, self._rows):
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
        self._all_returns += rewards
        final = self._learner_obs(ints)
        episode_returns = np.full((self.num_envs, 1), np.nan)
        if done.any():
            episode_returns[done, 0] = self._returns[done]
            self.last_episode_returns = np.where(done[:, None], self._all_returns, np.nan)
            self._returns[done] = 0.0
            self._all_returns[done] = 0.0
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
