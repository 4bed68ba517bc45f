"""Strategies on replayed LOBSTER flow: the fill model on generated files with known answers, the strategy
interfaces, the config's validation and the bootstrap."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from lobster_files import T0, write_day

from marketgames.data import load_day, shared_sample
from marketgames.data.execution import ExecutionConfig, moving_block_bootstrap, trade_replay
from marketgames.traders import make_trader
from marketgames.traders.observation import ActionLayout, ObservationLayout

GAME = pyspiel.load_game("python_lob_market(players=2,steps=2)")


class BuyOnceAtTheBid:
    """Places ``limit_buy_0`` in an episode's first round, then holds."""

    def __init__(self, game):
        self.layout, self.actions = ObservationLayout(game.config), ActionLayout(game.config)
        self.n = game.config.num_actions

    def probabilities(self, obs):
        out = np.zeros((len(obs), self.n))
        first = self.layout.rounds_left(obs) == self.layout.steps
        out[first, self.actions.limit_buy(0)] = 1.0
        out[~first, self.actions.HOLD] = 1.0
        return out


# Two orders rest at the bid before the window (500 shares ahead of us); an order joins behind us.
RESTING = [(900, 300, 999_900, 1), (901, 200, 999_900, 1), (800, 100, 1_000_100, -1)]
QUEUE = [
    (T0, 1, 1, 100, 1_000_100, -1),
    (T0 + 0.1, 4, 900, 100, 999_900, 1),       # executed: 400 ahead
    (T0 + 0.2, 3, 900, 200, 999_900, 1),       # cancelled: still 400 ahead (200 if cancels advance the queue)
    (T0 + 0.3, 1, 5, 100, 999_900, 1),         # joins behind us
    (T0 + 0.4, 4, 901, 200, 999_900, 1),       # executed: 200 ahead (0)
    (T0 + 0.5, 4, 5, 100, 999_900, 1),         # behind us executed: we fill only if nothing is ahead
    (T0 + 2.5, 5, 0, 10, 1_000_000, 1),
]


def _run(tmp_path, messages, resting, **kw):
    day = load_day(write_day(tmp_path, messages, resting=resting))
    config = ExecutionConfig(bootstrap=50, **kw)
    return trade_replay(day, BuyOnceAtTheBid(GAME), GAME, config)


def test_queue_advances_only_on_executions_unless_cancels_count(tmp_path):
    conservative = _run(tmp_path, QUEUE, RESTING)
    optimistic = _run(tmp_path, QUEUE, RESTING, cancels_advance_queue=True)
    assert conservative.episodes == 1 and conservative.limit_lots.tolist() == [1.0]
    assert conservative.limit_filled.tolist() == [0.0] and conservative.fill_ratio.value == 0.0
    assert optimistic.limit_filled.tolist() == [1.0] and optimistic.fill_ratio.value == 1.0
    # Filled at 999900 (one tick below the mid of 1000000), held: marked at the final mid.
    assert optimistic.lots_traded.tolist() == [1.0]


def test_a_trade_through_fills_the_whole_order(tmp_path):
    msgs = QUEUE[:1] + [(T0 + 0.1, 4, 902, 50, 999_800, 1), (T0 + 2.5, 5, 0, 10, 1_000_000, 1)]
    result = _run(tmp_path, msgs, RESTING + [(902, 50, 999_800, 1)])
    assert result.limit_filled.tolist() == [1.0]
    msgs = QUEUE[:1] + [(T0 + 0.1, 3, 900, 300, 999_900, 1), (T0 + 0.2, 3, 901, 200, 999_900, 1),
                        (T0 + 0.3, 1, 6, 100, 999_900, -1), (T0 + 2.5, 5, 0, 10, 1_000_000, 1)]
    result = _run(tmp_path, msgs, RESTING)          # the ask comes down to our price
    assert result.limit_filled.tolist() == [1.0]


def test_hidden_executions_never_fill(tmp_path):
    msgs = QUEUE[:1] + [(T0 + 0.1, 5, 0, 1000, 999_900, 1), (T0 + 2.5, 5, 0, 10, 1_000_000, 1)]
    assert _run(tmp_path, msgs, RESTING).limit_filled.tolist() == [0.0]


def test_rule_traders_and_batch_policies_trade_the_same_way(tmp_path):
    day = load_day(write_day(tmp_path, QUEUE, resting=RESTING))
    n = GAME.config.num_actions

    class Uniform:          # a rule trader's interface: integer observations
        def probabilities(self, obs):
            return np.full((len(obs), n), 1 / n)

    class UniformBatch:     # a BatchPolicy's: observation tensors and a legal mask
        def batch_probabilities(self, observations, legal_mask):
            assert observations.dtype == np.float32 and observations.shape == (1, GAME.observation_tensor_size())
            return legal_mask / legal_mask.sum(axis=1, keepdims=True)

    a = trade_replay(day, Uniform(), GAME, ExecutionConfig(bootstrap=20, seed=3))
    b = trade_replay(day, UniformBatch(), GAME, ExecutionConfig(bootstrap=20, seed=3))
    np.testing.assert_array_equal(a.pnl, b.pnl)
    np.testing.assert_array_equal(a.lots_traded, b.lots_traded)
    trader = make_trader("noise", GAME, [0])
    assert trade_replay(day, trader, GAME, ExecutionConfig(bootstrap=20)).episodes == 1
    with pytest.raises(TypeError, match="strategy=.* is not allowed"):
        trade_replay(day, object(), GAME)
    with pytest.raises(ValueError, match="fewer than one episode"):
        trade_replay(day, trader, GAME, ExecutionConfig(seconds_per_round=2.0))


@pytest.mark.parametrize("name, value", [("seconds_per_round", 0), ("real_ticks_per_model_tick", 0),
                                         ("shares_per_lot", 1.5), ("cancels_advance_queue", 1),
                                         ("bootstrap", 0), ("seed", -1)])
def test_config_refuses_bad_values_naming_them(name, value):
    with pytest.raises(ValueError, match=f"{name}={value!r} is not allowed"):
        ExecutionConfig(**{name: value})


def test_moving_block_bootstrap_covers_the_mean_and_widens_with_dependence():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(400, 1))
    walkish = np.repeat(rng.normal(size=(40, 1)), 10, axis=0)   # blocks of 10 equal values
    mean = lambda c: float(c[:, 0].mean())
    lo, hi = moving_block_bootstrap(iid, mean, block=1, replicates=400, rng=np.random.default_rng(1))
    assert lo < iid.mean() < hi
    narrow = moving_block_bootstrap(walkish, mean, block=1, replicates=400, rng=np.random.default_rng(1))
    wide = moving_block_bootstrap(walkish, mean, block=20, replicates=400, rng=np.random.default_rng(1))
    assert wide[1] - wide[0] > 1.5 * (narrow[1] - narrow[0])


GOOG = shared_sample()


@pytest.mark.skipif(GOOG is None, reason="the shared LOBSTER sample (../shared/data/lobster) is absent")
def test_a_market_maker_trades_the_goog_morning():
    assert GOOG is not None
    game = pyspiel.load_game("python_lob_market(players=2,steps=20)")
    result = trade_replay(load_day(GOOG), make_trader("market_maker", game, [0]), game,
                          ExecutionConfig(seconds_per_round=5.0, bootstrap=100), 34_200, 35_400)
    assert result.episodes == 12 and result.lots_traded.sum() > 0
    for est in (result.pnl_per_lot, result.fill_ratio, result.mean_abs_inventory):
        assert est.low <= est.value <= est.high
    assert 0 < result.fill_ratio.value < 1
