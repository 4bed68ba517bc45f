"""Smoke test of ``python -m studies equilibria`` on a tiny budget."""
from __future__ import annotations

import json

import numpy as np
import pytest

from solvers.equilibrium import mixture_regret
from studies import equilibria
from studies.report import ReportExistsError

TINY = dict(population=("market_maker(half_spread=1)", "trend", "noise"), steps=6, samples=4, quality_episodes=3,
            bootstrap=5, progress=False)


def test_writes_a_report_whose_equilibria_are_equilibria(tmp_path):
    out = tmp_path / "eq"
    results = equilibria.main(equilibria.Config(**TINY, workers=1, out=str(out)))
    for name in ("report.md", "report.html", "results.json", "payoffs.png", "response_graph.png"):
        assert (out / name).is_file(), name
    payoffs = np.array(results["payoffs"])
    assert payoffs.shape == (2, 3, 3)
    assert np.all(np.array(results["counts"]) >= 4)
    assert results["equilibria"]
    for eq in results["equilibria"]:
        assert mixture_regret(payoffs, eq["profile"]) <= 1e-6
        assert set(eq["market_quality"]) >= {"volatility", "spread", "efficiency_abs_error", "order_flow_balance"}
    # Symmetric game: seat 1's payoff at (i, j) is seat 0's at (j, i).
    np.testing.assert_allclose(payoffs[1], payoffs[0].T)
    saved = json.loads((out / "results.json").read_text())
    np.testing.assert_allclose(np.array(saved["payoffs"], dtype=float), payoffs)
    with pytest.raises(ReportExistsError):
        equilibria.main(equilibria.Config(**TINY, workers=1, out=str(out)))


def test_same_seed_same_numbers_whatever_the_workers(tmp_path):
    one = equilibria.main(equilibria.Config(**TINY, workers=1, out=str(tmp_path / "a")))
    two = equilibria.main(equilibria.Config(**TINY, workers=2, out=str(tmp_path / "b")))
    np.testing.assert_array_equal(np.array(one["payoffs"]), np.array(two["payoffs"]))
    assert one["equilibria"][0]["market_quality"] == two["equilibria"][0]["market_quality"]


def test_openspiel_loop_and_batched_engine_estimate_the_same_game(tmp_path):
    cfg = dict(TINY, samples=150, population=TINY["population"][:2])
    batched = equilibria.main(equilibria.Config(**cfg, workers=1, out=str(tmp_path / "a")))
    loop = equilibria.main(equilibria.Config(**cfg, workers=1, simulator="openspiel", out=str(tmp_path / "b")))
    assert batched["config"]["simulator"] == "batched" and loop["config"]["simulator"] == "openspiel"
    diff = np.abs(np.array(batched["payoffs"]) - np.array(loop["payoffs"]))
    se = np.hypot(np.array(batched["standard_errors"]), np.array(loop["standard_errors"]))
    assert np.all(diff <= 4.5 * se), diff / se


@pytest.mark.parametrize("field,value", [("samples", 1), ("players", 1), ("workers", 0), ("bootstrap", 0),
                                         ("simulator", "gpu"), ("batch_size", 0)])
def test_bad_config_names_the_parameter(tmp_path, field, value):
    with pytest.raises(ValueError, match=rf"^{field}={value!r} is not allowed"):
        equilibria.main(equilibria.Config(**{**TINY, field: value}, out=str(tmp_path / "x")))
    assert not (tmp_path / "x").exists()
