"""OnnxAdapter: an ONNX model served by onnxruntime.

``onnxruntime`` (and ``onnx`` for ``ModelProto`` inputs) are imported only here, when an ONNX model
is actually used.

Which output is explained: ``output_name`` (a name or a position) when given; otherwise the only
output, or, for a model with several, the first floating-point tensor (a skl2onnx classifier's
``probabilities`` rather than its int64 ``label``), else the first sequence of maps (the ZipMap of
a default skl2onnx export, read as an (N, K) array in class order), else the first output. The
choice is logged on the ``glider_plugins`` logger and kept in ``adapter.output_used_``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import is_int
from ..errors import InputError, ModelLoadError
from .base import Batch, InputSpec, ModelAdapter
from .outputs import maps_to_array

__all__ = ["OnnxAdapter", "ONNX_TYPES", "choose_output"]

_LOG = logging.getLogger(__name__)
#: (file or session, output) pairs whose choice of output was logged already (each is logged once).
_ANNOUNCED: set[tuple[object, str]] = set()

#: onnxruntime type strings -> numpy dtypes.
ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}

#: Output types read as scores before any other when no ``output_name`` is given (the floating
#: types of :data:`ONNX_TYPES`, which numpy holds).
_FLOAT_TENSORS = tuple(t for t, dtype in ONNX_TYPES.items() if np.issubdtype(dtype, np.floating))

_OPT_LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}


class OnnxAdapter(ModelAdapter):
    """Query an ONNX model through an ``onnxruntime.InferenceSession``.

    Input names, dtypes and shapes are read from the session: inputs are cast to the declared
    dtypes (int64 ids, float32 values), checked against the declared shapes, and batches larger
    than a fixed batch dimension are split (the last chunk padded).

    Parameters
    ----------
    model : str, os.PathLike, bytes, onnx.ModelProto or onnxruntime.InferenceSession
        The model file, its serialized bytes, a loaded proto, or a ready session (used as is).
    providers : sequence of str, optional
        Execution providers; default ``["CPUExecutionProvider"]``.
    intra_op_num_threads, inter_op_num_threads : int, optional
        onnxruntime thread pools (0 = onnxruntime's default).
    graph_optimization_level : {"disable", "basic", "extended", "all"}, default "all"
    allow_spinning : bool, default False
        Whether onnxruntime's idle threads spin-wait for work. Detection sends few large batches,
        where spinning saves nothing and burns the cores that Python, the detector and other
        workers need between calls, so it is off by default (throughput over latency).
    session_options : onnxruntime.SessionOptions, optional
        Full control; the options above are then ignored.
    **options
        See :class:`~glider_plugins.adapters.base.ModelAdapter`. ``output_name`` picks one of
        several graph outputs by name or position; without it the first floating-point output is
        used (module docstring), e.g. ``probabilities`` of a skl2onnx classifier, whose first
        output is the int64 ``label``. Pass ``output_name="label"`` to explain the label anyway.

    Attributes
    ----------
    output_names : list of str
        The graph's outputs, in order.
    output_used_ : str
        The output explained.
    output_classes_ : list or None
        For a sequence-of-maps output (ZipMap): the class labels, in the column order of the
        scores (``target=k`` is ``output_classes_[k]``), known after the first call; else ``None``.
    """

    framework = "onnx"
    selects_output = True

    def __init__(
        self,
        model: Any,
        *,
        providers: list[str] | None = None,
        intra_op_num_threads: int | None = None,
        inter_op_num_threads: int | None = None,
        graph_optimization_level: str = "all",
        allow_spinning: bool = False,
        session_options: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        import onnxruntime as ort

        self.session = model if isinstance(model, ort.InferenceSession) else _make_session(
            model, providers, intra_op_num_threads, inter_op_num_threads, graph_optimization_level, session_options, allow_spinning
        )
        self._specs = tuple(
            InputSpec(name=i.name, dtype=_dtype_of(i.type), shape=tuple(d if isinstance(d, int) and d > 0 else None for d in (i.shape or [])) or None)
            for i in self.session.get_inputs()
        )
        outputs = [(o.name, o.type) for o in self.session.get_outputs()]
        self.output_names = [name for name, _ in outputs]
        self.output_used_, kind = choose_output(outputs, self.output_name)
        self._maps = _is_maps(kind)
        self.output_classes_: list | None = None
        announced = (str(model) if isinstance(model, (str, os.PathLike)) else id(self.session), self.output_used_)
        if len(outputs) > 1 and announced not in _ANNOUNCED:  # once per file and output, however often it is adapted
            _ANNOUNCED.add(announced)
            _LOG.info(
                "the ONNX model has outputs %s; explaining %r (%s%s)%s",
                [f"{name} {t}" for name, t in outputs], self.output_used_, kind,
                ", a ZipMap read as one column per class" if self._maps else "",
                "" if self.output_name is not None else "; pass output_name= to choose another",
            )

    def input_specs(self) -> tuple[InputSpec, ...]:
        return self._specs

    def _predict(self, batch: Batch) -> Any:
        feeds = batch if isinstance(batch, dict) else dict(zip((s.name for s in self._specs), batch))
        out = self.session.run([self.output_used_], feeds)[0]
        if not self._maps:
            return out
        scores, self.output_classes_ = maps_to_array(out, self.output_used_, self.output_classes_)
        return scores


def choose_output(outputs: list[tuple[str, str]], output_name: str | int | None) -> tuple[str, str]:
    """The output to explain, as (name, onnxruntime type string).

    Parameters
    ----------
    outputs : list of (name, type)
        The session's outputs in order, e.g. ``[("label", "tensor(int64)"), ("probabilities",
        "tensor(float)")]``.
    output_name : str, int or None
        A name, a position, or ``None``: the only output; else the first floating-point tensor;
        else the first sequence of maps (ZipMap); else the first output.

    Raises
    ------
    InputError
        When ``output_name`` is not one of the outputs; the message lists them.
    """
    names = [name for name, _ in outputs]
    if output_name is None:
        floats = [o for o in outputs if o[1] in _FLOAT_TENSORS]
        maps = [o for o in outputs if _is_maps(o[1])]
        return (floats or maps or outputs)[0]
    if is_int(output_name):
        if not -len(outputs) <= output_name < len(outputs):
            raise InputError(f"output_name={output_name} is out of range: the ONNX model has {len(outputs)} outputs {names}")
        return outputs[int(output_name)]
    if isinstance(output_name, str) and output_name in names:
        return outputs[names.index(output_name)]
    raise InputError(f"output_name={output_name!r} is not an output of the ONNX model; its outputs are {names} (pass a name or a position)")


def _is_maps(onnx_type: str) -> bool:
    """A sequence of maps, one per row: skl2onnx's ZipMap of class probabilities."""
    return onnx_type.startswith("seq(map(")


def _dtype_of(onnx_type: str) -> np.dtype | None:
    dtype = ONNX_TYPES.get(onnx_type)
    return None if dtype is None else np.dtype(dtype)


def _make_session(model: Any, providers: list[str] | None, intra: int | None, inter: int | None, level: str, session_options: Any, allow_spinning: bool = False) -> Any:
    import onnxruntime as ort

    if session_options is None:
        session_options = ort.SessionOptions()
        if intra is not None:
            session_options.intra_op_num_threads = int(intra)
        if inter is not None:
            session_options.inter_op_num_threads = int(inter)
        if level not in _OPT_LEVELS:
            raise ValueError(f"graph_optimization_level must be one of {sorted(_OPT_LEVELS)}, got {level!r}")
        session_options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPT_LEVELS[level])
        spin = "1" if allow_spinning else "0"
        session_options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        session_options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    source = _model_source(model)
    try:
        return ort.InferenceSession(source, sess_options=session_options, providers=providers or ["CPUExecutionProvider"])
    except Exception as exc:
        where = f"file '{model}'" if isinstance(model, (str, os.PathLike)) else f"{type(model).__name__} of {len(source)} bytes"
        raise ModelLoadError(f"model: could not load the ONNX {where}: it is not a valid ONNX model ({type(exc).__name__}: {exc})") from exc


def _model_source(model: Any) -> str | bytes:
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise ModelLoadError(f"model: no ONNX file at '{path}'")
        return str(path)
    if hasattr(model, "SerializeToString"):  # onnx.ModelProto
        return model.SerializeToString()
    raise ModelLoadError(f"model: expected an ONNX path, bytes, onnx.ModelProto or onnxruntime.InferenceSession, got {type(model).__name__}")
