"""Checks shared by every study's ``Config.__post_init__``; each raises ``ValueError`` in the house style
``name=value is not allowed: expected ...`` so the command line can name the flag (:mod:`studies.cli`)."""
from __future__ import annotations

import math
from typing import Any, Collection

import pyspiel

__all__ = ["check_bool", "check_choice", "check_choices", "check_game", "check_int", "check_number",
           "check_optional_str", "check_seed"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value: Any, low: int, high: int | None = None, *, none: bool = False) -> None:
    """An int in ``[low, high]`` (``None`` allowed when ``none``); bools are not ints here."""
    if none and value is None:
        return
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}={value!r} is not allowed: expected an integer {bound}" + (" or None" if none else ""))


def check_number(name: str, value: Any, *, low: float = -math.inf, high: float = math.inf, strict_low: bool = False,
                 none: bool = False) -> None:
    """A finite-or-bounded real number in ``[low, high]`` (``(low, high]`` when ``strict_low``)."""
    if none and value is None:
        return
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
          and (value > low if strict_low else value >= low) and value <= high)
    if not ok:
        bound = [f"> {low:g}" if strict_low else f">= {low:g}"] if low > -math.inf else []
        bound += [f"<= {high:g}"] if high < math.inf else []
        raise ValueError(f"{name}={value!r} is not allowed: expected a number {' and '.join(bound)}"
                         + (" or None" if none else ""))


def check_seed(name: str, value: Any) -> None:
    """The one seed of a study: a non-negative int (``np.random.SeedSequence`` refuses negative entropy)."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name}={value!r} is not allowed: expected a non-negative integer")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not allowed: expected True or False")


def check_optional_str(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{name}={value!r} is not allowed: expected a non-empty path or None")


def check_choice(name: str, value: Any, allowed: Collection[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed: expected one of {list(allowed)}")


def check_choices(name: str, values: Any, allowed: Collection[str], *, none: bool = False) -> None:
    """A non-empty tuple of distinct names from ``allowed`` (``None`` allowed when ``none``)."""
    if none and values is None:
        return
    if (not isinstance(values, (tuple, list)) or not values or len(set(values)) != len(values)
            or any(v not in allowed for v in values)):
        raise ValueError(f"{name}={values!r} is not allowed: expected a non-empty subset of {list(allowed)}"
                         + (" or None" if none else ""))


def check_game(name: str, value: Any) -> pyspiel.Game:
    """A loadable OpenSpiel game string; returns the game (loading is cheap: no tree is built)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}={value!r} is not allowed: expected an OpenSpiel game string")
    short = value.strip().split("(")[0]
    if short not in pyspiel.registered_names():  # checked first: pyspiel prints its whole registry on a miss
        raise ValueError(f"{name}={value!r} is not allowed: {short!r} is not a registered OpenSpiel game; expected "
                         "a game string such as 'kuhn_poker' or 'leduc_poker' (see pyspiel.registered_names())")
    try:
        return pyspiel.load_game(value)
    except Exception as exc:  # pyspiel raises SpielError; Python games may raise their own errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = reason.split(". Available games")[0]  # pyspiel appends the whole registry
        raise ValueError(f"{name}={value!r} is not allowed: not a loadable OpenSpiel game ({reason[:200]}); "
                         "expected a registered game string such as 'kuhn_poker' (see pyspiel.registered_names())"
                         ) from exc
