"""``"fourier"`` as a detector: the design and fit of :mod:`.design` and :mod:`.fit` for every instance."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._checks import check_int, check_number
from ...errors import InputError
from ...perturbations.base import PerturbationScheme
from ...results import LocalInteractions
from ..base import Detector, check_experiments
from ..pure_effects.differences import noise_rtol
from .design import DESIGNS, MIN_ROWS_PER_TERM, check_design_index, fourier_design, n_terms
from .fit import fourier_result

__all__ = ["FourierDetector"]


class FourierDetector(Detector):
    """The Banzhaf (BII) and Shapley (k-SII) interaction of every pair, by weighted least squares in
    the Fourier basis; ``interactions`` ranked by ``|BII|`` or ``|k-SII|`` (see the module docstring).

    Parameters
    ----------
    mixture : float or None, default None
        The share of the random masks with uniform sizes, in [0, 1]; ``None``: the ``index``'s
        (:data:`SIZE_MIXTURE` for BII, :data:`SHAPLEY_MIXTURE` for k-SII; ``get_params``
        reports the share used).
    rtol : float or None, default None
        Differences under ``rtol`` times the outputs' scale are zero in the exact main effects;
        ``None``: from the outputs' precision, as ArchDetect.
    index : {"BII", "k-SII"}, default "BII"
        The index the masks are drawn for and ``interactions`` rank by (``metadata["index"]``); both
        are reported either way. The Banzhaf index weighs mid-sized contexts, the Shapley index
        every context size alike: ``"k-SII"`` draws the random masks' sizes uniformly and queries
        ArchDetect's rows (the smallest and largest sizes) up to a larger share of the budget
        (:data:`DESIGNS`), which estimates the Shapley pairs better and the Banzhaf pairs worse.

    Notes
    -----
    Pairs only: ``max_order`` above 2 reports no larger sets (their indices are not identifiable
    either). ``weights`` are accepted and ignored: the size strata weigh the masks.
    """

    name: ClassVar[str] = "fourier"

    def __init__(self, mixture: float | None = None, rtol: float | None = None, index: str = "BII") -> None:
        self.index = check_design_index(index)
        if mixture is not None:
            check_number("mixture", mixture, low=0.0, high=1.0)
        if rtol is not None:
            check_number("rtol", rtol, low=0.0, high=1.0, high_open=True)
        self.mixture = DESIGNS[self.index].mixture if mixture is None else float(mixture)
        self.rtol = None if rtol is None else float(rtol)

    def min_samples(self, n_features: int) -> int:
        """The ``2 p + 2`` main-effect rows and :data:`MIN_ROWS_PER_TERM` random masks per term of
        the fit (or all ``2**p`` masks, when fewer)."""
        return min(2 * n_features + 2 + int(np.ceil(MIN_ROWS_PER_TERM * n_terms(n_features))), 2**n_features)

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: PerturbationScheme,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """:func:`fourier_design` for each instance, shape (N, n, p); row 0 all ``True``."""
        check_int("n_instances", n_instances, 0)
        check_int("n_samples", n_samples)
        if n_samples < self.min_samples(n_features):
            raise InputError(f"n_samples={n_samples} is too small for detector 'fourier' with {n_features} features; "
                             f"it needs at least {self.min_samples(n_features)}")
        designs = [fourier_design(n_features, n_samples, rng, self.mixture, DESIGNS[self.index].fixed_share) for _ in range(int(n_instances))]
        return np.stack(designs) if designs else np.zeros((0, n_samples, n_features), dtype=bool)

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
        """Each instance's :func:`fourier_result`."""
        masks, outputs, _, max_order = check_experiments(masks, outputs, weights, max_order, rng)
        rtols = noise_rtol(outputs) if self.rtol is None else np.full(len(outputs), self.rtol)
        instances = range(len(masks))
        if show_progress:
            from tqdm.auto import tqdm

            instances = tqdm(instances, desc="fourier fits", unit="instance")
        return [fourier_result(masks[k], outputs[k], float(rtols[k]), self.name, index=self.index) for k in instances]
