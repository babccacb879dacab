"""glider-plugins: which features of a model work together.

Feature-interaction detection (MADEX local, GLIDER global; Tsang et al., ICLR 2020) for PyTorch,
TensorFlow/Keras, ONNX models and plain callables, behind a Captum-style API, extensible through
pluggy plugins.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from . import _moved

# Intel MKL (torch's CPU BLAS) picks kernels by the memory alignment of each matrix, so a batched
# product can score the odd matrices of a stack a last bit differently from the same matrix
# alone (measured on an AMD EPYC: NID's stacked training of one instance in a stack of 3 vs alone
# differed by 1e-9). Strict conditional numerical reproducibility makes results independent of
# alignment; MKL reads the setting at its first use, so set it before any product runs. A user's
# own MKL_CBWR is kept.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

#: The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``).
__version__ = "0.1.0"

# Progress lines go to loggers under "glider_plugins" (INFO); a library only adds a NullHandler, the
# application (the `glider` CLI, a user's script) decides what is shown.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# 0.1's module paths that moved in 0.2 still import, with a DeprecationWarning (until 0.3).
_moved.install()

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
    "InteractionAttribution": ("glider_plugins.explain.attribution", "InteractionAttribution"),
    "AttributionResult": ("glider_plugins.results", "AttributionResult"),
    "Background": ("glider_plugins.explain.formatting", "Background"),
    "adapt": ("glider_plugins.adapters.dispatch", "adapt"),
    "hookimpl": ("glider_plugins.plugins", "hookimpl"),
    "Glider": ("glider_plugins.glider.glider", "Glider"),
    "GlobalInteractions": ("glider_plugins.results", "GlobalInteractions"),
    "CrossFeatureEncoder": ("glider_plugins.encoders.cross", "CrossFeatureEncoder"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'glider_plugins' has no attribute {name!r}")
