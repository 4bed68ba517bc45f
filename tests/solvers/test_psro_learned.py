"""PSRO with learned best responses and a simulated meta-game."""
from __future__ import annotations

import numpy as np
import pyspiel
import pytest
import torch
from open_spiel.python import policy

from solvers.equilibrium import mixture_regret
from solvers.exploitability import BestResponseConfig, build_tree, mix_tables, policy_table, policy_values
from solvers.learners import LearnedPSRO, MixturePolicy, Solver


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """The networks are tiny: on a shared 2-core machine torch's intra-op threads only spin (measured 7x slower
    NFSP with 2 threads under load). Restored after each test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SMALL = BestResponseConfig(train_episodes=2500, eval_episodes=200)


def test_learned_psro_lowers_kuhn_nash_conv_and_solves_its_meta_game():
    solver = LearnedPSRO("kuhn_poker", br_config=SMALL, samples_per_cell=150, seed=0)
    assert isinstance(solver, Solver)
    curve = [solver.step()["nash_conv"] for _ in range(2)]
    assert min(curve) < 0.75 * 11 / 12
    payoffs = solver.empirical.payoffs
    assert payoffs.shape == (2, 3, 3)
    assert mixture_regret(payoffs, solver.meta_strategies) <= 1e-6


def test_same_seed_same_meta_game():
    runs = []
    for _ in range(2):
        solver = LearnedPSRO("kuhn_poker", br_config=BestResponseConfig(train_episodes=600, eval_episodes=50),
                             samples_per_cell=20, seed=5)
        solver.step()
        runs.append(solver.empirical.payoffs)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_mixture_policy_is_the_behaviour_strategy_of_the_mix():
    """On Kuhn, the history-replay mixture equals the tree's reach-weighted mixture."""
    game = pyspiel.load_game("kuhn_poker")
    tree = build_tree(game)
    uniform = policy.UniformRandomPolicy(game)
    always_first = policy.FirstActionPolicy(game)
    mixture = MixturePolicy(game, [[uniform, always_first]] * 2, [np.array([0.25, 0.75])] * 2)
    expected = mix_tables(tree, [policy_table(tree, uniform), policy_table(tree, always_first)], [0.25, 0.75])
    np.testing.assert_allclose(policy_table(tree, mixture), expected, atol=1e-12)
    np.testing.assert_allclose(policy_values(tree, mixture), policy_values(tree, expected), atol=1e-12)


def test_runs_on_the_market_turn_based():
    solver = LearnedPSRO("python_lob_market(steps=3)", imports=("marketgames",),
                         br_config=BestResponseConfig(train_episodes=300, eval_episodes=50, num_envs=16),
                         samples_per_cell=10, seed=1)
    metrics = solver.step()
    assert metrics["meta_game"].shape == (2, 2, 2)
    assert np.isfinite(metrics["meta_game"]).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="samples_per_cell"):
        LearnedPSRO("kuhn_poker", samples_per_cell=1)


def test_checkpoint_and_resume_give_identical_numbers(tmp_path):
    config = BestResponseConfig(train_episodes=400, eval_episodes=50, num_envs=8)
    a = LearnedPSRO("kuhn_poker", br_config=config, samples_per_cell=20, meta_solver="uniform", seed=2)
    a.step()
    path = a.save(tmp_path / "learned_psro.pt")
    b = LearnedPSRO.load(path)
    assert b.iteration == 1
    ma, mb = a.step(), b.step()
    np.testing.assert_array_equal(ma["meta_game"], mb["meta_game"])
    assert ma["nash_conv"] == mb["nash_conv"]
    with pytest.raises(ValueError, match="path"):
        torch.save({"format": 0}, tmp_path / "other.pt")
        LearnedPSRO.load(tmp_path / "other.pt")
