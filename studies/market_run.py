"""What the market-based studies share: market overrides from the command line, one simulated episode of rule-based
traders in ``python_lob_market``, and the market-quality measures of a batch of episodes.

Used by :mod:`studies.market`, :mod:`studies.equilibria` and :mod:`studies.marl`.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market import rules as R
from marketgames.sampling import draw
from marketgames.market.config import MarketConfig
from marketgames.traders import ObservationLayout, RuleTrader, parse_spec, split_top_level

__all__ = ["GAME", "QUALITY_ROWS", "market_quality", "parse_market_overrides", "parse_population", "run_episode"]

GAME = "python_lob_market"
#: The MarketConfig fields a study's ``market`` may override (players and steps belong to the study).
MARKET_KEYS = tuple(f.name for f in dataclasses.fields(MarketConfig) if f.name not in ("players", "steps"))


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
    unknown = [k for k in overrides if k not in MARKET_KEYS]
    if unknown:
        raise ValueError(f"market={market!r} is not allowed: unknown key(s) {unknown}; expected "
                         f"key=value pairs with keys from {list(MARKET_KEYS)}")
    return overrides


def parse_population(items: Sequence[str]) -> tuple[str, ...]:
    """Specs from the command line: each item may hold several comma-separated specs."""
    return tuple(spec for item in items for spec in split_top_level(item))


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
            state.apply_action(int(outcomes[draw(probs, rng.random())]))
            continue
        u = rng.random(n)
        actions = [draw(trader.probabilities(state.observation_ints(p)[None])[0], u[p])
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
