"""``"segment_mean"``: an "off" superpixel takes its own mean colour (LIME's and the GLIDER paper's choice).

Unlike a constant baseline, this keeps the image's colours and removes only the superpixel's
texture and edges. Masks are LIME's (as for ``"binary"``); baselines are not used.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..layout import FeatureLayout
from .base import PerturbationScheme
from .binary import sample_lime_masks

__all__ = ["SegmentMeanPerturbation", "segment_means"]

#: Longest axis that can hold channels when :func:`infer_channel_axes` guesses.
MAX_CHANNELS = 4


class SegmentMeanPerturbation(PerturbationScheme):
    """Switch superpixels between the instance's pixels (on) and their mean colour (off).

    The mean is per instance, per feature and per channel: for (N, C, H, W) and (N, H, W, C)
    inputs with a superpixel mask shared by the channels, an off superpixel becomes flat in its
    average colour.

    Parameters
    ----------
    channel_axis : int or sequence of int, optional
        Axes of the (batched) input holding channels, e.g. 1 for (N, C, H, W), -1 for
        (N, H, W, C). Default: see :func:`infer_channel_axes`; none for inputs without one (a
        grayscale (N, H, W) batch), whose superpixels then take one mean value.

    Examples
    --------
    >>> mask = superpixel_mask(images, "slic", n_segments=40)                # doctest: +SKIP
    >>> InteractionAttribution(cnn, perturbation="segment_mean").attribute_interactions(images, feature_mask=mask)
    """

    name = "segment_mean"
    deterministic = True

    def __init__(self, channel_axis: int | tuple[int, ...] | None = None) -> None:
        if channel_axis is not None and not isinstance(channel_axis, (int, np.integer, tuple, list)):
            raise InputError(f"channel_axis: expected an axis or a tuple of axes, got {channel_axis!r}")
        self.channel_axis = channel_axis

    def sample_masks(self, n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return sample_lime_masks(n_instances, n_features, n_samples, rng)

    def perturb(self, layout: FeatureLayout, masks: np.ndarray, instance_ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        on = layout.element_masks(masks, instance_ids)
        unique, inverse = np.unique(instance_ids, return_inverse=True)
        out = []
        for keep, x, fm in zip(on, layout.inputs, layout.feature_mask):
            ids = fm[unique] if fm.shape[0] > 1 else np.broadcast_to(fm, (len(unique), *fm.shape[1:]))
            axes = self._channel_axes(x, fm)
            fill = segment_means(x[unique], ids, layout.n_features, axes)
            out.append(np.where(keep, x[instance_ids], fill[inverse]))
        return tuple(out)

    def _channel_axes(self, x: np.ndarray, fm: np.ndarray) -> tuple[int, ...]:
        if self.channel_axis is None:
            return infer_channel_axes(fm)
        axes = self.channel_axis if isinstance(self.channel_axis, (tuple, list)) else (self.channel_axis,)
        inside = all(-x.ndim <= int(a) < x.ndim for a in axes)
        normal = tuple(sorted({int(a) % x.ndim for a in axes})) if inside else ()
        if not inside or 0 in normal:
            raise InputError(f"channel_axis: {self.channel_axis!r} is not a non-batch axis of inputs shaped {x.shape}")
        return normal

def infer_channel_axes(feature_mask: np.ndarray) -> tuple[int, ...]:
    """The channel axis of images (N, C, ...) or (N, ..., C): axis 1 or the last one, of length
    <= :data:`MAX_CHANNELS`, along which ``feature_mask`` is constant; if both qualify, the one of
    length 1, 3 or 4, else axis 1. ``()`` when neither does (one mean over all channels)."""
    if feature_mask.ndim < 3:
        return ()
    candidates = [
        axis for axis in (1, feature_mask.ndim - 1)
        if feature_mask.shape[axis] <= MAX_CHANNELS
        and np.array_equal(feature_mask, np.broadcast_to(np.take(feature_mask, [0], axis=axis), feature_mask.shape))
    ]
    if len(candidates) == 2:
        typical = [a for a in candidates if feature_mask.shape[a] in (1, 3, 4)]
        candidates = typical[:1] or candidates[:1]
    return tuple(candidates)


def segment_means(x: np.ndarray, feature_mask: np.ndarray, n_features: int, channel_axes: tuple[int, ...] = ()) -> np.ndarray:
    """Each element replaced by the mean of its feature (per instance and channel).

    Parameters
    ----------
    x : numpy.ndarray, shape (N, *S)
        Instances.
    feature_mask : numpy.ndarray of int, shape (N, *S)
        Feature ids 0..n_features-1 of every element of every instance.
    n_features : int
    channel_axes : tuple of int
        Axes of ``x`` (1..ndim-1) averaged separately, one mean per index along them.

    Returns
    -------
    numpy.ndarray, shape (N, *S), ``x``'s dtype (integers rounded)
    """
    n = x.shape[0]
    rest = [a for a in range(1, x.ndim) if a not in channel_axes]
    order = [0, *rest, *channel_axes]
    xt = np.transpose(x, order)
    channels = int(np.prod([x.shape[a] for a in channel_axes], dtype=np.int64))
    values = xt.reshape(n, -1, channels).astype(np.float64)  # (N, K, C)
    keys = np.transpose(feature_mask, order).reshape(n, -1, channels) + n_features * np.arange(n)[:, None, None]
    keys = keys + n * n_features * np.arange(channels)  # one group per (instance, feature, channel)
    size = n * n_features * channels
    sums = np.bincount(keys.ravel(), weights=values.ravel(), minlength=size)
    counts = np.bincount(keys.ravel(), minlength=size)
    means = (sums / np.maximum(counts, 1))[keys]
    if np.issubdtype(x.dtype, np.integer):
        means = np.rint(means)
    filled = means.astype(x.dtype).reshape(xt.shape)
    return np.transpose(filled, np.argsort(order))
