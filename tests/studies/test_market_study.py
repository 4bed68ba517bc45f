"""Smoke test of ``studies.market`` on a tiny budget: files, no overwrite, reproducibility, consistent numbers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from studies import market
from studies.report import ReportExistsError

POPULATION = ("market_maker", "trend(window=2,threshold=1)", "noise", "zi(value=mid)")


def tiny(out, **kw) -> market.Config:
    base = dict(population=POPULATION, episodes=4, steps=8, seed=7, out=str(out), progress=False,
                market="price_levels=31")
    base.update(kw)
    return market.Config(**base)


def _numbers(path) -> dict:
    results = json.loads((path / "results.json").read_text())
    for key in ("out", "overwrite"):
        results["config"].pop(key)
    return results


def test_market_study_writes_a_reproducible_report(tmp_path):
    results = market.main(tiny(tmp_path / "a"))
    out = tmp_path / "a"
    for name in ("report.md", "report.html", "results.json", "pnl.png", "price_example.png", "price_average.png",
                 "spread_depth.png", "volume.png"):
        assert (out / name).stat().st_size > 0, name
    assert "<img src=\"data:image/png;base64," in (out / "report.html").read_text()
    assert "p1 trend" in (out / "report.md").read_text()

    with pytest.raises(ReportExistsError):
        market.main(tiny(out))
    market.main(tiny(out, overwrite=True))
    market.main(tiny(tmp_path / "b"))
    assert _numbers(out) == _numbers(tmp_path / "b")
    market.main(tiny(tmp_path / "c", seed=8))
    assert _numbers(tmp_path / "c")["pnl_per_episode"] != _numbers(out)["pnl_per_episode"]

    # The numbers hang together.
    pnl = np.array(results["pnl_per_episode"])
    assert pnl.shape == (4, len(POPULATION))
    assert results["market"]["players"] == len(POPULATION) and results["market"]["price_levels"] == 31
    for seat, stats in enumerate(results["traders"]):
        assert stats["pnl_mean"] == pytest.approx(pnl[:, seat].mean())
        assert stats["win_rate"] == pytest.approx(np.mean(pnl[:, seat] > 0))
        # Per-round wealth changes add up to the episode's PnL.
        assert stats["round_pnl_mean"] * 8 == pytest.approx(stats["pnl_mean"])
        if stats["pnl_std"] > 0:
            assert stats["sharpe"] == pytest.approx(stats["pnl_mean"] / stats["pnl_std"])
    q = results["market_quality"]
    assert q["volume_per_episode"] == pytest.approx(8 * q["volume_per_round"])
    assert q["efficiency_abs_error"] >= abs(q["price_bias"])
    ex = results["example_episode"]
    assert all(len(ex[k]) == 8 for k in ("price", "fundamental", "spread", "depth", "volume"))


def test_market_study_cli_and_quick(tmp_path):
    out = tmp_path / "cli"
    code = market.cli(["--quick", "--episodes", "2", "--seed", "3", "--out", str(out), "--population",
                       "market_maker,trend(window=2,threshold=1)", "spoofer"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["episodes"] == 2 and results["config"]["steps"] == market.QUICK_STEPS
    assert [t["spec"].split("(")[0] for t in results["traders"]] == ["market_maker", "trend", "spoofer"]
    assert results["traders"][1]["spec"].startswith("trend(window=2,threshold=1.0")


@pytest.mark.parametrize("kw,needle", [
    ({"population": ("noise",)}, "population"),
    ({"market": "players=3"}, "players"),
    ({"market": {"steps": 3}}, "steps"),
    ({"market": "kuhn_poker(players=3)"}, "kuhn_poker"),
    ({"episodes": 0}, "episodes"),
    ({"market": "shock_prob=2"}, "shock_prob"),
])
def test_market_study_rejects_bad_configs(tmp_path, kw, needle):
    with pytest.raises(ValueError, match=needle):
        market.main(tiny(tmp_path / "x", **kw))
    assert not (tmp_path / "x").exists()
