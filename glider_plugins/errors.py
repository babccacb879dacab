"""Exceptions raised by glider-plugins.

Every error names the argument (or model input) at fault and what was expected, so that a user can
fix the call without reading our source. The classes subclass the built-in exception a Python user
would catch anyway (``ValueError``, ``TypeError``, ``RuntimeError``), so ``except ValueError`` keeps
working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckpointError",
    "ConstantOutputError",
    "ConstantOutputWarning",
    "GliderError",
    "InputError",
    "InputTypeError",
    "ModelError",
    "ModelLoadError",
    "NonFiniteOutputError",
    "PluginConflictError",
    "UnknownPluginError",
]


class GliderError(Exception):
    """Base class of every error raised by glider-plugins."""


class InputError(GliderError, ValueError):
    """An argument or model input has the wrong shape, value, name or count."""


class InputTypeError(GliderError, TypeError):
    """An argument or model input has a type or dtype that cannot be used safely."""


class CheckpointError(GliderError, OSError):
    """A checkpoint folder cannot be created, read or written (a path under a file, no permission, a
    full disk): the message names ``checkpoint``, the path and what to do; no file is left
    half-written."""


class ModelError(GliderError, RuntimeError):
    """The model raised while answering a batch of queries."""


class NonFiniteOutputError(ModelError):
    """The model returned NaN or infinite scores.

    Attributes
    ----------
    rows : numpy.ndarray of int, or None
        Positions of the non-finite scores in the batch the adapter was given.
    """

    def __init__(self, message: str, rows: Any = None) -> None:
        super().__init__(message)
        self.rows = rows


class ConstantOutputError(InputError):
    """The model's output does not change under any perturbation of the given instances."""


class ConstantOutputWarning(RuntimeWarning):
    """Some instances' outputs do not change under perturbation: they get empty results."""


class ModelLoadError(GliderError, ValueError):
    """A model file or object could not be loaded (corrupt file, unknown format)."""


class UnknownPluginError(GliderError, KeyError):
    """A perturbation scheme, detector, encoder or adapter name that no plugin registered."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class PluginConflictError(GliderError, RuntimeError):
    """Two plugins registered the same name for one kind (perturbation, detector, encoder, adapter)."""
