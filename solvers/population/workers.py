"""Where population members train and are evaluated: in this process, in a local process pool, or in Ray actors.

A generation is synchronous: :meth:`Workers.map` runs one task per member and returns the results in task order, so
the generation loop (:class:`solvers.population.pbt.PBT`) is the only scheduler. A task is a pure function of its
arguments -- the member's checkpoint bytes, its hyper-parameters and keyed seeds (the scheme of
:mod:`solvers.empirical.backends`) -- and runs with one torch thread, so its numbers do not depend on the backend,
the number of workers or which worker runs it. The empirical game of a generation is sampled by the matching
:mod:`solvers.empirical.backends` backend (:meth:`Workers.simulation_backend`).
"""
from __future__ import annotations

import abc
import contextlib
import dataclasses
import multiprocessing as mp
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyspiel
import torch

from solvers.empirical.backends import Backend, SerialBackend, Task, _chunks, _context, run_tasks
from solvers.empirical.simulate import BatchStats, SimulationSpec

__all__ = ["BACKENDS", "MapBackend", "ProcessWorkers", "RayWorkers", "SerialWorkers", "TrainResult", "TrainTask", "Workers",
           "make_workers", "train_member", "torch_threads"]

BACKENDS = ("serial", "process", "ray")


# imported once by the fork server and inherited by every worker process (only effective before it starts)
_PRELOAD = ["numpy", "torch", "pyspiel", "numba", "marketgames", "solvers.empirical.backends", "solvers.marl",
            "solvers.population.workers"]


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the body with ``n`` torch threads (restored after): the same sums in every worker. The batched
    market's numba kernels also run on one thread inside (their results do not depend on it), so a task uses one
    core whichever backend runs it."""
    import numba

    before, before_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(before)
        numba.set_num_threads(before_numba)


@dataclasses.dataclass(frozen=True)
class TrainTask:
    """One member's training in one generation.

    Attributes:
        game_string: the ``python_lob_market`` game (workers load it after importing ``marketgames``).
        opponents: seat-1 opponents of the training markets: rule trader specs (str) or picklable
            :class:`~marketgames.market.payoffs.BatchPolicy` snapshots (other members).
        config: the learner's :class:`~solvers.marl.IndependentDQNConfig` (the member's hyper-parameters applied).
        checkpoint: the member's learner checkpoint (bytes of :meth:`solvers.marl.IndependentDQN.save`), or
            ``None`` for a new learner.
        learner_seed: seeds a new learner's networks and generators (unused with a checkpoint: restored).
        env_seed: seeds this generation's training markets.
        steps: env steps of training.
    """

    game_string: str
    opponents: tuple[Any, ...]
    config: Any
    checkpoint: bytes | None
    learner_seed: np.random.SeedSequence
    env_seed: np.random.SeedSequence
    steps: int


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a :class:`TrainTask` returns: the new checkpoint, the greedy snapshot policy (seat 0), the mean
    return of the training episodes that ended and the learner's total env steps."""

    checkpoint: bytes
    policy: Any
    mean_return: float
    env_steps: int


def _load_game(game_string: str) -> pyspiel.Game:
    import marketgames  # noqa: F401  (registers python_lob_market in a fresh worker)

    return pyspiel.load_game(game_string)


def apply_config(learner: Any, config: Any) -> None:
    """Give a loaded :class:`~solvers.marl.IndependentDQN` the hyper-parameters of ``config`` (same network
    shapes): its config, each DQN's config (discount, exploration) and the optimisers' learning rate, which a
    restored optimiser state would otherwise keep."""
    if tuple(config.dqn.hidden) != tuple(learner.config.dqn.hidden):
        raise ValueError(f"config.dqn.hidden={config.dqn.hidden!r} does not match the learner's "
                         f"{learner.config.dqn.hidden!r}: weights cannot be copied across widths")
    learner.config = config
    for dqn in learner.dqns:
        dqn.config = config.dqn
        for group in dqn.optimizer.param_groups:
            group["lr"] = config.dqn.learning_rate


def learner_from(game: pyspiel.Game, opponents: Sequence[Any], config: Any, checkpoint: bytes | None,
                 learner_seed: np.random.SeedSequence, env_seed: np.random.SeedSequence) -> Any:
    """An :class:`~solvers.marl.IndependentDQN` in seat 0 of fresh training markets against ``opponents``
    (specs are built as seat-1 rule traders), restored from ``checkpoint`` when given, with ``config`` applied."""
    from marketgames.traders import make_trader
    from solvers.marl import IndependentDQN
    from solvers.marl.opponents import RuleOpponentsEnv

    seats = [make_trader(o, game, player_ids=[1]) if isinstance(o, str) else o for o in opponents]
    env = RuleOpponentsEnv(game, seats, config.num_envs, seed=env_seed)
    learner = IndependentDQN(env, config, seed=learner_seed)
    if checkpoint is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "member.ckpt"
            path.write_bytes(checkpoint)
            learner.load(path)
        apply_config(learner, config)
    return learner


def learner_bytes(learner: Any) -> bytes:
    """A learner's checkpoint as bytes (written to a temporary file by its own :meth:`save`)."""
    with tempfile.TemporaryDirectory() as tmp:
        return learner.save(Path(tmp) / "member.ckpt").read_bytes()


def train_member(task: TrainTask) -> TrainResult:
    """Run one :class:`TrainTask` (in whichever process): restore, train ``task.steps`` env steps, snapshot."""
    with torch_threads(1):
        game = _load_game(task.game_string)
        learner = learner_from(game, task.opponents, task.config, task.checkpoint, task.learner_seed,
                               task.env_seed)
        log = learner.train(task.steps)
        returns = log.episode_returns[:, 0]
        mean = float(returns.mean()) if returns.size else float("nan")
        return TrainResult(learner_bytes(learner), learner.policy(game, 0), mean, int(learner.env_steps))


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


class Workers(abc.ABC):
    """Runs one generation's tasks; a context manager (or :meth:`close`) releases the workers."""

    name: str = ""
    workers: int = 1

    @abc.abstractmethod
    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(item) for item in items]``, in order (``fn`` a module-level function, items picklable)."""

    @abc.abstractmethod
    def simulation_backend(self) -> Backend:
        """The :mod:`solvers.empirical.backends` backend that samples the generation's empirical game."""

    def close(self) -> None:  # noqa: B027  (a hook with a default)
        """Release workers (no-op by default)."""

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialWorkers(Workers):
    """Everything in this process."""

    name = "serial"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(item) for item in items]

    def simulation_backend(self) -> Backend:
        return SerialBackend()


class ProcessWorkers(Workers):
    """A local pool of ``workers`` processes (``forkserver``, as :class:`solvers.empirical.ProcessPoolBackend`),
    started on first use and kept until :meth:`close`; training tasks and the empirical game's batches
    (:class:`MapBackend`) share it, so workers start once."""

    name = "process"

    def __init__(self, workers: int = 2, *, mp_context: str | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r} is not allowed: expected an int >= 1")
        methods = mp.get_all_start_methods()
        self.mp_context = mp_context or ("forkserver" if "forkserver" in methods else "spawn")
        if self.mp_context not in methods:
            raise ValueError(f"mp_context={self.mp_context!r} is not allowed: expected one of {methods}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if self._pool is None:
            ctx = _context(self.mp_context)
            if self.mp_context == "forkserver":
                ctx.set_forkserver_preload(_PRELOAD)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        return list(self._pool.map(_call, [fn] * len(items), items))

    def simulation_backend(self) -> Backend:
        return MapBackend(self)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _Actor:
    """A Ray actor that runs tasks (one torch thread each, set by the task itself)."""

    def run(self, fn: Callable[[Any], Any], item: Any) -> Any:
        return fn(item)


class RayWorkers(Workers):
    """``workers`` Ray actors (a local Ray started here when none is running, with the project on the workers'
    ``PYTHONPATH``, as :class:`solvers.empirical.RayBackend` does); task ``k`` goes to actor ``k % workers``. The
    empirical game's batches run on the same actors (:class:`MapBackend`)."""

    name = "ray"

    def __init__(self, workers: int = 2, *, address: str | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r} is not allowed: expected an int >= 1")
        import ray

        self._ray = ray
        if not ray.is_initialized():  # as solvers.empirical.RayBackend starts a local Ray
            root = str(Path(__file__).resolve().parents[2])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            ray.init(address=address, num_cpus=workers if address is None else None, include_dashboard=False,
                     log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
        self.workers = workers
        remote = ray.remote(num_cpus=1)(_Actor)
        self._actors = [remote.remote() for _ in range(workers)]

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        fn_ref = self._ray.put(fn)
        refs = [self._actors[k % self.workers].run.remote(fn_ref, item) for k, item in enumerate(items)]
        return list(self._ray.get(refs))

    def simulation_backend(self) -> Backend:
        return MapBackend(self)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []


def _run_chunk(args: tuple[SimulationSpec, np.random.SeedSequence, list[Task]]) -> list[BatchStats]:
    spec, root, tasks = args
    with torch_threads(1):  # one core per worker: 2 workers x 2 numba/torch threads each would oversubscribe 2 cores
        return run_tasks(spec, root, tasks)


class MapBackend(Backend):
    """The empirical game's batches on a :class:`Workers`' own processes or actors: chunks of tasks through
    :meth:`Workers.map`, each run by :func:`solvers.empirical.backends.run_tasks` (the batches' keyed seeds: the
    numbers of every other backend)."""

    def __init__(self, workers: Workers, *, chunks_per_worker: int = 2) -> None:
        self._runner = workers
        self.workers = workers.workers
        self.chunks_per_worker = chunks_per_worker

    def run(self, spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task], *,
            progress: bool = False) -> list[BatchStats]:
        chunks = _chunks(tasks, self.workers * self.chunks_per_worker)
        results = self._runner.map(_run_chunk, [(spec, root, [t for _, t in chunk]) for chunk in chunks])
        return [stats for part in results for stats in part]


def make_workers(backend: str | None = None, *, workers: int = 1, address: str | None = None) -> Workers:
    """``None`` -> ``"serial"`` for ``workers == 1`` else ``"process"``; ``"serial"``, ``"process"``, ``"ray"``."""
    if backend is None:
        backend = "serial" if workers <= 1 else "process"
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not allowed: expected one of {BACKENDS} or None")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} is not allowed: expected an int >= 1")
    if backend == "serial":
        return SerialWorkers()
    if backend == "process":
        return ProcessWorkers(workers)
    return RayWorkers(workers, address=address)

