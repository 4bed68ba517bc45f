"""python_lob_market's observer: pieces chosen by the observation type, no private leaks, and information states kept
incrementally (equal to the stacked observations of each decision, with O(1) kernel calls per request)."""
from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest

import marketgames  # noqa: F401  (registers python_lob_market)
from marketgames.games.lob_market import (
    LobMarketGame,
    LobMarketObserver,
    LobMarketState,
)
from marketgames.market import rules as R

NONE, SINGLE, ALL = (pyspiel.PrivateInfoType.NONE, pyspiel.PrivateInfoType.SINGLE_PLAYER,
                     pyspiel.PrivateInfoType.ALL_PLAYERS)
GAME = ("python_lob_market(players=3,steps=6,price_levels=11,initial_depth=2,limit_levels=1,quote_levels=1,"
        "book_levels=2,history=2,position_limit=4,max_orders=3)")
PUBLIC_PIECES = ["bid_prices", "bid_sizes", "ask_prices", "ask_sizes", "market"]


def observer(game, private, public=True, perfect_recall=False):
    return game.make_py_observer(pyspiel.IIGObservationType(public_info=public, perfect_recall=perfect_recall,
                                                            private_info=private))


def played(game, seed, rounds, *, stop_at_player_node=True):
    """A state after ``rounds`` rounds of seeded random play (at the next player node if asked), and every
    player-node state on the way (clones)."""
    rng = np.random.default_rng(seed)
    state, decisions = game.new_initial_state(), []
    while not state.is_terminal():
        if state.is_chance_node():
            actions, probs = zip(*state.chance_outcomes())
            state.apply_action(int(actions[rng.choice(len(actions), p=probs)]))
            continue
        if state.round == rounds and stop_at_player_node:
            break
        decisions.append(state.clone())
        state.apply_actions([int(rng.integers(game.num_distinct_actions())) for _ in range(game.num_players())])
    return state, decisions


def replay(game, history):
    """A fresh state reached by applying ``history`` (chance outcomes one by one, joint actions together)."""
    state, i, n = game.new_initial_state(), 0, game.num_players()
    while i < len(history):
        if state.is_chance_node():
            state.apply_action(history[i])
            i += 1
        else:
            state.apply_actions(history[i:i + n])
            i += n
    return state


def traded_state(game):
    """A player node at which every player holds a different non-zero account (found by seeded play)."""
    for seed in range(200):
        state, _ = played(game, seed, 4)
        accounts = [state.account(p) for p in range(game.num_players())]
        if all(a != (0, 0) for a in accounts) and len(set(accounts)) == len(accounts):
            return state
    raise AssertionError("no seed gives distinct non-zero accounts")


def with_account_changed(state, player, cash=7, inventory=1):
    """A clone of ``state`` in which only ``player``'s cash and inventory differ."""
    twin = state.clone()
    a = int(state.get_game().params_vector[R.P_OFF_PLAYERS]) + R.A_WIDTH * player
    twin._buf[a + R.A_CASH] += cash
    twin._buf[a + R.A_INVENTORY] += inventory
    assert twin.account(player) != state.account(player)
    return twin


def view(obs, state, player):
    obs.set_from(state, player)
    return obs.tensor.copy(), obs.string_from(state, player)


# --------------------------------------------------------------------------- pieces by observation type


@pytest.mark.parametrize("private,public,perfect_recall",
                         list(itertools.product([NONE, SINGLE, ALL], [False, True], [False, True])),
                         ids=lambda v: v.name if isinstance(v, pyspiel.PrivateInfoType) else str(v))
def test_pieces_follow_the_observation_type(private, public, perfect_recall):
    game = pyspiel.load_game(GAME)
    config, n, A = game.config, game.num_players(), game.num_distinct_actions()
    obs = observer(game, private, public, perfect_recall)
    accounts = {NONE: 0, SINGLE: 1, ALL: n}[private]
    public_width = R.obs_size(config.book_levels, config.history) - R.OBS_PRIVATE
    if perfect_recall:
        expected = [("observations", (config.steps, R.OBS_PRIVATE * accounts + public_width * public))]
        if private == SINGLE:
            expected.append(("actions", (config.steps, A)))
        elif private == ALL:
            expected.append(("actions", (config.steps, n, A)))
    else:
        expected = []
        if private == SINGLE:
            expected.append(("private", (R.OBS_PRIVATE,)))
        elif private == ALL:
            expected.append(("private", (n, R.OBS_PRIVATE)))
        if public:
            L = config.book_levels
            expected += [(name, (L,)) for name in PUBLIC_PIECES[:4]] + [("market", (3 + config.history,))]
    assert [(name, v.shape) for name, v in obs.dict.items()] == expected
    assert obs.tensor.size == sum(int(np.prod(shape)) for _, shape in expected)
    state = traded_state(game)
    for p in range(n):  # the views tile the tensor the observer fills
        obs.set_from(state, p)
        assert np.array_equal(np.concatenate([v.ravel() for v in obs.dict.values()] or [np.zeros(0)]), obs.tensor)


def test_default_observation_and_information_state_are_the_single_player_public_types():
    game = pyspiel.load_game(GAME)
    state = traded_state(game)
    default, info = game.make_py_observer(None), observer(game, SINGLE, True, True)
    for p in range(game.num_players()):
        assert view(default, state, p)[0].tolist() == pytest.approx(state.observation_tensor(p))
        assert view(default, state, p)[1] == state.observation_string(p)
        assert view(info, state, p)[0].tolist() == pytest.approx(state.information_state_tensor(p))
        assert view(info, state, p)[1] == state.information_state_string(p)


# --------------------------------------------------------------------------- private values never leak


@pytest.mark.parametrize("perfect_recall", [False, True])
def test_public_observation_is_the_same_for_every_player_and_holds_no_account(perfect_recall):
    game = pyspiel.load_game(GAME)
    state = traded_state(game)
    obs = observer(game, NONE, True, perfect_recall)
    views = [view(obs, state, p) for p in range(game.num_players())]
    assert all(np.array_equal(views[0][0], t) and views[0][1] == s for t, s in views)
    assert "private" not in obs.dict and "actions" not in obs.dict
    assert "inv=" not in views[0][1] and "cash=" not in views[0][1]


@pytest.mark.parametrize("perfect_recall", [False, True])
@pytest.mark.parametrize("public", [False, True])
def test_changing_one_account_changes_exactly_the_observations_that_hold_it(public, perfect_recall):
    game = pyspiel.load_game(GAME)
    state = traded_state(game)
    n = game.num_players()
    for changed in range(n):
        twin = with_account_changed(state, changed)
        for private in (NONE, SINGLE, ALL):
            obs = observer(game, private, public, perfect_recall)
            for p in range(n):
                same_tensor, same_string = (a == b if isinstance(a, str) else np.array_equal(a, b)
                                            for a, b in zip(view(obs, state, p), view(obs, twin, p)))
                sees_it = private == ALL or (private == SINGLE and p == changed)
                assert same_tensor is not sees_it and same_string is not sees_it, (private, p, changed)


def test_private_pieces_hold_exactly_the_accounts_they_name():
    game = pyspiel.load_game(GAME)
    state = traded_state(game)
    n, config = game.num_players(), game.config
    scale = np.array([1 / config.position_limit, 1 / (config.position_limit * config.price_levels),
                      1 / config.position_limit, 1 / config.position_limit])
    rows = [state.observation_ints(p)[:R.OBS_PRIVATE] * scale for p in range(n)]
    single, everyone = observer(game, SINGLE), observer(game, ALL)
    for p in range(n):
        cash, inventory = state.account(p)
        assert state.observation_ints(p)[:2].tolist() == [inventory, cash]
        single.set_from(state, p)
        assert single.dict["private"] == pytest.approx(rows[p])
        everyone.set_from(state, p)
        assert np.asarray(everyone.dict["private"]) == pytest.approx(np.array(rows))
        text = everyone.string_from(state, p)
        assert all(f"p{q} inv={state.account(q)[1]} cash={state.account(q)[0]}" in text for q in range(n))
        text = single.string_from(state, p)
        assert f"inv={inventory} cash={cash}" in text
        assert all(f"cash={state.account(q)[0]} " not in text for q in range(n) if q != p)


# --------------------------------------------------------------------------- information states


def _expected_information_state(decisions, state, player, names):
    """The information state as the pre-incremental implementation defined it: the default observation at each of
    the player's decisions so far (and now, at a player node), and its own one-hot actions."""
    game = state.get_game()
    at = list(decisions) + ([state] if state.is_simultaneous_node() else [])
    rows = [np.asarray(s.observation_tensor(player)) for s in at]
    own = [state.history()[len(s.history()) + player] for s in decisions]
    config = game.config
    tensor = np.zeros((config.steps, game.observation_tensor_size()))
    for r, row in enumerate(rows):
        tensor[r] = row
    actions = np.zeros((config.steps, game.num_distinct_actions()))
    actions[np.arange(len(own)), own] = 1
    parts = [f"p{player}"]
    for r, s in enumerate(at):
        parts.append(f"r{r}: " + s.observation_string(player)[len(f"p{player} "):])
        if r < len(own):
            parts.append(f"a{r}: {names[own[r]]}")
    return np.concatenate([tensor.ravel(), actions.ravel()]), " | ".join(parts)


@pytest.mark.parametrize("game_string,seed", [
    (GAME, 0), (GAME, 1),
    ("python_lob_market(players=2,steps=9,history=3)", 2),
    ("python_lob_market(players=4,steps=5,limit_levels=0,quote_levels=2,max_orders=2,book_levels=1,history=0)", 3),
])
def test_information_state_is_the_stack_of_observations_at_each_decision(game_string, seed):
    game = pyspiel.load_game(game_string)
    rng = np.random.default_rng(seed)
    state, decisions = game.new_initial_state(), []
    while True:  # check at every state, asking (and so filling the memo) at some of them only
        if rng.random() < 0.5 or state.is_terminal():
            for p in range(game.num_players()):
                tensor, text = _expected_information_state(decisions, state, p, game.action_names)
                assert np.asarray(state.information_state_tensor(p)) == pytest.approx(tensor, abs=1e-6)
                assert state.information_state_string(p) == text
        if state.is_terminal():
            break
        if state.is_chance_node():
            actions, probs = zip(*state.chance_outcomes())
            state.apply_action(int(actions[rng.choice(len(actions), p=probs)]))
        else:
            decisions.append(state.clone())
            state.apply_actions([int(rng.integers(game.num_distinct_actions())) for _ in range(game.num_players())])


def test_clones_that_diverge_keep_their_own_information_states():
    game = pyspiel.load_game(GAME)
    state, _ = played(game, 4, 3)
    strings = [state.information_state_string(p) for p in range(3)]  # fills the memo, then the clones share it
    a, b = state.clone(), state.clone()
    for s, joint in ((a, [2, 2, 2]), (b, [3, 0, 1])):
        s.apply_actions(joint)
        s.apply_action(s.chance_outcomes()[0][0])
        s.apply_action(s.chance_outcomes()[-1][0])
    for s in (a, b):
        fresh = replay(game, s.history())  # asked nothing on the way: no memo
        assert fresh.history() == s.history()
        for p in range(3):
            assert s.information_state_string(p) == fresh.information_state_string(p)
            assert s.information_state_tensor(p) == fresh.information_state_tensor(p)
    assert [state.information_state_string(p) for p in range(3)] == strings
    assert a.information_state_string(0) != b.information_state_string(0)


@pytest.mark.parametrize("private", [SINGLE, ALL, NONE])
def test_perfect_recall_rows_are_the_observations_at_each_decision(private):
    game = pyspiel.load_game(GAME)
    state, decisions = played(game, 5, 5)
    recall, plain = observer(game, private, True, True), observer(game, private, True, False)
    for p in range(game.num_players()):
        recall.set_from(state, p)
        at = decisions + [state]
        rows = np.array([view(plain, s, p)[0] for s in at])
        assert np.asarray(recall.dict["observations"][:len(at)]) == pytest.approx(rows)
        assert not recall.dict["observations"][len(at):].any()
        text = recall.string_from(state, p)
        for r, s in enumerate(at):
            row_text = plain.string_from(s, p)
            assert f"r{r}: " + (row_text[len(f"p{p} "):] if private != NONE else row_text) in text
        joint = [state.history()[len(s.history()):len(s.history()) + game.num_players()] for s in decisions]
        if private == SINGLE:
            assert np.argwhere(recall.dict["actions"]).tolist() == [[r, j[p]] for r, j in enumerate(joint)]
        elif private == ALL:
            assert np.argwhere(recall.dict["actions"]).tolist() == [[r, q, a] for r, j in enumerate(joint)
                                                                    for q, a in enumerate(j)]


KERNELS = ["market_init", "apply_fundamental", "apply_background", "apply_actions", "observe"]


def test_information_state_requests_cost_a_constant_number_of_kernel_calls(monkeypatch):
    # The information state used to be rebuilt by replaying the whole history: O(rounds) kernel calls per request,
    # O(rounds^2) per episode. Now it is read from the state's log: the same few calls whatever the round.
    game = pyspiel.load_game("python_lob_market(players=2,steps=12)")
    calls = {name: 0 for name in KERNELS}
    for name in KERNELS:
        original = getattr(R, name)

        def counting(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)
        monkeypatch.setattr(R, name, counting)
    per_round = []
    for rounds in (1, 4, 8, 11):
        state, _ = played(game, 0, rounds)
        for name in calls:
            calls[name] = 0
        for p in range(2):
            state.information_state_tensor(p)
            state.information_state_string(p)
        per_round.append(sum(calls.values()))
    assert per_round[0] <= 8 and per_round == [per_round[0]] * 4, per_round


def test_a_clone_copies_a_log_of_at_most_twice_the_rounds_played():
    game = pyspiel.load_game("python_lob_market(players=2,steps=200)")
    state, _ = played(game, 0, 50)
    assert 50 <= len(state.clone()._log) <= 100
    assert len(game.new_initial_state()._log) == 0


# --------------------------------------------------------------------------- docstrings of the OpenSpiel API


@pytest.mark.parametrize("cls,methods", [
    (LobMarketGame, ["__init__", "new_initial_state", "make_py_observer"]),
    (LobMarketState, ["__init__", "current_player", "_legal_actions", "chance_outcomes", "_apply_action",
                      "_apply_actions", "_action_to_string", "is_terminal", "rewards", "returns", "__str__"]),
    (LobMarketObserver, ["__init__", "set_from", "string_from"]),
])
def test_every_openspiel_api_method_has_a_docstring(cls, methods):
    assert [m for m in methods if not (cls.__dict__[m].__doc__ or "").strip()] == []
