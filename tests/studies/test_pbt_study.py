"""``python -m studies pbt`` in its quick mode: the report, its figures and its numbers (issue 11, item 6)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from solvers.equilibrium import regret
from studies import meta_game, pbt


def test_pbt_study_quick_writes_a_reproducible_report(tmp_path):
    results = pbt.main(pbt.Config(quick=True, seed=2, out=str(tmp_path / "a")))
    folder = tmp_path / "a"
    text = (folder / "report.md").read_text()
    for heading in ("Fitness, NashConv and diversity", "Lineage and hyper-parameters", "final population",
                    "Learned best-response exploitability"):
        assert heading in text
    for figure in ("fitness_curves.png", "lineage.png", "hyperparameters.png"):
        assert (folder / figure).stat().st_size > 0
    fit, low, high = results["fitness"], results["fitness_low"], results["fitness_high"]
    assert fit.shape == (3, 4) and np.all(low <= fit) and np.all(fit <= high)
    assert len(results["lineage"]["copies"]) == 2  # one copy per generation after the first
    game = results["final_game"]
    assert game["strategies"][:4] == [f"member_{m}" for m in range(4)] and len(game["strategies"]) == 9
    assert game["equilibria"] and all(eq["regret"] < 1e-6 for eq in game["equilibria"])
    gain = results["exploitability"]["gain"]
    assert gain[1] <= gain[0] <= gain[2]
    saved = json.loads((folder / "results.json").read_text())
    assert saved["history"] == results["history"]
    assert saved["config"]["quick"] is True


def test_analyse_finds_verified_equilibria_of_a_game_too_large_to_enumerate():
    """9 or more strategies per player have too many supports for all_nash: analyse falls back to Lemke-Howson
    (the quick study's 4 members + 5 rule traders failed before)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 10))
    payoffs = np.stack([a, a.T])
    out = meta_game.analyse(payoffs, np.full_like(payoffs, 0.1), [f"s{k}" for k in range(10)], bootstrap=2,
                            seed=np.random.SeedSequence(0))
    assert out["equilibria"]
    assert all(max(regret(payoffs, eq["profile"])) < 1e-6 for eq in out["equilibria"])


@pytest.mark.parametrize("field, value", [("population", 1), ("generations", 0), ("steps", 0), ("fitness", "elo"),
                                          ("backend", "dask"), ("workers", 0), ("opponents", ()),
                                          ("eval_episodes", 1)])
def test_pbt_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        pbt.Config(**{field: value})


def test_pbt_cli_lists_the_study_flags(capsys):
    with pytest.raises(SystemExit):
        pbt.cli(["--help"])
    out = capsys.readouterr().out
    for flag in ("--quick", "--seed", "--out", "--workers", "--backend", "--fitness"):
        assert flag in out
