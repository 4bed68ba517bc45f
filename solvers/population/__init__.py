"""Population training: self-play against a pool of past snapshots and rule traders."""
from solvers.population.matchmaking import MATCHMAKING, OpponentPool, matchmaking_weights, snapshot_due
from solvers.population.self_play import SelfPlay, SelfPlayConfig, SelfPlayLog, default_learner_config

__all__ = [
           "MATCHMAKING",
           "OpponentPool",
           "SelfPlay",
           "SelfPlayConfig",
           "SelfPlayLog",
           "default_learner_config",
           "matchmaking_weights",
           "snapshot_due",
]
