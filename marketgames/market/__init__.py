"""The market's rules (compiled kernels shared by the OpenSpiel game and the batched simulator) and its config."""
from .config import MarketConfig, MarketConfigError

__all__ = ["MarketConfig", "MarketConfigError"]
