"""PSRO and LearnedPSRO checkpoints: same path both ways, damaged or foreign files refused (issue 9, item 11)."""
import io
import zipfile

import numpy as np
import pytest
import torch

from solvers.checkpoint import CheckpointError
from solvers.exploitability import BestResponseConfig
from solvers.learners import PSRO, LearnedPSRO


@pytest.fixture(scope="module")
def psro_file(tmp_path_factory):
    solver = PSRO("kuhn_poker", meta_solver="nash")
    for _ in range(2):
        solver.step()
    path = tmp_path_factory.mktemp("psro") / "x"
    assert solver.save(path) == path
    return solver, path


@pytest.fixture(scope="module")
def learned_file(tmp_path_factory):
    config = BestResponseConfig(train_episodes=200, eval_episodes=20, num_envs=8)
    solver = LearnedPSRO("kuhn_poker", br_config=config, samples_per_cell=10, meta_solver="uniform", seed=3)
    solver.step()
    path = tmp_path_factory.mktemp("learned") / "x"
    assert solver.save(path) == path
    return solver, path


def _weights(solver: LearnedPSRO) -> list[np.ndarray]:
    return [w.numpy().copy() for pop in solver.population for pi in pop[1:]
            for w in pi.q_network.state_dict().values()]


def test_save_and_load_agree_on_the_path(psro_file, learned_file):
    """PSRO.save("x") used to write x.npz, which PSRO.load("x") could not find."""
    solver, path = psro_file
    assert sorted(p.name for p in path.parent.iterdir()) == ["x"]
    loaded = PSRO.load(path, "kuhn_poker")
    np.testing.assert_array_equal(loaded.meta_game, solver.meta_game)
    assert loaded.iteration == solver.iteration == 2
    learned, learned_path = learned_file
    assert sorted(p.name for p in learned_path.parent.iterdir()) == ["x"]
    again = LearnedPSRO.load(learned_path)
    for a, b in zip(_weights(learned), _weights(again)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("which", ["psro", "learned"])
def test_empty_truncated_and_random_files_are_refused(which, psro_file, learned_file, tmp_path):
    path = (psro_file if which == "psro" else learned_file)[1]
    load = (lambda p: PSRO.load(p, "kuhn_poker")) if which == "psro" else LearnedPSRO.load
    data = path.read_bytes()
    bad = {"empty": b"", "truncated": data[: len(data) // 2], "cut_tail": data[:-10],
           "random": np.random.default_rng(0).bytes(len(data))}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=r"^path="):
            load(tmp_path / name)


def test_foreign_kinds_are_refused(psro_file, learned_file, tmp_path):
    with pytest.raises(CheckpointError, match="is a 'PSRO' checkpoint, not a 'LearnedPSRO' one"):
        LearnedPSRO.load(psro_file[1])
    with pytest.raises(CheckpointError, match="is a 'LearnedPSRO' checkpoint, not a 'PSRO' one"):
        PSRO.load(learned_file[1], "kuhn_poker")
    torch.save({"format": 1, "game": "kuhn_poker"}, tmp_path / "old.pt")  # the format LearnedPSRO used to write
    with pytest.raises(CheckpointError, match="not a marketgames checkpoint"):
        LearnedPSRO.load(tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match=r"checkpoint of game 'kuhn_poker\(\)', not 'leduc_poker\(\)'"):
        PSRO.load(psro_file[1], "leduc_poker")


def test_a_flipped_byte_inside_a_weight_tensor_is_refused(learned_file, tmp_path):
    """One flipped byte inside a LearnedPSRO weight tensor used to load silently with a changed weight."""
    path = learned_file[1]
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = next(n for n in members if n.startswith("blobs/"))
    blob = bytearray(members[name])
    weight = next(iter(torch.load(io.BytesIO(bytes(blob)), weights_only=True).values())).numpy()
    at = bytes(blob).find(weight.tobytes())
    assert at > 0  # torch.save stores tensor data uncompressed
    blob[at + 5] ^= 0x10
    changed = next(iter(torch.load(io.BytesIO(bytes(blob)), weights_only=True).values())).numpy()
    assert not np.array_equal(changed, weight)  # the damaged blob alone would load with another weight
    members[name] = bytes(blob)
    with zipfile.ZipFile(tmp_path / "flipped", "w") as archive:  # rewritten with valid zip CRCs
        for member, data in members.items():
            archive.writestr(member, data)
    with pytest.raises(CheckpointError, match=f"member {name!r} does not match its hash"):
        LearnedPSRO.load(tmp_path / "flipped")


@pytest.mark.parametrize("which", ["psro", "learned"])
def test_any_flipped_byte_is_refused_or_loads_identical_state(which, psro_file, learned_file, tmp_path):
    solver, path = psro_file if which == "psro" else learned_file
    data = path.read_bytes()
    for position in np.linspace(0, len(data) - 1, 60).astype(int):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "d").write_bytes(bytes(damaged))
        try:
            loaded = PSRO.load(tmp_path / "d", "kuhn_poker") if which == "psro" else LearnedPSRO.load(tmp_path / "d")
        except CheckpointError:
            continue
        if which == "psro":  # a flip the format does not read (e.g. in a zip comment) changes nothing
            np.testing.assert_array_equal(loaded.meta_game, solver.meta_game)
            for a, b in zip(loaded.population, solver.population):
                np.testing.assert_array_equal(np.stack(a), np.stack(b))
        else:
            for a, b in zip(_weights(loaded), _weights(solver)):
                np.testing.assert_array_equal(a, b)
