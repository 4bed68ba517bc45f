"""Trained agents on the batched payoff simulator (issue 10, item 4): a greedy OpenSpiel policy of a learner is also
a ``BatchPolicy`` (one forward pass per seat and round on the whole batch), plays the same game as the OpenSpiel loop
market by market, and enters an ``EmpiricalGame`` next to rule traders on ``BatchedMarketSimulator``."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.market.batched import STREAM_FIRST_SEAT, BatchedMarket, counter_uniform, inverse_cdf
from marketgames.market.payoffs import BatchedMarketSimulator, BatchPolicy
from marketgames.seeding import seed_sequence
from marketgames.traders import make_trader
from solvers.empirical import EmpiricalGame
from solvers.marl import IndependentDQN, IndependentDQNConfig
from solvers.marl.base import ObservationGreedyPolicy
from solvers.rl.dqn import DQNConfig

MARKET = "python_lob_market(players=2,steps=5)"


@pytest.fixture(scope="module")
def trained():
    dqn = DQNConfig(hidden=(16,), learning_rate=1e-3, batch_size=64, replay_capacity=2_000, min_buffer=64,
                    target_update_every=5, epsilon_decay_steps=1_000, discount=0.9, optimizer="adam")
    agent = IndependentDQN(MARKET, IndependentDQNConfig(dqn=dqn, num_envs=64, env_steps_per_update=64), seed=0)
    agent.train(1_280)
    game = pyspiel.load_game(MARKET)
    return game, [agent.policy(game, p) for p in range(2)]


def test_greedy_policy_is_a_batch_policy_that_matches_its_openspiel_rows(trained):
    game, policies = trained
    assert isinstance(policies[0], BatchPolicy)
    state = game.new_initial_state()
    while state.is_chance_node():
        state.apply_action(state.legal_actions()[0])
    obs = np.stack([np.asarray(state.observation_tensor(p), np.float32) for p in range(2)])
    legal = np.ones((2, game.num_distinct_actions()), bool)
    rows = policies[0].batch_probabilities(obs, legal)
    for p in range(2):
        probs = policies[0].action_probabilities(state, p)
        np.testing.assert_array_equal(rows[p], [probs.get(a, 0.0) for a in range(game.num_distinct_actions())])
    # the mask is respected: the best action made illegal gives way to the next best
    best = int(np.argmax(rows[0]))
    legal[0, best] = False
    assert policies[0].batch_probabilities(obs, legal)[0, best] == 0.0
    with pytest.raises(ValueError, match="legal_mask of shape"):
        policies[0].batch_probabilities(obs, legal[:1])


@pytest.mark.parametrize("which", ["agents", "agent_and_trader"])
def test_batched_returns_equal_the_openspiel_policies_market_by_market(trained, which):
    """Replay each market of a ``BatchedMarketSimulator.returns`` call on an OpenSpiel state: the same chance outcomes,
    each seat's action drawn from its OpenSpiel policy with the market's uniform; the returns must be equal."""
    game, policies = trained
    seats = list(policies) if which == "agents" else [policies[0], make_trader("trend", game)]
    episodes = 24
    returns = BatchedMarketSimulator(max_batch=10).returns(game, seats, episodes, np.random.default_rng(7))
    market = BatchedMarket(game.config, episodes, seed_sequence(np.random.default_rng(7), name="rng"))
    market.reset()  # the chance draws of a market's first episode do not depend on the actions
    while not market.done:
        market.step(np.zeros((episodes, 2), np.int64))
    log, keys, episode = market.chance_log, market.keys, market.episode
    chosen = set()
    for i in range(episodes):
        state = game.new_initial_state()
        for r in range(game.config.steps):
            for outcome in log[i, r]:
                state.apply_action(int(outcome))
            joint = []
            for p, seat in enumerate(seats):
                probs = seat.action_probabilities(state, p)
                cdf = np.cumsum([probs.get(a, 0.0) for a in range(game.num_distinct_actions())])
                u = counter_uniform(keys[i, 0], keys[i, 1], episode, r, STREAM_FIRST_SEAT + p)
                joint.append(int(inverse_cdf(cdf, u)))
            chosen.add(joint[0])
            state.apply_actions(joint)
        assert state.is_terminal()
        assert state.returns() == list(returns[i]), i
    assert len(chosen) > 1  # the agent acts on what it sees: the equality is not one constant action


def test_an_empirical_game_of_trained_agents_and_rule_traders_runs_batched(trained):
    game, policies = trained
    roles = [[policies[p], make_trader("noise", game, player_ids=[p])] for p in range(2)]
    names = [["idqn", "noise"]] * 2
    batched = EmpiricalGame(game, roles, names=names, seed=0, simulator=BatchedMarketSimulator())
    batched.sample(min_samples=2_000, batch_size=2_000)
    loop = EmpiricalGame(game, roles, names=names, seed=0)
    loop.sample(min_samples=150, batch_size=150)
    assert batched.payoffs.shape == loop.payoffs.shape == (2, 2, 2)
    # other random streams, the same game: every cell within 4.5 combined standard errors
    se = np.sqrt(loop.standard_errors ** 2 + batched.standard_errors ** 2)
    z = np.abs(loop.payoffs - batched.payoffs) / np.where(se > 0, se, 1.0)
    assert np.nanmax(z) < 4.5, z


def test_refuses_batch_policies_of_another_market_and_strategies_with_neither_method(trained):
    game, policies = trained
    other = pyspiel.load_game("python_lob_market(players=2,steps=6)")
    stranger = ObservationGreedyPolicy(other, 0, policies[0].scores)
    with pytest.raises(ValueError, match=r"strategies\[1\].*another market"):
        BatchedMarketSimulator().check(game, [policies[0], stranger])

    class StateReader:  # an OpenSpiel policy that reads the state: only the OpenSpiel loop plays it
        def action_probabilities(self, state, player_id=None):
            return {0: 1.0}

    with pytest.raises(TypeError, match=r"strategies\[1\].*batch_probabilities"):
        BatchedMarketSimulator().check(game, [policies[0], StateReader()])
    with pytest.raises(TypeError, match=r"strategies\[0\].*neither"):
        BatchedMarketSimulator().returns(game, [StateReader(), policies[1]], 4, np.random.default_rng(0))
