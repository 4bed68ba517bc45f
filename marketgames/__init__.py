"""marketgames: limit-order-book markets as OpenSpiel games, with rule-based traders.

Importing this package registers ``python_lob_market`` with ``pyspiel``.
"""
from . import games  # noqa: F401  (registers the games)
from .book import Fill, OrderBook, OrderBookError, Side
from .market import MarketConfig, MarketConfigError

__version__ = "0.1.0"

#: A configuration whose whole tree is small enough for exact algorithms (NashConv, CFR, XFP) in seconds:
#: 2 players, 2 rounds, 5 actions (hold, cancel, market buy, market sell, quote at half-spread 1), the fundamental
#: moves +-1 every round and one background order arrives at fundamental -+1 every round (so the book reveals the
#: fundamental here; the opponent's simultaneous move and account stay hidden).
#: Whole-tree node counts (chance, decision and terminal nodes; information sets of player 0 / player 1):
#:
#: ========================================  ===========  ==================
#: configuration                               nodes        information sets
#: ========================================  ===========  ==================
#: TINY_GAME                                    10,707       306 / 320
#: TINY_GAME with steps=1                          107         4 / 4
#: TINY_GAME with quote_levels=0                 4,551       180 / 194
#: TINY_GAME with bg_arrival_prob=0.5           23,859       474 / 500
#: TINY_GAME with players=3, quote_levels=0     67,335       320 / 398 / 364
#: TINY_GAME with players=3                    253,507       737 / 857 / 748
#: TINY_GAME with steps=3                    1,070,707
#: default (python_lob_market) with steps=1      4,549        15 / 15
#: default with steps=2                     20,470,549
#: ========================================  ===========  ==================
#:
#: OpenSpiel's Python ``exploitability.nash_conv`` of the uniform policy on TINY_GAME (1.7404) takes ~3-5 s.
TINY_GAME = ("python_lob_market(players=2,steps=2,price_levels=7,limit_levels=0,quote_levels=1,shock_prob=1.0,"
             "bg_arrival_prob=1.0,bg_value_spread=0,bg_shade_min=1,bg_shade_max=1,initial_depth=1,bg_ttl=2,"
             "book_levels=2,history=1,position_limit=2,max_orders=2)")

__all__ = ["Fill", "MarketConfig", "MarketConfigError", "OrderBook", "OrderBookError", "Side", "TINY_GAME"]
