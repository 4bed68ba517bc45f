"""What every study's command line shares: ``--seed``, ``--out``, ``--overwrite``, ``--quick``, logging set-up and
the closing line that names the report folder."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable

__all__ = ["study_parser", "run_study"]


def study_parser(name: str, doc: str | None, *, seed: int = 0, quick_help: str = "a smoke-sized run"
                 ) -> argparse.ArgumentParser:
    """A parser for ``python -m studies NAME`` with the shared options; the study adds its own."""
    parser = argparse.ArgumentParser(prog=f"python -m studies {name}", description=(doc or "").split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--out", default=None, help=f"report folder (default reports/{name}-seed<seed>-<time>)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def run_study(main: Callable[[Any], dict[str, Any]], config: Any) -> int:
    """Log to stderr at INFO, run ``main(config)`` and print where the report went."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = main(config)
    sys.stdout.write(f"report written to {results['out']}\n")
    return 0
