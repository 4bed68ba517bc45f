"""The one learned market best response (solvers.marl.best_response): checked inputs, seeded, both objectives."""
import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401
from marketgames.traders import make_trader
from solvers.marl.best_response import SpitefulOpponentsEnv, market_idqn_config, train_best_response

GAME = "python_lob_market(players=2,steps=5)"


@pytest.mark.parametrize("kwargs, name", [({"objective": "kind"}, "objective"), ({"steps": -1}, "steps"),
                                          ({"steps": 1.5}, "steps"), ({"config": "dqn"}, "config")])
def test_refuses_bad_input_naming_the_parameter(kwargs, name):
    game = pyspiel.load_game(GAME)
    zi = make_trader("zi", game, player_ids=[1])
    args = {"steps": 10, **kwargs}
    with pytest.raises((ValueError, TypeError), match=name):
        train_best_response(game, zi, num_envs=4, **args)


def test_refuses_a_game_that_is_not_a_two_player_market():
    with pytest.raises(ValueError, match="game"):
        train_best_response(pyspiel.load_game("python_lob_market(players=3,steps=5)"), [], steps=10)


def test_same_seed_gives_the_same_response_and_another_seed_another():
    game = pyspiel.load_game(GAME)
    zi = make_trader("zi", game, player_ids=[1])
    obs = np.random.default_rng(0).normal(size=(16, game.observation_tensor_size())).astype(np.float32)

    def greedy(seed):
        learner = train_best_response(game, zi, steps=400, num_envs=8, config=market_idqn_config(400), seed=seed)
        return learner.act([obs])[0]

    assert np.array_equal(greedy(3), greedy(3))
    assert not all(np.array_equal(greedy(3), greedy(s)) for s in (4, 5, 6))


def test_spiteful_reward_is_minus_the_targets_reward():
    game = pyspiel.load_game(GAME)
    zi = make_trader("zi", game, player_ids=[1])
    env = SpitefulOpponentsEnv(game, [zi], 6, seed=0)
    env.reset()
    for _ in range(5):
        out = env.step([np.random.default_rng(1).integers(0, game.num_distinct_actions(), 6)])
        assert np.allclose(out.rewards[:, 0], -env.last_rewards[:, 1])
