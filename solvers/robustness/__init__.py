"""Robustness of strategies: market-quality damage of manipulators (:mod:`.damage`)."""
from solvers.robustness.damage import (DAMAGE_MEASURES, MarketDamage, PairedDifference, idle_seat, market_damage,
                                       market_measures)

__all__ = ["DAMAGE_MEASURES", "MarketDamage", "PairedDifference", "idle_seat", "market_damage", "market_measures"]
