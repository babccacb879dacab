"""Argument checks shared by the public boundary: one wording for every integer and number option."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["check_instance", "check_int", "check_number", "is_int"]


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


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise :class:`InputError` naming ``name`` unless ``value`` is a finite number in the bounds.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
    ):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise InputError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise InputError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def check_instance(instance: Any, n_instances: int) -> None:
    """Raise :class:`InputError` unless ``instance`` is an integer index into ``n_instances`` (not a bool)."""
    if not is_int(instance) or not -n_instances <= instance < n_instances:
        raise InputError(f"instance: expected an integer in 0..{n_instances - 1}, got {instance!r}")
