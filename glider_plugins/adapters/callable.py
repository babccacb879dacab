"""CallableAdapter: any Python function from numpy arrays to numpy scores."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Batch, ModelAdapter, Static

__all__ = ["CallableAdapter"]


class CallableAdapter(ModelAdapter):
    """Wrap a plain function ``f(*arrays) -> array`` (or ``f(dict) -> array`` for named inputs).

    Parameters
    ----------
    func : callable
        Called with one numpy array per input (positional), or with a single dict when the inputs
        were given as a dict. Must return one row per input row (array-like, torch or TF tensor).
    **options
        See :class:`~glider_plugins.adapters.base.ModelAdapter` (``target``, ``output``,
        ``batch_size``, ...).
    """

    framework = "callable"

    def __init__(self, func: Callable[..., Any], **options: Any) -> None:
        if not callable(func):
            raise TypeError(f"func: expected a callable, got {type(func).__name__}")
        super().__init__(**options)
        self.func = func

    def input_arity(self) -> tuple[int, int | None] | None:
        return _positional_arity(self.func)

    def _predict(self, batch: Batch) -> Any:
        if isinstance(batch, dict):
            out = self.func(batch)
        else:
            out = self.func(*(v.value if isinstance(v, Static) else v for v in batch))
        if isinstance(out, list) and all(np.isscalar(v) or getattr(v, "ndim", None) == 0 for v in out):
            return np.asarray(out)  # a Python list of scores, one per row (several outputs come as a tuple)
        return out


def _positional_arity(func: Callable[..., Any]) -> tuple[int, int | None] | None:
    """(required, maximum) positional parameters of ``func``; ``None`` when it cannot be read."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    return required, None if varargs else len(positional)
