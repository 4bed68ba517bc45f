"""Empirical games: payoffs of strategy profiles on any OpenSpiel game, estimated by simulation.

An empirical game (Wellman, 2006, "Methods for empirical game-theoretic analysis") holds, for every profile of
the given strategies, the mean return per player with its standard error, a normal-approximation confidence
interval and the sample count. Sampling is adaptive: cells get batches until the CI half-width of every player is
<= ``target_half_width`` or ``max_samples`` is reached.

Players can share roles (Wellman 2006; "role-symmetric games"): the players of a role draw from one strategy set and
are interchangeable, so a cell holds, per role, a multiset of strategies, and each episode seats the role's
strategies in a random order among its players. ``symmetric=True`` is one role for everyone; the default is one
role per player (a plain normal-form game). Payoff tensors are always per player, ``(n, S_1, ..., S_n)``.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

from marketgames.seeding import SeedLike, seed_sequence
from solvers.empirical.backends import Backend, Task, make_backend
from solvers.empirical.simulate import BatchStats, OpenSpielSimulator, SimulationSpec, Simulator

logger = logging.getLogger(__name__)

__all__ = ["CellStats", "EmpiricalGame"]

FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class CellStats:
    """One profile's statistics, each of shape ``(n_players,)`` (NaN when not sampled)."""

    mean: np.ndarray
    standard_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    count: int


@dataclasses.dataclass
class _Cell:
    count: int
    mean: np.ndarray
    m2: np.ndarray
    batches: int
    samples: list = dataclasses.field(default_factory=list)

    def merge(self, b: BatchStats) -> None:
        """Chan, Golub & LeVeque (1979) pairwise update of count, mean and M2."""
        n = self.count + b.count
        delta = b.mean - self.mean
        self.mean = self.mean + delta * (b.count / n)
        self.m2 = self.m2 + b.m2 + delta ** 2 * (self.count * b.count / n)
        self.count = n
        self.batches += 1
        if b.samples is not None:
            self.samples.append(b.samples)


class _Unavailable:
    """Stands for a strategy of a loaded game whose object was not supplied (its cells cannot be re-sampled)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def action_probabilities(self, state, player_id=None):
        raise RuntimeError(f"strategy {self.name!r} was loaded from disk without its object; pass strategies= to "
                           "EmpiricalGame.load to sample more")


def _check_strategy(s: Any, where: str) -> None:
    if not callable(getattr(s, "action_probabilities", None)):
        raise TypeError(f"{where}={s!r} has no action_probabilities(state, player_id); pass an OpenSpiel "
                        "policy.Policy or an object with that method")


def _name(s: Any, k: int) -> str:
    return str(getattr(s, "name", None) or f"{type(s).__name__}_{k}")


class EmpiricalGame:
    """Payoff estimates for every profile of ``strategies`` on ``game``.

    Args:
        game: an OpenSpiel game or its string (``"kuhn_poker"``, ``"leduc_poker(players=3)"``); workers load it
            from ``str(game)``. Python games are re-registered in workers by importing ``imports`` (the game
            class's module is added automatically).
        strategies: ``strategies[p]`` = player ``p``'s list; with ``roles``, ``strategies[r]`` = role ``r``'s list;
            with ``symmetric=True``, one list shared by all players. Each needs ``action_probabilities(state,
            player_id)`` and must pickle (for workers).
        symmetric: one role for all players: cells are multisets of strategies, seats shuffled every episode.
        roles: ``roles[p]`` = player ``p``'s role, ``0 .. R-1`` (e.g. ``[0, 0, 1, 1, 1]``: two market makers and
            three directional traders); players of a role are interchangeable.
        names: strategy names (same nesting as ``strategies``); default: each strategy's ``name`` attribute.
        seed: root of every per-cell, per-batch seed (``np.random.SeedSequence``).
        keep_samples: also store every episode's returns (for bootstrap from raw samples).
        confidence: level of the normal-approximation confidence intervals.
        simulator: what plays the episodes (:class:`~solvers.empirical.simulate.Simulator`); default the OpenSpiel
            loop (:class:`~solvers.empirical.simulate.OpenSpielSimulator`), which works on any game. A game with a
            batched engine may supply a faster one (``marketgames.market.payoffs.BatchedMarketSimulator``); it
            checks the strategies here and refuses those it cannot play. Its numbers differ from the loop's (other
            random streams) but estimate the same payoffs.
    """

    def __init__(self, game: Any, strategies: Sequence, *, symmetric: bool = False,
                 roles: Sequence[int] | None = None, names: Sequence | None = None, seed: SeedLike = 0,
                 imports: Sequence[str] = (), keep_samples: bool = False, confidence: float = 0.95,
                 simulator: Simulator | None = None) -> None:
        import pyspiel

        if isinstance(game, str):
            for module in imports:
                __import__(module)
            game = pyspiel.load_game(game)
        if not isinstance(game, pyspiel.Game):
            raise TypeError(f"game={game!r}; pass a pyspiel.Game or a game string")
        module = type(game).__module__
        extra = () if module in ("pyspiel", "builtins") or module.startswith("pyspiel") else (module,)
        self.game_string = str(game)
        self.imports = tuple(dict.fromkeys(tuple(imports) + extra))
        self.n_players = int(game.num_players())
        if not 0 < confidence < 1:
            raise ValueError(f"confidence={confidence}; must be in (0, 1)")
        self.confidence = float(confidence)
        self.symmetric = bool(symmetric)
        self.keep_samples = bool(keep_samples)
        self.root = seed_sequence(seed)
        n = self.n_players
        if self.symmetric:
            if roles is not None:
                raise ValueError(f"roles={list(roles)!r} with symmetric=True; pass one of them (symmetric=True is "
                                 "roles=[0] * players)")
            strategies = [list(strategies)]
            names = [list(names)] if names is not None else None
            roles = [0] * n
        else:
            strategies = [list(s) for s in strategies]
            if roles is None:
                roles = list(range(n))
                if len(strategies) != n:
                    raise ValueError(f"strategies has {len(strategies)} lists; {self.game_string} has {n} players "
                                     "(use symmetric=True for one shared list, or roles=)")
            else:
                roles = list(roles)
                if (len(roles) != n or any(isinstance(r, bool) or not isinstance(r, (int, np.integer)) for r in roles)
                        or sorted(set(roles)) != list(range(len(set(roles))))):
                    raise ValueError(f"roles={roles!r} is not allowed: expected one role per player ({n}), numbered "
                                     "0 .. R-1 with every role used")
                if len(strategies) != len(set(roles)):
                    raise ValueError(f"strategies has {len(strategies)} lists; roles={roles!r} names "
                                     f"{len(set(roles))} roles (one list per role)")
        self.roles = tuple(int(r) for r in roles)
        self._role_players = [tuple(int(p) for p in np.flatnonzero(np.asarray(self.roles) == r))
                              for r in range(len(strategies))]
        self._strategies: list[list[Any]] = []
        self._names: list[list[str]] = []
        for p, lst in enumerate(strategies):
            if not lst:
                raise ValueError(f"strategies[{p}] is empty; every player needs at least one strategy")
            for k, s in enumerate(lst):
                _check_strategy(s, f"strategies[{p}][{k}]")
            nm = [str(x) for x in names[p]] if names is not None else [_name(s, k) for k, s in enumerate(lst)]
            if len(nm) != len(lst):
                raise ValueError(f"names[{p}] has {len(nm)} entries for {len(lst)} strategies")
            self._strategies.append(lst)
            self._names.append(nm)
        self.simulator = OpenSpielSimulator() if simulator is None else simulator
        if not isinstance(self.simulator, Simulator):
            raise TypeError(f"simulator={simulator!r}; pass an object with check(game, strategies) and "
                            "returns(game, seats, episodes, rng) (see solvers.empirical.simulate.Simulator)")
        for lst in self._strategies:
            if not any(isinstance(s, _Unavailable) for s in lst):
                self.simulator.check(game, lst)
        self._game = game
        self._cells: dict[tuple[int, ...], _Cell] = {}

    # ----------------------------------------------------------------------------------------------- structure
    @property
    def num_strategies(self) -> tuple[int, ...]:
        """Strategies per player, ``(S_1, ..., S_n)``."""
        return tuple(len(self._strategies[r]) for r in self.roles)

    @property
    def names(self) -> list[list[str]]:
        """Strategy names per player."""
        return [list(self._names[r]) for r in self.roles]

    def strategies(self, player: int = 0) -> list[Any]:
        """Player ``player``'s strategies (its role's)."""
        return list(self._strategies[self.roles[player]])

    def cells(self) -> list[tuple[int, ...]]:
        """All cells: pure profiles whose strategies are sorted within each role (a multiset per role)."""
        per_role = [itertools.combinations_with_replacement(range(len(self._strategies[r])), len(players))
                    for r, players in enumerate(self._role_players)]
        out = []
        for combo in itertools.product(*per_role):
            cell = [0] * self.n_players
            for players, multiset in zip(self._role_players, combo):
                for p, k in zip(players, multiset):
                    cell[p] = k
            out.append(tuple(cell))
        return out

    def add_strategy(self, strategy: Any, *, player: int | None = None, role: int | None = None,
                     name: str | None = None) -> int:
        """Add a strategy to ``player``'s role (or to ``role``; in a symmetric game to everyone, with neither);
        returns its index. Existing cells keep their samples; the next :meth:`sample` evaluates only new cells."""
        _check_strategy(strategy, "strategy")
        self.simulator.check(self._game, [strategy])
        n_roles = len(self._strategies)
        if self.symmetric:
            if player is not None or role not in (None, 0):
                raise ValueError(f"player={player}, role={role}; a symmetric game shares one strategy list (pass "
                                 "neither)")
            p = 0
        elif (player is None) == (role is None):
            raise ValueError(f"player={player}, role={role}; pass exactly one of them")
        elif player is not None:
            if not 0 <= player < self.n_players:
                raise ValueError(f"player={player}; pass a player in [0, {self.n_players})")
            p = self.roles[player]
        else:
            if not 0 <= role < n_roles:
                raise ValueError(f"role={role}; pass a role in [0, {n_roles})")
            p = role
        self._strategies[p].append(strategy)
        self._names[p].append(name or _name(strategy, len(self._strategies[p]) - 1))
        return len(self._strategies[p]) - 1

    def _spec(self) -> SimulationSpec:
        strategies = tuple(tuple(s) for s in self._strategies)
        return SimulationSpec(game_string=self.game_string, strategies=strategies, roles=self.roles,
                              n_players=self.n_players, imports=self.imports, keep_samples=self.keep_samples,
                              simulator=self.simulator)

    # -------------------------------------------------------------------------------------------- statistics
    @property
    def _z(self) -> float:
        return float(sps.norm.ppf(0.5 + self.confidence / 2))

    def _half_width(self, c: _Cell) -> np.ndarray:
        if c.count < 2:
            return np.full(self.n_players, np.inf)
        return self._z * np.sqrt(c.m2 / (c.count - 1) / c.count)

    def cell_stats(self, profile: Sequence[int]) -> CellStats:
        """Statistics of a pure profile (per player, in seat order)."""
        key, order = self._key(tuple(int(a) for a in profile))
        c = self._cells.get(key)
        nan = np.full(self.n_players, np.nan)
        if c is None:
            return CellStats(nan, nan, nan, nan, 0)
        mean = c.mean[order]
        se = np.sqrt(c.m2 / (c.count - 1) / c.count)[order] if c.count > 1 else nan
        hw = self._z * se
        return CellStats(mean, se, mean - hw, mean + hw, c.count)

    def _key(self, profile: tuple[int, ...]) -> tuple[tuple[int, ...], np.ndarray]:
        if len(profile) != self.n_players or any(not 0 <= a < s for a, s in zip(profile, self.num_strategies)):
            raise ValueError(f"profile={profile} is not a pure profile of sizes {self.num_strategies}")
        key = list(profile)
        for players in self._role_players:
            for p, k in zip(players, sorted(profile[p] for p in players)):
                key[p] = k
        # each player reads the statistics of the first slot of its role holding its strategy
        order = np.array([next(q for q in self._role_players[self.roles[p]] if key[q] == profile[p])
                          for p in range(self.n_players)])
        return tuple(key), order

    def _tensor(self, field: str) -> np.ndarray:
        out = np.full((self.n_players,) + self.num_strategies, np.nan)
        for prof in itertools.product(*[range(s) for s in self.num_strategies]):
            st = self.cell_stats(prof)
            out[(slice(None),) + prof] = getattr(st, field)
        return out

    @property
    def payoffs(self) -> np.ndarray:
        """Mean payoffs, shape ``(n_players, S_1, ..., S_n)``; NaN where not sampled."""
        return self._tensor("mean")

    @property
    def standard_errors(self) -> np.ndarray:
        return self._tensor("standard_error")

    @property
    def ci_low(self) -> np.ndarray:
        return self._tensor("ci_low")

    @property
    def ci_high(self) -> np.ndarray:
        return self._tensor("ci_high")

    @property
    def counts(self) -> np.ndarray:
        """Samples per pure profile, shape ``(S_1, ..., S_n)``."""
        out = np.zeros(self.num_strategies, dtype=np.int64)
        for prof in itertools.product(*[range(s) for s in self.num_strategies]):
            c = self._cells.get(self._key(prof)[0])
            out[prof] = 0 if c is None else c.count
        return out

    def samples(self, profile: Sequence[int]) -> np.ndarray:
        """Every stored episode return of ``profile`` (``keep_samples=True``), shape ``(count, n_players)``."""
        key, order = self._key(tuple(int(a) for a in profile))
        c = self._cells.get(key)
        if c is None or not c.samples:
            return np.zeros((0, self.n_players))
        return np.concatenate(c.samples)[:, order]

    @property
    def complete(self) -> bool:
        """Every cell has at least 2 samples."""
        return all(k in self._cells and self._cells[k].count >= 2 for k in self.cells())

    # ------------------------------------------------------------------------------------------------ sampling
    def _plan(self, min_samples: int, batch_size: int, target: float | None, max_samples: int) -> list[Task]:
        tasks: list[Task] = []
        for key in self.cells():
            c = self._cells.get(key)
            count, done = (0, 0) if c is None else (c.count, c.batches)
            want = 0
            if count < min_samples:
                want = math.ceil((min_samples - count) / batch_size)
            elif target is not None and count < max_samples:
                hw = float(np.max(self._half_width(c)))
                if hw > target:
                    need = count * (hw / target) ** 2
                    want = max(1, math.ceil((min(need, max_samples) - count) / batch_size))
            tasks.extend((key, done + j, batch_size) for j in range(want))
        return tasks

    def sample(self, *, min_samples: int = 100, batch_size: int = 100, target_half_width: float | None = None,
               max_samples: int = 10_000, backend: str | Backend | None = None, workers: int = 1,
               address: str | None = None, progress: bool = False) -> int:
        """Sample every cell to at least ``min_samples`` episodes, then (with ``target_half_width``) add batches
        until each player's CI half-width is <= the target or the cell has ``max_samples`` (rounded up to a
        whole batch). Returns the number of episodes run. The numbers depend only on the seed and these
        arguments, never on ``backend``/``workers`` (see :mod:`solvers.empirical.backends`)."""
        if min_samples < 2 or batch_size < 1 or max_samples < min_samples:
            raise ValueError(f"need min_samples={min_samples} >= 2, batch_size={batch_size} >= 1 and "
                             f"max_samples={max_samples} >= min_samples")
        if target_half_width is not None and not target_half_width > 0:
            raise ValueError(f"target_half_width={target_half_width}; must be > 0 or None")
        owned = not isinstance(backend, Backend)
        runner = make_backend(backend, workers=workers, address=address)
        total = 0
        try:
            spec = self._spec()
            while True:
                tasks = self._plan(min_samples, batch_size, target_half_width, max_samples)
                if not tasks:
                    break
                logger.info("sampling %d batches over %d cells", len(tasks), len({t[0] for t in tasks}))
                results = runner.run(spec, self.root, tasks, progress=progress)
                for (key, b, _), stats in sorted(zip(tasks, results), key=lambda x: (x[0][0], x[0][1])):
                    cell = self._cells.setdefault(key, _Cell(0, np.zeros(self.n_players), np.zeros(self.n_players), 0))
                    if b != cell.batches:  # pragma: no cover - planning invariant
                        raise RuntimeError(f"batch {b} of cell {key} out of order")
                    cell.merge(stats)
                    total += stats.count
        finally:
            if owned:
                runner.close()
        return total

    # --------------------------------------------------------------------------------------------- save / load
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION, "game": self.game_string, "imports": list(self.imports),
            "n_players": self.n_players, "symmetric": self.symmetric, "roles": list(self.roles),
            "names": self._names,
            "seed": {"entropy": str(self.root.entropy), "spawn_key": list(self.root.spawn_key)},
            "confidence": self.confidence, "keep_samples": self.keep_samples,
            "simulator": getattr(self.simulator, "name", type(self.simulator).__name__),
            "cells": [{"cell": list(k), "count": c.count, "batches": c.batches, "mean": c.mean.tolist(),
                       "m2": c.m2.tolist(),
                       **({"samples": np.concatenate(c.samples).tolist()} if c.samples else {})}
                      for k, c in sorted(self._cells.items())],
        }

    def save(self, path: str | Path) -> Path:
        """Write a JSON file (sample counts, means, sums of squares, names, seed); strategies are not saved."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, path: str | Path, *, strategies: Sequence | None = None,
             simulator: Simulator | None = None) -> "EmpiricalGame":
        """Read a file written by :meth:`save`. Without ``strategies`` the statistics are available but cells
        cannot be sampled further; with them (same nesting and order as saved) and the same ``simulator`` (the
        file records its name) sampling continues where it stopped, with the same seeds."""
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: unknown format {data.get('format')!r}")
        names = data["names"]
        given = strategies is not None
        if not given:
            strategies = [[_Unavailable(n) for n in lst] for lst in names]
            strategies = strategies[0] if data["symmetric"] else strategies
        seed = np.random.SeedSequence(int(data["seed"]["entropy"]), spawn_key=tuple(data["seed"]["spawn_key"]))
        roles = None if data["symmetric"] else data.get("roles")
        game = cls(data["game"], strategies, symmetric=data["symmetric"], roles=roles,
                   names=names[0] if data["symmetric"] else names, seed=seed, imports=data["imports"],
                   keep_samples=data["keep_samples"], confidence=data["confidence"], simulator=simulator)
        saved = data.get("simulator", "openspiel")
        used = getattr(game.simulator, "name", type(game.simulator).__name__)
        if given and saved != used:
            logger.warning("%s was sampled with simulator %r; continuing with %r mixes two random streams",
                           path, saved, used)
        for cell in data["cells"]:
            c = _Cell(int(cell["count"]), np.array(cell["mean"], float), np.array(cell["m2"], float),
                      int(cell["batches"]))
            if "samples" in cell:
                c.samples = [np.array(cell["samples"], float)]
            game._cells[tuple(cell["cell"])] = c
        return game

    def __repr__(self) -> str:
        return (f"EmpiricalGame({self.game_string!r}, strategies={self.num_strategies}, roles={self.roles}, "
                f"sampled={len(self._cells)}/{len(self.cells())} cells)")
