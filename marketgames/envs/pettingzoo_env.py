"""``python_lob_market`` as a PettingZoo ``ParallelEnv`` (and, through ``parallel_to_aec``, an AEC env).

Agents ``trader_0 .. trader_{n-1}`` act at once each round; ``Discrete(num_distinct_actions)`` action spaces;
``Box`` observation spaces holding the game's observation tensor (float32, see
:class:`marketgames.games.lob_market.LobMarketObserver` for its named views). Chance nodes (fundamental moves,
background order flow) are sampled from an ``np.random.Generator`` created by ``reset(seed=...)`` only (never the
global RNG), so an episode is a function of the seed and of the agents' actions. Rewards are the game's per-round
rewards (mark-to-market wealth change since the previous decision), so an episode's summed rewards equal the
OpenSpiel returns; every agent terminates together at the end of the last round (there is no truncation). Infos
hold each agent's ``cash``, ``inventory`` and the ``round``; at the end also its ``return``.

Example::

    from marketgames.envs import lob_market_parallel_env
    env = lob_market_parallel_env(game_string="python_lob_market(players=3,steps=10)")
    obs, infos = env.reset(seed=0)
    while env.agents:
        obs, rewards, terms, truncs, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec

from .. import games  # noqa: F401  (registers python_lob_market)
from ..seeding import as_generator

__all__ = ["LobMarketParallelEnv", "lob_market_parallel_env", "lob_market_aec_env"]


class LobMarketParallelEnv(ParallelEnv):
    """A simultaneous-move OpenSpiel game (by default ``python_lob_market``) as a PettingZoo ``ParallelEnv``.

    Args:
        game_string: a ``pyspiel.load_game`` string, or a loaded game; it must be a simultaneous-move game with
            observation tensors (any configuration of ``python_lob_market`` is).
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the state's text).
    """

    metadata = {"name": "lob_market_parallel_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, game_string: str | pyspiel.Game = "python_lob_market", render_mode: str | None = None):
        game = pyspiel.load_game(game_string) if isinstance(game_string, str) else game_string
        if not isinstance(game, pyspiel.Game):
            raise TypeError(f"game_string={game_string!r} is not allowed: expected a load_game string or a game")
        gt = game.get_type()
        if gt.dynamics != pyspiel.GameType.Dynamics.SIMULTANEOUS or not gt.provides_observation_tensor:
            raise ValueError(f"game_string={game_string!r} is not allowed: expected a simultaneous-move game with "
                             f"observation tensors, got {gt.short_name} ({gt.dynamics})")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode={render_mode!r} is not allowed: expected None or one of "
                             f"{self.metadata['render_modes']}")
        self.game = game
        self.render_mode = render_mode
        self.possible_agents = [f"trader_{i}" for i in range(game.num_players())]
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}
        n_obs = game.observation_tensor_size()
        self.observation_spaces = {a: spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)
                                   for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(game.num_distinct_actions()) for a in self.possible_agents}
        self.agents: list[str] = []
        self._state: pyspiel.State | None = None
        self._rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ views
    @property
    def state_view(self) -> pyspiel.State:
        """A clone of the current OpenSpiel state (its ``history()`` holds every chance outcome and action)."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state.clone()

    def _resolve_chance(self) -> None:
        state = self._state
        while state.is_chance_node():
            actions, probs = zip(*state.chance_outcomes())
            p = np.asarray(probs, dtype=np.float64)
            state.apply_action(int(actions[self._rng.choice(len(actions), p=p / p.sum())]))

    def _observations(self) -> dict[str, np.ndarray]:
        return {a: np.asarray(self._state.observation_tensor(self._index[a]), dtype=np.float32)
                for a in self.agents}

    def _infos(self, agents: list[str]) -> dict[str, dict[str, Any]]:
        state = self._state
        infos: dict[str, dict[str, Any]] = {}
        for agent in agents:
            p = self._index[agent]
            info: dict[str, Any] = {}
            if hasattr(state, "account"):
                cash, inventory = state.account(p)
                info.update(cash=cash, inventory=inventory, round=state.round)
            if state.is_terminal():
                info["return"] = float(state.returns()[p])
            infos[agent] = info
        return infos

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode. ``seed`` (re)seeds the chance generator; without it the generator goes on (a fresh
        unseeded one on the first reset)."""
        if seed is not None or self._rng is None:
            self._rng = as_generator(seed)
        self._state = self.game.new_initial_state()
        self.agents = list(self.possible_agents)
        self._resolve_chance()
        return self._observations(), self._infos(self.agents)

    def step(self, actions: dict[str, int]):
        if self._state is None or not self.agents:
            raise RuntimeError("step() called with no live agents: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        extra = sorted(set(actions) - set(self.agents))
        if missing or extra:
            raise ValueError(f"actions={actions!r} is not allowed: expected one action for each live agent "
                             f"{self.agents} (missing {missing}, unknown {extra})")
        joint = []
        for agent in self.possible_agents:
            a = int(actions[agent])
            legal = self._state.legal_actions(self._index[agent])
            if a not in legal:
                raise ValueError(f"actions[{agent!r}]={a} is not allowed: legal actions are {legal}")
            joint.append(a)
        self._state.apply_actions(joint)
        self._resolve_chance()
        rewards_vec = self._state.rewards()
        rewards = {a: float(rewards_vec[self._index[a]]) for a in self.agents}
        done = self._state.is_terminal()
        agents = list(self.agents)
        observations = self._observations()
        terminations = {a: done for a in agents}
        truncations = {a: False for a in agents}
        infos = self._infos(agents)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        if self.render_mode == "ansi" and self._state is not None:
            return str(self._state)
        return None

    def close(self) -> None:
        pass


def lob_market_parallel_env(game_string: str | pyspiel.Game = "python_lob_market",
                            render_mode: str | None = None) -> LobMarketParallelEnv:
    """The market as a PettingZoo ``ParallelEnv`` (see :class:`LobMarketParallelEnv`)."""
    return LobMarketParallelEnv(game_string=game_string, render_mode=render_mode)


def lob_market_aec_env(game_string: str | pyspiel.Game = "python_lob_market", render_mode: str | None = None):
    """The market as a PettingZoo AEC env (``parallel_to_aec`` over :class:`LobMarketParallelEnv`): agents act in
    turn within a round, and the round is played when the last one has acted."""
    return parallel_to_aec(LobMarketParallelEnv(game_string=game_string, render_mode=render_mode))
