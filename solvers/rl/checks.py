"""The one mechanism the solvers' config dataclasses validate their fields with (in ``__post_init__``).

Each config lists ``{field: (ok, what is allowed)}``; :func:`refuse_invalid` raises a ``ValueError`` naming the
first failing field, its value and what is allowed. The predicates never raise on a value of the wrong type (a
string where a number belongs fails the check instead of raising ``TypeError`` inside a comparison), and ``bool`` is
not accepted as a number.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = ["is_int", "is_real", "refuse_invalid"]


def is_int(value: Any, low: int | None = None, high: int | None = None) -> bool:
    """Whether ``value`` is an integer (not a bool) in ``[low, high]`` (``None``: unbounded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    v = int(value)  # exact for an Integral; typeshed's numbers.Integral has no comparison with int
    return (low is None or v >= low) and (high is None or v <= high)


def is_real(value: Any, low: float | None = None, high: float | None = None, *, open_low: bool = False) -> bool:
    """Whether ``value`` is a finite real number (not a bool) in ``[low, high]``, or ``(low, high]`` with
    ``open_low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return False
    if low is not None and (value <= low if open_low else value < low):
        return False
    return high is None or value <= high


def refuse_invalid(config: Any, checks: Mapping[str, tuple[bool, str]]) -> None:
    """Raise ``ValueError`` for the first field of ``config`` whose check in ``checks`` failed."""
    for name, (ok, expected) in checks.items():
        if not ok:
            raise ValueError(f"{name}={getattr(config, name)!r} is not allowed: expected {expected}")
