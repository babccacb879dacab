"""Model calls: instances' perturbed rows packed into calls of the model, each instance's rows at
a multiple of :data:`~glider_plugins.explain.reproducibility.ROW_ALIGN` within its call, of as
many rows as the plan allows or the model's tuned size
(:class:`CallSizes`), and scored.

:class:`QueryPlan` holds what a call needs (adapter, layout, scheme, target, extra arguments, rows
per block and per call); :func:`score_calls` answers blocks of rows with it (:mod:`.querying`
realises the blocks).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..adapters.base import ModelAdapter, Static, TargetType
from ..errors import InputError, NonFiniteOutputError
from ..layout import FeatureLayout
from ..perturbations.base import PerturbationScheme
from .reproducibility import MIN_ROWS_PER_CALL, call_rows, row_alignment

__all__ = ["CALL_SIZE_TRIALS", "CallSizes", "QueryPlan", "call_count", "call_sizes", "plan_call_rows", "score_calls"]


@dataclass
class QueryPlan:
    """Everything needed to turn mask rows into model calls, fixed for one attribution call."""

    adapter: ModelAdapter
    layout: FeatureLayout
    scheme: PerturbationScheme
    target: TargetType = None
    additional_forward_args: tuple[Any, ...] = ()
    rows_per_eval: int = 1024
    #: The most rows of a model call (speed only); ``None``: ``rows_per_eval``.
    rows_per_call: int | None = None

    def model_inputs(self, arrays: tuple[np.ndarray, ...], instance_ids: np.ndarray) -> Any:
        """Arrange perturbed arrays (and expanded extra arguments) the way the user passed inputs."""
        extras = tuple(_expand_extra(a, instance_ids) for a in self.additional_forward_args)
        if self.layout.input_names is not None:
            if extras:
                raise InputError("additional_forward_args: cannot be combined with dict inputs; put them in the dict")
            return dict(zip(self.layout.input_names, arrays))
        return tuple(arrays) + extras

    def target_for(self, instance_ids: np.ndarray) -> TargetType:
        """The target of each row: per-instance targets are expanded to the rows; none given: the
        adapter's own (``InteractionAttribution(model, target=...)``)."""
        if self.target is None:
            return "default"
        if isinstance(self.target, (int, np.integer, tuple)):
            return self.target
        per_instance = list(self.target)
        return [per_instance[i] for i in instance_ids]

    def score(self, arrays: tuple[np.ndarray, ...], instance_ids: np.ndarray) -> np.ndarray:
        return self.adapter(self.model_inputs(arrays, instance_ids), target=self.target_for(instance_ids))


def score_calls(
    plan: QueryPlan,
    blocks: Iterable[tuple[np.ndarray, int, tuple[np.ndarray, ...]]],
    out: np.ndarray,
    show_progress: bool = False,
    total: int | None = None,
) -> np.ndarray:
    """Score instance blocks ``(rows, instance, arrays)`` in aligned calls (:func:`_model_calls`) into
    ``out[rows]``: of the rows the plan allows, or, where it leaves the call size to the default, of
    the rows the model's :func:`call_sizes` tunes."""
    step, align, tuned = _call_sizes(plan)
    calls = _model_calls(blocks, (lambda: step) if tuned is None else tuned.next, align)
    for size, rows, ids, arrays in _progress(calls, show_progress, "model queries", total=total):
        real = rows >= 0
        start = time.perf_counter()
        try:
            scores = plan.score(arrays, ids)
        except NonFiniteOutputError as exc:
            raise _non_finite(plan, ids, real, exc) from exc
        if tuned is not None:
            tuned.record(size, rows.size, time.perf_counter() - start)
        out[rows[real]] = scores[real]
    return out


def _non_finite(plan: QueryPlan, ids: np.ndarray, real: np.ndarray, exc: NonFiniteOutputError) -> Exception:
    """The adapter's NaN/inf report in the user's terms: which instances, and whether their own
    inputs hold NaN/inf (then an InputError naming ``inputs``)."""
    bad = np.zeros(ids.size, dtype=bool)
    if exc.rows is not None:
        bad[np.asarray(exc.rows, dtype=np.int64)] = True
    instances = sorted({int(i) for i in ids[bad & real]}) if exc.rows is not None else sorted({int(i) for i in ids})
    held = [i for i in instances if any(np.issubdtype(a.dtype, np.floating) and not np.isfinite(a[i]).all() for a in plan.layout.inputs)]
    shown = f"{held[:10]}{' ...' if len(held) > 10 else ''}"
    if held:
        return InputError(f"inputs: instance(s) {shown} hold NaN or infinite values and the model's scores of them are not "
                          "finite; fill them first, or pass check_finite=False to the model adapter if NaN is a value it handles")
    return NonFiniteOutputError(f"the {plan.adapter.framework} model returned non-finite scores (NaN or inf) for perturbations of "
                                f"instance(s) {instances[:10]}{' ...' if len(instances) > 10 else ''}; check the baselines and "
                                "the perturbation scheme, or pass check_finite=False to the model adapter", rows=exc.rows)


def call_count(plan: QueryPlan, block_rows: Iterable[int]) -> int:
    """How many calls :func:`score_calls` makes for blocks of these many rows, each padded to the
    alignment (while the model's call size is being tuned: the fewest, all at its largest size)."""
    step, align, tuned = _call_sizes(plan)
    padded = sum(-(-rows // align) * align for rows in block_rows)
    per_call = step - step % align if tuned is None else tuned.chosen or max(tuned.sizes)
    return -(-padded // per_call)


def _call_sizes(plan: QueryPlan) -> tuple[int, int, CallSizes | None]:
    """The most rows of a call the plan allows, their alignment, and the model's :class:`CallSizes`
    where the plan leaves the size to the default (``None`` where the caller fixed it)."""
    step = plan_call_rows(plan)
    align = row_alignment(step)
    return step, align, (call_sizes(plan.adapter, step, align) if plan.rows_per_call is not None else None)


def plan_call_rows(plan: QueryPlan) -> int:
    """:func:`~glider_plugins.explain.reproducibility.call_rows` for this plan's adapter."""
    wanted = plan.rows_per_eval if plan.rows_per_call is None else min(plan.rows_per_eval, plan.rows_per_call)
    return call_rows(wanted, plan.adapter.chunk_size())


def _model_calls(
    blocks: Iterable[tuple[np.ndarray, int, tuple[np.ndarray, ...]]], sizes: Callable[[], int], align: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]]:
    """Pack instance blocks into model calls of at most ``sizes()`` rows (asked at the start of
    each call), each block starting at a multiple of ``align`` within its call.

    A block is padded with copies of its last row up to a multiple of ``align`` (row index -1:
    their scores are dropped) and split across calls only at multiples of ``align``, so every
    row sits at the same position modulo ``align`` alone or in any batch (see
    :data:`~glider_plugins.explain.reproducibility.ROW_ALIGN`). Yields ``(size asked, rows, instance
    ids, arrays)``.
    """

    def asked() -> int:
        wanted = max(1, int(sizes()))
        return wanted - wanted % align if wanted >= align else wanted

    size = asked()
    rows_held: list[np.ndarray] = []
    ids_held: list[np.ndarray] = []
    arrays_held: list[tuple[np.ndarray, ...]] = []
    held = 0
    for rows, instance, arrays in blocks:
        pad = -rows.size % align
        if pad:
            rows = np.concatenate([rows, np.full(pad, -1)])
            arrays = tuple(np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]) for a in arrays)
        while rows.size:
            take = min(size - held, rows.size)
            rows_held.append(rows[:take])
            ids_held.append(np.full(take, instance))
            arrays_held.append(tuple(a[:take] for a in arrays))
            held += take
            rows, arrays = rows[take:], tuple(a[take:] for a in arrays)
            if held == size:
                yield size, *_joined(rows_held, ids_held, arrays_held)
                rows_held, ids_held, arrays_held, held = [], [], [], 0
                size = asked()
    if held:
        yield size, *_joined(rows_held, ids_held, arrays_held)


def _joined(
    rows: list[np.ndarray], ids: list[np.ndarray], arrays: list[tuple[np.ndarray, ...]]
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    if len(rows) == 1:
        return rows[0], ids[0], arrays[0]
    return np.concatenate(rows), np.concatenate(ids), tuple(np.concatenate(parts) for parts in zip(*arrays, strict=True))


def _expand_extra(value: Any, instance_ids: np.ndarray) -> Any:
    """A formatted extra argument (:func:`~glider_plugins.explain.formatting.format_extra`) for the rows of
    ``instance_ids``: per-row arrays expanded to one row per perturbation, shared values as they are."""
    return value if isinstance(value, Static) else value[instance_ids]


def _progress(iterable: Iterable[Any], show: bool, desc: str, total: int | None = None) -> Iterable[Any]:
    """A tqdm bar over ``iterable`` when ``show``, unless it is known to be one step (a bar that
    jumps from 0 to 1 says nothing)."""
    if not show or (total is not None and total <= 1):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, unit="batch", total=total)


#: Full calls timed at each candidate size before :class:`CallSizes` keeps the fastest.
CALL_SIZE_TRIALS = 3


class CallSizes:
    """Rows per model call for one model, tuned on its calls: the largest size the run allows
    (``cap``), half and a quarter of it (multiples of ``align``, at least
    :data:`~glider_plugins.explain.reproducibility.MIN_ROWS_PER_CALL`) take turns until each has
    answered :data:`CALL_SIZE_TRIALS` full calls (after its first, which sets up the model's
    buffers), then the one with the least median time per row is kept. How many rows a call holds is speed only: every instance's rows keep
    their places modulo the alignment at any size, so no score, and no result, depends on it.
    Measured: a small CNN on 8x8 digits answers 512-row calls 15-25 % faster per row than
    1024-row ones, an MLP served by onnxruntime 10-25 % slower; input bytes alone
    (:data:`~glider_plugins.explain.reproducibility.CALL_BYTES`) cannot tell them apart.

    Parameters
    ----------
    cap : int
        The most rows of a call.
    align : int
        Calls hold a multiple of this many rows
        (:func:`~glider_plugins.explain.reproducibility.row_alignment`).
    """

    def __init__(self, cap: int, align: int) -> None:
        def aligned(size: int) -> int:
            return size - size % align if size >= align else size

        self.sizes = sorted({aligned(min(max(int(cap) // share, MIN_ROWS_PER_CALL), int(cap))) for share in (4, 2, 1)})
        self.chosen: int | None = self.sizes[0] if len(self.sizes) == 1 else None
        self._per_row: dict[int, list[float]] = {size: [] for size in self.sizes}
        self._warm: set[int] = set()  # sizes called once already: a size's first call (buffers set up) is not timed
        self._lock = threading.Lock()

    def next(self) -> int:
        """The size of the next call: the kept one, or the candidate timed least so far."""
        with self._lock:
            if self.chosen is not None:
                return self.chosen
            return min(self.sizes, key=lambda size: (len(self._per_row[size]), -size))

    def record(self, size: int, rows: int, seconds: float) -> None:
        """Time of a call of ``rows`` rows asked as ``size``: counted when the call was full."""
        with self._lock:
            if self.chosen is not None or rows != size or size not in self._per_row:
                return
            if size not in self._warm:
                self._warm.add(size)
                return
            self._per_row[size].append(seconds / rows)
            if all(len(times) >= CALL_SIZE_TRIALS for times in self._per_row.values()):
                self.chosen = min(self.sizes, key=lambda s: (float(np.median(self._per_row[s])), -s))


_tuned: weakref.WeakKeyDictionary[Any, dict[tuple[int, int], CallSizes]] = weakref.WeakKeyDictionary()
_tuned_lock = threading.Lock()


def call_sizes(adapter: Any, cap: int, align: int) -> CallSizes:
    """The :class:`CallSizes` of the model behind ``adapter`` (its function, model or session:
    kept across explainers of the same model, for as long as it lives; the adapter's own where
    the model cannot be held weakly, a fresh one where neither can) for calls of at most ``cap``
    rows aligned to ``align``."""
    owner = next((held for held in (getattr(adapter, name, None) for name in ("func", "model", "session")) if held is not None), adapter)
    with _tuned_lock:
        for holder in (owner, adapter):
            try:
                return _tuned.setdefault(holder, {}).setdefault((int(cap), int(align)), CallSizes(cap, align))
            except TypeError:  # not hashable or not weakly referable: the adapter, else this call's own
                continue
        return CallSizes(cap, align)
