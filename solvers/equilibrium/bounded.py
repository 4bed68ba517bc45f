"""Run a possibly non-terminating solver (nashpy) in a killable worker process with a wall-clock bound.

nashpy's Lemke-Howson can loop forever (1x1 games, some 10x10+ games: its float tableau underflows), so every
nashpy call goes through :func:`run_bounded`: the solver streams its results back through a pipe, and the worker
process is terminated at the deadline. Results received before the deadline are kept.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
import time
from typing import Any, Callable

logger = logging.getLogger(__name__)

__all__ = ["BoundedRun", "run_bounded", "default_mp_context"]


@dataclasses.dataclass(frozen=True)
class BoundedRun:
    """Outcome of :func:`run_bounded`: the items produced, whether the deadline hit, and any worker error."""

    items: list[Any]
    timed_out: bool
    error: str | None
    seconds: float


def default_mp_context() -> str:
    """``forkserver`` where available (safe with threads in the parent, cheap after the first start), else spawn."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _worker(conn: Any, fn: Callable[..., Any], args: tuple) -> None:
    try:
        for item in fn(*args):
            conn.send(("item", item))
        conn.send(("done", None))
    except BaseException as exc:  # report every failure to the parent, never hang
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except Exception:  # pragma: no cover - broken pipe
            pass
    finally:
        conn.close()


def run_bounded(fn: Callable[..., Any], args: tuple, *, timeout: float, mp_context: str | None = None,
                stop_after: int | None = None) -> BoundedRun:
    """Run the generator function ``fn(*args)`` in a fresh process; collect its items until done, ``timeout``
    seconds, or ``stop_after`` items (then the worker is stopped and ``timed_out`` is False).

    ``fn`` must be a module-level (picklable) generator function. The process is killed at the deadline.
    """
    if not timeout > 0:
        raise ValueError(f"timeout={timeout!r}; must be > 0 seconds")
    ctx = mp.get_context(mp_context or default_mp_context())
    if ctx.get_start_method() == "forkserver":
        # imported once in the fork server and inherited by every worker (effective only before it starts;
        # the same list as solvers.empirical.backends so whichever starts the server first serves both)
        ctx.set_forkserver_preload(
            ["numpy", "pyspiel", "nashpy", "solvers.empirical.backends", "solvers.equilibrium.two_player"])
    parent, child = ctx.Pipe(duplex=False)
    # typeshed's BaseContext has no Process; every concrete context get_context returns has one
    proc = ctx.Process(target=_worker, args=(child, fn, args), daemon=True)  # type: ignore[attr-defined]
    start = time.perf_counter()
    proc.start()
    child.close()
    items: list[Any] = []
    error = None
    timed_out = True
    deadline = start + timeout
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not parent.poll(left):
                break
            try:
                kind, payload = parent.recv()
            except EOFError:
                error = "worker exited without finishing"
                timed_out = False
                break
            if kind == "item":
                items.append(payload)
                if stop_after is not None and len(items) >= stop_after:
                    timed_out = False
                    break
            else:
                timed_out = False
                error = payload if kind == "error" else None
                break
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(1.0)
            if proc.is_alive():  # pragma: no cover
                proc.kill()
        proc.join(1.0)
        parent.close()
    if timed_out:
        logger.info("bounded run of %s timed out after %.2f s", getattr(fn, "__name__", fn), timeout)
    return BoundedRun(items=items, timed_out=timed_out, error=error, seconds=time.perf_counter() - start)
