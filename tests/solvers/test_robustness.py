"""solvers.robustness: payoffs against held-out opponents and mixtures, best-response adversaries (selfish and
spiteful), worst case and average -- pinned on Kuhn, Leduc, 3-player Kuhn and a matrix game with known answers."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as os_policy

from solvers.exploitability import BestResponseConfig, best_response, build_tree, nash_conv, policy_values
from solvers.robustness import (Estimate, MarketAdversaryConfig, RobustnessRecord, adversary_records,
                                best_response_adversary, evaluate_against, summarize, train_market_adversary)

KUHN_VALUE = -1.0 / 18.0  # player 0's value of Kuhn poker


def kuhn_nash(game: pyspiel.Game, alpha: float = 0.0) -> os_policy.TabularPolicy:
    """Kuhn's equilibrium family (Kuhn 1950): player 0 bets J with alpha, K with 3 alpha, calls Q with alpha + 1/3;
    player 1 bets J after a check with 1/3, calls Q with 1/3."""
    bet = {"0": alpha, "1": 0.0, "2": 3 * alpha, "0pb": 0.0, "1pb": alpha + 1 / 3, "2pb": 1.0,
           "0p": 1 / 3, "1p": 0.0, "2p": 1.0, "0b": 0.0, "1b": 1 / 3, "2b": 1.0}
    policy = os_policy.TabularPolicy(game)
    for key, p in bet.items():
        policy.policy_for_key(key)[:] = [1 - p, p]
    return policy


@pytest.fixture(scope="module")
def kuhn():
    return pyspiel.load_game("kuhn_poker")


def test_kuhn_nash_policy_is_the_published_equilibrium(kuhn):
    nash = kuhn_nash(kuhn, alpha=0.2)
    assert nash_conv(kuhn, nash) == pytest.approx(0.0, abs=1e-12)
    assert policy_values(kuhn, nash)[0] == pytest.approx(KUHN_VALUE)


def test_uniform_policy_against_exact_adversaries_in_kuhn(kuhn):
    """Kuhn's uniform policy: value 1/8 to player 0; a best response of player 1 earns 5/12, of player 0 1/2
    (NashConv 11/12)."""
    uniform = os_policy.UniformRandomPolicy(kuhn)
    vs1 = best_response_adversary(kuhn, uniform, seat=0)
    vs0 = best_response_adversary(kuhn, uniform, seat=1)
    assert vs1.method == vs0.method == "exact" and vs1.kind == "adversary"
    assert vs1.payoff.mean == pytest.approx(-5 / 12) and vs1.gain.mean == pytest.approx(5 / 12 + 1 / 8)
    assert vs0.payoff.mean == pytest.approx(-1 / 2) and vs0.gain.mean == pytest.approx(1 / 2 - 1 / 8)
    assert vs1.gain.mean + vs0.gain.mean == pytest.approx(11 / 12)
    assert vs1.payoff.low == vs1.payoff.high  # exact: an interval of width 0


@pytest.mark.parametrize("game_name", ["kuhn_poker", "leduc_poker"])
def test_spiteful_adversary_coincides_with_selfish_in_two_player_zero_sum(game_name):
    game = pyspiel.load_game(game_name)
    tree = build_tree(game)
    rng = np.random.default_rng(1)
    table = rng.random(tree.legal_mask.shape) * tree.legal_mask
    table /= table.sum(axis=1, keepdims=True)
    for seat in (0, 1):
        selfish = best_response(tree, table, 1 - seat)
        spiteful = best_response(tree, table, 1 - seat, objective="spiteful", target=seat)
        assert np.array_equal(selfish.actions, spiteful.actions)
        assert spiteful.value == pytest.approx(selfish.value)
    uniform = os_policy.UniformRandomPolicy(game)
    a, b = adversary_records(game, uniform, seat=1)
    assert (a.objective, b.objective) == ("selfish", "spiteful")
    assert a.payoff.mean == pytest.approx(b.payoff.mean) and a.gain.mean == pytest.approx(b.gain.mean)


def test_nash_policy_is_unexploitable_by_either_adversary(kuhn):
    nash = kuhn_nash(kuhn)
    for seat in (0, 1):
        for record in adversary_records(kuhn, nash, seat=seat):
            assert record.gain.mean == pytest.approx(0.0, abs=1e-12)
            value = KUHN_VALUE if seat == 0 else -KUHN_VALUE
            assert record.payoff.mean == pytest.approx(value)


def test_spiteful_differs_from_selfish_in_three_player_kuhn():
    """With three players the adversary's own payoff is not minus the target's: the spiteful adversary hurts the
    target more than the selfish one, and gains less itself."""
    game = pyspiel.load_game("kuhn_poker(players=3)")
    uniform = os_policy.UniformRandomPolicy(game)
    selfish, spiteful = adversary_records(game, uniform, seat=0, adversary_seat=1)
    base = policy_values(game, uniform)
    assert spiteful.payoff.mean < selfish.payoff.mean - 1e-3
    assert spiteful.gain.mean == pytest.approx(base[0] - spiteful.payoff.mean)  # the target's loss
    assert spiteful.gain.mean > base[0] - selfish.payoff.mean


def test_spiteful_differs_from_selfish_in_a_general_sum_matrix_game():
    """Rows: target; columns: adversary. Against a target playing row 0, a selfish column player takes column 0
    (payoff 2, target 1); a spiteful one takes column 1 (payoff 0 to itself, -3 to the target)."""
    target_payoff = [[1, -3], [0, 0]]
    adversary_payoff = [[2, 0], [0, 0]]
    game = pyspiel.create_matrix_game(target_payoff, adversary_payoff)
    row0 = os_policy.FirstActionPolicy(game)
    selfish, spiteful = adversary_records(game, row0, seat=0)
    assert selfish.payoff.mean == pytest.approx(1.0) and spiteful.payoff.mean == pytest.approx(-3.0)
    # the background (the strategy itself: column 0) already is the selfish best response: no gain; the
    # spiteful adversary's gain is the target's loss, 1 -> -3
    assert selfish.gain.mean == pytest.approx(0.0) and spiteful.gain.mean == pytest.approx(4.0)


def test_held_out_opponents_and_mixtures_exact_in_kuhn(kuhn):
    uniform = os_policy.UniformRandomPolicy(kuhn)
    first = os_policy.FirstActionPolicy(kuhn)  # always pass / fold
    records = evaluate_against(kuhn, uniform, {"uniform": uniform, "passive": first},
                               mixtures={"mostly passive": {"uniform": 1.0, "passive": 3.0}}, name="uniform")
    payoff = {r.opponent: r.payoff.mean for r in records}
    assert [r.kind for r in records] == ["held_out", "held_out", "mixture"]
    assert payoff["uniform"] == pytest.approx(1 / 8)
    assert payoff["passive"] == pytest.approx(policy_values(kuhn, _seat_mix(kuhn, uniform, first))[0])
    assert payoff["mostly passive"] == pytest.approx(0.25 * payoff["uniform"] + 0.75 * payoff["passive"])
    summary = summarize(records)
    assert summary.worst.opponent == "uniform" and summary.count == 3
    assert summary.average.mean == pytest.approx(np.mean(list(payoff.values())))


def _seat_mix(game, seat0, seat1):
    from solvers.robustness import SeatPolicy

    return SeatPolicy(game, [seat0, seat1])


def test_sampled_payoffs_cover_the_exact_value(kuhn):
    uniform = os_policy.UniformRandomPolicy(kuhn)
    (record,) = evaluate_against(kuhn, uniform, {"uniform": uniform}, method="sampled", episodes=4_000, seed=3)
    assert record.method == "sampled" and record.payoff.n == 4_000
    assert record.payoff.low < 1 / 8 < record.payoff.high
    again = evaluate_against(kuhn, uniform, {"uniform": uniform}, method="sampled", episodes=4_000, seed=3)
    assert again[0].payoff == record.payoff  # the seed fixes the numbers


def test_learned_spiteful_adversary_is_a_lower_bound_with_an_interval(kuhn):
    uniform = os_policy.UniformRandomPolicy(kuhn)
    config = BestResponseConfig(train_episodes=2_000, eval_episodes=500, num_envs=32)
    record = best_response_adversary(kuhn, uniform, objective="spiteful", method="learned", br_config=config,
                                     episodes=1_000, seed=0)
    assert record.method == "learned" and record.payoff.n == 1_000
    assert record.gain.low < record.gain.mean < record.gain.high
    assert record.gain.mean > 0.1  # it learned to hurt the uniform policy ...
    assert record.gain.low < 5 / 12 + 1 / 8 + 1e-9  # ... but no more than the exact best response can


def test_learned_market_adversaries_train_on_their_objective():
    """In the market the learned adversary is an IDQN on the batched engine; the spiteful env rewards seat 0 with
    minus seat 1's PnL."""
    from marketgames.traders import make_trader
    from solvers.marl.best_response import SpitefulOpponentsEnv

    game = pyspiel.load_game("python_lob_market(players=2,steps=5)")
    zi = make_trader("zi", game)
    env = SpitefulOpponentsEnv(game, [zi], 8, seed=0)
    env.reset()
    total = np.zeros(8)
    for _ in range(5):
        out = env.step([np.zeros(8, np.int64)])
        assert np.array_equal(out.rewards[:, 0], (-env.last_rewards[:, 1]).astype(np.float32))
        total += -env.last_rewards[:, 1]
    assert np.allclose(out.episode_returns[:, 0], total)
    policy = train_market_adversary(game, zi, objective="spiteful", config=MarketAdversaryConfig(steps=400, num_envs=8))
    record = best_response_adversary(game, zi, seat=1, objective="spiteful",
                                     market=MarketAdversaryConfig(steps=400, num_envs=8), episodes=50)
    with pytest.raises(ValueError, match="seat=1"):
        best_response_adversary(game, zi, seat=0, market=MarketAdversaryConfig(steps=400, num_envs=8))
    assert record.method == "learned" and np.isfinite(record.payoff.mean) and record.gain is not None
    assert policy.batch_probabilities(np.zeros((3, game.observation_tensor_size()), np.float32),
                                      np.ones((3, game.num_distinct_actions()), bool)).sum(axis=1).tolist() == [1] * 3


@pytest.mark.parametrize("kwargs, match", [
    ({"seat": 2}, "seat"), ({"objective": "greedy"}, "objective"), ({"method": "guess"}, "method"),
    ({"episodes": 1}, "episodes"), ({"adversary_seat": 0}, "adversary_seat")])
def test_adversary_refuses_bad_input(kuhn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        best_response_adversary(kuhn, os_policy.UniformRandomPolicy(kuhn), **kwargs)


def test_evaluate_refuses_bad_input(kuhn):
    uniform = os_policy.UniformRandomPolicy(kuhn)
    with pytest.raises(ValueError, match="opponents"):
        evaluate_against(kuhn, uniform, {})
    with pytest.raises(ValueError, match="mixtures"):
        evaluate_against(kuhn, uniform, {"u": uniform}, mixtures={"m": {"nobody": 1.0}})
    with pytest.raises(TypeError, match="strategy"):
        evaluate_against(kuhn, object(), {"u": uniform})
    with pytest.raises(ValueError, match="target"):
        best_response(kuhn, uniform, 1, objective="spiteful")
    with pytest.raises(ValueError, match="summarise one strategy"):
        summarize([RobustnessRecord("a", "x", "held_out", "exact", Estimate.exact(0.0)),
                   RobustnessRecord("b", "x", "held_out", "exact", Estimate.exact(0.0))])
