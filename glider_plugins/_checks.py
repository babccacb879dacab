"""Argument checks shared by the public boundary: one wording for every integer option."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["check_int", "is_int"]


def is_int(value: Any) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, minimum: int = 1, *, allow_none: bool = False) -> None:
    """Raise :class:`InputError` naming ``name`` unless ``value`` is an integer >= ``minimum``.

    The message says "a positive integer" for ``minimum=1``, "an integer >= minimum" otherwise,
    and adds "or None" when ``None`` is allowed.
    """
    if allow_none and value is None:
        return
    if is_int(value) and value >= minimum:
        return
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    raise InputError(f"{name} must be {expected}{' or None' if allow_none else ''}, got {value!r}")
