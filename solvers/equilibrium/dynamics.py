"""Learning dynamics on normal-form games: replicator dynamics, fictitious play and projected replicator
dynamics, returning whole trajectories, with a convergence / cycling diagnosis.

References:
    Taylor & Jonker (1978), "Evolutionarily stable strategies and game dynamics" (replicator dynamics);
    multi-population form: Weibull (1995), "Evolutionary Game Theory", ch. 5.
    Brown (1951), "Iterative solution of games by fictitious play"; Robinson (1951) (convergence in zero-sum
    games); Shapley (1964), "Some topics in two-person games" (non-convergence in his 3x3 game).
    Lanctot et al. (2017), "A unified game-theoretic approach to multiagent RL" (projected replicator dynamics).

The dynamics run in the caller's payoff units (time ``dt`` is measured against payoff differences, as in the
references); their convergence ``tol`` is relative to the payoff range, so the diagnosis is scale-free.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from solvers.equilibrium.core import as_payoffs, as_profile, deviation_payoffs, payoff_range, uniform_profile

__all__ = ["Trajectory", "replicator_dynamics", "fictitious_play", "projected_replicator_dynamics", "classify",
           "is_symmetric"]

STATUSES = ("converged", "converging", "cycling", "stalled")


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """``times (T,)``; ``profiles``: one ``(T, S_i)`` array per player (identical arrays for a single
    population); ``nash_conv (T,)`` in payoff units; ``actions (T, n)`` pure actions played (fictitious play; empty
    otherwise); ``status`` one of ``converged`` (NashConv <= tol times the payoff range at the end),
    ``converging`` (NashConv falling like a power of time), ``cycling`` (still moving around without approaching
    equilibrium) or ``stalled``."""

    times: np.ndarray
    profiles: list[np.ndarray]
    nash_conv: np.ndarray
    actions: np.ndarray
    status: str

    @property
    def final(self) -> list[np.ndarray]:
        return [p[-1] for p in self.profiles]


def is_symmetric(payoffs: np.ndarray, *, tol: float = 1e-12) -> bool:
    """Symmetric 2-player game: square and ``payoffs[1] == payoffs[0].T`` (within ``tol`` times the payoff
    range)."""
    return payoffs.shape[0] == 2 and payoffs.shape[1] == payoffs.shape[2] and bool(
        np.all(np.abs(payoffs[1] - payoffs[0].T) <= tol * payoff_range(payoffs)))


def _nash_conv_of(payoffs: np.ndarray, prof: Sequence[np.ndarray]) -> float:
    dev = deviation_payoffs(payoffs, prof)
    return float(sum(max(0.0, d.max() - d @ p) for d, p in zip(dev, prof)))


def classify(times: np.ndarray, profiles: Sequence[np.ndarray], nash_conv: np.ndarray, *, tol: float = 1e-3,
             slope: float = -0.3, moving: float = 1e-3) -> str:
    """Diagnose a trajectory from its second half: ``converged`` if the last NashConv <= ``tol``; else
    ``converging`` if log NashConv falls faster than ``slope`` per unit of log time; else ``cycling`` if the
    profile still moves (path length > ``moving``) while NashConv stays up; else ``stalled``."""
    nc = np.asarray(nash_conv, float)
    if nc[-1] <= tol:
        return "converged"
    half = len(nc) // 2
    t = np.asarray(times, float)[half:]
    y = np.log(np.clip(nc[half:], 1e-300, None))
    if len(t) > 2 and t[0] > 0 and np.ptp(np.log(t)) > 0:
        fit = np.polyfit(np.log(t), y, 1)[0]
        if fit < slope:
            return "converging"
    path = sum(float(np.abs(np.diff(p[half:], axis=0)).sum()) for p in profiles)
    return "cycling" if path > moving else "stalled"


def _start(arr: np.ndarray, x0: Sequence | None, single: bool) -> list[np.ndarray]:
    if x0 is None:
        return uniform_profile(arr)
    if single and (len(x0) != arr.shape[0] or np.ndim(x0[0]) == 0):
        x0 = [x0] * arr.shape[0]
    return as_profile(arr, x0, tol=1e-6)


def _single_population(arr: np.ndarray, single_population: bool) -> bool:
    if single_population and not is_symmetric(arr):
        raise ValueError("single_population=True needs a symmetric 2-player game (payoffs[1] == payoffs[0].T)")
    return single_population


def _rd_field(arr: np.ndarray, prof: list[np.ndarray], single: bool) -> list[np.ndarray]:
    if single:
        u = arr[0] @ prof[0]
        f = prof[0] * (u - prof[0] @ u)
        return [f] * arr.shape[0]
    dev = deviation_payoffs(arr, prof)
    return [p * (d - p @ d) for p, d in zip(prof, dev)]


def replicator_dynamics(payoffs: np.ndarray | Sequence, *, x0: Sequence | None = None, dt: float = 0.01,
                        steps: int = 5000, single_population: bool = False, record_every: int = 1,
                        tol: float = 1e-3) -> Trajectory:
    """Replicator dynamics integrated with 4th-order Runge-Kutta (Taylor & Jonker, 1978).

    ``single_population=True`` (symmetric 2-player games): one population playing against itself,
    ``dx/dt = x (A x - x^T A x)``; otherwise one population per player (n-population replicator).
    ``x0``: a start profile (default uniform; for a single population one vector is enough). ``tol`` (for
    ``status``) is relative to the payoff range.
    """
    arr = as_payoffs(payoffs)
    single = _single_population(arr, single_population)
    if dt <= 0 or steps < 1 or record_every < 1:
        raise ValueError(f"dt={dt} must be > 0, steps={steps} and record_every={record_every} >= 1")
    prof = _start(arr, x0, single)
    if single:
        prof = [prof[0]] * arr.shape[0]
    rec = [[p.copy()] for p in prof]
    times = [0.0]
    for k in range(1, steps + 1):
        k1 = _rd_field(arr, prof, single)
        k2 = _rd_field(arr, [p + 0.5 * dt * f for p, f in zip(prof, k1)], single)
        k3 = _rd_field(arr, [p + 0.5 * dt * f for p, f in zip(prof, k2)], single)
        k4 = _rd_field(arr, [p + dt * f for p, f in zip(prof, k3)], single)
        prof = [np.clip(p + dt / 6 * (a + 2 * b + 2 * c + d), 0, None)
                for p, a, b, c, d in zip(prof, k1, k2, k3, k4)]
        prof = [p / p.sum() for p in prof]
        if k % record_every == 0 or k == steps:
            for r, p in zip(rec, prof):
                r.append(p.copy())
            times.append(k * dt)
    profiles = [np.array(r) for r in rec]
    times_arr = np.array(times)
    nc = np.array([_nash_conv_of(arr, [p[t] for p in profiles]) for t in range(len(times_arr))])
    return Trajectory(times=times_arr, profiles=profiles, nash_conv=nc, actions=np.zeros((0, arr.shape[0]), int),
                      status=classify(times_arr, profiles, nc / payoff_range(arr), tol=tol))


def fictitious_play(payoffs: np.ndarray | Sequence, *, iterations: int = 2000, initial_actions: Sequence[int] |
                    None = None, single_population: bool = False, tol: float = 1e-3) -> Trajectory:
    """Discrete simultaneous fictitious play (Brown, 1951): every round each player best-responds (lowest index
    on ties) to the empirical frequencies of the others' past actions. ``profiles`` are the empirical frequencies
    after each round (row ``t`` after ``t + 1`` rounds); ``actions`` the actions played.
    ``single_population``: symmetric games, one frequency vector playing against itself. ``tol`` (for
    ``status``) is relative to the payoff range."""
    arr = as_payoffs(payoffs)
    single = _single_population(arr, single_population)
    if iterations < 2:
        raise ValueError(f"iterations={iterations}; need >= 2")
    n = arr.shape[0]
    sizes = arr.shape[1:]
    first = [0] * n if initial_actions is None else [int(a) for a in initial_actions]
    if len(first) != n or any(not 0 <= a < s for a, s in zip(first, sizes)):
        raise ValueError(f"initial_actions={initial_actions}; need one valid strategy index per player")
    counts = [np.zeros(s) for s in sizes]
    if single:
        counts = [np.zeros(sizes[0])] * n
        counts[0][first[0]] += 1
    else:
        for c, a in zip(counts, first):
            c[a] += 1
    actions = [tuple(first[:1] * n if single else first)]
    rec = [[c / c.sum()] for c in counts]
    for _ in range(iterations - 1):
        freq = [c / c.sum() for c in counts]
        dev = deviation_payoffs(arr, freq)
        acts = [int(np.argmax(d)) for d in dev]
        if single:
            counts[0][acts[0]] += 1
            acts = [acts[0]] * n
        else:
            for c, a in zip(counts, acts):
                c[a] += 1
        actions.append(tuple(acts))
        for r, c in zip(rec, counts):
            r.append(c / c.sum())
    profiles = [np.array(r) for r in rec]
    times = np.arange(1, iterations + 1, dtype=float)
    nc = np.array([_nash_conv_of(arr, [p[t] for p in profiles]) for t in range(iterations)])
    return Trajectory(times=times, profiles=profiles, nash_conv=nc, actions=np.array(actions, dtype=int),
                      status=classify(times, profiles, nc / payoff_range(arr), tol=tol))


def _project(v: np.ndarray, floor: float) -> np.ndarray:
    """Euclidean projection onto the simplex ``{x >= floor, sum x = 1}`` (Duchi et al., 2008)."""
    k = v.size
    w = v - floor
    budget = 1.0 - floor * k
    u = np.sort(w)[::-1]
    css = np.cumsum(u) - budget
    idx = np.arange(1, k + 1)
    rho = np.nonzero(u - css / idx > 0)[0][-1]
    theta = css[rho] / (rho + 1)
    return np.maximum(w - theta, 0) + floor


def projected_replicator_dynamics(payoffs: np.ndarray | Sequence, *, iterations: int = 20000, dt: float = 5e-3,
                                  gamma: float = 1e-6, average_over_last: int = 2000) -> list[np.ndarray]:
    """Projected replicator dynamics (Lanctot et al., 2017), as PSRO's ``prd`` meta-solver: Euler steps of the
    n-population replicator dynamics projected onto the simplex with every probability >= ``gamma / S_i``;
    returns the average of the last ``average_over_last`` iterates (not necessarily an equilibrium)."""
    arr = as_payoffs(payoffs)
    if iterations < 1 or dt <= 0 or not 0 <= gamma < 1:
        raise ValueError(f"iterations={iterations} >= 1, dt={dt} > 0, 0 <= gamma={gamma} < 1 required")
    prof = uniform_profile(arr)
    floors = [gamma / p.size for p in prof]
    avg = [np.zeros_like(p) for p in prof]
    keep = max(1, min(average_over_last, iterations))
    for k in range(iterations):
        dev = deviation_payoffs(arr, prof)
        nxt = []
        for p, d, f in zip(prof, dev, floors):
            q = p + dt * p * (d - p @ d)
            nxt.append(q / q.sum() if q.min() >= f else _project(q, f))  # project only when needed
        prof = nxt
        if k >= iterations - keep:
            for a, p in zip(avg, prof):
                a += p
    return [a / a.sum() for a in avg]
