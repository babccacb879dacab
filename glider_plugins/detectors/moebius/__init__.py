"""The ``"moebius"`` detector: pure effects of every order the query budget allows.

* :mod:`.design`: ArchDetect's design (or its ``2 p + 2`` main-effect rows) and distinct random masks;
* :mod:`.detector`: :class:`MoebiusDetector`, the design and the settings of the pure-effect
  regression it shares with NID's refit (:mod:`glider_plugins.detectors.pure_effects`).
"""

from __future__ import annotations

from .design import moebius_design, screening_design
from .detector import MAX_TERMS, MoebiusDetector, fit_order

# The public home of the class: checkpoint headers and pickles name it by this path (as 0.1 wrote it).
MoebiusDetector.__module__ = __name__

__all__ = ["MAX_TERMS", "MoebiusDetector", "fit_order", "moebius_design", "screening_design"]
