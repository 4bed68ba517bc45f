"""Multi-agent learners with one contract: independent DQN and MADDPG on any PettingZoo ``ParallelEnv`` (Discrete
or Box spaces, heterogeneous agents) or the batched market env, with checkpoints and OpenSpiel policies."""
from solvers.marl.base import MultiAgentLearner, ObservationGreedyPolicy, TrainLog
from solvers.marl.envs import (
           MarketVectorAdapter,
           MultiAgentVectorEnv,
           ParallelEnvVector,
           VectorStep,
           as_vector_env,
)
from solvers.marl.idqn import IndependentDQN, IndependentDQNConfig
from solvers.marl.maddpg import MADDPG, MADDPGConfig

__all__ = [
           "MADDPG",
           "IndependentDQN",
           "IndependentDQNConfig",
           "MADDPGConfig",
           "MarketVectorAdapter",
           "MultiAgentLearner",
           "MultiAgentVectorEnv",
           "ObservationGreedyPolicy",
           "ParallelEnvVector",
           "TrainLog",
           "VectorStep",
           "as_vector_env",
]
