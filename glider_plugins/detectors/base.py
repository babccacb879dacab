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

from .._checks import check_int
from .._params import constructor_params, params_repr
from ..errors import InputError, InputTypeError
from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions

__all__ = ["Detector", "check_experiments"]


class Detector(ABC):
    """Base class of interaction detectors (built-in and plugins alike).

    Detector options (network sizes, regularisation, ...) are constructor arguments, so that
    ``InteractionAttribution.attribute_interactions(..., **detector_options)`` can build one per call.
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

    def get_params(self) -> dict[str, object]:
        """Every constructor argument as set (scikit-learn's convention): ``repr`` and checkpoint
        headers are built from it, so two detectors that differ in any setting differ there."""
        return constructor_params(self)

    def __repr__(self) -> str:
        return params_repr(self)


def check_experiments(
    masks: np.ndarray,
    outputs: np.ndarray,
    weights: np.ndarray | None,
    max_order: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int | None]:
    """Validate a detector's inputs; shared by the built-in detectors.

    Returns
    -------
    masks : numpy.ndarray of bool, shape (N, n, p)
    outputs : numpy.ndarray of float64, shape (N, n)
    weights : numpy.ndarray of float64, shape (N, n), or None
    max_order : int or None
    """
    if not isinstance(rng, np.random.Generator):
        raise InputTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise InputError(f"masks must have shape (N, n, p), got shape {masks.shape}")
    if masks.dtype != bool:
        if not (np.issubdtype(masks.dtype, np.integer) or np.issubdtype(masks.dtype, np.floating)):
            raise InputTypeError(f"masks must be bool (or 0/1 numbers), got dtype {masks.dtype}")
        if not np.isin(masks, (0, 1)).all():
            raise InputError("masks must hold only 0/1 (True/False) values")
        masks = masks.astype(bool)
    n_inst, n, p = masks.shape
    if n < 1 or p < 1:
        raise InputError(
            f"masks must have at least one sample and one feature, got shape {masks.shape}"
        )
    outputs = np.asarray(outputs)
    if outputs.shape != (n_inst, n):
        raise InputError(
            f"outputs must have shape (N, n) = ({n_inst}, {n}) to match masks, got {outputs.shape}"
        )
    if not np.issubdtype(outputs.dtype, np.number) or np.issubdtype(
        outputs.dtype, np.complexfloating
    ):
        raise InputTypeError(f"outputs must be real numbers, got dtype {outputs.dtype}")
    outputs = outputs.astype(np.float64)
    if not np.isfinite(outputs).all():
        raise InputError("outputs must be finite (found NaN or inf)")
    if weights is not None:
        weights = np.asarray(weights)
        if weights.shape != (n_inst, n):
            raise InputError(
                f"weights must have shape (N, n) = ({n_inst}, {n}) to match masks, got {weights.shape}"
            )
        weights = weights.astype(np.float64)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise InputError("weights must be finite and non-negative")
        if n_inst and (weights.sum(axis=1) <= 0).any():
            raise InputError("weights must have a positive sum for every instance")
    check_int("max_order", max_order, 2, allow_none=True)
    return masks, outputs, weights, None if max_order is None else int(max_order)
