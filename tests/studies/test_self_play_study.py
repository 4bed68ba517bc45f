"""``studies.self_play`` on a tiny budget."""
from __future__ import annotations

import json

import numpy as np
import pytest

from studies import self_play


def tiny(out, **kw) -> self_play.Config:
    return self_play.Config(**{"steps": 200, "rounds": 5, "num_envs": 8, "snapshot_every": 80, "capacity": 1,
                               "br_steps": 80, "eval_episodes": 1, "seeds": 2, "seed": 3, "game_episodes": 2,
                               "bootstrap": 2, "opponents": ("noise", "zi"), "out": str(out), **kw})


def test_self_play_study_writes_a_reproducible_report(tmp_path):
    results = self_play.main(tiny(tmp_path / "a"))
    text = (tmp_path / "a" / "report.md").read_text()
    assert "exploitability" in text and "Empirical game of the final pool" in text
    for name in ("learning_curves.png", "matchmaking_weights.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert results["steps_trained"] == 200 and len(results["per_seed"]["self-play"]["br_pnl"]) == 2
    for agent in ("self-play", "independent"):
        for mean, low, high in results["summary"][agent].values():
            assert low <= mean <= high or np.isnan(low)
    # the pool: 2 rule traders and the 1 snapshot capacity allows; 2 snapshots taken (80, 160), 1 evicted
    kinds = [m["snapshot"] for m in results["pool"]]
    assert kinds == [False, False, True] and len(results["evicted"]) == 1
    mm = results["matchmaking"]
    assert list(mm["steps"]) == [0, 40, 80, 120, 160, 200]
    assert np.allclose(np.nansum(mm["weights"], axis=1), 1.0)
    g = results["empirical_game"]
    assert g["strategies"] == ["main", "noise", "zi", results["pool"][2]["name"], "independent"]
    assert g["payoffs"].shape == (2, 5, 5) and np.isfinite(g["payoffs"]).all()
    assert g["equilibria"] and all(np.isclose(np.sum(m), 1.0) for m in g["alpharank"])
    again = self_play.main(tiny(tmp_path / "b"))
    assert again["per_seed"] == results["per_seed"]
    assert np.array_equal(again["empirical_game"]["payoffs"], g["payoffs"])
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert saved["verdict"] == results["verdict"]


def test_quick_mode_is_small():
    eff = self_play.Config(quick=True).effective()
    assert eff.seeds == 2 and eff.steps <= 2_000 and eff.br_steps <= 1_000 and eff.num_envs == 20
    assert self_play.Config().whole_episodes(1) == 20 * 125


@pytest.mark.parametrize("field, value", [("learner", "ppo"), ("matchmaking", "best"), ("seeds", 1), ("steps", 0),
                                          ("br_steps", 0), ("capacity", 0), ("opponents", ()), ("backend", "mpi"),
                                          ("workers", 0), ("game_episodes", 1), ("pfsp_k", -1.0)])
def test_self_play_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        self_play.Config(**{field: value})


def test_meta_game_analysis_of_a_large_pool_falls_back_to_verified_equilibria():
    """11 strategies per player are too many supports to enumerate (all_nash refuses): the analysis reports the
    verified equilibria Lemke-Howson reaches instead of failing (the old analyse raised ValueError)."""
    from studies.meta_game import analyse

    payoffs = np.random.default_rng(0).normal(size=(2, 11, 11))
    names = [f"s{k}" for k in range(11)]
    out = analyse(payoffs, np.full_like(payoffs, 0.1), names, bootstrap=2, seed=np.random.SeedSequence(0))
    assert out["equilibria"] and all(eq["regret"] < 1e-6 for eq in out["equilibria"])
