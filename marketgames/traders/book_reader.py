"""A zero-intelligence trader that reads the depth of the order book: the book-reading background trader of the
spoofing experiments.

Wang & Wellman (2017), "Spoofing the limit order book: an agent-based model" (AAMAS), find that background traders
who learn from order-book information (their heuristic-belief-learning agents) are the ones a spoofer misleads;
zero-intelligence traders that value the asset from the fundamental are not. :class:`BookReaderZI` is the rule-trader
version of that dependence: a ZI-C trader (:class:`~marketgames.traders.liquidity.ZeroIntelligence`) whose value
estimate leans towards the heavier side of the visible book.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Param
from .liquidity import ZeroIntelligence


class BookReaderZI(ZeroIntelligence):
    """ZI-C trader whose value is the mid shifted by the book's depth imbalance.

    ``v = mid + imbalance_weight * (D_bid - D_ask) / (D_bid + D_ask)`` ticks, with ``D_bid`` / ``D_ask`` the lots
    visible over the observed ``book_levels`` of each side (0 shift with an empty book): deep bids read as buying
    pressure, so it values the asset higher. Everything else is :class:`ZeroIntelligence` (``value`` is ignored:
    the estimate starts from the mid).
    """

    name: ClassVar[str] = "zi_book"
    PARAMS: ClassVar[dict[str, Param]] = {
        **ZeroIntelligence.PARAMS,
        "value": Param("mid", "the value estimate's anchor (only 'mid': the imbalance shifts it)", str,
                       choices=("mid",)),
        "imbalance_weight": Param(2.0, "ticks the value moves for a book entirely on one side", float, low=0.0),
    }

    def value_estimate(self, obs: np.ndarray) -> np.ndarray:
        obs = self.layout.check(obs)
        L = self.layout
        bid, ask = obs[:, L.bid_sizes].sum(axis=1), obs[:, L.ask_sizes].sum(axis=1)
        imbalance = (bid - ask) / np.maximum(bid + ask, 1)
        return L.mid2(obs) / 2.0 + self._params["imbalance_weight"] * imbalance
