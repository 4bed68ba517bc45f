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
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pyspiel
from tqdm.auto import tqdm

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market import rules as R
from marketgames.market.config import MarketConfig
from marketgames.sampling import draw
from marketgames.seeding import SeedLike, seed_sequence
from marketgames.traders import ObservationLayout, RuleTrader, make_trader, parse_spec, split_top_level

from . import market_plots
from .cli import run_study, study_parser
from .report import ReportWriter, default_run_dir

logger = logging.getLogger(__name__)

STUDY = "market"
GAME = "python_lob_market"
QUICK_EPISODES = 20
QUICK_STEPS = 40


@dataclass
class Config:
    """Configuration of the market study.

    Attributes:
        population: one trader spec per seat (``marketgames.traders.make_trader`` specs, e.g.
            ``"trend(window=3,threshold=1)"``); the market has ``len(population)`` players.
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

    def effective(self) -> "Config":
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, episodes=min(self.episodes, QUICK_EPISODES),
                                   steps=min(self.steps, QUICK_STEPS))


# ---------------------------------------------------------------------------------------------------- setup
def parse_market_overrides(market: str | Mapping[str, Any]) -> dict[str, Any]:
    """Market parameter overrides from a game string (``"python_lob_market(price_levels=61)"`` or
    ``"price_levels=61,shock_prob=0.3"``) or a dict; ``players`` and ``steps`` belong to the study, not here."""
    overrides: dict[str, Any]
    if isinstance(market, Mapping):
        overrides = dict(market)
    elif isinstance(market, str):
        text = market.strip()
        if not text:
            overrides = {}
        else:
            name, overrides = parse_spec(text if "(" in text else f"{GAME}({text})")
            if name != GAME:
                raise ValueError(f"market={market!r} is not allowed: expected overrides of "
                                 f"{GAME}, not game {name!r}")
    else:
        raise TypeError(f"market={market!r} is not allowed: expected a game string or a dict")
    for key in ("players", "steps"):
        if key in overrides:
            raise ValueError(f"market={market!r} is not allowed: {key} is set by the study, not by market")
    return overrides


def market_config(config: Config) -> MarketConfig:
    """The :class:`MarketConfig` of the study: ``config.market`` overrides with players and steps filled in."""
    overrides = parse_market_overrides(config.market)
    if not isinstance(config.episodes, int) or config.episodes < 1:
        raise ValueError(f"episodes={config.episodes!r} is not allowed: expected an integer >= 1")
    if len(config.population) < 2:
        raise ValueError(f"population={config.population!r} is not allowed: the market needs at least 2 traders")
    if not 0 <= config.example_episode < config.episodes:
        raise ValueError(f"example_episode={config.example_episode!r} is not allowed: expected an episode in "
                         f"[0, {config.episodes - 1}]")
    return MarketConfig(players=len(config.population), steps=config.steps, **overrides)


def seat_labels(traders: Sequence[RuleTrader]) -> list[str]:
    """``"p0 market_maker"``, ... (the seat makes repeated trader names distinct)."""
    return [f"p{p} {t.name}" for p, t in enumerate(traders)]


# ---------------------------------------------------------------------------------------------------- simulation
def _draw(probs: Sequence[float] | np.ndarray, u: float) -> int:
    """Inverse CDF: the outcome ``k`` with ``cdf[k-1] <= u * total < cdf[k]`` (never one of probability 0)."""
    return draw(probs, u)


def run_episode(game: Any, traders: Sequence[RuleTrader], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Play one episode; per round (after the players act): prices, book, volume and each seat's wealth change.

    Per round ``t`` the draws are, in order: one uniform for the fundamental, one for the background flow, one per
    seat for its action.
    """
    mc: MarketConfig = game.config
    n, T = mc.players, mc.steps
    layout = ObservationLayout(mc)
    P = game.params_vector
    acc = int(P[R.P_OFF_PLAYERS])
    rec = {k: np.full(T, np.nan) for k in ("price", "fundamental", "bid", "ask", "spread", "depth", "volume")}
    rec["round_pnl"] = np.zeros((T, n))
    state = game.new_initial_state()
    prev_wealth = np.zeros(n)
    prev_volume = 0
    t = 0
    while not state.is_terminal():
        if state.is_chance_node():
            outcomes, probs = zip(*state.chance_outcomes())
            state.apply_action(int(outcomes[_draw(probs, rng.random())]))
            continue
        u = rng.random(n)
        actions = [_draw(trader.probabilities(state.observation_ints(p)[None])[0], u[p])
                   for p, trader in enumerate(traders)]
        state.apply_actions(actions)
        obs = state.observation_ints(0)[None]  # only its public (book) fields are read
        has_bid, has_ask = layout.has_bid(obs)[0], layout.has_ask(obs)[0]
        rec["price"][t] = layout.mid2(obs)[0] / 2.0
        rec["fundamental"][t] = state.fundamental
        rec["bid"][t] = layout.best_bid(obs)[0] if has_bid else np.nan
        rec["ask"][t] = layout.best_ask(obs)[0] if has_ask else np.nan
        rec["spread"][t] = layout.spread(obs)[0] if has_bid and has_ask else np.nan
        rec["depth"][t] = layout.top_depth(obs)[0]
        buf = state.market_buffer
        rec["volume"][t] = buf[R.M_VOLUME] - prev_volume
        prev_volume = int(buf[R.M_VOLUME])
        wealth = np.asarray(state.returns())
        rec["round_pnl"][t] = wealth - prev_wealth
        prev_wealth = wealth
        t += 1
    rec["pnl"] = np.asarray(state.returns())
    buf = state.market_buffer
    rec["lots"] = np.array([buf[acc + R.A_WIDTH * p + R.A_VOLUME] for p in range(n)], dtype=np.float64)
    rec["inventory"] = np.array([state.account(p)[1] for p in range(n)], dtype=np.float64)
    return rec


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


def market_quality(sim: dict[str, np.ndarray]) -> dict[str, Any]:
    """Market-quality measures; each is computed per episode, then averaged (``*_sem``: its standard error)."""
    def summary(per_episode: np.ndarray) -> tuple[float, float]:
        x = per_episode[np.isfinite(per_episode)]
        if x.size == 0:
            return float("nan"), float("nan")
        sem = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
        return float(x.mean()), sem

    price, fund = sim["price"], sim["fundamental"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # episodes without a two-sided book: NaN spread
        measures = {
            "volatility": (np.diff(price, axis=1).std(axis=1, ddof=1) if price.shape[1] > 2
                           else np.full(price.shape[0], np.nan)),
            "efficiency_abs_error": np.abs(price - fund).mean(1),
            "price_bias": (price - fund).mean(1),
            "spread": np.nanmean(sim["spread"], axis=1),
            "one_sided_share": np.isnan(sim["spread"]).mean(1),
            "top_depth": sim["depth"].mean(1),
            "volume_per_round": sim["volume"].mean(1),
            "volume_per_episode": sim["volume"].sum(1),
        }
    out: dict[str, Any] = {}
    for name, values in measures.items():
        out[name], out[f"{name}_sem"] = summary(values)
    return out


QUALITY_ROWS = [
    ("volatility", "volatility: std of per-round price changes (ticks)"),
    ("efficiency_abs_error", "price efficiency: mean abs(price - fundamental) (ticks)"),
    ("price_bias", "mean price - fundamental (ticks)"),
    ("spread", "mean spread when both sides quoted (ticks)"),
    ("one_sided_share", "share of rounds with a one-sided book"),
    ("top_depth", "mean depth at best bid + best ask (lots)"),
    ("volume_per_round", "volume per round (lots)"),
    ("volume_per_episode", "volume per episode (lots)"),
]


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
    writer = ReportWriter(out, "Market study: rule-based traders in python_lob_market", overwrite=eff.overwrite)

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
    results["out"] = str(out)
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


def parse_population(items: Sequence[str]) -> tuple[str, ...]:
    """Specs from the command line: each item may hold several comma-separated specs."""
    return tuple(spec for item in items for spec in split_top_level(item))


def cli(argv: Sequence[str] | None = None) -> int:
    default = Config()
    parser = study_parser("market", __doc__, seed=default.seed,
                          quick_help=f"at most {QUICK_EPISODES} episodes of {QUICK_STEPS} rounds")
    parser.add_argument("--episodes", type=int, default=default.episodes)
    parser.add_argument("--steps", type=int, default=default.steps)
    parser.add_argument("--population", nargs="+", default=None, metavar="SPEC",
                        help="trader specs, one per seat, e.g. market_maker 'trend(window=3)' noise")
    parser.add_argument("--market", default="", help="market overrides, e.g. 'price_levels=61,shock_prob=0.3'")
    args = parser.parse_args(list(argv) if argv is not None else None)
    config = Config(population=parse_population(args.population) if args.population else default.population,
                    market=args.market, episodes=args.episodes, steps=args.steps, seed=args.seed, out=args.out,
                    overwrite=args.overwrite, quick=args.quick)
    return run_study(main, config)

if __name__ == "__main__":
    raise SystemExit(cli())
