"""The opponent pool of self-play: members, per-opponent results, matchmaking weights, snapshot schedule and the
replacement rule.

A pool holds named rule traders (never evicted) and up to ``capacity`` snapshots of the main agent. Each member
keeps running statistics of the main agent's training episodes against it (Welford's mean and variance of the main
agent's PnL and of the PnL difference, and the outcome count):

* **beats** (a general-sum market has no winner): the main agent *beats* an opponent in an episode when its PnL is
  higher than the opponent's (seats ``1 ..``: their mean); a tie counts one half. ``win_probability`` is the
  posterior mean ``(wins + 1) / (episodes + 2)`` (a uniform prior, so an unseen opponent has 1/2).
* **matchmaking** (:func:`matchmaking_weights`), with ``x`` the main agent's win probability against a member:
  ``"uniform"`` (every member alike), ``"latest"`` (the newest snapshot only; the rule traders alike until the
  first snapshot) and ``"pfsp"``, prioritised fictitious self-play (Vinyals et al. 2019, AlphaStar, "hard"
  weighting): weight ``f(x) = (1 - x)^k``, i.e. ``P(opponent beats main)^k``: the opponents the main agent does
  not beat are played most; ``k = 0`` is uniform.
* **snapshot schedule** (:func:`snapshot_due`): a snapshot is taken at the end of the first episode that reaches
  each multiple of ``snapshot_every`` env steps (episodes end together, so only at episode ends).
* **replacement**: adding a snapshot to a pool holding ``capacity`` snapshots evicts the *weakest* snapshot, the one
  the main agent beats most often (highest ``win_probability``; ties: the oldest). The statistics are the whole
  history of training episodes against that member (the main agent explores and changes meanwhile).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["MATCHMAKING", "Member", "OpponentPool", "matchmaking_weights", "snapshot_due"]

MATCHMAKING = ("uniform", "latest", "pfsp")


def matchmaking_weights(win_probabilities: Sequence[float], kind: str, *, k: float = 2.0,
                        is_snapshot: Sequence[bool] | None = None) -> np.ndarray:
    """Probabilities of drawing each pool member as the next opponent (module doc).

    Args:
        win_probabilities: the main agent's probability of beating each member, in ``[0, 1]``.
        kind: ``"uniform"``, ``"latest"`` or ``"pfsp"``.
        k: pfsp's exponent (>= 0).
        is_snapshot: which members are snapshots, in the order they were added (``"latest"`` takes the last
            ``True``); default none.
    """
    x = np.asarray(win_probabilities, float)
    if x.ndim != 1 or x.size < 1 or not np.all((x >= 0) & (x <= 1)):
        raise ValueError(f"win_probabilities={win_probabilities!r} is not allowed: expected at least one "
                         "probability in [0, 1]")
    if kind not in MATCHMAKING:
        raise ValueError(f"kind={kind!r} is not allowed: expected one of {MATCHMAKING}")
    if isinstance(k, bool) or not isinstance(k, (int, float, np.number)) or not 0 <= k < np.inf:
        raise ValueError(f"k={k!r} is not allowed: expected a finite number >= 0")
    snap = np.zeros(x.size, bool) if is_snapshot is None else np.asarray(is_snapshot, bool)
    if snap.shape != x.shape:
        raise ValueError(f"is_snapshot={is_snapshot!r} is not allowed: expected one bool per member ({x.size})")
    if kind == "uniform":
        w = np.ones(x.size)
    elif kind == "latest":
        w = np.zeros(x.size)
        if snap.any():
            w[np.flatnonzero(snap)[-1]] = 1.0
        else:
            w[:] = 1.0
    else:
        w = (1.0 - x) ** float(k)
        if w.sum() <= 0:  # the main agent surely beats everyone: no priority left, play them alike
            w = np.ones(x.size)
    return w / w.sum()


def snapshot_due(steps_before: int, steps_after: int, every: int) -> bool:
    """Whether an episode ending at ``steps_after`` env steps (the previous one at ``steps_before``) reaches a new
    multiple of ``every``."""
    return steps_after // every > steps_before // every


class _Running:
    """Welford's running mean and variance of a stream of numbers."""

    def __init__(self) -> None:
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        for v in np.asarray(values, float).ravel():  # sequential: the same numbers in any batch split
            self.count += 1
            delta = v - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (v - self.mean)

    def interval(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """Mean and Student-t interval (NaN half-width below 2 samples)."""
        if self.count < 2:
            return self.mean if self.count else np.nan, np.nan, np.nan
        half = stats.t.ppf(0.5 + confidence / 2, self.count - 1) * np.sqrt(self.m2 / (self.count - 1) / self.count)
        return self.mean, self.mean - float(half), self.mean + float(half)

    def state(self) -> list[float]:
        return [float(self.count), self.mean, self.m2]

    @classmethod
    def from_state(cls, s: Sequence[float]) -> _Running:
        r = cls()
        r.count, r.mean, r.m2 = int(s[0]), float(s[1]), float(s[2])
        return r


@dataclasses.dataclass
class Member:
    """One pool member: ``name``, the strategy played in the opponents' seats, whether it is a snapshot and the env
    step it was added at; the main agent's results against it (module doc)."""

    name: str
    strategy: Any
    snapshot: bool
    added_at: int
    pnl: _Running = dataclasses.field(default_factory=_Running)
    advantage: _Running = dataclasses.field(default_factory=_Running)
    wins: float = 0.0

    @property
    def episodes(self) -> int:
        return self.pnl.count

    @property
    def win_probability(self) -> float:
        return (self.wins + 1.0) / (self.episodes + 2.0)

    def record(self, main_pnl: np.ndarray, opponent_pnl: np.ndarray) -> None:
        """Add training episodes: the main agent's PnL and the opponents' (mean over their seats)."""
        main_pnl, opponent_pnl = np.asarray(main_pnl, float), np.asarray(opponent_pnl, float)
        self.pnl.add(main_pnl)
        self.advantage.add(main_pnl - opponent_pnl)
        self.wins += float(np.sum(main_pnl > opponent_pnl) + 0.5 * np.sum(main_pnl == opponent_pnl))

    def summary(self) -> dict[str, Any]:
        """Name, kind, episodes, win probability and the 95% intervals of the main agent's PnL and PnL difference."""
        return {"name": self.name, "snapshot": self.snapshot, "added_at": self.added_at, "episodes": self.episodes,
                "win_probability": self.win_probability, "pnl": self.pnl.interval(),
                "advantage": self.advantage.interval()}


class OpponentPool:
    """Rule traders and up to ``capacity`` snapshots of the main agent, with matchmaking (module doc)."""

    def __init__(self, rule_traders: Sequence[Any], names: Sequence[str], *, capacity: int, matchmaking: str,
                 pfsp_k: float = 2.0) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity={capacity!r} is not allowed: expected an int >= 1")
        if len(rule_traders) != len(names) or len(set(names)) != len(names):
            raise ValueError(f"names={list(names)!r} is not allowed: expected one distinct name per rule trader")
        matchmaking_weights([0.5], matchmaking, k=pfsp_k)  # validates kind and k
        self.capacity, self.matchmaking, self.pfsp_k = int(capacity), matchmaking, pfsp_k
        self.members = [Member(n, t, False, 0) for n, t in zip(names, rule_traders)]
        self.evicted: list[dict[str, Any]] = []

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    @property
    def strategies(self) -> list[Any]:
        return [m.strategy for m in self.members]

    def weights(self) -> np.ndarray:
        """The current matchmaking probabilities of the members."""
        return matchmaking_weights([m.win_probability for m in self.members], self.matchmaking, k=self.pfsp_k,
                                   is_snapshot=[m.snapshot for m in self.members])

    def add_snapshot(self, name: str, strategy: Any, step: int) -> Member | None:
        """Add a snapshot; when the pool holds ``capacity`` snapshots, first evict the weakest (highest win
        probability of the main agent, ties the oldest) and return it."""
        if name in self.names:
            raise ValueError(f"name={name!r} is not allowed: the pool already has a member of that name")
        out = None
        snaps = [i for i, m in enumerate(self.members) if m.snapshot]
        if len(snaps) >= self.capacity:
            # max() keeps the first of equal keys: members are in the order added, so ties evict the oldest
            weakest = max(snaps, key=lambda i: self.members[i].win_probability)
            out = self.members.pop(weakest)
            self.evicted.append({**out.summary(), "evicted_at": int(step)})
        self.members.append(Member(name, strategy, True, int(step)))
        return out

    def record(self, index: np.ndarray, main_pnl: np.ndarray, opponent_pnl: np.ndarray) -> None:
        """Add one episode per market: market ``b`` played member ``index[b]``."""
        for k, member in enumerate(self.members):
            rows = np.flatnonzero(np.asarray(index) == k)
            if rows.size:
                member.record(main_pnl[rows], opponent_pnl[rows])

    def table(self) -> list[dict[str, Any]]:
        """Every member's :meth:`Member.summary`."""
        return [m.summary() for m in self.members]

    def stats_state(self) -> list[dict[str, Any]]:
        """JSON of the members' statistics (the strategies are saved by the caller)."""
        return [{"name": m.name, "snapshot": m.snapshot, "added_at": m.added_at, "pnl": m.pnl.state(),
                 "advantage": m.advantage.state(), "wins": m.wins} for m in self.members]

    def restore(self, state: Sequence[dict[str, Any]], strategies: dict[str, Any], evicted: list[dict[str, Any]]
                ) -> None:
        """Inverse of :meth:`stats_state`; ``strategies`` maps every member's name to its strategy."""
        self.members = [Member(s["name"], strategies[s["name"]], bool(s["snapshot"]), int(s["added_at"]),
                               _Running.from_state(s["pnl"]), _Running.from_state(s["advantage"]),
                               float(s["wins"])) for s in state]
        self.evicted = list(evicted)
