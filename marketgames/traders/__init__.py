"""Rule-based traders for ``python_lob_market``: OpenSpiel policies that act only on their own observation.

Each trader maps a batch of integer observations to action probabilities with numpy
(:meth:`RuleTrader.probabilities`), so the OpenSpiel game and a batched simulator can both use it::

    import marketgames, pyspiel
    from marketgames.traders import make_trader
    game = pyspiel.load_game("python_lob_market(players=2)")
    trend = make_trader("trend(window=3,threshold=1)", game, player_ids=[0])

Traders: ``trend``, ``mean_reversion``, ``noise`` (:mod:`.directional`), ``market_maker``, ``zi``
(:mod:`.liquidity`), ``zi_book`` (:mod:`.book_reader`), ``spoofer``, ``layering``, ``pump_and_dump``, ``predator``
(:mod:`.manipulators`).
"""
from .base import Param, RuleTrader, TraderConfigError
from .directional import MeanReversion, NoiseTrader, TrendFollower
from .liquidity import MarketMaker, ZeroIntelligence
from .book_reader import BookReaderZI
from .manipulators import Layering, PredatoryTaker, PumpAndDump, Spoofer
from .observation import ActionLayout, ObservationLayout
from .registry import TRADERS, format_spec, make_trader, parse_spec, split_top_level

__all__ = ["ActionLayout", "BookReaderZI", "Layering", "MarketMaker", "MeanReversion", "NoiseTrader",
           "ObservationLayout", "Param", "PredatoryTaker", "PumpAndDump", "RuleTrader", "Spoofer", "TRADERS", "TraderConfigError", "TrendFollower",
           "ZeroIntelligence", "format_spec", "make_trader", "parse_spec", "split_top_level"]
