"""glider-plugins: which features of a model work together.

Feature-interaction detection (MADEX local, GLIDER global; Tsang et al., ICLR 2020) for PyTorch,
TensorFlow/Keras, ONNX models and plain callables, behind a Captum-style API, extensible through
pluggy plugins.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "AttributionResult",
    "Background",
    "CrossFeatureEncoder",
    "Glider",
    "GlobalInteractions",
    "InteractionAttribution",
    "adapt",
    "hookimpl",
    "__version__",
]

_LAZY = {
    "InteractionAttribution": ("glider_plugins.attribution", "InteractionAttribution"),
    "AttributionResult": ("glider_plugins.results", "AttributionResult"),
    "Background": ("glider_plugins.formatting", "Background"),
    "adapt": ("glider_plugins.adapters.dispatch", "adapt"),
    "hookimpl": ("glider_plugins.plugins", "hookimpl"),
    "Glider": ("glider_plugins.glider", "Glider"),
    "GlobalInteractions": ("glider_plugins.global_results", "GlobalInteractions"),
    "CrossFeatureEncoder": ("glider_plugins.encoders.cross", "CrossFeatureEncoder"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'glider_plugins' has no attribute {name!r}")
