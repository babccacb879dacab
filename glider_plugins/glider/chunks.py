"""GLIDER's unit of work: a chunk of instances, explained in one batched call, then counted.

:func:`detect_chunk` is a top-level function of picklable arguments ``(spec, chunk, options,
seed)``, so chunks can be sent to an executor or recorded in a checkpoint unchanged; its
:class:`ChunkResult` holds only each instance's ``top_k`` interactions.
:class:`InteractionCounter` folds chunk results into counts and keeps no per-instance data.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..adapters.base import Static
from ..errors import ConstantOutputError, ConstantOutputWarning
from ..explain.formatting import InputInfo, format_extra, format_target
from ..layout import FeatureLayout
from ..results import GlobalInteractions
from .models import ModelSpec

__all__ = [
    "Chunk",
    "ChunkBuilder",
    "ChunkOptions",
    "ChunkResult",
    "InteractionCounter",
    "detect_chunk",
]

#: What GLIDER says when no instance's output changes (``attribute`` raises ConstantOutputError).
CONSTANT_ALL = "the model's output does not change under any perturbation"

FoundSets = list[tuple[tuple[int, ...], float]]


@dataclass(frozen=True)
class ChunkOptions:
    """Per-run settings of local detection, the same for every chunk."""

    n_samples: int
    top_k: int
    attribute_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    """The instances of one chunk: their slice of the run's formatted layout
    (:meth:`FeatureLayout.subset`), never formatted again, and their per-row arguments.

    ``info`` says how the user passed the data; ``target`` is formatted already (one entry per
    chunk row where it was per row) and ``additional_forward_args`` cut to the rows (Captum's rule).
    """

    index: int
    instance_ids: np.ndarray
    layout: FeatureLayout
    info: InputInfo
    target: Any = None
    additional_forward_args: Any = None


@dataclass
class ChunkResult:
    """What one chunk found: each instance's ``top_k`` interactions, and costs."""

    index: int
    instance_ids: np.ndarray
    interactions: list[FoundSets]
    constant: np.ndarray
    stats: dict[str, float]


def detect_chunk(spec: ModelSpec, chunk: Chunk, options: ChunkOptions, seed: int) -> ChunkResult:
    """Local detection on one chunk of instances: one batched ``attribute`` call.

    Parameters
    ----------
    spec : ModelSpec
        The model and the detector/perturbation to use.
    chunk : Chunk
        The chunk's instances (N_c rows) and their per-row arguments.
    options : ChunkOptions
        ``n_samples``, ``top_k`` and further ``attribute`` options.
    seed : int
        The detection seed passed to ``attribute`` (a GLIDER run gives every chunk the same one).

    Returns
    -------
    ChunkResult
        ``interactions[j]``: instance ``j``'s ``top_k`` interactions ``(feature_ids, strength)``;
        ``constant`` (N_c,) bool: instances whose output did not change under perturbation.
    """
    n = len(chunk.instance_ids)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantOutputWarning)  # counted from the result flags instead
        try:
            res = spec.attribution().attribute_layout(
                chunk.layout, chunk.info, target=chunk.target, additional_forward_args=chunk.additional_forward_args,
                n_samples=options.n_samples, top_k=options.top_k, seed=seed, show_progress=False, **options.attribute_options,
            )
        except ConstantOutputError:
            return ChunkResult(chunk.index, chunk.instance_ids, [[] for _ in range(n)], np.ones(n, bool), {"seconds": time.perf_counter() - start})
    constant = np.array([bool(item.metadata.get("constant_output")) for item in res], dtype=bool)
    stats = {key: float(res.metadata.get(key, 0.0)) for key in ("n_queries", "n_repeated", "design_seconds", "query_seconds", "detect_seconds", "fit_seconds",
                                                              "rank_seconds", "n_samples")}
    stats["seconds"] = time.perf_counter() - start
    found = [_informative(item.interactions, res.n_features) for item in res]
    return ChunkResult(chunk.index, chunk.instance_ids, found, constant, stats)


def _informative(interactions: FoundSets, n_features: int) -> FoundSets:
    """Drop the set of all features: it says nothing about which features act together (as the
    authors' GLIDER code does)."""
    return [(s, v) for s, v in interactions if len(s) < n_features]


class InteractionCounter:
    """Folds chunk results into counts; keeps no per-instance data (memory stays flat)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, ...], int] = {}
        self.strength_sums: dict[tuple[int, ...], float] = {}
        self.n_instances = 0
        self.n_constant = 0
        self.stats: dict[str, float] = {}

    def add(self, result: ChunkResult) -> None:
        """Count each interaction once per instance whose top_k holds it."""
        self.n_instances += len(result.instance_ids)
        self.n_constant += int(result.constant.sum())
        for found in result.interactions:
            for features, strength in found:
                self.counts[features] = self.counts.get(features, 0) + 1
                self.strength_sums[features] = self.strength_sums.get(features, 0.0) + strength
        for key, value in result.stats.items():
            self.stats[key] = max(self.stats.get(key, 0.0), value) if key == "n_samples" else self.stats.get(key, 0.0) + value

    def result(self, feature_names: list[str], metadata: dict[str, Any]) -> GlobalInteractions:
        mean = {s: self.strength_sums[s] / c for s, c in self.counts.items()}
        return GlobalInteractions(self.counts, mean, self.n_instances, feature_names, metadata)


class ChunkBuilder:
    """Cuts the formatted data (and every argument with one value per row) to a chunk's rows.

    Parameters
    ----------
    layout : FeatureLayout
        The data formatted once at the boundary (inputs, feature masks and baselines with a
        leading dimension of 1 or ``n_rows``).
    info : InputInfo
        How the data was passed.
    n_rows : int
        Rows of the data; arguments with this many rows are cut, others shared.
    target, extra : any
        ``target`` (a list with one per row is cut) and ``additional_forward_args`` (tensors
        with ``n_rows`` rows are cut, Captum's rule).
    """

    def __init__(self, layout: FeatureLayout, info: InputInfo, n_rows: int, target: Any, extra: Any) -> None:
        self.layout, self.info, self.n_rows = layout, info, n_rows
        self.target = format_target(target, n_rows, "row of data")
        self.extra = format_extra(extra, n_rows, "row of data")

    def chunks(self, rows: np.ndarray, size: int) -> Iterator[Chunk]:
        """The chunks of ``size`` instances over ``rows``, made one at a time."""
        for index, lo in enumerate(range(0, len(rows), size)):
            yield self.chunk(index, rows[lo : lo + size])

    def chunk(self, index: int, rows: np.ndarray) -> Chunk:
        """Chunk ``index`` holding the data rows ``rows`` (int array)."""
        shapes = tuple((len(rows), *shape[1:]) for shape in self.info.shapes)
        return Chunk(
            index=index,
            instance_ids=rows,
            layout=self.layout.subset(rows),
            info=dataclasses.replace(self.info, shapes=shapes),
            target=[self.target[i] for i in rows] if isinstance(self.target, list) else self.target,
            additional_forward_args=self._cut_extra(rows),
        )

    def _cut_extra(self, rows: np.ndarray) -> tuple[Any, ...]:
        """The formatted extra arguments for the chunk's rows: per-row arrays cut, shared ones kept."""
        return tuple(v if isinstance(v, Static) else v[rows] for v in self.extra)
