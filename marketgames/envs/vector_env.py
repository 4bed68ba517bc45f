"""``B`` markets stepped at once as one multi-agent env: :class:`MarketVectorEnv`, over the batched engine.

Each market of the batch is the ``python_lob_market`` game played by ``n`` agents ``trader_0 .. trader_{n-1}``, as in
:class:`~marketgames.envs.pettingzoo_env.LobMarketParallelEnv`, but the ``B`` markets are stepped by the compiled
kernels of :class:`~marketgames.market.batched.BatchedMarket` (the same rules as the game: no second copy) and the
arrays are stacked: observations ``(B, n, obs_dim)`` float32 (the game's observation tensors, same bounded ``Box``
as the PettingZoo env), rewards ``(B, n)``, action masks ``(B, n, A)``. An env step moves every market one round.

Auto-reset is same-step (gymnasium's vector convention): a market whose episode ends in ``step`` is reset in that
call; its row of ``obs`` is the new episode's first observation, the ended episode's last one is in
``info["final_observation"]`` and its summed rewards in ``info["episode_return"]`` (NaN rows for markets that did
not end). All markets have the same number of rounds, so in practice they end together.

Randomness: one ``seed`` (:data:`marketgames.seeding.SeedLike`) gives the batch's root ``SeedSequence``; market ``i``
draws its chance outcomes from counter-based uniforms keyed by the root's ``i``-th child, a pure function of
``(market, episode, round, node)`` (see :mod:`marketgames.market.batched`). So the numbers depend on the seed only:
not on the batch size, the numba thread count or the global RNG.

Sharing chance draws with the PettingZoo env: :meth:`MarketVectorEnv.chance_source` returns market ``i``'s draw
function, ``(state, episode) -> outcome``, which recomputes at an OpenSpiel chance node the very outcome the batched
engine plays at that node (same key, same counter triple, same inverse CDF). Handed to
``LobMarketParallelEnv(game, chance_outcome=env.chance_source(i))``, whose ``episode`` counts its resets from 0 as
the batched engine counts its episodes, the PettingZoo env plays market ``i``'s chance outcomes episode after episode;
given the same actions it then shows the same observations, rewards, terminations and masks
(``tests/envs/test_vector_env.py``).

Example::

    env = MarketVectorEnv("python_lob_market(players=2,steps=20)", num_envs=1024, seed=0)
    obs, info = env.reset()
    rng = np.random.default_rng(1)
    for _ in range(100):
        obs, rewards, terminated, truncated, info = env.step(rng.integers(0, env.num_actions, (1024, 2)))
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces

from .. import games  # noqa: F401  (registers python_lob_market)
from ..market import rules as R
from ..market.batched import (
    STREAM_BACKGROUND,
    STREAM_FUNDAMENTAL,
    BatchedMarket,
    counter_uniform,
    inverse_cdf,
)
from ..seeding import SeedLike, seed_sequence
from .pettingzoo_env import ChanceOutcome
from .spaces import market_config, observation_box, scale_observations

__all__ = ["CounterChance", "MarketVectorEnv"]


def _fingerprint(keys: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(keys).tobytes()).hexdigest()


class CounterChance:
    """One market's chance draws of a :class:`BatchedMarket`, as a ``chance_outcome`` function of the PettingZoo env.

    ``CounterChance(key, fund_cdf, bg_cdf)(state, episode)`` is the outcome the batched engine draws at the chance
    node ``state`` (its round and node read from the state's market buffer) in episode ``episode``.
    """

    def __init__(self, key: np.ndarray, fund_cdf: np.ndarray, bg_cdf: np.ndarray) -> None:
        self._k0, self._k1 = np.uint64(key[0]), np.uint64(key[1])
        self._fund_cdf = np.asarray(fund_cdf, dtype=np.float64)
        self._bg_cdf = np.asarray(bg_cdf, dtype=np.float64)

    def __call__(self, state: pyspiel.State, episode: int) -> int:
        buf = state.market_buffer
        fundamental = buf[R.M_PHASE] == R.PHASE_FUNDAMENTAL
        stream = STREAM_FUNDAMENTAL if fundamental else STREAM_BACKGROUND
        u = counter_uniform(self._k0, self._k1, int(episode), int(buf[R.M_ROUND]), stream)
        return int(inverse_cdf(self._fund_cdf if fundamental else self._bg_cdf, u))


class MarketVectorEnv:
    """``num_envs`` independent ``python_lob_market`` markets as one vectorised multi-agent env (see the module doc).

    Args:
        game_or_string: a ``python_lob_market`` game or its ``pyspiel.load_game`` string.
        num_envs: the number of markets ``B``.
        seed: the one seed of every market's chance draws (:data:`marketgames.seeding.SeedLike`).

    ``reset(seed=None) -> (obs, info)``; ``step(actions) -> (obs, rewards, terminated, truncated, info)`` with
    ``actions`` a ``(B, n)`` integer array; shapes and dtypes in the module doc. Bad actions (shape, dtype, range,
    masked) are refused before any market moves.
    """

    def __init__(self, game_or_string: str | pyspiel.Game, num_envs: int, *, seed: SeedLike = 0) -> None:
        game = pyspiel.load_game(game_or_string) if isinstance(game_or_string, str) else game_or_string
        config = market_config(game) if isinstance(game, pyspiel.Game) else None
        if config is None:
            raise TypeError(f"game_or_string={game_or_string!r} is not allowed: expected a python_lob_market game "
                            "or its load_game string")
        if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is not allowed: expected an integer >= 1")
        self.game = game
        self.config = config
        self.num_envs = int(num_envs)
        self.num_agents = config.players
        self.agents = [f"trader_{i}" for i in range(self.num_agents)]
        self.possible_agents = list(self.agents)
        self.num_actions = config.num_actions
        self.single_observation_space = observation_box(game)
        self.single_action_space = spaces.Discrete(self.num_actions)
        self.obs_dim = int(self.single_observation_space.shape[0])
        self._observer = game.make_py_observer(pyspiel.IIGObservationType(perfect_recall=False))
        # python_lob_market has no illegal actions at a player node (every action is legal there): an all-True mask.
        self._mask = np.ones((self.num_envs, self.num_agents, self.num_actions), dtype=bool)
        self._market = self._new_market(seed)
        self._returns = np.zeros((self.num_envs, self.num_agents), dtype=np.float64)
        self._started = False

    def _new_market(self, seed: SeedLike) -> BatchedMarket:
        return BatchedMarket(self.config, self.num_envs, seed_sequence(seed, name="seed"))

    def _observe(self, ints: np.ndarray) -> np.ndarray:
        return scale_observations(self.game, ints, self._observer)

    # ------------------------------------------------------------------ API
    def reset(self, seed: SeedLike = None, options: dict | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode in every market. ``seed`` re-seeds the batch (episodes count again from 0); without
        it the markets go on to their next episode's draws."""
        if options is not None:
            raise ValueError(f"options={options!r} is not allowed: MarketVectorEnv takes no reset options")
        market = self._new_market(seed) if seed is not None else self._market  # validates the seed before acting
        self._market = market
        obs = self._observe(market.reset())
        self._returns[:] = 0.0
        self._started = True
        return obs, {"action_mask": self._mask.copy()}

    def _check_actions(self, actions: Any) -> np.ndarray:
        """``actions`` as a ``(B, n)`` int64 array, or a clear error: integer dtype, shape, range, mask."""
        expected = (self.num_envs, self.num_agents)
        arr = np.asarray(actions)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"actions of dtype {arr.dtype} are not allowed: expected an integer array of shape "
                            f"(num_envs, num_agents) = {expected}")
        if arr.shape != expected:
            raise ValueError(f"actions of shape {arr.shape} are not allowed: expected (num_envs, num_agents) = "
                             f"{expected}")
        out = (arr < 0) | (arr >= self.num_actions)
        if out.any():
            i, p = (int(x) for x in np.argwhere(out)[0])
            raise ValueError(f"actions[{i}, {p}]={int(arr[i, p])} (market {i}, agent {self.agents[p]!r}) is not "
                             f"allowed: expected an action in [0, {self.num_actions - 1}]")
        arr = np.ascontiguousarray(arr, dtype=np.int64)
        legal = np.take_along_axis(self._mask, arr[..., None], axis=2)[..., 0]
        if not legal.all():
            i, p = (int(x) for x in np.argwhere(~legal)[0])
            raise ValueError(f"actions[{i}, {p}]={int(arr[i, p])} (market {i}, agent {self.agents[p]!r}) is not "
                             f"allowed: illegal here; legal actions are {np.flatnonzero(self._mask[i, p]).tolist()}")
        return arr

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one round in every market (auto-resetting those that end); see the module doc for the outputs."""
        if not self._started:
            raise RuntimeError("step() called before reset()")
        joint = self._check_actions(actions)
        ints, rewards, done = self._market.step(joint)
        self._returns += rewards
        last = self._observe(ints)
        episode_return = np.full((self.num_envs, self.num_agents), np.nan, dtype=np.float64)
        if done.any():
            # Every market of a BatchedMarket has the same rounds, so they end together and reset together.
            episode_return[done] = self._returns[done]
            self._returns[done] = 0.0
            obs = self._observe(self._market.reset())
        else:
            obs = last
            last = obs.copy()
        info = {"action_mask": self._mask.copy(), "final_observation": last, "episode_return": episode_return}
        return (obs, rewards.astype(np.float32), done.copy(), np.zeros(self.num_envs, dtype=bool), info)

    def chance_source(self, market: int) -> ChanceOutcome:
        """Market ``market``'s chance draws under the current seed, for ``LobMarketParallelEnv(chance_outcome=...)``
        (see the module doc). A later ``reset(seed=...)`` changes the draws: take a new source then."""
        if isinstance(market, (bool, np.bool_)) or not isinstance(market, (int, np.integer)) \
                or not 0 <= market < self.num_envs:
            raise ValueError(f"market={market!r} is not allowed: expected an integer in [0, {self.num_envs - 1}]")
        m = self._market
        return CounterChance(m.keys[int(market)], m._fund_cdf, m._bg_cdf)

    def get_state(self) -> dict[str, Any]:
        """JSON data for :meth:`set_state`: the current episode's index and a fingerprint of the markets' seeds."""
        return {"episode": self.episode, "num_envs": self.num_envs, "keys": _fingerprint(self._market.keys)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Make the next :meth:`reset` (without a seed) start episode ``state["episode"]`` again, on markets seeded
        as when :meth:`get_state` was called (refused otherwise: the draws would differ)."""
        episode = state.get("episode") if isinstance(state, dict) else None
        if isinstance(episode, bool) or not isinstance(episode, int) or episode < 0:
            raise ValueError(f"state={state!r} is not allowed: expected get_state() data with an episode >= 0")
        if state.get("num_envs") != self.num_envs or state.get("keys") != _fingerprint(self._market.keys):
            raise ValueError(f"state={state!r} is not allowed: it comes from markets seeded differently (or another "
                             f"batch size than {self.num_envs}); build the env with the same seed and num_envs")
        self._market._episode = episode - 1  # reset() counts it up
        self._started = False

    @property
    def episode(self) -> int:
        """Episodes started since the last seeding, minus one (``-1`` before the first ``reset``)."""
        return self._market.episode

    def close(self) -> None:
        pass
