"""The OpenSpiel game ``python_lob_market``: random play, per-call costs and exact NashConv on TINY_GAME.

``python -m benchmarks.bench_game [--quick]``. Reported (medians of repeats, after a warm-up that loads the compiled
kernels):

* random-play episodes per second (chance sampled from its distribution, uniform joint actions; random numbers
  drawn in bulk beforehand) for the default configuration and TINY_GAME, with 2 and 5 players;
* the cost in microseconds of ``clone()``, ``apply_actions`` and ``observation_tensor`` at a mid-episode decision
  node, against two baselines timed in the same run: the C++ ``kuhn_poker`` clone and the Python
  ``python_iterated_prisoners_dilemma`` clone (ratios);
* the time of ``exploitability.nash_conv`` of the uniform policy on TINY_GAME, plain (Python best responses on the
  Python game) and on ``pyspiel.convert_to_cached_tree`` (cold: conversion + first call; warm: a second call).
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pyspiel
from open_spiel.python import policy as policy_lib
from open_spiel.python.algorithms import exploitability

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames import TINY_GAME


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _with_players(game_string: str, players: int) -> str:
    """``game_string`` with ``players`` set (TINY_GAME already names players=2)."""
    if "(" not in game_string:
        return f"{game_string}(players={players})"
    return game_string.replace("players=2", f"players={players}") if "players=" in game_string else \
        game_string[:-1] + f",players={players})"


def _random_episode(game: pyspiel.Game, u: np.ndarray) -> int:
    """Play one episode using the uniforms ``u`` (cycled); returns how many were used."""
    state = game.new_initial_state()
    n = game.num_players()
    k = 0
    m = len(u)
    while not state.is_terminal():
        if state.is_chance_node():
            outcomes = state.chance_outcomes()
            x, acc = u[k % m], 0.0
            k += 1
            action = outcomes[-1][0]
            for a, p in outcomes:
                acc += p
                if x < acc:
                    action = a
                    break
            state.apply_action(action)
        else:
            joint = []
            for p in range(n):
                legal = state.legal_actions(p)
                joint.append(legal[int(u[k % m] * len(legal))])
                k += 1
            state.apply_actions(joint)
    return k


def episodes_per_second(game: pyspiel.Game, *, episodes: int, repeats: int, seed: int = 0) -> float:
    u = np.random.default_rng(seed).random(100_003)
    _random_episode(game, u)  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(episodes):
            _random_episode(game, u)
        rates.append(episodes / (time.perf_counter() - start))
    return float(np.median(rates))


def _mid_state(game: pyspiel.Game, seed: int = 0) -> pyspiel.State:
    """A decision node about half way through an episode of random play (at most 10 decisions in; episodes that
    end earlier are replayed with the next seed)."""
    target = min(game.max_game_length() // 2, 10)
    for attempt in range(1000):
        rng = np.random.default_rng(seed + attempt)
        state = game.new_initial_state()
        decisions = 0
        while not state.is_terminal():
            if state.is_chance_node():
                actions, probs = zip(*state.chance_outcomes())
                state.apply_action(int(rng.choice(actions, p=np.asarray(probs) / sum(probs))))
            elif decisions >= target:
                return state
            elif state.is_simultaneous_node():
                state.apply_actions([int(rng.choice(state.legal_actions(p))) for p in range(game.num_players())])
                decisions += 1
            else:
                state.apply_action(int(rng.choice(state.legal_actions())))
                decisions += 1
    raise RuntimeError(f"no episode of {game} reached {target} decisions")


def _median_us(fn, *, calls: int, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times)) * 1e6


def call_costs(game: pyspiel.Game, *, calls: int, repeats: int) -> dict[str, float]:
    """Median microseconds of clone, apply_actions (on fresh clones made before timing) and observation_tensor."""
    state = _mid_state(game)
    out = {"clone": _median_us(state.clone, calls=calls, repeats=repeats)}
    rng = np.random.default_rng(1)
    joint = [int(rng.choice(state.legal_actions(p))) for p in range(game.num_players())]
    times = []
    for _ in range(repeats):
        clones = [state.clone() for _ in range(calls)]
        start = time.perf_counter()
        for c in clones:
            c.apply_actions(joint)
        times.append((time.perf_counter() - start) / calls)
    out["apply_actions"] = float(np.median(times)) * 1e6
    out["observation_tensor"] = _median_us(lambda: state.observation_tensor(0), calls=calls, repeats=repeats)
    return out


def nash_conv_times(game_string: str) -> dict[str, tuple[float, float]]:
    """Seconds and value of ``nash_conv(uniform)``: plain, cached tree cold (conversion + call) and warm."""
    game = pyspiel.load_game(game_string)
    out = {}
    start = time.perf_counter()
    value = exploitability.nash_conv(game, policy_lib.UniformRandomPolicy(game))
    out["plain"] = (time.perf_counter() - start, value)
    start = time.perf_counter()
    cached = pyspiel.convert_to_cached_tree(game)
    value = exploitability.nash_conv(cached, policy_lib.UniformRandomPolicy(cached))
    out["cached tree, cold"] = (time.perf_counter() - start, value)
    start = time.perf_counter()
    value = exploitability.nash_conv(cached, policy_lib.UniformRandomPolicy(cached))
    out["cached tree, warm"] = (time.perf_counter() - start, value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_game", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer episodes and calls")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    calls = 300 if args.quick else 2000

    _out("Random play (uniform joint actions, sampled chance)")
    _out(f"{'game':<26}{'players':>8}{'steps':>7}{'episodes/s':>12}{'decisions/s':>13}")
    for label, base in (("python_lob_market", "python_lob_market"), ("TINY_GAME", TINY_GAME)):
        for players in (2, 5):
            game = pyspiel.load_game(_with_players(base, players))
            steps = game.config.steps
            episodes = max(2, (40 if args.quick else 200) // steps)
            rate = episodes_per_second(game, episodes=episodes, repeats=repeats)
            _out(f"{label:<26}{players:>8}{steps:>7}{rate:>12.1f}{rate * steps:>13.0f}")

    _out()
    _out("Per-call cost at a mid-episode decision node (median microseconds)")
    kuhn = pyspiel.load_game("kuhn_poker")
    ipd = pyspiel.load_game("python_iterated_prisoners_dilemma")
    kuhn_clone = _median_us(_mid_state(kuhn).clone, calls=calls, repeats=repeats)
    ipd_costs = call_costs(ipd, calls=calls, repeats=repeats)
    _out(f"{'game':<36}{'clone':>9}{'apply':>9}{'obs':>9}{'clone/kuhn':>12}{'clone/ipd':>11}")
    _out(f"{'kuhn_poker (C++)':<36}{kuhn_clone:>9.2f}{'':>9}{'':>9}{1.0:>12.1f}"
         f"{kuhn_clone / ipd_costs['clone']:>11.2f}")
    _out(f"{'python_iterated_prisoners_dilemma':<36}{ipd_costs['clone']:>9.2f}{ipd_costs['apply_actions']:>9.2f}"
         f"{ipd_costs['observation_tensor']:>9.2f}{ipd_costs['clone'] / kuhn_clone:>12.1f}{1.0:>11.2f}")
    for label, base in (("python_lob_market", "python_lob_market"), ("TINY_GAME", TINY_GAME)):
        for players in (2, 5):
            costs = call_costs(pyspiel.load_game(_with_players(base, players)), calls=calls, repeats=repeats)
            name = f"{label} {players}p"
            _out(f"{name:<36}{costs['clone']:>9.2f}{costs['apply_actions']:>9.2f}{costs['observation_tensor']:>9.2f}"
                 f"{costs['clone'] / kuhn_clone:>12.1f}{costs['clone'] / ipd_costs['clone']:>11.2f}")

    _out()
    _out("exploitability.nash_conv(uniform) on TINY_GAME")
    _out(f"{'variant':<22}{'seconds':>9}{'NashConv':>12}{'vs plain':>10}")
    times = nash_conv_times(TINY_GAME)
    plain = times["plain"][0]
    for label, (seconds, value) in times.items():
        _out(f"{label:<22}{seconds:>9.2f}{value:>12.6f}{plain / seconds:>9.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
