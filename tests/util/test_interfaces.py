"""Interfaces are abstract classes (abc.abstractmethod), so a missing method fails when the object is built."""
import pathlib
import tomllib

import numpy as np
import pyspiel
import pytest

import marketgames
from marketgames.traders.base import RuleTrader
from solvers.empirical.backends import Backend, SerialBackend

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_trader_without_probabilities_cannot_be_built():
    class Incomplete(RuleTrader):
        name = "incomplete"

    game = pyspiel.load_game(marketgames.TINY_GAME)
    with pytest.raises(TypeError, match="abstract"):
        Incomplete(game)


def test_a_backend_without_run_cannot_be_built():
    with pytest.raises(TypeError, match="abstract"):
        Backend()
    assert SerialBackend().workers == 1


def test_package_data_patterns_name_files_that_exist():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, patterns in data.items():
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"{package}: {pattern} matches no file"
    assert np.all([(ROOT / p / "py.typed").is_file() for p in ("marketgames", "solvers")])
