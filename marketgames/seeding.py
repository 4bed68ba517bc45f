"""One place where seeds become random streams (as QuantEcon's ``check_random_state``).

Every library function that draws random numbers takes ``seed: SeedLike`` and calls :func:`seed_sequence` (to derive
independent child streams with ``spawn``) or :func:`as_generator` (to draw directly). Nothing reads a global RNG.
"""
from __future__ import annotations

import numbers
from typing import Union

import numpy as np

__all__ = ["SeedLike", "seed_sequence", "as_generator"]

#: What a ``seed`` argument may be: a non-negative int (or ``None`` for fresh OS entropy), a ``SeedSequence`` (used
#: as it is, so its children are shared with the caller), or a ``Generator`` (a child sequence is drawn from it,
#: which advances it: 128 bits drawn as four 32-bit words).
SeedLike = Union[int, np.integer, np.random.SeedSequence, np.random.Generator, None]


def seed_sequence(seed: SeedLike, *, name: str = "seed") -> np.random.SeedSequence:
    """Normalise ``seed`` to a ``np.random.SeedSequence``; ``name`` is the parameter named in errors."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        # 128 bits as four 32-bit words: the rule the batched market and its payoff simulator have always used
        return np.random.SeedSequence([int(x) for x in seed.integers(0, 2**32, size=4, dtype=np.uint64)])
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ValueError(f"{name}={seed!r} is not allowed: expected a non-negative int, a numpy SeedSequence, "
                         "a numpy Generator or None")
    return np.random.SeedSequence(int(seed))


def as_generator(seed: SeedLike, *, name: str = "seed") -> np.random.Generator:
    """A ``np.random.Generator`` for ``seed``; a ``Generator`` is returned as it is (shared, not copied)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed_sequence(seed, name=name))
