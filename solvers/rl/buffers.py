"""Fixed-size transition stores backed by numpy arrays; sampling uses an injected generator."""
from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """A circular buffer of transitions ``(obs, action, reward, next_obs, next_legal, done)``."""

    def __init__(self, capacity: int, obs_size: int, num_actions: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} is not allowed: expected >= 1")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_size), np.float32)
        self.action = np.zeros(capacity, np.int64)
        self.reward = np.zeros(capacity, np.float32)
        self.next_obs = np.zeros((capacity, obs_size), np.float32)
        self.next_legal = np.zeros((capacity, num_actions), bool)
        self.done = np.zeros(capacity, np.float32)
        self.size = 0
        self._next = 0

    def add(self, obs, action, reward, next_obs, next_legal, done) -> None:
        """Add a batch of transitions (leading dimension ``k``)."""
        k = len(action)
        start = self._next
        # a slice (no index array, no gather) unless the batch wraps around the end
        idx = slice(start, start + k) if start + k <= self.capacity else (start + np.arange(k)) % self.capacity
        self.obs[idx], self.action[idx], self.reward[idx] = obs, action, reward
        self.next_obs[idx], self.next_legal[idx], self.done[idx] = next_obs, next_legal, done
        self._next = int((self._next + k) % self.capacity)
        self.size = min(self.size + k, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        idx = rng.integers(0, self.size, size=batch_size)
        return (self.obs[idx], self.action[idx], self.reward[idx], self.next_obs[idx], self.next_legal[idx],
                self.done[idx])


class ReservoirBuffer:
    """Reservoir sampling (Vitter 1985) of ``(obs, action, legal)``: a uniform sample of everything added."""

    def __init__(self, capacity: int, obs_size: int, num_actions: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} is not allowed: expected >= 1")
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_size), np.float32)
        self.action = np.zeros(capacity, np.int64)
        self.legal = np.zeros((capacity, num_actions), bool)
        self.size = 0
        self.seen = 0

    def add(self, obs, action, legal, rng: np.random.Generator) -> None:
        for k in range(len(action)):
            if self.size < self.capacity:
                slot = self.size
                self.size += 1
            else:
                slot = int(rng.integers(0, self.seen + 1))
                if slot >= self.capacity:
                    self.seen += 1
                    continue
            self.obs[slot], self.action[slot], self.legal[slot] = obs[k], action[k], legal[k]
            self.seen += 1

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        idx = rng.integers(0, self.size, size=batch_size)
        return self.obs[idx], self.action[idx], self.legal[idx]
