import numpy as np
import pytest

from marketgames.seeding import as_generator, seed_sequence


def test_int_and_sequence_give_the_same_stream():
    a = as_generator(7).random(5)
    b = as_generator(np.random.SeedSequence(7)).random(5)
    np.testing.assert_array_equal(a, b)
    assert seed_sequence(np.int64(7)).entropy == 7


def test_sequence_is_used_as_it_is_so_children_are_shared():
    ss = np.random.SeedSequence(3)
    assert seed_sequence(ss) is ss


def test_generator_is_returned_and_a_child_drawn_from_it_advances_it():
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng
    first, second = seed_sequence(np.random.default_rng(1)), seed_sequence(rng)
    assert first.entropy == second.entropy          # deterministic given the generator's state
    assert seed_sequence(rng).entropy != second.entropy  # and it advances the generator


@pytest.mark.parametrize("bad", [-1, 1.0, True, "3", [1]])
def test_bad_seeds_are_refused_naming_the_parameter(bad):
    with pytest.raises(ValueError, match=r"rng_seed=.* is not allowed"):
        seed_sequence(bad, name="rng_seed")
