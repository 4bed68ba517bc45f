"""Many independent markets stepped at once: the rules of ``python_lob_market`` over a batch, compiled with numba.

:class:`BatchedMarket` keeps ``B`` market buffers stacked in one ``(B, buf_size)`` ``int64`` array and steps them
with ``@njit(parallel=True)`` drivers that loop ``prange`` over chunks of markets and call the very kernels of
:mod:`marketgames.market.rules` that the OpenSpiel game calls: there is no second copy of any rule. (Batches of
fewer than ``SERIAL_BELOW_AGENTS`` agents run the same loop on the calling thread.) Market ``i`` of
a batch follows exactly the OpenSpiel game fed the same chance outcomes and joint actions (observations, rewards,
returns and whole market buffers are equal; ``tests/market/test_batched_equivalence.py``).

Randomness is counter-based (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"): market ``i`` gets
a 128-bit key from ``SeedSequence(seed)``'s ``i``-th child (``spawn_key + (i,)``, so the key does not depend on the
batch size), and every uniform number is a hash of ``(key, episode, round, stream)`` through chained splitmix64
finalisers (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"). A draw is therefore a pure
function of the market, not of the batch size, the thread count or the order in which threads run, and needs no
per-market generator state (numpy ``Generator`` objects per market would cost ~1 us of Python per draw). Streams
``0`` and ``1`` are the fundamental and background chance nodes; stream ``2 + seat`` is reserved for the seat's
action draws (:func:`marketgames.market.population.population_actions`); higher streams are free for callers.
Chance outcomes are drawn by inverse CDF from the configuration's exact probabilities
(:meth:`MarketConfig.fundamental_outcome_probs`, :meth:`MarketConfig.background_outcome_probs`).

Time steps follow OpenSpiel's ``rl_environment``: :meth:`BatchedMarket.reset` plays round 0's chance nodes and
returns the observations at the first player node; :meth:`BatchedMarket.step` applies the joint actions of round
``t`` and then round ``t + 1``'s chance nodes, and returns the observations at the next player node (or at the
end), each player's reward since its last decision (OpenSpiel's ``state.rewards()`` there) and ``done``. All
markets of a batch have the same number of rounds, so they finish together; there is no auto-reset (call
:meth:`~BatchedMarket.reset`, which starts a new episode with fresh random numbers).
"""
from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from ..book import kernels as BK
from ..sampling import inverse_cdf
from ..seeding import SeedLike, seed_sequence
from . import rules as R
from .config import MarketConfig

STREAM_FUNDAMENTAL = 0
STREAM_BACKGROUND = 1
STREAM_FIRST_SEAT = 2   # seat p draws its actions from stream STREAM_FIRST_SEAT + p
SERIAL_BELOW_AGENTS = 64  # batches with fewer markets x players are stepped without the thread pool

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53


# ---------------------------------------------------------------- counter-based uniforms
@njit(cache=True)
def _mix64(z):
    """The splitmix64 finaliser, a bijection of uint64 with full avalanche."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def counter_uniform(k0, k1, episode, rnd, stream):
    """A uniform number in ``[0, 1)`` (53 bits) that is a pure function of the key and the counter triple."""
    h = _mix64(k0 + _GOLDEN * np.uint64(episode + 1))
    h = _mix64((h ^ k1) + _GOLDEN * np.uint64(rnd + 1))
    h = _mix64(h + _GOLDEN * np.uint64(stream + 1))
    return np.float64(h >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def _uniforms(keys, episode, rnd, stream, out):
    for i in range(keys.shape[0]):
        out[i] = counter_uniform(keys[i, 0], keys[i, 1], episode, rnd, stream)


@njit(cache=True)
def _chance_log(keys, episode, rounds, fund_cdf, bg_cdf, out):
    for i in range(keys.shape[0]):
        for r in range(rounds):
            out[i, r, 0] = inverse_cdf(fund_cdf, counter_uniform(keys[i, 0], keys[i, 1], episode, r,
                                                                 STREAM_FUNDAMENTAL))
            out[i, r, 1] = inverse_cdf(bg_cdf, counter_uniform(keys[i, 0], keys[i, 1], episode, r,
                                                               STREAM_BACKGROUND))


# ---------------------------------------------------------------- drivers (markets in chunks; prange over chunks)
@njit(cache=True)
def _chance_round(buf, P, k0, k1, episode, fund_cdf, bg_cdf, events):
    """The two chance nodes of the market's current round, drawn from its own stream."""
    rnd = buf[R.M_ROUND]
    R.apply_fundamental(buf, P, inverse_cdf(fund_cdf, counter_uniform(k0, k1, episode, rnd, STREAM_FUNDAMENTAL)))
    R.apply_background(buf, P, inverse_cdf(bg_cdf, counter_uniform(k0, k1, episode, rnd, STREAM_BACKGROUND)),
                       events)


@njit(cache=True)
def _settle_node(buf, P, base2, rewards, obs):
    """At a player node (or the end): rewards since the last one, the new baseline and every observation."""
    for p in range(P[R.P_PLAYERS]):
        w = R.wealth2(buf, P, p)
        rewards[p] = (w - base2[p]) / 2.0
        base2[p] = w
        R.observe(buf, P, p, obs[p])


@njit(cache=True)
def _reset_range(bufs, P, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, lo, hi, events):
    for i in range(lo, hi):
        buf = bufs[i]
        R.market_init(buf, P)
        base2[i, :] = 0  # OpenSpiel's baseline before the first player node: empty accounts
        _chance_round(buf, P, keys[i, 0], keys[i, 1], episode, fund_cdf, bg_cdf, events)
        _settle_node(buf, P, base2[i], rewards[i], obs[i])


@njit(cache=True)
def _step_range(bufs, P, actions, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, lo, hi, events):
    for i in range(lo, hi):
        buf = bufs[i]
        R.apply_actions(buf, P, actions[i], events)
        if buf[R.M_PHASE] != R.PHASE_TERMINAL:
            _chance_round(buf, P, keys[i, 0], keys[i, 1], episode, fund_cdf, bg_cdf, events)
        _settle_node(buf, P, base2[i], rewards[i], obs[i])


@njit(parallel=True, cache=True)
def _reset_parallel(bufs, P, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, chunk):
    n_markets = bufs.shape[0]
    for c in prange((n_markets + chunk - 1) // chunk):
        events = np.empty((P[R.P_CAPACITY], BK.EV_WIDTH), dtype=np.int64)
        _reset_range(bufs, P, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, c * chunk,
                     min(n_markets, (c + 1) * chunk), events)


@njit(cache=True)
def _reset_serial(bufs, P, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs):
    events = np.empty((P[R.P_CAPACITY], BK.EV_WIDTH), dtype=np.int64)
    _reset_range(bufs, P, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, 0, bufs.shape[0], events)


@njit(parallel=True, cache=True)
def _step_parallel(bufs, P, actions, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, chunk):
    n_markets = bufs.shape[0]
    for c in prange((n_markets + chunk - 1) // chunk):
        events = np.empty((P[R.P_CAPACITY], BK.EV_WIDTH), dtype=np.int64)
        _step_range(bufs, P, actions, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, c * chunk,
                    min(n_markets, (c + 1) * chunk), events)


@njit(cache=True)
def _step_serial(bufs, P, actions, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs):
    events = np.empty((P[R.P_CAPACITY], BK.EV_WIDTH), dtype=np.int64)
    _step_range(bufs, P, actions, keys, episode, fund_cdf, bg_cdf, base2, rewards, obs, 0, bufs.shape[0], events)


@njit(cache=True)
def _returns_kernel(bufs, P, out):
    for i in range(bufs.shape[0]):
        for p in range(P[R.P_PLAYERS]):
            out[i, p] = R.wealth2(bufs[i], P, p) / 2.0


@njit(cache=True)
def _background_surplus_kernel(bufs, P, out):
    for i in range(bufs.shape[0]):
        out[i] = R.background_surplus2(bufs[i], P) / 2.0


def market_keys(seed: SeedLike, batch_size: int, *,
                first_market: int = 0) -> np.ndarray:
    """``(batch_size, 2)`` uint64 keys: market ``first_market + i`` gets child ``i`` of ``SeedSequence(seed)``.

    The child is built from the parent's entropy and ``spawn_key + (first_market + i,)`` -- what
    ``SeedSequence.spawn`` yields on a fresh parent -- so a market's key depends on its index only, never on the
    batch size, and the caller's ``SeedSequence`` is not advanced.
    """
    root = seed_sequence(seed)
    if isinstance(first_market, bool) or not isinstance(first_market, (int, np.integer)) or first_market < 0:
        raise ValueError(f"first_market={first_market!r} is not allowed: expected an integer >= 0")
    keys = np.empty((batch_size, 2), dtype=np.uint64)
    for i in range(batch_size):
        child = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (int(first_market) + i,),
                                       pool_size=root.pool_size)
        keys[i] = child.generate_state(2, dtype=np.uint64)
    return keys


class BatchedMarket:
    """``batch_size`` independent markets of one :class:`MarketConfig`, stepped together (see the module doc).

    ``reset() -> obs``; ``step(actions) -> (obs, rewards, done)`` with ``obs`` ``(B, players, obs_size)`` int64
    (:func:`marketgames.market.rules.observe`, equal to ``state.observation_ints(p)``), ``rewards`` ``(B, players)``
    float64 (OpenSpiel's ``state.rewards()`` at the node reached) and ``done`` ``(B,)`` bool. The arrays returned
    are new on every call and belong to the caller. ``first_market`` offsets the market indices that pick the seed
    children (to split one experiment over several batches or processes).
    """

    def __init__(self, config: MarketConfig, batch_size: int,
                 seed: SeedLike, *, first_market: int = 0) -> None:
        if not isinstance(config, MarketConfig):
            raise TypeError(f"config={config!r} is not allowed: expected a MarketConfig")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} is not allowed: expected an integer >= 1")
        self.config = config
        self.batch_size = int(batch_size)
        self.num_players = config.players
        self.num_actions = config.num_actions
        self._P = config.params()
        self.obs_size = int(self._P[R.P_OBS_SIZE])
        self._keys = market_keys(seed, self.batch_size, first_market=first_market)
        self._fund_cdf = np.cumsum(config.fundamental_outcome_probs())
        self._bg_cdf = np.cumsum(config.background_outcome_probs())
        B, n = self.batch_size, self.num_players
        self._bufs = np.zeros((B, int(self._P[R.P_BUF_SIZE])), dtype=np.int64)
        self._base2 = np.zeros((B, n), dtype=np.int64)
        self._obs = np.zeros((B, n, self.obs_size), dtype=np.int64)
        self._rewards = np.zeros((B, n), dtype=np.float64)
        # Small batches run on the calling thread: waking the thread pool costs more than it saves, and a busy
        # machine would make every step wait for a descheduled worker. Results are the same either way.
        self._serial = self.batch_size * self.num_players < SERIAL_BELOW_AGENTS
        self._episode = -1
        self._round = 0
        self._done = True

    # ------------------------------------------------------------------ stepping
    def _chunk(self) -> int:
        """Markets per parallel task (affects speed only, never results)."""
        return max(1, -(-self.batch_size // (8 * get_num_threads())))

    def _step_into(self, actions: np.ndarray, rewards: np.ndarray, obs: np.ndarray) -> None:
        """The compiled step on checked ``(B, players)`` int64 actions, writing into ``rewards`` and ``obs``."""
        args = (self._bufs, self._P, actions, self._keys, self._episode, self._fund_cdf, self._bg_cdf, self._base2,
                rewards, obs)
        if self._serial:
            _step_serial(*args)
        else:
            _step_parallel(*args, self._chunk())

    def reset(self) -> np.ndarray:
        """Start a new episode in every market (fresh random numbers); observations at the first player node."""
        self._episode += 1
        B, n = self.batch_size, self.num_players
        obs = np.empty((B, n, self.obs_size), dtype=np.int64)
        rewards = np.empty((B, n), dtype=np.float64)
        args = (self._bufs, self._P, self._keys, self._episode, self._fund_cdf, self._bg_cdf, self._base2, rewards,
                obs)
        if self._serial:
            _reset_serial(*args)
        else:
            _reset_parallel(*args, self._chunk())
        self._obs, self._rewards = obs, rewards
        self._round = 0
        self._done = False
        return obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Play one round's joint actions (``(B, players)`` ints in ``[0, num_actions)``) and the next chance nodes."""
        if self._done:
            raise RuntimeError("the episode is over (or was never started): call reset() first")
        actions = np.ascontiguousarray(actions, dtype=np.int64)
        if actions.shape != (self.batch_size, self.num_players):
            raise ValueError(f"actions of shape {actions.shape} are not allowed: expected "
                             f"(batch_size, players) = {(self.batch_size, self.num_players)}")
        if actions.min() < 0 or actions.max() >= self.num_actions:
            raise ValueError(f"actions in [{actions.min()}, {actions.max()}] are not allowed: expected integers "
                             f"in [0, {self.num_actions - 1}]")
        B, n = self.batch_size, self.num_players
        obs = np.empty((B, n, self.obs_size), dtype=np.int64)
        rewards = np.empty((B, n), dtype=np.float64)
        self._step_into(actions, rewards, obs)
        self._obs, self._rewards = obs, rewards
        self._round += 1
        self._done = self._round >= self.config.steps
        return obs, rewards, np.full(B, self._done)

    # ------------------------------------------------------------------ views (copies)
    def observations(self) -> np.ndarray:
        """``(B, players, obs_size)`` observations at the current node."""
        return self._obs.copy()

    def rewards(self) -> np.ndarray:
        """``(B, players)`` rewards returned by the last ``reset``/``step``."""
        return self._rewards.copy()

    def returns(self) -> np.ndarray:
        """``(B, players)`` wealth so far (positions at the mark; at the end at the fundamental): the sum of rewards."""
        out = np.empty((self.batch_size, self.num_players), dtype=np.float64)
        _returns_kernel(self._bufs, self._P, out)
        return out

    def background_surplus(self) -> np.ndarray:
        """``(B,)`` background traders' total surplus so far (``state.background_surplus`` of the OpenSpiel game)."""
        out = np.empty(self.batch_size, dtype=np.float64)
        _background_surplus_kernel(self._bufs, self._P, out)
        return out

    def uniforms(self, stream: int) -> np.ndarray:
        """``(B,)`` uniform numbers of ``stream`` for the current episode and round, one per market."""
        if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or stream < 0:
            raise ValueError(f"stream={stream!r} is not allowed: expected an integer >= 0")
        out = np.empty(self.batch_size, dtype=np.float64)
        _uniforms(self._keys, max(self._episode, 0), self._round, int(stream), out)
        return out

    @property
    def chance_log(self) -> np.ndarray:
        """``(B, rounds, 2)`` chance outcomes of this episode so far: (fundamental, background) per round.

        Recomputed from the counter-based streams with the same function the drivers use (it costs no memory while
        stepping); rounds whose chance nodes have been played, i.e. ``round + 1`` before the end, ``steps`` after.
        """
        rounds = 0 if self._episode < 0 else min(self._round + 1, self.config.steps)
        out = np.zeros((self.batch_size, rounds, 2), dtype=np.int64)
        if rounds:
            _chance_log(self._keys, self._episode, rounds, self._fund_cdf, self._bg_cdf, out)
        return out

    @property
    def episode(self) -> int:
        """Episodes started so far minus one (``-1`` before the first ``reset``)."""
        return self._episode

    @property
    def round(self) -> int:
        """The round the markets are in (``steps`` at the end)."""
        return self._round

    @property
    def done(self) -> bool:
        return self._done

    @property
    def keys(self) -> np.ndarray:
        """The ``(B, 2)`` uint64 random keys of the markets."""
        return self._keys.copy()

    @property
    def fundamental(self) -> np.ndarray:
        """``(B,)`` fundamental values."""
        return self._bufs[:, R.M_FUND].copy()

    @property
    def volume(self) -> np.ndarray:
        """``(B,)`` lots traded so far this episode, by all traders."""
        return self._bufs[:, R.M_VOLUME].copy()

    def market_buffer(self, market: int) -> np.ndarray:
        """A copy of market ``market``'s buffer (layout in :mod:`marketgames.market.rules`)."""
        return self._bufs[self._index(market)].copy()

    def account(self, market: int, player: int) -> tuple[int, int]:
        """``(cash, inventory)`` of ``player`` in market ``market``."""
        if not 0 <= player < self.num_players:
            raise ValueError(f"player={player!r} is not allowed: expected 0..{self.num_players - 1}")
        a = int(self._P[R.P_OFF_PLAYERS]) + R.A_WIDTH * player
        buf = self._bufs[self._index(market)]
        return int(buf[a + R.A_CASH]), int(buf[a + R.A_INVENTORY])

    def _index(self, market: int) -> int:
        if isinstance(market, bool) or not isinstance(market, (int, np.integer)) or not 0 <= market < self.batch_size:
            raise ValueError(f"market={market!r} is not allowed: expected an integer in [0, {self.batch_size - 1}]")
        return int(market)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the batch's arrays (buffers, keys, baselines, last observations and rewards)."""
        return sum(a.nbytes for a in (self._bufs, self._keys, self._base2, self._obs, self._rewards))
