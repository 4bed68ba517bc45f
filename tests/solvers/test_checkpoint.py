import zipfile

import numpy as np
import pytest

from solvers.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _save(path):
    return save_checkpoint(path, kind="Test", meta={"iteration": 3},
                           arrays={"w": np.arange(1000, dtype=np.float64)}, blobs={"net": b"\x00\x01" * 300})


def test_round_trip_and_path_used_as_given(tmp_path):
    path = _save(tmp_path / "x")
    assert path == tmp_path / "x" and path.exists()
    ck = load_checkpoint(tmp_path / "x", kind="Test")
    assert ck.meta == {"iteration": 3} and ck.blobs["net"] == b"\x00\x01" * 300
    np.testing.assert_array_equal(ck.arrays["w"], np.arange(1000.0))


def test_wrong_kind_missing_empty_truncated_and_random_files_are_refused(tmp_path):
    path = _save(tmp_path / "x")
    with pytest.raises(CheckpointError, match="'Test' checkpoint, not a 'PSRO'"):
        load_checkpoint(path, kind="PSRO")
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing", kind="Test")
    (tmp_path / "empty").write_bytes(b"")
    data = path.read_bytes()
    (tmp_path / "truncated").write_bytes(data[: len(data) // 2])
    (tmp_path / "random").write_bytes(np.random.default_rng(0).bytes(5000))
    for name in ("empty", "truncated", "random"):
        with pytest.raises(CheckpointError):
            load_checkpoint(tmp_path / name, kind="Test")


def test_a_changed_member_is_refused_by_its_hash(tmp_path):
    path = _save(tmp_path / "x")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weights = bytearray(members["arrays/w.npy"])
    weights[-3] ^= 0x01  # one flipped bit inside the weight data
    members["arrays/w.npy"] = bytes(weights)
    with zipfile.ZipFile(tmp_path / "flipped", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(CheckpointError, match="does not match its hash"):
        load_checkpoint(tmp_path / "flipped", kind="Test")


def test_every_single_byte_flip_is_refused_or_loads_identical_data(tmp_path):
    path = _save(tmp_path / "x")
    data = path.read_bytes()
    for position in range(0, len(data), 37):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "d").write_bytes(bytes(damaged))
        try:
            ck = load_checkpoint(tmp_path / "d", kind="Test")
        except CheckpointError:
            continue
        # a flip in zip metadata that the reader ignores may load, but never with changed contents
        np.testing.assert_array_equal(ck.arrays["w"], np.arange(1000.0))
        assert ck.meta == {"iteration": 3} and ck.blobs["net"] == b"\x00\x01" * 300
