"""Robustness of any strategy on any OpenSpiel game: payoffs against held-out opponents and mixtures
(:mod:`.evaluate`), gains of best-response adversaries, selfish and spiteful (:mod:`.adversary`), worst case and
average over them (:func:`summarize`); a robust trader for the market (:mod:`.robust_trader`); and the
market-quality damage of manipulators (:mod:`.damage`)."""
from solvers.robustness.adversary import (ADVERSARY_METHODS, OBJECTIVES, MarketAdversaryConfig, adversary_records,
                                          best_response_adversary, train_market_adversary)
from solvers.robustness.damage import (DAMAGE_MEASURES, MarketDamage, PairedDifference, idle_seat, market_damage,
                                       market_measures)
from solvers.robustness.evaluate import (Estimate, RobustnessRecord, RobustnessSummary, SeatPolicy,
                                         evaluate_against, mixture_estimate, payoff_estimate, summarize)

__all__ = ["ADVERSARY_METHODS", "DAMAGE_MEASURES", "OBJECTIVES", "Estimate", "MarketAdversaryConfig", "MarketDamage",
           "PairedDifference", "RobustnessRecord", "RobustnessSummary", "SeatPolicy", "adversary_records",
           "best_response_adversary", "evaluate_against", "idle_seat", "market_damage",
           "market_measures", "mixture_estimate", "payoff_estimate", "summarize",
           "train_market_adversary"]
