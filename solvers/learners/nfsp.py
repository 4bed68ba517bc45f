"""Neural Fictitious Self-Play (Heinrich & Silver 2016, "Deep Reinforcement Learning from Self-Play in
Imperfect-Information Games"), batched, in torch.

Every player has a best-response DQN trained on its transitions and an average-policy network trained by
supervised learning on its own best-response actions (reservoir buffer). In each episode a player follows its best
response with the anticipatory probability ``eta`` and its average policy otherwise. Many episodes run side by side
(:class:`solvers.rl.VectorEnv`) so every network call handles a batch; the learning schedule (one DQN and one
supervised step per player every ``learn_every`` of its steps, a step being a decision or the end of an episode)
is that of OpenSpiel's NFSP.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyspiel
import torch
from open_spiel.python import policy as os_policy
from torch import nn

from marketgames.sampling import draw_rows
from marketgames.seeding import SeedLike, seed_sequence
from solvers.exploitability.exact import TablePolicy, nash_conv
from solvers.exploitability.tree import GameNotSupportedError, build_tree
from solvers.rl.buffers import ReservoirBuffer
from solvers.rl.checks import is_int, is_real, refuse_invalid
from solvers.rl.dqn import OPTIMIZERS, DQN, DQNConfig, make_optimizer, mlp
from solvers.rl.transitions import PendingTransitions
from solvers.rl.vector_env import VectorEnv

__all__ = ["NFSP", "NFSPConfig"]


@dataclass
class NFSPConfig:
    """Hyper-parameters (defaults: OpenSpiel's NFSP example on Kuhn poker, with 64 episodes in parallel)."""

    num_envs: int = 64
    episodes_per_step: int = 1000
    anticipatory: float = 0.1
    sl_learning_rate: float = 0.01
    sl_batch_size: int = 128
    reservoir_capacity: int = 2_000_000
    learn_every: int = 64
    min_reservoir: int = 1000
    sl_optimizer: str = "sgd"
    # OpenSpiel's DQN copies its target network every 1,000 of its own (best-response-mode) steps: with
    # anticipatory 0.1 and one learning step per 64 steps of either mode, that is every ~156 learning steps.
    dqn: DQNConfig = field(default_factory=lambda: DQNConfig(target_update_every=156))

    def __post_init__(self) -> None:
        capacity_ok = is_int(self.reservoir_capacity, 1)
        refuse_invalid(self, {
            "num_envs": (is_int(self.num_envs, 1), "an int >= 1"),
            "episodes_per_step": (is_int(self.episodes_per_step, 1), "an int >= 1"),
            "anticipatory": (is_real(self.anticipatory, 0, 1, open_low=True), "a number in (0, 1]"),
            "sl_learning_rate": (is_real(self.sl_learning_rate, 0, open_low=True), "a positive number"),
            "reservoir_capacity": (capacity_ok, "an int >= 1"),
            "sl_batch_size": (is_int(self.sl_batch_size, 1, self.reservoir_capacity if capacity_ok else None),
                              "an int in [1, reservoir_capacity]"),
            "learn_every": (is_int(self.learn_every, 1), "an int >= 1"),
            "min_reservoir": (is_int(self.min_reservoir, 0, self.reservoir_capacity if capacity_ok else None),
                              "an int in [0, reservoir_capacity]"),
            "sl_optimizer": (isinstance(self.sl_optimizer, str) and self.sl_optimizer in OPTIMIZERS,
                             f"one of {sorted(OPTIMIZERS)}"),
            "dqn": (isinstance(self.dqn, DQNConfig), "a DQNConfig"),
        })

    @classmethod
    def tuned(cls, **changes: Any) -> "NFSPConfig":
        """Faster-learning settings found on Kuhn poker (``benchmarks.bench_nfsp``): Adam at 3e-3 for both
        networks, learning from 256 samples on, target network copied every 15 learning steps (OpenSpiel's
        example: SGD at 1e-2 from 1,000 samples, every ~156). Same algorithm; ``changes`` override fields."""
        base = cls(sl_optimizer="adam", sl_learning_rate=3e-3, min_reservoir=256,
                   dqn=DQNConfig(optimizer="adam", learning_rate=3e-3, min_buffer=256, target_update_every=15))
        return dataclasses.replace(base, **changes)


class _AveragePolicy(os_policy.Policy):
    """The average-policy networks as an OpenSpiel policy (softmax over legal actions)."""

    def __init__(self, game: pyspiel.Game, nets: list[nn.Module]) -> None:
        super().__init__(game, list(range(game.num_players())))
        self.nets = nets

    def probabilities(self, player: int, obs: np.ndarray, legal: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.nets[player](torch.as_tensor(obs, dtype=torch.float32)).numpy()
        logits = np.where(legal, logits, -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def action_probabilities(self, state, player_id=None):
        player = state.current_player() if player_id is None else player_id
        legal = np.zeros((1, self.game.num_distinct_actions()), bool)
        actions = state.legal_actions(player)
        legal[0, actions] = True
        obs = np.asarray(state.information_state_tensor(player), np.float32)[None]
        probs = self.probabilities(player, obs, legal)[0]
        return {int(a): float(probs[a]) for a in actions}


class NFSP:
    """Batched NFSP for any OpenSpiel game with information-state (or observation) tensors.

    Args:
        game: the game or its string (simultaneous games are played turn-based).
        config: hyper-parameters.
        seed: the one seed (environments, exploration, networks).
        track_nash_conv: after each step, the exact NashConv of the average policy when the game's tree is small
            enough to compile (``None`` otherwise).
    """

    def __init__(self, game: pyspiel.Game | str, config: NFSPConfig | None = None, *,
                 seed: SeedLike = 0, track_nash_conv: bool = True) -> None:
        self.config = config or NFSPConfig()
        if not isinstance(self.config, NFSPConfig):
            raise TypeError(f"config={self.config!r} is not allowed: expected an NFSPConfig")
        c = self.config
        root = seed_sequence(seed)
        env_seed, rng_seed, torch_seed, *agent_seeds = root.spawn(3 + 8)
        self.env = VectorEnv(game, c.num_envs, seed=env_seed)
        self.game = self.env.game
        n, obs_size, num_actions = self.env.num_players, self.env.obs_size, self.env.num_actions
        self.rng = np.random.default_rng(rng_seed)
        self.agents = [DQN(obs_size, num_actions, c.dqn, seed=agent_seeds[p]) for p in range(n)]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch_seed.generate_state(1)[0]))
            self.average_nets = [mlp(obs_size, c.dqn.hidden, num_actions) for _ in range(n)]
        self.sl_optimizers = [make_optimizer(c.sl_optimizer, net.parameters(), c.sl_learning_rate)
                              for net in self.average_nets]
        self.reservoirs = [ReservoirBuffer(c.reservoir_capacity, obs_size, num_actions) for _ in range(n)]
        self._average = _AveragePolicy(self.game, self.average_nets)
        B = c.num_envs
        self._br_mode = self.rng.random((B, n)) < c.anticipatory
        self._pending = PendingTransitions(B, n, obs_size, num_actions)
        self._decisions = np.zeros(n, np.int64)
        self.episodes = 0
        self.iteration = 0
        self.track_nash_conv = track_nash_conv
        self._tree_cache: list = []

    @property
    def tree(self):
        """The compiled tree of the game, or ``None`` when it is too large or unsupported (built once)."""
        if not self._tree_cache:
            try:
                self._tree_cache.append(build_tree(self.game, max_nodes=200_000))
            except GameNotSupportedError:
                self._tree_cache.append(None)
        return self._tree_cache[0]

    # ------------------------------------------------------------------ learning
    def _learn_average(self, player: int) -> None:
        c = self.config
        reservoir = self.reservoirs[player]
        if reservoir.size < max(c.min_reservoir, c.sl_batch_size):
            return
        obs, action, legal = reservoir.sample(c.sl_batch_size, self.rng)
        logits = self.average_nets[player](torch.as_tensor(obs))
        logits = torch.where(torch.as_tensor(legal), logits, torch.tensor(-1e9))
        loss = nn.functional.cross_entropy(logits, torch.as_tensor(action))
        self.sl_optimizers[player].zero_grad()
        loss.backward()
        self.sl_optimizers[player].step()

    def _count_steps(self, player: int, k: int) -> None:
        """Count ``k`` agent steps of ``player`` (its decisions and the ends of its episodes, as OpenSpiel's
        agents count them) and learn once per ``learn_every`` of them."""
        learn_every = self.config.learn_every
        before = self._decisions[player] // learn_every
        self._decisions[player] += k
        for _ in range(int(self._decisions[player] // learn_every - before)):
            self.agents[player].learn()
            self._learn_average(player)

    def _play(self) -> int:
        """One action in every episode; returns how many episodes ended."""
        c = self.config
        env = self.env
        players = env.players()
        obs, legal = env.observations()
        actions = np.zeros(env.num_envs, np.int64)
        for p in range(env.num_players):
            rows = np.flatnonzero(players == p)
            if rows.size == 0:
                continue
            self._pending.close(rows, p, obs[rows], legal[rows], self.agents[p].buffer)
            br = rows[self._br_mode[rows, p]]
            avg = rows[~self._br_mode[rows, p]]
            if br.size:
                actions[br] = self.agents[p].act(obs[br], legal[br])
                self.reservoirs[p].add(obs[br], actions[br], legal[br], self.rng)
            if avg.size:
                probs = self._average.probabilities(p, obs[avg], legal[avg])
                u = self.rng.random(avg.size)
                actions[avg] = draw_rows(probs, u)
            self._pending.start(rows, p, obs[rows], actions[rows])
            self._count_steps(p, rows.size)
        rewards, done, _ = env.step(actions)
        self._pending.reward += rewards
        ended = np.flatnonzero(done)
        if ended.size:
            for p in range(env.num_players):
                self._pending.end_episodes(ended, p, self.agents[p].buffer)
                self._count_steps(p, ended.size)
            self._br_mode[ended] = self.rng.random((ended.size, env.num_players)) < c.anticipatory
        return int(ended.size)

    def step(self) -> dict[str, Any]:
        """Play ``episodes_per_step`` more episodes (learning as they go)."""
        target = self.episodes + self.config.episodes_per_step
        while self.episodes < target:
            self.episodes += self._play()
        self.iteration += 1
        metrics: dict[str, Any] = {"iteration": self.iteration, "episodes": self.episodes}
        if self.track_nash_conv and self.tree is not None:
            metrics["nash_conv"] = nash_conv(self.tree, self.average_table())
        return metrics

    # ------------------------------------------------------------------ policies
    def average_table(self) -> np.ndarray:
        """The average policy on every information set of the compiled tree."""
        tree = self.tree
        if tree is None:
            raise GameNotSupportedError(f"game={self.game} is too large for a tabular average policy; use policy()")
        table = np.zeros(tree.legal_mask.shape)
        for p in range(tree.num_players):
            rows = np.flatnonzero(tree.infoset_player == p)
            obs = np.array([tree.infoset_state[j].information_state_tensor(p) for j in rows], np.float32)
            table[rows] = self._average.probabilities(p, obs, tree.legal_mask[rows])
        return table

    def policy(self) -> os_policy.Policy:
        """The average policy (the networks; an exact table when the tree is compiled)."""
        if self.tree is not None:
            return TablePolicy(self.tree, self.average_table())
        return self._average
