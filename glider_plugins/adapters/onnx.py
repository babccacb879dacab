"""OnnxAdapter: an ONNX model served by onnxruntime.

``onnxruntime`` (and ``onnx`` for ``ModelProto`` inputs) are imported only here, when an ONNX model
is actually used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelLoadError
from .base import Batch, InputSpec, ModelAdapter

__all__ = ["OnnxAdapter", "ONNX_TYPES"]

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
        See :class:`~glider_plugins.adapters.base.ModelAdapter` (``output_name`` picks one of
        several graph outputs by name or position).
    """

    framework = "onnx"

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
        self.output_names = [o.name for o in self.session.get_outputs()]

    def input_specs(self) -> tuple[InputSpec, ...]:
        return self._specs

    def _predict(self, batch: Batch) -> Any:
        feeds = batch if isinstance(batch, dict) else dict(zip((s.name for s in self._specs), batch))
        if isinstance(self.output_name, str):
            if self.output_name not in self.output_names:
                raise InputError(f"output_name={self.output_name!r} is not an output of the ONNX model; its outputs are {self.output_names}")
            return self.session.run([self.output_name], feeds)[0]
        return self.session.run(None, feeds)  # a list: output_name=None/int picks by position


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
