"""The linter and the type checker run with the tests (configuration in pyproject.toml), so CI runs them."""
import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(module: str, *args: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e .[test])")
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"{module} {' '.join(args)} reported errors:\n{done.stdout}\n{done.stderr}"


def test_ruff():
    _run("ruff", "check", "--no-cache", "marketgames", "solvers", "studies", "tests", "benchmarks")


@pytest.mark.slow
def test_mypy(tmp_path_factory):
    # the packages to check are `files` in [tool.mypy]; a fresh cache keeps runs independent of each other
    _run("mypy", "--cache-dir", str(tmp_path_factory.mktemp("mypy_cache")))
