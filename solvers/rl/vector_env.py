"""Many episodes of an OpenSpiel game stepped together, so agents act on batches.

Simultaneous-move games are played through ``pyspiel.convert_to_turn_based``. Chance outcomes are sampled from an
injected generator; finished episodes restart at once (their returns are reported by :meth:`VectorEnv.step`).
"""
from __future__ import annotations

import numpy as np
import pyspiel

from marketgames.sampling import draw
from marketgames.seeding import SeedLike, as_generator


class VectorEnv:
    """``num_envs`` episodes of ``game``; observations are information-state tensors (or observation tensors)."""

    def __init__(self, game: pyspiel.Game | str, num_envs: int, *, seed: SeedLike = 0) -> None:
        if isinstance(game, str):
            game = pyspiel.load_game(game)
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs} is not allowed: expected >= 1")
        if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
            game = pyspiel.convert_to_turn_based(game)
        game_type = game.get_type()
        if game_type.provides_information_state_tensor:
            self._tensor = lambda s, p: s.information_state_tensor(p)
            self.obs_size = game.information_state_tensor_size()
        elif game_type.provides_observation_tensor:
            self._tensor = lambda s, p: s.observation_tensor(p)
            self.obs_size = game.observation_tensor_size()
        else:
            raise ValueError(f"game={game}: learning agents need information-state or observation tensors")
        self.game = game
        self.num_envs = int(num_envs)
        self.num_players = game.num_players()
        self.num_actions = game.num_distinct_actions()
        self.rng = as_generator(seed)
        self.states = [self._start() for _ in range(self.num_envs)]

    def _advance(self, state: pyspiel.State) -> None:
        """Play chance nodes up to the next player node or the end."""
        while state.is_chance_node():
            outcomes = state.chance_outcomes()
            state.apply_action(outcomes[draw([p for _, p in outcomes], self.rng.random())][0])

    def _start(self) -> pyspiel.State:
        state = self.game.new_initial_state()
        self._advance(state)
        return state

    def players(self) -> np.ndarray:
        return np.array([s.current_player() for s in self.states])

    def observations(self) -> tuple[np.ndarray, np.ndarray]:
        """``(obs (B, obs_size), legal (B, num_actions))`` of the player to move in each episode."""
        obs = np.zeros((self.num_envs, self.obs_size), np.float32)
        legal = np.zeros((self.num_envs, self.num_actions), bool)
        for b, s in enumerate(self.states):
            p = s.current_player()
            obs[b] = self._tensor(s, p)
            legal[b, s.legal_actions(p)] = True
        return obs, legal

    def observe(self, b: int, player: int) -> np.ndarray:
        return np.asarray(self._tensor(self.states[b], player), np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action per episode; returns ``(rewards (B, n), done (B,), returns (B, n))``, where
        ``returns`` holds the final returns of the episodes that ended (and zeros elsewhere). Ended episodes
        restart.

        ``rewards`` are read once, at the next player node (or the end): OpenSpiel's ``state.rewards()`` there covers
        everything since the last player node, chance nodes included (as in ``rl_environment`` and
        ``random_sim_test``), so summing it after every chance node too would count rewards twice."""
        rewards = np.zeros((self.num_envs, self.num_players))
        done = np.zeros(self.num_envs, bool)
        returns = np.zeros((self.num_envs, self.num_players))
        for b, (state, action) in enumerate(zip(self.states, actions)):
            state.apply_action(int(action))
            self._advance(state)
            rewards[b] = state.rewards()
            if state.is_terminal():
                done[b] = True
                returns[b] = state.returns()
                self.states[b] = self._start()
        return rewards, done, returns
