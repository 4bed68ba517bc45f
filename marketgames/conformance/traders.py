"""Conformance checks of rule-based traders as OpenSpiel policies on a game (see :mod:`marketgames.conformance`)."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pyspiel

from ..seeding import SeedLike, as_generator
from .game import ConformanceError, ConformanceReport, _fail, _walk, load

__all__ = ["check_all_traders", "check_trader"]


# ---------------------------------------------------------------------- traders
def _make(trader: Any, game: pyspiel.Game):
    if isinstance(trader, (str, Mapping)):
        from ..traders import make_trader

        return make_trader(trader, game)
    return trader


def check_trader(trader: Any, game: str | pyspiel.Game, *, num_sims: int = 3, seed: SeedLike = 0,
                 tol: float = 1e-9) -> ConformanceReport:
    """Check a rule-based trader (a ``RuleTrader`` or a spec for ``marketgames.traders.make_trader``).

    The trader plays every one of its seats (the others play uniformly) for ``num_sims`` random episodes; at every
    decision node, for each of its seats: ``action_probabilities`` is a distribution over legal actions (non-negative,
    sums to 1 within ``tol``), is the same when asked twice, is the same for any two equal observations (whatever the
    seat or state), and equals the row of the vectorised ``probabilities`` for that observation. A spec is also built
    for each single seat (``player_ids=[p]``) and must give the same probabilities there.
    """
    game = load(game)
    policy = _make(trader, game)
    seats = list(policy.player_ids)
    per_seat = {}
    if isinstance(trader, (str, Mapping)):
        from ..traders import make_trader

        per_seat = {p: make_trader(trader, game, player_ids=[p]) for p in range(game.num_players())}
        seats = list(range(game.num_players()))
    rng = as_generator(seed)
    seen: dict[bytes, dict[int, float]] = {}
    report = ConformanceReport()

    def probabilities(state, p):
        probs = policy.action_probabilities(state, p)
        if p in per_seat:
            single = per_seat[p].action_probabilities(state, p)
            if single != probs:
                raise _fail(state, f"seat {p}: a trader for all seats gives {probs}, one for seat {p} gives {single}")
        return probs

    def choose(state, p):
        if p not in seats:
            return int(rng.choice(state.legal_actions(p)))
        probs = probabilities(state, p)
        legal = set(state.legal_actions(p))
        values = np.array(list(probs.values()), dtype=np.float64)
        if not probs or not set(probs) <= legal or np.any(values < 0) or abs(values.sum() - 1.0) > tol:
            raise _fail(state, f"seat {p}: {probs} is not a distribution over legal actions {sorted(legal)}")
        if probabilities(state, p) != probs:
            raise _fail(state, f"seat {p}: action_probabilities changed when asked twice")
        obs = np.asarray(state.observation_ints(p))
        key = obs.tobytes()
        if key in seen and seen[key] != probs:
            raise _fail(state, f"seat {p}: equal observations {obs.tolist()} give {probs} and {seen[key]}")
        seen[key] = probs
        row = np.asarray(policy.probabilities(obs[None]), dtype=np.float64)[0]
        dense = np.zeros(game.num_distinct_actions())
        for a, q in probs.items():
            dense[a] = q
        if row.shape != dense.shape or not np.allclose(row, dense, rtol=0, atol=tol):
            raise _fail(state, f"seat {p}: probabilities(obs) {row.tolist()} != action_probabilities {probs}")
        report.player_nodes += 1
        actions = list(probs)
        return int(actions[rng.choice(len(actions), p=values / values.sum())])

    for _ in range(num_sims):
        for _state in _walk(game, rng, choose):
            report.states += 1
        report.terminals += 1
    batch = np.frombuffer(b"".join(seen), dtype=np.int64).reshape(len(seen), -1)
    rows = np.asarray(policy.probabilities(batch), dtype=np.float64)
    for obs, row in zip(batch, rows):
        dense = np.zeros(game.num_distinct_actions())
        for a, q in seen[obs.tobytes()].items():
            dense[a] = q
        if not np.allclose(row, dense, rtol=0, atol=tol):
            raise ConformanceError(f"batched probabilities for {obs.tolist()} ({row.tolist()}) differ from the "
                                   f"single-observation ones ({dense.tolist()})")
    return report


def check_all_traders(game: str | pyspiel.Game, *, num_sims: int = 2, seed: SeedLike = 0) -> dict[str, Any]:
    """Run :func:`check_trader` for every trader of ``marketgames.traders.TRADERS`` (default parameters).

    Returns ``{name: ConformanceReport or the TraderConfigError/ValueError explaining why it cannot play this
    market}``: a trader may refuse a market lacking what it needs (e.g. limit orders), but only with a clear error.
    """
    from ..traders import TRADERS

    game = load(game)
    out: dict[str, Any] = {}
    for name in TRADERS:
        try:
            _make(name, game)
        except ValueError as exc:  # TraderConfigError is a ValueError
            out[name] = exc
            continue
        out[name] = check_trader(name, game, num_sims=num_sims, seed=seed)
    return out
