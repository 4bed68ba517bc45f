"""Reinforcement-learning environments over the market game: PettingZoo's parallel and AEC APIs, and a vectorised
multi-agent env over the batched engine."""
from .pettingzoo_env import ChanceOutcome, LobMarketParallelEnv, lob_market_aec_env, lob_market_parallel_env
from .spaces import observation_bounds, observation_box
from .vector_env import CounterChance, MarketVectorEnv

__all__ = ["ChanceOutcome", "CounterChance", "LobMarketParallelEnv", "MarketVectorEnv", "lob_market_aec_env",
           "lob_market_parallel_env", "observation_bounds", "observation_box"]
