"""Glider: global interaction detection (GLIDER, Tsang et al., ICLR 2020) over many instances.

Data flow (one direction)::

    data --format once--> instances (all rows, or a seeded sample)
         --> chunks of instances --> detect_chunk(spec, chunk, options, seed)   (one batched
             InteractionAttribution.attribute_interactions call per chunk; keeps each instance's top_k)
         --> InteractionCounter (counts, strength sums; chunk results are dropped once counted)
         --> GlobalInteractions (ranked by count; subset pruning in ``top(K)``)

:func:`detect_chunk` is a top-level function of picklable arguments, so chunks run unchanged on
an executor (:mod:`glider_plugins.glider.executors`: any ``concurrent.futures.Executor`` or a Dask
``Client``; results are counted in chunk order, so the result equals the local run's) and are
stored in a checkpoint as they finish (:mod:`glider_plugins.glider.checkpoint`; a rerun resumes). Every seed comes from one
``numpy.random.Generator(seed)``: it samples the instances and draws one detection seed, which
every chunk gets. ``attribute`` draws an instance's masks from that seed and the instance's
content, and the detectors draw nothing per batch position, so an instance's local result, and
with it the global counts, do not depend on ``chunk_size``, the executor or the number of workers.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_int
from ..errors import InputError, ModelError
from ..explain.formatting import build_layout, format_target
from ..layout import FeatureLayout
from ..results import GlobalInteractions
from .checkpoint import Checkpoint, component_header, fingerprint, model_fingerprint
from .chunks import (
    CONSTANT_ALL,
    Chunk,
    ChunkBuilder,
    ChunkOptions,
    ChunkResult,
    InteractionCounter,
)
from .executors import ChunkFailure, check_executor, executor_name, run_chunks
from .models import ModelSpec

__all__ = ["Glider"]

#: Instances per batched local-detection call when ``chunk_size`` is not given.
DEFAULT_CHUNK_SIZE = 128


class Glider:
    r"""Which feature interactions a model uses across a data set (GLIDER's global detection).

    Runs local detection (MADEX, through :class:`~glider_plugins.InteractionAttribution`) on
    many instances, keeps each instance's ``top_k`` interactions, and counts in how many instances
    each interaction appears.

    Parameters
    ----------
    model : torch.nn.Module, keras.Model, ONNX model, callable, or ModelAdapter
        Anything :func:`~glider_plugins.adapters.adapt` accepts.
    detector : str or Detector, default "auto"
        ``"auto"`` (``"moebius"`` where ``n_samples`` fits sets of three, ArchDetect where only
        its p**2 + p + 2 queries fit, NID beyond; :mod:`~glider_plugins.detectors.auto`),
        ``"nid"`` (MADEX), ``"archdetect"``, ``"moebius"``, or any registered detector.
    perturbation : str or PerturbationScheme, default "binary"
    **adapter_options
        Passed to :func:`~glider_plugins.adapters.adapt` (``batch_size``, ``output``, ...).

    Examples
    --------
    >>> g = Glider(model).detect(X, n_instances=1000, top_k=10, n_samples=1000, seed=0)  # doctest: +SKIP
    >>> g.top(5)                 # [((2, 7), 812), ((0, 3, 9), 640), ...]
    >>> g.to_dataframe(k=20)     # features, names, order, count, frequency, mean_strength
    """

    def __init__(self, model: Any, detector: Any = "auto", perturbation: Any = "binary", **adapter_options: Any) -> None:
        self.spec = ModelSpec(model, detector, perturbation, dict(adapter_options))
        self.attribution = self.spec.attribution()  # unknown names and models fail here

    def detect(
        self,
        data: Any,
        n_instances: int | None = None,
        top_k: int = 100,
        n_samples: int = 1000,
        baselines: Any = None,
        feature_mask: Any = None,
        feature_names: Sequence[str] | None = None,
        seed: int | None = None,
        show_progress: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        target: Any = None,
        additional_forward_args: Any = None,
        executor: Any = None,
        checkpoint: str | os.PathLike | None = None,
        retries: int = 1,
        max_in_flight: int | None = None,
        **options: Any,
    ) -> GlobalInteractions:
        """Detect the interactions of every instance (or a sample) and count them.

        Parameters
        ----------
        data : array/tensor (N, ...), tuple or dict of them, or pandas.DataFrame (N, p)
            The instances, as ``InteractionAttribution.attribute_interactions`` takes ``inputs``; a DataFrame's
            columns are the features and name them.
        n_instances : int, optional
            Explain a seeded random sample of this many rows. Default: all rows. More than there
            are rows: a warning, and all rows are used.
        top_k : int, default 100
            Interactions kept per instance (its strongest) and counted.
        n_samples : int, default 1000
            Perturbations per instance.
        baselines, feature_mask, target, additional_forward_args
            As in ``InteractionAttribution.attribute_interactions``; per-row values are cut to each chunk.
        feature_names : sequence of str, optional
            Names of the p features (default: a DataFrame's columns, else ``x0, x1, ...``).
        seed : int, optional
            Seeds the one generator that samples the instances and draws the detection seed
            every chunk uses.
        show_progress : bool, default False
            A tqdm bar advancing one chunk at a time (off by default, as Captum's
            ``show_progress``; the ``glider`` CLI turns it on).
        chunk_size : int, default 128
            Instances per batched local-detection call (memory grows with it). The result does
            not depend on it: every chunk uses the same detection seed, and an instance's result
            depends only on that seed and its content.
        executor : concurrent.futures.Executor or dask.distributed.Client, optional
            Explain chunks in parallel. The model is sent in a portable form (ONNX bytes,
            TorchScript bytes, a pickled module or callable, or a
            :class:`~glider_plugins.glider.models.ModelFactory` rebuilt on each worker); a Dask
            ``Client`` receives it once (scattered to every worker), each task only its chunk.
            The result equals the local run's for the same ``seed``. Give a
            ``ProcessPoolExecutor`` ``mp_context=multiprocessing.get_context("spawn")``: forking
            a process that already runs onnxruntime/torch threads can hang the children.
        checkpoint : str or os.PathLike, optional
            A folder where each finished chunk's results are stored atomically
            (:class:`~glider_plugins.glider.checkpoint.Checkpoint`). Rerunning with the same folder,
            data and settings resumes: stored chunks are loaded, not recomputed, and the result
            equals an uninterrupted run's. Different settings are refused. Needs ``seed``.
        retries : int, default 1
            Further tries of a chunk whose model call raised. A chunk failing every try is left
            out: a warning and ``metadata["failed_chunks"]`` name its instance ids, and the run
            completes on the other chunks (it raises when every chunk fails).
        max_in_flight : int, optional
            With an executor, chunks submitted ahead of the one being counted (default: twice
            the workers); bounds memory.
        **options
            Further ``attribute`` options (``perturbations_per_eval``, ``max_order``,
            ``kernel_width``) and detector options (``hidden_units``, ``cutoff``, ...).

        Returns
        -------
        GlobalInteractions
        """
        start = time.perf_counter()
        check_int("top_k", top_k)
        check_int("chunk_size", chunk_size)
        check_int("n_samples", n_samples)
        check_int("seed", seed, 0, allow_none=True)
        check_int("n_instances", n_instances, allow_none=True)
        check_executor(executor)
        if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
            raise InputError(f"retries must be a non-negative integer, got {retries!r}")
        if max_in_flight is not None:
            check_int("max_in_flight", max_in_flight)
        if checkpoint is not None and seed is None:
            raise InputError("checkpoint: a resumable run needs a seed (the sampled instances and the detection seed come from it); pass seed=...")
        layout, info = build_layout(data, baselines, feature_mask, feature_names, what="data")
        rng = np.random.default_rng(seed)
        rows = _choose_rows(layout.n_instances, n_instances, rng)
        detect_seed = int(rng.integers(0, 2**63 - 1))
        target = format_target(target, layout.n_instances, "row of data")
        builder = ChunkBuilder(layout, info, layout.n_instances, target, additional_forward_args)
        options_ = ChunkOptions(int(n_samples), int(top_k), dict(options))
        store = None
        if checkpoint is not None:
            header = self._header(layout, rows, seed, n_instances, chunk_size, options_, target, additional_forward_args)
            store = Checkpoint(checkpoint, header, n_features=layout.n_features)
        run = _Run(InteractionCounter())
        self._run(run, builder.chunks(rows, chunk_size), options_, detect_seed, len(rows), show_progress, executor, store, int(retries), max_in_flight)
        counter = run.counter
        if run.failures:
            _report_failures(run.failures, counter)
        _check_constant(counter)
        metadata = self._metadata(counter, options_, seed, detect_seed, chunk_size, rows, layout.n_instances, n_instances, start)
        metadata.update(
            executor=executor_name(executor),
            checkpoint=None if checkpoint is None else str(checkpoint),
            resumed_chunks=run.resumed,
            failed_chunks=[f.as_dict() for f in run.failures],
        )
        return counter.result(list(layout.feature_names or []), metadata)

    def _run(
        self,
        run: _Run,
        chunks: Iterator[Chunk],
        options: ChunkOptions,
        detect_seed: int,
        total: int,
        show_progress: bool,
        executor: Any,
        store: Checkpoint | None,
        retries: int,
        max_in_flight: int | None,
    ) -> None:
        """Explain the chunks (made lazily) with ``detect_seed``, locally or on ``executor``, and
        count each in chunk order.

        Chunks already in ``store`` are loaded instead; new results are stored as they finish.
        """
        done = store.done() if store is not None else set()
        bar = _progress_bar(total, show_progress)

        def todo() -> Iterator[tuple[Chunk, int]]:
            for chunk in chunks:
                if chunk.index in done:
                    run.loaded[chunk.index] = store.load(chunk.index, chunk.instance_ids)  # type: ignore[union-attr]
                    continue
                yield chunk, detect_seed

        def count(result: ChunkResult) -> None:
            run.counter.add(result)
            if bar is not None:
                bar.update(len(result.instance_ids))

        def flush_loaded(below: int | None) -> None:
            for index in sorted(run.loaded):
                if below is None or index < below:
                    count(run.loaded.pop(index))
                    run.resumed += 1

        for outcome in run_chunks(self.spec, todo(), options, executor, retries=retries, max_in_flight=max_in_flight):
            flush_loaded(outcome.index)  # stored chunks before this one: count in chunk order
            if isinstance(outcome, ChunkFailure):
                run.failures.append(outcome)
                continue
            if store is not None:
                store.save(outcome)
            count(outcome)
        flush_loaded(None)
        if bar is not None:
            bar.close()

    def _header(self, layout: FeatureLayout, rows: np.ndarray, seed: int | None, n_instances: int | None, chunk_size: int, options: ChunkOptions, target: Any, extra: Any) -> dict[str, Any]:
        """What identifies a run in its checkpoint: settings, seed, and fingerprints of data and model."""
        data = fingerprint(layout.inputs, layout.baselines, layout.background, layout.feature_mask, rows)
        return {
            "seed": seed,
            "n_instances": n_instances,
            "chunk_size": chunk_size,
            "n_samples": options.n_samples,
            "top_k": options.top_k,
            "options": {k: repr(v) for k, v in sorted(options.attribute_options.items())},
            "detector": component_header(self.spec.detector, _name),
            "perturbation": component_header(self.spec.perturbation, _name),
            "adapter_options": {k: repr(v) for k, v in sorted(self.spec.adapter_options.items())},
            "model": model_fingerprint(self.spec.model),
            "data": data,
            "target": repr(target),
            "additional_forward_args": None if extra is None else fingerprint(_as_arrays(extra)),
            "feature_names": list(layout.feature_names or []),
        }

    def _metadata(self, counter: InteractionCounter, options: ChunkOptions, seed: int | None, detect_seed: int, chunk_size: int, rows: np.ndarray, n_rows: int, n_instances: int | None, start: float) -> dict[str, Any]:
        ia = self.attribution
        return {
            "detector": _name(self.spec.detector),
            "perturbation": _name(ia.perturbation),
            "framework": ia.adapter.framework,
            "n_samples": int(counter.stats.get("n_samples", options.n_samples)),
            "top_k": options.top_k,
            "seed": seed,
            "chunk_size": chunk_size,
            "detect_seed": detect_seed,
            "n_rows": n_rows,
            "instance_ids": rows.tolist() if n_instances is not None else None,
            "n_constant": counter.n_constant,
            "options": {k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in options.attribute_options.items()},
            "n_queries": int(counter.stats.get("n_queries", 0)),
            "n_repeated": int(counter.stats.get("n_repeated", 0)),
            "design_seconds": counter.stats.get("design_seconds", 0.0),
            "query_seconds": counter.stats.get("query_seconds", 0.0),
            "detect_seconds": counter.stats.get("detect_seconds", 0.0),
            "fit_seconds": counter.stats.get("fit_seconds", 0.0),
            "rank_seconds": counter.stats.get("rank_seconds", 0.0),
            "total_seconds": time.perf_counter() - start,
        }

    def __repr__(self) -> str:
        return f"Glider(model={type(self.spec.model).__name__}, detector={_name(self.spec.detector)!r})"


@dataclass
class _Run:
    """State of one ``detect`` call: the counter, failures and loaded chunks."""

    counter: InteractionCounter
    failures: list[ChunkFailure] = field(default_factory=list)
    loaded: dict[int, ChunkResult] = field(default_factory=dict)
    resumed: int = 0


def _report_failures(failures: list[ChunkFailure], counter: InteractionCounter) -> None:
    ids = [i for f in failures for i in f.instance_ids]
    if counter.n_instances == 0:
        raise ModelError(f"every chunk failed (instances {ids[:20]}{' ...' if len(ids) > 20 else ''}); first error: {failures[0].error}")
    warnings.warn(
        f"{len(failures)} chunk(s) failed after {failures[0].attempts} tries and were left out: instances "
        f"{ids[:20]}{' ...' if len(ids) > 20 else ''} (all in metadata['failed_chunks']); first error: {failures[0].error}",
        RuntimeWarning,
        stacklevel=3,
    )


def _as_arrays(extra: Any) -> Any:
    values = extra if isinstance(extra, tuple) else (extra,)
    return tuple(np.asarray(v.detach().cpu() if hasattr(v, "detach") else v) if hasattr(v, "shape") else np.asarray(repr(v)) for v in values)


def _choose_rows(n_rows: int, n_instances: int | None, rng: np.random.Generator) -> np.ndarray:
    if n_instances is None:
        return np.arange(n_rows)
    check_int("n_instances", n_instances)
    if n_instances >= n_rows:
        if n_instances > n_rows:
            warnings.warn(f"n_instances={n_instances} is more than the {n_rows} rows of data; explaining all {n_rows}", UserWarning, stacklevel=3)
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=int(n_instances), replace=False))


def _check_constant(counter: InteractionCounter) -> None:
    if counter.n_constant == counter.n_instances:
        raise InputError(f"{CONSTANT_ALL} of data, so no interaction can be detected; check the baselines, the target and the feature_mask")
    if counter.n_constant:
        warnings.warn(f"the model's output is constant under perturbation for {counter.n_constant} of {counter.n_instances} instances; they count as instances without interactions", RuntimeWarning, stacklevel=3)


def _progress_bar(total: int, show: bool):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="GLIDER", unit="instance")


def _name(thing: Any) -> str:
    return thing if isinstance(thing, str) else str(getattr(thing, "name", "") or type(thing).__name__)
