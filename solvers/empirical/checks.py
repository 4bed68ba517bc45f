"""Argument and save-file checks for :class:`~solvers.empirical.game.EmpiricalGame`: strategy lists, names and
roles in one form (:func:`strategy_lists`), and the JSON file of :meth:`EmpiricalGame.save` read with its kind,
format version and fields checked (:func:`read_game_file`), so that a careless call or a damaged file gets an error
naming what is wrong instead of a raw ``TypeError`` or ``KeyError`` from deep inside."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence, TypeGuard

import numpy as np

__all__ = ["FORMAT_VERSION", "KIND", "strategy_lists", "read_game_file"]

FORMAT_VERSION = 1
KIND = "EmpiricalGame"


def is_strategy(s: Any) -> bool:
    return callable(getattr(s, "action_probabilities", None))


def check_strategy(s: Any, where: str) -> None:
    if not is_strategy(s):
        raise TypeError(f"{where}={s!r} has no action_probabilities(state, player_id); pass an OpenSpiel "
                        "policy.Policy or an object with that method")


def as_list(value: Any, where: str, allowed: str) -> list:
    """``value`` as a list, refusing strategies, strings, mappings and non-iterables (wrong nesting)."""
    if is_strategy(value) or isinstance(value, (str, bytes, Mapping)):
        raise TypeError(f"{where}={value!r} is not allowed: expected {allowed}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{where}={value!r} is not allowed: expected {allowed}") from None


def is_index(value: Any) -> TypeGuard[int | np.integer]:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def strategy_name(s: Any, k: int) -> str:
    return str(getattr(s, "name", None) or f"{type(s).__name__}_{k}")


def default_names(strategies: Sequence[Any]) -> list[str]:
    """Each strategy's ``name`` (or class name), made unique within the list by its index where they collide."""
    names = [strategy_name(s, k) for k, s in enumerate(strategies)]
    return [f"{nm}_{k}" if names.count(nm) > 1 else nm for k, nm in enumerate(names)]


def check_names(names: Sequence[str], where: str) -> None:
    seen = {nm for nm in names if names.count(nm) > 1}
    if seen:
        raise ValueError(f"{where}={list(names)!r} is not allowed: names must be unique within a strategy list "
                         f"(repeated: {sorted(seen)!r})")


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "game": str, "imports": list, "n_players": int, "symmetric": bool, "roles": list, "names": list,
    "seed": dict, "confidence": (int, float), "keep_samples": bool, "cells": list}


def read_game_file(path: Path) -> dict[str, Any]:
    """The JSON object of an :meth:`EmpiricalGame.save` file, its kind, version and field types checked."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not an EmpiricalGame file (not complete JSON: empty, truncated or foreign; "
                         f"{exc})") from None
    if not isinstance(data, dict) or data.get("kind", KIND) != KIND or "format" not in data:
        raise ValueError(f"{path} is not an EmpiricalGame file (no kind={KIND!r} and format version)")
    if data["format"] != FORMAT_VERSION:
        raise ValueError(f"{path}: unknown format {data['format']!r}; this version reads format {FORMAT_VERSION}")
    for field, kind in _FIELDS.items():
        if not isinstance(data.get(field), kind) or (kind is int and isinstance(data[field], bool)):
            raise ValueError(f"{path} is not a complete EmpiricalGame file: field {field!r} is missing or not "
                             f"{getattr(kind, '__name__', 'a number')}")
    names = data["names"]
    if not names or not all(isinstance(lst, list) and all(isinstance(n, str) for n in lst) for lst in names):
        raise ValueError(f"{path}: names must be a non-empty list of lists of strings")
    if data["symmetric"] and len(names) != 1:
        raise ValueError(f"{path}: a symmetric game has one list of names, not {len(names)}")
    seed = data["seed"]
    try:
        int(seed["entropy"])
        [int(k) for k in seed["spawn_key"]]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path}: seed must hold an integer entropy and spawn_key") from None
    return data




def strategy_lists(strategies: Any, *, n_players: int, game_string: str, symmetric: bool, roles: Any,
                   names: Any) -> tuple[list[list[Any]], list[list[str]], list[int]]:
    """:class:`~solvers.empirical.game.EmpiricalGame`'s ``strategies``, ``roles`` and ``names`` checked and put in
    one form: a list of strategies per role, their (unique) names, and each player's role. Every wrong nesting,
    count, name or role raises an error naming the argument, what was given and what is allowed."""
    n = n_players
    per_player = (f"one list of strategies per player ({n} lists) or, with roles=, per role; or one flat list "
                  "shared by all players with symmetric=True")
    strategies = as_list(strategies, "strategies", per_player)
    if symmetric:
        if roles is not None:
            raise ValueError(f"roles={list(roles)!r} with symmetric=True; pass one of them (symmetric=True is "
                             "roles=[0] * players)")
        for k, s in enumerate(strategies):
            if not is_strategy(s) and not isinstance(s, (str, bytes)) and hasattr(s, "__iter__"):
                raise TypeError(f"strategies[{k}] is a {type(s).__name__}, not a strategy: with symmetric=True "
                                "pass one flat list of strategies shared by all players")
        strategies = [strategies]
        if names is not None:
            names = [as_list(names, "names", "one flat list of names (symmetric=True)")]
            if any(not isinstance(nm, str) and hasattr(nm, "__iter__") for nm in names[0]):
                raise TypeError(f"names={names[0]!r} is not allowed: with symmetric=True pass one flat list of "
                                "names")
        roles = [0] * n
    else:
        for k, lst in enumerate(strategies):
            if is_strategy(lst):
                raise TypeError(f"strategies[{k}]={lst!r} is a strategy, not a list: strategies must hold "
                                f"{per_player}")
        strategies = [as_list(lst, f"strategies[{k}]", "a list of strategies") for k, lst in
                      enumerate(strategies)]
        if roles is None:
            roles = list(range(n))
            if len(strategies) != n:
                raise ValueError(f"strategies has {len(strategies)} lists; {game_string} has {n} players "
                                 "(use symmetric=True for one shared list, or roles=)")
        else:
            roles = as_list(roles, "roles", f"one role index per player ({n})")
            if (len(roles) != n or not all(is_index(r) for r in roles)
                    or sorted(set(roles)) != list(range(len(set(roles))))):
                raise ValueError(f"roles={roles!r} is not allowed: expected one role per player ({n}), numbered "
                                 "0 .. R-1 with every role used")
            if len(strategies) != len(set(roles)):
                raise ValueError(f"strategies has {len(strategies)} lists; roles={roles!r} names "
                                 f"{len(set(roles))} roles (one list per role)")
        if names is not None:
            names = [as_list(nm, f"names[{p}]", "a list of names (same nesting as strategies)")
                     for p, nm in enumerate(as_list(names, "names", "one list of names per strategy list"))]
            if len(names) != len(strategies):
                raise ValueError(f"names has {len(names)} lists for {len(strategies)} strategy lists (same "
                                 "nesting as strategies)")
    checked_names: list[list[str]] = []
    for p, lst in enumerate(strategies):
        if not lst:
            raise ValueError(f"strategies[{p}] is empty; every player needs at least one strategy")
        for k, s in enumerate(lst):
            check_strategy(s, f"strategies[{p}][{k}]")
        nm = [str(x) for x in names[p]] if names is not None else default_names(lst)
        if len(nm) != len(lst):
            raise ValueError(f"names[{p}] has {len(nm)} entries for {len(lst)} strategies")
        check_names(nm, f"names[{p}]")
        checked_names.append(nm)
    return strategies, checked_names, roles
