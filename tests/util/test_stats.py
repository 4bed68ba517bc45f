"""solvers.stats: the one Student-t interval of a mean."""
import numpy as np
import pytest

from solvers.stats import mean_halfwidth, mean_interval


def test_known_interval_of_three_values():
    mean, low, high = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(4.302652729911275 / np.sqrt(3))  # t_{0.975, 2} * s / sqrt(3), s = 1
    assert mean - low == pytest.approx(high - mean)


def test_one_value_has_no_interval_and_axis_is_respected():
    assert np.isnan(mean_interval([5.0])[1])
    x = np.array([[1.0, 10.0], [3.0, 10.0]])
    mean, half = mean_halfwidth(x, axis=0)
    assert mean.tolist() == [2.0, 10.0] and half[1] == 0.0 and half[0] > 0


def test_wider_confidence_gives_a_wider_interval_and_bad_confidence_is_refused():
    values = np.random.default_rng(0).normal(size=10)
    assert mean_halfwidth(values, confidence=0.99)[1] > mean_halfwidth(values)[1]
    with pytest.raises(ValueError, match="confidence"):
        mean_halfwidth(values, confidence=1.0)
