"""Smoke test of the theory study on a tiny budget: it runs, writes its report, and its findings hold."""
from __future__ import annotations

import json

import pytest

from studies import theory
from studies.report import ReportExistsError


def test_theory_study_tiny_budget(tmp_path):
    out = tmp_path / "theory"
    res = theory.main(theory.Config(quick=True, out=str(out), seed=1))
    for name in ("report.md", "report.html", "results.json", "replicator_rps.png", "fictitious_play.png"):
        assert (out / name).exists()
    assert res["prisoners_dilemma"]["equilibrium_pareto_dominated"] is True
    assert len(res["battle_of_the_sexes"]["equilibria"]) == 3
    assert res["dynamics"]["fictitious_play"]["Shapley's game"]["status"] == "cycling"
    saved = json.loads((out / "results.json").read_text())
    assert saved["summary"]["jordan_game"]["equilibria"][0][0] == pytest.approx([0.5, 0.5])
    with pytest.raises(ReportExistsError):
        theory.main(theory.Config(quick=True, out=str(out)))


def test_theory_cli_quick(tmp_path):
    assert theory.cli(["--quick", "--seed", "2", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.md").read_text().startswith("# Textbook games")


@pytest.mark.parametrize("field, value", [("fp_iterations", 0), ("rd_dt", -0.1), ("bootstrap_replicates", 2.5)])
def test_theory_rejects_bad_config(tmp_path, field, value):
    with pytest.raises(ValueError, match=rf"{field}={value!r} is not allowed"):
        theory.main(theory.Config(quick=True, out=str(tmp_path / "r"), **{field: value}))
    assert not (tmp_path / "r").exists()
