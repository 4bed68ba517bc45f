"""Golden playthroughs of ``python_lob_market``: ``python -m tests.games.regenerate_playthroughs [--check]``.

Each file under ``tests/games/playthroughs/`` is OpenSpiel's ``generate_playthrough.playthrough`` of one game string
with a fixed seed (actions and chance outcomes drawn by its ``np.random.RandomState(seed)``). Regenerate after a
deliberate change of the rules, the observations or the strings, and review the diff before committing;
``tests/games/test_lob_market.py`` regenerates them in memory and compares.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

from open_spiel.python.algorithms import generate_playthrough

import marketgames
from marketgames import TINY_GAME

DIRECTORY = pathlib.Path(__file__).resolve().parent / "playthroughs"

#: file name -> (game string, seed)
PLAYTHROUGHS: dict[str, tuple[str, int]] = {
    "lob_market_tiny.txt": (TINY_GAME, 1),
    "lob_market_3p.txt": ("python_lob_market(players=3,steps=3,price_levels=11,initial_depth=2,limit_levels=1,"
                          "quote_levels=1,book_levels=2,history=2,lot=2,position_limit=3,max_orders=2,bg_ttl=2)", 7),
}


def generate(name: str) -> str:
    """The playthrough text of ``PLAYTHROUGHS[name]``."""
    assert marketgames  # the import registers python_lob_market
    game_string, seed = PLAYTHROUGHS[name]
    return generate_playthrough.playthrough(game_string, None, seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report which files differ; write nothing")
    args = parser.parse_args(argv)
    DIRECTORY.mkdir(exist_ok=True)
    stale = []
    for name in PLAYTHROUGHS:
        path = DIRECTORY / name
        text = generate(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "differ" if args.check else "rewritten"
    sys.stdout.write(f"{len(stale)} of {len(PLAYTHROUGHS)} playthroughs {verb}: {stale}\n")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
