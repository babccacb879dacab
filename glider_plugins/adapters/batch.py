"""Formatted batches: what the adapters pass around, and the helpers that check and slice them.

A batch is a tuple of numpy arrays (positional inputs) or a dict name -> array, with the rows of
the batch first; :class:`Static` marks a non-batched positional argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..errors import InputError, InputTypeError

__all__ = [
    "Batch",
    "InputSpec",
    "Static",
    "batch_arrays",
    "batch_length",
    "cast_input",
    "check_batch_dims",
    "check_shape",
    "is_scalar_list",
    "describe_batch",
    "pad_batch",
    "slice_batch",
    "to_numpy",
]

#: A batch of model inputs after formatting: positional arrays or arrays keyed by input name.
Batch = Union[tuple[np.ndarray, ...], dict[str, np.ndarray]]


@dataclass(frozen=True)
class InputSpec:
    """What a model declares about one of its inputs.

    Attributes
    ----------
    name : str
        The input's name (ONNX/Keras/SavedModel name, or ``"input_<k>"`` for positional inputs).
    dtype : numpy.dtype or None
        The dtype the model expects; inputs are cast to it. ``None`` when the model does not say.
    shape : tuple of (int or None), or None
        The full shape including the batch dimension; ``None`` entries are free. ``None`` when
        unknown.
    """

    name: str
    dtype: np.dtype | None = None
    shape: tuple[int | None, ...] | None = None

    @property
    def fixed_batch_size(self) -> int | None:
        """The batch dimension when the model fixes it, else ``None``."""
        if self.shape and isinstance(self.shape[0], int) and self.shape[0] > 0:
            return self.shape[0]
        return None

    def describe(self) -> str:
        dims = "?" if self.shape is None else "(" + ", ".join("N" if i == 0 and d is None else ("?" if d is None else str(d)) for i, d in enumerate(self.shape)) + ")"
        dtype = "any dtype" if self.dtype is None else str(self.dtype)
        return f"'{self.name}' {dims} {dtype}"


@dataclass(frozen=True)
class Static:
    """A positional model argument that is not batched (a flag, a temperature, an object).

    It is passed to every chunk unchanged, as Captum passes non-tensor ``additional_forward_args``.
    Only models called from Python (torch modules, callables) can take one.
    """

    value: Any


def to_numpy(value: Any, *, name: str = "inputs") -> np.ndarray:
    """Convert a tensor-like value (numpy, torch, TensorFlow, list) to a numpy array.

    Raises
    ------
    InputTypeError
        When ``value`` cannot be turned into a numeric array; the message names ``name``.
    """
    if isinstance(value, np.ndarray):
        return value
    detach = getattr(value, "detach", None)
    if callable(detach):  # torch.Tensor
        return detach().cpu().numpy()
    to_np = getattr(value, "numpy", None)
    if callable(to_np):  # tf.Tensor / EagerTensor
        return np.asarray(to_np())
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{name}: expected an array or tensor, got {type(value).__name__}: {exc}") from exc
    if array.dtype == object:
        raise InputTypeError(f"{name}: expected a numeric array or tensor, got {type(value).__name__} that numpy reads as objects")
    return array


def cast_input(array: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """Cast ``array`` to ``dtype`` when it loses nothing; raise naming ``name`` otherwise."""
    if array.dtype == dtype:
        return array
    if np.issubdtype(dtype, np.integer) and np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all() or not np.array_equal(array, np.round(array)):
            raise InputTypeError(
                f"input '{name}' expects integer ids ({dtype}) but got {array.dtype} values that are not "
                "whole numbers; pass integer ids (e.g. array.astype('int64')), not floats"
            )
    if np.issubdtype(dtype, np.integer) and not np.issubdtype(array.dtype, np.integer) and not np.issubdtype(array.dtype, np.floating) and array.dtype != np.bool_:
        raise InputTypeError(f"input '{name}' expects {dtype} but got {array.dtype}")
    if np.issubdtype(dtype, np.integer) and array.size:
        info = np.iinfo(dtype)
        lo, hi = array.min(), array.max()
        if lo < info.min or hi > info.max:
            raise InputTypeError(f"input '{name}' expects {dtype} but holds values in [{lo}, {hi}] that do not fit")
    if np.issubdtype(dtype, np.floating) and not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InputTypeError(f"input '{name}' expects {dtype} but got {array.dtype}")
    return array.astype(dtype, copy=False)


def check_shape(array: np.ndarray, spec: InputSpec) -> None:
    if spec.shape is None:
        return
    expected = spec.shape
    if array.ndim != len(expected) or any(d is not None and i > 0 and d != s for i, (d, s) in enumerate(zip(expected, array.shape))):
        raise InputError(
            f"input '{spec.name}' has shape {tuple(array.shape)} but the model expects {spec.describe()} "
            "(N is the batch dimension); no broadcasting or truncation is done"
        )


def is_scalar_list(value: Sequence[Any]) -> bool:
    """A list of numbers is one array, not several inputs."""
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, (int, float, np.number)) or (isinstance(v, list)) for v in value)


def batch_arrays(batch: Batch) -> list[np.ndarray]:
    """The batched arrays of ``batch`` (static arguments left out)."""
    values = batch.values() if isinstance(batch, dict) else batch
    return [v for v in values if not isinstance(v, Static)]


def batch_length(batch: Batch) -> int:
    arrays = batch_arrays(batch)
    return int(arrays[0].shape[0]) if arrays and arrays[0].ndim else 0


def check_batch_dims(batch: Batch) -> None:
    items = list(batch.items()) if isinstance(batch, dict) else [(f"inputs[{k}]", a) for k, a in enumerate(batch) if not isinstance(a, Static)]
    if not items:
        raise InputError("inputs: got no arrays; pass at least one input")
    for name, array in items:
        if array.ndim == 0:
            raise InputError(f"{name}: expected a batch with a leading batch dimension, got a scalar")
    sizes = {name: a.shape[0] for name, a in items}
    if len(set(sizes.values())) > 1:
        raise InputError(f"inputs: every input needs the same batch size (first dimension), got {sizes}")


def slice_batch(batch: Batch, start: int, stop: int) -> Batch:
    if isinstance(batch, dict):
        return {k: v[start:stop] for k, v in batch.items()}
    return tuple(v if isinstance(v, Static) else v[start:stop] for v in batch)


def pad_batch(batch: Batch, size: int) -> Batch:
    """Repeat the last row so a model with a fixed batch dimension can answer a short chunk."""

    def pad(a: np.ndarray) -> np.ndarray:
        if isinstance(a, Static):
            return a
        extra = size - a.shape[0]
        return np.concatenate([a, np.repeat(a[-1:], extra, axis=0)], axis=0)

    if isinstance(batch, dict):
        return {k: pad(v) for k, v in batch.items()}
    return tuple(pad(v) for v in batch)


def describe_batch(batch: Batch) -> str:
    items = batch.items() if isinstance(batch, dict) else ((f"[{k}]", a) for k, a in enumerate(batch))
    return ", ".join(f"{name} {type(a.value).__name__}" if isinstance(a, Static) else f"{name} {tuple(a.shape)} {a.dtype}" for name, a in items)
