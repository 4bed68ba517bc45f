"""Per-episode, per-player bookkeeping that turns a batch of turn-based episodes into one transition per decision.

A player's transition ``(obs, action, reward, next_obs, next_legal, done)`` closes when that player moves again (or
its episode ends); the reward is everything the player received in between. Rewards a player receives before its
first decision in an episode belong to no decision and are dropped; nothing carries over from one episode to the
next, even for a player that never moved in it.
"""
from __future__ import annotations

import numpy as np

from solvers.rl.buffers import ReplayBuffer


class PendingTransitions:
    """Open transitions of ``num_players`` players in ``num_envs`` episodes."""

    def __init__(self, num_envs: int, num_players: int, obs_size: int, num_actions: int) -> None:
        self.open = np.zeros((num_envs, num_players), bool)
        self.obs = np.zeros((num_envs, num_players, obs_size), np.float32)
        self.action = np.zeros((num_envs, num_players), np.int64)
        self.reward = np.zeros((num_envs, num_players))
        self.obs_size = obs_size
        self.num_actions = num_actions

    def close(self, rows: np.ndarray, player: int, next_obs: np.ndarray, next_legal: np.ndarray,
              buffer: ReplayBuffer) -> None:
        """Close ``player``'s open transitions in episodes ``rows`` (players about to move again)."""
        keep = self.open[rows, player]
        rows, next_obs, next_legal = rows[keep], next_obs[keep], next_legal[keep]
        if rows.size:
            buffer.add(self.obs[rows, player], self.action[rows, player], self.reward[rows, player], next_obs,
                       next_legal, np.zeros(rows.size))
        self.open[rows, player] = False
        self.reward[rows, player] = 0.0

    def start(self, rows: np.ndarray, player: int, obs: np.ndarray, actions: np.ndarray) -> None:
        """Open ``player``'s transitions in ``rows`` (close the previous ones first): rewards count from here."""
        self.open[rows, player] = True
        self.reward[rows, player] = 0.0
        self.obs[rows, player] = obs
        self.action[rows, player] = actions

    def end_episodes(self, rows: np.ndarray, player: int, buffer: ReplayBuffer) -> None:
        """Close ``player``'s open transitions in ended episodes ``rows`` as terminal, and forget every reward
        of those episodes (also where ``player`` never moved)."""
        done = rows[self.open[rows, player]]
        if done.size:
            buffer.add(self.obs[done, player], self.action[done, player], self.reward[done, player],
                       np.zeros((done.size, self.obs_size), np.float32),
                       np.zeros((done.size, self.num_actions), bool), np.ones(done.size))
        self.open[rows, player] = False
        self.reward[rows, player] = 0.0
