"""Realising masks as model inputs and querying the model, in streamed chunks.

Shared by local detection (:mod:`glider_plugins.explain.attribution`) and global detection: masks of N
instances go in, the model's score for every mask comes out, shape (N, n). Which rows are sent
(:func:`select_rows`: all-on rows answered by the instances' own scores, repeats once) and how
they are realised, in blocks whose random draws come from the instance's own stream, is here;
packing them into model calls is :mod:`.calls`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..layout import FeatureLayout
from ..perturbations.base import PerturbationScheme
from ..set_functions import mask_keys
from .calls import QueryPlan, call_count, score_calls
from .reproducibility import (
    ROW_ALIGN,
    background_generator,
    block_generator,
    default_rows_per_eval,
)

# ROW_ALIGN and default_rows_per_eval live in .reproducibility (the contract), QueryPlan in .calls; re-exported here
__all__ = [
    "ROW_ALIGN", "QueryPlan", "RowSelection", "default_rows_per_eval", "design_per_instance", "deterministic_scheme", "query_design",
    "query_masks", "select_rows",
]


def probe_instances(plan: QueryPlan) -> np.ndarray:
    """Score the unperturbed instances, shape (N,): checks target and output before a long run.

    Each instance's row sits at a multiple of :data:`~glider_plugins.explain.reproducibility.ROW_ALIGN` in the call (as the first row of
    its perturbations would), so its score is the same alone or in any batch.
    """
    inputs = plan.layout.inputs
    blocks = ((np.array([i]), i, tuple(a[i : i + 1] for a in inputs)) for i in range(plan.layout.n_instances))
    return score_calls(plan, blocks, np.empty(plan.layout.n_instances))


def query_masks(
    plan: QueryPlan,
    masks: np.ndarray,
    seeds: Sequence[np.random.SeedSequence],
    *,
    unperturbed: np.ndarray | None = None,
    show_progress: bool = False,
    dedupe: bool | None = None,
    selection: RowSelection | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Query the model on every mask row.

    Parameters
    ----------
    plan : QueryPlan
    masks : numpy.ndarray of bool, shape (N, n, p)
    seeds : sequence of numpy.random.SeedSequence, length N
        One per instance, for a scheme's random draws (background rows, noise): samples
        ``[b * B, (b + 1) * B)`` of instance ``i`` (``B = plan.rows_per_eval``) are realised in
        one ``perturb`` call with a generator from ``seeds[i]`` and ``b``, so what an instance's
        perturbed rows hold does not depend on the other instances in the batch.
    unperturbed : numpy.ndarray, shape (N,), optional
        Scores of the instances themselves; all-on rows reuse them instead of querying again.
    show_progress : bool
        A tqdm bar over the model calls.
    dedupe : bool, optional
        Query each distinct mask row of an instance once and copy its score to the repeats (LIME
        masks repeat often for small p: every all-off row, every single feature off, ...).
        Default: on when the perturbed input is a function of (instance, mask) alone
        (:func:`deterministic_scheme`); a scheme drawing background rows or noise per row is
        queried row by row.
    selection : RowSelection, optional
        :func:`select_rows` of these masks, ``unperturbed`` and ``dedupe`` (passes over the same
        masks, one per background row, select once); made here when not given.

    Returns
    -------
    outputs : numpy.ndarray of float64, shape (N, n)
    stats : dict
        ``n_queries`` (perturbed rows answered, the all-on rows aside), ``n_repeated`` (of those,
        rows answered from a repeat instead of the model; ``n_queries - n_repeated`` rows were
        sent to the model) and ``query_seconds``.
    """
    n_instances, n_samples, _ = masks.shape
    if len(seeds) != n_instances:
        raise ValueError(f"seeds: expected one per instance ({n_instances}), got {len(seeds)}")
    flat = masks.reshape(n_instances * n_samples, -1)
    outputs = np.empty(n_instances * n_samples, dtype=np.float64)
    start = time.perf_counter()
    selection = selection or select_rows(plan, masks, unperturbed is not None, dedupe)
    if unperturbed is not None:
        outputs[selection.full] = unperturbed[selection.full // n_samples]
    todo, inverse, n_answered = selection.todo, selection.copies, selection.n_answered
    step = max(1, int(plan.rows_per_eval))  # perturbation blocks (and their random streams)
    pieces = _instance_blocks(todo, n_samples, step)
    blocks = _perturbed(plan, flat, pieces, n_samples, step, seeds)
    score_calls(plan, blocks, outputs, show_progress, total=call_count(plan, [piece.size for piece in pieces]))
    n_repeated = 0
    if inverse is not None:
        targets, sources = inverse
        outputs[targets] = outputs[sources]
        n_repeated = int(targets.size)
    stats = {"n_queries": n_answered, "n_repeated": n_repeated, "query_seconds": time.perf_counter() - start}
    return outputs.reshape(n_instances, n_samples), stats


def query_design(
    plan: QueryPlan,
    detector: Any,
    masks: np.ndarray,
    seeds: Sequence[np.random.SeedSequence],
    *,
    unperturbed: np.ndarray,
    show_progress: bool,
) -> tuple[np.ndarray, dict[str, float]]:
    """Query the masks (:func:`~glider_plugins.explain.querying.query_masks`); with a background set and
    a detector that sets ``background_rows`` (both built-ins do), once per background row and
    averaged.

    Each of up to ``background_rows`` rows is the baseline of one pass over the masks, so the
    queries an instance's differences and fits combine share their background instead of each
    drawing its own row (``background_rows=None``: one random row per query, as the perturbation
    scheme draws it). More rows than that are drawn from the seed (the base
    seed every instance's sequence starts from, :func:`~glider_plugins.explain.reproducibility.instance_seeds`), the same for every
    instance. Outputs are the average over the rows; ``n_queries`` counts every pass.
    """
    layout = plan.layout
    rows_wanted = getattr(detector, "background_rows", None)
    if layout.background is None or not rows_wanted:
        return query_masks(plan, masks, seeds, unperturbed=unperturbed, show_progress=show_progress)
    count = layout.background[0].shape[0]
    rows = np.arange(count)
    if count > rows_wanted:
        rows = np.sort(background_generator(seeds).choice(count, rows_wanted, replace=False))
    total = np.zeros(masks.shape[:2])
    stats = {"n_queries": 0, "n_repeated": 0, "query_seconds": 0.0}
    selection = None  # the same rows every pass: a fixed background row makes the scheme's input a function of the mask
    for row in rows:
        fixed = replace(plan, layout=layout.with_background_row(int(row)))
        selection = selection or select_rows(fixed, masks, True)
        outputs, part = query_masks(fixed, masks, seeds, unperturbed=unperturbed, show_progress=show_progress, selection=selection)
        total += outputs
        for key in stats:
            stats[key] += part[key]
    stats["background_rows"] = int(rows.size)
    return total / rows.size, stats


def design_per_instance(
    detector: Any, layout: FeatureLayout, n_samples: int, scheme: PerturbationScheme, seeds: Sequence[np.random.SeedSequence]
) -> np.ndarray:
    """The masks (N, n, p) to query, instance ``i``'s drawn from ``seeds[i]`` (:func:`~glider_plugins.explain.reproducibility.instance_seeds`)."""
    return np.concatenate([
        detector.design(1, layout.n_features, n_samples, scheme, np.random.default_rng(sequence)) for sequence in seeds
    ])


def _instance_blocks(todo: np.ndarray, n_samples: int, step: int) -> list[np.ndarray]:
    """``todo`` (increasing) cut into blocks: one instance's rows among samples ``[b * step, (b + 1) * step)``."""
    instance, sample = np.divmod(todo, n_samples)
    block_id = instance * (n_samples // step + 1) + sample // step
    return np.split(todo, np.flatnonzero(np.diff(block_id)) + 1)


def _perturbed(
    plan: QueryPlan,
    flat: np.ndarray,
    blocks: Iterable[np.ndarray],
    n_samples: int,
    step: int,
    seeds: Sequence[np.random.SeedSequence],
) -> Iterator[tuple[np.ndarray, int, tuple[np.ndarray, ...]]]:
    """Each block of rows of ``flat`` (N * n, p), all of one instance, realised as model inputs
    in one ``perturb`` call, with a generator seeded from the instance and its block of samples.
    Yields ``(rows, instance, arrays)``."""
    for rows in blocks:
        if rows.size == 0:
            continue
        i, sample = divmod(int(rows[0]), n_samples)
        gen = block_generator(seeds[i], sample, step)
        yield rows, i, plan.scheme.perturb(plan.layout, flat[rows], np.full(rows.size, i), gen)


def deterministic_scheme(plan: QueryPlan) -> bool:
    """Whether a perturbed row depends only on its instance and mask (so repeats can be reused).

    True for a scheme that declares ``deterministic = True`` (every built-in one), unless the
    "off" values are drawn from a background set.
    """
    if plan.layout.background is not None:
        return False
    return bool(getattr(plan.scheme, "deterministic", None))


@dataclass(frozen=True)
class RowSelection:
    """Which of the flattened mask rows (N * n) :func:`query_masks` sends to the model."""

    full: np.ndarray  #: the all-on rows answered by the instances' own scores (empty without them)
    todo: np.ndarray  #: the rows to query, increasing
    copies: tuple[np.ndarray, np.ndarray] | None  #: repeated rows and the queried row each copies
    n_answered: int  #: the rows answered, repeats included (all but ``full``)


def select_rows(plan: QueryPlan, masks: np.ndarray, answer_full: bool, dedupe: bool | None = None) -> RowSelection:
    """The :class:`RowSelection` of ``masks`` (N, n, p): all but the all-on rows where
    ``answer_full`` (the instances' own scores answer them), each distinct (instance, mask) once
    where ``dedupe`` (default: :func:`deterministic_scheme`)."""
    n_instances, n_samples, _ = masks.shape
    flat = masks.reshape(n_instances * n_samples, -1)
    all_on = flat.all(axis=1) if answer_full else np.zeros(len(flat), dtype=bool)
    full, todo = np.flatnonzero(all_on), np.flatnonzero(~all_on)
    copies, n_answered = None, int(todo.size)
    if (deterministic_scheme(plan) if dedupe is None else dedupe) and todo.size:
        todo, copies = _distinct_rows(flat, todo // n_samples, todo)
    return RowSelection(full, todo, copies, n_answered)


def _distinct_rows(flat: np.ndarray, instance_ids: np.ndarray, todo: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The first of every distinct (instance, mask) among ``todo`` (``instance_ids`` of those
    rows), and where repeats copy from.

    Returns
    -------
    first : numpy.ndarray
        Row indices to query, increasing.
    copies : (targets, sources) or None
        Repeated rows and the queried row each copies; None when nothing repeats.
    """
    width = 8 * -(-flat.shape[1] // 8)  # the bits of a packed mask
    if width + int(instance_ids.max(initial=0)).bit_length() <= 64:  # (instance, mask) as one integer
        keys = (instance_ids.astype(np.uint64) << np.uint64(width)) | (mask_keys(flat[todo]) >> np.uint64(64 - width))
    else:
        packed = np.packbits(flat[todo], axis=1)
        keys = np.concatenate([instance_ids.astype("<i8").view(np.uint8).reshape(-1, 8), packed], axis=1)
        keys = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if first.size == todo.size:
        return todo, None
    source = todo[first][inverse.ravel()]
    repeat = source != todo
    return np.sort(todo[first]), (todo[repeat], source[repeat])
