"""Turning a model's raw scores into one score per row: logits/probabilities and Captum's target.

Also :func:`maps_to_array`, which reads a classifier's "sequence of maps" output (one dict
class -> probability per row, what a default skl2onnx export's ZipMap gives) as an (N, K) array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from ..errors import InputError, ModelError

__all__ = ["OUTPUT_KINDS", "TargetType", "convert_output", "maps_to_array", "select_target"]

#: Captum's target: None, an output column, an index tuple into the output, or one of those per row.
TargetType = Union[None, int, tuple[int, ...], Sequence[int], np.ndarray]
#: What ``output=`` and ``model_output=`` accept.
OUTPUT_KINDS = ("logits", "probabilities")


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def convert_output(scores: np.ndarray, output: str | None, model_output: str) -> np.ndarray:
    """Turn the model's scores into ``output`` ("logits" or "probabilities").

    A model with one score per row is treated as binary (sigmoid / log-odds); several scores per row
    as classes along the last axis: softmax, or back to logits. Two class probabilities give each
    class's log-odds against the other (``log p_k - log p_other``: a binary classifier's logit, the
    logit difference of a softmax model); more give log-probabilities (logits up to a constant per
    row). A probability that is exactly 0 or 1 in the model's precision (a saturated tree
    ensemble's, in float32) becomes the nearest one that precision tells from it (its smallest
    normal number, ``1 - epsneg``), so that log-odds stay finite: at most about 87.3 in float32
    (16.6 toward a single score's 1).
    """
    if output is None or output == model_output:
        return scores
    single = scores.ndim == 1 or scores.shape[-1] == 1
    precision = np.finfo(scores.dtype if np.issubdtype(scores.dtype, np.floating) else np.float64)
    scores = scores.astype(np.float64, copy=False)
    if output == "probabilities":  # model gives logits
        return _sigmoid(scores) if single else _softmax(scores)
    if single:
        scores = np.clip(scores, float(precision.tiny), 1.0 - float(precision.epsneg))
        return np.log(scores) - np.log1p(-scores)
    log_p = np.log(np.maximum(scores, float(precision.tiny)))
    return log_p - log_p[..., ::-1] if scores.shape[-1] == 2 else log_p


def select_target(scores: np.ndarray, target: TargetType) -> np.ndarray:
    """Select one score per row, with Captum's meaning of ``target``.

    Parameters
    ----------
    scores : numpy.ndarray, shape (N, ...)
        The model's output for N rows.
    target : None, int, tuple of int, or a sequence of those with one entry per row
        ``None`` for a model with a single output per row; an int picks a column of an (N, K)
        output; a tuple indexes an (N, K1, K2, ...) output; a list/array of length N gives each
        row its own target.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Raises
    ------
    InputError
        When ``target`` does not fit the output's shape; the message says which shapes fit.
    """
    n = scores.shape[0]
    per_row = scores.reshape(n, -1) if scores.ndim > 1 else scores
    if target is None:
        if scores.ndim == 1:
            return scores
        if per_row.shape[1] == 1:
            return per_row[:, 0]
        raise InputError(
            f"target: the model returns {scores.shape[1:]} scores per row; pass target=<index> to choose "
            f"one (0..{scores.shape[1] - 1} for the first output dimension)"
        )
    out_shape = scores.shape[1:]
    if isinstance(target, (int, np.integer)):
        if len(out_shape) == 0:
            if target == 0:
                return scores
            raise InputError(f"target={target} is out of range: the model returns one score per row, so target must be None or 0")
        if len(out_shape) != 1:
            raise InputError(f"target={target}: the model returns scores of shape {out_shape} per row; pass a tuple of {len(out_shape)} indices")
        _check_index(int(target), out_shape[0], f"target={target}")
        return scores[:, int(target)]
    if isinstance(target, tuple) and all(isinstance(t, (int, np.integer)) for t in target):
        if len(target) != len(out_shape):
            raise InputError(f"target={target}: the model returns scores of shape {out_shape} per row, so target needs {len(out_shape)} indices")
        for t, k in zip(target, out_shape):
            _check_index(t, k, f"target={target}")
        return scores[(slice(None), *(int(t) for t in target))]
    targets = list(target)
    if len(targets) != n:
        raise InputError(f"target: a list of targets needs one per row ({n} rows), got {len(targets)}")
    rows = [select_target(scores[i : i + 1], t)[0] for i, t in enumerate(targets)] if any(isinstance(t, tuple) for t in targets) else None
    if rows is not None:
        return np.asarray(rows)
    idx = np.asarray(targets, dtype=np.int64)
    if len(out_shape) != 1:
        raise InputError(f"target: the model returns scores of shape {out_shape} per row; per-row targets must be tuples of {len(out_shape)} indices")
    bad = (idx < -out_shape[0]) | (idx >= out_shape[0])
    if bad.any():
        raise InputError(f"target: value {idx[bad][0]} is out of range for a model with {out_shape[0]} outputs (0..{out_shape[0] - 1})")
    return scores[np.arange(n), idx]


def maps_to_array(rows: Sequence[dict], name: str, classes: list | None = None) -> tuple[np.ndarray, list]:
    """Stack one ``{class: probability}`` dict per row into an (N, K) array, columns in class order.

    Parameters
    ----------
    rows : sequence of dict
        What onnxruntime returns for a ``seq(map(...))`` output (skl2onnx's ZipMap): its keys are
        the classes, in the order of the classifier's ``classes_`` (sorted).
    name : str
        The output's name, for messages.
    classes : list, optional
        The classes an earlier call read (the columns must not change between calls); default:
        the keys of the first row.

    Returns
    -------
    scores : numpy.ndarray, shape (N, K), float64
        Column ``k`` holds the probability of ``classes[k]``: ``target=k`` picks it.
    classes : list
        The class labels, in column order.

    Raises
    ------
    ModelError
        When the rows are not dicts with the same classes and numeric values.
    """
    rows = list(rows)
    if not rows:
        return np.zeros((0, 0), dtype=np.float64), []
    if classes is None:
        classes = list(rows[0]) if isinstance(rows[0], dict) else None
    try:
        if classes is None or any(not isinstance(r, dict) or list(r) != classes for r in rows):
            raise TypeError("the rows are not dicts with the same classes, in the same order, in every call")
        scores = np.array([[float(r[c]) for c in classes] for r in rows], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"output '{name}' is a sequence of maps that cannot be read as one probability per class ({exc}); "
            "export the classifier without ZipMap (skl2onnx: options={'zipmap': False})"
        ) from exc
    return scores, classes


def _check_index(index: int, size: int, what: str) -> None:
    if not -size <= index < size:
        raise InputError(f"{what} is out of range for a model with {size} outputs (valid: 0..{size - 1})")
