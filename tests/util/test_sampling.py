"""The one inverse-CDF sampler (marketgames.sampling): its meaning, its edges, and that every copy is gone."""
import math
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketgames.sampling import draw, draw_rows, inverse_cdf

ROOT = pathlib.Path(__file__).resolve().parents[2]
probability_rows = st.lists(st.one_of(st.just(0.0), st.floats(1e-12, 1.0)), min_size=1, max_size=12).filter(
    lambda p: sum(p) > 0)
uniforms = st.one_of(st.just(0.0), st.just(1 - 2.0 ** -53), st.floats(0.0, 1.0, exclude_max=True))


@settings(max_examples=300, deadline=None)
@given(probability_rows, uniforms)
def test_draw_is_the_kernel_and_never_a_zero_probability_outcome(p, u):
    k = draw(p, u)
    assert k == inverse_cdf(np.cumsum(np.asarray(p, dtype=np.float64)), u)  # one rule in Python and in numba
    assert k == draw_rows(np.asarray([p]), np.asarray([u]))[0]
    assert p[k] > 0
    cdf = np.cumsum(p)
    x = u * cdf[-1]
    assert (k == 0 or cdf[k - 1] <= x) and (cdf[k] > x or k == max(i for i, q in enumerate(p) if q > 0))


def test_boundaries_of_u():
    p = [0.25, 0.0, 0.5, 0.25, 0.0]
    assert draw(p, 0.0) == 0
    assert draw(p, 0.25) == 2            # u * total on a boundary belongs to the next outcome of positive mass
    assert draw(p, 0.75) == 3
    assert draw(p, 1 - 2.0 ** -53) == 3  # never the trailing outcome of probability zero
    assert draw([0.0, 0.0, 2.0], 0.0) == 2   # leading zeros are skipped even at u = 0
    assert draw([3.0, 1.0], 0.7) == 0    # need not sum to 1: u is scaled by the total
    assert draw([3.0, 1.0], 0.75) == 1


class _Fixed:
    """A stand-in generator whose next uniform is ``u``."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


# 12 outcomes, the last of probability zero, whose pairwise sum (numpy's p.sum()) exceeds the sequential cdf[-1]
# by one ulp: the old copies that scaled u by p.sum() and clipped to the last index drew the zero-probability outcome.
PAIRWISE = [0.4858353588317891, 0.8894878343490003, 0.9340435159562497, 0.35779519670907023, 0.5715298307297609,
            0.32186939107594215, 0.5943000301996968, 0.33791122550713326, 0.39161900052816123, 0.8902743520047923,
            0.22715759353337972, 0.0]


def test_a_total_one_ulp_above_the_cdf_never_draws_a_zero_probability_outcome():
    from solvers.empirical.simulate import _draw

    assert np.sum(PAIRWISE) > np.cumsum(PAIRWISE)[-1]
    u = 1 - 2.0 ** -53
    assert draw(PAIRWISE, u) == 10
    assert _draw({a: q for a, q in enumerate(PAIRWISE)}, _Fixed(u)) == 10  # the old rule gave 11


def test_frequencies_match_the_probabilities():
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.0, 0.2, 0.3, 0.0])
    n = 40_000
    counts = np.bincount(draw_rows(np.tile(p, (n, 1)), rng.random(n)), minlength=p.size)
    assert counts[1] == counts[4] == 0
    half_width = 4.5 * np.sqrt(p * (1 - p) / n)  # about 1e-5 of missing a correct sampler per outcome
    assert np.all(np.abs(counts / n - p) <= half_width + 1e-12)
    scalar = np.bincount([draw(p, u) for u in rng.random(4000)], minlength=p.size) / 4000
    assert np.all(np.abs(scalar - p) <= 4.5 * np.sqrt(p * (1 - p) / 4000) + 1e-12)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="probabilities"):
        draw([], 0.5)
    with pytest.raises(ValueError, match="probabilities"):
        draw_rows(np.ones((2, 3)), np.ones(3) / 2)
    with pytest.raises(ValueError, match="probabilities"):
        draw_rows(np.ones(3), np.ones(3) / 2)


def test_no_hand_written_inverse_cdf_is_left():
    """Every draw goes through marketgames.sampling: no searchsorted/cumsum-comparison copy in the packages."""
    pattern = re.compile(r"searchsorted\(np\.cumsum|searchsorted\(cdf|cumsum\(axis=1\) <|if u < total")
    found = [f"{path.relative_to(ROOT)}:{i}" for pkg in ("marketgames", "solvers", "studies")
             for path in sorted((ROOT / pkg).rglob("*.py")) if path.name != "sampling.py"
             for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, found
    assert math.isfinite(draw([1.0], 0.5))
