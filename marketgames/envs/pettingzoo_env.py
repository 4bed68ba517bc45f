"""``python_lob_market`` as a PettingZoo ``ParallelEnv`` (and, through ``parallel_to_aec``, an AEC env).

Agents ``trader_0 .. trader_{n-1}`` act at once each round; ``Discrete(num_distinct_actions)`` action spaces;
``Box`` observation spaces holding the game's observation tensor (float32, see
:class:`marketgames.games.lob_market.LobMarketObserver` for its named views), bounded by the ranges the
configuration implies (:mod:`marketgames.envs.spaces`). With ``dict_observations=True`` an observation is PettingZoo's
``{"observation": tensor, "action_mask": int8 mask}`` (a ``Dict`` space). Every agent's info holds its
``action_mask`` (``np.int8``, one entry per action, 1 where legal; all zeros at the end), its ``cash``,
``inventory`` and the ``round``; at the end also its ``return``.

Chance nodes (fundamental moves, background order flow) are sampled from an ``np.random.Generator`` created by
``reset(seed=...)`` only (never the global RNG), so an episode is a function of the seed and of the agents' actions;
or, given ``chance_outcome``, taken from that function (e.g. a batched market's counter-based draws:
:meth:`marketgames.envs.vector_env.MarketVectorEnv.chance_source`). Rewards are the game's per-round rewards
(mark-to-market wealth change since the previous decision), so an episode's summed rewards equal the OpenSpiel
returns; every agent terminates together at the end of the last round (there is no truncation).

Actions must be integers (``int``, numpy integer scalars or 0-d integer arrays; not ``bool``, float or str), in the
action space and legal; a refused joint action raises before anything is played, naming the agent and the value.

Example::

    from marketgames.envs import lob_market_parallel_env
    env = lob_market_parallel_env(game_string="python_lob_market(players=3,steps=10)")
    obs, infos = env.reset(seed=0)
    while env.agents:
        obs, rewards, terms, truncs, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyspiel
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec

from .. import games  # noqa: F401  (registers python_lob_market)
from .spaces import observation_box
from ..seeding import as_generator

#: ``chance_outcome(state, episode) -> outcome``: the outcome to play at the chance node ``state`` of episode
#: ``episode`` (0 for the first ``reset``, and again after each ``reset(seed=...)``; counting up otherwise).
ChanceOutcome = Callable[[pyspiel.State, int], int]

__all__ = ["LobMarketParallelEnv", "lob_market_aec_env", "lob_market_parallel_env"]


class LobMarketParallelEnv(ParallelEnv):
    """A simultaneous-move OpenSpiel game (by default ``python_lob_market``) as a PettingZoo ``ParallelEnv``.

    Args:
        game_string: a ``pyspiel.load_game`` string, or a loaded game; it must be a simultaneous-move game with
            observation tensors (any configuration of ``python_lob_market`` is).
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the state's text).
        dict_observations: observations as ``{"observation": tensor, "action_mask": mask}`` (a ``Dict`` space,
            PettingZoo's convention for masked actions) instead of the bare tensor.
        chance_outcome: ``None`` (default: chance sampled from the generator of ``reset(seed=...)``) or a function
            ``(state, episode) -> outcome`` choosing every chance outcome (it must have positive probability).
    """

    metadata: dict[str, Any] = {"name": "lob_market_parallel_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, game_string: str | pyspiel.Game = "python_lob_market", render_mode: str | None = None, *,
                 dict_observations: bool = False, chance_outcome: ChanceOutcome | None = None):
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
        if not isinstance(dict_observations, (bool, np.bool_)):
            raise TypeError(f"dict_observations={dict_observations!r} is not allowed: expected a bool")
        if chance_outcome is not None and not callable(chance_outcome):
            raise TypeError(f"chance_outcome={chance_outcome!r} is not allowed: expected None or a function "
                            "(state, episode) -> outcome")
        self.game = game
        self.dict_observations = bool(dict_observations)
        self._chance_outcome = chance_outcome
        self._episode = -1
        self.render_mode = render_mode
        self.possible_agents = [f"trader_{i}" for i in range(game.num_players())]
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}
        self.num_actions = game.num_distinct_actions()
        box = observation_box(game)
        self.observation_spaces: dict[str, spaces.Box | spaces.Dict]
        if self.dict_observations:
            mask = spaces.Box(0, 1, shape=(self.num_actions,), dtype=np.int8)
            self.observation_spaces = {a: spaces.Dict({"observation": box, "action_mask": mask})
                                       for a in self.possible_agents}
        else:
            self.observation_spaces = {a: box for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(self.num_actions) for a in self.possible_agents}
        self._masks: dict[str, np.ndarray] = {}
        self.agents: list[str] = []
        self._state: pyspiel.State | None = None
        self._rng: np.random.Generator | None = None

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box | spaces.Dict:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ views
    @property
    def state_view(self) -> pyspiel.State:
        """A clone of the current OpenSpiel state (its ``history()`` holds every chance outcome and action)."""
        return self._live_state().clone()

    def _live_state(self) -> pyspiel.State:
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def _resolve_chance(self) -> None:
        state, rng = self._live_state(), self._rng
        if rng is None:  # reset() sets it before the state
            raise RuntimeError("call reset() first")
        while state.is_chance_node():
            actions, probs = zip(*state.chance_outcomes())
            if self._chance_outcome is None:
                p = np.asarray(probs, dtype=np.float64)
                state.apply_action(int(actions[rng.choice(len(actions), p=p / p.sum())]))
                continue
            outcome = self._chance_outcome(state, self._episode)
            allowed = [a for a, q in zip(actions, probs) if q > 0]
            if isinstance(outcome, (bool, np.bool_)) or not isinstance(outcome, (int, np.integer)) \
                    or int(outcome) not in allowed:
                raise ValueError(f"chance_outcome returned {outcome!r}, which is not allowed: expected one of the "
                                 f"outcomes of positive probability {allowed}")
            state.apply_action(int(outcome))

    def _update_masks(self) -> None:
        """The legal actions of every agent at the current node, as int8 masks (all zeros at the end)."""
        state = self._live_state()
        self._masks = {}
        for agent in self.possible_agents:
            mask = np.zeros(self.num_actions, dtype=np.int8)
            mask[state.legal_actions(self._index[agent])] = 1
            self._masks[agent] = mask

    def _observations(self) -> dict[str, Any]:
        state = self._live_state()
        obs = {a: np.asarray(state.observation_tensor(self._index[a]), dtype=np.float32) for a in self.agents}
        if self.dict_observations:
            return {a: {"observation": o, "action_mask": self._masks[a].copy()} for a, o in obs.items()}
        return obs

    def _infos(self, agents: list[str]) -> dict[str, dict[str, Any]]:
        state = self._live_state()
        infos: dict[str, dict[str, Any]] = {}
        for agent in agents:
            p = self._index[agent]
            info: dict[str, Any] = {"action_mask": self._masks[agent].copy()}
            if hasattr(state, "account"):
                cash, inventory = state.account(p)
                info.update(cash=cash, inventory=inventory, round=state.round)
            if state.is_terminal():
                info["return"] = float(state.returns()[p])
            infos[agent] = info
        return infos

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode. ``seed`` (re)seeds the chance generator (and restarts the episode count given to
        ``chance_outcome``); without it the generator goes on (a fresh unseeded one on the first reset)."""
        if seed is not None or self._rng is None:
            self._rng = as_generator(seed)
        self._episode = 0 if seed is not None else self._episode + 1
        self._state = self.game.new_initial_state()
        self.agents = list(self.possible_agents)
        self._resolve_chance()
        self._update_masks()
        return self._observations(), self._infos(self.agents)

    def _check_action(self, agent: str, value: Any) -> int:
        """The action ``value`` of ``agent`` as an int, or a clear error: integers only, in range, legal."""
        n = self.num_actions
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"actions[{agent!r}]={value!r} is not allowed: expected an integer action in "
                            f"[0, {n - 1}] (int or numpy integer), got {type(value).__name__}")
        a = int(value)
        if not 0 <= a < n:
            raise ValueError(f"actions[{agent!r}]={a} is not allowed: expected an integer action in [0, {n - 1}]")
        if not self._masks[agent][a]:
            legal = np.flatnonzero(self._masks[agent]).tolist()
            raise ValueError(f"actions[{agent!r}]={a} is not allowed: illegal here; legal actions are {legal}")
        return a

    def step(self, actions: dict[str, int]):
        if self._state is None or not self.agents:
            raise RuntimeError("step() called with no live agents: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        extra = sorted(set(actions) - set(self.agents))
        if missing or extra:
            raise ValueError(f"actions={actions!r} is not allowed: expected one action for each live agent "
                             f"{self.agents} (missing {missing}, unknown {extra})")
        joint = [self._check_action(agent, actions[agent]) for agent in self.possible_agents]  # all checked first
        self._state.apply_actions(joint)
        self._resolve_chance()
        self._update_masks()
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
                            render_mode: str | None = None, *, dict_observations: bool = False,
                            chance_outcome: ChanceOutcome | None = None) -> LobMarketParallelEnv:
    """The market as a PettingZoo ``ParallelEnv`` (see :class:`LobMarketParallelEnv`)."""
    return LobMarketParallelEnv(game_string=game_string, render_mode=render_mode,
                                dict_observations=dict_observations, chance_outcome=chance_outcome)


def lob_market_aec_env(game_string: str | pyspiel.Game = "python_lob_market", render_mode: str | None = None, *,
                       dict_observations: bool = False):
    """The market as a PettingZoo AEC env (``parallel_to_aec`` over :class:`LobMarketParallelEnv`): agents act in
    turn within a round, and the round is played when the last one has acted."""
    return parallel_to_aec(LobMarketParallelEnv(game_string=game_string, render_mode=render_mode,
                                                dict_observations=dict_observations))
