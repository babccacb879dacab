"""What ArchDetect's design rows show exactly: its masks, the noise floor of a model's outputs, the
mixed differences in the two contexts (instance and baseline), and one instance's exact low orders.

In pure effects (:mod:`glider_plugins.set_functions`) the differences at the baseline are exact:
``m({i})`` from the one-on rows, ``m({i, j})`` from the two-on rows; the same differences in the
instance's context add every larger set holding them. ArchDetect ranks by them
(:mod:`..archdetect`), and the pure-effect regression takes its exact low orders and its screening
from them (:mod:`.instance`).
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...set_functions import distinct_masks, mask_keys

__all__ = ["FLOAT32_RTOL", "FLOAT64_RTOL", "ContextRows", "archdetect_design", "mixed_differences", "noise_rtol"]


def archdetect_design(n_features: int) -> np.ndarray:
    """The ArchDetect masks for ``p`` features, shape (p**2 + p + 2, p), bool.

    Row order (``P = p(p-1)/2`` pairs ``i < j`` in ``numpy.triu_indices`` order):

    * ``0``: all on (the instance ``x*``);
    * ``1 .. p``: all on, feature ``i`` off;
    * ``p+1 .. p+P``: all on, features ``i, j`` off;
    * ``p+P+1``: all off (the baseline ``x'``);
    * next ``p``: all off, feature ``i`` on;
    * last ``P``: all off, features ``i, j`` on.

    For ``p <= 4`` a few rows coincide (e.g. "all on but i, j" equals "only k on" when p = 3); the
    design keeps them so that positions stay fixed.
    """
    p = int(n_features)
    if p < 1:
        raise InputError(f"n_features must be >= 1, got {n_features}")
    iu, ju = np.triu_indices(p, 1)
    n_pairs = iu.size
    eye = np.eye(p, dtype=bool)
    pair_on = np.zeros((n_pairs, p), dtype=bool)
    pair_on[np.arange(n_pairs), iu] = True
    pair_on[np.arange(n_pairs), ju] = True
    on_context = np.concatenate([np.ones((1, p), bool), ~eye, ~pair_on])
    off_context = np.concatenate([np.zeros((1, p), bool), eye, pair_on])
    return np.concatenate([on_context, off_context])


#: Relative noise floor of mixed differences for a float32 model (float32 rounding: ~6e-8).
FLOAT32_RTOL = 1e-6
#: Relative noise floor of mixed differences for a float64 model (float64 rounding: ~1e-16).
FLOAT64_RTOL = 1e-12


def noise_rtol(outputs: np.ndarray) -> np.ndarray:
    """Per instance, :data:`FLOAT32_RTOL` when all its outputs (N, n) are float32 numbers, else
    :data:`FLOAT64_RTOL`.

    Adapters hand scores over as float64; a float32 model's scores stay exactly representable in
    float32, a float64 model's almost never are (integer-valued or coarse outputs of a float64
    model are taken for float32: the larger floor then only zeroes differences under 1e-6 of the
    outputs).
    """
    single = (outputs.astype(np.float32).astype(np.float64) == outputs).all(axis=1)
    return np.where(single, FLOAT32_RTOL, FLOAT64_RTOL)


def mixed_differences(
    outputs: np.ndarray, p: int, rtol: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixed differences in both contexts and main effects, from outputs in design order.

    Parameters
    ----------
    outputs : numpy.ndarray, shape (N, p**2 + p + 2)
    p : int
    rtol : numpy.ndarray, shape (N,)

    Returns
    -------
    omega_on, omega_off : numpy.ndarray, shape (N, p, p)
        Symmetric, zero diagonal; ``omega_on`` in the instance context (rest on).
    main : numpy.ndarray, shape (N, p)
        ``m({i})``: the score change when feature ``i`` alone is switched on at the baseline.
    """
    n_pairs = p * (p - 1) // 2
    half = 1 + p + n_pairs
    iu, ju = np.triu_indices(p, 1)

    def context(block: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
        # block: (N, half) = f(context), f(context with i toggled), f(context with i, j toggled)
        base = block[:, :1]
        single = block[:, 1 : 1 + p]
        pair = block[:, 1 + p :]
        four = np.stack([pair, single[:, iu], single[:, ju], np.broadcast_to(base, pair.shape)])
        omega_pairs = four[0] - four[1] - four[2] + four[3]
        scale = np.abs(four).max(axis=0)
        omega_pairs = np.where(np.abs(omega_pairs) <= rtol[:, None] * scale, 0.0, omega_pairs)
        omega = np.zeros((block.shape[0], p, p))
        omega[:, iu, ju] = omega_pairs
        omega[:, ju, iu] = omega_pairs
        # effect of switching feature i on: sign +1 when the toggle switches it on
        effect = sign * (single - base)
        return omega, effect

    omega_on, _ = context(outputs[:, :half], -1.0)  # toggling = switching off
    omega_off, effect_off = context(outputs[:, half:], +1.0)  # toggling = switching on
    return omega_on, omega_off, effect_off


class ContextRows:
    """The outputs of one instance at ArchDetect's design rows (the mean over a mask's repeats: a
    scheme with random "off" values answers each differently), and what they show exactly: with the
    whole design, main and pair effects; with only its main-effect rows (:func:`~glider_plugins.detectors.moebius.screening_design`),
    main effects and which features interact at all."""

    def __init__(self, masks: np.ndarray, y: np.ndarray, rtol: float) -> None:
        p = masks.shape[1]
        codes, inverse = distinct_masks(masks)
        mean = np.bincount(inverse, weights=y) / np.bincount(inverse)
        design = mask_keys(archdetect_design(p))
        where = np.minimum(np.searchsorted(codes, design), len(codes) - 1)
        found = np.where(codes[where] == design, where, -1)  # each design row's place among the distinct masks, or -1
        self.half = 1 + p + p * (p - 1) // 2  # the instance-context rows, then the baseline-context ones
        present = found >= 0
        #: the main-effect rows of each context: (instance, baseline)
        self.has_mains = (bool(present[: 1 + p].all()), bool(present[self.half : self.half + 1 + p].all()))
        #: the pair rows of each context too
        self.has_pairs = (bool(present[: self.half].all()), bool(present[self.half :].all()))
        outputs = np.where(present, mean[np.maximum(found, 0)], 0.0)[None]  # (1, p**2 + p + 2), missing rows 0
        self.omega_on, self.omega_off, main = mixed_differences(outputs, p, np.array([rtol]))
        base, single = outputs[0, self.half], outputs[0, self.half + 1 : self.half + 1 + p]
        main = np.where(np.abs(single - base) <= rtol * np.maximum(np.abs(single), abs(base)), 0.0, main[0])  # rounding
        self.outputs, self.main, self.p, self.rtol = outputs[0], main, p, rtol

    def low_orders(self) -> tuple[float, np.ndarray, np.ndarray | None] | None:
        """Exact ``m({})``, ``m({i})`` (p,) and ``m({i, j})`` (p, p) at the baseline (``None`` for the
        pairs without the design's pair rows); ``None`` without the baseline's main-effect rows."""
        if not self.has_mains[1]:
            return None
        return float(self.outputs[self.half]), self.main, self.omega_off[0] if self.has_pairs[1] else None

    def active(self) -> np.ndarray:
        """The features that get terms beyond their main effect. With the whole design: those with a
        non-zero main or pair difference at the baseline or at the instance; with the main-effect
        rows of both contexts: those whose main difference changes between the contexts (the others
        act alone, if at all: their exact main effect is all they get); else every feature."""
        p, out = self.p, self.outputs
        if all(self.has_pairs):
            moves = (self.omega_on[0] != 0).any(axis=1) | (self.omega_off[0] != 0).any(axis=1)
            for start in (0, self.half):  # each context: f(context), then its one-toggled rows
                base, single = out[start], out[start + 1 : start + 1 + p]
                moves |= np.abs(single - base) > self.rtol * np.maximum(np.abs(single), abs(base))
            return np.flatnonzero(moves)
        if all(self.has_mains):
            four = np.stack([np.full(p, out[0]), out[1 : 1 + p], out[self.half + 1 : self.half + 1 + p], np.full(p, out[self.half])])
            change = four[0] - four[1] - four[2] + four[3]
            return np.flatnonzero(np.abs(change) > self.rtol * np.abs(four).max(axis=0))
        return np.arange(p)
