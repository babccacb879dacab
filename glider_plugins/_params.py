"""scikit-learn's parameter convention for detectors and perturbation schemes.

Every constructor argument is stored, unchanged in meaning, under its own name, so
:func:`constructor_params` can read them all back: ``__repr__``, ``get_params()`` and checkpoint
headers then name every setting, and a setting left out of a hand-written ``__repr__`` can no
longer make two different runs look the same.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["constructor_params", "params_repr"]


def constructor_params(obj: Any) -> dict[str, Any]:
    """``{name: value}`` of every named argument of ``type(obj).__init__``, read off ``obj``.

    Raises
    ------
    TypeError
        When an argument is not stored under its own name (a plugin breaking the convention):
        the message names them; override ``get_params`` then.
    """
    signature = inspect.signature(type(obj).__init__)
    names = [n for n, p in signature.parameters.items()
             if n != "self" and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise TypeError(f"{type(obj).__name__} does not store its constructor arguments {missing} under their names; "
                        "define get_params() returning every argument")
    return {n: getattr(obj, n) for n in names}


def params_repr(obj: Any) -> str:
    """``ClassName(a=1, b='x')`` from ``obj.get_params()`` (``ClassName(...)`` when a plugin's
    parameters cannot be read: a repr never raises)."""
    try:
        params = obj.get_params()
    except TypeError:
        return f"{type(obj).__name__}(...)"
    return f"{type(obj).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
