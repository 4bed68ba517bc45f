"""Conformance checks of a game configuration: OpenSpiel's random simulation test, state round-trips, the
observer, and the market's invariants (see :mod:`marketgames.conformance`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyspiel

from ..book import kernels as BK
from ..market import rules as R
from ..market.config import MarketConfig
from ..seeding import SeedLike, as_generator

__all__ = ["ConformanceError", "ConformanceReport", "check_game", "check_state", "check_market_invariants",
           "check_fundamental_hidden", "check_observer", "load"]


class ConformanceError(AssertionError):
    """A game or a trader breaks a conformance property."""


@dataclass
class ConformanceReport:
    """What a check visited: states checked, player (decision) nodes, terminals, and non-trivial hidden-fundamental
    pairs (two histories with different fundamentals and identical everything else)."""

    states: int = 0
    player_nodes: int = 0
    terminals: int = 0
    hidden_fundamental_pairs: int = 0


def load(game: str | pyspiel.Game) -> pyspiel.Game:
    """A game from a ``load_game`` string, or the game itself."""
    if isinstance(game, str):
        return pyspiel.load_game(game)
    if isinstance(game, pyspiel.Game):
        return game
    raise TypeError(f"game={game!r} is not allowed: expected a pyspiel.Game or a load_game string")


def _fail(state: pyspiel.State, what: str) -> ConformanceError:
    return ConformanceError(f"{what} (history {state.history()})")


def _is_market(game: pyspiel.Game) -> bool:
    return isinstance(getattr(game, "config", None), MarketConfig)


# ---------------------------------------------------------------------- views of a state
def _views(game: pyspiel.Game, state: pyspiel.State) -> dict[str, Any]:
    """Everything a round-trip must preserve: ``str``, history, and each player's observation/information state."""
    gt = game.get_type()
    out: dict[str, Any] = {"str": str(state), "history": list(state.history()),
                           "current_player": state.current_player()}
    for p in range(game.num_players()):
        if gt.provides_observation_string:
            out[f"obs_str{p}"] = state.observation_string(p)
        if gt.provides_observation_tensor:
            out[f"obs{p}"] = np.asarray(state.observation_tensor(p), dtype=np.float64)
        if gt.provides_information_state_string:
            out[f"info_str{p}"] = state.information_state_string(p)
        if gt.provides_information_state_tensor:
            out[f"info{p}"] = np.asarray(state.information_state_tensor(p), dtype=np.float64)
    return out


def _compare(state: pyspiel.State, a: dict[str, Any], b: dict[str, Any], what: str) -> None:
    for key, value in a.items():
        other = b[key]
        same = np.array_equal(value, other) if isinstance(value, np.ndarray) else value == other
        if not same:
            raise _fail(state, f"{what}: '{key}' differs: {value!r} != {other!r}")


# ---------------------------------------------------------------------- per-state checks
def check_state(game: pyspiel.Game, state: pyspiel.State, *, tol: float = 1e-9) -> dict[str, Any]:
    """Round-trips, sizes, chance outcomes and legal actions of one state; returns its views (see ``_views``)."""
    views = _views(game, state)
    _compare(state, views, _views(game, state.clone()), "clone()")
    _compare(state, views, _views(game, game.deserialize_state(state.serialize())), "deserialize(serialize())")
    gt = game.get_type()
    for p in range(game.num_players()):
        if gt.provides_observation_tensor and len(views[f"obs{p}"]) != game.observation_tensor_size():
            raise _fail(state, f"observation_tensor({p}) has length {len(views[f'obs{p}'])} != "
                               f"observation_tensor_size()={game.observation_tensor_size()}")
        if gt.provides_information_state_tensor and (len(views[f"info{p}"])
                                                     != game.information_state_tensor_size()):
            raise _fail(state, f"information_state_tensor({p}) has length {len(views[f'info{p}'])} != "
                               f"information_state_tensor_size()={game.information_state_tensor_size()}")
    if state.is_chance_node():
        outcomes = state.chance_outcomes()
        actions = [a for a, _ in outcomes]
        probs = np.array([p for _, p in outcomes], dtype=np.float64)
        if not outcomes or len(set(actions)) != len(actions):
            raise _fail(state, f"chance outcomes {outcomes} are empty or repeat an action")
        if np.any(probs <= 0) or np.any(probs > 1) or abs(probs.sum() - 1.0) > tol:
            raise _fail(state, f"chance probabilities {probs.tolist()} must be in (0, 1] and sum to 1 "
                               f"(sum {probs.sum()!r}, tol {tol})")
        if not all(0 <= a < game.max_chance_outcomes() for a in actions):
            raise _fail(state, f"chance actions {actions} outside [0, {game.max_chance_outcomes()})")
        if sorted(actions) != state.legal_actions():
            raise _fail(state, f"chance legal_actions {state.legal_actions()} != outcomes {sorted(actions)}")
    elif not state.is_terminal():
        players = range(game.num_players()) if state.is_simultaneous_node() else [state.current_player()]
        for p in players:
            legal = state.legal_actions(p)
            if not legal or legal != sorted(set(legal)) or not all(0 <= a < game.num_distinct_actions()
                                                                   for a in legal):
                raise _fail(state, f"legal_actions({p})={legal} must be non-empty, sorted, in "
                                   f"[0, {game.num_distinct_actions()})")
    return views


def _book(game: pyspiel.Game, buf: np.ndarray) -> np.ndarray:
    return buf[int(game.params_vector[R.P_OFF_BOOK]):]


def check_market_invariants(game: pyspiel.Game, state: pyspiel.State) -> None:
    """The book is not crossed and agrees with its levels; quantity is conserved; positions are within limits."""
    config: MarketConfig = game.config
    P = game.params_vector
    buf = state.market_buffer
    book = _book(game, buf)
    n = int(book[BK.H_N_TICKS])
    level_qty = book[book[BK.H_OFF_LEVEL_QTY]:book[BK.H_OFF_LEVEL_QTY] + 2 * n]
    cap = int(book[BK.H_CAPACITY])
    slot_qty = book[book[BK.H_OFF_QTY]:book[BK.H_OFF_QTY] + cap]
    bid, ask = int(book[BK.H_BEST_BID]), int(book[BK.H_BEST_ASK])
    bids = np.flatnonzero(level_qty[:n] > 0)
    asks = np.flatnonzero(level_qty[n:] > 0)
    true_bid = int(bids[-1]) if len(bids) else -1
    true_ask = int(asks[0]) if len(asks) else n
    if (bid, ask) != (true_bid, true_ask):
        raise _fail(state, f"book header best bid/ask ({bid}, {ask}) != levels ({true_bid}, {true_ask})")
    if bid >= 0 and ask < n and bid >= ask:
        raise _fail(state, f"crossed book: best bid {bid} >= best ask {ask}")
    if np.any(level_qty < 0) or np.any(slot_qty < 0) or level_qty.sum() != slot_qty.sum():
        raise _fail(state, f"resting quantity by level ({level_qty.sum()}) != by order ({slot_qty.sum()}) "
                           "or negative")
    resting = int(slot_qty.sum())
    submitted, filled, cancelled = (int(book[BK.H_SUBMITTED]), int(book[BK.H_FILLED]),
                                    int(book[BK.H_CANCELLED]))
    if submitted != resting + filled + cancelled:
        raise _fail(state, f"quantity not conserved: submitted {submitted} != resting {resting} + filled "
                           f"{filled} + cancelled {cancelled}")
    if filled != 2 * int(buf[R.M_VOLUME]):
        raise _fail(state, f"book filled {filled} != 2 x market volume {int(buf[R.M_VOLUME])}")
    owners = book[book[BK.H_OFF_OWNER]:book[BK.H_OFF_OWNER] + cap]
    sides = book[book[BK.H_OFF_SIDE]:book[BK.H_OFF_SIDE] + cap]
    off = int(P[R.P_OFF_PLAYERS])
    for p in range(config.players):
        inventory = int(buf[off + R.A_WIDTH * p + R.A_INVENTORY])
        mine = (slot_qty > 0) & (owners == p)
        rest_buy = int(slot_qty[mine & (sides == BK.BUY)].sum())
        rest_sell = int(slot_qty[mine & (sides == BK.SELL)].sum())
        limit = config.position_limit
        if abs(inventory) > limit:
            raise _fail(state, f"player {p} inventory {inventory} beyond position_limit={limit}")
        if inventory + rest_buy > limit or inventory - rest_sell < -limit:
            raise _fail(state, f"player {p} worst-case position beyond position_limit={limit}: inventory "
                               f"{inventory}, resting buys {rest_buy}, resting sells {rest_sell}")
        if int(mine.sum()) > config.max_orders:
            raise _fail(state, f"player {p} has {int(mine.sum())} resting orders > max_orders={config.max_orders}")
        if (inventory, int(buf[off + R.A_WIDTH * p + R.A_CASH])) != (state.account(p)[1], state.account(p)[0]):
            raise _fail(state, f"player {p} account() disagrees with the market buffer")


def _masked(buf: np.ndarray) -> np.ndarray:
    out = buf.copy()
    out[R.M_FUND] = 0
    return out


def check_fundamental_hidden(game: pyspiel.Game, state: pyspiel.State) -> bool:
    """Look for a twin of ``state``: a history whose fundamental path differs while every other part of the market
    is identical, and check that each player's observation and information state (strings and tensors) are the same
    in both.

    The twin replays ``state``'s player actions; at each fundamental node it may take another outcome if some
    background outcome then leaves the whole market buffer, except the fundamental field, equal to the original's
    (a background order at the same price). The twin's market is thus determined by (position in the history, twin
    fundamental), so a depth-first search with a memo of dead ends is polynomial. Player actions must give equal
    markets apart from the fundamental (the matching never reads it). Returns True when a twin with a different
    fundamental path exists (a non-trivial pair was checked), False otherwise.
    """
    history = state.history()
    n = game.num_players()
    origs = [game.new_initial_state()]  # origs[k]: the original after each chance action or joint action
    ends = [0]                          # history position after origs[k]
    while ends[-1] < len(history):
        s = origs[-1].clone()
        i = ends[-1]
        if s.is_chance_node():
            s.apply_action(history[i])
            ends.append(i + 1)
        else:
            s.apply_actions(list(history[i:i + n]))
            ends.append(i + n)
        origs.append(s)
    masked = [_masked(s.market_buffer) for s in origs]
    dead: set[tuple[int, int, bool]] = set()

    def key(k: int, twin: pyspiel.State, differs: bool) -> tuple[int, int, bool]:
        return k, int(twin.market_buffer[R.M_FUND]), differs

    def children(k: int, twin: pyspiel.State, differs: bool):
        """Twin successors ``(k', twin', differs')`` matching ``origs[k']`` apart from the fundamental, preferred
        first (another fundamental outcome before the original one)."""
        orig = origs[k]
        if orig.is_chance_node() and int(orig.market_buffer[R.M_PHASE]) == R.PHASE_FUNDAMENTAL:
            a = history[ends[k]]
            for f in sorted((f for f, _ in twin.chance_outcomes()), key=lambda f: f == a):
                child = twin.child(f)
                moved = differs or int(child.market_buffer[R.M_FUND]) != int(origs[k + 1].market_buffer[R.M_FUND])
                if not np.array_equal(_masked(child.market_buffer), masked[k + 1]):
                    raise _fail(state, "a fundamental move changed more than the fundamental")
                if k + 2 >= len(origs):
                    yield k + 1, child, moved
                    continue
                for g, _ in child.chance_outcomes():
                    grand = child.child(g)
                    if np.array_equal(_masked(grand.market_buffer), masked[k + 2]):
                        yield k + 2, grand, moved
        elif orig.is_chance_node():
            child = twin.child(history[ends[k]])
            if np.array_equal(_masked(child.market_buffer), masked[k + 1]):
                yield k + 1, child, differs
        else:
            child = twin.clone()
            child.apply_actions(list(history[ends[k]:ends[k + 1]]))
            if not np.array_equal(_masked(child.market_buffer), masked[k + 1]):
                raise _fail(state, "the same player actions give different markets under different fundamentals: "
                                   "the matching depends on the fundamental")
            yield k + 1, child, differs

    # Iterative depth-first search (no recursion limit on long games), with a memo of dead ends.
    twin0 = game.new_initial_state()
    stack = [(0, twin0, False, children(0, twin0, False))]
    found = (twin0, False) if len(origs) == 1 else None
    while stack and found is None:
        k, twin, differs, it = stack[-1]
        step = next(it, None)
        if step is None:
            dead.add(key(k, twin, differs))
            stack.pop()
            continue
        k2, child, differs2 = step
        if k2 == len(origs) - 1:
            found = (child, differs2)
        elif key(k2, child, differs2) not in dead:
            stack.append((k2, child, differs2, children(k2, child, differs2)))
    if found is None:
        raise _fail(state, "the history cannot even be replayed with its own fundamental path")
    twin, differs = found
    if not differs:
        return False
    orig = origs[-1]
    gt = game.get_type()
    for p in range(n):
        pairs = [("observation_string", gt.provides_observation_string),
                 ("observation_tensor", gt.provides_observation_tensor),
                 ("information_state_string", gt.provides_information_state_string),
                 ("information_state_tensor", gt.provides_information_state_tensor)]
        for method, provided in pairs:
            if not provided:
                continue
            x, y = getattr(orig, method)(p), getattr(twin, method)(p)
            if (list(x) if not isinstance(x, str) else x) != (list(y) if not isinstance(y, str) else y):
                raise _fail(state, f"{method}({p}) depends on the fundamental: twin history {twin.history()} "
                                   f"(fundamental {twin.fundamental} vs {orig.fundamental}) gives {y!r} != {x!r}")
    return True


def check_observer(game: pyspiel.Game, state: pyspiel.State | None = None) -> None:
    """The observer's named views tile its tensor (in order, no gap, no overlap), for the observation and the
    information state; with ``state``, the observer agrees with the state's tensors and strings, and on a market game
    a public observation (``private_info=NONE``, with and without perfect recall) is the same for every player."""
    from open_spiel.python import observation

    gt = game.get_type()
    kinds = []
    if gt.provides_observation_tensor:
        kinds.append((False, game.observation_tensor_size(), "observation"))
    if gt.provides_information_state_tensor:
        kinds.append((True, game.information_state_tensor_size(), "information_state"))
    for perfect_recall, size, name in kinds:
        obs = observation.make_observation(game, pyspiel.IIGObservationType(perfect_recall=perfect_recall))
        tensor = np.asarray(obs.tensor)
        if tensor.ndim != 1 or tensor.size != size:
            raise ConformanceError(f"{name} observer tensor has shape {tensor.shape}, expected ({size},)")
        start = tensor.__array_interface__["data"][0]
        offset = 0
        for key, view in obs.dict.items():
            view = np.asarray(view)
            address = (view.__array_interface__["data"][0] - start) // tensor.itemsize
            if not np.shares_memory(view, tensor) or address != offset or not view.flags.c_contiguous:
                raise ConformanceError(f"{name} view '{key}' (shape {view.shape}) does not continue the tensor at "
                                       f"element {offset} (starts at {address})")
            offset += view.size
        if offset != size:
            raise ConformanceError(f"{name} views {list(obs.dict)} cover {offset} elements of a tensor of {size}")
        if state is not None:
            for p in range(game.num_players()):
                obs.set_from(state, p)
                expected = getattr(state, f"{name}_tensor")(p)
                if not np.array_equal(np.asarray(obs.tensor, dtype=np.float64), np.asarray(expected, np.float64)):
                    raise _fail(state, f"{name} observer tensor for player {p} != state.{name}_tensor({p})")
                if obs.string_from(state, p) != getattr(state, f"{name}_string")(p):
                    raise _fail(state, f"{name} observer string for player {p} != state.{name}_string({p})")
    if state is None or not _is_market(game):
        return
    for perfect_recall in (False, True):
        public = observation.make_observation(game, pyspiel.IIGObservationType(
            public_info=True, perfect_recall=perfect_recall, private_info=pyspiel.PrivateInfoType.NONE))
        seen = []
        for p in range(game.num_players()):
            public.set_from(state, p)
            seen.append((np.asarray(public.tensor).tobytes(), public.string_from(state, p)))
            if seen[p] != seen[0]:
                raise _fail(state, f"public observation (perfect_recall={perfect_recall}) of player {p} differs from "
                                   f"player 0's: {seen[p][1]!r} != {seen[0][1]!r}")


# ---------------------------------------------------------------------- simulations
def _walk(game: pyspiel.Game, rng: np.random.Generator, choose=None):
    """Yield every state of one random episode (the initial one first); ``choose(state, player)`` picks an action
    (default: uniform over the legal actions)."""
    state = game.new_initial_state()
    yield state
    while not state.is_terminal():
        if state.is_chance_node():
            actions, probs = zip(*state.chance_outcomes())
            state.apply_action(int(actions[rng.choice(len(actions), p=np.asarray(probs) / sum(probs))]))
        elif state.is_simultaneous_node():
            joint = [choose(state, p) if choose else int(rng.choice(state.legal_actions(p)))
                     for p in range(game.num_players())]
            state.apply_actions(joint)
        else:
            p = state.current_player()
            state.apply_action(choose(state, p) if choose else int(rng.choice(state.legal_actions(p))))
        yield state


def check_game(game: str | pyspiel.Game, *, num_sims: int = 5, seed: SeedLike = 0, tol: float = 1e-9,
               random_sim_test: bool = True, hidden_fundamental: bool = True) -> ConformanceReport:
    """Check a game (any configuration of ``python_lob_market``; the generic checks on any OpenSpiel game).

    Args:
        game: a game or a ``pyspiel.load_game`` string.
        num_sims: random episodes of our own checks (and of ``pyspiel.random_sim_test``).
        seed: seeds the random actions and chance outcomes of our episodes.
        tol: tolerance on probability sums and on summed rewards versus returns.
        random_sim_test: also run OpenSpiel's ``random_sim_test(serialize=True)``.
        hidden_fundamental: run :func:`check_fundamental_hidden` at each episode's last player node and terminal.

    Raises:
        ConformanceError: naming the state's history and the property broken.
    """
    if not isinstance(num_sims, int) or num_sims < 1:
        raise ValueError(f"num_sims={num_sims!r} is not allowed: expected an integer >= 1")
    game = load(game)
    if random_sim_test:
        pyspiel.random_sim_test(game, num_sims=num_sims, serialize=True, verbose=False)
    rng = as_generator(seed)
    market = _is_market(game)
    report = ConformanceReport()
    check_observer(game, game.new_initial_state())
    lo, hi = game.min_utility(), game.max_utility()
    for _ in range(num_sims):
        summed = np.zeros(game.num_players())
        last_player_node = None
        for state in _walk(game, rng):
            check_state(game, state, tol=tol)
            report.states += 1
            if market:
                check_market_invariants(game, state)
            if not state.is_chance_node():  # OpenSpiel: rewards are read at player nodes and at the terminal
                summed += np.asarray(state.rewards())
            if not state.is_chance_node() and not state.is_terminal():
                report.player_nodes += 1
                last_player_node = state.clone()
        report.terminals += 1
        returns = np.asarray(state.returns())
        if np.any(returns < lo - tol) or np.any(returns > hi + tol):
            raise _fail(state, f"returns {returns.tolist()} outside [{lo}, {hi}]")
        if not np.allclose(summed, returns, rtol=0, atol=tol * max(1.0, float(np.abs(returns).max()))):
            raise _fail(state, f"summed rewards {summed.tolist()} != returns {returns.tolist()}")
        check_observer(game, state)
        if market and hidden_fundamental:
            for s in (last_player_node, state):
                if s is not None:
                    report.hidden_fundamental_pairs += int(check_fundamental_hidden(game, s))
    return report
