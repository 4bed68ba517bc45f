"""A report appears complete or not at all, an earlier report survives every failed or interrupted run byte for
byte, and a folder that is not one of our reports is never deleted (issue 9, items 5 and 6)."""
from __future__ import annotations

import json
import shutil

import pytest

import studies.__main__ as studies_main
from studies import market, market_plots
from studies import report as report_module
from studies.report import MARKER, ReportExistsError, ReportFolderError, ReportWriter, is_report

TINY = ["--quick", "--episodes", "2", "--steps", "4", "--population", "market_maker,noise", "--no-progress"]


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def written_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("written") / "old"
    assert market.cli(TINY + ["--out", str(out)]) == 0
    return out


@pytest.fixture
def old_report(tmp_path, written_report):
    """A complete market report in ``tmp_path / "old"`` (a copy of one written once) and its bytes."""
    out = tmp_path / "old"
    shutil.copytree(written_report, out)
    snap = _snapshot(out)
    assert {"report.md", "results.json", MARKER} <= set(snap)
    return out, snap


def _siblings(out) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir())


@pytest.mark.parametrize("argv", [
    ["equilibria", "--quick", "--seed", "-1"],
    ["exploitability", "--game", "nonexistent_game"],
    ["market", "--quick", "--market", "foo=1"],
])
def test_a_config_error_with_overwrite_leaves_the_old_report_unchanged(old_report, argv, capsys):
    out, snap = old_report
    with pytest.raises(SystemExit) as exc:
        studies_main.main(argv + ["--out", str(out), "--overwrite"])
    assert exc.value.code == 2
    assert _snapshot(out) == snap
    assert _siblings(out) == ["old"]


@pytest.mark.parametrize("where", ["plots", "writer"])
def test_an_interrupt_mid_run_leaves_the_old_report_unchanged_and_no_temporary_folder(old_report, monkeypatch,
                                                                                    where):
    out, snap = old_report

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt  # what SIGINT raises in the main thread

    if where == "plots":
        monkeypatch.setattr(market_plots, "volume_figure", interrupt)  # after the first figures were saved
    else:
        monkeypatch.setattr(report_module, "to_jsonable", interrupt)  # inside ReportWriter.write
    with pytest.raises(KeyboardInterrupt):
        market.cli(TINY + ["--out", str(out), "--overwrite"])
    assert _snapshot(out) == snap
    assert _siblings(out) == ["old"]


def test_an_interrupted_first_run_leaves_no_half_written_report(tmp_path, monkeypatch):
    monkeypatch.setattr(market_plots, "volume_figure", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "new"
    with pytest.raises(KeyboardInterrupt):
        market.cli(TINY + ["--out", str(out)])
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert market.cli(TINY + ["--out", str(out)]) == 0  # the next run is not refused
    assert (out / "report.md").is_file()


def test_overwrite_replaces_a_report_and_leaves_nothing_beside_it(old_report):
    out, snap = old_report
    assert market.cli(TINY + ["--seed", "5", "--out", str(out), "--overwrite"]) == 0
    assert json.loads((out / "results.json").read_text())["config"]["seed"] == 5
    assert _snapshot(out) != snap
    assert _siblings(out) == ["old"]


def test_out_dot_with_overwrite_is_refused_naming_the_folder(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "code.py").write_text("x = 1\n")
    (work / "notes.txt").write_text("keep me\n")
    snap = _snapshot(work)
    monkeypatch.chdir(work)
    with pytest.raises(SystemExit) as exc:
        studies_main.main(["market"] + TINY + ["--out", ".", "--overwrite"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--out" in err and str(work) in err and "not a report" in err
    assert _snapshot(work) == snap
    with pytest.raises(ReportFolderError, match="not a report folder"):
        ReportWriter(work, "t", overwrite=True)
    assert _snapshot(work) == snap and sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_report_writer_refuses_without_overwrite_and_recognises_its_reports(tmp_path):
    out = tmp_path / "r"
    with ReportWriter(out, "t") as writer:
        assert not out.exists()  # nothing appears before write()
        writer.text("hello")
        writer.write({"a": 1})
    assert is_report(out) and (out / "report.md").read_text().startswith("# t")
    with pytest.raises(ReportExistsError):
        ReportWriter(out, "t")
    legacy = tmp_path / "legacy"  # written before the marker existed
    legacy.mkdir()
    for name in ("report.md", "report.html", "results.json", "a.png"):
        (legacy / name).write_text("x")
    assert is_report(legacy)
    (legacy / "sub").mkdir()
    assert not is_report(legacy)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportFolderError, match="not a folder"):
        ReportWriter(tmp_path / "file", "t", overwrite=True)
