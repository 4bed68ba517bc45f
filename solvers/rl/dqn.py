"""Deep Q-learning (Mnih et al. 2015) for one player, acting on batches of observations.

Used as the best-response learner of NFSP, of PSRO's learned oracle and of approximate exploitability. Illegal
actions are masked in both action selection and the bootstrap target.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from marketgames.seeding import SeedLike, seed_sequence
from solvers.rl.buffers import ReplayBuffer
from solvers.rl.checks import is_int, is_real, refuse_invalid

__all__ = ["DQN", "DQNConfig", "make_optimizer", "mlp"]


def mlp(inputs: int, hidden: tuple[int, ...], outputs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    size = inputs
    for h in hidden:
        layers += [nn.Linear(size, h), nn.ReLU()]
        size = h
    layers.append(nn.Linear(size, outputs))
    return nn.Sequential(*layers)


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def make_optimizer(name: str, parameters, learning_rate: float) -> torch.optim.Optimizer:
    """``"sgd"`` or ``"adam"`` over ``parameters``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not allowed: expected one of {sorted(OPTIMIZERS)}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate} is not allowed: expected a positive number")
    return OPTIMIZERS[name](parameters, lr=learning_rate)


@dataclass
class DQNConfig:
    """Hyper-parameters of :class:`DQN` (defaults: OpenSpiel's NFSP example on Kuhn poker).

    Attributes:
        hidden: hidden layer sizes of the Q-network (ReLU MLP).
        learning_rate: step size of the optimizer.
        batch_size: transitions per learning step (at most ``replay_capacity``).
        replay_capacity: transitions the replay buffer keeps.
        min_buffer: transitions in the buffer before learning starts (at most ``replay_capacity``).
        target_update_every: learning steps between copies of the Q-network into the target network.
        epsilon_start, epsilon_end: exploration probability, decayed linearly from start to end ...
        epsilon_decay_steps: ... over so many acting steps (0: ``epsilon_end`` at once).
        discount: discount per decision, in [0, 1].
        optimizer: ``"sgd"`` (OpenSpiel's NFSP example) or ``"adam"``.
    """

    hidden: tuple[int, ...] = (128,)
    learning_rate: float = 0.01
    batch_size: int = 128
    replay_capacity: int = 200_000
    min_buffer: int = 1000
    target_update_every: int = 15  # learning steps; OpenSpiel's DQN: every 1000 of its steps = 15.6 x 64
    epsilon_start: float = 0.06
    epsilon_end: float = 0.001
    epsilon_decay_steps: int = 20_000_000
    discount: float = 1.0
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        hidden = hidden_sizes(self.hidden)
        if isinstance(hidden, tuple):  # otherwise unchanged, refused below
            self.hidden = hidden
        capacity_ok = is_int(self.replay_capacity, 1)
        refuse_invalid(self, {
            "hidden": (isinstance(self.hidden, tuple) and all(is_int(h, 1) for h in self.hidden),
                       "a tuple of positive ints"),
            "learning_rate": (is_real(self.learning_rate, 0, open_low=True), "a positive number"),
            "replay_capacity": (capacity_ok, "an int >= 1"),
            "batch_size": (is_int(self.batch_size, 1, self.replay_capacity if capacity_ok else None),
                           "an int in [1, replay_capacity]"),
            "min_buffer": (is_int(self.min_buffer, 0, self.replay_capacity if capacity_ok else None),
                           "an int in [0, replay_capacity]"),
            "target_update_every": (is_int(self.target_update_every, 1), "an int >= 1"),
            "epsilon_start": (is_real(self.epsilon_start, 0, 1), "a number in [0, 1]"),
            "epsilon_end": (is_real(self.epsilon_end, 0, 1), "a number in [0, 1]"),
            "epsilon_decay_steps": (is_int(self.epsilon_decay_steps, 0), "an int >= 0"),
            "discount": (is_real(self.discount, 0, 1), "a number in [0, 1]"),
            "optimizer": (isinstance(self.optimizer, str) and self.optimizer in OPTIMIZERS,
                          f"one of {sorted(OPTIMIZERS)}"),
        })


def hidden_sizes(hidden: object) -> object:
    """``hidden`` as a tuple of plain ints when it is a sequence of integers (checkpoints hand back lists); any
    other value unchanged, for the config's check to refuse."""
    if isinstance(hidden, (list, tuple)) and all(is_int(h) for h in hidden):
        return tuple(int(h) for h in hidden)
    return hidden


class DQN:
    """A batched DQN learner for one player.

    Args:
        obs_size: length of the observation vectors.
        num_actions: number of distinct actions.
        config: hyper-parameters.
        seed: seeds the network initialisation (torch's global generator inside ``torch.random.fork_rng``, so
            the caller's torch random state is left as it was) and the numpy generator of exploration and replay
            sampling.
    """

    def __init__(self, obs_size: int, num_actions: int, config: DQNConfig | None = None, *,
                 seed: SeedLike = 0) -> None:
        self.config = config or DQNConfig()
        sequence = seed_sequence(seed)
        torch_seed, rng_seed = sequence.spawn(2)
        with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching the caller's RNG
            torch.manual_seed(int(torch_seed.generate_state(1)[0]))
            self.q = mlp(obs_size, self.config.hidden, num_actions)
        self.target = copy.deepcopy(self.q)
        self.optimizer = make_optimizer(self.config.optimizer, self.q.parameters(), self.config.learning_rate)
        self.rng = np.random.default_rng(rng_seed)
        self.buffer = ReplayBuffer(self.config.replay_capacity, obs_size, num_actions)
        self.num_actions = num_actions
        self.steps = 0
        self.learn_steps = 0

    @property
    def epsilon(self) -> float:
        c = self.config
        frac = min(1.0, self.steps / max(c.epsilon_decay_steps, 1))
        return c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.q(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    def greedy(self, obs: np.ndarray, legal: np.ndarray) -> np.ndarray:
        """The greedy legal action of each row."""
        return np.argmax(np.where(legal, self.q_values(obs), -np.inf), axis=1)

    def act(self, obs: np.ndarray, legal: np.ndarray, *, explore: bool = True) -> np.ndarray:
        """Epsilon-greedy legal actions for a batch."""
        actions = self.greedy(obs, legal)
        if explore:
            self.steps += len(actions)
            rows = np.flatnonzero(self.rng.random(len(actions)) < self.epsilon)
            if rows.size:
                # a uniform legal action per exploring row, all rows in one draw: integers(0, counts) takes the same
                # numbers from the generator as a rng.choice(legal actions) per row did
                cumulative = np.cumsum(np.asarray(legal[rows], bool), axis=1)
                picks = self.rng.integers(0, cumulative[:, -1])
                actions[rows] = np.argmax(cumulative > picks[:, None], axis=1)
        return actions

    def learn(self) -> float | None:
        """One gradient step on a sampled batch (``None`` until the buffer holds ``min_buffer`` transitions)."""
        c = self.config
        if self.buffer.size < max(c.min_buffer, c.batch_size):
            return None
        obs, action, reward, next_obs, next_legal, done = self.buffer.sample(c.batch_size, self.rng)
        obs_t = torch.as_tensor(obs)
        with torch.no_grad():
            next_q = self.target(torch.as_tensor(next_obs))
            next_q = torch.where(torch.as_tensor(next_legal), next_q, torch.tensor(-1e9))
            best = next_q.max(dim=1).values
            best = torch.where(torch.as_tensor(next_legal).any(dim=1), best, torch.zeros_like(best))
            target = torch.as_tensor(reward) + c.discount * (1.0 - torch.as_tensor(done)) * best
        q = self.q(obs_t).gather(1, torch.as_tensor(action)[:, None]).squeeze(1)
        loss = nn.functional.mse_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.learn_steps += 1
        if self.learn_steps % c.target_update_every == 0:
            self.target.load_state_dict(self.q.state_dict())
        return float(loss.detach())
