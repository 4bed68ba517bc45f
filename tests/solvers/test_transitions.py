"""Transition bookkeeping: a decision's reward is what its player received from that decision to its next one."""
from __future__ import annotations

import numpy as np

from solvers.rl.buffers import ReplayBuffer
from solvers.rl.transitions import PendingTransitions


def _obs(value: float) -> np.ndarray:
    return np.full((1, 2), value, np.float32)


def test_rewards_belong_to_the_decision_that_preceded_them_and_never_cross_episodes():
    pending = PendingTransitions(num_envs=1, num_players=2, obs_size=2, num_actions=3)
    buffer = ReplayBuffer(10, obs_size=2, num_actions=3)
    row = np.array([0])
    legal = np.ones((1, 3), bool)
    # Episode 0: player 1 never moves but is paid 5; player 0 moves twice.
    pending.reward += np.array([[0.0, 2.0]])            # before anyone's first decision: nobody's
    pending.close(row, 0, _obs(1), legal, buffer)
    pending.start(row, 0, _obs(1), np.array([2]))
    pending.reward += np.array([[1.0, 5.0]])
    pending.close(row, 0, _obs(2), legal, buffer)
    pending.start(row, 0, _obs(2), np.array([1]))
    pending.reward += np.array([[3.0, 0.0]])
    for p in range(2):
        pending.end_episodes(row, p, buffer)
    assert buffer.size == 2
    np.testing.assert_array_equal(buffer.reward[:2], [1.0, 3.0])
    np.testing.assert_array_equal(buffer.done[:2], [0.0, 1.0])
    np.testing.assert_array_equal(buffer.action[:2], [2, 1])
    # Episode 1: player 1's first transition carries only this episode's reward (not episode 0's 5 or 2).
    pending.start(row, 1, _obs(3), np.array([0]))
    pending.reward += np.array([[0.0, -1.0]])
    pending.end_episodes(row, 1, buffer)
    assert buffer.size == 3 and buffer.reward[2] == -1.0 and buffer.done[2] == 1.0
