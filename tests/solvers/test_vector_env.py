"""The vector environment's rewards: summed over an episode they are its returns, on games with rewards every round
(the market, simultaneous moves made turn-based) and at the end only (Kuhn, Leduc with a mid-game chance node)."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest

import marketgames
from solvers.rl.vector_env import VectorEnv


@pytest.mark.parametrize("game_string", [marketgames.TINY_GAME, "python_lob_market(players=3,steps=4)",
                                         "kuhn_poker", "leduc_poker"])
def test_summed_rewards_are_the_returns(game_string):
    game = pyspiel.load_game(game_string)
    if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        game = pyspiel.convert_to_turn_based(game)
    env = VectorEnv(game, 8, seed=3)
    rng = np.random.default_rng(0)
    totals = np.zeros((env.num_envs, env.num_players))
    finished = 0
    nonzero_midgame = False
    while finished < 60:
        _, legal = env.observations()
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in legal])
        rewards, done, returns = env.step(actions)
        nonzero_midgame |= bool(np.any(rewards[~done] != 0))
        totals += rewards
        for b in np.flatnonzero(done):
            np.testing.assert_allclose(totals[b], returns[b], atol=1e-9)
            totals[b] = 0.0
            finished += 1
    # the market pays every round, so the test would catch rewards counted at chance nodes twice
    assert nonzero_midgame == game_string.startswith("python_lob_market")
