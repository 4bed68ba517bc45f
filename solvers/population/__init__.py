"""Population training in the market: self-play against a pool of past snapshots and rule traders
(:class:`~solvers.population.self_play.SelfPlay`), population-based training ranked by the empirical game
(:class:`~solvers.population.pbt.PBT`), its lineage and metrics, and the serial / process / Ray workers."""
from solvers.population.lineage import CopyEvent, Lineage, MemberRecord
from solvers.population.matchmaking import MATCHMAKING, OpponentPool, matchmaking_weights, snapshot_due
from solvers.population.metrics import (FITNESS, Fitness, diversity, fitness, jensen_shannon,
                                        learned_exploitability, population_nash_conv)
from solvers.population.pbt import (PBT, SEARCH_SPACE, Hyperparameter, PBTConfig, explore, member_config,
                                    seat_policy, truncation_selection)
from solvers.population.self_play import SelfPlay, SelfPlayConfig, SelfPlayLog, default_learner_config
from solvers.population.workers import BACKENDS, Workers, make_workers

__all__ = ["BACKENDS", "CopyEvent", "FITNESS", "Fitness", "Hyperparameter", "Lineage", "MATCHMAKING", "MemberRecord",
           "OpponentPool", "PBT", "PBTConfig", "SEARCH_SPACE", "SelfPlay", "SelfPlayConfig", "SelfPlayLog", "Workers",
           "default_learner_config", "diversity", "explore", "fitness", "jensen_shannon", "learned_exploitability",
           "make_workers", "matchmaking_weights", "member_config", "population_nash_conv", "seat_policy",
           "snapshot_due", "truncation_selection"]
