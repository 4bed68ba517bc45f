"""marketgames: limit-order-book markets as OpenSpiel games, with rule-based traders.

Importing this package registers ``python_lob_market`` with ``pyspiel``.
"""
from . import games  # noqa: F401  (registers the games)
from .book import Fill, OrderBook, OrderBookError, Side
from .market import MarketConfig, MarketConfigError

__version__ = "0.1.0"

#: A configuration whose whole tree is small enough for exact algorithms (NashConv, CFR, XFP) in seconds.
TINY_GAME = ("python_lob_market(players=2,steps=2,price_levels=7,limit_levels=0,quote_levels=1,shock_prob=1.0,"
             "bg_arrival_prob=1.0,bg_value_spread=0,bg_shade_min=1,bg_shade_max=1,initial_depth=1,bg_ttl=2,"
             "book_levels=2,history=1,position_limit=2,max_orders=2)")

__all__ = ["Fill", "MarketConfig", "MarketConfigError", "OrderBook", "OrderBookError", "Side", "TINY_GAME"]
