"""What a perturbation scheme is: how to switch interpretable features off, and what "off" means.

Data flow (see ARCHITECTURE.md)::

    FeatureLayout + PerturbationScheme --> masks (N, n, p) --> model inputs (rows) --> adapter

A scheme does two things, both on a whole batch at once:

* :meth:`PerturbationScheme.sample_masks` draws boolean masks over the ``p`` interpretable features
  of each of the ``N`` instances (``True`` = the feature keeps the instance's value);
* :meth:`PerturbationScheme.perturb` turns any set of mask rows into model inputs. Rows are given
  with the instance each belongs to, so the caller can stream them in chunks of any size.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from .._params import constructor_params, params_repr
from ..layout import FeatureLayout

__all__ = ["PerturbationScheme", "lime_kernel_weights"]


class PerturbationScheme(ABC):
    """Base class of perturbation schemes (built-in and plugins alike).

    Subclasses set :attr:`name` and implement :meth:`sample_masks` and :meth:`perturb`.
    Every random choice uses the ``rng`` passed in, never global state, so a seed reproduces a run.
    """

    #: Registry name, e.g. ``"binary"``.
    name: ClassVar[str] = ""
    #: ``True``: a perturbed row depends only on its instance and mask (no random draws besides a
    #: ``Background``'s rows), so repeated masks are queried once; ``False``: every row is drawn
    #: anew; ``None`` (undeclared): treated as ``False``.
    deterministic: ClassVar[bool | None] = None

    @abstractmethod
    def sample_masks(self, n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """Draw perturbation masks.

        Parameters
        ----------
        n_instances : int
            N, the number of instances explained together.
        n_features : int
            p, the number of interpretable features.
        n_samples : int
            n, perturbations per instance (the first is the unperturbed instance).
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray of bool, shape (N, n, p)
            ``masks[i, 0]`` is all ``True`` (the instance itself).
        """

    @abstractmethod
    def perturb(
        self,
        layout: FeatureLayout,
        masks: np.ndarray,
        instance_ids: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, ...]:
        """Build model inputs for mask rows.

        Parameters
        ----------
        layout : FeatureLayout
            The formatted inputs, feature mask and baselines of all N instances.
        masks : numpy.ndarray of bool, shape (M, p)
            Mask rows to realise, from any instances, in any order.
        instance_ids : numpy.ndarray of int, shape (M,)
            The instance (0..N-1) each mask row belongs to.
        rng : numpy.random.Generator
            For schemes that draw values (background rows, noise).

        Returns
        -------
        tuple of numpy.ndarray
            One array per model input, each of shape ``(M, *input_shape_k)``, in the layout's order.
        """

    def kernel_weights(self, masks: np.ndarray, kernel_width: float = 0.25) -> np.ndarray:
        """LIME-style sample weights for masks of shape (..., p); see :func:`lime_kernel_weights`."""
        return lime_kernel_weights(masks, kernel_width)

    def get_params(self) -> dict[str, object]:
        """Every constructor argument as set (scikit-learn's convention); ``repr`` and checkpoint
        headers are built from it."""
        return constructor_params(self)

    def __repr__(self) -> str:
        return params_repr(self)


def lime_kernel_weights(masks: np.ndarray, kernel_width: float = 0.25) -> np.ndarray:
    """LIME's exponential kernel on the cosine distance between each mask and the all-ones mask.

    ``d = 1 - cos(mask, 1) = 1 - sqrt(k / p)`` for ``k`` features on, and the weight is
    ``sqrt(exp(-d**2 / kernel_width**2))`` (LIME's ``kernel`` with MADEX's width 0.25).

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (..., p)
    kernel_width : float, default 0.25

    Returns
    -------
    numpy.ndarray of float64, shape (...)
    """
    if kernel_width <= 0:
        raise ValueError(f"kernel_width must be positive, got {kernel_width}")
    p = masks.shape[-1]
    on = masks.sum(axis=-1, dtype=np.float64)
    distance = 1.0 - np.sqrt(on / p)
    return np.sqrt(np.exp(-(distance**2) / kernel_width**2))
