"""Report folders: Markdown, a self-contained HTML page, PNG plots and a JSON of results.

A report appears complete or not at all: :class:`ReportWriter` builds it in a hidden temporary folder beside the
target and renames it into place only in :meth:`ReportWriter.write`; an exception or Ctrl-C before that removes the
temporary folder and leaves the target as it was. It never silently overwrites an earlier report (an existing,
non-empty folder is refused unless ``overwrite=True``) and never replaces a folder that is not one of its reports
(marked by the file :data:`MARKER`).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import json
import math
import os
import re
import secrets
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any, Sequence

import numpy as np


#: The file that marks a folder as a report of ours (holds the title); only such folders are ever replaced.
MARKER = ".marketgames-report"
#: What a report written before :data:`MARKER` existed holds: such a folder is recognised as ours too.
_LEGACY_REQUIRED = {"report.md", "results.json"}
_LEGACY_SUFFIXES = {".md", ".html", ".json", ".png"}


class ReportFolderError(ValueError):
    """The report folder cannot be used: it cannot be created or written, or it is not a report of ours."""


class ReportExistsError(FileExistsError, ReportFolderError):
    """The report folder exists and is not empty, and overwriting was not asked for."""


def is_report(folder: str | Path) -> bool:
    """Whether ``folder`` is a report written by :class:`ReportWriter` (so ``overwrite`` may replace it)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return False
    if (folder / MARKER).is_file():
        return True
    entries = list(folder.iterdir())
    names = {e.name for e in entries}
    return _LEGACY_REQUIRED <= names and all(e.is_file() and e.suffix in _LEGACY_SUFFIXES for e in entries)


def check_out_dir(out_dir: str | Path, *, overwrite: bool) -> Path:
    """Check that a report may be written to ``out_dir`` without touching anything; returns it as a Path.

    Raises :class:`ReportExistsError` for a non-empty folder without ``overwrite``, and :class:`ReportFolderError`
    for a file, a folder that is not a report of ours, or a place where no folder can be created.
    """
    out = Path(out_dir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReportFolderError(f"out={str(out)!r} is not allowed: it exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ReportExistsError(
                f"out={str(out)!r} exists and is not empty; choose another folder or pass overwrite=True "
                "(--overwrite) to replace it")
        if not is_report(out):
            raise ReportFolderError(
                f"out={str(out)!r} is not allowed with overwrite: {str(out.resolve())!r} is not a report folder "
                f"written by the studies (no {MARKER} file), so it is never deleted; choose another folder")
    parent = _existing_ancestor(out.absolute().parent)
    if not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
        raise ReportFolderError(f"out={str(out)!r} is not allowed: cannot create a folder in {str(parent)!r} "
                                "(not writable)")
    return out


def _fresh_folder(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/<prefix><random>``, created with the usual permissions (``tempfile.mkdtemp`` makes
    them private, which the renamed report would keep)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def default_run_dir(study: str, seed: int, root: str | Path = "reports") -> Path:
    """``reports/<study>-seed<seed>-<UTC timestamp>``: a fresh folder name for each run."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return Path(root) / f"{study}-seed{seed}-{stamp}"


def to_jsonable(value: Any) -> Any:
    """Convert numpy values, dataclasses and paths to JSON; non-finite floats become ``None``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _format_cell(value: Any, precision: int) -> str:
    if isinstance(value, (float, np.floating)):
        return "nan" if not math.isfinite(float(value)) else f"{float(value):.{precision}f}"
    return str(value)


class ReportWriter:
    """Collects sections, tables and figures, then writes ``report.md``, ``report.html`` and ``results.json``.

    Everything goes to a temporary folder beside ``out_dir``; :meth:`write` renames it into place when complete
    (an earlier report there is removed only after the new one is in place). Use it as a context manager, or call
    :meth:`discard` on failure, so an interrupted run leaves no temporary folder and the target untouched.

    Args:
        out_dir: the report folder.
        title: the report's heading.
        overwrite: replace an existing report folder of ours instead of refusing.
    """

    def __init__(self, out_dir: str | Path, title: str, *, overwrite: bool = False) -> None:
        self.out_dir = check_out_dir(out_dir, overwrite=overwrite)
        self.overwrite = overwrite
        parent = self.out_dir.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._tmp: Path | None = _fresh_folder(parent, f".{self.out_dir.name}.partial-")
        except OSError as exc:
            raise ReportFolderError(f"out={str(self.out_dir)!r} is not allowed: cannot create a folder in "
                                    f"{str(parent)!r} ({exc.strerror or exc})") from exc
        self.title = title
        self._md: list[str] = [f"# {title}", ""]
        self._html: list[str] = []

    @property
    def folder(self) -> Path:
        """Where files go until :meth:`write`: the temporary folder."""
        if self._tmp is None:
            raise RuntimeError("the report was already written or discarded")
        return self._tmp

    def discard(self) -> None:
        """Remove the temporary folder (nothing was written to ``out_dir``); safe to call twice."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "ReportWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()  # after write() there is nothing left to discard

    def text(self, markdown: str) -> None:
        """A paragraph (plain text; Markdown emphasis is kept as is in the HTML)."""
        self._md += [markdown, ""]
        self._html.append(f"<p>{html.escape(markdown)}</p>")

    def section(self, heading: str) -> None:
        self._md += [f"## {heading}", ""]
        self._html.append(f"<h2>{html.escape(heading)}</h2>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], *, precision: int = 4,
              caption: str | None = None) -> None:
        """A table; floats are shown with ``precision`` decimals, NaN as ``nan``."""
        cells = [[_format_cell(v, precision) for v in row] for row in rows]
        if caption:
            self._md += [f"*{caption}*", ""]
        self._md.append("| " + " | ".join(header) + " |")
        self._md.append("|" + "|".join("---" for _ in header) + "|")
        self._md += ["| " + " | ".join(row) + " |" for row in cells]
        self._md.append("")
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self._html.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, fig: Any, name: str, *, caption: str = "") -> Path:
        """Save a matplotlib figure as ``<name>.png``, link it from Markdown and embed it in the HTML."""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"name={name!r}: use letters, digits, '_', '-', '.' only")
        path = self.folder / f"{name}.png"
        import matplotlib.pyplot as plt

        try:
            fig.savefig(path, dpi=110, bbox_inches="tight")
        finally:
            plt.close(fig)
        self._md += [f"![{caption or name}]({path.name})", ""]
        if caption:
            self._md += [f"*{caption}*", ""]
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        self._html.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption or name)}"/>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        return path

    def write(self, results: dict[str, Any]) -> Path:
        """Write ``report.md``, ``report.html`` and ``results.json``, then move the report into ``out_dir``;
        returns ``out_dir``."""
        tmp = self.folder
        (tmp / "results.json").write_text(json.dumps(to_jsonable(results), indent=2, allow_nan=False))
        (tmp / "report.md").write_text("\n".join(self._md))
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
                 "text-align:right}th{background:#eee}img{max-width:100%}caption{font-style:italic}")
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{style}</style></head><body><h1>{html.escape(self.title)}</h1>"
                + "\n".join(self._html) + "</body></html>")
        (tmp / "report.html").write_text(page)
        (tmp / MARKER).write_text(json.dumps({"title": self.title}) + "\n")
        self._swap_in(tmp)
        self._tmp = None
        return self.out_dir

    def _swap_in(self, tmp: Path) -> None:
        """Rename ``tmp`` to ``out_dir``; an earlier report there is moved aside first and deleted only after."""
        out = self.out_dir
        check_out_dir(out, overwrite=self.overwrite)  # the folder may have changed during the run
        old: Path | None = None
        if out.is_dir():
            if any(out.iterdir()):
                old = _fresh_folder(out.absolute().parent, f".{out.name}.old-")
                out.rename(old / out.name)
            else:
                out.rmdir()
        try:
            tmp.rename(out)
        except BaseException:
            if old is not None:  # put the earlier report back
                (old / out.name).rename(out)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
