"""Set functions on p features: every mask, the Moebius transform, and pair masses.

Around an instance the model is a set function ``v(T)`` of the features switched on; its pure
effects (Moebius coefficients) ``m(S)`` add up to it, ``v(T) = sum_{S subset of T} m(S)``. The
exact references (:mod:`glider_plugins.reference`), the detectors and the shapiq conversions all
speak this arithmetic; it depends on numpy alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from .errors import InputError

__all__ = ["all_masks", "moebius_transform", "pair_mass"]


def all_masks(n_features: int) -> np.ndarray:
    """Every mask of ``p`` features, shape (2**p, p), bool; row ``s`` has feature ``i`` on when bit
    ``i`` of ``s`` is set (row 0 all off, the last row all on)."""
    s = np.arange(2**n_features)[:, None]
    return ((s >> np.arange(n_features)[None, :]) & 1).astype(bool)


def moebius_transform(values: np.ndarray) -> np.ndarray:
    """The Moebius transform of set functions given on all subsets, in subset-bitmask order.

    Parameters
    ----------
    values : numpy.ndarray, shape (N, 2**p) or (2**p,)
        ``values[..., s]`` is ``v(T)`` for the set ``T`` of the bits of ``s``.

    Returns
    -------
    numpy.ndarray, same shape, float64
        ``m[..., s]``: the pure effect of the set of the bits of ``s``.
    """
    values = np.asarray(values, dtype=np.float64)
    size = values.shape[-1]
    p = size.bit_length() - 1
    if size != 2**p:
        raise InputError(f"values must hold 2**p entries in their last axis, got {size}")
    lead = values.shape[:-1]
    m = values.reshape(*lead, *([2] * p)).copy()  # axis -1 is bit 0, axis -p is bit p-1
    for axis in range(len(lead), len(lead) + p):
        index_on = [slice(None)] * m.ndim
        index_off = [slice(None)] * m.ndim
        index_on[axis], index_off[axis] = 1, 0
        m[tuple(index_on)] -= m[tuple(index_off)]
    return m.reshape(values.shape)


def pair_mass(p: int, terms: Sequence[tuple[int, ...]], effects: np.ndarray) -> np.ndarray:
    """Each pair's interaction mass, ``sum |m(S)|`` over the fitted terms holding it, (p, p)."""
    mass = np.zeros((p, p))
    for members, value in zip(terms, np.abs(effects), strict=True):
        for a, b in itertools.combinations(members, 2):
            mass[a, b] += value
            mass[b, a] += value
    return mass
