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
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

from marketgames.seeding import SeedLike, seed_sequence
from solvers.empirical.backends import Backend, Task, make_backend
from solvers.empirical.checks import (FORMAT_VERSION, KIND, as_list, check_names, check_strategy, is_index,
                                      read_game_file, strategy_lists, strategy_name)
from solvers.empirical.simulate import BatchStats, OpenSpielSimulator, SimulationSpec, Simulator

logger = logging.getLogger(__name__)

__all__ = ["CellStats", "EmpiricalGame"]



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

        # validate every argument before anything is loaded or stored
        if isinstance(imports, (str, bytes)):
            raise TypeError(f"imports={imports!r} is not allowed: expected a sequence of module names")
        imports = tuple(as_list(imports, "imports", "a sequence of module names"))
        if isinstance(confidence, (bool, np.bool_)) or not isinstance(confidence, (int, float, np.number)) \
                or not 0 < confidence < 1:
            raise ValueError(f"confidence={confidence!r} is not allowed: expected a number in (0, 1)")
        if isinstance(game, str):
            for module in imports:
                __import__(module)
            try:
                game = pyspiel.load_game(game)
            except pyspiel.SpielError as exc:
                raise ValueError(f"game={game!r} could not be loaded: {exc}") from None
        if not isinstance(game, pyspiel.Game):
            raise TypeError(f"game={game!r}; pass a pyspiel.Game or a game string")
        n = int(game.num_players())
        strategies, checked_names, roles = strategy_lists(strategies, n_players=n, game_string=str(game),
                                                          symmetric=symmetric, roles=roles, names=names)
        simulator = OpenSpielSimulator() if simulator is None else simulator
        if not isinstance(simulator, Simulator):
            raise TypeError(f"simulator={simulator!r}; pass an object with check(game, strategies) and "
                            "returns(game, seats, episodes, rng) (see solvers.empirical.simulate.Simulator)")
        for lst in strategies:
            if not any(isinstance(s, _Unavailable) for s in lst):
                simulator.check(game, lst)

        module = type(game).__module__
        extra = () if module in ("pyspiel", "builtins") or module.startswith("pyspiel") else (module,)
        self.game_string = str(game)
        self.imports = tuple(dict.fromkeys(imports + extra))
        self.n_players = n
        self.confidence = float(confidence)
        self.symmetric = bool(symmetric)
        self.keep_samples = bool(keep_samples)
        self.root = seed_sequence(seed)
        self.roles = tuple(int(r) for r in roles)
        self._role_players = [tuple(int(p) for p in np.flatnonzero(np.asarray(self.roles) == r))
                              for r in range(len(strategies))]
        self._strategies: list[list[Any]] = [list(lst) for lst in strategies]
        self._names: list[list[str]] = checked_names
        self.simulator = simulator
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

    def _player(self, player: Any, where: str = "player") -> int:
        if not is_index(player) or not 0 <= player < self.n_players:
            raise ValueError(f"{where}={player!r} is not allowed: expected a player index in [0, {self.n_players})")
        return int(player)

    def _profile(self, profile: Any) -> tuple[int, ...]:
        """A pure profile: one strategy index (an int, not a bool or float) per player, each in range."""
        allowed = f"one strategy index per player, sizes {self.num_strategies}"
        items = as_list(profile, "profile", allowed)
        if len(items) != self.n_players or not all(is_index(a) for a in items) \
                or any(not 0 <= a < s for a, s in zip(items, self.num_strategies)):
            raise ValueError(f"profile={profile!r} is not allowed: expected {allowed}")
        return tuple(int(a) for a in items)

    def strategies(self, player: int = 0) -> list[Any]:
        """Player ``player``'s strategies (its role's)."""
        return list(self._strategies[self.roles[self._player(player)]])

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
        returns its index. Existing cells keep their samples; the next :meth:`sample` evaluates only new cells.
        A rejected call changes nothing."""
        check_strategy(strategy, "strategy")
        n_roles = len(self._strategies)
        if self.symmetric:
            if player is not None or not (role is None or (is_index(role) and role == 0)):
                raise ValueError(f"player={player!r}, role={role!r}; a symmetric game shares one strategy list (pass "
                                 "neither)")
            p = 0
        elif (player is None) == (role is None):
            raise ValueError(f"player={player!r}, role={role!r}; pass exactly one of them")
        elif player is not None:
            p = self.roles[self._player(player)]
        else:
            if not is_index(role) or not 0 <= role < n_roles:
                raise ValueError(f"role={role!r} is not allowed: expected a role index in [0, {n_roles})")
            p = int(role)
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name={name!r} is not allowed: expected a non-empty string or None")
        new_name = name if name is not None else strategy_name(strategy, len(self._strategies[p]))
        if new_name in self._names[p]:
            if name is not None:
                raise ValueError(f"name={name!r} is not allowed: role {p} already has a strategy of that name "
                                 f"({self._names[p]!r})")
            new_name = f"{new_name}_{len(self._strategies[p])}"
            check_names(self._names[p] + [new_name], "name")
        self.simulator.check(self._game, [strategy])
        self._strategies[p].append(strategy)
        self._names[p].append(new_name)
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

    def _half_width(self, c: _Cell | None) -> np.ndarray:
        if c is None or c.count < 2:
            return np.full(self.n_players, np.inf)
        return self._z * np.sqrt(c.m2 / (c.count - 1) / c.count)

    def cell_stats(self, profile: Sequence[int]) -> CellStats:
        """Statistics of a pure profile (per player, in seat order)."""
        key, order = self._key(self._profile(profile))
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
        key, order = self._key(self._profile(profile))
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
        counts = {"min_samples": min_samples, "batch_size": batch_size, "max_samples": max_samples}
        for arg, value in counts.items():
            if not is_index(value):
                raise ValueError(f"{arg}={value!r} is not allowed: expected an int")
        if min_samples < 2 or batch_size < 1 or max_samples < min_samples:
            raise ValueError(f"need min_samples={min_samples} >= 2, batch_size={batch_size} >= 1 and "
                             f"max_samples={max_samples} >= min_samples")
        if target_half_width is not None and (isinstance(target_half_width, (bool, np.bool_))
                                              or not isinstance(target_half_width, (int, float, np.number))
                                              or not 0 < target_half_width < np.inf):
            raise ValueError(f"target_half_width={target_half_width!r}; must be a finite number > 0 or None")
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
            "kind": KIND, "format": FORMAT_VERSION, "game": self.game_string, "imports": list(self.imports),
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
        """Write a JSON file (sample counts, means, sums of squares, names, seed); strategies are not saved. The
        file is written under a temporary name and renamed when complete, so an interrupted save leaves the old
        file (or none), never a truncated one."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(self.to_dict()))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path, *, strategies: Sequence | None = None,
             simulator: Simulator | None = None) -> "EmpiricalGame":
        """Read a file written by :meth:`save`. Without ``strategies`` the statistics are available but cells
        cannot be sampled further; with them (same nesting and order as saved) and the same ``simulator`` (the
        file records its name) sampling continues where it stopped, with the same seeds.

        Raises:
            ValueError: the file is empty, truncated, not JSON, of another kind or format version, or its contents
                are inconsistent (the message names the path and what is wrong).
        """
        data = read_game_file(Path(path))
        names = data["names"]
        given = strategies is not None
        if strategies is not None:
            shape = [len(lst) for lst in names]
            nested = [strategies] if data["symmetric"] else strategies
            try:
                got = [len(lst) for lst in nested]
            except TypeError:
                got = None
            if got != shape:
                raise ValueError(f"strategies do not match {path}: it holds {shape} strategies per "
                                 f"{'list (symmetric)' if data['symmetric'] else 'list'}; pass the same nesting and "
                                 "order as saved")
        else:
            strategies = [[_Unavailable(n) for n in lst] for lst in names]
            strategies = strategies[0] if data["symmetric"] else strategies
        seed = np.random.SeedSequence(int(data["seed"]["entropy"]), spawn_key=tuple(data["seed"]["spawn_key"]))
        roles = None if data["symmetric"] else data["roles"]
        try:
            game = cls(data["game"], strategies, symmetric=data["symmetric"], roles=roles,
                       names=names[0] if data["symmetric"] else names, seed=seed, imports=data["imports"],
                       keep_samples=data["keep_samples"], confidence=data["confidence"], simulator=simulator)
        except (ValueError, TypeError) as exc:
            if given:
                raise
            raise ValueError(f"{path} is not a consistent EmpiricalGame file: {exc}") from None
        if game.n_players != data["n_players"]:
            raise ValueError(f"{path} is not a consistent EmpiricalGame file: n_players={data['n_players']} but "
                             f"{data['game']} has {game.n_players} players")
        saved = data.get("simulator", "openspiel")
        used = getattr(game.simulator, "name", type(game.simulator).__name__)
        if given and saved != used:
            logger.warning("%s was sampled with simulator %r; continuing with %r mixes two random streams",
                           path, saved, used)
        valid = set(game.cells())
        cells: dict[tuple[int, ...], _Cell] = {}
        for k, cell in enumerate(data["cells"]):
            try:
                key = tuple(int(a) for a in cell["cell"])
                c = _Cell(int(cell["count"]), np.array(cell["mean"], float), np.array(cell["m2"], float),
                          int(cell["batches"]))
                if "samples" in cell:
                    c.samples = [np.array(cell["samples"], float).reshape(-1, game.n_players)]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: cells[{k}] is malformed ({type(exc).__name__}: {exc})") from None
            if (key not in valid or key in cells or c.count < 0 or c.batches < 0
                    or c.mean.shape != (game.n_players,) or c.m2.shape != (game.n_players,)):
                raise ValueError(f"{path}: cells[{k}] is not allowed: expected a distinct cell of {game!r} with "
                                 f"count, batches >= 0 and {game.n_players} means and sums of squares")
            cells[key] = c
        game._cells = cells
        return game

    def __repr__(self) -> str:
        return (f"EmpiricalGame({self.game_string!r}, strategies={self.num_strategies}, roles={self.roles}, "
                f"sampled={len(self._cells)}/{len(self.cells())} cells)")
