"""Interaction detectors: the :class:`Detector` protocol and the built-in ``nid`` and ``archdetect``.

``NIDDetector`` needs torch, which is imported when that name is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .archdetect import ArchDetectDetector
from .base import Detector

if TYPE_CHECKING:
    from .nid import NIDDetector

__all__ = ["ArchDetectDetector", "Detector", "NIDDetector"]


def __getattr__(name: str) -> Any:
    if name == "NIDDetector":
        from .nid import NIDDetector

        return NIDDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
