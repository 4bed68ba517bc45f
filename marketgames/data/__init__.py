"""Real market data: LOBSTER files (:mod:`.lobster`), their replay through the order book (:mod:`.replay`) and
strategies trading against the replayed flow (:mod:`.execution`)."""
from .lobster import (EVENT_NAMES, LobsterDay, LobsterFileName, LobsterFormatError, PriceGrid, TradingState,
                      load_day, orderbook_path_for, parse_file_name, shared_sample)

__all__ = ["EVENT_NAMES", "LobsterDay", "LobsterFileName", "LobsterFormatError", "PriceGrid", "TradingState",
           "load_day", "orderbook_path_for", "parse_file_name", "shared_sample"]
