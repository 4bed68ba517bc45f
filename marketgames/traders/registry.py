"""Traders by name, and the spec strings that name a trader with its parameters.

A spec is ``"name"``, ``"name(key=value, ...)"`` (values are Python literals; bare words are strings:
``"trend(window=3,order=limit)"``) or a mapping ``{"name": "trend", "window": 3}``.
"""
from __future__ import annotations

import ast
import re
from typing import Any, Mapping

from .base import RuleTrader, TraderConfigError
from .directional import MeanReversion, NoiseTrader, TrendFollower
from .liquidity import MarketMaker, ZeroIntelligence
from .book_reader import BookReaderZI
from .manipulators import Layering, PredatoryTaker, PumpAndDump, Spoofer

TRADERS: dict[str, type[RuleTrader]] = {
    cls.name: cls
    for cls in (TrendFollower, MeanReversion, NoiseTrader, MarketMaker, ZeroIntelligence, BookReaderZI, Spoofer,
                Layering, PumpAndDump, PredatoryTaker)
}

_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)
_WORDS = {"true": True, "false": False, "none": None}


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split ``text`` at ``sep`` outside parentheses, brackets and quotes; empty pieces are dropped."""
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _literal(text: str) -> Any:
    text = text.strip()
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_spec(spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``"trend(window=3,threshold=1)"`` or ``{"name": "trend", "window": 3}`` -> ``("trend", {...})``."""
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise TraderConfigError(f"spec={dict(spec)!r} is not allowed: a mapping spec needs a 'name' key")
        return str(spec["name"]), {str(k): v for k, v in spec.items() if k != "name"}
    if not isinstance(spec, str):
        raise TypeError(f"spec={spec!r} is not allowed: expected a string like 'trend(window=3)' or a mapping")
    match = _SPEC.match(spec)
    if not match:
        raise TraderConfigError(f"spec={spec!r} is not allowed: expected 'name' or 'name(key=value, ...)'")
    name, body = match.group(1), match.group(2) or ""
    params: dict[str, Any] = {}
    for item in split_top_level(body):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise TraderConfigError(f"spec={spec!r} is not allowed: {item!r} is not 'key=value'")
        if key in params:
            raise TraderConfigError(f"spec={spec!r} is not allowed: parameter {key!r} is given twice")
        params[key] = _literal(value)
    return name, params


def format_spec(name: str, params: Mapping[str, Any]) -> str:
    """The spec string of ``name`` with ``params`` (inverse of :func:`parse_spec`)."""
    def fmt(v: Any) -> str:
        if isinstance(v, str) and v.isidentifier() and v.lower() not in _WORDS:
            return v
        return repr(v)

    body = ",".join(f"{k}={fmt(v)}" for k, v in params.items())
    return f"{name}({body})" if body else name


def make_trader(spec: str | Mapping[str, Any], game: Any, player_ids: list[int] | None = None) -> RuleTrader:
    """The trader named by ``spec`` for ``game``, playing ``player_ids`` (default: all seats)."""
    name, params = parse_spec(spec)
    if name not in TRADERS:
        raise TraderConfigError(f"trader name={name!r} is not allowed: choose one of {sorted(TRADERS)}")
    return TRADERS[name](game, player_ids, **params)
