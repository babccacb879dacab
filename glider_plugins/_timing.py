"""Seconds spent in named parts of a block of work (fitting, inside a detector's detection),
collected where a caller asks for them and nowhere else.

A detector marks its fits with ``with spent("fit"):``; :func:`InteractionAttribution.attribute_interactions`
collects them around detection (``with collect() as seconds:``) and reports ``fit_seconds`` and the
rest, ``rank_seconds``. Nothing is kept on the detectors or the results (whose equality a timing
would break), and without a collector ``spent`` only reads the clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["collect", "spent"]

_collected: ContextVar[dict[str, float] | None] = ContextVar("glider_plugins_timings", default=None)
_open: ContextVar[frozenset[str]] = ContextVar("glider_plugins_open_timings", default=frozenset())


@contextmanager
def spent(part: str) -> Iterator[None]:
    """Add the block's seconds to ``part`` of the collector in force, if any (a part inside the
    same part is counted once: the outer block's time)."""
    seconds = _collected.get()
    if seconds is None or part in _open.get():
        yield
        return
    token = _open.set(_open.get() | {part})
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[part] = seconds.get(part, 0.0) + time.perf_counter() - start
        _open.reset(token)


@contextmanager
def collect() -> Iterator[dict[str, float]]:
    """Collect the seconds of every ``spent`` block run inside this one, by part (a fresh dict)."""
    seconds: dict[str, float] = {}
    token = _collected.set(seconds)
    try:
        yield seconds
    finally:
        _collected.reset(token)
