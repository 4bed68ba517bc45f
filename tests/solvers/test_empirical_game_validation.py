"""EmpiricalGame as a hostile or careless user would call it: every bad argument gets an error naming it, at the
boundary, and leaves the game unchanged; damaged or foreign save files are refused with the path named (issue 9,
items 10 and 11)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from solvers.empirical import EmpiricalGame, PreferredActionStrategy, UniformStrategy

KUHN = "kuhn_poker"


def _two():
    return [UniformStrategy(), PreferredActionStrategy([1], name="always_bet")]


@pytest.fixture
def sampled():
    eg = EmpiricalGame(KUHN, [_two(), _two()], seed=1)
    eg.sample(min_samples=4, batch_size=4)
    return eg


def _state(eg):
    return (eg.num_strategies, eg.names, eg.roles, {k: (c.count, c.mean.tolist()) for k, c in eg._cells.items()})


# ------------------------------------------------------------------------------------------- constructor
def test_flat_list_without_symmetric_names_strategies_and_the_remedy():
    with pytest.raises(TypeError, match=r"strategies\[0\]=.*is a strategy, not a list.*symmetric=True"):
        EmpiricalGame(KUHN, _two())


@pytest.mark.parametrize("strategies, error, pattern", [
    (UniformStrategy(), TypeError, r"strategies=.*not allowed: expected one list of strategies per player"),
    (None, TypeError, r"strategies=None is not allowed"),
    ("uniform", TypeError, r"strategies='uniform' is not allowed"),
    ([], ValueError, r"strategies has 0 lists; kuhn_poker\(\) has 2 players"),
    ([[UniformStrategy()]], ValueError, r"strategies has 1 lists"),
    ([[UniformStrategy()], [UniformStrategy()], [UniformStrategy()]], ValueError, r"strategies has 3 lists"),
    ([[UniformStrategy()], []], ValueError, r"strategies\[1\] is empty"),
    ([[UniformStrategy()], 5], TypeError, r"strategies\[1\]=5 is not allowed: expected a list of strategies"),
    ([[UniformStrategy()], [[UniformStrategy()]]], TypeError, r"strategies\[1\]\[0\]=.*no action_probabilities"),
])
def test_wrong_nesting_and_counts_are_named(strategies, error, pattern):
    with pytest.raises(error, match=pattern):
        EmpiricalGame(KUHN, strategies)


def test_symmetric_with_nested_lists_is_refused():
    with pytest.raises(TypeError, match=r"strategies\[0\] is a list.*with symmetric=True pass one flat list"):
        EmpiricalGame(KUHN, [_two()], symmetric=True)
    with pytest.raises(TypeError, match=r"names=.*with symmetric=True pass one flat list of names"):
        EmpiricalGame(KUHN, _two(), symmetric=True, names=[["a", "b"]])


@pytest.mark.parametrize("names, error, pattern", [
    (["a", "b"], TypeError, r"names\[0\]='a' is not allowed"),
    ([["a", "b"]], ValueError, r"names has 1 lists for 2 strategy lists"),
    ([["a", "a"], ["a", "b"]], ValueError, r"names\[0\]=\['a', 'a'\] is not allowed: names must be unique"),
    ([["a"], ["a", "b"]], ValueError, r"names\[0\] has 1 entries for 2 strategies"),
    (7, TypeError, r"names=7 is not allowed"),
])
def test_bad_names_are_named(names, error, pattern):
    with pytest.raises(error, match=pattern):
        EmpiricalGame(KUHN, [_two(), _two()], names=names)


@pytest.mark.parametrize("roles, pattern", [
    (5, r"roles=5 is not allowed"), ([0, 2], r"roles=\[0, 2\] is not allowed"),
    ([0.0, 1.0], r"roles=\[0.0, 1.0\] is not allowed"), ([True, False], r"roles=\[True, False\] is not allowed"),
    ([0], r"roles=\[0\] is not allowed"),
])
def test_bad_roles_are_named(roles, pattern):
    with pytest.raises((TypeError, ValueError), match=pattern):
        EmpiricalGame(KUHN, [_two(), _two()], roles=roles)


def test_other_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match=r"game='no_such_game' could not be loaded"):
        EmpiricalGame("no_such_game", [_two(), _two()])
    with pytest.raises(TypeError, match=r"imports='marketgames' is not allowed"):
        EmpiricalGame(KUHN, [_two(), _two()], imports="marketgames")
    for bad in ("0.9", True, float("nan"), 1.0):
        with pytest.raises(ValueError, match="confidence="):
            EmpiricalGame(KUHN, [_two(), _two()], confidence=bad)


def test_default_names_that_collide_are_made_unique():
    eg = EmpiricalGame(KUHN, [UniformStrategy(), UniformStrategy()], symmetric=True)
    assert len(set(eg.names[0])) == 2


# --------------------------------------------------------------------------------------------- methods
@pytest.mark.parametrize("kwargs, pattern", [
    ({"player": 1.5}, r"player=1.5 is not allowed"), ({"player": True}, r"player=True is not allowed"),
    ({"player": 2}, r"player=2 is not allowed"), ({"player": -1}, r"player=-1 is not allowed"),
    ({"role": 0.0}, r"role=0.0 is not allowed"), ({"player": 0, "role": 0}, "exactly one"),
    ({"player": 0, "name": "always_bet"}, r"name='always_bet' is not allowed: role 0 already has"),
    ({"player": 0, "name": ""}, r"name='' is not allowed"), ({"player": 0, "name": 3}, r"name=3 is not allowed"),
])
def test_rejected_add_strategy_changes_nothing(sampled, kwargs, pattern):
    before = _state(sampled)
    with pytest.raises(ValueError, match=pattern):
        sampled.add_strategy(UniformStrategy(), **kwargs)
    assert _state(sampled) == before
    with pytest.raises(TypeError, match=r"strategy=.*no action_probabilities"):
        sampled.add_strategy(object(), player=0)
    assert _state(sampled) == before


def test_symmetric_add_strategy_refuses_a_bool_role():
    eg = EmpiricalGame(KUHN, _two(), symmetric=True)
    with pytest.raises(ValueError, match="symmetric game shares one strategy list"):
        eg.add_strategy(UniformStrategy(), role=False)
    assert eg.num_strategies == (2, 2)


@pytest.mark.parametrize("profile", [(0,), (0, 2), (0, 1.7), (True, 0), (0, -1), 5, "01"])
def test_bad_profiles_are_named(sampled, profile):
    with pytest.raises((TypeError, ValueError), match="profile="):
        sampled.cell_stats(profile)
    with pytest.raises((TypeError, ValueError), match="profile="):
        sampled.samples(profile)


def test_bad_players_and_sampling_budgets_are_named(sampled):
    with pytest.raises(ValueError, match="player=5"):
        sampled.strategies(5)
    with pytest.raises(ValueError, match="player=-1"):
        sampled.strategies(-1)
    before = _state(sampled)
    for kwargs, pattern in [({"min_samples": 2.5}, "min_samples=2.5"), ({"batch_size": 10.0}, "batch_size=10.0"),
                            ({"max_samples": True}, "max_samples=True"),
                            ({"target_half_width": float("inf")}, "target_half_width=inf"),
                            ({"target_half_width": "0.1"}, "target_half_width='0.1'")]:
        with pytest.raises(ValueError, match=pattern):
            sampled.sample(**kwargs)
    assert _state(sampled) == before


# ---------------------------------------------------------------------------------------------- save / load
def test_save_and_load_round_trip_marks_the_kind(sampled, tmp_path):
    path = sampled.save(tmp_path / "game.json")
    assert json.loads(path.read_text())["kind"] == "EmpiricalGame"
    back = EmpiricalGame.load(path)
    np.testing.assert_array_equal(back.payoffs, sampled.payoffs)
    assert not list(tmp_path.glob(".*tmp*"))  # written under a temporary name, then renamed


def _damaged(sampled, tmp_path):
    good = sampled.save(tmp_path / "good.json").read_bytes()
    data = json.loads(good)
    rng = np.random.default_rng(0)
    yield "empty", b""
    yield "truncated", good[: len(good) // 2]
    yield "random", rng.bytes(300)
    yield "random text", bytes(rng.integers(32, 127, 300, dtype=np.uint8))
    yield "a list", b"[1, 2, 3]"
    yield "foreign json", json.dumps({"kind": "PSRO", "format": 1}).encode()
    yield "a study report", json.dumps({"config": {}, "results": {}}).encode()
    yield "future format", json.dumps({**data, "format": 99}).encode()
    for field in ("names", "seed", "cells", "game"):
        yield f"no {field}", json.dumps({k: v for k, v in data.items() if k != field}).encode()
    yield "names not strings", json.dumps({**data, "names": [[1, 2], [3, 4]]}).encode()
    cells = data["cells"]
    yield "cell out of range", json.dumps({**data, "cells": [{**cells[0], "cell": [7, 0]}]}).encode()
    yield "cell missing count", json.dumps({**data, "cells": [{k: v for k, v in cells[0].items()
                                                               if k != "count"}]}).encode()
    yield "short means", json.dumps({**data, "cells": [{**cells[0], "mean": [0.0]}]}).encode()
    yield "duplicate cell", json.dumps({**data, "cells": [cells[0], cells[0]]}).encode()
    yield "wrong player count", json.dumps({**data, "n_players": 3}).encode()


def test_damaged_or_foreign_files_are_refused_naming_the_path(sampled, tmp_path):
    for label, content in _damaged(sampled, tmp_path):
        path = tmp_path / f"{label.replace(' ', '_')}.json"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=str(path)) as info:
            EmpiricalGame.load(path)
        assert type(info.value) is ValueError, label


def test_load_with_mismatched_strategies_names_them(sampled, tmp_path):
    path = sampled.save(tmp_path / "game.json")
    with pytest.raises(ValueError, match=r"strategies do not match .*\[2, 2\]"):
        EmpiricalGame.load(path, strategies=[_two(), _two()[:1]])
    with pytest.raises(ValueError, match="strategies do not match"):
        EmpiricalGame.load(path, strategies=_two())
