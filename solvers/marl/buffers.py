"""A joint replay buffer for centralised critics: one row per vector-env step and episode, all agents together."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["JointReplayBuffer"]


class JointReplayBuffer:
    """A circular buffer of joint transitions in preallocated numpy arrays.

    Row ``t`` holds every agent's observation, legal mask, action vector (one-hot for Discrete, the squashed action for Box),
    reward, next observation and next legal mask, and the episode's termination flag, so a sample of rows gives
    each agent's centralised critic the joint observation and action of the same moments (Lowe et al. 2017).
    """

    def __init__(self, capacity: int, obs_dims: Sequence[int], action_dims: Sequence[int],
                 mask_dims: Sequence[int]) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} is not allowed: expected >= 1")
        self.capacity = int(capacity)
        self.obs = [np.zeros((capacity, d), np.float32) for d in obs_dims]
        self.action = [np.zeros((capacity, d), np.float32) for d in action_dims]
        self.next_obs = [np.zeros((capacity, d), np.float32) for d in obs_dims]
        self.mask = [np.zeros((capacity, d), bool) for d in mask_dims]  # zeros: untouched pages stay unallocated
        self.next_mask = [np.zeros((capacity, d), bool) for d in mask_dims]
        self.reward = np.zeros((capacity, len(obs_dims)), np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.size = 0
        self.next = 0

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by name (for checkpoints)."""
        named = {"reward": self.reward, "done": self.done}
        for field in ("obs", "mask", "action", "next_obs", "next_mask"):
            for i, array in enumerate(getattr(self, field)):
                named[f"{field}{i}"] = array
        return named

    def add(self, obs, mask, action, reward, next_obs, next_mask, done) -> None:
        """Add ``k`` joint transitions: per-agent lists of ``(k, ...)`` arrays, ``reward`` ``(k, n)``, ``done``
        ``(k,)``."""
        k = len(done)
        if k > self.capacity:
            raise ValueError(f"{k} transitions do not fit a buffer of capacity {self.capacity}")
        start = self.next
        idx = slice(start, start + k) if start + k <= self.capacity else (start + np.arange(k)) % self.capacity
        for field, values in (("obs", obs), ("mask", mask), ("action", action), ("next_obs", next_obs),
                              ("next_mask", next_mask)):
            for array, v in zip(getattr(self, field), values):
                array[idx] = v
        self.reward[idx], self.done[idx] = reward, done
        self.next = (start + k) % self.capacity
        self.size = min(self.size + k, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform row indices (with replacement)."""
        return rng.integers(0, self.size, size=batch_size)
