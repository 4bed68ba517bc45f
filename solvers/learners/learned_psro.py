"""PSRO for games too large to enumerate: learned best responses and a simulated meta-game.

The same algorithm as :class:`solvers.learners.psro.PSRO` (Lanctot et al. 2017), with the two exact steps replaced
by estimates: each new policy is a learned best response (DQN or PPO, the ``oracle``) trained against the others'
meta-strategy mixture (:func:`solvers.exploitability.learn_best_response`), and the meta-game is an empirical game
whose cells are estimated by simulation with confidence intervals (:class:`solvers.empirical.EmpiricalGame`; adding
a policy samples only the new cells). Exploitability is exact NashConv when the tree is small enough, else the learned
best-response lower bound (Timbers et al. 2020) every ``exploitability_every`` iterations.
"""
from __future__ import annotations

import dataclasses
import io
import json
import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyspiel
import torch
from open_spiel.python import policy as os_policy
from torch import nn

from solvers.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from marketgames.seeding import SeedLike, seed_sequence
from solvers.empirical import EmpiricalGame
from solvers.equilibrium.meta_solvers import meta_solver as make_meta_solver
from solvers.exploitability.approximate import (ORACLES, BestResponseConfig, approximate_exploitability,
                                                learn_best_response)
from solvers.exploitability.exact import nash_conv
from solvers.exploitability.tree import GameNotSupportedError, GameTree, build_tree
from solvers.rl.dqn import DQN, DQNConfig, mlp
from solvers.rl.ppo import PPO, PPOConfig

logger = logging.getLogger(__name__)

__all__ = ["GreedyPolicy", "LearnedPSRO", "MixturePolicy"]

_KIND = "LearnedPSRO"


class GreedyPolicy(os_policy.Policy):
    """The greedy policy of a learned network for one player (on information-state tensors): the legal action with
    the highest output, a DQN's Q-value or a PPO actor's logit (the attribute keeps its historical name)."""

    def __init__(self, game: pyspiel.Game, q_network: nn.Module, player: int) -> None:
        super().__init__(game, [player])
        self.q_network = q_network
        self.player = player

    def action_probabilities(self, state, player_id=None):
        player = self.player if player_id is None else player_id
        legal = state.legal_actions(player)
        with torch.no_grad():
            q = self.q_network(torch.as_tensor(state.information_state_tensor(player), dtype=torch.float32)).numpy()
        best = max(legal, key=lambda a: q[a])
        return {a: float(a == best) for a in legal}


class MixturePolicy(os_policy.Policy):
    """Each player's policies mixed by meta-strategy weights, as a behaviour policy (Kuhn's theorem).

    At a state, policy ``k`` of the player to move is weighted by ``weights[k]`` times its probability of the
    player's own earlier actions (found by replaying the history), which is exactly how the mixed strategy that
    draws one policy per episode behaves.
    """

    def __init__(self, game: pyspiel.Game, policies: Sequence[Sequence[os_policy.Policy]],
                 weights: Sequence[np.ndarray]) -> None:
        super().__init__(game, list(range(game.num_players())))
        if game.get_type().dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
            raise ValueError(f"game={game}: MixturePolicy needs a sequential game (use convert_to_turn_based)")
        self.policies = [list(p) for p in policies]
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]

    def action_probabilities(self, state, player_id=None):
        player = state.current_player() if player_id is None else player_id
        members = np.flatnonzero(self.weights[player] > 0)
        if members.size == 1:
            return self.policies[player][members[0]].action_probabilities(state, player)
        rho = self.weights[player][members].copy()
        replay = self.game.new_initial_state()
        for step in state.full_history():
            if step.player == player:
                for m, k in enumerate(members):
                    rho[m] *= self.policies[player][k].action_probabilities(replay, player).get(step.action, 0.0)
            replay.apply_action(step.action)
        if rho.sum() <= 0:  # the history is impossible for every member: fall back to the plain mixture
            rho = self.weights[player][members].copy()
        out: dict[int, float] = {}
        for m, k in enumerate(members):
            for action, prob in self.policies[player][k].action_probabilities(state, player).items():
                out[action] = out.get(action, 0.0) + rho[m] * prob
        total = sum(out.values())
        return {a: p / total for a, p in out.items()}


def _policy_network(learner: DQN | PPO) -> nn.Module:
    """The network whose argmax is the learner's greedy policy."""
    return learner.actor if isinstance(learner, PPO) else learner.q


def _network(weights: dict[str, torch.Tensor], obs_size: int, num_actions: int) -> nn.Module:
    """An :func:`mlp` rebuilt from its ``state_dict`` (hidden sizes read off the weights, whichever oracle made
    it)."""
    hidden = tuple(w.shape[0] for k, w in weights.items() if k.endswith(".weight"))[:-1]
    net = mlp(obs_size, hidden, num_actions)
    net.load_state_dict(weights)
    return net


class LearnedPSRO:
    """PSRO with learned (DQN or PPO) best responses and an empirical meta-game, for any OpenSpiel game with
    information-state tensors (simultaneous games are played turn-based).

    Args:
        game: the game or its string.
        meta_solver: a name of :data:`solvers.equilibrium.meta_solvers.META_SOLVERS` or a callable.
        br_config: budget and learner of each learned best response.
        oracle: the best-response learner, ``"dqn"`` or ``"ppo"``; overrides ``br_config.oracle`` when given
            (default: ``br_config``'s, itself ``"dqn"`` by default).
        samples_per_cell: episodes per meta-game cell.
        workers: processes for the meta-game simulation (the numbers do not depend on it).
        exploitability_every: estimate the learned-best-response exploitability every so many iterations (0:
            never) when exact NashConv is out of reach.
        seed: the one seed.
    """

    def __init__(self, game: pyspiel.Game | str, *, meta_solver: str | Callable = "nash",
                 br_config: BestResponseConfig | None = None, samples_per_cell: int = 200, workers: int = 1,
                 exploitability_every: int = 0, seed: SeedLike = 0,
                 imports: Sequence[str] = (), oracle: str | None = None) -> None:
        if oracle is not None and oracle not in ORACLES:
            raise ValueError(f"oracle={oracle!r} is not allowed: expected one of {list(ORACLES)}")
        if isinstance(game, str):
            for module in imports:
                __import__(module)
            game = pyspiel.load_game(game)
        self.game_string = str(game)
        self.imports = tuple(imports)
        self.meta_solver_name = meta_solver if isinstance(meta_solver, str) else None
        if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
            game = pyspiel.convert_to_turn_based(game)
        if not game.get_type().provides_information_state_tensor:
            raise ValueError(f"game={game}: learned best responses need information-state tensors")
        if samples_per_cell < 2:
            raise ValueError(f"samples_per_cell={samples_per_cell} is not allowed: expected >= 2")
        self.game = game
        self.meta_solver = make_meta_solver(meta_solver)
        self.br_config = br_config or BestResponseConfig()
        if oracle is not None:
            self.br_config = dataclasses.replace(self.br_config, oracle=oracle)
        self.samples_per_cell = int(samples_per_cell)
        self.workers = int(workers)
        self.exploitability_every = int(exploitability_every)
        root = seed_sequence(seed)
        meta_seed, self._oracle_root = root.spawn(2)
        n = game.num_players()
        self.population: list[list[os_policy.Policy]] = [[os_policy.UniformRandomPolicy(game)] for _ in range(n)]
        self.empirical = EmpiricalGame(game, [list(p) for p in self.population],
                                       names=[["uniform"] for _ in range(n)], seed=meta_seed,
                                       imports=tuple(imports))
        self._sample()
        self.meta_strategies = [np.ones(1) for _ in range(n)]
        self.iteration = 0
        self.tree: GameTree | None
        try:
            self.tree = build_tree(game, max_nodes=200_000)
        except GameNotSupportedError:
            self.tree = None

    @property
    def oracle(self) -> str:
        """The best-response learner, ``"dqn"`` or ``"ppo"``."""
        return self.br_config.oracle

    def _sample(self) -> None:
        self.empirical.sample(min_samples=self.samples_per_cell, batch_size=self.samples_per_cell,
                              max_samples=self.samples_per_cell, workers=self.workers)

    def policy(self) -> MixturePolicy:
        return MixturePolicy(self.game, self.population, self.meta_strategies)

    def step(self) -> dict[str, Any]:
        mixture = self.policy()
        seeds = self._oracle_root.spawn(self.game.num_players())
        for p in range(self.game.num_players()):
            learner = learn_best_response(self.game, mixture, p, self.br_config, seed=seeds[p])
            response = GreedyPolicy(self.game, _policy_network(learner), p)
            self.population[p].append(response)
            self.empirical.add_strategy(response, player=p, name=f"br{self.iteration + 1}")
        self._sample()
        self.meta_strategies = [np.asarray(s, float) for s in self.meta_solver(self.empirical.payoffs)]
        self.iteration += 1
        metrics: dict[str, Any] = {"iteration": self.iteration, "meta_strategies": self.meta_strategies,
                                   "meta_game": self.empirical.payoffs.copy()}
        if self.tree is not None:
            metrics["nash_conv"] = nash_conv(self.tree, self.policy())
        elif self.exploitability_every and self.iteration % self.exploitability_every == 0:
            estimate = approximate_exploitability(self.game, self.policy(), config=self.br_config,
                                                  seed=seeds[0].spawn(1)[0])
            metrics["approximate_nash_conv"] = estimate.nash_conv
            metrics["approximate_nash_conv_ci"] = estimate.nash_conv_ci
        score = metrics.get("nash_conv", metrics.get("approximate_nash_conv"))
        logger.info("learned PSRO iteration %d%s", self.iteration, "" if score is None else f": NashConv {score:.5f}")
        return metrics

    # ------------------------------------------------------------------ checkpoint
    def save(self, path: str | Path) -> Path:
        """Write everything needed to resume to ``path`` (exactly that name; a :mod:`solvers.checkpoint` file with
        a content hash): the populations (weights of the Q-networks or PPO actors, each a ``torch.save`` blob), the
        best-response settings with the oracle, the empirical meta-game with its seed, the meta-strategies, the
        oracle seed's spawn counter and the settings. :meth:`load` continues with identical numbers."""
        blobs: dict[str, bytes] = {}
        networks: list[list[str | None]] = []
        for p, pop in enumerate(self.population):
            names: list[str | None] = []
            for k, pi in enumerate(pop):
                if isinstance(pi, os_policy.UniformRandomPolicy):
                    names.append(None)
                    continue
                buffer = io.BytesIO()
                torch.save(pi.q_network.state_dict(), buffer)
                name = f"net_{p}_{k}"
                names.append(name)
                blobs[name] = buffer.getvalue()
            networks.append(names)
        root = self._oracle_root
        meta = {
            "game": self.game_string, "imports": list(self.imports),
            "meta_solver": self.meta_solver_name, "br_config": dataclasses.asdict(self.br_config),
            "samples_per_cell": self.samples_per_cell, "exploitability_every": self.exploitability_every,
            "iteration": self.iteration, "meta_strategies": [s.tolist() for s in self.meta_strategies],
            "empirical": self.empirical.to_dict(), "networks": networks,
            "oracle_seed": {"entropy": str(root.entropy), "spawn_key": list(root.spawn_key),
                            "spawned": root.n_children_spawned},
        }
        return save_checkpoint(path, kind=_KIND, meta=meta, blobs=blobs)

    @classmethod
    def load(cls, path: str | Path, *, meta_solver: str | Callable | None = None, workers: int = 1) -> LearnedPSRO:
        """Resume from :meth:`save` (pass ``meta_solver`` again when it was a callable). A damaged or foreign file
        raises :class:`~solvers.checkpoint.CheckpointError`; weights are read with ``torch.load(weights_only=True)``
        after their hash is checked."""
        checkpoint = load_checkpoint(path, kind=_KIND)
        state = checkpoint.meta
        if meta_solver is None and state["meta_solver"] is None:
            raise ValueError("meta_solver=None is not allowed: the checkpoint's meta-solver was a callable; pass it")
        try:
            br = dict(state["br_config"])
            br_config = BestResponseConfig(**{**br, "dqn": DQNConfig(**br["dqn"]), "ppo": PPOConfig(**br["ppo"])})
            weights = [[None if name is None else torch.load(io.BytesIO(checkpoint.blobs[name]), weights_only=True)
                        for name in names] for names in state["networks"]]
        except (KeyError, TypeError, ValueError, RuntimeError, pickle.UnpicklingError) as error:
            raise CheckpointError(f"path={str(path)!r} does not hold a LearnedPSRO state ({type(error).__name__}: "
                                  f"{error})") from None
        solver = cls.__new__(cls)
        for module in state["imports"]:
            __import__(module)
        game = pyspiel.load_game(state["game"])
        solver.game_string = state["game"]
        solver.imports = tuple(state["imports"])
        solver.meta_solver_name = state["meta_solver"] if meta_solver is None or isinstance(meta_solver, str) else None
        solver.meta_solver = make_meta_solver(meta_solver if meta_solver is not None else state["meta_solver"])
        if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
            game = pyspiel.convert_to_turn_based(game)
        solver.game = game
        solver.br_config = br_config
        solver.samples_per_cell = int(state["samples_per_cell"])
        solver.workers = int(workers)
        solver.exploitability_every = int(state["exploitability_every"])
        seed = state["oracle_seed"]
        solver._oracle_root = np.random.SeedSequence(int(seed["entropy"]), spawn_key=tuple(seed["spawn_key"]),
                                                     n_children_spawned=int(seed["spawned"]))
        obs_size, num_actions = game.information_state_tensor_size(), game.num_distinct_actions()
        solver.population = []
        for p, nets in enumerate(weights):
            pop: list[os_policy.Policy] = []
            for net_weights in nets:
                if net_weights is None:
                    pop.append(os_policy.UniformRandomPolicy(game))
                    continue
                try:
                    network = _network(net_weights, obs_size, num_actions)
                except (RuntimeError, KeyError, TypeError, AttributeError) as error:
                    raise CheckpointError(f"path={str(path)!r} holds weights that do not fit {game} "
                                          f"({type(error).__name__}: {error})") from None
                pop.append(GreedyPolicy(game, network, p))
            solver.population.append(pop)
        with tempfile.TemporaryDirectory() as folder:  # EmpiricalGame reads its state from a file only
            empirical = Path(folder) / "empirical.json"
            empirical.write_text(json.dumps(state["empirical"]))
            solver.empirical = EmpiricalGame.load(empirical, strategies=[list(p) for p in solver.population])
        solver.meta_strategies = [np.asarray(s, float) for s in state["meta_strategies"]]
        solver.iteration = int(state["iteration"])
        try:
            solver.tree = build_tree(game, max_nodes=200_000)
        except GameNotSupportedError:
            solver.tree = None
        return solver
