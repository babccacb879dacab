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
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._checks import check_int, is_int
from ..errors import InputError, InputTypeError, ModelError, NonFiniteOutputError
from .batch import (
    Batch,
    InputSpec,
    Static,
    batch_length,
    cast_input,
    check_batch_dims,
    check_shape,
    describe_batch,
    is_scalar_list,
    pad_batch,
    slice_batch,
    to_numpy,
)
from .outputs import OUTPUT_KINDS, TargetType, convert_output, select_target

# Batch, InputSpec, Static, TargetType, select_target and to_numpy are re-exported for adapters.
__all__ = ["Batch", "InputSpec", "ModelAdapter", "Static", "TargetType", "select_target", "to_numpy"]


#: Calls with fewer rows are padded to this many (the last row repeated, its answers dropped).
#: BLAS libraries answer products with very few rows through other kernels (matrix-vector, small
#: blocks) than batches, so a row's score would differ in the last bits between a call of 1-3 rows
#: and a batch (measured with PyTorch and onnxruntime on CPU), and an instance explained alone
#: would see other scores than in a batch. From 4 rows on they agreed bit for bit.
MIN_ROWS_PER_CALL = 8


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
        Which output to use when the model has several (name or position). Default: the first;
        for an ONNX model the first floating-point output (a classifier's probabilities, not
        its integer label), see :class:`~glider_plugins.adapters.onnx.OnnxAdapter`.
    batch_size : int, optional
        Largest number of rows sent to the model in one call; larger batches are split and the
        results concatenated. ``None`` sends the whole batch (up to a fixed batch dimension).
    check_finite : bool, default True
        Raise :class:`~glider_plugins.errors.NonFiniteOutputError` when the model answers NaN/inf.

    Attributes
    ----------
    output_used_ : str, int or None
        The output explained (name or position) once known: ONNX adapters know it on
        construction, others after the first call to a model with several outputs; ``None``
        for a model with a single output.
    """

    #: Short name of the framework, used in messages and by :func:`~glider_plugins.adapters.adapt`.
    framework: ClassVar[str] = "model"
    #: True where ``_predict`` already answers with the output ``output_name`` chose (ONNX).
    selects_output: ClassVar[bool] = False

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
        if output is not None and output not in OUTPUT_KINDS:
            raise InputError(f"output must be one of {OUTPUT_KINDS} or None, got {output!r}")
        if model_output not in OUTPUT_KINDS:
            raise InputError(f"model_output must be one of {OUTPUT_KINDS}, got {model_output!r}")
        check_int("batch_size", batch_size, allow_none=True)
        self.target = target
        self.output = output
        self.model_output = model_output
        self.output_name = output_name
        self.output_used_: str | int | None = None
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
            elif fixed is None and stop - start < MIN_ROWS_PER_CALL:
                part = pad_batch(part, MIN_ROWS_PER_CALL)
            out = self._pick_output(self._safe_predict(part, stop - start))
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
            seq = tuple(inputs) if isinstance(inputs, (tuple, list)) and not is_scalar_list(inputs) else (inputs,)
            batch = tuple(v if isinstance(v, Static) else to_numpy(v, name=f"inputs[{k}]") for k, v in enumerate(seq))
            self._check_count(len(batch), specs)
        if specs is not None:
            for k, value in enumerate(batch):
                if isinstance(value, Static):
                    raise InputTypeError(f"inputs[{k}]: the {self.framework} model takes only arrays, got a non-batched {type(value.value).__name__}")
            batch = tuple(self._conform(a, s) for a, s in zip(batch, specs))
        check_batch_dims(batch)
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
        check_shape(array, spec)
        if spec.dtype is not None:
            array = cast_input(array, spec.dtype, spec.name)
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

    def _safe_predict(self, batch: Batch, rows: int | None = None) -> Any:
        """``_predict`` with the model's own failures wrapped; ``rows``: the rows asked for (the
        message names those, not the padding)."""
        try:
            return self._predict(batch)
        except (InputError, InputTypeError, ModelError):
            raise
        except Exception as exc:  # the model's own failure: say where it happened
            asked = slice_batch(batch, 0, rows) if rows is not None else batch
            raise ModelError(
                f"the {self.framework} model raised {type(exc).__name__} on a batch of {batch_length(asked)} rows "
                f"with inputs {describe_batch(asked)}: {exc}"
            ) from exc

    def _pick_output(self, raw: Any) -> np.ndarray:
        if isinstance(raw, Mapping):
            keys = list(raw)
            if self.output_name is None:
                if len(keys) != 1:
                    raise InputError(f"output_name: the model has outputs {keys}; pass output_name= to choose one")
                self.output_used_ = keys[0]
            elif is_int(self.output_name):
                if not -len(keys) <= self.output_name < len(keys):
                    raise InputError(f"output_name={self.output_name} is out of range: the model has {len(keys)} outputs {keys}")
                self.output_used_ = keys[self.output_name]
            elif self.output_name in raw:
                self.output_used_ = self.output_name
            else:
                raise InputError(f"output_name={self.output_name!r} is not an output of the model; its outputs are {keys}")
            raw = raw[self.output_used_]
        elif isinstance(raw, (tuple, list)):
            if self.output_name is not None and not is_int(self.output_name):
                raise InputError(f"output_name={self.output_name!r}: the {self.framework} model returns {len(raw)} unnamed "
                                 f"outputs (a tuple), so pass a position 0..{len(raw) - 1}")
            index = 0 if self.output_name is None else int(self.output_name)
            if not -len(raw) <= index < len(raw):
                raise InputError(f"output_name={index} is out of range: the model has {len(raw)} outputs")
            self.output_used_, raw = index, raw[index]
        elif self.output_name is not None and not self.selects_output and not (is_int(self.output_name) and self.output_name == 0):
            raise InputError(f"output_name={self.output_name!r}: the {self.framework} model returns a single output, so "
                             "there is none to choose; leave output_name out")
        return to_numpy(raw, name="model output")

    def _checked(self, scores: np.ndarray) -> np.ndarray:
        if self.check_finite and scores.size and not np.all(np.isfinite(scores)):
            bad = np.flatnonzero(~np.isfinite(scores))
            kind = "NaN" if np.isnan(scores[bad[0]]) else "inf"
            raise NonFiniteOutputError(
                f"the {self.framework} model returned non-finite scores ({kind}) for {bad.size} of {scores.size} rows "
                f"(first at row {bad[0]}); check the inputs it was given (baselines, perturbations) or pass check_finite=False",
                rows=bad,
            )
        return scores

    def __repr__(self) -> str:
        return f"{type(self).__name__}(framework={self.framework!r}, target={self.target!r}, output={self.output!r}, batch_size={self.batch_size!r})"
