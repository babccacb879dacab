"""A perturbation scheme for continuous inputs: "off" means "jittered by Gaussian noise".

Masks are drawn like LIME's: row 0 of every instance is the instance itself (all features on); every
other row switches off a uniformly random number ``k`` in ``1..p`` of features, the ``k`` chosen
uniformly. A switched-off feature does not take a baseline value: each of its elements becomes
``x + sigma * e`` with ``e ~ N(0, 1)`` drawn anew for every sample; features left on keep the
instance's value exactly. The mask therefore tells the detector which features were perturbed.

What the detector can see
-------------------------
A detector regresses the model's output on the masks, i.e. it sees the *average* effect of jittering
a set of features. Noise centred on the instance averages out of anything linear in each feature:
for ``f = x0 * x1``, ``E[(x0 + s e0) (x1 + s e1)] = x0 * x1`` whatever is jittered, so a purely
multiplicative interaction leaves no trace in the mean. What shows is curvature, e.g.
``E[(x0 + s e0)**2 (x1 + s e1)**2] = (x0**2 + s**2)(x1**2 + s**2)`` (an interaction of size
``s**4``), or saturating non-linearities such as ``tanh``/``sigmoid`` of a sum. Use this scheme to
ask "which features' local sensitivities combine non-additively"; use ``"binary"`` (baselines) to ask
"what happens when features are removed".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from glider_plugins.errors import InputError, InputTypeError
from glider_plugins.layout import FeatureLayout
from glider_plugins.perturbations.base import PerturbationScheme

__all__ = ["GaussianPerturbation"]


class GaussianPerturbation(PerturbationScheme):
    """Gaussian noise around the instance on the features a mask switches off.

    Parameters
    ----------
    sigma : float, array-like, or tuple of them, default 0.5
        Standard deviation of the noise, in the units of the inputs (absolute, not relative to the
        value). A scalar applies to every element; an array broadcastable to one instance's shape
        gives per-element scales (e.g. ``0.5 * X_train.std(axis=0)``, recommended when the features
        have different units); for a model with several inputs pass a tuple, one entry per input.

    Notes
    -----
    Inputs must be floating point: integer inputs (ids, categories) cannot be jittered, and an error
    naming the input is raised. All randomness comes from the ``rng`` arguments.
    """

    name: ClassVar[str] = "gaussian"

    def __init__(self, sigma: float | np.ndarray | Sequence[float | np.ndarray] = 0.5) -> None:
        parts = sigma if isinstance(sigma, tuple) else (sigma,)
        checked = []
        for k, part in enumerate(parts):
            try:
                array = np.asarray(part, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputTypeError(f"sigma: expected a number or an array of numbers, got {type(part).__name__}") from exc
            where = f"sigma[{k}]" if isinstance(sigma, tuple) else "sigma"
            if not np.all(np.isfinite(array)) or np.any(array < 0):
                raise InputError(f"{where} must be finite and non-negative, got {part!r}")
            checked.append(array)
        self.sigma = sigma
        self._sigmas = tuple(checked)

    def sample_masks(self, n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        """LIME-style masks, shape (N, n, p): row 0 all on, then 1..p random features off per row."""
        if n_instances < 1 or n_features < 1 or n_samples < 1:
            raise InputError(f"need at least one instance, feature and sample, got N={n_instances}, p={n_features}, n={n_samples}")
        masks = np.ones((n_instances, n_samples, n_features), dtype=bool)
        rows = n_samples - 1
        if rows:
            n_off = rng.integers(1, n_features + 1, size=(n_instances, rows))
            # a uniformly random subset of size n_off: the features whose random rank is below n_off
            ranks = rng.random((n_instances, rows, n_features)).argsort(axis=-1).argsort(axis=-1)
            masks[:, 1:] = ranks >= n_off[..., None]
        return masks

    def perturb(
        self,
        layout: FeatureLayout,
        masks: np.ndarray,
        instance_ids: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, ...]:
        """Model inputs for mask rows: the instance, plus noise on the elements of "off" features."""
        masks = np.asarray(masks, dtype=bool)
        instance_ids = np.asarray(instance_ids)
        n_inputs = len(layout.inputs)
        if len(self._sigmas) not in (1, n_inputs):
            raise InputError(f"sigma has {len(self._sigmas)} entries but the model has {n_inputs} inputs; give one per input or a single one")
        on = layout.element_masks(masks, instance_ids)
        out = []
        for k, (x, keep) in enumerate(zip(layout.inputs, on)):
            name = layout.input_names[k] if layout.input_names else f"input {k}"
            if not np.issubdtype(x.dtype, np.floating):
                raise InputTypeError(
                    f"the 'gaussian' perturbation jitters values, so every model input must be floating point; "
                    f"{name} is {x.dtype} (use the 'binary' perturbation for ids and categories)"
                )
            sigma = self._sigmas[k] if len(self._sigmas) == n_inputs else self._sigmas[0]
            try:
                sigma = np.broadcast_to(sigma, x.shape[1:])
            except ValueError:
                raise InputError(f"sigma of shape {sigma.shape} does not broadcast to {name}'s instance shape {x.shape[1:]}") from None
            rows = x[instance_ids]
            noise = rng.standard_normal(rows.shape) * sigma
            out.append(np.where(keep, rows, rows + noise).astype(x.dtype, copy=False))
        return tuple(out)

    def __repr__(self) -> str:
        return f"GaussianPerturbation(sigma={self.sigma!r})"
