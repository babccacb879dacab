"""The Fourier detector's masks: ArchDetect's rows where they take little of the budget, else its
main-effect rows, then pairs of complementary masks of mixed sizes (see :mod:`glider_plugins.detectors.fourier`)."""

from __future__ import annotations

from math import comb
from typing import NamedTuple

import numpy as np

from ..._checks import check_int
from ...errors import InputError
from ...set_functions import all_masks, mask_keys
from ..pure_effects.differences import archdetect_design

__all__ = ["DESIGNS", "FIXED_SHARE", "MIN_ROWS_PER_TERM", "ROWS_PER_TERM", "SHAPLEY_FIXED_SHARE", "SHAPLEY_MIXTURE", "SIZE_MIXTURE",
           "DesignShares", "archdetect_leaves_room", "archdetect_rows", "check_design_index", "fixed_rows", "fourier_design", "n_terms"]

#: The share of the random masks whose sizes are uniform (the rest are binomial, as uniform masks'):
#: 0 ranks Shapley pairs worst, 0.5 Banzhaf pairs worst. Simulated on the dense panel's exact games
#: (6 seeds, 1000 queries, adaptive ridge): 0.15 against 0.3 ranks BII pairs at precision@5 0.94
#: against 0.93 (emotion CNN) and 0.93 against 0.92 (digits CNN), top-5 overlap across seeds 0.91
#: against 0.90, at k-SII precision@5 0.77 against 0.78 and 0.84 against 0.86; text models alike.
SIZE_MIXTURE = 0.15
#: ArchDetect's design (every set of up to two features on or off) takes at most this share of the
#: budget, or its ``2 p + 2`` main-effect rows stand in: those sizes weigh almost nothing in the BII
#: fit (simulated at 1000 queries: with the design, 24-27 % of the budget at 15-16 features, the
#: emotion and digits CNNs' BII precision@5 0.89 and 0.92; without it 0.94 and 0.93). At 12 features
#: (16 %) the text models keep it (0.98 with it, 0.97 without).
FIXED_SHARE = 0.2
#: Where the Shapley interactions are asked for (``index="k-SII"``): every size alike, as the
#: Shapley index weighs them, and ArchDetect's rows, which enumerate the sizes of at most two
#: features on or off (the fewest sets, so the largest weight per mask; KernelSHAPIQ's border
#: sizes), up to this share of the budget (at 1000 queries up to 16 features). Simulated on the
#: dense panel's exact games (6 seeds, 1000 queries; the BII design -> this one, KernelSHAPIQ's
#: k-SII on the same games): k-SII precision@5 0.815 -> 0.867 (0.774) emotion CNN, 0.837 -> 0.941
#: (0.933) with a background, 0.855 -> 0.895 (0.873) digits CNN, 0.913 -> 0.940 (0.835) with a
#: background, 0.972 -> 0.972 (0.945) review CNN, 0.967 -> 0.977 (0.912) GRU; at 300 queries
#: (ArchDetect's rows left out) 0.704 -> 0.733, 0.793 -> 0.815, 0.800 -> 0.787, 0.848 -> 0.838,
#: 0.917 -> 0.925, 0.892 -> 0.895 (KernelSHAPIQ 0.45-0.80). BII precision@5 falls by up to 0.07.
SHAPLEY_MIXTURE, SHAPLEY_FIXED_SHARE = 1.0, 0.3


class DesignShares(NamedTuple):
    """What a design drawn for one index is made of."""

    mixture: float  #: the share of the random masks with uniform sizes
    fixed_share: float  #: the largest share of the budget ArchDetect's rows take


#: The indices a design can be drawn for (``index=``), and its shares.
DESIGNS = {"BII": DesignShares(SIZE_MIXTURE, FIXED_SHARE), "k-SII": DesignShares(SHAPLEY_MIXTURE, SHAPLEY_FIXED_SHARE)}
#: ArchDetect's design is queried only where it leaves this many random rows per fitted term at
#: least (:func:`archdetect_leaves_room`: what ``"auto"`` reads to choose its detector).
ROWS_PER_TERM = 2.0
#: The fewest random masks per fitted term (:meth:`FourierDetector.min_samples`).
MIN_ROWS_PER_TERM = 1.25

def check_design_index(index: object, argument: str = "index") -> str:
    """``index`` if a design can be drawn for it (a key of :data:`DESIGNS`), else an
    :class:`~glider_plugins.errors.InputError` naming ``argument`` and the choices."""
    if not isinstance(index, str) or index not in DESIGNS:
        raise InputError(f"{argument}: expected one of {list(DESIGNS)} (the pairwise index to design the masks for and rank by), "
                         f"got {index!r}")
    return index


def n_terms(n_features: int) -> int:
    """The Fourier terms of up to two features: ``1 + p + p (p - 1) / 2``."""
    return 1 + n_features + comb(n_features, 2)


def archdetect_rows(n_features: int) -> int:
    """The rows of ArchDetect's design, ``p**2 + p + 2``: every set of at most two features on, and
    of at most two off, twice the terms of the fit."""
    return 2 * n_terms(n_features)


def archdetect_leaves_room(n_features: int, n_samples: int) -> bool:
    """Whether ArchDetect's design leaves :data:`ROWS_PER_TERM` random rows per term of the fit."""
    return archdetect_rows(n_features) + ROWS_PER_TERM * n_terms(n_features) <= n_samples


def fixed_rows(n_features: int, n_samples: int, share: float = FIXED_SHARE) -> np.ndarray:
    """ArchDetect's design when it leaves room (:func:`archdetect_leaves_room`) and takes at most
    ``share`` of ``n_samples`` (:data:`FIXED_SHARE`), else its ``2 p + 2`` main-effect rows (all on,
    all on but one, all off, one on); closed under complement either way."""
    p = int(n_features)
    if archdetect_leaves_room(p, n_samples) and archdetect_rows(p) <= share * n_samples:
        return archdetect_design(p)
    eye = np.eye(p, dtype=bool)
    return np.concatenate([np.ones((1, p), bool), ~eye, np.zeros((1, p), bool), eye])


def fourier_design(n_features: int, n_samples: int, rng: np.random.Generator, mixture: float = SIZE_MIXTURE,
                   fixed_share: float = FIXED_SHARE) -> np.ndarray:
    """One instance's masks, shape (n, p), bool, ``n = max(n_samples, len(fixed rows))``: the
    :func:`fixed_rows` (up to ``fixed_share`` of the budget; row 0 all on), then pairs of complementary masks whose sizes avoid those
    the fixed rows enumerate (see the module docstring); one unpaired mask when the count is odd.
    All ``2**p`` masks (all on first, repeated up to ``n_samples``) when they fit."""
    p = int(n_features)
    check_int("n_features", p, 2)
    if 2**p <= n_samples:
        every = all_masks(p)[::-1]
        cycles, rest = divmod(int(n_samples), 2**p)
        tail = every[np.sort(rng.choice(2**p, rest, replace=False))] if rest else every[:0]
        return np.concatenate([np.tile(every, (cycles, 1)), tail])
    fixed = fixed_rows(p, n_samples, fixed_share)
    covered = set(fixed.sum(axis=1).tolist())
    sizes = np.array([t for t in range(p + 1) if t not in covered])
    if sizes.size == 0 or n_samples <= len(fixed):
        return fixed
    binomial = np.array([comb(p, int(t)) for t in sizes], dtype=np.float64)
    allocation = mixture / sizes.size + (1.0 - mixture) * binomial / binomial.sum()
    n_random = min(int(n_samples) - len(fixed), int(binomial.sum()))
    half = _distinct_pairs(p, sizes, allocation / allocation.sum(), (n_random + 1) // 2, rng)
    random = np.concatenate([half, ~half])[:n_random]
    return np.concatenate([fixed, random])


def _distinct_pairs(p: int, sizes: np.ndarray, allocation: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` masks, shape (count, p), of sizes drawn from ``allocation``, each a uniformly random
    set of its size, no two equal and none the complement of another (so that with their
    complements they are ``2 count`` distinct masks); sizes with no set left are drawn no more."""
    weights = allocation.copy()
    room = {int(t): comb(p, int(t)) for t in sizes}  # sets of each size not yet taken (or complemented)
    seen: set = set()  # each taken set, as its class with its complement (:func:`_set_classes`)
    out: list[np.ndarray] = []
    taken = 0
    while taken < count and weights.sum() > 0:
        batch = 2 * (count - taken) + 8
        drawn = rng.choice(sizes, size=batch, p=weights / weights.sum())
        order = np.argsort(rng.random((batch, p)), axis=1)
        ranks = np.empty_like(order)  # each feature's rank in its row: the inverse permutation of the sort
        np.put_along_axis(ranks, order, np.broadcast_to(np.arange(p), order.shape), axis=1)
        rows = ranks < drawn[:, None]
        picked = []
        for position, (size, key) in enumerate(zip(drawn.tolist(), _set_classes(rows), strict=True)):
            if key in seen or room[size] == 0:
                continue
            seen.add(key)
            picked.append(position)
            for each in {size, p - size} & room.keys():
                room[each] -= 1
            if taken + len(picked) == count:
                break
        out.append(rows[picked])
        taken += len(picked)
        weights = np.where([room[int(t)] > 0 for t in sizes], weights, 0.0)
    return np.concatenate(out) if out else np.zeros((0, p), dtype=bool)


def _set_classes(rows: np.ndarray) -> list:
    """Each row (n, p) and its complement as one key, length n: the smaller of their
    :func:`~glider_plugins.set_functions.mask_keys` (integers up to 64 features, bytes beyond)."""
    keys, complements = mask_keys(rows), mask_keys(~rows)
    if keys.dtype == np.uint64:
        return np.minimum(keys, complements).tolist()
    return [min(key, complement) for key, complement in zip(keys.tolist(), complements.tolist(), strict=True)]
