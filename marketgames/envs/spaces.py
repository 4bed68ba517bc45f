"""Observation ranges of ``python_lob_market``, derived from its :class:`~marketgames.market.config.MarketConfig`.

The integer observation (:func:`marketgames.market.rules.observe`) is bounded piece by piece by the rules:

* inventory: the position limit keeps ``inventory + resting buys <= position_limit`` and
  ``resting sells - inventory <= position_limit`` (every order is cut to fit), so ``|inventory| <= position_limit``
  and resting lots per side are at most ``min(2 * position_limit, max_orders * lot)``;
* cash: a player trades only lots of its own orders, at most two of ``lot`` lots per round, at prices in
  ``[0, price_levels - 1]``, so ``|cash| <= 2 * lot * steps * (price_levels - 1)`` (the bound of
  :meth:`MarketConfig.utility_bound`, with the top price);
* book: prices on the grid (missing levels are ``-1``); a level holds at most every resting order of its side: the
  players' (as above) plus the background orders the book has room for (``book_capacity - players * max_orders``,
  ``bg_lot`` lots each);
* market: last price on the grid, spread ``-1`` (a side empty) or ``1 .. price_levels - 1``, rounds left
  ``0 .. steps``, changes of twice the mid in ``[-2 (price_levels - 1), 2 (price_levels - 1)]``.

The float observation is the observer's scaling of the integer one, which is increasing in every element, so the
scaled integer bounds are bounds of the tensor (and stay bounds after rounding to float32, which is monotone).
"""
from __future__ import annotations

import numpy as np
import pyspiel
from gymnasium import spaces

from ..market import rules as R
from ..market.config import MarketConfig

__all__ = [
    "integer_observation_bounds",
    "market_config",
    "observation_bounds",
    "observation_box",
    "scale_observations",
]


def market_config(game: pyspiel.Game) -> MarketConfig | None:
    """The game's :class:`MarketConfig` if it is a ``python_lob_market``, else ``None``."""
    config = getattr(game, "config", None)
    return config if isinstance(config, MarketConfig) else None


def integer_observation_bounds(config: MarketConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` int64 bounds of every element of the integer observation (see the module docstring)."""
    L, H = config.book_levels, config.history
    size = R.obs_size(L, H)
    low = np.zeros(size, dtype=np.int64)
    high = np.zeros(size, dtype=np.int64)
    top = config.price_levels - 1
    resting = min(2 * config.position_limit, config.max_orders * config.lot)
    low[0], high[0] = -config.position_limit, config.position_limit
    cash = 2 * config.lot * config.steps * top
    low[1], high[1] = -cash, cash
    low[2:4], high[2:4] = 0, resting
    i = R.OBS_PRIVATE
    background = (config.book_capacity - config.players * config.max_orders) * config.bg_lot
    level = config.players * resting + background
    for side in range(2):
        prices = slice(i + 2 * side * L, i + (2 * side + 1) * L)
        sizes = slice(i + (2 * side + 1) * L, i + (2 * side + 2) * L)
        low[prices], high[prices] = -1, top
        low[sizes], high[sizes] = 0, level
    j = i + 4 * L
    low[j], high[j] = 0, top                # last trade price
    low[j + 1], high[j + 1] = -1, top       # spread (-1: a side is empty)
    low[j + 2], high[j + 2] = 0, config.steps  # rounds left
    low[j + 3:], high[j + 3:] = -2 * top, 2 * top  # changes of twice the mid
    return low, high


def _observer(game: pyspiel.Game):
    # The observer behind state.observation_tensor(p): OpenSpiel's default observation type.
    return game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False))


def scale_observations(game: pyspiel.Game, ints: np.ndarray, observer=None) -> np.ndarray:
    """The float32 observation tensors of integer observations ``(..., obs_size)``, as the game's observer makes
    them (one implementation of the scaling: the observer's)."""
    observer = observer if observer is not None else _observer(game)
    return np.asarray(observer._scaled(np.asarray(ints)), dtype=np.float32)


def observation_bounds(game: pyspiel.Game) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` float32 bounds of ``state.observation_tensor(p)`` of a ``python_lob_market`` game."""
    config = market_config(game)
    if config is None:
        raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game")
    low, high = integer_observation_bounds(config)
    observer = _observer(game)
    return scale_observations(game, low, observer), scale_observations(game, high, observer)


def observation_box(game: pyspiel.Game) -> spaces.Box:
    """The bounded ``Box`` of a market game's observation tensor (unbounded for any other game)."""
    if market_config(game) is None:
        return spaces.Box(-np.inf, np.inf, shape=(game.observation_tensor_size(),), dtype=np.float32)
    low, high = observation_bounds(game)
    return spaces.Box(low, high, dtype=np.float32)
