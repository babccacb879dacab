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
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError, InputError
from .chunks import ChunkResult

__all__ = ["FORMAT", "Checkpoint", "component_header", "fingerprint", "model_fingerprint"]

#: Format tag of the header. 3: every chunk file carries the hash of its run's header, its index
#: and its instance ids, checked on load (2: the same results, chunk files unchecked; 1 seeded
#: each chunk by its index, so its chunks do not mix with later runs').
FORMAT = "glider_plugins.checkpoint/3"  # a name, not a module path: 0.1 wrote it, and it stays
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


def component_header(value: Any, name_of: Callable[[str], str] = str) -> Any:
    """A detector or perturbation scheme in a checkpoint header: its registry name, or its class
    and every constructor argument (``get_params``), so that any differing setting is seen."""
    if isinstance(value, str):
        return name_of(value)
    try:
        params = value.get_params()
    except (AttributeError, TypeError):
        warnings.warn(f"checkpoint: {type(value).__name__} does not report its settings (get_params); a resume "
                      "compares only its repr, which may not show every setting", UserWarning, stacklevel=5)
        return repr(value)
    return {"class": f"{type(value).__module__}.{type(value).__qualname__}", "params": {k: repr(v) for k, v in params.items()}}


def model_fingerprint(model: Any) -> str:
    """Identifies the model in a checkpoint header: a hash of its bytes or weights.

    ONNX files, bytes and ``ModelProto``s by their bytes; ``onnxruntime.InferenceSession``s by the
    bytes or file they were built from; torch modules by class and ``state_dict``; Keras models by
    class and weights; plain callables by their code, constants, defaults and closure values, with a
    warning: what they read from globals or outside state cannot be seen.
    """
    if isinstance(model, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(model).hexdigest()
    if isinstance(model, (str, os.PathLike)) and os.path.isfile(model):
        with open(model, "rb") as handle:
            return "sha256:" + hashlib.sha256(handle.read()).hexdigest()
    if hasattr(model, "SerializeToString"):
        return "sha256:" + hashlib.sha256(model.SerializeToString()).hexdigest()
    if hasattr(model, "describe"):
        return str(model.describe())
    source = getattr(model, "_model_bytes", None) or getattr(model, "_model_path", None)  # an InferenceSession
    if type(model).__name__ == "InferenceSession" and source is not None:
        return "onnxruntime:" + model_fingerprint(bytes(source) if not isinstance(source, str) else source)
    name = f"{type(model).__module__}.{type(model).__qualname__}"
    if hasattr(model, "state_dict"):
        try:
            return f"{name}:" + fingerprint([t.detach().cpu().numpy() for t in model.state_dict().values()])
        except Exception:  # not a torch state dict after all
            pass
    if hasattr(model, "get_weights"):
        try:
            return f"{name}:" + fingerprint([np.asarray(w) for w in model.get_weights()])
        except Exception:  # not Keras' get_weights after all
            pass
    function = model if hasattr(model, "__code__") else (type(model).__call__ if callable(model) else None)
    code = getattr(function, "__code__", None)
    if code is not None:
        warnings.warn(
            f"checkpoint: the model {getattr(model, '__qualname__', name)} is a Python callable, fingerprinted by its code, "
            "constants, defaults and closure values; a resume cannot see globals or other state it reads, so make sure "
            "it computes what it did", UserWarning, stacklevel=5)
        return f"callable:{getattr(model, '__qualname__', name)}:" + _code_fingerprint(function, code)
    raise InputError(
        f"checkpoint: cannot fingerprint the model ({name}): a resume could not tell it from another; pass an ONNX "
        "file, a torch module, a Keras model or a function, or run without checkpoint=")


def _code_fingerprint(function: Any, code: Any) -> str:
    """SHA-256 of a function's bytecode, constants, names, defaults and closure values."""
    closure = [c.cell_contents for c in (getattr(function, "__closure__", None) or ())]
    defaults = list(getattr(function, "__defaults__", None) or ())

    def describe(value: Any) -> Any:
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            return fingerprint(np.asarray(value.detach().cpu() if hasattr(value, "detach") else value))
        if callable(value) and hasattr(value, "__code__"):
            return describe(value.__code__.co_code) + repr(value.__code__.co_consts)
        return repr(value)

    digest = hashlib.sha256()
    for part in (code.co_code, repr(code.co_consts), repr(code.co_names), *map(describe, closure), *map(describe, defaults)):
        digest.update(part if isinstance(part, bytes) else str(part).encode())
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
    n_features : int, optional
        The run's number of features: a stored chunk naming another feature is refused.

    Every chunk file carries :attr:`digest` (the SHA-256 of the header), its index and its
    instance ids; :meth:`load` refuses a file whose digest, index, instance ids, lengths or
    feature ids do not match this run (a file copied from another chunk or another run, a header
    deleted and written anew by a run with other settings).
    """

    def __init__(self, path: str | os.PathLike, header: dict[str, Any], n_features: int | None = None) -> None:
        self.path = Path(path)
        self.n_features = n_features
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"checkpoint: '{self.path}' exists and is not a folder")
        self.header = {"format": FORMAT, **_jsonable(header)}
        self.digest = hashlib.sha256(json.dumps(self.header, sort_keys=True).encode()).hexdigest()
        with _file_system("create the folder", self.path):
            self.path.mkdir(parents=True, exist_ok=True)
        existing = self.path / _HEADER
        if existing.exists():
            try:
                with _file_system("read the header", existing):
                    old = json.loads(existing.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(f"checkpoint: '{existing}' is not a checkpoint header ({exc})") from exc
            before, now = _flat(old), _flat(self.header)
            differ = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
            if differ:
                shown = "; ".join(f"{k}: checkpoint has {_short(before.get(k))}, this run {_short(now.get(k))}" for k in differ)
                raise InputError(
                    f"checkpoint: '{self.path}' belongs to a run with other settings ({shown}); "
                    "resume with the same data and settings, or pass another checkpoint folder"
                )
        else:
            with _file_system("write the header", existing):
                _write_atomic(existing, json.dumps(self.header, indent=1))

    def done(self) -> set[int]:
        """Indices of the chunks already stored."""
        indices = set()
        for file in self.path.glob("chunk-*.json"):
            if not file.is_file():
                continue
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
            "header": self.digest,
            "index": int(result.index),
            "instance_ids": np.asarray(result.instance_ids).tolist(),
            "interactions": [[[list(map(int, s)), float(v)] for s, v in found] for found in result.interactions],
            "constant": np.asarray(result.constant, dtype=bool).tolist(),
            "stats": {k: float(v) for k, v in result.stats.items()},
        }
        file = self._file(result.index)
        with _file_system(f"write chunk {result.index}", file):
            _write_atomic(file, json.dumps(payload))

    def load(self, index: int, instance_ids: Any = None) -> ChunkResult:
        """The stored results of chunk ``index``, checked against this run.

        Parameters
        ----------
        index : int
        instance_ids : array-like of int, optional
            The rows this run puts in the chunk; the file must hold exactly these.

        Raises
        ------
        InputError
            Naming the file and what does not match; deleting it recomputes that chunk.
        """
        file = self._file(index)
        try:
            data = json.loads(file.read_text())
            result = ChunkResult(
                index=int(data["index"]),
                instance_ids=np.asarray(data["instance_ids"], dtype=np.int64),
                interactions=[[(tuple(int(f) for f in s), float(v)) for s, v in found] for found in data["interactions"]],
                constant=np.asarray(data["constant"], dtype=bool),
                stats={k: float(v) for k, v in data["stats"].items()},
            )
            stamp = data.get("header")
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"checkpoint: chunk file '{file}' is unreadable ({type(exc).__name__}: {exc}); delete it to recompute that chunk") from exc
        problem = self._mismatch(result, stamp, index, instance_ids)
        if problem:
            raise InputError(f"checkpoint: chunk file '{file}' {problem}; delete it to recompute that chunk")
        return result

    def _mismatch(self, result: ChunkResult, stamp: Any, index: int, instance_ids: Any) -> str:
        """What makes a stored chunk not this run's chunk ``index`` ('' when nothing)."""
        if stamp != self.digest:
            return "belongs to another run (its header hash differs from this run's header.json)"
        if result.index != index:
            return f"holds chunk {result.index}, not chunk {index}"
        if instance_ids is not None and not np.array_equal(result.instance_ids, np.asarray(instance_ids, dtype=np.int64)):
            return (f"holds instances {result.instance_ids.tolist()[:10]}, this run's chunk {index} has "
                    f"{np.asarray(instance_ids).tolist()[:10]}")
        n = len(result.instance_ids)
        if len(result.interactions) != n or len(result.constant) != n:
            return f"holds {len(result.interactions)} results and {len(result.constant)} flags for {n} instances"
        features = [f for found in result.interactions for s, _ in found for f in s]
        if self.n_features is not None and any(not 0 <= f < self.n_features for f in features):
            bad = sorted({f for f in features if not 0 <= f < self.n_features})
            return f"names features {bad[:10]}, outside this run's 0..{self.n_features - 1}"
        return ""


@contextmanager
def _file_system(action: str, path: Path) -> Iterator[None]:
    """Turn the file system's errors inside into a :class:`~glider_plugins.errors.CheckpointError`
    that names the checkpoint, the path and what to do."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, CheckpointError):
            raise
        reason = exc.strerror or str(exc)
        raise CheckpointError(
            f"checkpoint: could not {action} '{path}' ({type(exc).__name__}: {reason}); no file was left half-written. "
            "Pass a checkpoint folder you can write, with free space (chunks already stored there are kept: run again to resume)"
        ) from exc


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


def _flat(header: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys (``detector.params.patience``), so a refusal names the one that differs."""
    out: dict[str, Any] = {}
    for key, value in header.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."
