"""The masks of the ``"moebius"`` detector: ArchDetect's design (or its main-effect rows) and distinct
random masks; the order their count allows is :func:`~glider_plugins.detectors.pure_effects.instance.fit_order`."""

from __future__ import annotations

import functools

import numpy as np

from ..._checks import check_int
from ...set_functions import all_masks
from ..pure_effects.differences import archdetect_design
from ..pure_effects.instance import fit_order

__all__ = ["DESIGN_FAMILY", "FAMILY_SEED", "family_masks", "fit_order", "fixed_part", "moebius_design", "screening_design"]

#: The random masks of an instance are one of this many sets of masks for its ``p`` and budget,
#: picked by the instance's own random stream (:func:`family_masks`): instances that share a set
#: share the factorisation of their fit (:mod:`~glider_plugins.detectors.pure_effects.shared`), and
#: a set is the same whatever the batch, so an instance's result is too.
DESIGN_FAMILY = 8
#: The seed the family's sets are drawn from (with ``p``, the budget and the set's number).
FAMILY_SEED = 2026


def moebius_design(n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """One instance's masks, shape (n, p), bool: a fixed part, then distinct masks not in it, each
    feature on with probability 1/2, until ``n_samples`` rows (``n`` is at least the fixed part):
    one of the :data:`DESIGN_FAMILY` sets of :func:`family_masks`, the one ``rng`` picks.

    The fixed part is ArchDetect's design in its row order (row 0 all on) when its ``p**2 + p + 2``
    rows fit in ``n_samples``, else :func:`screening_design`'s ``2 p + 2`` rows. When ``2**p`` masks
    fit, all of them instead (all-on first), repeated up to ``n_samples`` rows: a scheme whose "off"
    values are random (noise, background rows) gets the whole budget to average over, and a
    deterministic one queries the model once per distinct mask (repeats are answered from the
    first)."""
    p = int(n_features)
    check_int("n_features", p)
    base = fixed_part(p, n_samples)
    if 2**p <= max(n_samples, len(base)):
        every = all_masks(p)[::-1]
        cycles, rest = divmod(max(int(n_samples), 2**p), 2**p)
        tail = every[np.sort(rng.choice(2**p, rest, replace=False))] if rest else every[:0]
        return np.concatenate([np.tile(every, (cycles, 1)), tail])
    return np.concatenate([base, family_masks(p, int(n_samples), int(rng.integers(DESIGN_FAMILY)))])


@functools.lru_cache(maxsize=4 * DESIGN_FAMILY)
def family_masks(n_features: int, n_samples: int, member: int) -> np.ndarray:
    """Set ``member`` of the family of random masks of :func:`moebius_design` for ``p`` features and
    ``n_samples`` queries, shape (n_samples - len(fixed part), p), bool, read-only: distinct masks
    not in the fixed part, each feature on with probability 1/2, drawn from ``(FAMILY_SEED, p,
    n_samples, member)``."""
    p = int(n_features)
    base = fixed_part(p, n_samples)
    rng = np.random.default_rng([FAMILY_SEED, p, int(n_samples), int(member)])
    seen = {row.tobytes() for row in np.packbits(base, axis=1)}
    extra: list[np.ndarray] = []
    wanted = n_samples - len(base)
    while len(extra) < wanted:
        draw = rng.random((2 * (wanted - len(extra)) + 8, p)) < 0.5
        for row, code in zip(draw, np.packbits(draw, axis=1), strict=True):
            key = code.tobytes()
            if key not in seen:
                seen.add(key)
                extra.append(row)
                if len(extra) == wanted:
                    break
    out = np.asarray(extra, dtype=bool).reshape(-1, p)
    out.flags.writeable = False
    return out


def fixed_part(n_features: int, n_samples: int) -> np.ndarray:
    """The rows every :func:`moebius_design` starts with: ArchDetect's design when its ``p**2 + p +
    2`` rows fit in ``n_samples``, else :func:`screening_design`'s ``2 p + 2``."""
    p = int(n_features)
    return archdetect_design(p) if p * p + p + 2 <= n_samples else screening_design(p)


def screening_design(n_features: int) -> np.ndarray:
    """The main-effect rows of ArchDetect's design in both contexts, shape (2 p + 2, p), bool: all on,
    all on but feature ``i`` (``p`` rows), all off, only feature ``i`` on (``p`` rows). They give the
    exact ``m({})`` and ``m({i})`` and, per feature, ``f(on) - f(on - i) - f(off + i) + f(off)``:
    the sum of the pure effects of every set of two or more that holds ``i``."""
    p = int(n_features)
    check_int("n_features", p)
    eye = np.eye(p, dtype=bool)
    return np.concatenate([np.ones((1, p), bool), ~eye, np.zeros((1, p), bool), eye])
