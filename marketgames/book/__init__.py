"""The limit order book: a pure data structure with price-time priority (see :mod:`.orderbook`), and its stream
path (:func:`.stream.process_messages`)."""
from .orderbook import MAX_QUANTITY, MAX_TICKS, Fill, Level, OrderBook, OrderBookError, Side, SubmitResult
from .stream import MAX_STREAM_ID, process_messages

__all__ = ["Fill", "Level", "OrderBook", "OrderBookError", "Side", "SubmitResult", "MAX_QUANTITY", "MAX_TICKS",
           "MAX_STREAM_ID", "process_messages"]
