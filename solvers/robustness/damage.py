"""Market-quality damage of a trader (a manipulator, a market maker, ...): the same market with and without it.

:func:`market_damage` plays ``episodes`` markets of ``python_lob_market`` twice on the batched engine
(:class:`marketgames.market.batched.BatchedMarket`): once with the trader in its seat, once with the seat idle
(it always holds: the market without it; or any ``baseline`` strategy). Both arms use the same seed, so market ``i``
sees the same fundamental path, the same background arrivals and the same action uniforms of every seat in both
(common random numbers from the engine's counter-based chance), and each measure is compared episode by episode: a
paired difference with a Student-t confidence interval.

Measures (per episode, then averaged; prices in ticks, read at every player node from the public book):
``efficiency_abs_error`` mean abs(mid - fundamental); ``price_bias`` mean mid - fundamental (the direction a
manipulator pushes the price); ``spread`` mean spread when both sides are quoted; ``top_depth`` lots at the best bid
plus best ask; ``volatility`` standard deviation of the per-round mid changes; ``volume`` lots traded;
``background_surplus`` the zero-intelligence background flow's surplus (expected private value plus final
fundamental minus price per lot; :func:`marketgames.market.rules.background_surplus2`); ``players_surplus`` the
final wealth of the other seats; ``others_surplus`` their sum (everyone but the trader); ``total_surplus`` everyone's;
``trader_profit`` the trader's own return; ``seat{p}_return`` each seat's return.

Wang & Wellman (2017), "Spoofing the limit order book: an agent-based model" (AAMAS) measure a spoofer's damage as
the change in background surplus and in price against the same market without it; Wah, Wright & Wellman (2017),
"Welfare effects of market making in continuous double auctions" (JAIR) compare total surplus with and without a
market maker the same way.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pyspiel

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market import rules as R
from marketgames.market.batched import BatchedMarket
from marketgames.market.config import MarketConfig
from marketgames.market.payoffs import batched_seat
from marketgames.market.population import population_actions
from marketgames.seeding import SeedLike
from marketgames.traders import ActionLayout, ObservationLayout, make_trader
from solvers.stats import mean_halfwidth

__all__ = ["DAMAGE_MEASURES", "MarketDamage", "PairedDifference", "idle_seat", "market_damage", "market_measures"]

#: The market-level measures :func:`market_damage` reports (besides ``seat{p}_return``), with their meaning.
DAMAGE_MEASURES: dict[str, str] = {
    "efficiency_abs_error": "price efficiency: mean abs(mid - fundamental) (ticks)",
    "price_bias": "mean mid - fundamental (ticks)",
    "spread": "mean spread when both sides are quoted (ticks)",
    "top_depth": "mean lots at best bid + best ask",
    "volatility": "std of per-round mid changes (ticks)",
    "volume": "lots traded per episode",
    "background_surplus": "background (ZI flow) surplus per episode (ticks x lots)",
    "players_surplus": "other seats' total return per episode (ticks x lots)",
    "others_surplus": "everyone but the trader: background + other seats (ticks x lots)",
    "total_surplus": "everyone's surplus, the trader included (ticks x lots)",
    "trader_profit": "the trader's own return (ticks x lots)",
}


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """One measure with the trader (``treated``) and without it (``baseline``), their paired difference
    ``treated - baseline`` over ``episodes`` common-random-number episodes, its standard error and confidence
    interval (Student t at ``confidence``)."""

    name: str
    treated: float
    baseline: float
    difference: float
    sem: float
    ci_low: float
    ci_high: float
    episodes: int
    confidence: float

    @property
    def significant(self) -> bool:
        """The confidence interval excludes zero."""
        return bool(self.ci_low > 0.0 or self.ci_high < 0.0)


@dataclasses.dataclass(frozen=True)
class MarketDamage:
    """The damage of ``trader`` in ``seat``: :class:`PairedDifference` per measure name (see the module doc)."""

    trader: str
    baseline: str
    seat: int
    episodes: int
    measures: dict[str, PairedDifference]

    def __getitem__(self, name: str) -> PairedDifference:
        if name not in self.measures:
            raise KeyError(f"measure {name!r} is not reported: choose one of {sorted(self.measures)}")
        return self.measures[name]

    def rows(self) -> list[PairedDifference]:
        return list(self.measures.values())


class _Idle:
    """A seat that always holds: the market without a trader. Satisfies the rule-trader ``probabilities`` contract."""

    def __init__(self, config: MarketConfig, seat: int) -> None:
        self.config = config
        self.player_ids = [seat]
        self._layout = ObservationLayout(config)
        self._actions = ActionLayout(config)
        self.spec = "idle"

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        obs = self._layout.check(obs)
        return self._actions.one_hot(np.full(obs.shape[0], self._actions.HOLD))

    def __repr__(self) -> str:
        return f"<idle seat={self.player_ids[0]}>"


def idle_seat(game: Any, seat: int) -> Any:
    """A strategy for ``seat`` that always holds (the market without a trader there)."""
    game, config = _game(game)
    _check_seat(seat, config)
    return _Idle(config, seat)


def _game(game: Any) -> tuple[Any, MarketConfig]:
    if isinstance(game, MarketConfig):
        game = pyspiel.load_game(game.game_string())
    config = getattr(game, "config", None)
    if not isinstance(config, MarketConfig):
        raise TypeError(f"game={game!r} is not allowed: expected a python_lob_market game or a MarketConfig")
    return game, config


def _check_seat(seat: Any, config: MarketConfig) -> int:
    if isinstance(seat, bool) or not isinstance(seat, (int, np.integer)) or not 0 <= seat < config.players:
        raise ValueError(f"seat={seat!r} is not allowed: expected an integer in [0, {config.players - 1}]")
    return int(seat)


def _seat_strategy(strategy: Any, game: Any, config: MarketConfig, seat: int, what: str) -> Any:
    """A batched seat: ``None`` is an idle seat, a spec string/mapping is built as a rule trader; rule traders and
    BatchPolicy strategies pass."""
    if strategy is None:
        return _Idle(config, seat)
    if isinstance(strategy, (str, Mapping)):
        return make_trader(strategy, game, [seat])
    if callable(getattr(strategy, "probabilities", None)):
        own = getattr(strategy, "config", config)
        if own != config:
            raise ValueError(f"{what}={strategy!r} is not allowed: it was built for another market")
        seats = getattr(strategy, "player_ids", None)
        if seats is not None and seat not in seats:
            raise ValueError(f"{what}={strategy!r} is not allowed: it plays seats {list(seats)}, not seat {seat}")
        return strategy
    if callable(getattr(strategy, "batch_probabilities", None)):
        return batched_seat(strategy, game, what)
    raise TypeError(f"{what}={strategy!r} is not allowed: expected a trader spec, a rule trader "
                    "(probabilities(obs)) or a BatchPolicy (batch_probabilities(observations, legal_mask))")


def _label(strategy: Any) -> str:
    if isinstance(strategy, str):
        return strategy
    return str(getattr(strategy, "spec", None) or type(strategy).__name__)


def _check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} is not allowed: expected an integer >= {low}")
    return int(value)


def market_measures(game: Any, seats: Sequence[Any], episodes: int, seed: SeedLike, *,
                    max_batch: int = 2048) -> dict[str, np.ndarray]:
    """Per-episode market measures ``{name: (episodes,)}`` of ``seats[p]`` playing seat ``p`` on the batched
    engine: the market measures of the module doc (without the trader-relative ones) plus ``seat_returns``
    ``(episodes, players)``. Episode ``i`` is market ``i`` of ``seed`` (the same in every call with that seed)."""
    game, config = _game(game)
    episodes = _check_count("episodes", episodes, 2)
    max_batch = _check_count("max_batch", max_batch, 1)
    if len(seats) != config.players:
        raise ValueError(f"seats of length {len(seats)} are not allowed: expected one per player ({config.players})")
    players = [_seat_strategy(s, game, config, p, f"seats[{p}]") for p, s in enumerate(seats)]
    layout = ObservationLayout(config)
    T = config.steps
    out: dict[str, np.ndarray] = {k: np.empty(episodes) for k in (
        "efficiency_abs_error", "price_bias", "spread", "top_depth", "volatility", "volume", "background_surplus")}
    out["seat_returns"] = np.empty((episodes, config.players))
    for lo in range(0, episodes, max_batch):
        size = min(max_batch, episodes - lo)
        market = BatchedMarket(config, size, seed, first_market=lo)
        mid, fund = np.empty((size, T)), np.empty((size, T))
        spread, depth = np.full((size, T), np.nan), np.empty((size, T))
        obs = market.reset()
        for t in range(T):
            public = obs[:, 0, :]  # only the public (book) fields are read
            both = layout.has_bid(public) & layout.has_ask(public)
            mid[:, t] = layout.mid2(public) / 2.0
            fund[:, t] = market.fundamental
            spread[:, t] = np.where(both, layout.spread(public), np.nan)
            depth[:, t] = layout.top_depth(public)
            obs, _, _ = market.step(population_actions(players, market, obs))
        sl = slice(lo, lo + size)
        out["efficiency_abs_error"][sl] = np.abs(mid - fund).mean(axis=1)
        out["price_bias"][sl] = (mid - fund).mean(axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an episode without a two-sided book: NaN spread
            out["spread"][sl] = np.nanmean(spread, axis=1)
        out["top_depth"][sl] = depth.mean(axis=1)
        out["volatility"][sl] = np.diff(mid, axis=1).std(axis=1, ddof=1) if T > 2 else np.nan
        out["volume"][sl] = [market.market_buffer(i)[R.M_VOLUME] for i in range(size)]
        out["background_surplus"][sl] = market.background_surplus()
        out["seat_returns"][sl] = market.returns()
    return out


def _paired(name: str, treated: np.ndarray, baseline: np.ndarray, confidence: float) -> PairedDifference:
    ok = np.isfinite(treated) & np.isfinite(baseline)
    a, b = treated[ok], baseline[ok]
    n = int(ok.sum())
    if n < 2:
        nan = float("nan")
        return PairedDifference(name, nan, nan, nan, nan, nan, nan, n, confidence)
    d = a - b
    sem = float(d.std(ddof=1) / math.sqrt(n))
    mean, half = (float(v) for v in mean_halfwidth(d, confidence=confidence))
    return PairedDifference(name, float(a.mean()), float(b.mean()), mean, sem, mean - half, mean + half, n,
                            confidence)


def market_damage(game: Any, background: Sequence[Any], trader: Any, *, seat: int | None = None,
                  baseline: Any = None, episodes: int = 1000, seed: SeedLike = 0, confidence: float = 0.95,
                  max_batch: int = 2048) -> MarketDamage:
    """The damage of ``trader`` to the market: each measure with it minus without it, paired over episodes.

    Args:
        game: a ``python_lob_market`` game or its :class:`MarketConfig`.
        background: the strategies of the other seats, in seat order (``players - 1`` of them): trader specs
            (``"zi(value=mid)"``), rule traders built for those seats, ``BatchPolicy`` strategies, or ``None`` (an
            idle seat: a market of the background flow alone).
        trader: the manipulator (or market maker, ...) measured, in ``seat``; a spec, rule trader or BatchPolicy.
        seat: the trader's seat (default: the last one).
        baseline: what plays ``seat`` in the market without the trader (default: an idle seat that always holds).
        episodes: paired episodes (>= 2); ``seed`` picks them (the same markets in both arms).
        confidence: the level of the Student-t intervals, in (0, 1).
        max_batch: markets stepped at once (affects speed and memory only, never the numbers).

    Returns:
        a :class:`MarketDamage` with a :class:`PairedDifference` per measure (``DAMAGE_MEASURES`` and
        ``seat{p}_return``).
    """
    game, config = _game(game)
    seat = config.players - 1 if seat is None else _check_seat(seat, config)
    episodes = _check_count("episodes", episodes, 2)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} is not allowed: expected a number in (0, 1)")
    if isinstance(background, (str, Mapping)) or len(background) != config.players - 1:
        raise ValueError(f"background={background!r} is not allowed: expected a sequence of {config.players - 1} "
                         f"strategies (one per seat other than seat {seat})")
    others = [p for p in range(config.players) if p != seat]
    seats: list[Any] = [None] * config.players
    for p, s in zip(others, background):
        seats[p] = _seat_strategy(s, game, config, p, f"background[{others.index(p)}]")
    treated_seats = list(seats)
    treated_seats[seat] = _seat_strategy(trader, game, config, seat, "trader")
    base_seats = list(seats)
    base_seats[seat] = _Idle(config, seat) if baseline is None else _seat_strategy(baseline, game, config, seat,
                                                                                   "baseline")
    runs = [market_measures(game, s, episodes, seed, max_batch=max_batch) for s in (treated_seats, base_seats)]
    derived = []
    for run in runs:
        r = dict(run)
        returns = r.pop("seat_returns")
        r["players_surplus"] = returns[:, others].sum(axis=1)
        r["others_surplus"] = r["players_surplus"] + r["background_surplus"]
        r["total_surplus"] = r["others_surplus"] + returns[:, seat]
        r["trader_profit"] = returns[:, seat]
        for p in range(config.players):
            r[f"seat{p}_return"] = returns[:, p]
        derived.append(r)
    treated, base = derived
    names = list(DAMAGE_MEASURES) + [f"seat{p}_return" for p in range(config.players)]
    measures = {name: _paired(name, treated[name], base[name], float(confidence)) for name in names}
    return MarketDamage(trader=_label(trader), baseline="idle" if baseline is None else _label(baseline),
                        seat=seat, episodes=episodes, measures=measures)
