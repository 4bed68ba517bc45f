"""Every config dataclass of the learners refuses bad values at construction, naming the field (issue 9, item 9)."""
import dataclasses
import math

import pyspiel
import pytest
from open_spiel.python import policy

from solvers.exploitability import (
    BestResponseConfig,
    approximate_exploitability,
    learn_best_response,
)
from solvers.learners import NFSPConfig
from solvers.rl.dqn import DQNConfig
from solvers.rl.ppo import PPOConfig

# One or more bad values for every field of every config (a test below checks no field is missing).
BAD = {
    DQNConfig: {
        "hidden": [(0,), (64, -1), (2.5,), "64", 64],
        "learning_rate": [0.0, -1e-3, math.nan, math.inf, "0.01", True],
        "batch_size": [0, -1, 1.5, True, 300_000],  # 300,000 > replay_capacity: never samples
        "replay_capacity": [0, -5, 10.0],
        "min_buffer": [-1, 300_000, 0.5],
        "target_update_every": [0, -3, 1.0],
        "epsilon_start": [-0.1, 1.5, math.nan],
        "epsilon_end": [-0.1, 1.01, None],
        "epsilon_decay_steps": [-1, 1e6],
        "discount": [-0.01, 1.01, math.nan],
        "optimizer": ["rmsprop", None, ["sgd"]],
    },
    NFSPConfig: {
        "num_envs": [0, 2.0],
        "episodes_per_step": [0, -10],
        "anticipatory": [0.0, 1.1, -0.1, math.nan],
        "sl_learning_rate": [0.0, -1.0, math.inf],
        "sl_batch_size": [0, 3_000_000, True],
        "reservoir_capacity": [0, -1],
        "learn_every": [0, 0.5],
        "min_reservoir": [-1, 3_000_000],
        "sl_optimizer": ["rmsprop", 1],
        "dqn": [None, {"batch_size": 32}],
    },
    BestResponseConfig: {
        "train_episodes": [-5, 0, 10.5],
        "eval_episodes": [1, 0, -2, 100.0],
        "num_envs": [0, -1],
        "learn_every": [0, False],
        "dqn": [None, PPOConfig()],
        "oracle": ["sac", None],
        "ppo": [None, DQNConfig()],
    },
    PPOConfig: {
        "hidden": [(0,), "64"],
        "learning_rate": [0.0, math.nan],
        "rollout_steps": [0, 1.5],
        "update_epochs": [0, -1],
        "num_minibatches": [0, 257],  # more minibatches than rollout_steps
        "clip": [0.0, -0.2],
        "gamma": [-0.1, 1.5],
        "gae_lambda": [-0.1, 1.5],
        "value_coef": [-0.5, math.nan],
        "entropy_coef": [-0.01, math.inf],
        "max_grad_norm": [0.0, -1.0],
        "normalize_advantages": [1, "yes"],
        "clip_value_loss": [0, None],
        "target_kl": [0.0, -0.1],
        "optimizer": ["rmsprop", None],
        "seed": [-1, 1.5],
    },
}
CASES = [(cls, name, value) for cls, fields in BAD.items() for name, values in fields.items() for value in values]


@pytest.mark.parametrize("cls", list(BAD), ids=lambda c: c.__name__)
def test_every_field_has_a_bad_value_in_the_table(cls):
    assert set(BAD[cls]) == {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls,name,value", CASES, ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in CASES])
def test_every_bad_field_is_refused_with_its_name(cls, name, value):
    with pytest.raises(ValueError, match=f"^{name}=.* is not allowed: expected "):
        cls(**{name: value})
    with pytest.raises(ValueError, match=f"^{name}="):  # also through dataclasses.replace
        dataclasses.replace(cls(), **{name: value})


@pytest.mark.parametrize("cls", list(BAD), ids=lambda c: c.__name__)
def test_defaults_and_boundary_values_are_accepted(cls):
    cls()
    edges = {
        DQNConfig: {"hidden": [32, 32], "batch_size": 1, "min_buffer": 0, "epsilon_start": 1.0, "epsilon_end": 0.0,
                    "epsilon_decay_steps": 0, "discount": 0.0},
        NFSPConfig: {"anticipatory": 1.0, "min_reservoir": 0, "sl_batch_size": 1},
        BestResponseConfig: {"train_episodes": 1, "eval_episodes": 2, "learn_every": 1},
        PPOConfig: {"hidden": (), "gamma": 0.0, "gae_lambda": 1.0, "target_kl": None, "num_minibatches": 256},
    }[cls]
    config = cls(**edges)
    if cls is DQNConfig:
        assert config.hidden == (32, 32)  # a list (as a checkpoint hands back) becomes a tuple


def test_the_issues_examples_are_refused_at_construction():
    """Each of these used to be accepted: batch_size=0 trained to a NaN loss, target_update_every=0 raised
    ZeroDivisionError inside NFSP.step, train_episodes=-5 trained nothing, eval_episodes=1 gave NashConv 0.0 with NaN
    standard errors."""
    with pytest.raises(ValueError, match="batch_size=0 is not allowed"):
        DQNConfig(batch_size=0)
    with pytest.raises(ValueError, match="target_update_every=0 is not allowed"):
        NFSPConfig(dqn=DQNConfig(target_update_every=0))
    with pytest.raises(ValueError, match="train_episodes=-5 is not allowed"):
        BestResponseConfig(train_episodes=-5)
    with pytest.raises(ValueError, match="eval_episodes=1 is not allowed: expected an int >= 2"):
        BestResponseConfig(eval_episodes=1)


def test_approximate_exploitability_refuses_bad_arguments_before_any_work():
    game = pyspiel.load_game("kuhn_poker")
    uniform = policy.UniformRandomPolicy(game)
    small = BestResponseConfig(train_episodes=1, eval_episodes=2, num_envs=1)
    for players in ([], [0, 0], [True], [0.0], [-1], [2]):
        with pytest.raises(ValueError, match=r"^players=.* is not allowed"):
            approximate_exploitability(game, uniform, config=small, players=players)
    with pytest.raises(TypeError, match="^config="):
        approximate_exploitability(game, uniform, config={"eval_episodes": 1})
    with pytest.raises(TypeError, match="^policy="):
        approximate_exploitability(game, "uniform", config=small)
    for player in (2, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"^player=.* is not allowed: expected an int in \[0, 1\]"):
            learn_best_response(game, uniform, player, small)
