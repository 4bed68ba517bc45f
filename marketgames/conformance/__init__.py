"""Conformance checks for ``python_lob_market`` configurations and rule-based traders (in the spirit of
``pettingzoo.test``).

Usage::

    from marketgames.conformance import check_game, check_trader
    check_game("python_lob_market(players=3,steps=5)", num_sims=5, seed=0)
    check_trader("zi", game)            # a spec for marketgames.traders.make_trader, or a RuleTrader

Every check raises :class:`ConformanceError` (an ``AssertionError``) with a message naming the state (its history),
the player and what differs; on success it returns a :class:`ConformanceReport` with what was visited.

:func:`check_game` runs OpenSpiel's own ``pyspiel.random_sim_test`` (with serialization) and then its own random
simulations, checking at every visited state: clone and serialize/deserialize round-trips (``str``, observation and
information-state strings and tensors), tensor sizes, the observer's named views tiling its tensor, chance
probabilities, legal actions, returns within ``[min_utility, max_utility]`` and summed rewards equal to the returns
(rewards read at every player node and at the terminal, OpenSpiel's convention). On a market game (a game with a
``MarketConfig`` ``config``) it also checks the market's invariants: the book is never crossed, its header agrees with
its levels, quantity is conserved (``submitted = resting + filled + cancelled``, book counters of
:mod:`marketgames.book.kernels`), inventories and worst-case positions stay within ``position_limit``, a player
never has more than ``max_orders`` resting orders; and that no player's observation or information state depends on
the fundamental value (:func:`check_fundamental_hidden`). The generic checks also work on any OpenSpiel game.
"""
from marketgames.conformance.game import (ConformanceError, ConformanceReport, _walk, check_fundamental_hidden,
                                          check_game, check_market_invariants, check_observer, check_state, load)
from marketgames.conformance.traders import check_all_traders, check_trader

__all__ = ["ConformanceError", "ConformanceReport", "check_game", "check_state", "check_market_invariants",
           "check_fundamental_hidden", "check_observer", "check_trader", "check_all_traders", "load"]
