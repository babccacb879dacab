"""Running GLIDER's chunks: inline, on any ``concurrent.futures.Executor``, or on a Dask ``Client``.

The model travels to workers in a portable form, once:

* ONNX: the serialized bytes (a path or ``ModelProto`` is read/serialized here);
* TorchScript: the ``torch.jit.save`` bytes (:class:`TorchScriptBytes`);
* a ``torch.nn.Module`` or a plain callable: pickled as it is;
* anything else: a :class:`ModelFactory` (a picklable zero-argument callable that builds the
  model), rebuilt once per worker process.

With a Dask ``Client`` the :class:`~glider_plugins.glider.models.ModelSpec` is scattered to every worker
once (``broadcast=True``) and each task only carries its chunk. A ``concurrent.futures`` executor
has no way to send data once, so the (portable, usually small) spec goes with every task, but the
model is built only once per worker process: :meth:`ModelSpec.attribution` caches it per process by
the spec's content token.

Chunks are submitted lazily, at most ``max_in_flight`` at a time, and their results are yielded in
chunk order, so memory stays flat and the counts (and the order of the floating-point sums) are the
same as in a local run.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, InputTypeError
from .chunks import Chunk, ChunkOptions, ChunkResult, detect_chunk
from .models import ModelSpec, portable_spec

__all__ = ["ChunkFailure", "check_executor", "executor_name", "is_dask_client", "run_chunks"]


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
    """Run :func:`~glider_plugins.glider.chunks.detect_chunk` on every ``(chunk, seed)``; yield in order.

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
