"""The detector's step of an attribution: the budget and counts checked before any query
(:func:`check_counts`), the detector run on the instances whose output varies
(:func:`detect_varying`), and the constant ones reported (:func:`check_constant`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._checks import check_int, check_number
from ..errors import ConstantOutputError, ConstantOutputWarning, InputError
from ..results import LocalInteractions

__all__ = ["check_constant", "check_counts", "detect_varying"]


def check_counts(n_samples: int, n_features: int, detector: Any, max_order: int | None, top_k: int | None,
                  kernel_width: float | None, chosen: Any = None) -> None:
    """Refuse counts a run cannot keep: a budget below what ``detector`` must query (a budget is a
    promise: no detector queries more than ``n_samples`` per instance), named as the user chose it
    (``chosen``: ``"auto"`` before it resolved)."""
    if n_features < 2:
        raise InputError(f"feature_mask: found {n_features} interpretable feature(s); interactions need at least 2")
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool):
        raise InputError(f"n_samples must be an integer, got {type(n_samples).__name__}")
    if n_samples < detector.min_samples(n_features):
        named = chosen if chosen is not None else detector  # "auto" as the user chose it, not what it resolved to
        needed = named.min_samples(n_features)
        raise InputError(f"n_samples={n_samples} is too small for detector '{named.name}' with {n_features} features; "
                         f"it queries at least {needed} masks per instance: pass n_samples >= {needed}")
    if max_order is not None and (not isinstance(max_order, (int, np.integer)) or max_order < 2):
        raise InputError(f"max_order must be an integer >= 2 (2 = pairs only), got {max_order!r}")
    check_int("top_k", top_k, allow_none=True)
    if kernel_width is not None:
        check_number("kernel_width", kernel_width, low=0.0, low_open=True)


def detect_varying(detector: Any, masks: np.ndarray, outputs: np.ndarray, weights: np.ndarray | None, max_order: int | None, rng: np.random.Generator, show_progress: bool) -> list[LocalInteractions]:
    """Run the detector on the instances whose output varies; constant ones get empty results
    (``metadata["constant_output"]``, which :func:`check_constant` reports)."""
    spread = np.ptp(outputs, axis=1)
    scale = np.maximum(1.0, np.abs(outputs).max(axis=1))
    constant = spread <= 1e-9 * scale
    keep = np.flatnonzero(~constant)
    found = [] if keep.size == 0 else detector.detect(masks[keep], outputs[keep], None if weights is None else weights[keep], max_order=max_order, rng=rng, show_progress=show_progress)
    if len(found) != keep.size:
        raise RuntimeError(f"detector {detector!r} returned {len(found)} results for {keep.size} instances")
    p = masks.shape[2]
    results: list[LocalInteractions] = [  # a constant game: no effect but m(empty set), the output itself
        LocalInteractions([], np.zeros(p), np.zeros((p, p)), metadata={"constant_output": True}, signed_values={}, baseline_value=float(outputs[i, 0]))
        for i in range(outputs.shape[0])
    ]
    for index, item in zip(keep, found):
        results[index] = item
    return results


def check_constant(local: list[LocalInteractions]) -> None:
    """Raise :class:`ConstantOutputError` when no instance's output changed under perturbation,
    else warn naming those whose output did not (their results are empty)."""
    constant = [i for i, item in enumerate(local) if item.metadata.get("constant_output")]
    if constant and len(constant) == len(local):
        raise ConstantOutputError(
            "the model's output does not change under any perturbation of the given instances, so no interaction "
            "can be detected; check the baselines (are they equal to the inputs?), the target, and the feature_mask"
        )
    if constant:
        warnings.warn(
            f"the model's output is constant under perturbation for instance(s) {constant[:10]}; "
            "they get empty results (no interactions, zero main effects)",
            ConstantOutputWarning,
            stacklevel=4,
        )
