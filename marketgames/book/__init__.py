"""The limit order book: a pure data structure with price-time priority (see :mod:`.orderbook`)."""
from .orderbook import Fill, Level, OrderBook, OrderBookError, Side, SubmitResult

__all__ = ["Fill", "Level", "OrderBook", "OrderBookError", "Side", "SubmitResult"]
