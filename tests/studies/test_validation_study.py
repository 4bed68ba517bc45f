"""Smoke tests of ``python -m studies validation``: a quick run writes its report and its cheap reference checks
(Kuhn game value, Leduc uniform NashConv, XFP on 3-player Kuhn) pass; bad configurations fail before any work."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studies import validation
from studies.report import ReportExistsError


def _check(results, check, game):
    return next(c for c in results["checks"] if c["check"].startswith(check) and c["game"] == game)


def test_quick_run_writes_a_report_and_reference_checks_pass(tmp_path):
    out = tmp_path / "val"
    results = validation.main(validation.Config(quick=True, out=str(out), progress=False))
    assert results["out"] == str(out)
    for name in ("report.md", "report.html", "results.json", "nash_conv_iterations.png", "nash_conv_time.png"):
        assert (out / name).is_file(), name
    statuses = {c["status"] for c in results["checks"]}
    assert "fail" not in statuses and statuses <= {"pass", "skipped (quick)"}
    value = _check(results, "Kuhn game value", validation.KUHN)
    assert value["status"] == "pass" and value["measured"] == pytest.approx(-1 / 18, abs=1e-9)
    leduc = _check(results, "NashConv of the uniform policy", validation.LEDUC)
    assert leduc["status"] == "pass" and leduc["measured"] == pytest.approx(4.747222, abs=5e-7)
    xfp3 = _check(results, "XFP NashConv after 10 iterations", validation.KUHN3)
    assert xfp3["status"] == "pass" and xfp3["measured"] == pytest.approx(0.279, abs=5e-4)
    assert _check(results, "XFP NashConv equals OpenSpiel", validation.KUHN3)["status"] == "pass"
    # Quick caps: PSRO solves Kuhn within them, XFP cannot reach 0.01 in 30 iterations.
    assert _check(results, "final NashConv < 0.01", validation.KUHN)["status"] == "pass"
    saved = json.loads((out / "results.json").read_text())
    assert saved["runs"][validation.TINY]["xfp"]["iterations"] == validation.QUICK_ITERATIONS["xfp"]
    assert len(saved["runs"]["kuhn_poker"]["xfp"]["seconds"]) == validation.QUICK_ITERATIONS["xfp"]
    assert "## Checks" in (out / "report.md").read_text()


def test_refuses_to_overwrite_unless_asked(tmp_path):
    out = tmp_path / "val"
    config = validation.Config(games=("kuhn_poker",), quick=True, out=str(out), progress=False)
    validation.main(config)
    with pytest.raises(ReportExistsError):
        validation.main(config)
    results = validation.main(validation.Config(games=("kuhn_poker",), solvers=("xfp",), quick=True, out=str(out),
                                                overwrite=True, progress=False))
    assert list(results["runs"]["kuhn_poker"]) == ["xfp"]
    # The cheap reference checks still run, on small dedicated runs, when their game or solver is left out.
    assert _check(results, "Kuhn game value", validation.KUHN)["status"] == "pass"
    assert _check(results, "NashConv falls steadily", validation.TINY)["status"] == "skipped (not run)"


@pytest.mark.parametrize("field, value, match", [
    ("solvers", ("psro_nash", "cfr"), "solvers"),
    ("solvers", (), "solvers"),
    ("iterations", 0, "iterations=0 is not allowed"),
    ("max_seconds", 0.0, "max_seconds=0.0 is not allowed"),
    ("games", ("kuhn_poker", "no_such_game"), "games: 'no_such_game' is not allowed"),
    ("iterations_per_game", {"kuhn_poker": {"xfp": 0, "psro_nash": 5}}, r"iterations_per_game\['kuhn_poker'\]"),
])
def test_bad_config_names_the_parameter(tmp_path, field, value, match):
    with pytest.raises(ValueError, match=match):
        validation.main(validation.Config(out=str(tmp_path / "x"), progress=False, **{field: value}))
    assert not (tmp_path / "x").exists()


def test_steady_fall_measure():
    assert validation.steady_fall([1.0 / t for t in range(1, 101)])["ok"] is True
    flat = validation.steady_fall([1.0] * 50)
    assert flat["ok"] is False and flat["windows_fell"] == 0
    solved = validation.steady_fall([0.2, 0.0, 0.05, 0.0, 0.0, 0.0])
    assert solved["ok"] is True and "first at iteration 2" in solved["summary"]
    assert validation.steady_fall([0.3])["ok"] is None


def test_help_lists_the_study_and_cli_runs(tmp_path):
    listing = subprocess.run([sys.executable, "-m", "studies", "--help"], capture_output=True, text=True, check=True)
    assert "validation" in listing.stdout
    out = tmp_path / "cli"
    assert validation.cli(["--quick", "--games", "kuhn_poker", "--solvers", "psro_nash", "--out", str(out)]) == 0
    assert json.loads((out / "results.json").read_text())["config"]["games"] == ["kuhn_poker"]
