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

Players see their own account and resting orders (private), the top ``book_levels`` levels of the book, the last
trade price, the spread, the rounds left and the recent mid-price changes (public); not the fundamental, nor other
players' accounts. :class:`LobMarketObserver` builds any OpenSpiel observation type from these pieces; the
information state (every decision's observation and the player's own actions) is kept in the state as rounds go,
so asking for it costs the same at every round. Rewards are mark-to-market changes of wealth; returns are final profits with positions valued at the
fundamental.
"""
from __future__ import annotations

import numpy as np
import pyspiel
from numba import njit

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
        """Validates ``params`` (a :class:`MarketConfig`) and builds the game's tables."""
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
        """Returns a state corresponding to the start of a game."""
        return LobMarketState(self)

    def make_py_observer(self, iig_obs_type=None, params=None):
        """Returns an object used for observing game state."""
        return LobMarketObserver(iig_obs_type or pyspiel.IIGObservationType(perfect_recall=False), params,
                                 self)


class LobMarketState(pyspiel.State):
    """A market state: one ``int64`` buffer holds the whole market (copying it is one array copy).

    The information states are kept as rounds go, in ``_log``: row ``r`` holds what the players observed at their
    decision in round ``r`` (every player's private fields, then the public fields, as
    :func:`marketgames.market.rules.observe` lays them out) and the joint action; rows are added at each player
    node and the array grows by doubling, so a clone copies at most twice the rounds played.
    """

    def __init__(self, game: LobMarketGame):
        """Constructor; should only be called by Game.new_initial_state."""
        super().__init__(game)
        # Only arrays and scalars are kept: clone() deep-copies every attribute (see docs/dependencies.md).
        self._P = game.params_vector
        self._buf = np.empty(int(self._P[R.P_BUF_SIZE]), dtype=np.int64)
        R.market_init(self._buf, self._P)
        self._baseline = np.zeros(game.config.players, dtype=np.int64)  # 2 x wealth at the last player node
        self._log = np.zeros((0, _log_width(game.config)), dtype=np.int64)
        self._memo: _Memo | None = None  # perfect-recall strings already built: see LobMarketObserver.string_from

    # ------------------------------------------------------------------ OpenSpiel API
    def current_player(self) -> int:
        """Returns SIMULTANEOUS at player nodes, CHANCE at chance nodes, TERMINAL when the market is over."""
        phase = self._buf[R.M_PHASE]
        if phase == R.PHASE_PLAYERS:
            return pyspiel.PlayerId.SIMULTANEOUS
        if phase == R.PHASE_TERMINAL:
            return pyspiel.PlayerId.TERMINAL
        return pyspiel.PlayerId.CHANCE

    def _legal_actions(self, player: int) -> list[int]:
        """Returns a list of legal actions, sorted in ascending order (every action at a player node)."""
        if self._buf[R.M_PHASE] != R.PHASE_PLAYERS:
            return []
        return list(range(self.get_game().num_distinct_actions()))

    def chance_outcomes(self) -> list[tuple[int, float]]:
        """Returns the possible chance outcomes and their probabilities (fundamental move or background arrival)."""
        game = self.get_game()
        phase = self._buf[R.M_PHASE]
        if phase == R.PHASE_FUNDAMENTAL:
            return list(game.fundamental_outcomes)
        if phase == R.PHASE_BACKGROUND:
            return list(game.background_outcomes)
        return []

    def _apply_action(self, action: int) -> None:
        """Applies a chance outcome: moves the fundamental or sends the background order."""
        if self._buf[R.M_PHASE] == R.PHASE_FUNDAMENTAL:
            R.apply_fundamental(self._buf, self._P, action)
        else:
            events = np.empty((int(self._P[R.P_CAPACITY]), 6), dtype=np.int64)
            R.apply_background(self._buf, self._P, action, events)

    def _apply_actions(self, actions: list[int]) -> None:
        """Applies the players' joint action, after logging what each of them observed and chose."""
        for p in range(len(self._baseline)):
            self._baseline[p] = R.wealth2(self._buf, self._P, p)
        joint = np.asarray(actions, dtype=np.int64)
        r = self.round
        if r == len(self._log):  # grow by doubling: a clone copies at most twice the rounds played
            grown = np.zeros((min(max(4, 2 * r), int(self._P[R.P_STEPS])), self._log.shape[1]), dtype=np.int64)
            grown[:r] = self._log
            self._log = grown
        _log_decision(self._buf, self._P, joint, self._log[r])
        events = np.empty((int(self._P[R.P_CAPACITY]), 6), dtype=np.int64)
        R.apply_actions(self._buf, self._P, joint, events)

    def _action_to_string(self, player: int, action: int) -> str:
        """Action -> string."""
        game = self.get_game()
        if player == pyspiel.PlayerId.CHANCE:
            if self._buf[R.M_PHASE] == R.PHASE_FUNDAMENTAL:
                return ("shock_down", "no_shock", "shock_up")[action]
            return _background_name(game.config, action)
        return game.action_names[action]

    def is_terminal(self) -> bool:
        """Returns True if the market is over (after ``steps`` rounds)."""
        return bool(self._buf[R.M_PHASE] == R.PHASE_TERMINAL)

    def rewards(self) -> list[float]:
        """Wealth change since the last player node (so summed rewards equal the returns)."""
        return [float(R.wealth2(self._buf, self._P, p) - self._baseline[p]) / 2.0 for p in range(len(self._baseline))]

    def returns(self) -> list[float]:
        """Total reward for each player so far: wealth, positions valued at the mark (at the end: the fundamental)."""
        return [float(R.wealth2(self._buf, self._P, p)) / 2.0 for p in range(len(self._baseline))]

    def __str__(self) -> str:
        """String for debug purposes: round, phase, fundamental, book and every account."""
        return _describe(self._buf, self._P, self.get_game())

    # ------------------------------------------------------------------ market views (read-only copies)
    @property
    def market_buffer(self) -> np.ndarray:
        """A copy of the market buffer (see :mod:`marketgames.market.rules`)."""
        return self._buf.copy()

    @property
    def round(self) -> int:
        """Rounds completed (the round being played, before its players act)."""
        return int(self._buf[R.M_ROUND])

    @property
    def fundamental(self) -> int:
        """The fundamental value (hidden from the players)."""
        return int(self._buf[R.M_FUND])

    @property
    def background_surplus(self) -> float:
        """The background (zero-intelligence) traders' total surplus so far: expected private value plus the mark
        (at the end: the fundamental) minus the price, over their lots traded
        (:func:`marketgames.market.rules.background_surplus2`)."""
        return float(R.background_surplus2(self._buf, self._P)) / 2.0

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
        """Observations of ``player`` at each of its decisions so far (and now, at a player node), and its actions."""
        n, rounds = len(self._baseline), self.round
        log = self._log[:rounds]
        obs = np.concatenate([log[:, R.OBS_PRIVATE * player:R.OBS_PRIVATE * (player + 1)],
                              log[:, R.OBS_PRIVATE * n:-n]], axis=1)
        if self._buf[R.M_PHASE] == R.PHASE_PLAYERS:
            obs = np.concatenate([obs, self.observation_ints(player)[None]])
        return obs, [int(a) for a in log[:, log.shape[1] - n + player]]



@njit(cache=True)
def _log_decision(buf, P, joint, row):
    """Write one ``LobMarketState._log`` row: every player's private fields, the public fields, the joint action."""
    n, k, width = joint.shape[0], R.OBS_PRIVATE, row.shape[0]
    obs = np.zeros(P[R.P_OBS_SIZE], dtype=np.int64)
    for p in range(n):
        R.observe(buf, P, p, obs)
        row[k * p:k * (p + 1)] = obs[:k]
    row[k * n:width - n] = obs[k:]
    row[width - n:] = joint


def _log_width(config: MarketConfig) -> int:
    """Columns of a ``LobMarketState._log`` row."""
    return config.players * (R.OBS_PRIVATE + 1) + R.obs_size(config.book_levels, config.history) - R.OBS_PRIVATE


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


def _book_string(obs: np.ndarray, levels: int, i: int = R.OBS_PRIVATE) -> str:
    bids = [f"{p}x{s}" for p, s in zip(obs[i:i + levels], obs[i + levels:i + 2 * levels]) if s > 0]
    asks = [f"{p}x{s}" for p, s in zip(obs[i + 2 * levels:i + 3 * levels], obs[i + 3 * levels:i + 4 * levels])
            if s > 0]
    return f"bids[{' '.join(bids)}] asks[{' '.join(asks)}]"


def _private_string(private: np.ndarray) -> str:
    """The private fields of one player: inventory, cash, resting buy and sell lots."""
    return f"inv={int(private[0])} cash={int(private[1])} rest=b{int(private[2])}/s{int(private[3])}"


def _public_string(public: np.ndarray, levels: int, history: int) -> str:
    """The public fields of an observation (from the first book field on)."""
    i = 4 * levels
    dmid = ",".join(str(int(x)) for x in public[i + 3:i + 3 + history])
    return (f"{_book_string(public, levels, 0)} last={int(public[i])} spread={int(public[i + 1])} "
            f"left={int(public[i + 2])} dmid2=[{dmid}]")


def observation_string(obs: np.ndarray, levels: int, history: int) -> str:
    """A compact readable form of one integer observation."""
    return f"{_private_string(obs[:R.OBS_PRIVATE])} {_public_string(obs[R.OBS_PRIVATE:], levels, history)}"


class LobMarketObserver:
    """Observer with named tensor views (OpenSpiel's ``PyObserver`` interface), pieces chosen by the observation type.

    What is public and what is private: the book (the top ``book_levels`` price levels and their sizes, every
    trader's orders in aggregate and anonymous), the last trade price, the spread, the rounds left and the recent
    mid changes are public: every player sees the same. A player's inventory, cash and resting buy and sell lots are
    private to that player. The fundamental value belongs to no player (it is chance's) and is in no piece, and a
    player's own actions are private (others see only their effect on the book).

    Pieces, as OpenSpiel's ``kuhn_poker.py`` chooses them from ``iig_obs_type``:

    - ``private_info`` ``SINGLE_PLAYER``: ``private`` ``(4,)`` (inventory / position limit, cash / (position limit
      x price levels), resting buy and sell lots / position limit) of the observing player; ``ALL_PLAYERS``:
      ``private`` ``(players, 4)``, row ``p`` player ``p``'s; ``NONE``: no private piece.
    - ``public_info``: ``bid_prices``, ``bid_sizes``, ``ask_prices``, ``ask_sizes`` (prices as a fraction of the
      grid, missing levels 0 with size 0), ``market`` (last price and spread as fractions of the grid, the fraction
      of rounds left, then recent mid changes in ticks).
    - ``perfect_recall``: instead, ``observations`` ``(steps, width)``: one row per round, the private fields
      chosen above then the public fields, as observed at the round's decision; and ``actions``: one-hot own action
      per round ``(steps, num_actions)`` (``SINGLE_PLAYER``), every player's ``(steps, players, num_actions)``
      (``ALL_PLAYERS``), none (``NONE``).

    The default observation (``SINGLE_PLAYER``, public) is ``private`` then the public pieces; the information state
    (the same with ``perfect_recall``) is ``observations`` and ``actions``. Strings name the observing player (``p0
    ...``) unless ``private_info`` is ``NONE``, so a public observation is the same string for every player.
    """

    def __init__(self, iig_obs_type, params, game: LobMarketGame):
        """Initializes an empty observation tensor of the pieces ``iig_obs_type`` asks for."""
        if params:
            raise ValueError(f"params={params!r}: the lob market observer takes no parameters")
        config = game.config
        self._config = config
        self._names = game.action_names
        self._perfect_recall = bool(iig_obs_type.perfect_recall)
        self._public = bool(iig_obs_type.public_info)
        self._private = iig_obs_type.private_info
        n, k, L, H = config.players, R.OBS_PRIVATE, config.book_levels, config.history
        self._obs_size = R.obs_size(L, H)
        self._accounts = {pyspiel.PrivateInfoType.NONE: 0, pyspiel.PrivateInfoType.SINGLE_PLAYER: 1,
                          pyspiel.PrivateInfoType.ALL_PLAYERS: n}[self._private]
        public = self._obs_size - k
        obs_pieces: list[tuple[str, tuple[int, ...]]] = []
        if self._accounts:
            obs_pieces.append(("private", (k,) if self._accounts == 1 else (n, k)))
        if self._public:
            obs_pieces += [("bid_prices", (L,)), ("bid_sizes", (L,)), ("ask_prices", (L,)), ("ask_sizes", (L,)),
                           ("market", (3 + H,))]
        self._width = k * self._accounts + public * self._public
        if self._perfect_recall:
            pieces: list[tuple[str, tuple[int, ...]]] = [("observations", (config.steps, self._width))]
            if self._accounts:
                pieces.append(("actions", (config.steps, config.num_actions) if self._accounts == 1
                               else (config.steps, n, config.num_actions)))
        else:
            pieces = obs_pieces
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
        self._scale = scale  # of a full observation (rules.observe's layout)
        # The same for one row of this observer: `accounts` private blocks, then the public fields if any.
        self._row_scale = np.concatenate([np.tile(scale[:k], self._accounts), scale[k:] if self._public else []])
        self._cols = [self._columns(p) for p in range(n)]
        first = k * self._accounts
        self._row_prices = np.r_[first:first + L, first + 2 * L:first + 3 * L] if self._public else np.r_[0:0]

    def _columns(self, player: int) -> np.ndarray:
        """The columns of a ``LobMarketState._log`` row that make one row of this observer for ``player``."""
        n, k = self._config.players, R.OBS_PRIVATE
        first = 0 if self._accounts != 1 else k * player
        own = np.arange(first, first + k * self._accounts)
        public = np.arange(k * n, k * n + self._obs_size - k) if self._public else np.arange(0)
        return np.concatenate([own, public])

    def _now(self, state: LobMarketState, player: int) -> np.ndarray:
        """This observer's integer row for ``player`` at ``state`` now."""
        k = R.OBS_PRIVATE
        own = state.observation_ints(player)
        if self._accounts == 1 and self._public:  # the default observation: the whole of rules.observe's
            return own
        parts = [state.observation_ints(q)[:k] for q in range(self._config.players)] if self._accounts > 1 else []
        if self._accounts == 1:
            parts.append(own[:k])
        if self._public:
            parts.append(own[k:])
        return np.concatenate(parts) if parts else own[:0]

    def _rows(self, state: LobMarketState, player: int) -> tuple[np.ndarray, np.ndarray]:
        """Integer rows of every decision so far (and now, at a player node), and the logged joint actions."""
        n = self._config.players
        log = state._log[:state.round]
        rows = log[:, self._cols[player]]
        if state.current_player() == pyspiel.PlayerId.SIMULTANEOUS:
            rows = np.concatenate([rows, self._now(state, player)[None]])
        return rows, log[:, log.shape[1] - n:]

    def _scaled(self, rows: np.ndarray) -> np.ndarray:
        """Integer rows of this observer as floats: prices of missing levels (-1) become 0, then scaled."""
        x = rows.astype(np.float64)
        prices = x[..., self._row_prices]
        x[..., self._row_prices] = np.where(prices < 0, 0.0, prices)
        return x * self._row_scale

    def set_from(self, state: LobMarketState, player: int) -> None:
        """Updates `tensor` and `dict` to reflect `state` from PoV of `player`."""
        self.tensor.fill(0)
        if not self._perfect_recall:
            self.tensor[:] = self._scaled(self._now(state, player))
            return
        rows, joint = self._rows(state, player)
        self.dict["observations"][:len(rows)] = self._scaled(rows)
        rounds = np.arange(len(joint))
        if self._accounts == 1:
            self.dict["actions"][rounds, joint[:, player]] = 1.0
        elif self._accounts > 1:
            self.dict["actions"][rounds[:, None], np.arange(joint.shape[1])[None, :], joint] = 1.0

    def _row_string(self, row: np.ndarray, player: int) -> str:
        """One row of this observer as text."""
        k, parts = R.OBS_PRIVATE, []
        if self._accounts == 1:
            parts.append(_private_string(row[:k]))
        elif self._accounts > 1:
            parts.append("accounts[" + ", ".join(f"p{q} {_private_string(row[k * q:k * (q + 1)])}"
                                                 for q in range(self._accounts)) + "]")
        if self._public:
            parts.append(_public_string(row[k * self._accounts:], self._config.book_levels, self._config.history))
        return " ".join(parts)

    def _round_string(self, row: np.ndarray, joint: np.ndarray, r: int, player: int) -> str:
        """Round ``r`` of a perfect-recall string: the row observed and the action(s) taken."""
        text = f"r{r}: {self._row_string(row, player)}"
        if self._accounts == 1:
            text += f" | a{r}: {self._names[joint[player]]}"
        elif self._accounts > 1:
            text += f" | a{r}: " + ",".join(self._names[a] for a in joint)
        return text

    def string_from(self, state: LobMarketState, player: int) -> str:
        """Observation of `state` from the PoV of `player`, as a string."""
        head = f"p{player}" if self._accounts else ""
        if not self._perfect_recall:
            return " ".join(x for x in (head, self._row_string(self._now(state, player), player)) if x)
        # The text of completed rounds never changes: it is kept in the state (strings are shared, not copied, by
        # clone) and extended by the rounds played since, so asking every round costs O(1) rounds of formatting.
        key = (int(self._private), self._public, player)
        memo = state._memo if state._memo is not None else _Memo()
        done, text = memo.get(key, (0, head))
        rounds = state.round
        if done < rounds:
            log = state._log[:rounds]
            rows, n = log[:, self._cols[player]], self._config.players
            text = " | ".join([text] * bool(text) + [self._round_string(rows[r], log[r, log.shape[1] - n:], r, player)
                                                     for r in range(done, rounds)])
            memo[key] = (rounds, text)
            state._memo = memo
        if state.current_player() == pyspiel.PlayerId.SIMULTANEOUS:
            now = f"r{rounds}: {self._row_string(self._now(state, player), player)}"
            text = f"{text} | {now}" if text else now
        return text


class _Memo(dict):
    """Perfect-recall strings built so far, ``{(private_info, public_info, player): (rounds, text)}``; a clone
    copies the dict, not the strings (they never change)."""

    def __deepcopy__(self, memo: dict) -> _Memo:
        return _Memo(self)


pyspiel.register_game(_GAME_TYPE, LobMarketGame)
