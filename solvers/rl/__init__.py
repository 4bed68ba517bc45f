"""Reinforcement-learning building blocks in torch: networks, buffers, a batched DQN, batched OpenSpiel episodes."""
from solvers.rl.buffers import ReplayBuffer, ReservoirBuffer
from solvers.rl.dqn import DQN, DQNConfig
from solvers.rl.vector_env import VectorEnv

__all__ = ["DQN", "DQNConfig", "ReplayBuffer", "ReservoirBuffer", "VectorEnv"]
