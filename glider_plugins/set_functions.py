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

__all__ = [
    "INDICES", "all_masks", "check_index", "distinct_masks", "exact_index_values", "exact_pair_index", "feature_codes", "game_values",
    "index_values", "mask_keys", "moebius_transform", "pair_mass", "pair_matrix", "walsh_transform", "walsh_values",
]


def all_masks(n_features: int) -> np.ndarray:
    """Every mask of ``p`` features, shape (2**p, p), bool; row ``s`` has feature ``i`` on when bit
    ``i`` of ``s`` is set (row 0 all off, the last row all on)."""
    s = np.arange(2**n_features)[:, None]
    return ((s >> np.arange(n_features)[None, :]) & 1).astype(bool)


def mask_keys(masks: np.ndarray) -> np.ndarray:
    """Each row of ``masks`` (n, p) packed into one key, shape (n,): equal rows, equal keys; keys
    sort like the rows' bits (feature 0 first). Unsigned 64-bit integers up to 64 features (their
    bytes read big-endian: an integer sort), byte strings beyond."""
    packed = np.packbits(np.asarray(masks, dtype=bool), axis=1)
    if packed.shape[1] == 0:  # no features: every row the same
        packed = np.zeros((len(packed), 1), dtype=np.uint8)
    if packed.shape[1] <= 8:
        wide = np.zeros((len(packed), 8), dtype=np.uint8)
        wide[:, : packed.shape[1]] = packed
        return wide.view(">u8").ravel().astype(np.uint64)
    return np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()


def feature_codes(masks: np.ndarray) -> np.ndarray:
    """Each mask (n, p) as one integer, feature ``i`` its bit ``i``, shape (n,), int64 (p <= 62)."""
    return masks.astype(np.int64) @ (np.int64(1) << np.arange(masks.shape[1], dtype=np.int64))


def distinct_masks(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``masks`` (n, p) as sorted :func:`mask_keys`, and each row's position
    among them, shape (n,): ``np.unique(masks, axis=0, return_inverse=True)`` in a tenth of its time."""
    unique, inverse = np.unique(mask_keys(masks), return_inverse=True)
    return unique, inverse.ravel()


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
    """Each pair's interaction mass, ``sum |m(S)|`` over the fitted terms holding it, (p, p).

    Each entry adds its terms' magnitudes in one pass, the pairs' own terms first, then the larger
    sets, each group in the terms' order."""
    magnitudes = np.abs(np.asarray(effects, dtype=np.float64))
    sizes = np.fromiter((len(members) for members in terms), dtype=np.int64, count=len(terms))
    held = np.flatnonzero(sizes >= 2)
    if held.size == 0:
        return np.zeros((p, p))
    order, inner = [], []
    for size in np.unique(sizes[held]).tolist():  # every pair inside each set of one size at once
        rows = held[sizes[held] == size]
        members = np.array([terms[k] for k in rows.tolist()], dtype=np.int64).reshape(-1, size)
        inside = np.array(list(itertools.combinations(range(size), 2)), dtype=np.int64)
        inner.append(np.stack([members[:, inside[:, 0]], members[:, inside[:, 1]]], axis=-1).reshape(-1, 2))
        order.append(np.repeat(rows + len(terms) * (size > 2), len(inside)))  # the pairs' own terms first
    first = np.argsort(np.concatenate(order), kind="stable")
    a, b = np.concatenate(inner)[first].T
    w = magnitudes[np.concatenate(order)[first] % len(terms)]
    cells = np.stack([a * p + b, b * p + a], axis=1).ravel()  # both halves, each entry in the same order
    return np.bincount(cells, weights=np.repeat(w, 2), minlength=p * p).reshape(p, p)


#: Interaction indices of order 2 by shapiq's names: ``"Moebius"`` (the pure effects themselves;
#: a pair's strength is its mass), ``"BII"`` (Banzhaf interaction index) and ``"k-SII"`` (Shapley
#: interaction index, order 2: pairs are SII's, singles adjusted by Bernoulli numbers).
INDICES = ("Moebius", "BII", "k-SII")


def check_index(index: object) -> str:
    """``index`` if it is one of :data:`INDICES`, else an :class:`InputError` naming them."""
    if index not in INDICES:
        raise InputError(f"index: expected one of {list(INDICES)}, got {index!r}")
    return str(index)


def _weight(index: str, extra: np.ndarray) -> np.ndarray:
    """The weight of ``m(R)`` in the index of a set ``S`` inside ``R``, by ``extra = |R| - |S|``:
    ``2**-extra`` (Banzhaf), ``1 / (extra + 1)`` (Shapley)."""
    extra = np.asarray(extra, dtype=np.float64)
    return 2.0**-extra if index == "BII" else 1.0 / (extra + 1.0)


def index_values(n_features: int, terms: Sequence[tuple[int, ...]], effects: np.ndarray, index: str) -> dict[tuple[int, ...], float]:
    """The order-2 interaction index of a game given by its pure effects: the value of the empty set,
    of every feature and of every pair, as shapiq's exact computation defines them.

    ``I(S) = sum_{R containing S} w(|R| - |S|) m(R)`` with ``w(d) = 2**-d`` for ``"BII"`` and
    ``1 / (d + 1)`` for the Shapley interaction index; ``"k-SII"`` keeps SII's pairs, adjusts the
    singles by the Bernoulli number ``-1/2`` (``SII(i) - 1/2 sum_j SII(ij)``: they add up to the
    game with the pairs) and its empty set is ``m({})``.

    Parameters
    ----------
    n_features : int
    terms : sequence of tuple of int
        The sets ``R`` with a pure effect (the empty set included where known; absent sets are 0).
    effects : numpy.ndarray, shape (len(terms),)
        Their signed ``m(R)``.
    index : {"BII", "k-SII"}

    Returns
    -------
    dict of tuple of int to float
        ``()``, every ``(i,)`` and every ``(i, j)``, ``i < j``.
    """
    if index not in ("BII", "k-SII"):
        raise InputError(f"index: expected 'BII' or 'k-SII' (the pure effects are the 'Moebius' values), got {index!r}")
    p = int(n_features)
    shapley = "SII" if index == "k-SII" else "BII"
    empty, single, pair = 0.0, np.zeros(p), np.zeros((p, p))
    for members, value in zip(terms, np.asarray(effects, dtype=np.float64), strict=True):
        r = len(members)
        empty += float(_weight(shapley, r)) * value
        if r >= 1:
            single[list(members)] += float(_weight(shapley, r - 1)) * value
        if r >= 2:
            w = float(_weight(shapley, r - 2)) * value
            for a, b in itertools.combinations(members, 2):
                pair[a, b] += w
    if index == "k-SII":
        full = pair + pair.T
        single = single - 0.5 * full.sum(axis=1)
        empty = float(dict(zip(terms, effects, strict=True)).get((), 0.0))
    values: dict[tuple[int, ...], float] = {(): float(empty)}
    values.update(((i,), float(single[i])) for i in range(p))
    values.update(((a, b), float(pair[a, b])) for a, b in itertools.combinations(range(p), 2))
    return values


def pair_matrix(n_features: int, values: dict[tuple[int, ...], float]) -> np.ndarray:
    """The pairs of :func:`index_values` as a symmetric (p, p) array with a zero diagonal."""
    out = np.zeros((n_features, n_features))
    for members, value in values.items():
        if len(members) == 2:
            out[members] = out[members[::-1]] = value
    return out


def exact_pair_index(moebius: np.ndarray, index: str) -> np.ndarray:
    """Every pair's index from all ``2**p`` pure effects (subset-bitmask order), shape (N, p, p).

    ``"Moebius"``: the pair mass ``sum |m(S)|``; ``"BII"`` and ``"k-SII"``: the signed indices of
    :func:`index_values`.
    """
    index = check_index(index)
    moebius = np.atleast_2d(np.asarray(moebius, dtype=np.float64))
    p = moebius.shape[1].bit_length() - 1
    members = all_masks(p)
    sizes = members.sum(axis=1)
    big = sizes >= 2
    if index == "Moebius":
        weights, source = np.ones(big.sum()), np.abs(moebius[:, big])
    else:
        weights, source = _weight("BII" if index == "BII" else "SII", sizes[big] - 2), moebius[:, big]
    iu, ju = np.triu_indices(p, 1)
    holds = (members[big][:, iu] & members[big][:, ju]).astype(np.float64)  # (sets, pairs)
    upper = source @ (holds * weights[:, None])  # (N, pairs)
    out = np.zeros((len(moebius), p, p))
    out[:, iu, ju] = upper
    out[:, ju, iu] = upper
    return out


def exact_index_values(moebius: np.ndarray, index: str) -> dict[tuple[int, ...], float]:
    """:func:`index_values` of a game given by all ``2**p`` pure effects (subset-bitmask order), one
    instance, without a loop over the sets."""
    moebius = np.asarray(moebius, dtype=np.float64)
    p = moebius.shape[0].bit_length() - 1
    members = all_masks(p)
    sizes = members.sum(axis=1)
    shapley = "SII" if index == "k-SII" else "BII"
    if index not in ("BII", "k-SII"):
        raise InputError(f"index: expected 'BII' or 'k-SII', got {index!r}")
    empty = float(moebius @ _weight(shapley, sizes))
    single = (moebius * _weight(shapley, np.maximum(sizes - 1, 0)))[None] @ members.astype(np.float64)
    single = single[0]
    pair = exact_pair_index(moebius[None], index)[0]
    if index == "k-SII":
        single = single - 0.5 * pair.sum(axis=1)
        empty = float(moebius[0])
    values: dict[tuple[int, ...], float] = {(): empty}
    values.update(((i,), float(single[i])) for i in range(p))
    values.update(((a, b), float(pair[a, b])) for a, b in itertools.combinations(range(p), 2))
    return values


def walsh_transform(values: np.ndarray) -> np.ndarray:
    """The Fourier (Walsh) coefficients of set functions under uniform masks: ``f(S) = mean over
    masks z of v(z) prod_{i in S} (2 z_i - 1)``, in subset-bitmask order, same shape as ``values``
    ((N, 2**p) or (2**p,)). ``v(z) = sum_S f(S) prod_{i in S} (2 z_i - 1)``."""
    values = np.asarray(values, dtype=np.float64)
    size = values.shape[-1]
    p = size.bit_length() - 1
    if size != 2**p:
        raise InputError(f"values must hold 2**p entries in their last axis, got {size}")
    lead = values.shape[:-1]
    f = values.reshape(*lead, *([2] * p)).copy()
    for axis in range(len(lead), len(lead) + p):
        on = [slice(None)] * f.ndim
        off = [slice(None)] * f.ndim
        on[axis], off[axis] = 1, 0
        high, low = f[tuple(on)].copy(), f[tuple(off)].copy()
        f[tuple(off)] = (low + high) / 2.0
        f[tuple(on)] = (high - low) / 2.0
    return f.reshape(values.shape)


def game_values(n_features: int, effects: dict[tuple[int, ...], float]) -> np.ndarray:
    """The set function ``v(T) = sum_{S subset of T} m(S)`` on all ``2**p`` masks (subset-bitmask
    order) of sparse pure effects, shape (2**p,): the inverse of :func:`moebius_transform`."""
    p = int(n_features)
    v = np.zeros(2**p)
    for members, value in effects.items():
        v[sum(1 << int(i) for i in members)] += value
    v = v.reshape([2] * p)
    for axis in range(p):
        on = [slice(None)] * p
        off = [slice(None)] * p
        on[axis], off[axis] = 1, 0
        v[tuple(on)] += v[tuple(off)]
    return v.reshape(-1)


def walsh_values(n_features: int, coefficients: dict[tuple[int, ...], float]) -> np.ndarray:
    """``v(z) = sum_S f(S) prod_{i in S} (2 z_i - 1)`` on all ``2**p`` masks of sparse Fourier
    coefficients, shape (2**p,): the inverse of :func:`walsh_transform`."""
    signs = 2.0 * all_masks(int(n_features)) - 1.0
    out = np.zeros(len(signs))
    for members, value in coefficients.items():
        out += value * np.prod(signs[:, list(members)], axis=1)
    return out
