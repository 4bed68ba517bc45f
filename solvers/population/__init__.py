"""Population training in the market: population-based training ranked by the empirical game
(:class:`~solvers.population.pbt.PBT`), its lineage and metrics, and the serial / process / Ray workers."""
from solvers.population.lineage import CopyEvent, Lineage, MemberRecord
from solvers.population.metrics import (FITNESS, Fitness, diversity, fitness, jensen_shannon,
                                        learned_exploitability, population_nash_conv)
from solvers.population.pbt import (PBT, SEARCH_SPACE, Hyperparameter, PBTConfig, explore, member_config,
                                    seat_policy, truncation_selection)
from solvers.population.workers import BACKENDS, Workers, make_workers

__all__ = ["BACKENDS", "CopyEvent", "FITNESS", "Fitness", "Hyperparameter", "Lineage", "MemberRecord", "PBT",
           "PBTConfig", "SEARCH_SPACE", "Workers", "diversity", "explore", "fitness", "jensen_shannon",
           "learned_exploitability", "make_workers", "member_config", "population_nash_conv", "seat_policy",
           "truncation_selection"]
