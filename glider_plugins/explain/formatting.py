"""Argument formatting at the public boundary, done once: inputs, feature masks, baselines, names.

Everything here turns what a Captum user passes (tensors, tuples, dicts, scalars) into a
:class:`~glider_plugins.layout.FeatureLayout` of numpy arrays, or raises an error that names the
argument and says what was expected. Lower layers trust the layout and check nothing again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..adapters.base import Static, to_numpy
from ..errors import InputError, InputTypeError
from ..layout import FeatureLayout

__all__ = ["Background", "InputInfo", "attribution_dtype", "build_layout", "format_extra", "format_inputs", "format_target"]


class Background:
    """A background data set to draw "off" values from, passed as ``baselines=Background(data)``.

    Switched-off features take a background row's values (interventional, as KernelSHAP does
    with a background set). By default every mask is queried once per background row (up to the
    detector's ``background_rows``, 32; more rows are drawn with the seed), that row the baseline
    of the pass, and the outputs are averaged: the result describes the background-averaged
    model, with every difference taken on one row. With ``background_rows=None`` each perturbed
    sample takes one random row instead. Captum has no such option.

    Parameters
    ----------
    data : array/tensor of shape (B, ...), a tuple of them, or a dict name -> array
        Structured like ``inputs`` (same number of inputs, same shapes after the batch dimension).
    """

    def __init__(self, data: Any) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Background({type(self.data).__name__})"


@dataclass(frozen=True)
class InputInfo:
    """How the user passed ``inputs``, so results can be given back in the same form."""

    shapes: tuple[tuple[int, ...], ...]
    names: tuple[str, ...] | None
    single: bool
    torch_tensors: bool
    #: Per input, the dtype name of its attributions (:func:`attribution_dtype`).
    dtypes: tuple[str, ...] = ()
    #: Per input, the torch device it was on (``None`` for arrays that were not torch tensors).
    devices: tuple[Any, ...] = ()


def format_inputs(inputs: Any, what: str = "inputs") -> tuple[tuple[np.ndarray, ...], InputInfo]:
    """Turn ``inputs`` (array/tensor, tuple/list of them, or dict) into a tuple of numpy arrays;
    messages call them ``what`` (``"data"`` for :meth:`Glider.detect`)."""
    torch_tensors = _is_torch(inputs)
    if isinstance(inputs, Mapping):
        if not inputs:
            raise InputError(f"{what}: got an empty dict; pass at least one input")
        names: tuple[str, ...] | None = tuple(str(k) for k in inputs)
        arrays = tuple(to_numpy(v, name=f"{what}['{k}']") for k, v in inputs.items())
        single = False
    elif isinstance(inputs, tuple) or (isinstance(inputs, list) and inputs and not np.isscalar(inputs[0]) and not isinstance(inputs[0], list)):
        names = None
        arrays = tuple(to_numpy(v, name=f"{what}[{k}]") for k, v in enumerate(inputs))
        single = False
        if not arrays:
            raise InputError(f"{what}: got an empty tuple; pass at least one input")
    else:
        names, arrays, single = None, (to_numpy(inputs, name=what),), True
    values = tuple(inputs.values()) if isinstance(inputs, Mapping) else (inputs,) if single else tuple(inputs)
    labels = _labels(len(arrays), names, single, what)
    for label, a in zip(labels, arrays):
        if a.ndim == 0:
            raise InputError(f"{label}: expected a batch of shape (N, ...) with the instances to explain first, got a scalar")
        if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.number)) or np.iscomplexobj(a):
            raise InputTypeError(f"{label}: expected real numbers (float values or integer ids), got dtype {a.dtype}")
    sizes = {a.shape[0] for a in arrays}
    if len(sizes) != 1:
        raise InputError(f"{what}: every input needs the same number of instances (first dimension), got {[a.shape[0] for a in arrays]}")
    if arrays[0].shape[0] == 0:
        raise InputError(f"{what}: got 0 instances to explain; the first dimension is the batch of instances")
    info = InputInfo(
        shapes=tuple(a.shape for a in arrays), names=names, single=single, torch_tensors=torch_tensors,
        dtypes=tuple(attribution_dtype(v, a) for v, a in zip(values, arrays)),
        devices=tuple(getattr(v, "device", None) if _is_torch(v) else None for v in values),
    )
    return arrays, info


def attribution_dtype(value: Any, array: np.ndarray) -> str:
    """The dtype name attributions of an input get, as Captum's perturbation methods give them:
    the input's own floating dtype; for integer ids the default float dtype (torch's
    ``torch.get_default_dtype()`` for a torch tensor, float64 otherwise)."""
    if np.issubdtype(array.dtype, np.floating):
        return array.dtype.name
    if _is_torch(value):
        import torch

        return str(torch.get_default_dtype()).removeprefix("torch.")
    return "float64"


def build_layout(
    inputs: Any,
    baselines: Any = None,
    feature_mask: Any = None,
    feature_names: Sequence[str] | None = None,
    what: str = "inputs",
) -> tuple[FeatureLayout, InputInfo]:
    """Format and check every argument that describes the instances; see ``InteractionAttribution.attribute_interactions``.
    Messages call the instances ``what`` (``"data"`` for :meth:`Glider.detect`)."""
    inputs, feature_names = from_dataframe(inputs, feature_names, feature_mask, what)
    arrays, info = format_inputs(inputs, what)
    if feature_mask is None and len(arrays) == 1 and arrays[0].ndim == 1:
        raise InputError(f"{what}: got a 1-D array of shape {arrays[0].shape}: {arrays[0].shape[0]} instances of one feature each; "
                         f"for one instance of {arrays[0].shape[0]} features pass shape (1, {arrays[0].shape[0]}) (x[None])")
    masks, n_features = format_feature_mask(feature_mask, arrays, info)
    if isinstance(baselines, Background):
        background = format_background(baselines.data, arrays, info)
        base = None
    else:
        base, background = format_baselines(baselines, arrays, info), None
    names = format_feature_names(feature_names, n_features)
    layout = FeatureLayout(
        inputs=arrays,
        feature_mask=masks,
        n_features=n_features,
        baselines=base,
        background=background,
        input_names=info.names,
        feature_names=names,
    )
    return layout, info


def from_dataframe(data: Any, feature_names: Sequence[str] | None, feature_mask: Any, what: str = "inputs") -> tuple[Any, Sequence[str] | None]:
    """A pandas DataFrame (N, p) becomes a numeric array once, here (int64 when every column is an
    integer, else float64); its columns name the features unless ``feature_names`` or a
    ``feature_mask`` is given. Anything else is returned as it is. Messages call it ``what``."""
    columns = getattr(data, "columns", None)
    if columns is None or not hasattr(data, "to_numpy"):
        return data, feature_names
    import pandas as pd

    bad = [str(c) for c in columns if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise InputTypeError(f"{what}: columns {bad} are not numeric; encode them as integer ids or numbers first")
    if len(data) == 0:
        raise InputError(f"{what}: the DataFrame has no rows; pass at least one instance")
    all_int = all(pd.api.types.is_integer_dtype(data[c]) for c in columns)
    array = data.to_numpy(dtype=np.int64 if all_int else np.float64)
    if feature_names is None and feature_mask is None:
        feature_names = [str(c) for c in columns]
    return array, feature_names


# ---------------------------------------------------------------------------- feature masks
def format_feature_mask(feature_mask: Any, arrays: tuple[np.ndarray, ...], info: InputInfo) -> tuple[tuple[np.ndarray, ...], int]:
    """Feature ids per element, each of shape (1 or N, *shape_k), and p.

    ``None`` gives every element its own feature, numbered across the inputs in order (Captum's
    default). Otherwise one integer mask per input, broadcastable to that input; shared ids across
    inputs group elements of several inputs into one feature. Ids must be exactly 0..p-1.
    """
    if feature_mask is None:
        masks, offset = [], 0
        for a in arrays:
            size = int(np.prod(a.shape[1:], dtype=np.int64))
            masks.append((offset + np.arange(size, dtype=np.int64)).reshape((1, *a.shape[1:])))
            offset += size
        return tuple(masks), offset
    parts = _per_input(feature_mask, arrays, info, "feature_mask")
    labels = _labels(len(arrays), info.names, info.single, "feature_mask")
    masks = tuple(_one_feature_mask(m, a, label) for m, a, label in zip(parts, arrays, labels))
    ids = np.unique(np.concatenate([np.unique(m) for m in masks]))
    if ids.size == 0:
        raise InputError("feature_mask: contains no feature ids")
    if ids[0] < 0:
        raise InputError(f"feature_mask: ids must be 0..p-1, got a negative id {ids[0]}")
    n_features = int(ids[-1]) + 1
    if ids.size != n_features:
        missing = np.setdiff1d(np.arange(n_features), ids)
        raise InputError(
            f"feature_mask: ids must be exactly 0..p-1 without gaps; the largest id is {n_features - 1} but "
            f"{missing.size} id(s) never occur (e.g. {missing[:5].tolist()}); renumber them, e.g. with numpy.unique(..., return_inverse=True)"
        )
    return masks, n_features


def _one_feature_mask(mask: Any, array: np.ndarray, label: str) -> np.ndarray:
    m = to_numpy(mask, name=label)
    if not np.issubdtype(m.dtype, np.integer) or m.dtype == np.bool_:
        raise InputTypeError(f"{label}: expected integer feature ids, got dtype {m.dtype}")
    return _broadcast_to_input(m.astype(np.int64, copy=False), array, label)


def _broadcast_to_input(value: np.ndarray, array: np.ndarray, label: str) -> np.ndarray:
    """Broadcast ``value`` against ``array`` (N, *S) and keep a leading dimension of 1 or N."""
    if value.ndim > array.ndim:
        raise InputError(f"{label}: has shape {tuple(value.shape)} with more dimensions than the input's {tuple(array.shape)}")
    padded = value.reshape((1,) * (array.ndim - value.ndim) + value.shape)
    try:
        np.broadcast_shapes(padded.shape, array.shape)
        if np.broadcast_shapes(padded.shape, array.shape) != array.shape:
            raise ValueError
    except ValueError:
        raise InputError(
            f"{label}: shape {tuple(value.shape)} does not broadcast to the input's shape {tuple(array.shape)}; "
            f"expected {tuple(array.shape[1:])} (one per element), (1, ...) or ({array.shape[0]}, ...) (one per instance)"
        ) from None
    lead = padded.shape[0]
    return np.ascontiguousarray(np.broadcast_to(padded, (lead, *array.shape[1:])))


# ---------------------------------------------------------------------------- baselines
def format_baselines(baselines: Any, arrays: tuple[np.ndarray, ...], info: InputInfo) -> tuple[np.ndarray, ...]:
    """Per input, the "off" values, shape (1 or N, *shape_k), in the input's dtype.

    Accepts ``None`` (zeros: for id inputs, id 0), a scalar (for every input), or one entry per input
    (a tuple, or a dict for dict inputs) of a scalar or an array broadcastable to the input: per
    element, per instance, per channel, ... Captum's meaning.
    """
    if baselines is None:
        return tuple(np.zeros((1, *a.shape[1:]), dtype=a.dtype) for a in arrays)
    if isinstance(baselines, (str, bytes)):
        raise InputTypeError(f"baselines: expected a number, an array broadcastable to the inputs, one of them per input, "
                             f"or Background(data); got the string {baselines!r}")
    if np.isscalar(baselines) or (hasattr(baselines, "ndim") and getattr(baselines, "ndim", 1) == 0):
        baselines = (baselines,) * len(arrays) if not info.single else baselines
    parts = _per_input(baselines, arrays, info, "baselines")
    labels = _labels(len(arrays), info.names, info.single, "baselines")
    out = []
    for b, a, label in zip(parts, arrays, labels):
        value = to_numpy(b, name=label)
        value = _cast_like(value, a, label)
        out.append(_broadcast_to_input(value, a, label))
    return tuple(out)


def format_background(data: Any, arrays: tuple[np.ndarray, ...], info: InputInfo) -> tuple[np.ndarray, ...]:
    """Per input, a background set of shape (B, *shape_k) in the input's dtype."""
    parts = _per_input(data, arrays, info, "baselines (Background)")
    labels = _labels(len(arrays), info.names, info.single, "Background data")
    out = []
    for d, a, label in zip(parts, arrays, labels):
        value = _cast_like(to_numpy(d, name=label), a, label)
        if value.ndim != a.ndim or value.shape[1:] != a.shape[1:]:
            raise InputError(f"{label}: expected rows shaped like the input, (B, {', '.join(map(str, a.shape[1:]))}), got {tuple(value.shape)}")
        if value.shape[0] == 0:
            raise InputError(f"{label}: the background data set is empty")
        out.append(value)
    if len({v.shape[0] for v in out}) != 1:
        raise InputError(f"Background data: every input needs the same number of rows, got {[v.shape[0] for v in out]}")
    return tuple(out)


def _cast_like(value: np.ndarray, array: np.ndarray, label: str) -> np.ndarray:
    if np.issubdtype(array.dtype, np.integer) and not np.issubdtype(value.dtype, np.integer):
        if not np.all(np.isfinite(value)) or not np.array_equal(value, np.round(value)):
            raise InputTypeError(f"{label}: the input holds integer ids ({array.dtype}); baseline ids must be whole numbers, got {value.dtype} values")
    return value.astype(array.dtype, copy=False)


# ---------------------------------------------------------------------------- names and helpers
def format_feature_names(feature_names: Sequence[str] | None, n_features: int) -> list[str]:
    if feature_names is None:
        return [f"x{i}" for i in range(n_features)]
    names = [str(n) for n in feature_names]
    if len(names) != n_features:
        raise InputError(f"feature_names: expected {n_features} names (one per interpretable feature), got {len(names)}")
    return names


def _per_input(value: Any, arrays: tuple[np.ndarray, ...], info: InputInfo, what: str) -> tuple[Any, ...]:
    """Split a per-input argument given like ``inputs`` (single, tuple, or dict)."""
    if info.names is not None:
        if not isinstance(value, Mapping):
            if len(arrays) == 1 and not isinstance(value, (tuple, list)):
                return (value,)
            if isinstance(value, (tuple, list)) and len(value) == len(arrays):
                return tuple(value)
            raise InputError(f"{what}: inputs were a dict; pass a dict with the same keys {list(info.names)}")
        missing = [k for k in info.names if k not in value]
        extra = [k for k in value if k not in info.names]
        if missing or extra:
            raise InputError(f"{what}: keys must match the inputs {list(info.names)}; missing {missing}, unknown {extra}")
        return tuple(value[k] for k in info.names)
    if info.single:
        if isinstance(value, tuple):
            if len(value) != 1:
                raise InputError(f"{what}: inputs is a single tensor, so pass one {what.split()[0]}, not a tuple of {len(value)}")
            return value
        return (value,)
    if len(arrays) == 1 and not isinstance(value, (tuple, list)):
        return (value,)  # Captum's rule: one tensor for a tuple of one input (sensitivity_max passes such tuples)
    if not isinstance(value, (tuple, list)) or len(value) != len(arrays):
        got = f"a tuple of {len(value)}" if isinstance(value, (tuple, list)) else type(value).__name__
        raise InputError(f"{what}: inputs is a tuple of {len(arrays)} tensors, so pass a tuple of {len(arrays)} (one per input), got {got}")
    return tuple(value)


def _labels(count: int, names: tuple[str, ...] | None, single: bool, what: str = "inputs") -> list[str]:
    if single:
        return [what]
    if names is not None:
        return [f"{what}['{n}']" for n in names]
    return [f"{what}[{k}]" for k in range(count)]


def _is_torch(value: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return False
    items = value.values() if isinstance(value, Mapping) else (value if isinstance(value, (tuple, list)) else (value,))
    return any(isinstance(v, torch.Tensor) for v in items)


def format_target(target: Any, n_instances: int, per: str = "instance") -> Any:
    """``target`` checked once at the boundary (Captum's meaning): ``None``, one output index (an
    int, or a tuple of ints for outputs of several dimensions) for every instance, or a list with
    one of them per instance.

    Raises
    ------
    InputError
        Naming ``target`` and what was expected.
    """
    if target is None or _is_index(target):
        return target if target is None or isinstance(target, tuple) else int(target)
    if hasattr(target, "tolist") and not isinstance(target, (list, tuple)):  # a numpy array or tensor
        target = target.tolist()
        if not isinstance(target, list):
            return format_target(target, n_instances, per)
    if not isinstance(target, list):
        raise InputError(f"target: expected an output index (int), a tuple of ints, or a list with one per instance; got {target!r}")
    if len(target) != n_instances:
        raise InputError(f"target: a list of targets needs one per {per} ({n_instances}), got {len(target)}")
    bad = [t for t in target if not _is_index(t)]
    if bad:
        raise InputError(f"target: every entry must be an output index (int, or a tuple of ints); got {bad[0]!r}")
    return [t if isinstance(t, tuple) else int(t) for t in target]


def _is_index(value: Any) -> bool:
    integer = (int, np.integer)
    if isinstance(value, tuple):
        return bool(value) and all(isinstance(v, integer) and not isinstance(v, (bool, np.bool_)) for v in value)
    return isinstance(value, integer) and not isinstance(value, (bool, np.bool_))


def format_extra(extra: Any, n_instances: int, per: str = "instance") -> tuple[Any, ...]:
    """``additional_forward_args`` checked once (Captum's rule), as a tuple: an array or tensor is
    per row and must have one row per ``per`` (a numpy array, then); any other value is shared
    (wrapped in :class:`~glider_plugins.adapters.base.Static`). Formatted values pass unchanged.

    Raises
    ------
    InputError
        Naming ``additional_forward_args`` for a tensor whose first dimension is not ``n_instances``.
    """
    values = () if extra is None else (extra if isinstance(extra, tuple) else (extra,))
    out: list[Any] = []
    for value in values:
        if isinstance(value, Static):
            out.append(value)
        elif hasattr(value, "shape") and getattr(value, "ndim", 0) >= 1:
            array = to_numpy(value, name="additional_forward_args")
            if array.shape[0] != n_instances:
                raise InputError(f"additional_forward_args: a tensor of shape {tuple(array.shape)} must have one row per "
                                 f"{per} ({n_instances}) in its first dimension")
            out.append(array)
        else:
            out.append(Static(value))
    return tuple(out)

