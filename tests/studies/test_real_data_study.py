"""``studies.real_data``: its configuration, and its quick run on the shared LOBSTER sample (skipped without it)."""
from __future__ import annotations

import json

import pyspiel
import pytest

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.data import shared_sample
from studies import real_data

SAMPLE = shared_sample()


def test_windows_parse_and_bad_values_name_the_flag():
    assert real_data.parse_window("fit_window", "09:30-11:15") == (34_200.0, 40_500.0)
    for bad in ("9:30", "11:15-09:30", "09:75-10:00", "x"):
        with pytest.raises(ValueError, match="fit_window"):
            real_data.Config(fit_window=bad)
    with pytest.raises(ValueError, match="data="):
        real_data.Config(data="/no/such/file_message_1.csv")
    with pytest.raises(ValueError, match="seeds"):
        real_data.Config(seeds=1)


def test_without_data_and_without_the_shared_sample_the_error_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETGAMES_SHARED", str(tmp_path))
    with pytest.raises(ValueError, match="--data"):
        real_data.Config().data_path()


@pytest.mark.slow
@pytest.mark.skipif(SAMPLE is None, reason="the shared LOBSTER sample (../shared) is absent")
def test_quick_run_on_the_shared_sample_writes_the_calibration_table_and_realism(tmp_path):
    out = tmp_path / "report"
    assert real_data.cli(["--quick", "--seed", "1", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["windows"]) == {"fit", "eval"}
    game = pyspiel.load_game(results["game_string"])
    assert game.num_players() == 2
    for window in results["windows"].values():
        checks = window["markets"]["calibrated"]["checks"]
        assert checks["spread_mean_ticks"]["seeds"] == 30
        assert checks["spread_mean_ticks"]["passed"] in (True, False)
        assert window["real"]["spread_mean_ticks"] > 0
    report = (out / "report.md").read_text()
    for heading in ("Calibration table and realism: fit window", "Calibration table and realism: validation window",
                    "Gaps", "Replay match rates"):
        assert heading in report
    assert (out / "realism_fit.png").exists() and (out / "realism_eval.png").exists()
    if results["strategies"] is not None:  # marketgames.data.execution present
        gap = results["strategies"]["noise"]
        assert gap["gap"][0] == pytest.approx(gap["real_pnl_per_lot"][0] - gap["sim_pnl_per_lot"][0])
        assert gap["gap"][1] <= gap["gap"][0] <= gap["gap"][2] and gap["sim_lots"] > 0


def test_the_strategies_market_keeps_the_calibrated_flow_and_the_default_action_menu():
    from marketgames.market.config import MarketConfig
    cal = MarketConfig(steps=999, bg_arrival_prob=0.3, bg_ttl=9, limit_levels=0, quote_levels=0, max_orders=1,
                       book_levels=1, history=0)
    m = real_data.trading_market(cal, 50)
    assert (m.steps, m.bg_arrival_prob, m.bg_ttl) == (50, 0.3, 9)
    assert m.num_actions == MarketConfig().num_actions and m.book_levels == MarketConfig().book_levels
    with pytest.raises(ValueError, match="episode_rounds"):
        real_data.Config(episode_rounds=0)
