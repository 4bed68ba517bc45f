"""Execution backends for payoff estimation: serial, a local process pool, and Ray. Same API, same numbers.

Every task is one batch ``(cell, batch_index, size)``; its generator is seeded from
``SeedSequence(root.entropy, spawn_key=root.spawn_key + (len(cell), *cell, batch_index))``, so a batch's
episodes depend only on the root seed, the cell and the batch index -- never on the backend, the number of
workers or the order in which tasks run. Workers receive the game as a string and load it themselves.
"""
from __future__ import annotations

import abc
import logging
import math
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from solvers.empirical.simulate import BatchStats, SimulationSpec, load_game, simulate_batch

logger = logging.getLogger(__name__)

__all__ = ["Task", "batch_seed", "run_tasks", "Backend", "SerialBackend", "ProcessPoolBackend", "RayBackend",
           "make_backend", "BACKENDS"]

Task = tuple[tuple[int, ...], int, int]  # (cell, batch index, episodes)
BACKENDS = ("serial", "process", "ray")


def batch_seed(root: np.random.SeedSequence, cell: Sequence[int], batch: int) -> np.random.SeedSequence:
    """The seed of batch ``batch`` of ``cell``: a child of ``root`` keyed by the cell and the batch index."""
    key = tuple(root.spawn_key) + (len(cell),) + tuple(int(c) for c in cell) + (int(batch),)
    return np.random.SeedSequence(root.entropy, spawn_key=key)


def run_tasks(spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task],
              game: Any = None) -> list[BatchStats]:
    """Run tasks one after the other in this process (what every worker does with its share)."""
    game = game if game is not None else load_game(spec.game_string, spec.imports)
    return [simulate_batch(spec, game, tuple(cell), size, np.random.default_rng(batch_seed(root, cell, b)))
            for cell, b, size in tasks]


def _chunks(tasks: Sequence[Task], parts: int) -> list[list[tuple[int, Task]]]:
    indexed = list(enumerate(tasks))
    size = max(1, math.ceil(len(indexed) / max(1, parts)))
    return [indexed[i:i + size] for i in range(0, len(indexed), size)]


def _progress_bar(total: int, progress: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not progress, desc=desc, unit="ep")


class Backend(abc.ABC):
    """Runs simulation tasks; use as a context manager (or call :meth:`close`) to release workers."""

    workers: int = 1

    @abc.abstractmethod
    def run(self, spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task], *,
            progress: bool = False) -> list[BatchStats]:
        """The :class:`BatchStats` of every task, in the order of ``tasks``."""

    def close(self) -> None:  # noqa: B027  (a hook with a default, not part of the abstract interface)
        """Release workers (no-op by default)."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SerialBackend(Backend):
    """Everything in the calling process."""

    workers = 1

    def run(self, spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task], *,
            progress: bool = False) -> list[BatchStats]:
        game = load_game(spec.game_string, spec.imports)
        out = []
        with _progress_bar(sum(t[2] for t in tasks), progress, "episodes") as bar:
            for task in tasks:
                out.extend(run_tasks(spec, root, [task], game))
                bar.update(task[2])
        return out


# ------------------------------------------------------------------------------------------------ process pool
_GAME_CACHE: dict[tuple, Any] = {}  # per worker process: loaded games by (game string, imports)


def _run_chunk_in_worker(spec: SimulationSpec, root: np.random.SeedSequence,
                         chunk: list[tuple[int, Task]]) -> list[tuple[int, BatchStats]]:
    key = (spec.game_string, spec.imports)
    if key not in _GAME_CACHE:
        _GAME_CACHE[key] = load_game(spec.game_string, spec.imports)
    stats = run_tasks(spec, root, [t for _, t in chunk], _GAME_CACHE[key])
    return [(i, s) for (i, _), s in zip(chunk, stats)]


def _context(name: str):
    ctx = mp.get_context(name)
    if name == "forkserver":
        # imported once in the fork server, inherited by every worker (only effective before it starts)
        ctx.set_forkserver_preload(
            ["numpy", "pyspiel", "nashpy", "solvers.empirical.backends", "solvers.equilibrium.two_player"])
    return ctx


class ProcessPoolBackend(Backend):
    """A local pool of ``workers`` processes (``concurrent.futures``; ``forkserver`` start method by default,
    safe when the parent runs threads; scripts need the ``if __name__ == "__main__":`` guard). The pool starts
    on the first :meth:`run` and lives until :meth:`close`, so adaptive rounds reuse it."""

    def __init__(self, workers: int = 2, *, mp_context: str | None = None, chunks_per_worker: int = 4) -> None:
        if workers < 1:
            raise ValueError(f"workers={workers}; need >= 1")
        self.workers = int(workers)
        methods = mp.get_all_start_methods()
        self.mp_context = mp_context or ("forkserver" if "forkserver" in methods else "spawn")
        if self.mp_context not in methods:
            raise ValueError(f"mp_context={self.mp_context!r}; choose one of {methods}")
        self.chunks_per_worker = chunks_per_worker
        self._pool: ProcessPoolExecutor | None = None

    def run(self, spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task], *,
            progress: bool = False) -> list[BatchStats]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(self.mp_context))
        out: list[BatchStats | None] = [None] * len(tasks)
        chunks = _chunks(tasks, self.workers * self.chunks_per_worker)
        with _progress_bar(sum(t[2] for t in tasks), progress, "episodes") as bar:
            futures = {self._pool.submit(_run_chunk_in_worker, spec, root, chunk): chunk for chunk in chunks}
            for fut in as_completed(futures):
                for i, stats in fut.result():
                    out[i] = stats
                bar.update(sum(t[2] for _, t in futures[fut]))
        return out  # type: ignore[return-value]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ------------------------------------------------------------------------------------------------------- Ray
def _ray_chunk(spec: SimulationSpec, root: np.random.SeedSequence, chunk: list[tuple[int, Task]]):
    stats = run_tasks(spec, root, [t for _, t in chunk])
    return [(i, s) for (i, _), s in zip(chunk, stats)]


class RayBackend(Backend):
    """Ray tasks on a running cluster (``address="auto"`` or ``"ray://host:10001"``) or a local Ray started here
    (``address=None``, with ``num_cpus``). When Ray is started here, the project root is put on the workers'
    ``PYTHONPATH`` so they can import ``solvers``; on an existing cluster the project must be importable there."""

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 chunks_per_worker: int = 4) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("backend='ray' needs the 'ray' package (pip install 'marketgames[ray]')") from exc
        self._ray = ray
        if not ray.is_initialized():
            root = str(Path(__file__).resolve().parents[2])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.chunks_per_worker = chunks_per_worker
        self._remote = ray.remote(_ray_chunk)

    def run(self, spec: SimulationSpec, root: np.random.SeedSequence, tasks: Sequence[Task], *,
            progress: bool = False) -> list[BatchStats]:
        ray = self._ray
        out: list[BatchStats | None] = [None] * len(tasks)
        spec_ref = ray.put(spec)
        chunks = _chunks(tasks, self.workers * self.chunks_per_worker)
        pending = {self._remote.remote(spec_ref, root, chunk): chunk for chunk in chunks}
        with _progress_bar(sum(t[2] for t in tasks), progress, "episodes") as bar:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    for i, stats in ray.get(ref):
                        out[i] = stats
                    bar.update(sum(t[2] for _, t in pending.pop(ref)))
        return out  # type: ignore[return-value]


def make_backend(backend: str | Backend | None = None, *, workers: int = 1, address: str | None = None) -> Backend:
    """``None`` -> serial when ``workers == 1`` else a process pool; ``"serial"``, ``"process"``, ``"ray"``
    (``address`` passed to ``ray.init``), or an existing :class:`Backend` (returned as is)."""
    if isinstance(backend, Backend):
        return backend
    if backend is None:
        backend = "serial" if workers <= 1 else "process"
    if backend == "serial":
        return SerialBackend()
    if backend == "process":
        return ProcessPoolBackend(workers)
    if backend == "ray":
        return RayBackend(address, num_cpus=workers if address is None and workers > 1 else None)
    raise ValueError(f"backend={backend!r}; choose one of {BACKENDS} or pass a Backend instance")
