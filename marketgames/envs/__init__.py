"""Reinforcement-learning environments over the market game: PettingZoo's parallel and AEC APIs."""
from .pettingzoo_env import LobMarketParallelEnv, lob_market_aec_env, lob_market_parallel_env

__all__ = ["LobMarketParallelEnv", "lob_market_aec_env", "lob_market_parallel_env"]
