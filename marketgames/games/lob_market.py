"""The limit-order-book market as an OpenSpiel game: ``python_lob_market``.

A simultaneous-move, general-sum, imperfect-information game with explicit chance nodes. Each round a chance node
moves a mean-reverting fundamental value, a chance node draws zero-intelligence background order flow, then every
player picks an action at once. The rules (matching, background flow, accounting) are the compiled kernels of
:mod:`marketgames.market.rules`, shared with the batched simulator. Parameters and their defaults:
:class:`marketgames.market.config.MarketConfig`.

Load it by name once :mod:`marketgames` is imported::

    import marketgames, pyspiel
    game = pyspiel.load_game("python_lob_market(players=3,steps=20)")

Actions (``num_distinct_actions = 4 + 2 * limit_levels + quote_levels``): 0 hold; 1 cancel own orders; 2 market
buy; 3 market sell; then limit buys ``k = 0 .. limit_levels-1`` ticks below the best bid (``k = 0`` joins it),
limit sells ``k`` ticks above the best ask, and two-sided quotes at half-spread ``h = 1 .. quote_levels`` around
the mid (a quote replaces the player's resting orders).

Players see their own account and resting orders, the top ``book_levels`` levels of the book, the last trade
price, the spread, the rounds left and the recent mid-price changes; not the fundamental, nor other players'
accounts. Rewards are mark-to-market changes of wealth; returns are final profits with positions valued at the
fundamental.
"""
from __future__ import annotations

import numpy as np
import pyspiel

from ..market import rules as R
from ..market.config import MarketConfig

GAME_NAME = "python_lob_market"

_DEFAULT_CONFIG = MarketConfig()

_GAME_TYPE = pyspiel.GameType(
    short_name=GAME_NAME,
    long_name="Python Limit Order Book Market",
    dynamics=pyspiel.GameType.Dynamics.SIMULTANEOUS,
    chance_mode=pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC,
    information=pyspiel.GameType.Information.IMPERFECT_INFORMATION,
    utility=pyspiel.GameType.Utility.GENERAL_SUM,
    reward_model=pyspiel.GameType.RewardModel.REWARDS,
    max_num_players=16,
    min_num_players=2,
    provides_information_state_string=True,
    provides_information_state_tensor=True,
    provides_observation_string=True,
    provides_observation_tensor=True,
    provides_factored_observation_string=False,
    parameter_specification=_DEFAULT_CONFIG.to_params(),
)


def action_names(config: MarketConfig) -> list[str]:
    """Readable names of the actions, indexed by action id."""
    names = ["hold", "cancel", "market_buy", "market_sell"]
    names += [f"limit_buy_{k}" for k in range(config.limit_levels)]
    names += [f"limit_sell_{k}" for k in range(config.limit_levels)]
    names += [f"quote_{h}" for h in range(1, config.quote_levels + 1)]
    return names


class LobMarketGame(pyspiel.Game):
    """The market game; states and observers are made from it."""

    def __init__(self, params=None):
        config = MarketConfig.from_params(params or {})
        bound = config.utility_bound()
        super().__init__(
            _GAME_TYPE,
            pyspiel.GameInfo(
                num_distinct_actions=config.num_actions,
                max_chance_outcomes=max(3, len(config.background_outcome_probs())),
                num_players=config.players,
                min_utility=-bound,
                max_utility=bound,
                utility_sum=None,
                max_game_length=config.steps,
            ),
            config.to_params(),
        )
        self.config = config
        self.params_vector = config.params()
        self.action_names = action_names(config)
        probs = config.fundamental_outcome_probs()
        self.fundamental_outcomes = [(a, float(p)) for a, p in enumerate(probs) if p > 0]
        probs = config.background_outcome_probs()
        self.background_outcomes = [(a, float(p)) for a, p in enumerate(probs) if p > 0]

    def new_initial_state(self):
        return LobMarketState(self)

    def make_py_observer(self, iig_obs_type=None, params=None):
        return LobMarketObserver(iig_obs_type or pyspiel.IIGObservationType(perfect_recall=False), params,
                                 self)


class LobMarketState(pyspiel.State):
    """A market state: one ``int64`` buffer holds the whole market (copying it is one array copy)."""

    def __init__(self, game: LobMarketGame):
        super().__init__(game)
        # Only arrays and scalars are kept: clone() deep-copies every attribute (see docs/dependencies.md).
        self._P = game.params_vector
        self._buf = np.empty(int(self._P[R.P_BUF_SIZE]), dtype=np.int64)
        R.market_init(self._buf, self._P)
        self._baseline = np.zeros(game.config.players, dtype=np.int64)  # 2 x wealth at the last player node

    # ------------------------------------------------------------------ OpenSpiel API
    def current_player(self) -> int:
        phase = self._buf[R.M_PHASE]
        if phase == R.PHASE_PLAYERS:
            return pyspiel.PlayerId.SIMULTANEOUS
        if phase == R.PHASE_TERMINAL:
            return pyspiel.PlayerId.TERMINAL
        return pyspiel.PlayerId.CHANCE

    def _legal_actions(self, player: int) -> list[int]:
        if self._buf[R.M_PHASE] != R.PHASE_PLAYERS:
            return []
        return list(range(self.get_game().num_distinct_actions()))

    def chance_outcomes(self) -> list[tuple[int, float]]:
        game = self.get_game()
        phase = self._buf[R.M_PHASE]
        if phase == R.PHASE_FUNDAMENTAL:
            return list(game.fundamental_outcomes)
        if phase == R.PHASE_BACKGROUND:
            return list(game.background_outcomes)
        return []

    def _apply_action(self, action: int) -> None:
        if self._buf[R.M_PHASE] == R.PHASE_FUNDAMENTAL:
            R.apply_fundamental(self._buf, self._P, action)
        else:
            events = np.empty((int(self._P[R.P_CAPACITY]), 6), dtype=np.int64)
            R.apply_background(self._buf, self._P, action, events)

    def _apply_actions(self, actions: list[int]) -> None:
        for p in range(len(self._baseline)):
            self._baseline[p] = R.wealth2(self._buf, self._P, p)
        events = np.empty((int(self._P[R.P_CAPACITY]), 6), dtype=np.int64)
        R.apply_actions(self._buf, self._P, np.asarray(actions, dtype=np.int64), events)

    def _action_to_string(self, player: int, action: int) -> str:
        game = self.get_game()
        if player == pyspiel.PlayerId.CHANCE:
            if self._buf[R.M_PHASE] == R.PHASE_FUNDAMENTAL:
                return ("shock_down", "no_shock", "shock_up")[action]
            return _background_name(game.config, action)
        return game.action_names[action]

    def is_terminal(self) -> bool:
        return bool(self._buf[R.M_PHASE] == R.PHASE_TERMINAL)

    def rewards(self) -> list[float]:
        """Wealth change since the last player node (so summed rewards equal the returns)."""
        return [float(R.wealth2(self._buf, self._P, p) - self._baseline[p]) / 2.0 for p in range(len(self._baseline))]

    def returns(self) -> list[float]:
        return [float(R.wealth2(self._buf, self._P, p)) / 2.0 for p in range(len(self._baseline))]

    def __str__(self) -> str:
        return _describe(self._buf, self._P, self.get_game())

    # ------------------------------------------------------------------ market views (read-only copies)
    @property
    def market_buffer(self) -> np.ndarray:
        """A copy of the market buffer (see :mod:`marketgames.market.rules`)."""
        return self._buf.copy()

    @property
    def round(self) -> int:
        return int(self._buf[R.M_ROUND])

    @property
    def fundamental(self) -> int:
        return int(self._buf[R.M_FUND])

    def account(self, player: int) -> tuple[int, int]:
        """``(cash, inventory)`` of ``player``."""
        a = int(self._P[R.P_OFF_PLAYERS]) + R.A_WIDTH * player
        return int(self._buf[a + R.A_CASH]), int(self._buf[a + R.A_INVENTORY])

    def observation_ints(self, player: int) -> np.ndarray:
        """The integer observation of ``player`` (layout in :func:`marketgames.market.rules.observe`)."""
        out = np.zeros(int(self._P[R.P_OBS_SIZE]), dtype=np.int64)
        R.observe(self._buf, self._P, player, out)
        return out

    def observation_history(self, player: int) -> tuple[np.ndarray, list[int]]:
        """Observations of ``player`` at each of its decisions so far (and now, at a player node), and its actions.

        Rebuilt by replaying the action history, so states stay small for tree algorithms.
        """
        game = self.get_game()
        n = game.config.players
        P = self._P
        buf = np.empty_like(self._buf)
        R.market_init(buf, P)
        events = np.empty((int(P[R.P_CAPACITY]), 6), dtype=np.int64)
        obs, own = [], []
        history = self.history()
        i = 0
        while i < len(history):
            phase = buf[R.M_PHASE]
            if phase == R.PHASE_FUNDAMENTAL:
                R.apply_fundamental(buf, P, history[i])
                i += 1
            elif phase == R.PHASE_BACKGROUND:
                R.apply_background(buf, P, history[i], events)
                i += 1
            else:
                o = np.zeros(int(P[R.P_OBS_SIZE]), dtype=np.int64)
                R.observe(buf, P, player, o)
                obs.append(o)
                joint = np.asarray(history[i:i + n], dtype=np.int64)
                own.append(int(joint[player]))
                R.apply_actions(buf, P, joint, events)
                i += n
        if buf[R.M_PHASE] == R.PHASE_PLAYERS:
            obs.append(self.observation_ints(player))
        width = int(P[R.P_OBS_SIZE])
        return (np.array(obs, dtype=np.int64).reshape(-1, width), own)


def _background_name(config: MarketConfig, outcome: int) -> str:
    if outcome == 0:
        return "no_arrival"
    buys = config.bg_buy_offsets
    if outcome <= len(buys):
        return f"bg_buy@{int(buys[outcome - 1]):+d}"
    return f"bg_sell@{int(config.bg_sell_offsets[outcome - 1 - len(buys)]):+d}"


def _describe(buf: np.ndarray, P: np.ndarray, game: LobMarketGame) -> str:
    phase = ("fundamental", "background", "players", "terminal")[int(buf[R.M_PHASE])]
    lines = [f"round {int(buf[R.M_ROUND])}/{int(P[R.P_STEPS])} phase={phase} fundamental={int(buf[R.M_FUND])} "
             f"last={int(buf[R.M_LAST_PRICE])} volume={int(buf[R.M_VOLUME])}"]
    obs = np.zeros(int(P[R.P_OBS_SIZE]), dtype=np.int64)
    R.observe(buf, P, 0, obs)
    lines.append("book " + _book_string(obs, int(P[R.P_BOOK_LEVELS])))
    off = int(P[R.P_OFF_PLAYERS])
    for p in range(game.config.players):
        a = off + R.A_WIDTH * p
        lines.append(f"p{p} cash={int(buf[a + R.A_CASH])} inv={int(buf[a + R.A_INVENTORY])}")
    return "\n".join(lines)


def _book_string(obs: np.ndarray, levels: int) -> str:
    i = R.OBS_PRIVATE
    bids = [f"{p}x{s}" for p, s in zip(obs[i:i + levels], obs[i + levels:i + 2 * levels]) if s > 0]
    asks = [f"{p}x{s}" for p, s in zip(obs[i + 2 * levels:i + 3 * levels], obs[i + 3 * levels:i + 4 * levels])
            if s > 0]
    return f"bids[{' '.join(bids)}] asks[{' '.join(asks)}]"


def observation_string(obs: np.ndarray, levels: int, history: int) -> str:
    """A compact readable form of one integer observation."""
    i = R.OBS_PRIVATE + 4 * levels
    dmid = ",".join(str(int(x)) for x in obs[i + 3:i + 3 + history])
    return (f"inv={int(obs[0])} cash={int(obs[1])} rest=b{int(obs[2])}/s{int(obs[3])} "
            f"{_book_string(obs, levels)} last={int(obs[i])} spread={int(obs[i + 1])} left={int(obs[i + 2])} "
            f"dmid2=[{dmid}]")


class LobMarketObserver:
    """Observer with named tensor views (OpenSpiel's ``PyObserver`` interface).

    Observation views: ``private`` (inventory / position limit, cash / (position limit x price levels), resting
    buy and sell lots / position limit), ``bid_prices``, ``bid_sizes``, ``ask_prices``, ``ask_sizes`` (prices as a
    fraction of the grid, missing levels 0 with size 0), ``market`` (last price and spread as fractions of the
    grid, the fraction of rounds left, then recent mid changes in ticks). With ``perfect_recall`` the information
    state is ``observations`` (one row per round, the observation at the player's decision) and ``actions`` (one-hot
    own action per round).
    """

    def __init__(self, iig_obs_type, params, game: LobMarketGame):
        if params:
            raise ValueError(f"params={params!r}: the lob market observer takes no parameters")
        config = game.config
        self._config = config
        self._perfect_recall = bool(iig_obs_type.perfect_recall)
        L, H = config.book_levels, config.history
        self._obs_size = R.obs_size(L, H)
        obs_pieces = [("private", R.OBS_PRIVATE), ("bid_prices", L), ("bid_sizes", L), ("ask_prices", L),
                      ("ask_sizes", L), ("market", 3 + H)]
        if self._perfect_recall:
            pieces = [("observations", (config.steps, self._obs_size)),
                      ("actions", (config.steps, config.num_actions))]
        else:
            pieces = [(name, (size,)) for name, size in obs_pieces]
        total = sum(int(np.prod(shape)) for _, shape in pieces)
        self.tensor = np.zeros(total, np.float32)
        self.dict = {}
        index = 0
        for name, shape in pieces:
            size = int(np.prod(shape))
            self.dict[name] = self.tensor[index:index + size].reshape(shape)
            index += size
        scale = np.ones(self._obs_size, dtype=np.float64)
        grid = max(config.price_levels - 1, 1)
        scale[0] = scale[2] = scale[3] = 1.0 / config.position_limit
        scale[1] = 1.0 / (config.position_limit * config.price_levels)
        i = R.OBS_PRIVATE
        scale[i:i + L] = 1.0 / grid
        scale[i + 2 * L:i + 3 * L] = 1.0 / grid
        j = i + 4 * L
        scale[j] = scale[j + 1] = 1.0 / grid
        scale[j + 2] = 1.0 / config.steps
        scale[j + 3:] = 0.5
        self._scale = scale
        self._price_slots = np.r_[i:i + L, i + 2 * L:i + 3 * L]

    def _scaled(self, obs: np.ndarray) -> np.ndarray:
        x = obs.astype(np.float64)
        prices = x[..., self._price_slots]
        x[..., self._price_slots] = np.where(prices < 0, 0.0, prices)
        return x * self._scale

    def set_from(self, state: LobMarketState, player: int) -> None:
        self.tensor.fill(0)
        if not self._perfect_recall:
            self.tensor[:] = self._scaled(state.observation_ints(player))
            return
        obs, own = state.observation_history(player)
        self.dict["observations"][:len(obs)] = self._scaled(obs)
        for r, action in enumerate(own):
            self.dict["actions"][r, action] = 1.0

    def string_from(self, state: LobMarketState, player: int) -> str:
        L, H = self._config.book_levels, self._config.history
        if not self._perfect_recall:
            return f"p{player} " + observation_string(state.observation_ints(player), L, H)
        obs, own = state.observation_history(player)
        names = action_names(self._config)
        parts = [f"p{player}"]
        for r, o in enumerate(obs):
            parts.append(f"r{r}: " + observation_string(o, L, H))
            if r < len(own):
                parts.append(f"a{r}: {names[own[r]]}")
        return " | ".join(parts)


pyspiel.register_game(_GAME_TYPE, LobMarketGame)
