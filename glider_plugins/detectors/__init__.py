"""Interaction detectors: the :class:`Detector` protocol and the built-in detectors.

Layers, top to bottom (each imports only those below it; ``tox`` checks it):

* :mod:`.auto`: ``"auto"``, the default, the one place that chooses a detector and hands instances
  from one to another;
* :mod:`.archdetect`, :mod:`.fourier`, :mod:`.moebius`, :mod:`.nid`: the families, independent of
  each other (``"fourier"`` reports the Banzhaf and Shapley interactions of pairs, the others pure
  effects);
* :mod:`.pure_effects`: the pure-effect arithmetic and fitting they share;
* :mod:`.base`: the :class:`Detector` protocol.

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
