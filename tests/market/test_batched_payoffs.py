"""Payoff estimation on the batched engine: the same game as the OpenSpiel loop, market by market and in
distribution; the same numbers on every backend, worker count and batch split; refuses what it cannot play."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market import MarketConfig
from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket, counter_uniform, inverse_cdf
from marketgames.market.payoffs import BatchedMarketSimulator
from marketgames.market.population import play_population
from marketgames.traders import make_trader
from solvers.empirical import EmpiricalGame, ProcessPoolBackend, SerialBackend, Simulator, UniformStrategy

POPULATION = ("market_maker(half_spread=1)", "trend", "zi")


def _game(players: int = 2, steps: int = 6, **overrides) -> pyspiel.Game:
    return pyspiel.load_game(MarketConfig(players=players, steps=steps, **overrides).game_string())


def _traders(game, population=POPULATION):
    return [make_trader(spec, game) for spec in population]


@pytest.mark.parametrize("players", [2, 3])
def test_play_population_equals_openspiel_policies_market_by_market(players):
    """Replay each market on an OpenSpiel state: same chance outcomes, and each seat's action drawn from its
    OpenSpiel policy (``action_probabilities``) with the same uniform number; the returns must be equal."""
    game = _game(players, steps=8)
    seats = _traders(game, POPULATION[:players])
    market = BatchedMarket(game.config, 9, seed=123)
    market.reset()  # an episode 0 first: play_population must start a fresh one
    returns = play_population(seats, market)
    log, keys, episode = market.chance_log, market.keys, market.episode
    for i in range(market.batch_size):
        state = game.new_initial_state()
        for r in range(game.config.steps):
            for outcome in log[i, r]:
                state.apply_action(int(outcome))
            joint = []
            for p, trader in enumerate(seats):
                probs = trader.action_probabilities(state, p)
                cdf = np.cumsum([probs.get(a, 0.0) for a in range(game.num_distinct_actions())])
                u = counter_uniform(keys[i, 0], keys[i, 1], episode, r, STREAM_FIRST_SEAT + p)
                joint.append(int(inverse_cdf(cdf, u)))
            state.apply_actions(joint)
        assert state.is_terminal()
        assert state.returns() == list(returns[i]), i


def test_batched_and_openspiel_estimates_agree_statistically():
    game = _game(2, steps=6)
    traders = _traders(game)
    loop = EmpiricalGame(game, traders, symmetric=True, seed=5)
    loop.sample(min_samples=300, batch_size=300)
    batched = EmpiricalGame(game, traders, symmetric=True, seed=5, simulator=BatchedMarketSimulator())
    batched.sample(min_samples=3000, batch_size=3000)
    assert not np.array_equal(loop.payoffs, batched.payoffs)  # other random streams...
    se = np.sqrt(loop.standard_errors ** 2 + batched.standard_errors ** 2)
    z = np.abs(loop.payoffs - batched.payoffs) / se
    # ...same distribution: 18 entries (9 distinct), none beyond 4.5 combined standard errors
    assert np.nanmax(z) < 4.5, z


def test_same_numbers_on_every_backend_worker_count_and_batch_split():
    game = _game(2, steps=5)
    traders = _traders(game)

    def run(backend, max_batch=4096):
        eg = EmpiricalGame(game, traders, symmetric=True, seed=9, simulator=BatchedMarketSimulator(max_batch))
        eg.sample(min_samples=200, batch_size=100, backend=backend)
        return eg

    ref = run(SerialBackend())
    with ProcessPoolBackend(1) as one, ProcessPoolBackend(2) as two:
        for eg in (run(one), run(two), run(SerialBackend(), max_batch=7)):
            np.testing.assert_array_equal(eg.payoffs, ref.payoffs)
            np.testing.assert_array_equal(eg.standard_errors, ref.standard_errors)
    other = EmpiricalGame(game, traders, symmetric=True, seed=10, simulator=BatchedMarketSimulator())
    other.sample(min_samples=200, batch_size=100)
    assert not np.array_equal(other.payoffs, ref.payoffs)


def test_ray_backend_gives_the_process_pool_numbers():
    ray = pytest.importorskip("ray")
    from solvers.empirical import RayBackend

    game = _game(2, steps=4)
    traders = _traders(game)[:2]
    ref = EmpiricalGame(game, traders, symmetric=True, seed=3, simulator=BatchedMarketSimulator())
    ref.sample(min_samples=100, batch_size=50, workers=2)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = EmpiricalGame(game, traders, symmetric=True, seed=3, simulator=BatchedMarketSimulator())
        on_ray.sample(min_samples=100, batch_size=50, backend=RayBackend())
    finally:
        if started:
            ray.shutdown()
    np.testing.assert_array_equal(on_ray.payoffs, ref.payoffs)


def test_asymmetric_three_player_cells_and_seat_credit():
    game = _game(3, steps=4)
    traders = _traders(game)
    eg = EmpiricalGame(game, [traders, traders[:2], traders[1:]], seed=2, simulator=BatchedMarketSimulator())
    eg.sample(min_samples=20, batch_size=20)
    assert eg.payoffs.shape == (3, 3, 2, 2) and np.isfinite(eg.payoffs).all()
    sym = EmpiricalGame(game, traders, symmetric=True, seed=2, simulator=BatchedMarketSimulator(),
                        keep_samples=True)
    sym.sample(min_samples=30, batch_size=30)
    # A cell of one strategy: every slot is credited the seat average, so all players get the same number.
    np.testing.assert_allclose(sym.payoffs[:, 1, 1, 1], sym.payoffs[0, 1, 1, 1])


def test_refuses_what_it_cannot_play():
    game = _game(2)
    traders = _traders(game)
    assert isinstance(BatchedMarketSimulator(), Simulator)
    with pytest.raises(TypeError, match=r"strategies\[1\].*probabilities"):
        EmpiricalGame(game, [traders[0], UniformStrategy()], symmetric=True, simulator=BatchedMarketSimulator())
    eg = EmpiricalGame(game, traders, symmetric=True, simulator=BatchedMarketSimulator())
    with pytest.raises(TypeError, match="probabilities"):
        eg.add_strategy(UniformStrategy())
    other = _traders(_game(3))[0]
    with pytest.raises(ValueError, match="another market"):
        EmpiricalGame(game, [traders[0], other], symmetric=True, simulator=BatchedMarketSimulator())
    with pytest.raises(TypeError, match="python_lob_market"):
        EmpiricalGame("kuhn_poker", [UniformStrategy()], symmetric=True, simulator=BatchedMarketSimulator())
    with pytest.raises(ValueError, match="max_batch=0"):
        BatchedMarketSimulator(0)
    with pytest.raises(TypeError, match="simulator="):
        EmpiricalGame(game, traders, symmetric=True, simulator=object())
