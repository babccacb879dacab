"""Running GLIDER's chunks: inline, on any ``concurrent.futures.Executor``, or on a Dask ``Client``.

The model travels to workers in a portable form, once:

* ONNX: the serialized bytes (a path or ``ModelProto`` is read/serialized here);
* TorchScript: the ``torch.jit.save`` bytes (:class:`TorchScriptBytes`);
* a ``torch.nn.Module`` or a plain callable: pickled as it is;
* anything else: a :class:`ModelFactory` (a picklable zero-argument callable that builds the
  model), rebuilt once per worker process.

With a Dask ``Client`` the :class:`~glider_plugins.chunking.ModelSpec` is scattered to every worker
once (``broadcast=True``) and each task only carries its chunk. A ``concurrent.futures`` executor
has no way to send data once, so the (portable, usually small) spec goes with every task, but the
model is built only once per worker process: :meth:`ModelSpec.attribution` caches it per process by
the spec's content token.

Chunks are submitted lazily, at most ``max_in_flight`` at a time, and their results are yielded in
chunk order, so memory stays flat and the counts (and the order of the floating-point sums) are the
same as in a local run.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .chunking import Chunk, ChunkOptions, ChunkResult, ModelSpec, detect_chunk
from .errors import InputError, InputTypeError, ModelLoadError

__all__ = ["ChunkFailure", "ModelFactory", "TorchScriptBytes", "check_executor", "executor_name", "is_dask_client", "portable_spec", "run_chunks"]


@dataclass(frozen=True)
class ModelFactory:
    """A model that workers rebuild: ``build()`` is called once per worker process.

    Parameters
    ----------
    build : callable
        A picklable zero-argument callable (a top-level function, ``functools.partial`` of one, or
        a class) returning anything :func:`~glider_plugins.adapters.adapt` accepts.
    key : str, optional
        Names the model in checkpoint headers (default: the callable's qualified name).

    Examples
    --------
    >>> spec = ModelFactory(functools.partial(load_my_model, "weights.pt"))  # doctest: +SKIP
    >>> Glider(spec).detect(X, executor=client, seed=0)                     # doctest: +SKIP
    """

    build: Callable[[], Any]
    key: str | None = None

    def load(self) -> Any:
        """Build the model."""
        return self.build()

    def describe(self) -> str:
        return self.key or f"{getattr(self.build, '__module__', '')}.{getattr(self.build, '__qualname__', type(self.build).__name__)}"


@dataclass(frozen=True)
class TorchScriptBytes:
    """A TorchScript module as ``torch.jit.save`` bytes (ScriptModules do not pickle)."""

    data: bytes

    @classmethod
    def from_module(cls, module: Any) -> TorchScriptBytes:
        import torch

        buffer = io.BytesIO()
        torch.jit.save(module, buffer)
        return cls(buffer.getvalue())

    def load(self) -> Any:
        """The module, loaded on the CPU."""
        import torch

        return torch.jit.load(io.BytesIO(self.data), map_location="cpu")

    def describe(self) -> str:
        return f"torchscript:{len(self.data)} bytes"


@dataclass
class ChunkFailure:
    """A chunk that raised on every try: its instances are left out of the counts."""

    index: int
    instance_ids: list[int]
    error: str
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "instance_ids": self.instance_ids, "error": self.error, "attempts": self.attempts}


def is_dask_client(executor: Any) -> bool:
    """``executor`` is a ``dask.distributed.Client`` (checked without importing dask)."""
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "scatter") and hasattr(executor, "submit")


def executor_name(executor: Any) -> str:
    """A short description for metadata: ``"local"``, ``"dask"`` or the executor's class name."""
    if executor is None:
        return "local"
    return "dask" if is_dask_client(executor) else type(executor).__name__


def check_executor(executor: Any) -> None:
    """Raise :class:`InputTypeError` unless ``executor`` is None, an Executor or a Dask Client."""
    from concurrent.futures import Executor

    if executor is None or isinstance(executor, Executor) or is_dask_client(executor):
        return
    raise InputTypeError(f"executor: expected a concurrent.futures.Executor or a dask.distributed.Client, got {type(executor).__name__}")


def portable_spec(spec: ModelSpec) -> ModelSpec:
    """A copy of ``spec`` whose model can be pickled and sent to worker processes.

    ONNX paths and protos become bytes, TorchScript modules :class:`TorchScriptBytes`; the copy
    gets a content token so workers build the model once per process.

    Raises
    ------
    InputTypeError
        When the model (or an adapter option) cannot be pickled; the message says what to pass.
    """
    import hashlib
    import pickle

    model = spec.model
    kind = type(model).__module__.split(".")[0]
    if isinstance(model, (str, os.PathLike)) and str(model).lower().endswith(".onnx"):
        try:
            with open(model, "rb") as handle:
                model = handle.read()
        except OSError as exc:
            raise ModelLoadError(f"model: could not read the ONNX file '{model}' ({exc})") from exc
    elif kind == "onnx" and hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif kind == "onnxruntime":
        raise InputTypeError(
            "model: an onnxruntime.InferenceSession cannot be sent to workers; pass the ONNX file path, its bytes or the onnx.ModelProto instead"
        )
    elif _is_torchscript(model):
        model = TorchScriptBytes.from_module(model)
    portable = ModelSpec(model, spec.detector, spec.perturbation, dict(spec.adapter_options))
    try:
        blob = pickle.dumps(portable, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # pickle raises many types
        raise InputTypeError(
            f"model: cannot be sent to the executor's workers because it does not pickle ({type(exc).__name__}: {exc}); "
            "pass ONNX bytes/path, a torch.nn.Module, a top-level function, or a ModelFactory that builds the model on each worker"
        ) from exc
    portable.token = hashlib.sha256(blob).hexdigest()
    return portable


def _is_torchscript(model: Any) -> bool:
    if not type(model).__module__.startswith("torch"):
        return False
    import torch

    return isinstance(model, torch.jit.ScriptModule)


Task = tuple[Chunk, int]


def run_chunks(
    spec: ModelSpec,
    tasks: Iterable[Task],
    options: ChunkOptions,
    executor: Any = None,
    *,
    retries: int = 1,
    max_in_flight: int | None = None,
) -> Iterator[ChunkResult | ChunkFailure]:
    """Run :func:`~glider_plugins.chunking.detect_chunk` on every ``(chunk, seed)``; yield in order.

    Parameters
    ----------
    spec : ModelSpec
        Used as is locally; made portable (:func:`portable_spec`) for an executor.
    tasks : iterable of (Chunk, int)
        Chunks and their seeds, made lazily.
    options : ChunkOptions
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        ``None``: one chunk after the other in this process.
    retries : int, default 1
        Further tries of a chunk that raised; then a :class:`ChunkFailure` is yielded for it.
        Argument errors (:class:`~glider_plugins.errors.InputError`) are raised at once.
    max_in_flight : int, optional
        Chunks submitted but not yet consumed (memory bound). Default: twice the workers.

    Yields
    ------
    ChunkResult or ChunkFailure
        One per task, in the order of ``tasks``.
    """
    if executor is None:
        for chunk, seed in tasks:
            yield _run_local(spec, chunk, options, seed, retries)
        return
    portable = portable_spec(spec)
    if is_dask_client(executor):
        shipped: Any = executor.scatter(portable, broadcast=True, hash=False)

        def submit(chunk: Chunk, seed: int) -> Any:
            return executor.submit(detect_chunk, shipped, chunk, options, seed, pure=False)

        workers = max(1, sum(getattr(executor, "nthreads", lambda: {})().values()) or 1)
    else:

        def submit(chunk: Chunk, seed: int) -> Any:
            return executor.submit(detect_chunk, portable, chunk, options, seed)

        workers = int(getattr(executor, "_max_workers", 0) or os.cpu_count() or 1)
    window = max(1, int(max_in_flight) if max_in_flight is not None else 2 * workers)
    pending: deque[tuple[Chunk, int, Any]] = deque()
    iterator = iter(tasks)
    exhausted = False
    while True:
        while not exhausted and len(pending) < window:
            try:
                chunk, seed = next(iterator)
            except StopIteration:
                exhausted = True
                break
            pending.append((chunk, seed, submit(chunk, seed)))
        if not pending:
            return
        chunk, seed, future = pending.popleft()
        attempts = 1
        while True:
            try:
                outcome: ChunkResult | ChunkFailure = future.result()
                break
            except (InputError, InputTypeError):
                raise
            except Exception as exc:  # the model (or a worker) failed on this chunk
                if attempts > retries:
                    outcome = ChunkFailure(chunk.index, chunk.instance_ids.tolist(), f"{type(exc).__name__}: {exc}", attempts)
                    break
                attempts += 1
                future = submit(chunk, seed)
        yield outcome


def _run_local(spec: ModelSpec, chunk: Chunk, options: ChunkOptions, seed: int, retries: int) -> ChunkResult | ChunkFailure:
    attempts = 0
    while True:
        attempts += 1
        try:
            return detect_chunk(spec, chunk, options, seed)
        except (InputError, InputTypeError):
            raise
        except Exception as exc:  # the model failed on this chunk
            if attempts > retries:
                return ChunkFailure(chunk.index, chunk.instance_ids.tolist(), f"{type(exc).__name__}: {exc}", attempts)
