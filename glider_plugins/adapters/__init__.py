"""One query interface over PyTorch, TensorFlow/Keras, ONNX models and plain callables.

>>> from glider_plugins.adapters import adapt
>>> scores = adapt(model)(batch)      # numpy array of shape (N,)

Framework adapters are imported lazily: ``import glider_plugins.adapters`` imports neither
TensorFlow nor onnxruntime.
"""

from __future__ import annotations

from typing import Any

from .base import InputSpec, ModelAdapter, select_target
from .callable import CallableAdapter
from .dispatch import FRAMEWORKS, adapt

__all__ = [
    "FRAMEWORKS",
    "CallableAdapter",
    "InputSpec",
    "ModelAdapter",
    "OnnxAdapter",
    "TensorFlowAdapter",
    "TorchAdapter",
    "adapt",
    "select_target",
]

_LAZY = {"TorchAdapter": ".torch", "TensorFlowAdapter": ".tensorflow", "OnnxAdapter": ".onnx"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
