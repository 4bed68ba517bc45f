"""Manipulators and market makers in the market: their measured damage, and two published findings reproduced.

``python -m studies manipulation [--quick] [--seed S] [--episodes N] [--out DIR]``

Every comparison is :func:`solvers.robustness.market_damage`: the same ``episodes`` batched markets played with and
without the trader (common random numbers: the same fundamental path, background arrivals and action uniforms in
both arms), each measure's paired difference with a 95% Student-t interval.

1. **Damage of each manipulator** (``manipulators``: spoofer, layering, pump and dump, predatory taker) against the
   market with its seat idle, in the spoofing market (``spoof_market``, 3 players) with one book reader and one
   non-reader in the other seats: price efficiency, bias, spread, depth, volatility, volume, and the surplus of the
   background flow, of the other seats and of everyone.
2. **Wang & Wellman (2017)**, "Spoofing the limit order book: an agent-based model": the spoofer (and the layering
   trader) against the *same trader without its spoof orders* (``spoof=False``: same genuine trades and cancels), so
   the difference is the spoof's alone. Populations: two book readers (``reader``: a ZI trader whose value leans
   towards the deeper side of the visible book, :class:`marketgames.traders.BookReaderZI`), two non-readers
   (``non_reader``: the same ZI trader valuing at the mid only), and one of each (the mixed market, where the
   reader's and the non-reader's changes in return are compared episode by episode). Claims: the spoof moves the price
   in its intended direction (``price_bias`` up for buy spoofs) and lowers the others' surplus; book readers are
   hurt more than non-readers (in the mixed market: the reader's change in return minus the non-reader's, paired
   per episode). Rule traders stand in for the paper's learning (HBL) traders because the mechanism is the same --
   a belief that reads depth -- and it is deterministic and cheap; the learners in :mod:`solvers.marl` have no
   switch to hide the book from them.
3. **Wah, Wright & Wellman (2017)**, "Welfare effects of market making in continuous double auctions" (JAIR): a
   market maker (``market_maker``) against an idle seat, with the background flow as the only other trader (2
   players: seat 0 idle), in a thin market with impatient background traders (``thin_market``: few arrivals, orders
   that expire after ``bg_ttl`` rounds, no initial depth) and in a thick one (``thick_market``). Claim: total
   surplus rises in the thin market, less (or not) in the thick one.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyspiel

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.config import MarketConfig
from marketgames.traders import make_trader, parse_spec
from solvers.robustness import DAMAGE_MEASURES, MarketDamage, market_damage, market_measures
from solvers.stats import mean_interval

from . import manipulation_plots
from .cli import run_cli
from .market_run import parse_market_overrides, parse_population
from .report import ReportWriter, default_run_dir
from .validate import check_bool, check_int, check_optional_str, check_seed

logger = logging.getLogger(__name__)

STUDY = "manipulation"
SPOOF_ROWS = ("price_bias", "efficiency_abs_error", "background_surplus", "players_surplus", "others_surplus",
              "trader_profit")
WELFARE_ROWS = ("total_surplus", "background_surplus", "trader_profit", "volume", "spread", "efficiency_abs_error")


@dataclass
class Config:
    """Configuration of the manipulation study.

    Attributes:
        rounds: rounds per episode.
        episodes: paired episodes per comparison (the same markets with and without the trader).
        spoof_market: market overrides of the 3-player spoofing market (sections 1 and 2).
        reader: the book-reading background trader's spec.
        non_reader: the background trader that does not read the book.
        manipulators: trader specs measured against an idle seat (section 1).
        spoofers: buy-side spoofing trader specs compared with their ``spoof=False`` control (section 2).
        thin_market: market overrides of the thin market with impatient background traders (section 3).
        thick_market: market overrides of the thick market (section 3).
        market_maker: the market maker's spec (section 3).
        seed: the markets of every comparison are those of ``SeedSequence(seed)``.
        out: report folder (default ``reports/manipulation-seed<seed>-<timestamp>``).
        overwrite: replace a non-empty ``out`` instead of refusing.
        quick: a smoke-sized run (200 episodes of 10 rounds).
    """

    rounds: int = 30
    episodes: int = 8_000
    spoof_market: str = "limit_levels=3"
    reader: str = "zi_book(market_orders=True,imbalance_weight=3)"
    non_reader: str = "zi(value=mid,market_orders=True)"
    manipulators: tuple[str, ...] = ("spoofer(side=buy)", "layering(side=buy)", "pump_and_dump", "predator")
    spoofers: tuple[str, ...] = ("spoofer(side=buy)", "spoofer(side=buy,trade_order=limit)", "layering(side=buy)")
    thin_market: str = "bg_arrival_prob=0.2,bg_ttl=1,initial_depth=0"
    thick_market: str = "bg_arrival_prob=1.0,bg_ttl=10,initial_depth=4"
    market_maker: str = "market_maker(half_spread=1)"
    seed: int = 0
    out: str | None = None
    overwrite: bool = False
    quick: bool = False

    def __post_init__(self) -> None:
        self.manipulators = tuple(self.manipulators)
        self.spoofers = tuple(self.spoofers)
        check_int("rounds", self.rounds, 3)
        check_int("episodes", self.episodes, 2)
        check_seed("seed", self.seed)
        check_optional_str("out", self.out)
        for name in ("overwrite", "quick"):
            check_bool(name, getattr(self, name))
        for name in ("spoof_market", "thin_market", "thick_market"):
            try:
                MarketConfig(players=2, steps=self.rounds, **parse_market_overrides(getattr(self, name)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name}={getattr(self, name)!r} is not allowed: {exc}") from exc
        for name in ("reader", "non_reader", "market_maker"):
            parse_spec(getattr(self, name))
        for name in ("manipulators", "spoofers"):
            specs = getattr(self, name)
            if not specs or not all(isinstance(s, str) for s in specs):
                raise ValueError(f"{name}={specs!r} is not allowed: expected at least one trader spec")
        for spec in self.spoofers:
            trader, params = parse_spec(spec)
            if trader not in ("spoofer", "layering") or params.get("side") != "buy" or "spoof" in params:
                raise ValueError(f"spoofers item {spec!r} is not allowed: expected a spoofer or layering spec with "
                                 "side=buy and no spoof parameter (the study adds spoof=False for the control)")
        # every trader must fit its market (limit levels, quote levels, ...): build them now, before any work
        spoof_game = self.game("spoof_market", 3)
        for spec in (self.reader, self.non_reader, *self.manipulators, *self.spoofers):
            make_trader(spec, spoof_game, [2])
        for name in ("thin_market", "thick_market"):
            make_trader(self.market_maker, self.game(name, 2), [1])

    def effective(self) -> Config:
        """This config with ``quick`` applied."""
        if not self.quick:
            return self
        return dataclasses.replace(self, rounds=min(self.rounds, 10), episodes=min(self.episodes, 200))

    def game(self, market: str, players: int) -> Any:
        overrides = parse_market_overrides(getattr(self, market))
        return pyspiel.load_game(MarketConfig(players=players, steps=self.rounds, **overrides).game_string())


def control(spec: str) -> str:
    """The spoofing trader's control arm: the same spec with ``spoof=False``."""
    name, params = parse_spec(spec)
    body = ",".join([*(f"{k}={v}" for k, v in params.items()), "spoof=False"])
    return f"{name}({body})"


def _cell(d: Any) -> str:
    if not np.isfinite(d.difference):
        return "n/a (undefined in one arm)"
    return f"{d.difference:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]"


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    """Which directions of the two papers' findings the numbers reproduce (95% intervals excluding zero)."""
    out: dict[str, Any] = {}
    for spec, by_pop in results["spoofing"].items():
        readers = by_pop["readers"]["measures"]
        hurt = results["reader_minus_non_reader"][spec]
        out[spec] = {
            "price_moves_up_with_readers": readers["price_bias"]["ci_low"] > 0,
            "others_surplus_falls_with_readers": readers["others_surplus"]["ci_high"] < 0,
            "background_surplus_falls_with_readers": readers["background_surplus"]["ci_high"] < 0,
            "readers_hurt_more": hurt["ci_high"] < 0,
        }
    thin = results["market_making"]["thin_market"]["measures"]["total_surplus"]
    gap = results["thin_minus_thick_total_surplus"]
    out["market_maker"] = {"raises_total_surplus_in_thin_market": thin["ci_low"] > 0,
                           "less_in_thick_market": gap["ci_low"] > 0}
    return out


def _span(d: dict[str, Any]) -> str:
    return f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


def _interval(x: np.ndarray) -> dict[str, float]:
    x = x[np.isfinite(x)]
    mean, low, high = mean_interval(x)
    return {"difference": mean, "ci_low": low, "ci_high": high, "episodes": int(x.size)}


def _damage_dict(d: MarketDamage) -> dict[str, Any]:
    return {"trader": d.trader, "baseline": d.baseline, "seat": d.seat, "episodes": d.episodes,
            "measures": {k: dataclasses.asdict(v) for k, v in d.measures.items()}}


# ---------------------------------------------------------------------------------------------------- main
def main(config: Config) -> dict[str, Any]:
    """Run the study and write its report; returns the results (also in ``results.json``)."""
    eff = config.effective()
    out = Path(eff.out) if eff.out is not None else default_run_dir(STUDY, eff.seed)
    with ReportWriter(out, "Manipulation study: damage of manipulators, Wang & Wellman (2017), Wah, Wright & "
                      "Wellman (2017)", overwrite=eff.overwrite) as w:
        results = _run(eff, w)
    results["out"] = str(out)
    return results


def _run(eff: Config, writer: ReportWriter) -> dict[str, Any]:
    n, seed = eff.episodes, eff.seed
    spoof_game = eff.game("spoof_market", 3)
    mixed = [eff.reader, eff.non_reader]
    logger.info("damage of %d manipulators", len(eff.manipulators))
    damage = {spec: market_damage(spoof_game, mixed, spec, episodes=n, seed=seed) for spec in eff.manipulators}

    populations = {"readers": [eff.reader, eff.reader], "non-readers": [eff.non_reader, eff.non_reader]}
    spoofing: dict[str, dict[str, MarketDamage]] = {}
    hurt: dict[str, dict[str, Any]] = {}
    for spec in eff.spoofers:
        logger.info("spoof vs control: %s", spec)
        spoofing[spec] = {pop: market_damage(spoof_game, bg, spec, baseline=control(spec), episodes=n, seed=seed)
                          for pop, bg in populations.items()}
        # the mixed market again, per episode: reader's change in return minus the non-reader's (paired)
        treated = market_measures(spoof_game, [*mixed, spec], n, seed)["seat_returns"]
        base = market_measures(spoof_game, [*mixed, control(spec)], n, seed)["seat_returns"]
        change = treated - base
        hurt[spec] = {"reader": _interval(change[:, 0]), "non_reader": _interval(change[:, 1]),
                      **_interval(change[:, 0] - change[:, 1])}

    welfare: dict[str, MarketDamage] = {}
    configs: dict[str, dict[str, Any]] = {}
    for market in ("thin_market", "thick_market"):
        game = eff.game(market, 2)
        configs[market] = game.config.to_params()
        logger.info("market maker in the %s", market)
        welfare[market] = market_damage(game, [None], eff.market_maker, episodes=n, seed=seed)
    t_thin, t_thick = welfare["thin_market"]["total_surplus"], welfare["thick_market"]["total_surplus"]
    gap = t_thin.difference - t_thick.difference
    gap_half = 1.96 * math.hypot(t_thin.sem, t_thick.sem)  # the two markets' draws are independent

    results: dict[str, Any] = {
        "config": dataclasses.asdict(eff),
        "spoof_market": spoof_game.config.to_params(),
        "markets": configs,
        "damage": {k: _damage_dict(v) for k, v in damage.items()},
        "spoofing": {k: {pop: _damage_dict(d) for pop, d in v.items()} for k, v in spoofing.items()},
        "reader_minus_non_reader": hurt,
        "market_making": {k: _damage_dict(v) for k, v in welfare.items()},
        "thin_minus_thick_total_surplus": {"difference": gap, "ci_low": gap - gap_half, "ci_high": gap + gap_half},
    }
    results["verdicts"] = verdicts(results)
    _write_report(writer, eff, results, damage, spoofing, hurt, welfare, spoof_game)
    writer.figure(manipulation_plots.findings(spoofing, hurt, welfare), "findings",
                  caption="Paired differences with 95% intervals: the spoof's effect on price and surplus, and the "
                          "market maker's effect on total surplus")
    writer.write(results)
    return results


def _write_report(writer: ReportWriter, eff: Config, results: dict[str, Any], damage: dict[str, MarketDamage],
                  spoofing: dict[str, dict[str, MarketDamage]], hurt: dict[str, dict[str, Any]],
                  welfare: dict[str, MarketDamage], spoof_game: Any) -> None:
    writer.section("Setup")
    writer.text(f"{eff.episodes} paired episodes of {eff.rounds} rounds per comparison (seed {eff.seed}); every "
                "cell is treated minus baseline with a 95% Student-t interval over the paired episodes. Spoofing "
                f"market: `{spoof_game.config.game_string()}`; book reader `{eff.reader}`, non-reader "
                f"`{eff.non_reader}`.")
    writer.section("Damage of each manipulator (vs an idle seat; one reader, one non-reader)")
    names = list(DAMAGE_MEASURES)
    writer.table(["measure"] + list(damage), [[DAMAGE_MEASURES[m]] + [_cell(d[m]) for d in damage.values()]
                                              for m in names])

    writer.section("Wang & Wellman (2017): spoofing vs the same trader without spoof orders")
    for spec, by_pop in spoofing.items():
        writer.table(["measure"] + [f"{pop}" for pop in by_pop],
                     [[DAMAGE_MEASURES[m]] + [_cell(d[m]) for d in by_pop.values()] for m in SPOOF_ROWS],
                     caption=f"{spec} minus {control(spec)}")
    rows = []
    for spec, by_pop in spoofing.items():
        readers, non = by_pop["readers"], by_pop["non-readers"]
        h = hurt[spec]
        rows.append([spec, _cell(readers["price_bias"]), _cell(non["price_bias"]),
                     _cell(readers["players_surplus"]), _cell(non["players_surplus"]), _span(h["reader"]),
                     _span(h["non_reader"]), _span(h)])
    writer.table(["spoofer", "price bias change (readers)", "(non-readers)", "other seats' surplus change "
                  "(readers)", "(non-readers)", "mixed market: reader's return change", "non-reader's",
                  "reader's minus non-reader's"], rows,
                 caption="Direction of the findings: price up for buy spoofs; readers hurt more (negative last "
                         "column)")

    writer.section("Wah, Wright & Wellman (2017): a market maker in a thin and a thick market")
    thin, thick = (results["markets"][k] for k in ("thin_market", "thick_market"))
    keys = ("bg_arrival_prob", "bg_ttl", "initial_depth", "bg_value_spread", "bg_shade_min", "bg_shade_max")
    writer.text("Thin: " + ", ".join(f"{k}={thin[k]}" for k in keys) + "; thick: "
                + ", ".join(f"{k}={thick[k]}" for k in keys) + f" (both {eff.rounds} rounds, 2 players: seat 0 "
                f"idle, seat 1 `{eff.market_maker}` or idle).")
    writer.table(["measure", "thin", "thick"],
                 [[DAMAGE_MEASURES[m], _cell(welfare["thin_market"][m]), _cell(welfare["thick_market"][m])]
                  for m in WELFARE_ROWS])
    g = results["thin_minus_thick_total_surplus"]
    writer.text(f"Total surplus gain, thin minus thick: {g['difference']:+.3f} [{g['ci_low']:+.3f}, "
                f"{g['ci_high']:+.3f}].")

    writer.section("Verdicts (95% intervals excluding zero)")
    v = results["verdicts"]
    findings = list(v[next(iter(spoofing))])
    writer.table(["finding"] + list(spoofing),
                 [[k.replace("_", " ")] + ["yes" if v[spec][k] else "no" for spec in spoofing] for k in findings])
    mm = v["market_maker"]
    writer.text(f"Market maker raises total surplus in the thin market: {'yes' if mm['raises_total_surplus_in_thin_market'] else 'no'}; "
                f"less in the thick one: {'yes' if mm['less_in_thick_market'] else 'no'}.")
    writer.text("Where this market differs from the papers: a spoof here is one lot, visible for two rounds, in a "
                "market of 30 rounds with a handful of traders, and the only traders who read depth are the book "
                "readers. The spoof moves the price its way only when book readers are present (with non-readers "
                "the spoofer's genuine sells, identical in both arms, leave a spoof that is sometimes hit after "
                "they take out the bid). The manipulators mostly lose money (their own return), and a trader's "
                "loss is a transfer to the others, so the others' surplus rarely falls in absolute terms; Wang & "
                "Wellman's spoofer profits because its background traders hold private values over a long "
                "horizon and their HBL traders trade on the spoofed beliefs. The relative finding -- book readers "
                "gain less (are hurt more) than non-readers beside them -- is what the mixed market tests.")


def cli(argv: Sequence[str] | None = None) -> int:
    return run_cli(STUDY, __doc__, Config, main, argv,
                   converters={"manipulators": parse_population, "spoofers": parse_population})


if __name__ == "__main__":
    raise SystemExit(cli())
