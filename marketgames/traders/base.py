"""The contract of a rule-based trader: an OpenSpiel policy that acts only on its own integer observation.

A trader maps a batch of observations ``(B, obs_size)`` to action probabilities ``(B, num_actions)`` with numpy
(:meth:`RuleTrader.probabilities`); a batched simulator samples from the rows with its own random numbers, so a
trader holds no random generator and no memory: randomness is expressed only as probabilities, and anything a trader
conditions on (prices, its account, the round) comes from the observation. It never sees the fundamental value nor
other players' accounts.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from open_spiel.python import policy

from ..market.config import MarketConfig
from .observation import ActionLayout, ObservationLayout


class TraderConfigError(ValueError):
    """A trader parameter is not allowed (or the market lacks what the trader needs)."""


@dataclass(frozen=True)
class Param:
    """One documented trader parameter.

    ``kind`` is ``int``, ``float``, ``str`` or ``bool``; ``low``/``high`` bound numbers (inclusive); ``choices``
    lists the allowed strings; a ``default`` of ``None`` means "derived from the market" (resolved by the trader).
    """

    default: Any
    doc: str
    kind: type = int
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        if self.choices is not None:
            return f"one of {list(self.choices)}"
        if self.kind is bool:
            return "True or False"
        lo = "-inf" if self.low is None else self.low
        hi = "inf" if self.high is None else self.high
        what = "an integer" if self.kind is int else "a number"
        return f"{what} in [{lo}, {hi}]"


def _coerce(trader: str, name: str, value: Any, spec: Param) -> Any:
    """``value`` checked against ``spec`` (ints for int params, floats for float params)."""
    def fail(allowed: str | None = None) -> TraderConfigError:
        return TraderConfigError(f"{trader}: parameter {name}={value!r} is not allowed: expected "
                                 f"{allowed or spec.allowed()}")

    if spec.kind is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise fail()
    if spec.kind is str:
        if not isinstance(value, str) or (spec.choices is not None and value not in spec.choices):
            raise fail()
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail()
    if spec.kind is int:
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise fail()
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise fail()
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise fail()
    return value


def _seats(trader: str, player_ids: Any, players: int) -> list[int]:
    """``player_ids`` as a list of seats: integers (not bools, floats or strings) in ``[0, players - 1]``."""
    items: list[Any] | None = None
    if not isinstance(player_ids, (str, bytes)):
        try:
            items = list(player_ids)
        except TypeError:
            items = None
    ok = items is not None and len(items) > 0 and all(
        isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)) and 0 <= p < players
        for p in items)
    if not ok:
        raise TraderConfigError(f"{trader}: player_ids={player_ids!r} is not allowed: expected a non-empty list of "
                                f"integer seats in [0, {players - 1}]")
    return [int(p) for p in items or []]


class RuleTrader(policy.Policy, metaclass=abc.ABCMeta):
    """Base class of the rule-based traders.

    Args:
        game: a ``python_lob_market`` game (anything with a ``config`` :class:`MarketConfig`).
        player_ids: the seats this policy plays (default: all of them).
        **params: the trader's parameters (see the subclass's ``PARAMS``); unknown names and values out of range
            raise :class:`TraderConfigError` naming the parameter, the value and what is allowed.

    Subclasses set ``name``, ``PARAMS`` and implement :meth:`_probabilities`; :meth:`_resolve` may fill in
    market-dependent defaults and check that the market offers the actions the trader needs.
    """

    name: ClassVar[str] = "rule_trader"
    PARAMS: ClassVar[dict[str, Param]] = {}

    def __init__(self, game: Any, player_ids: list[int] | None = None, **params: Any) -> None:
        config = getattr(game, "config", None)
        if not isinstance(config, MarketConfig):
            raise TypeError(f"game={game!r} is not allowed: {self.name} needs a python_lob_market game "
                            "(a game with a MarketConfig `config`)")
        if player_ids is None:
            player_ids = list(range(game.num_players()))
        player_ids = _seats(self.name, player_ids, game.num_players())
        super().__init__(game, player_ids)
        self.config: MarketConfig = config
        self.layout = ObservationLayout(config)
        self.actions = ActionLayout(config)
        unknown = sorted(set(params) - set(self.PARAMS))
        if unknown:
            given = ", ".join(f"{k}={params[k]!r}" for k in unknown)
            raise TraderConfigError(f"{self.name}: unknown parameter(s) {given}; allowed: {sorted(self.PARAMS)}")
        values = {}
        for key, spec in self.PARAMS.items():
            value = params.get(key, spec.default)
            values[key] = None if value is None and spec.default is None else _coerce(self.name, key, value, spec)
        self._params = self._resolve(values)

    # ------------------------------------------------------------------ for subclasses
    def _resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Fill market-dependent defaults (``None``) and check the market; returns the final parameters."""
        return params

    @abc.abstractmethod
    def _probabilities(self, obs: np.ndarray) -> np.ndarray:
        """``(B, num_actions)`` action probabilities for a ``(B, obs_size)`` batch of this seat's observations."""

    def _error(self, name: str, value: Any, allowed: str) -> TraderConfigError:
        return TraderConfigError(f"{self.name}: parameter {name}={value!r} is not allowed: {allowed}")

    def _max_position(self, value: int | None) -> int:
        """Resolve a ``max_position`` parameter: default and upper bound the market's ``position_limit``."""
        limit = self.config.position_limit
        if value is None:
            return limit
        if value > limit:
            raise self._error("max_position", value, f"expected <= the market's position_limit={limit}")
        return value

    def _resolve_window(self, params: dict[str, Any], *, choice: str, fallback: str) -> None:
        """Resolve ``params["window"]`` for a trader whose ``choice`` parameter may be ``"moving_average"``: the
        window defaults to (and must not exceed) the market's observed mid ``history``."""
        history = self.config.history
        if params[choice] == "moving_average":
            if history < 1:
                raise self._error(choice, "moving_average", f"needs past mids, but the market has history=0; "
                                  f"use {choice}={fallback} or a market with history >= 1")
            if params["window"] is None:
                params["window"] = history
            elif params["window"] > history:
                raise self._error("window", params["window"], f"expected <= the market's history={history}")
        elif params["window"] is None:
            params["window"] = max(history, 1)

    def _need_limit_levels(self, name: str, value: Any, levels: int) -> None:
        if self.config.limit_levels < levels:
            raise self._error(name, value, f"needs limit orders k = 0..{levels - 1}, but the market has "
                              f"limit_levels={self.config.limit_levels}; use a market with limit_levels >= {levels}")

    # ------------------------------------------------------------------ public API
    @property
    def params(self) -> dict[str, Any]:
        """The trader's parameters (market-dependent defaults filled in)."""
        return dict(self._params)

    @property
    def spec(self) -> str:
        """A spec string that :func:`marketgames.traders.make_trader` turns back into this trader."""
        from .registry import format_spec

        return format_spec(self.name, self._params)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """Action probabilities for a batch of observations: ``(B, obs_size)`` ints -> ``(B, num_actions)``.

        Rows are float64 and sum to 1. Pure numpy over the batch; no randomness.
        """
        obs = self.layout.check(obs)
        probs = self._probabilities(obs)
        return probs

    def action_probabilities(self, state: Any, player_id: int | None = None) -> dict[int, float]:
        """``{action: probability}`` (zero-probability actions dropped) from ``player_id``'s observation."""
        if player_id is None:
            if len(self.player_ids) == 1:
                player_id = self.player_ids[0]
            else:
                player_id = state.current_player()
                if player_id < 0:
                    raise ValueError(f"player_id=None is not allowed at a simultaneous node for a {self.name} "
                                     f"playing seats {self.player_ids}: pass the seat")
        if player_id not in self.player_ids:
            raise ValueError(f"player_id={player_id} is not allowed: this {self.name} plays seats {self.player_ids}")
        row = self.probabilities(state.observation_ints(player_id)[None])[0]
        return {int(a): float(p) for a, p in enumerate(row) if p > 0.0}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec} seats={self.player_ids}>"


def mix(*parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Sum of ``weight[:, None] * rows`` over ``(weight, rows)`` pairs: a mixture of action distributions."""
    if not parts:
        raise ValueError("mix() needs at least one (weight, rows) pair")
    terms = [np.asarray(weight, dtype=np.float64)[:, None] * rows for weight, rows in parts]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out
