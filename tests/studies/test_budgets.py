"""Budgets are iteration counts: the same seed gives the same numbers on a slow machine; wall time only stops a run
through the optional ``max_seconds`` guard, and the report then says so (issue 9, item 13)."""
from __future__ import annotations

import json
import itertools

import numpy as np
import pyspiel
import pytest

from solvers.exploitability import build_tree
from studies import exploitability, solver_runs, validation


@pytest.fixture
def slow_clock(monkeypatch):
    """Every reading of the solver clock is 1,000 s after the previous one: a very slow machine."""
    ticks = itertools.count(0.0, 1000.0)
    monkeypatch.setattr(solver_runs.time, "perf_counter", lambda: next(ticks))


def _kuhn(out, **kw):
    return exploitability.Config(game="kuhn_poker", solvers=("xfp", "psro_uniform"), iterations=4, br_episodes=0,
                                 target_nash_conv=0.0, out=str(out), progress=False, **kw)


def test_exploitability_numbers_do_not_depend_on_machine_speed(tmp_path, monkeypatch):
    fast = exploitability.main(_kuhn(tmp_path / "fast"))
    ticks = itertools.count(0.0, 1000.0)
    monkeypatch.setattr(solver_runs.time, "perf_counter", lambda: next(ticks))
    slow = exploitability.main(_kuhn(tmp_path / "slow"))
    for name in ("xfp", "psro_uniform"):
        assert slow["solvers"][name]["iterations"] == 4 and slow["solvers"][name]["stopped_by"] == "iterations"
        np.testing.assert_array_equal(slow["solvers"][name]["nash_conv"], fast["solvers"][name]["nash_conv"])


def test_the_time_guard_stops_a_run_and_the_report_says_so(tmp_path, slow_clock):
    out = tmp_path / "guarded"
    results = exploitability.main(_kuhn(out, max_seconds=1.0))
    saved = json.loads((out / "results.json").read_text())
    for name in ("xfp", "psro_uniform"):
        assert results["solvers"][name]["iterations"] == 1
        assert saved["solvers"][name]["stopped_by"] == "time limit"
    assert "stopped by time limit after 1 iterations" in (out / "report.md").read_text()


def test_validation_runs_its_planned_iterations_on_a_slow_machine(slow_clock):
    tree = build_tree(pyspiel.load_game("kuhn_poker"))
    run = validation.run_solver(validation.make_solver("xfp", tree, 0), iterations=5)
    assert run["iterations"] == 5 and run["stopped_by"] == "iterations"
    guarded = validation.run_solver(validation.make_solver("xfp", tree, 0), iterations=5, max_seconds=1.0)
    assert guarded["iterations"] == 1 and guarded["stopped"] == "stopped by time limit after 1 iterations"
    assert not hasattr(validation, "QUICK_TIME_BUDGET") and "time_budget" not in validation.Config.__dataclass_fields__
