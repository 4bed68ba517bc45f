"""Rule-based traders for ``python_lob_market``: OpenSpiel policies that act only on their own observation.

Each trader maps a batch of integer observations to action probabilities with numpy
(:meth:`RuleTrader.probabilities`), so the OpenSpiel game and a batched simulator can both use it::

    import marketgames, pyspiel
    from marketgames.traders import make_trader
    game = pyspiel.load_game("python_lob_market(players=2)")
    trend = make_trader("trend(window=3,threshold=1)", game, player_ids=[0])

Traders: ``trend``, ``mean_reversion``, ``noise`` (:mod:`.directional`), ``market_maker``, ``zi``
(:mod:`.liquidity`), ``spoofer``, ``pump_and_dump`` (:mod:`.manipulators`).
"""
from .base import Param, RuleTrader, TraderConfigError
from .directional import MeanReversion, NoiseTrader, TrendFollower
from .liquidity import MarketMaker, ZeroIntelligence
from .manipulators import PumpAndDump, Spoofer
from .observation import ActionLayout, ObservationLayout
from .registry import TRADERS, format_spec, make_trader, parse_spec, split_top_level

__all__ = ["ActionLayout", "MarketMaker", "MeanReversion", "NoiseTrader", "ObservationLayout", "Param",
           "PumpAndDump", "RuleTrader", "Spoofer", "TRADERS", "TraderConfigError", "TrendFollower",
           "ZeroIntelligence", "format_spec", "make_trader", "parse_spec", "split_top_level"]
