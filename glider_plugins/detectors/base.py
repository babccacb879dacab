"""What a detector is: perturbation experiments in, interactions of every instance out.

Data flow (see ARCHITECTURE.md)::

    masks (N, n, p) + outputs (N, n) (+ weights (N, n)) --> Detector --> LocalInteractions x N

A detector sees only the binary masks and the model's answers; it never calls the model. All N
instances are handled in one call, so a detector can batch its work across instances.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions

__all__ = ["Detector"]


class Detector(ABC):
    """Base class of interaction detectors (built-in and plugins alike).

    Detector options (network sizes, regularisation, ...) are constructor arguments, so that
    ``InteractionAttribution.attribute(..., **detector_options)`` can build one per call.
    """

    #: Registry name, e.g. ``"nid"``.
    name: ClassVar[str] = ""

    def min_samples(self, n_features: int) -> int:
        """The fewest perturbations per instance this detector can work with for ``n_features``."""
        return 2

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: PerturbationScheme,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The masks to query, shape (N, n, p), bool.

        The default draws them from the perturbation scheme; detectors that need a fixed design
        (ArchDetect's contexts) override this and may return another ``n`` than ``n_samples``.
        """
        return perturbation.sample_masks(n_instances, n_features, n_samples, rng)

    @abstractmethod
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
        """Read interactions off the experiments of N instances.

        Parameters
        ----------
        masks : numpy.ndarray of bool, shape (N, n, p)
            The masks returned by :meth:`design` (row 0 of each instance all ``True``).
        outputs : numpy.ndarray of float, shape (N, n)
            The model's score for each perturbed input.
        weights : numpy.ndarray of float, shape (N, n), optional
            Sample weights (e.g. LIME kernel weights); ``None`` weighs samples equally.
        max_order : int, optional
            Largest interaction order to report (2 = pairs only). ``None``: the detector's default.
        rng : numpy.random.Generator
            The only source of randomness (initialisation, train/validation split).
        show_progress : bool
            Show a tqdm bar for long work.

        Returns
        -------
        list of LocalInteractions, length N
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
