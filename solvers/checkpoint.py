"""Checkpoint files that refuse damage: one format for every solver and learner that saves its state.

A checkpoint is a zip archive with a ``manifest.json`` (format version, kind, SHA-256 of every other member),
``meta.json`` (plain JSON data), arrays as ``.npy`` members and opaque byte blobs (for example ``torch.save``
output of network and optimiser state). :func:`load_checkpoint` verifies the manifest, the kind and every hash
before anything is parsed, so a truncated, empty, foreign or bit-flipped file is refused with
:class:`CheckpointError` instead of loading silently changed weights. The path is used exactly as given by both
functions (no suffix is added), and a file is written to a temporary name and renamed when complete.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["FORMAT_VERSION", "Checkpoint", "CheckpointError", "save_checkpoint", "load_checkpoint"]

FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_LIBRARY = "marketgames"


class CheckpointError(ValueError):
    """A file that is not a complete, undamaged checkpoint of the expected kind."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns: the JSON ``meta``, the ``arrays`` and the byte ``blobs``."""

    kind: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    blobs: dict[str, bytes]


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def save_checkpoint(path: str | Path, *, kind: str, meta: Mapping[str, Any],
                    arrays: Mapping[str, np.ndarray] | None = None,
                    blobs: Mapping[str, bytes] | None = None) -> Path:
    """Write a checkpoint of ``kind`` (e.g. ``"PSRO"``) to ``path`` atomically and return ``path``."""
    path = Path(path)
    members: dict[str, bytes] = {"meta.json": json.dumps(dict(meta)).encode()}
    for name, array in (arrays or {}).items():
        members[f"arrays/{name}.npy"] = _npy_bytes(array)
    for name, blob in (blobs or {}).items():
        if not isinstance(blob, (bytes, bytearray)):
            raise TypeError(f"blobs[{name!r}] is a {type(blob).__name__}: expected bytes")
        members[f"blobs/{name}"] = bytes(blob)
    manifest = {"library": _LIBRARY, "format": FORMAT_VERSION, "kind": kind,
                "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest))
            for name, data in members.items():
                archive.writestr(name, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, *, kind: str) -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint` with the same ``kind``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"path={str(path)!r} is not a checkpoint: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _MANIFEST not in names:
                raise CheckpointError(f"path={str(path)!r} is not a {_LIBRARY} checkpoint: it has no manifest")
            manifest = json.loads(archive.read(_MANIFEST))
            if not isinstance(manifest, dict) or manifest.get("library") != _LIBRARY:
                raise CheckpointError(f"path={str(path)!r} is not a {_LIBRARY} checkpoint")
            if manifest.get("format") != FORMAT_VERSION:
                raise CheckpointError(f"path={str(path)!r} has checkpoint format {manifest.get('format')!r}; "
                                      f"this version reads format {FORMAT_VERSION}")
            if manifest.get("kind") != kind:
                raise CheckpointError(f"path={str(path)!r} is a {manifest.get('kind')!r} checkpoint, "
                                      f"not a {kind!r} one")
            hashes = manifest.get("sha256", {})
            if set(hashes) != names - {_MANIFEST}:
                raise CheckpointError(f"path={str(path)!r} is damaged: its members do not match its manifest")
            members = {name: archive.read(name) for name in hashes}
    except CheckpointError:
        raise
    # what a damaged archive raises from zipfile, zlib and json (unsupported compression: NotImplementedError)
    except (zipfile.BadZipFile, zlib.error, struct.error, EOFError, OSError, ValueError, KeyError,
            NotImplementedError) as error:
        raise CheckpointError(f"path={str(path)!r} is not a readable checkpoint ({type(error).__name__}: "
                              f"{error})") from None
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != hashes[name]:
            raise CheckpointError(f"path={str(path)!r} is damaged: member {name!r} does not match its hash")
    arrays = {name[len("arrays/"):-len(".npy")]: np.load(io.BytesIO(data), allow_pickle=False)
              for name, data in members.items() if name.startswith("arrays/")}
    blobs = {name[len("blobs/"):]: data for name, data in members.items() if name.startswith("blobs/")}
    return Checkpoint(kind=kind, meta=json.loads(members["meta.json"]), arrays=arrays, blobs=blobs)
