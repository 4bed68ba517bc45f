"""``studies.manipulation`` on a tiny budget: the report, its numbers' consistency, the CLI and config checks."""
from __future__ import annotations

import json

import pytest

from studies import manipulation
from studies.__main__ import main as studies_main


def tiny(out, **kw) -> manipulation.Config:
    return manipulation.Config(**{"rounds": 6, "episodes": 30, "out": str(out), "seed": 1,
                                  "manipulators": ("spoofer(side=buy)", "predator"),
                                  "spoofers": ("spoofer(side=buy)",), **kw})


def test_manipulation_study_writes_a_reproducible_report(tmp_path):
    results = manipulation.main(tiny(tmp_path / "a"))
    text = (tmp_path / "a" / "report.md").read_text()
    assert "Wang & Wellman" in text and "Wah, Wright & Wellman" in text and "bg_arrival_prob=0.2" in text
    assert set(results["damage"]) == {"spoofer(side=buy)", "predator"}
    spoof = results["spoofing"]["spoofer(side=buy)"]
    assert spoof["readers"]["baseline"] == "spoofer(side=buy,spoof=False)"
    for d in (*results["damage"].values(), *spoof.values(), *results["market_making"].values()):
        for m in d["measures"].values():
            if m["episodes"] >= 2:
                assert m["ci_low"] <= m["difference"] <= m["ci_high"]
    hurt = results["reader_minus_non_reader"]["spoofer(side=buy)"]
    assert hurt["difference"] == pytest.approx(hurt["reader"]["difference"] - hurt["non_reader"]["difference"])
    assert results["markets"]["thin_market"]["bg_ttl"] == 1
    again = manipulation.main(tiny(tmp_path / "b"))
    assert again["damage"] == results["damage"]  # same seed, same markets
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert saved["thin_minus_thick_total_surplus"] == results["thin_minus_thick_total_surplus"]
    assert (tmp_path / "a" / "findings.png").stat().st_size > 0


def test_manipulation_study_runs_from_the_command_line_in_quick_mode(tmp_path):
    out = tmp_path / "q"
    assert studies_main(["manipulation", "--quick", "--episodes", "20", "--seed", "2", "--out", str(out)]) == 0
    assert (out / "report.md").exists()


def test_control_adds_spoof_false():
    assert manipulation.control("layering(side=buy,layers=2)") == "layering(side=buy,layers=2,spoof=False)"


@pytest.mark.parametrize("field, value", [("rounds", 2), ("episodes", 1), ("spoofers", ("pump_and_dump",)),
                                          ("spoofers", ("spoofer(side=sell)",)), ("manipulators", ()),
                                          ("thin_market", "bg_ttl=0"), ("spoof_market", "limit_levels=1")])
def test_manipulation_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field if field != "spoof_market" else "limit_levels"):
        manipulation.Config(**{field: value})
