"""The reproducibility contract: what makes an instance's result the same alone, in any batch,
chunk, executor or resumed run, for the same seed.

* **Instance seeds** (:func:`instance_seeds`): every random draw for an instance comes from a
  sequence seeded by ``(seed, the instance's content)``, not by its position in the batch.
* **Block streams** (:func:`block_generator`): the values an instance's perturbed rows draw (a
  background row, noise) come from a generator spawned from its sequence and the block of
  samples, ``sample // rows_per_eval``; the background rows a detector pairs its queries with,
  from the base seed (:func:`background_generator`).
* **Row alignment** (:data:`ROW_ALIGN`, :func:`row_alignment`): every instance's rows start at a
  multiple of 16 rows in a model call, so grouped compute kernels see each row at the same place
  modulo 16 alone or in any batch.
* **Rows per block and per call** (:func:`default_rows_per_eval`, :func:`default_call_rows`,
  :func:`call_rows`): blocks of about :data:`CHUNK_BYTES` of inputs (their random streams), calls
  of about :data:`CALL_BYTES` (speed only) or the ``perturbations_per_eval`` a caller gives, and
  never more than the adapter's own chunk size, so the adapter does not cut a call off the
  alignment. Within that, the default's rows per call are tuned to the model on the calls a run
  makes anyway (:class:`~glider_plugins.explain.calls.CallSizes`): speed only, since the
  alignment holds at any size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_int

__all__ = [
    "CALL_BYTES", "CHUNK_BYTES", "MAX_CALL_ROWS", "MAX_ROWS_PER_CALL", "MIN_ROWS_PER_CALL", "ROW_ALIGN", "background_generator",
    "block_generator", "call_rows", "default_call_rows", "default_rows_per_eval", "instance_seeds", "query_rows", "row_alignment",
]

#: An instance's perturbed rows are realised in blocks of ``rows_per_eval`` samples, each block
#: drawing its random values (a background row, noise) from its own stream
#: (:func:`block_generator`); by default a block holds about this many bytes of inputs ...
CHUNK_BYTES = 64 * 2**20
#: ... and between these many rows (the names of the release in which a block was also a model
#: call; the random streams of the schemes that draw depend on them, so they stay as they were:
#: a larger block, 16384, was slower per row).
MIN_ROWS_PER_CALL, MAX_ROWS_PER_CALL = 64, 2048
#: A model call holds about this many bytes of inputs by default (:func:`default_call_rows`),
#: between :data:`MIN_ROWS_PER_CALL` and :data:`MAX_CALL_ROWS` rows: speed only, no result
#: depends on it. Calls of more rows are slower per row once a small model's activations leave
#: the cache. One thread, idle machine, ``auto``'s queries per row (median of 3 interleaved runs)
#: at 2048 / 1024 / 512 / 256 rows a call: the digits CNN (256 bytes a row), 1000 queries 21.6 /
#: 17.2 / 17.0 / 18.1 ms, with a background at 300 queries 132.6 / 94.3 / 95.9 / 103.8 ms; the
#: review GRU 8.3 / 7.7 / 8.2 / 9.5 and 44.3 / 44.4 / 48.0 / 59.2; the review CNN 10.5 / 9.8 /
#: 10.5 / 11.5 and 65.8 / 59.0 / 62.9 / 71.0; the emotion CNN (Keras, 48 x 48 faces, 9 KiB a row)
#: at 300 queries at 1024 / 512 / 256 / 128 / 64 / 32 rows 267 / 255 / 226 / 203 / 195 / 187 ms.
CALL_BYTES = 512 * 2**10
#: The most rows of a model call by default.
MAX_CALL_ROWS = 1024

#: Every instance's rows start at a multiple of this many rows within a model call (a few
#: copies of its last row fill the gap). Compute libraries treat rows in small groups, and a
#: row's score can differ in the last bit with its place in a group: onnxruntime scores some rows
#: of a 400-400-400 DeepFM differently at odd and even positions. Aligned, a row sits at the same
#: place modulo 16 alone or in any batch, so an instance scores, and ranks, the same either way.
ROW_ALIGN = 16


def default_rows_per_eval(layout: Any) -> int:
    """Rows per perturbation block, so that one block of perturbed inputs stays near :data:`CHUNK_BYTES`."""
    return int(np.clip(CHUNK_BYTES // _row_bytes(layout), MIN_ROWS_PER_CALL, MAX_ROWS_PER_CALL))


def default_call_rows(layout: Any) -> int:
    """Rows per model call by default, so that one call's inputs stay near :data:`CALL_BYTES`."""
    return int(np.clip(CALL_BYTES // _row_bytes(layout), MIN_ROWS_PER_CALL, MAX_CALL_ROWS))


def query_rows(layout: Any, perturbations_per_eval: int | None) -> tuple[int, int | None]:
    """The rows of a perturbation block and the most rows of a model call: the defaults
    (:func:`default_rows_per_eval`, :func:`default_call_rows`), or ``perturbations_per_eval`` for
    both where the caller gives it (then ``None`` for the call: as many as the block)."""
    if perturbations_per_eval is None:
        return default_rows_per_eval(layout), default_call_rows(layout)
    check_int("perturbations_per_eval", perturbations_per_eval)
    return int(perturbations_per_eval), None


def _row_bytes(layout: Any) -> int:
    return max(sum(int(np.prod(a.shape[1:], dtype=np.int64)) * a.dtype.itemsize for a in layout.inputs), 1)


def call_rows(rows_per_eval: int, adapter_chunk: int | None) -> int:
    """Rows per model call: ``rows_per_eval``, at most the adapter's own chunk size (its
    ``batch_size`` or fixed batch dimension). The adapter then never cuts a call, so rows keep
    the places modulo :data:`ROW_ALIGN` they were given (a ``batch_size`` of 100 would otherwise
    cut at 100, 200, ...: off the alignment)."""
    step = max(1, int(rows_per_eval))
    return step if adapter_chunk is None else max(1, min(step, int(adapter_chunk)))


def row_alignment(step: int) -> int:
    """The row alignment for calls of at most ``step`` rows: :data:`ROW_ALIGN`, or 1 below it."""
    return ROW_ALIGN if step >= ROW_ALIGN else 1


def instance_seeds(layout: Any, seed: int | None, rng: np.random.Generator) -> list[np.random.SeedSequence]:
    """One seed sequence per instance, from ``(seed, its content)`` (:meth:`FeatureLayout.instance_keys`).

    Every random draw made for an instance (its masks, the values its perturbed rows take) comes
    from its own sequence, so it depends on the seed and the instance only, not on the other
    instances in the batch or its position: explaining it alone or in any batch queries the same
    perturbed inputs. Without a seed, a fresh base seed is drawn from ``rng``.
    """
    base = int(rng.integers(0, 2**63 - 1)) if seed is None else int(seed)
    return [np.random.SeedSequence([base, int(key)]) for key in layout.instance_keys()]


def block_generator(sequence: np.random.SeedSequence, sample: int, rows_per_eval: int) -> np.random.Generator:
    """The generator of the perturbed rows of one instance's block of samples."""
    return np.random.default_rng(np.random.SeedSequence(sequence.entropy, spawn_key=(1, sample // rows_per_eval)))


def background_generator(seeds: Any) -> np.random.Generator:
    """The generator choosing the background rows a detector pairs its queries with: from the
    base seed every instance's sequence starts from, the same for every instance."""
    base = int(seeds[0].entropy[0]) if len(seeds) else 0
    return np.random.default_rng(np.random.SeedSequence(base, spawn_key=(3,)))
