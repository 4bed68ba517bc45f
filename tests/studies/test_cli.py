"""Study command lines are derived from each study's ``Config``; config errors are one line and exit status 2;
solver names map explicitly; no study imports another (issue 9: "Also" and item 10)."""
from __future__ import annotations

import ast
import dataclasses
import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import studies.__main__ as studies_main
from studies import cli, exploitability, exploitability_approximate

STUDY_NAMES = list(studies_main.STUDIES)


def _config_cls(name):
    return importlib.import_module(f"studies.{name}").Config


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_every_config_field_is_a_documented_flag_with_its_default(name, capsys):
    config_cls = _config_cls(name)
    with pytest.raises(SystemExit) as exc:
        studies_main.main([name, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    docs = cli.field_docs(config_cls)
    for f in dataclasses.fields(config_cls):
        assert f.name in docs, f.name
        flag = "--" + f.name.replace("_", "-")
        assert flag in text, flag
    assert "(default: " in text


def test_the_fields_the_old_cli_could_not_set_are_settable():
    parser = cli.config_parser("x", exploitability.Config)
    args = parser.parse_args(["--game", "kuhn_poker", "--max-tree-nodes", "1000", "--meta-samples", "7",
                              "--head-to-head-episodes", "9", "--no-progress", "--solvers", "xfp", "nfsp",
                              "--max-seconds", "5", "--target-nash-conv", "0"])
    config = cli.config_from_args(parser, exploitability.Config, args)
    assert (config.max_tree_nodes, config.meta_samples, config.head_to_head_episodes, config.progress) == (
        1000, 7, 9, False)
    assert config.solvers == ("xfp", "nfsp") and config.max_seconds == 5.0 and config.target_nash_conv == 0.0
    assert config.iterations == exploitability.Config().iterations  # unset flags keep the defaults


def test_optional_dict_and_converted_fields():
    from studies import market, validation
    parser = cli.config_parser("x", validation.Config)
    args = parser.parse_args(["--iterations", "none", "--iterations-per-game", '{"default": {"xfp": 3}}',
                              "--games", "kuhn_poker", "--solvers", "xfp"])
    config = cli.config_from_args(parser, validation.Config, args)
    assert config.iterations is None and config.iterations_per_game == {"default": {"xfp": 3}}
    assert config.planned_iterations() == {"kuhn_poker": {"xfp": 3}}
    parser = cli.config_parser("x", market.Config, converters={"population": market.parse_population})
    config = cli.config_from_args(parser, market.Config, parser.parse_args(
        ["--population", "market_maker,trend(window=2,threshold=1)", "noise", "--market", "price_levels=31"]))
    assert config.population == ("market_maker", "trend(window=2,threshold=1)", "noise")


@pytest.mark.parametrize("argv, needles", [
    (["equilibria", "--quick", "--seed", "-1"], ["--seed", "-1", "non-negative integer"]),
    (["market", "--quick", "--market", "foo=1"], ["--market", "foo", "price_levels", "shock_prob"]),
    (["market", "--quick", "--out", "/proc/x"], ["--out", "/proc/x"]),
    (["equilibria", "--quick", "--target-half-width", "-1"], ["--target-half-width", "-1", "> 0"]),
    (["exploitability", "--game", "nonexistent_game"], ["--game", "nonexistent_game", "kuhn_poker"]),
    (["exploitability", "--solvers", "psro"], ["--solvers", "psro", "psro_nash"]),
    (["validation", "--games", "kuhn_poker", "no_such_game"], ["--games", "no_such_game"]),
    (["theory", "--rd-dt", "0"], ["--rd-dt", "rd_dt=0.0"]),
    (["market", "--episodes", "x"], ["--episodes", "'x'"]),
])
def test_a_config_error_is_one_line_naming_flag_value_and_what_is_allowed(argv, needles, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        studies_main.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


def test_no_study_named_lists_them_and_fails():
    done = subprocess.run([sys.executable, "-m", "studies"], capture_output=True, text=True)
    assert done.returncode != 0
    listing = done.stdout + done.stderr
    for name in STUDY_NAMES:
        assert sum(line.strip().startswith(name + " ") for line in listing.splitlines()) == 1, name
    assert "NAME --help" in listing


def test_make_solver_refuses_unknown_names_instead_of_falling_through():
    from solvers.exploitability import build_tree
    import pyspiel
    game = pyspiel.load_game("kuhn_poker")
    config = exploitability.Config(game="kuhn_poker")
    seed = np.random.SeedSequence(0)
    with pytest.raises(ValueError, match=r"name='psro' is not allowed: expected one of \['psro_nash'"):
        exploitability.make_solver("psro", build_tree(game), config, seed)
    with pytest.raises(ValueError, match=r"name='psro' is not allowed: expected one of \['learned_psro', 'nfsp'\]"):
        exploitability_approximate.make_solver("psro", game, config, seed)
    assert type(exploitability.make_solver("fsp", build_tree(game), config, seed)).__name__ == "SampledFSP"


def test_no_study_imports_another_study():
    """Shared helpers live in shared modules (studies.market_run, studies.solver_runs, ...); a study imports only
    those and its own parts (``<study>_plots``, ``<study>_approximate``)."""
    root = Path(studies_main.__file__).parent
    for name in STUDY_NAMES:
        tree = ast.parse((root / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level == 1 or module == "studies":
                    imported |= {a.name for a in node.names} if not module or module == "studies" else {module}
                if module.startswith("studies."):
                    imported.add(module.split(".")[1])
            elif isinstance(node, ast.Import):
                imported |= {a.name.split(".")[1] for a in node.names if a.name.startswith("studies.")}
        others = {m for m in imported if m in STUDY_NAMES and m != name}
        assert not others, (name, others)
