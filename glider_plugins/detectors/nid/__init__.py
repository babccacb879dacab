"""MADEX's detector, Neural Interaction Detection on local perturbations (``"nid"``; needs torch).

The stages, top to bottom: :mod:`.detector` (:class:`NIDDetector`: train, read, rank, refit),
:mod:`.stages` (the passes: each one's pairs and sets explained away by :mod:`.crosses` before the
next), :mod:`.decoding` (interactions read off the weights), :mod:`.training` and :mod:`.network`
(the stacked MLPs), and :mod:`.refit` (what the networks found, re-estimated as pure effects by the
shared layer :mod:`glider_plugins.detectors.pure_effects`).
"""

from __future__ import annotations

from typing import Any

from . import detector as _detector
from .detector import NIDDetector, nid_anyorder, nid_pairwise, prune_redundant

# The public home of the class: checkpoint headers and pickles name it by this path (as 0.1 wrote it).
NIDDetector.__module__ = __name__

__all__ = ["NIDDetector", "nid_anyorder", "nid_pairwise", "prune_redundant"]


def __getattr__(name: str) -> Any:
    # 0.1's glider_plugins.detectors.nid was today's .detector module: its other names still resolve
    try:
        return getattr(_detector, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
