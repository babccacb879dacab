"""Checkpoints of a GLIDER run: one file per finished chunk, written atomically, and a header.

Layout of a checkpoint folder::

    header.json          what the run is: settings, seeds, a fingerprint of the data
    chunk-000000.json    chunk 0's local results (each instance's top_k interactions) and costs
    chunk-000003.json    ...

Every file is written to a temporary name in the same folder, flushed and fsync'ed, then moved into
place with :func:`os.replace`, so a killed process leaves either the whole file or none of it.
A resumed run reads the header, refuses to continue when its settings differ, loads the chunks
that are there and explains only the others; JSON keeps floats exactly, so the final counts and
strengths equal those of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import ChunkResult
from .errors import InputError

__all__ = ["FORMAT", "Checkpoint", "fingerprint"]

#: Format tag of the header. 2: every chunk uses the run's one detection seed (1 seeded each
#: chunk by its index, so its chunks do not mix with a version-2 run's).
FORMAT = "glider_plugins.checkpoint/2"
_HEADER = "header.json"


def fingerprint(*arrays: Any) -> str:
    """SHA-256 over the shapes, dtypes and bytes of numpy arrays (nested tuples/dicts allowed)."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if value is None:
            digest.update(b"None")
        elif isinstance(value, dict):
            for key in sorted(value):
                digest.update(str(key).encode())
                feed(value[key])
        elif isinstance(value, (tuple, list)):
            digest.update(f"seq{len(value)}".encode())
            for item in value:
                feed(item)
        else:
            array = np.ascontiguousarray(np.asarray(value))
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())

    for array in arrays:
        feed(array)
    return digest.hexdigest()


class Checkpoint:
    """A checkpoint folder for one GLIDER run.

    Parameters
    ----------
    path : str or os.PathLike
        The folder; created (with parents) when missing.
    header : dict
        JSON-able description of the run. When the folder already holds a header, it must be
        equal, else :class:`~glider_plugins.errors.InputError` names the settings that differ.
    """

    def __init__(self, path: str | os.PathLike, header: dict[str, Any]) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"checkpoint: '{self.path}' exists and is not a folder")
        self.header = {"format": FORMAT, **_jsonable(header)}
        self.path.mkdir(parents=True, exist_ok=True)
        existing = self.path / _HEADER
        if existing.exists():
            try:
                old = json.loads(existing.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(f"checkpoint: '{existing}' is not a checkpoint header ({exc})") from exc
            differ = sorted(k for k in set(old) | set(self.header) if old.get(k) != self.header.get(k))
            if differ:
                shown = "; ".join(f"{k}: checkpoint has {_short(old.get(k))}, this run {_short(self.header.get(k))}" for k in differ)
                raise InputError(
                    f"checkpoint: '{self.path}' belongs to a run with other settings ({shown}); "
                    "resume with the same data and settings, or pass another checkpoint folder"
                )
        else:
            _write_atomic(existing, json.dumps(self.header, indent=1))

    def done(self) -> set[int]:
        """Indices of the chunks already stored."""
        indices = set()
        for file in self.path.glob("chunk-*.json"):
            try:
                indices.add(int(file.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return indices

    def _file(self, index: int) -> Path:
        return self.path / f"chunk-{index:06d}.json"

    def save(self, result: ChunkResult) -> None:
        """Store one chunk's results atomically."""
        payload = {
            "index": int(result.index),
            "instance_ids": np.asarray(result.instance_ids).tolist(),
            "interactions": [[[list(map(int, s)), float(v)] for s, v in found] for found in result.interactions],
            "constant": np.asarray(result.constant, dtype=bool).tolist(),
            "stats": {k: float(v) for k, v in result.stats.items()},
        }
        _write_atomic(self._file(result.index), json.dumps(payload))

    def load(self, index: int) -> ChunkResult:
        """The stored results of chunk ``index``."""
        file = self._file(index)
        try:
            data = json.loads(file.read_text())
            return ChunkResult(
                index=int(data["index"]),
                instance_ids=np.asarray(data["instance_ids"], dtype=np.int64),
                interactions=[[(tuple(s), float(v)) for s, v in found] for found in data["interactions"]],
                constant=np.asarray(data["constant"], dtype=bool),
                stats={k: float(v) for k, v in data["stats"].items()},
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"checkpoint: chunk file '{file}' is unreadable ({type(exc).__name__}: {exc}); delete it to recompute that chunk") from exc


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so a fresh header compares equal to one read back."""
    return json.loads(json.dumps(value, default=repr))


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."
