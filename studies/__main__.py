"""``python -m studies NAME [options]``: run one study by name."""
from __future__ import annotations

import importlib
import sys

STUDIES = {
    "market": "A market with a population of rule-based traders: prices, liquidity, PnL.",
    "equilibria": "Empirical game of trader types: Nash, Pareto, alpha-rank, response graph.",
    "theory": "Textbook games: Nash vs Pareto, learning dynamics.",
    "exploitability": "Solvers (PSRO, XFP, NFSP) on a game: NashConv over iterations.",
    "marl": "IDQN and MADDPG trained in the market against rule traders, with CIs over seeds.",
    "self_play": "Self-play against a pool of past snapshots and rule traders: harder to exploit? (PFSP, CIs)",
    "pbt": "Population-based training of traders ranked by the empirical game: lineage, fitness with CIs.",
    "validation": "Solvers (PSRO, XFP) reproduce known results on OpenSpiel games: pass/fail checks.",
    "manipulation": "Manipulators' damage to the market; Wang & Wellman 2017 and Wah, Wright & Wellman 2017 reproduced.",
    "robustness": "Strategies vs held-out opponents, manipulators and learned adversaries; a robust trader.",
    "real_data": "A LOBSTER day: replay, a market calibrated to it, realism metrics (fit vs validation window).",
}


def listing() -> str:
    """The usage line and one line per study."""
    lines = ["usage: python -m studies NAME [options]   (python -m studies NAME --help: the study's options)", "",
             "studies:"]
    lines += [f"  {name:<15} {text}" for name, text in STUDIES.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the study named by ``argv[0]``; with no name, list the studies and return 2 (``--help``: 0)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        sys.stderr.write(listing() + "\nerror: name a study\n")
        return 2
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(listing())
        return 0
    name = argv[0]
    if name not in STUDIES:
        sys.stderr.write(f"python -m studies: error: unknown study {name!r}; choose one of {sorted(STUDIES)}\n")
        return 2
    module = importlib.import_module(f"studies.{name}")
    return int(module.cli(argv[1:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
