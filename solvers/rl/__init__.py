"""Reinforcement-learning building blocks in torch: networks, buffers, batched DQN and PPO, batched OpenSpiel
episodes."""
from solvers.rl.buffers import ReplayBuffer, ReservoirBuffer
from solvers.rl.dqn import DQN, DQNConfig
from solvers.rl.ppo import PPO, PPOConfig
from solvers.rl.vector_env import VectorEnv

__all__ = ["DQN", "DQNConfig", "PPO", "PPOConfig", "ReplayBuffer", "ReservoirBuffer", "VectorEnv"]
