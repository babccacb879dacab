"""``"auto"``, the default detector: ArchDetect where its design fits the query budget, NID beyond.

Chosen by the real-model panel (``benchmarks/real_model_panel.py``, README): against the exact
pure effects of a LightGBM census model, a LightGBM breast-cancer model and a DeepFM, ArchDetect's
main effects and pair effects are exact, its results do not depend on the seed or on the framework
serving the model, and it ranks pairs as well as NID or better in 10 of 12 cells, at 1/30 to 1/300
of the time. Its fixed design needs ``p**2 + p + 2`` queries per instance, though (10,102 at
p = 100), where NID works from any budget: so ``"auto"`` takes ArchDetect when that design fits in
``n_samples``, and NID when it does not (about p > 31 at the default 1000 samples), or when the
options given are NID's own (``hidden_units``, ``stages``, ...).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..results import LocalInteractions
from .archdetect import ArchDetectDetector
from .base import Detector

__all__ = ["AutoDetector"]


class AutoDetector(Detector):
    """Resolves to :class:`ArchDetectDetector` or :class:`~glider_plugins.detectors.NIDDetector`
    once the number of features and the budget are known (:meth:`resolve`).

    Parameters
    ----------
    **options
        Passed to the detector chosen. Options only NID takes choose NID.
    """

    name: ClassVar[str] = "auto"

    def __init__(self, **options: Any) -> None:
        from .nid import NIDDetector

        arch, nid = _accepted(ArchDetectDetector), _accepted(NIDDetector)
        unknown = sorted(set(options) - arch - nid)
        if unknown:
            raise InputError(
                f"detector options {unknown} are taken by neither 'archdetect' ({sorted(arch)}) nor 'nid' ({sorted(nid)})"
            )
        self.options = dict(options)
        ArchDetectDetector(**{k: v for k, v in options.items() if k in arch})  # check values now
        NIDDetector(**{k: v for k, v in options.items() if k in nid})

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"AutoDetector({inner})"

    def resolve(self, n_features: int, n_samples: int) -> Detector:
        """The detector for ``n_features`` features and ``n_samples`` queries per instance."""
        fits = ArchDetectDetector().min_samples(n_features) <= n_samples
        if fits and set(self.options) <= _accepted(ArchDetectDetector):
            return ArchDetectDetector(**self.options)
        return self._nid()

    def _nid(self) -> Detector:
        """NID with the options it takes."""
        from .nid import NIDDetector

        return NIDDetector(**{k: v for k, v in self.options.items() if k in _accepted(NIDDetector)})

    def detect(
        self,
        masks: np.ndarray,
        outputs: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        max_order: int | None = None,
        rng: np.random.Generator,
        show_progress: bool = False,
    ) -> list[LocalInteractions]:
        """Detect with the detector :meth:`resolve` picks for these masks' ``p`` and ``n``."""
        n, p = np.shape(masks)[1:]
        chosen = self.resolve(p, n)
        if isinstance(chosen, ArchDetectDetector) and n != chosen.min_samples(p):
            chosen = self._nid()
        return chosen.detect(masks, outputs, weights, max_order=max_order, rng=rng, show_progress=show_progress)


def _accepted(cls: type) -> set[str]:
    return {name for name in inspect.signature(cls.__init__).parameters if name != "self"}
