"""The single query interface: a batch of model inputs in, one score per row out.

:class:`ModelAdapter` does everything that does not depend on the framework, once:

* formatting the inputs (one array, a tuple of arrays in the model's positional order, or a dict
  keyed by input name) into numpy arrays, checked against the input names, dtypes and shapes the
  model declares;
* splitting large batches into chunks (``batch_size``, or the model's fixed batch dimension);
* picking the output (``output_name``), converting between logits and probabilities (``output``),
  selecting the target as Captum does (``target``);
* checking that the model answered with finite numbers, and naming the culprit when it did not.

A framework adapter only says what the model's inputs are (:meth:`ModelAdapter.input_specs`) and
answers one chunk (:meth:`ModelAdapter._predict`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Union

import numpy as np

from ..errors import InputError, InputTypeError, ModelError, NonFiniteOutputError

__all__ = ["Batch", "InputSpec", "ModelAdapter", "Static", "TargetType", "select_target", "to_numpy"]

#: A batch of model inputs after formatting: positional arrays or arrays keyed by input name.
Batch = Union[tuple[np.ndarray, ...], dict[str, np.ndarray]]
#: Captum's target: None, an output column, an index tuple into the output, or one of those per row.
TargetType = Union[None, int, tuple[int, ...], Sequence[int], np.ndarray]

_OUTPUT_KINDS = ("logits", "probabilities")


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


def _cast(array: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
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


def _check_shape(array: np.ndarray, spec: InputSpec) -> None:
    if spec.shape is None:
        return
    expected = spec.shape
    if array.ndim != len(expected) or any(d is not None and i > 0 and d != s for i, (d, s) in enumerate(zip(expected, array.shape))):
        raise InputError(
            f"input '{spec.name}' has shape {tuple(array.shape)} but the model expects {spec.describe()} "
            "(N is the batch dimension); no broadcasting or truncation is done"
        )


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def convert_output(scores: np.ndarray, output: str | None, model_output: str) -> np.ndarray:
    """Turn the model's scores into ``output`` ("logits" or "probabilities").

    A model with one score per row is treated as binary (sigmoid / log-odds); several scores per row
    as classes along the last axis (softmax / log-probabilities, logits up to a constant per row).
    """
    if output is None or output == model_output:
        return scores
    single = scores.ndim == 1 or scores.shape[-1] == 1
    scores = scores.astype(np.float64, copy=False)
    if output == "probabilities":  # model gives logits
        return _sigmoid(scores) if single else _softmax(scores)
    with np.errstate(divide="ignore"):
        if single:
            return np.log(scores) - np.log1p(-scores)
        return np.log(scores)


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


def _check_index(index: int, size: int, what: str) -> None:
    if not -size <= index < size:
        raise InputError(f"{what} is out of range for a model with {size} outputs (valid: 0..{size - 1})")


class ModelAdapter(ABC):
    """A model behind one query interface: ``adapter(batch) -> numpy array (N,)``.

    Parameters
    ----------
    target : None, int, tuple or per-row sequence, optional
        Default target (Captum's meaning), used when a call gives none. See :func:`select_target`.
    output : {"logits", "probabilities"} or None, optional
        Convert the model's scores to this kind; ``None`` returns them as the model gives them.
    model_output : {"logits", "probabilities"}, default "logits"
        What the model returns; only read when ``output`` is set.
    output_name : str or int, optional
        Which output to use when the model has several (name or position). Default: the first.
    batch_size : int, optional
        Largest number of rows sent to the model in one call; larger batches are split and the
        results concatenated. ``None`` sends the whole batch (up to a fixed batch dimension).
    check_finite : bool, default True
        Raise :class:`~glider_plugins.errors.NonFiniteOutputError` when the model answers NaN/inf.
    """

    #: Short name of the framework, used in messages and by :func:`~glider_plugins.adapters.adapt`.
    framework: ClassVar[str] = "model"

    def __init__(
        self,
        *,
        target: TargetType = None,
        output: str | None = None,
        model_output: str = "logits",
        output_name: str | int | None = None,
        batch_size: int | None = None,
        check_finite: bool = True,
    ) -> None:
        if output is not None and output not in _OUTPUT_KINDS:
            raise InputError(f"output must be one of {_OUTPUT_KINDS} or None, got {output!r}")
        if model_output not in _OUTPUT_KINDS:
            raise InputError(f"model_output must be one of {_OUTPUT_KINDS}, got {model_output!r}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise InputError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.target = target
        self.output = output
        self.model_output = model_output
        self.output_name = output_name
        self.batch_size = None if batch_size is None else int(batch_size)
        self.check_finite = check_finite

    # ------------------------------------------------------------------ framework hooks
    def input_specs(self) -> tuple[InputSpec, ...] | None:
        """The model's inputs in positional order, or ``None`` when the model does not declare them."""
        return None

    def input_arity(self) -> tuple[int, int | None] | None:
        """(fewest, most) positional inputs the model takes, when known without specs."""
        return None

    @abstractmethod
    def _predict(self, batch: Batch) -> Any:
        """Answer one chunk of formatted inputs; return the raw output (array, tensor, tuple, dict)."""

    # ------------------------------------------------------------------ public interface
    def __call__(self, inputs: Any, target: TargetType | str = "default") -> np.ndarray:
        """Query the model on a batch.

        Parameters
        ----------
        inputs : array/tensor of shape (N, ...), tuple of them, or dict name -> array
            One array for a single-input model; a tuple in the model's positional order
            (Captum's convention) or a dict keyed by input name for several inputs.
        target : optional
            Overrides the adapter's default ``target`` for this call.

        Returns
        -------
        numpy.ndarray, shape (N,)
            One score per row.
        """
        scores = self.predict(inputs)
        chosen = select_target(scores, self.target if isinstance(target, str) and target == "default" else target)
        return self._checked(chosen)

    def predict(self, inputs: Any) -> np.ndarray:
        """Query the model and return all of its scores, shape (N, ...), before target selection."""
        batch = self.format_inputs(inputs)
        n = batch_length(batch)
        chunk = self.chunk_size()
        if n == 0:
            return np.zeros((0,), dtype=np.float64)
        pieces = []
        for start in range(0, n, chunk or n):
            stop = min(n, start + (chunk or n))
            part = slice_batch(batch, start, stop)
            fixed = self.fixed_batch_size()
            if fixed is not None and stop - start < fixed:
                part = pad_batch(part, fixed)
            out = self._pick_output(self._safe_predict(part))
            pieces.append(out[: stop - start])
        scores = np.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]
        if scores.shape[0] != n:
            raise ModelError(f"the {self.framework} model returned {scores.shape[0]} rows for a batch of {n}; it must answer one row per input row")
        return convert_output(scores, self.output, self.model_output)

    # ------------------------------------------------------------------ formatting
    def format_inputs(self, inputs: Any) -> Batch:
        """Check and convert ``inputs`` once: names, count, shapes, dtypes; numpy arrays out.

        With declared specs the result is a tuple in the model's positional order.
        """
        specs = self.input_specs()
        if isinstance(inputs, Mapping):
            named = {str(k): to_numpy(v, name=f"inputs['{k}']") for k, v in inputs.items()}
            batch: Batch = self._order_named(named, specs) if specs is not None else named
        else:
            seq = tuple(inputs) if isinstance(inputs, (tuple, list)) and not _is_scalar_list(inputs) else (inputs,)
            batch = tuple(v if isinstance(v, Static) else to_numpy(v, name=f"inputs[{k}]") for k, v in enumerate(seq))
            self._check_count(len(batch), specs)
        if specs is not None:
            for k, value in enumerate(batch):
                if isinstance(value, Static):
                    raise InputTypeError(f"inputs[{k}]: the {self.framework} model takes only arrays, got a non-batched {type(value.value).__name__}")
            batch = tuple(self._conform(a, s) for a, s in zip(batch, specs))
        _check_batch_dims(batch)
        return batch

    def _order_named(self, named: dict[str, np.ndarray], specs: tuple[InputSpec, ...]) -> tuple[np.ndarray, ...]:
        expected = [s.name for s in specs]
        missing = [k for k in expected if k not in named]
        extra = [k for k in named if k not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing input(s) {missing}")
            if extra:
                parts.append(f"unknown input(s) {extra}")
            raise InputError(f"inputs: {' and '.join(parts)}; the model's inputs are {expected}")
        return tuple(named[k] for k in expected)

    def _check_count(self, count: int, specs: tuple[InputSpec, ...] | None) -> None:
        if specs is not None:
            if count != len(specs):
                names = [s.name for s in specs]
                raise InputError(f"inputs: the model takes {len(specs)} input(s) {names}, got {count} positional input(s)")
            return
        arity = self.input_arity()
        if arity is None:
            return
        lo, hi = arity
        if count < lo or (hi is not None and count > hi):
            want = str(lo) if hi == lo else f"{lo} to {'any number' if hi is None else hi}"
            raise InputError(f"inputs: the model's forward takes {want} positional input(s), got {count}")

    def _conform(self, array: np.ndarray, spec: InputSpec) -> np.ndarray:
        _check_shape(array, spec)
        if spec.dtype is not None:
            array = _cast(array, spec.dtype, spec.name)
        return array

    # ------------------------------------------------------------------ chunking and outputs
    def fixed_batch_size(self) -> int | None:
        """The batch size the model requires (e.g. an ONNX graph with a fixed batch dimension)."""
        specs = self.input_specs()
        if not specs:
            return None
        sizes = {s.fixed_batch_size for s in specs}
        return next(iter(sizes)) if len(sizes) == 1 else None

    def chunk_size(self) -> int | None:
        """Rows per model call: the smaller of ``batch_size`` and the fixed batch dimension."""
        sizes = [s for s in (self.batch_size, self.fixed_batch_size()) if s is not None]
        return min(sizes) if sizes else None

    def _safe_predict(self, batch: Batch) -> Any:
        try:
            return self._predict(batch)
        except (InputError, InputTypeError, ModelError):
            raise
        except Exception as exc:  # the model's own failure: say where it happened
            raise ModelError(
                f"the {self.framework} model raised {type(exc).__name__} on a batch of {batch_length(batch)} rows "
                f"with inputs {describe_batch(batch)}: {exc}"
            ) from exc

    def _pick_output(self, raw: Any) -> np.ndarray:
        if isinstance(raw, Mapping):
            keys = list(raw)
            if self.output_name is None:
                if len(keys) != 1:
                    raise InputError(f"output_name: the model has outputs {keys}; pass output_name= to choose one")
                raw = raw[keys[0]]
            elif isinstance(self.output_name, int):
                raw = raw[keys[self.output_name]]
            elif self.output_name in raw:
                raw = raw[self.output_name]
            else:
                raise InputError(f"output_name={self.output_name!r} is not an output of the model; its outputs are {keys}")
        elif isinstance(raw, (tuple, list)):
            index = self.output_name if isinstance(self.output_name, int) else 0
            if not -len(raw) <= index < len(raw):
                raise InputError(f"output_name={index} is out of range: the model has {len(raw)} outputs")
            raw = raw[index]
        return to_numpy(raw, name="model output")

    def _checked(self, scores: np.ndarray) -> np.ndarray:
        if self.check_finite and scores.size and not np.all(np.isfinite(scores)):
            bad = np.flatnonzero(~np.isfinite(scores))
            kind = "NaN" if np.isnan(scores[bad[0]]) else "inf"
            raise NonFiniteOutputError(
                f"the {self.framework} model returned non-finite scores ({kind}) for {bad.size} of {scores.size} rows "
                f"(first at row {bad[0]}); check the inputs it was given (baselines, perturbations) or pass check_finite=False"
            )
        return scores

    def __repr__(self) -> str:
        return f"{type(self).__name__}(framework={self.framework!r}, target={self.target!r}, output={self.output!r}, batch_size={self.batch_size!r})"


# ---------------------------------------------------------------------- batch helpers
def _is_scalar_list(value: Sequence[Any]) -> bool:
    """A list of numbers is one array, not several inputs."""
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, (int, float, np.number)) or (isinstance(v, list)) for v in value)


def batch_arrays(batch: Batch) -> list[np.ndarray]:
    """The batched arrays of ``batch`` (static arguments left out)."""
    values = batch.values() if isinstance(batch, dict) else batch
    return [v for v in values if not isinstance(v, Static)]


def batch_length(batch: Batch) -> int:
    arrays = batch_arrays(batch)
    return int(arrays[0].shape[0]) if arrays and arrays[0].ndim else 0


def _check_batch_dims(batch: Batch) -> None:
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
