"""``"binary"``: LIME-style masks; an "off" feature takes its baseline (or a background row's value)."""

from __future__ import annotations

import numpy as np

from ..layout import FeatureLayout
from .base import PerturbationScheme

__all__ = ["BinaryPerturbation", "sample_lime_masks"]


def sample_lime_masks(n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """LIME's sampling: row 0 is the instance; every other row switches off a uniformly random
    number (1..p) of uniformly chosen features.

    Returns
    -------
    numpy.ndarray of bool, shape (n_instances, n_samples, n_features)
    """
    masks = np.ones((n_instances, n_samples, n_features), dtype=bool)
    if n_samples <= 1:
        return masks
    shape = (n_instances, n_samples - 1)
    n_off = rng.integers(1, n_features + 1, size=shape)
    # a random rank per feature; the n_off lowest-ranked features are switched off
    ranks = np.argsort(rng.random((*shape, n_features)), axis=-1).argsort(axis=-1)
    masks[:, 1:, :] = ranks >= n_off[..., None]
    return masks


class BinaryPerturbation(PerturbationScheme):
    """Switch features between the instance's value (on) and a baseline value (off).

    The baseline is whatever the layout holds: a scalar or per-element tensor, a fixed id for a
    categorical input (the missing/OOV id of a recommender), or a background data set, an off
    feature then taking the value of one random background row (one row per perturbed sample,
    shared by all off features of that sample, so that features keep their joint distribution).
    """

    name = "binary"
    deterministic = True

    def sample_masks(self, n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return sample_lime_masks(n_instances, n_features, n_samples, rng)

    def perturb(self, layout: FeatureLayout, masks: np.ndarray, instance_ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        on = layout.element_masks(masks, instance_ids)
        off = layout.off_values(instance_ids, rng)
        return tuple(np.where(keep, x[instance_ids], alt) for keep, x, alt in zip(on, layout.inputs, off))
