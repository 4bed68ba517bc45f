"""Batched market simulation: agent-steps per second of :class:`BatchedMarket` against a loop over OpenSpiel states.

``python -m benchmarks.bench_batched [--quick]``. An agent-step is one player acting in one market for one round.
Both sides play the same rounds (chance fundamental, chance background, a joint action of uniformly random actions,
every player's observation and reward); random actions are drawn in bulk before timing. Reported: medians of a few
repeats after a compile warm-up, the ratio to the OpenSpiel loop timed in the same run, peak traced memory
(``tracemalloc``; the numpy arrays the batch allocates) per batch size, and where the time of a step goes (the rule
phases run as separate parallel drivers, and the Python overhead of ``step()`` around the fused kernel).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np
import pyspiel
from numba import get_num_threads, njit, prange

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market import batched as MB
from marketgames.market import rules as R
from marketgames.market.batched import BatchedMarket
from marketgames.market.config import MarketConfig

STEPS = 20


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _actions(config: MarketConfig, batch: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, config.num_actions, size=(config.steps, batch, config.players), dtype=np.int64)


def _run_batched(market: BatchedMarket, actions: np.ndarray, episodes: int) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of ``episodes`` episodes."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(episodes):
        market.reset()
        for a in actions:
            market.step(a)
    return time.perf_counter() - start, time.process_time() - cpu


def batched_rate(config: MarketConfig, batch: int, *, repeats: int,
                 min_agent_steps: int) -> tuple[float, float, float]:
    """Median agent-steps per wall second and per CPU second of ``reset`` + ``steps`` x ``step``, and the wall
    seconds of one episode."""
    market = BatchedMarket(config, batch, seed=0)
    actions = _actions(config, batch, 1)
    _run_batched(market, actions, 1)  # warm-up (compiles or loads the cache)
    per_episode = batch * config.players * config.steps
    episodes = max(1, -(-min_agent_steps // per_episode))
    wall, cpu = np.median([_run_batched(market, actions, episodes) for _ in range(repeats)], axis=0)
    return episodes * per_episode / wall, episodes * per_episode / cpu, wall / episodes


def openspiel_rate(config: MarketConfig, *, repeats: int, episodes: int) -> float:
    """Median agent-steps/s of the same rounds played on ``pyspiel`` states of ``python_lob_market``, one by one."""
    game = pyspiel.load_game(config.game_string())
    n = config.players
    actions = _actions(config, episodes, 2)
    rng = np.random.default_rng(3)

    def run() -> float:
        start = time.perf_counter()
        for e in range(episodes):
            state = game.new_initial_state()
            for r in range(config.steps):
                while state.is_chance_node():
                    outcomes, probs = zip(*state.chance_outcomes())
                    state.apply_action(int(rng.choice(outcomes, p=probs)))
                for p in range(n):
                    state.observation_ints(p)
                state.rewards()
                state.apply_actions([int(a) for a in actions[r, e]])
            state.rewards()
        return time.perf_counter() - start

    run()
    t = float(np.median([run() for _ in range(repeats)]))
    return episodes * n * config.steps / t


def peak_memory(config: MarketConfig, batch: int) -> tuple[float, float]:
    """Peak traced MiB while building a batch and playing one episode, and the batch's own arrays in MiB."""
    actions = _actions(config, batch, 1)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    market = BatchedMarket(config, batch, seed=0)
    market.reset()
    for a in actions:
        market.step(a)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 2**20, market.memory_bytes / 2**20


def traders_rate(config: MarketConfig, batch: int, *, repeats: int) -> tuple[float, list[str]] | None:
    """Median agent-steps/s when every seat is a registered rule trader (numpy ``probabilities`` + inverse CDF)."""
    try:
        from marketgames.traders import TRADERS, make_trader
    except ImportError:
        return None
    from marketgames.market.population import population_actions

    game = pyspiel.load_game(config.game_string())
    names = sorted(TRADERS)
    specs, traders = [], []
    for p in range(config.players):
        for k in range(len(names)):
            name = names[(p + k) % len(names)]
            try:
                traders.append(make_trader(name, game, player_ids=[p]))
            except ValueError:
                continue
            specs.append(name)
            break
    market = BatchedMarket(config, batch, seed=0)

    def run() -> float:
        start = time.perf_counter()
        market.reset()
        while not market.done:
            market.step(population_actions(traders, market))
        return time.perf_counter() - start

    run()
    t = float(np.median([run() for _ in range(repeats)]))
    return batch * config.players * config.steps / t, specs


# ---------------------------------------------------------------- profile: the step's phases as separate drivers
@njit(parallel=True, cache=True)
def _phase_actions(bufs, P, actions, chunk):
    n_markets = bufs.shape[0]
    for c in prange((n_markets + chunk - 1) // chunk):
        events = np.empty((P[R.P_CAPACITY], 6), dtype=np.int64)
        for i in range(c * chunk, min(n_markets, (c + 1) * chunk)):
            R.apply_actions(bufs[i], P, actions[i], events)


@njit(parallel=True, cache=True)
def _phase_draws(keys, episode, rnd, fund_cdf, bg_cdf, out):
    for i in prange(keys.shape[0]):
        out[i, 0] = MB.inverse_cdf(fund_cdf, MB.counter_uniform(keys[i, 0], keys[i, 1], episode, rnd, 0))
        out[i, 1] = MB.inverse_cdf(bg_cdf, MB.counter_uniform(keys[i, 0], keys[i, 1], episode, rnd, 1))


@njit(parallel=True, cache=True)
def _phase_chance(bufs, P, draws, chunk):
    n_markets = bufs.shape[0]
    for c in prange((n_markets + chunk - 1) // chunk):
        events = np.empty((P[R.P_CAPACITY], 6), dtype=np.int64)
        for i in range(c * chunk, min(n_markets, (c + 1) * chunk)):
            if bufs[i, R.M_PHASE] != R.PHASE_TERMINAL:
                R.apply_fundamental(bufs[i], P, draws[i, 0])
                R.apply_background(bufs[i], P, draws[i, 1], events)


@njit(parallel=True, cache=True)
def _phase_rewards(bufs, P, base2, rewards):
    for i in prange(bufs.shape[0]):
        for p in range(P[R.P_PLAYERS]):
            w = R.wealth2(bufs[i], P, p)
            rewards[i, p] = (w - base2[i, p]) / 2.0
            base2[i, p] = w


@njit(parallel=True, cache=True)
def _phase_observe(bufs, P, obs):
    for i in prange(bufs.shape[0]):
        for p in range(P[R.P_PLAYERS]):
            R.observe(bufs[i], P, p, obs[i, p])


def profile(config: MarketConfig, batch: int, *, repeats: int) -> dict[str, float]:
    """Seconds per episode spent in each phase (the phases run as separate drivers, in the step's order)."""
    market = BatchedMarket(config, batch, seed=0)
    actions = _actions(config, batch, 1)
    P, keys, chunk = market._P, market._keys, market._chunk()
    fund_cdf, bg_cdf = market._fund_cdf, market._bg_cdf
    B, n = batch, config.players
    names = ["draws", "chance", "actions", "rewards", "observe", "fused kernel", "step() total"]
    rows = []
    for rep in range(repeats + 1):  # the first pass compiles
        t = dict.fromkeys(names, 0.0)
        market.reset()
        bufs = market._bufs.copy()
        base2 = market._base2.copy()
        draws = np.empty((B, 2), dtype=np.int64)
        rewards = np.empty((B, n))
        obs = np.empty((B, n, market.obs_size), dtype=np.int64)
        for r, a in enumerate(actions):
            s = time.perf_counter()
            _phase_actions(bufs, P, a, chunk)
            t["actions"] += time.perf_counter() - s
            s = time.perf_counter()
            _phase_draws(keys, 0, r + 1, fund_cdf, bg_cdf, draws)
            t["draws"] += time.perf_counter() - s
            s = time.perf_counter()
            _phase_chance(bufs, P, draws, chunk)
            t["chance"] += time.perf_counter() - s
            s = time.perf_counter()
            _phase_rewards(bufs, P, base2, rewards)
            t["rewards"] += time.perf_counter() - s
            s = time.perf_counter()
            _phase_observe(bufs, P, obs)
            t["observe"] += time.perf_counter() - s
        # The fused kernel alone (preallocated outputs), then the public step() on the same rounds.
        market.reset()
        s = time.perf_counter()
        for a in actions:
            market._step_into(a, rewards, obs)
        t["fused kernel"] = time.perf_counter() - s
        market.reset()
        s = time.perf_counter()
        for a in actions:
            market.step(a)
        t["step() total"] = time.perf_counter() - s
        if rep:
            rows.append(t)
    return {k: float(np.median([row[k] for row in rows])) for k in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_batched", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (~40 s)")
    args = parser.parse_args(argv)
    quick = args.quick
    batches = [1, 64, 1024, 8192]
    players = [2, 8] if quick else [2, 5, 8]
    repeats = 3 if quick else 5
    min_steps = 100_000 if quick else 400_000
    _out(f"numba threads: {get_num_threads()}; {STEPS} rounds per episode; default MarketConfig otherwise; "
         f"{'quick' if quick else 'full'} run; load average at start {os.getloadavg()[0]:.2f} (the cores are "
         "shared: a load above ~0.5 slows the parallel drivers, which wait for their slowest thread)")

    t0 = time.perf_counter()
    for n in players:
        MB.BatchedMarket(MarketConfig(players=n, steps=2), 2, 0).reset()
    _out(f"warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")

    _out()
    _out("players  markets   agent-steps/s   vs OpenSpiel loop   per CPU-second   ms/episode   peak MiB (traced)   "
         "arrays MiB")
    for n in players:
        config = MarketConfig(players=n, steps=STEPS)
        base = openspiel_rate(config, repeats=3, episodes=10 if quick else 40)
        _out(f"{n:7d}  OpenSpiel {base:13,.0f}   {'1.0x':>17}")
        for batch in batches:
            rate, cpu_rate, per_episode = batched_rate(config, batch, repeats=repeats, min_agent_steps=min_steps)
            peak, own = peak_memory(config, batch)
            _out(f"{n:7d}  {batch:7d}  {rate:14,.0f}   {rate / base:16,.0f}x   {cpu_rate:14,.0f}   "
                 f"{1e3 * per_episode:10.2f}   {peak:17.1f}   {own:10.1f}")

    _out()
    for n in players:
        result = traders_rate(MarketConfig(players=n, steps=STEPS), 1024, repeats=repeats)
        if result is not None:
            rate, specs = result
            _out(f"rule traders in every seat ({', '.join(specs)}), 1024 markets: {rate:,.0f} agent-steps/s "
                 "(population_actions + step)")

    _out()
    profile_cases = [(8, 8192), (2, 1)] if quick else [(2, 8192), (8, 8192), (2, 64), (2, 1)]
    _out("Where the time of an episode goes (ms; phases run as separate parallel drivers, in the step's order):")
    _out("players  markets    draws   chance  actions  rewards  observe | fused kernel  step() total  "
         "Python overhead")
    for n, batch in profile_cases:
        prof = profile(MarketConfig(players=n, steps=STEPS), batch, repeats=3)
        ms = {k: 1e3 * v for k, v in prof.items()}
        _out(f"{n:7d}  {batch:7d}  {ms['draws']:7.2f}  {ms['chance']:7.2f}  {ms['actions']:7.2f}  "
             f"{ms['rewards']:7.2f}  {ms['observe']:7.2f} | {ms['fused kernel']:12.2f}  {ms['step() total']:12.2f}  "
             f"{ms['step() total'] - ms['fused kernel']:15.2f}")
    _out(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
