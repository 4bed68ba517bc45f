"""A market with a population of rule-based traders: prices against the fundamental, liquidity, volume and PnL.

``python -m studies market [--quick] [--seed S] [--episodes E] [--population SPEC ...] [--out DIR]``

Each seat of ``python_lob_market`` is played by one rule-based trader (:mod:`marketgames.traders`); episodes are
simulated with the OpenSpiel game (states and the traders' policies). Market quality follows the measures of the
agent-based market literature (e.g. Wah & Wellman 2013; Chiarella, Iori & Perello 2009): volatility of mid
changes, price efficiency (mean |price - fundamental|), liquidity (spread, top-of-book depth) and volume; traders
are compared by profit: mean, standard deviation, Sharpe ratio and win rate of the per-episode PnL.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pyspiel
from tqdm.auto import tqdm

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.config import MarketConfig
from marketgames.traders import RuleTrader, make_trader, parse_spec
from marketgames.seeding import SeedLike, seed_sequence

from . import market_plots
from .cli import run_cli
from .market_run import QUALITY_ROWS, market_quality, parse_market_overrides, parse_population, run_episode
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_int, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "market"
QUICK_EPISODES = 20
QUICK_STEPS = 40


@dataclass
class Config:
    """Configuration of the market study.

    Attributes:
        population: one trader spec per seat (``marketgames.traders.make_trader`` specs, e.g.
            ``"trend(window=3,threshold=1)"``; on the command line a value may hold several, comma-separated); the
            market has ``len(population)`` players.
        market: overrides of the market parameters (:class:`marketgames.market.config.MarketConfig`), as a game
            string (``"python_lob_market(price_levels=61)"`` or ``"price_levels=61,shock_prob=0.3"``) or a dict;
            ``players`` and ``steps`` are set by ``population`` and ``steps``.
        episodes: simulated episodes.
        steps: rounds per episode.
        seed: the one seed; episode ``i`` draws every chance outcome and action from
            ``np.random.default_rng(SeedSequence(seed).spawn(episodes)[i])``.
        out: report folder (default ``reports/market-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (at most 20 episodes of 40 rounds).
        example_episode: the episode drawn in the single-episode price plot.
        progress: show a progress bar over episodes.
    """

    population: tuple[str, ...] = ("market_maker", "trend", "mean_reversion", "noise", "zi")
    market: str | Mapping[str, Any] = ""
    episodes: int = 400
    steps: int = 100
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False
    example_episode: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        self.population = tuple(self.population)
        check_int("episodes", self.episodes, 1)
        check_int("steps", self.steps, 1)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick", "progress"):
            check_bool(name, getattr(self, name))
        if len(self.population) < 2 or not all(isinstance(p, str) for p in self.population):
            raise ValueError(f"population={self.population!r} is not allowed: expected at least 2 trader specs "
                             "(the market needs at least 2 traders)")
        for spec in self.population:
            parse_spec(spec)
        check_int("example_episode", self.example_episode, 0, self.episodes - 1)
        market_config(self)  # the market parameters, checked by MarketConfig

    def effective(self) -> "Config":
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, episodes=min(self.episodes, QUICK_EPISODES),
                                   steps=min(self.steps, QUICK_STEPS))


# ---------------------------------------------------------------------------------------------------- setup
def market_config(config: Config) -> MarketConfig:
    """The :class:`MarketConfig` of the study: ``config.market`` overrides with players and steps filled in."""
    overrides = parse_market_overrides(config.market)
    try:
        return MarketConfig(players=len(config.population), steps=config.steps, **overrides)
    except ValueError as exc:
        raise ValueError(f"market={config.market!r} is not allowed: {exc}") from exc


def seat_labels(traders: Sequence[RuleTrader]) -> list[str]:
    """``"p0 market_maker"``, ... (the seat makes repeated trader names distinct)."""
    return [f"p{p} {t.name}" for p, t in enumerate(traders)]


# ---------------------------------------------------------------------------------------------------- simulation
def simulate(game: Any, traders: Sequence[RuleTrader], *, episodes: int, seed: SeedLike,
             progress: bool = False) -> dict[str, np.ndarray]:
    """``episodes`` episodes, episode ``i`` seeded by ``SeedSequence(seed).spawn(episodes)[i]``; stacked records."""
    children = seed_sequence(seed).spawn(episodes)
    records = [run_episode(game, traders, np.random.default_rng(child))
               for child in tqdm(children, desc="market episodes", unit="ep", disable=not progress)]
    return {k: np.stack([r[k] for r in records]) for k in records[0]}


# ---------------------------------------------------------------------------------------------------- measures
def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` with NaN where ``b == 0``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b > 0)


def trader_stats(sim: dict[str, np.ndarray], labels: Sequence[str], specs: Sequence[str]) -> list[dict[str, Any]]:
    """Per seat: PnL mean, std, Sharpe (per episode and per round), win rate, lots traded, final |inventory|."""
    pnl = sim["pnl"]                                        # (E, n)
    rounds = sim["round_pnl"].reshape(-1, pnl.shape[1])      # (E*T, n)
    ddof = 1 if pnl.shape[0] > 1 else 0
    mean, std = pnl.mean(0), pnl.std(0, ddof=ddof)
    rmean, rstd = rounds.mean(0), rounds.std(0, ddof=1 if rounds.shape[0] > 1 else 0)
    out = []
    for p, label in enumerate(labels):
        out.append({
            "seat": p, "label": label, "spec": specs[p],
            "pnl_mean": mean[p], "pnl_std": std[p], "pnl_sem": std[p] / np.sqrt(pnl.shape[0]),
            "sharpe": float(_ratio(mean[p], std[p])), "round_pnl_mean": rmean[p], "round_pnl_std": rstd[p],
            "round_sharpe": float(_ratio(rmean[p], rstd[p])), "win_rate": float(np.mean(pnl[:, p] > 0)),
            "loss_rate": float(np.mean(pnl[:, p] < 0)), "lots_traded_mean": sim["lots"][:, p].mean(),
            "final_abs_inventory_mean": np.abs(sim["inventory"][:, p]).mean(),
        })
    return out


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    mc = market_config(eff)
    game = pyspiel.load_game(mc.game_string())
    traders = [make_trader(spec, game, player_ids=[p]) for p, spec in enumerate(eff.population)]
    specs = [t.spec for t in traders]
    labels = seat_labels(traders)
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "Market study: rule-based traders in python_lob_market", overwrite=eff.overwrite) as writer:
        results = _run(eff, mc, game, traders, specs, labels, writer)
    results["out"] = str(out)
    return results


def _run(eff: Config, mc: MarketConfig, game: Any, traders: Sequence[RuleTrader], specs: list[str],
         labels: list[str], writer: ReportWriter) -> dict[str, Any]:
    start = time.perf_counter()
    sim = simulate(game, traders, episodes=eff.episodes, seed=eff.seed, progress=eff.progress)
    elapsed = time.perf_counter() - start
    logger.info("simulated %d episodes x %d rounds in %.1f s", eff.episodes, eff.steps, elapsed)

    stats = trader_stats(sim, labels, specs)
    quality = market_quality(sim)
    ex = eff.example_episode
    results: dict[str, Any] = {
        "study": STUDY,
        "config": dataclasses.asdict(eff),
        "market": mc.to_params(),
        "game_string": mc.game_string(),
        "traders": stats,
        "market_quality": quality,
        "per_round": {
            "price_mean": sim["price"].mean(0), "fundamental_mean": sim["fundamental"].mean(0),
            "abs_error_mean": np.abs(sim["price"] - sim["fundamental"]).mean(0),
            "spread_mean": _nanmean0(sim["spread"]), "depth_mean": sim["depth"].mean(0),
            "volume_mean": sim["volume"].mean(0),
        },
        "example_episode": {"episode": ex, **{k: sim[k][ex] for k in ("price", "fundamental", "bid", "ask",
                                                                       "spread", "depth", "volume")}},
        "pnl_per_episode": sim["pnl"],
    }
    _write_report(writer, eff, mc, results, sim, labels, elapsed)
    writer.write(results)
    return results


def _nanmean0(x: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN (NaN where a column has none)."""
    count = np.isfinite(x).sum(0)
    return _ratio(np.nansum(x, axis=0), count)


def _write_report(writer: ReportWriter, eff: Config, mc: MarketConfig, results: dict[str, Any],
                  sim: dict[str, np.ndarray], labels: list[str], elapsed: float) -> None:
    writer.section("Setup")
    writer.text(f"{eff.episodes} episodes of {eff.steps} rounds, seed {eff.seed}{' (quick run)' if eff.quick else ''}"
                f"; market `{results['game_string']}`; simulated in {elapsed:.1f} s. Each round the fundamental "
                "moves (mean-reverting to price_levels // 2), zero-intelligence background flow arrives, then every "
                "trader acts on its own observation (never the fundamental). Prices are the mid (the last trade "
                "price when one side of the book is empty), recorded after the traders act; PnL is the final "
                "profit with positions valued at the fundamental, in ticks x lots.")
    writer.table(["seat", "trader spec"], [[p, s["spec"]] for p, s in enumerate(results["traders"])],
                 caption="Population")
    writer.section("Traders")
    rows = [[s["label"], s["pnl_mean"], s["pnl_sem"], s["pnl_std"], s["sharpe"], s["round_sharpe"], s["win_rate"],
             s["lots_traded_mean"], s["final_abs_inventory_mean"]] for s in results["traders"]]
    writer.table(["trader", "PnL mean", "± s.e.", "PnL std", "Sharpe (episode)", "Sharpe (round)", "win rate",
                  "lots traded", "final abs(inventory)"], rows, precision=3,
                 caption="Per-episode PnL; Sharpe = mean / std (per episode, and per round of wealth change); win "
                         "rate = share of episodes with PnL > 0")
    ranked = sorted(results["traders"], key=lambda s: s["pnl_mean"], reverse=True)
    best, worst = ranked[0], ranked[-1]
    writer.text(f"Highest mean PnL: {best['label']} ({best['pnl_mean']:.1f} ± {best['pnl_sem']:.1f}, win rate "
                f"{best['win_rate']:.1%}); lowest: {worst['label']} ({worst['pnl_mean']:.1f} ± "
                f"{worst['pnl_sem']:.1f}, win rate {worst['win_rate']:.1%}). Background flow is not a player, so "
                "the players' PnL need not sum to zero.")
    market_plots.pnl_figure(writer, sim, labels)
    writer.section("Market quality")
    q = results["market_quality"]
    writer.table(["measure", "mean over episodes", "± s.e."], [[text, q[k], q[f"{k}_sem"]] for k, text in
                                                               QUALITY_ROWS], precision=3)
    market_plots.price_figures(writer, sim, eff.example_episode)
    market_plots.liquidity_figure(writer, sim)
    market_plots.volume_figure(writer, sim, labels)


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv, converters={"population": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
