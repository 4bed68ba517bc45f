"""Report folders: Markdown, a self-contained HTML page, PNG plots and a JSON of results.

A report never silently overwrites an earlier one: :class:`ReportWriter` refuses an existing, non-empty folder
unless ``overwrite=True``.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np


class ReportExistsError(FileExistsError):
    """The report folder exists and is not empty, and overwriting was not asked for."""


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

    Args:
        out_dir: the report folder.
        title: the report's heading.
        overwrite: replace an existing non-empty folder instead of refusing.
    """

    def __init__(self, out_dir: str | Path, title: str, *, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and any(self.out_dir.iterdir()):
            if not overwrite:
                raise ReportExistsError(
                    f"out_dir={str(self.out_dir)!r} exists and is not empty; choose another folder or pass "
                    "overwrite=True (--overwrite) to replace it")
            shutil.rmtree(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.title = title
        self._md: list[str] = [f"# {title}", ""]
        self._html: list[str] = []

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
        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

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
        """Write ``report.md``, ``report.html`` and ``results.json``; returns the folder."""
        (self.out_dir / "results.json").write_text(json.dumps(to_jsonable(results), indent=2, allow_nan=False))
        (self.out_dir / "report.md").write_text("\n".join(self._md))
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
                 "text-align:right}th{background:#eee}img{max-width:100%}caption{font-style:italic}")
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{style}</style></head><body><h1>{html.escape(self.title)}</h1>"
                + "\n".join(self._html) + "</body></html>")
        (self.out_dir / "report.html").write_text(page)
        return self.out_dir
