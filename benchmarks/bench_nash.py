"""Nash equilibrium of random and degenerate n x n bimatrix games: our solver vs nashpy, same run.

Ours: ``solvers.equilibrium.lemke_howson`` (quantecon's numba Lemke-Howson with capping, verified, perturbation
fallback). nashpy 0.0.43: ``lemke_howson`` (label 0), ``support_enumeration`` and ``vertex_enumeration`` (time
to the first equilibrium), each in a killable process with a timeout (timeouts count as failures; once a
method times out on every game of a size, larger sizes are skipped and also counted as timeouts).
Success = an equilibrium with largest regret <= 1e-8 (payoffs ~ N(0, 1) or integers in 0..2).
Times are medians over the games of a cell (nashpy's measured inside its worker, process start excluded).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Iterator

import numpy as np

from solvers.equilibrium import lemke_howson, mixture_regret
from solvers.equilibrium.bounded import run_bounded

TOL = 1e-8
NASHPY = ("lemke_howson", "support_enumeration", "vertex_enumeration")


def _timed_nashpy(A: np.ndarray, B: np.ndarray, method: str) -> Iterator[tuple[float, np.ndarray, np.ndarray]]:
    import warnings

    import nashpy

    warnings.filterwarnings("ignore")
    game = nashpy.Game(A, B)
    start = time.perf_counter()
    if method == "lemke_howson":
        x, y = game.lemke_howson(initial_dropped_label=0)
        yield time.perf_counter() - start, x, y
        return
    gen = game.support_enumeration() if method == "support_enumeration" else game.vertex_enumeration()
    for x, y in gen:
        yield time.perf_counter() - start, x, y


def make_game(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "random":
        return rng.standard_normal((2, n, n))
    return rng.integers(0, 3, size=(2, n, n)).astype(float)  # many ties: degenerate


def _ok(game: np.ndarray, prof) -> bool:
    try:
        prof = [np.asarray(p, float).reshape(-1) for p in prof]
        if any(not np.all(np.isfinite(p)) or p.min() < -1e-9 or abs(p.sum() - 1) > 1e-6 for p in prof):
            return False
        return mixture_regret(game, [np.clip(p, 0, None) / np.clip(p, 0, None).sum() for p in prof]) <= TOL
    except Exception:
        return False


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_nash", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="sizes up to 50, 2 games per cell, 0.5 s timeouts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [2, 5, 10, 20, 50] if args.quick else [2, 5, 10, 20, 50, 100, 200]
    reps = 2 if args.quick else 4
    timeout = 0.5 if args.quick else 2.0
    rng = np.random.default_rng(args.seed)
    lemke_howson(rng.standard_normal((2, 3, 3)))  # numba compile / cache load, not timed
    run_bounded(_timed_nashpy, (np.eye(2), np.eye(2), "lemke_howson"), timeout=30)  # start the fork server
    rows = []
    for kind in ("random", "degenerate"):
        given_up: set[str] = set()
        for n in sizes:
            games = [make_game(kind, n, rng) for _ in range(reps)]
            ours_t, ours_ok = [], 0
            for g in games:
                start = time.perf_counter()
                try:
                    prof = lemke_howson(g, tol=TOL)
                    ok = _ok(g, prof)
                except Exception:
                    ok = False
                ours_t.append(time.perf_counter() - start)
                ours_ok += ok
            row = {"kind": kind, "n": n, "ours_ms": 1e3 * statistics.median(ours_t), "ours_ok": ours_ok / reps}
            for method in NASHPY:
                if method in given_up:
                    row[f"{method}_ms"], row[f"{method}_ok"] = float("nan"), 0.0
                    continue
                times, ok, timeouts = [], 0, 0
                for g in games:
                    run = run_bounded(_timed_nashpy, (g[0], g[1], method), timeout=timeout, stop_after=1)
                    if run.items:
                        t, x, y = run.items[0]
                        times.append(t)
                        ok += _ok(g, (x, y))
                    else:
                        times.append(timeout)
                        timeouts += run.timed_out
                if timeouts == reps:
                    given_up.add(method)
                row[f"{method}_ms"] = 1e3 * statistics.median(times)
                row[f"{method}_ok"] = ok / reps
            rows.append(row)
            sys.stdout.write(_format_row(row) if len(rows) > 1 else _header() + _format_row(row))
            sys.stdout.flush()
    big = [r for r in rows if r["n"] == max(sizes)]
    medians = ", ".join(f"{r['kind']} {r['ours_ms']:.1f} ms" for r in big)
    sys.stdout.write(
        f"\nours at n={max(sizes)}: median {medians}; "
        f"success {min(r['ours_ok'] for r in rows):.0%} over all cells (target: 200x200 < 1000 ms, 100%)\n"
        f"ratio nashpy LH / ours (median time, same games; timeouts at {timeout} s): "
        + ", ".join(f"{r['kind'][:4]} n={r['n']}: {r['lemke_howson_ms'] / max(r['ours_ms'], 1e-3):.0f}x"
                    for r in rows if np.isfinite(r["lemke_howson_ms"])) + "\n")
    return {"rows": rows, "timeout_s": timeout, "games_per_cell": reps}


def _header() -> str:
    cols = ["kind", "n", "ours ms", "ok"] + [x for m in NASHPY for x in (f"np.{m[:7]} ms", "ok")]
    return " ".join(f"{c:>12}" for c in cols) + "\n"


def _format_row(r: dict) -> str:
    vals = [r["kind"], r["n"], f"{r['ours_ms']:.2f}", f"{r['ours_ok']:.0%}"]
    for m in NASHPY:
        t = r[f"{m}_ms"]
        vals += ["timeout" if not np.isfinite(t) else f"{t:.2f}", f"{r[f'{m}_ok']:.0%}"]
    return " ".join(f"{str(v):>12}" for v in vals) + "\n"


if __name__ == "__main__":
    main()
