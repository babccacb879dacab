"""ArchDetect (Tsang et al., NeurIPS 2020, "How does this interaction affect me?"): training-free pairs.

In the binary mask space, the instance is ``x* = 1`` (all features on) and the baseline ``x' = 0``
(all off). For a pair ``(i, j)`` and a context ``c`` for the other features, the discrete mixed
difference is::

    omega(c) = f(c; i on, j on) - f(c; i on, j off) - f(c; i off, j on) + f(c; i off, j off)

It is exactly zero when ``f`` has no term that depends on both ``i`` and ``j`` (in that context).
ArchDetect evaluates it in the two contexts ``c = x*`` (rest on) and ``c = x'`` (rest off) and
reports the strength::

    strength(i, j) = sqrt(0.5 * omega(x*)**2 + 0.5 * omega(x')**2)

This is the square root of Archipelago's score (same ranking), so that strengths carry the units
of the model's output, like the main effects. Main effects average the two contexts as well::

    main_effect(i) = 0.5 * ((f(x*) - f(x* with i off)) + (f(x' with i on) - f(x')))

Higher-order sets come from merging strong pairs: pairs whose strength is at least
``merge_threshold`` times the instance's strongest pair are edges of a graph on the features; each
connected component with three or more features is reported as one set (union-find, as in
Archipelago's ``merge_overlapping_sets``), with strength = the sum of the strengths of its edges (the
pairwise interaction mass the set gathers, so a set ranks above each of its own pairs).

The design is fixed: ``p**2 + p + 2`` masks per instance, whatever ``n_samples`` asks for.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError
from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions
from .base import Detector, check_experiments

__all__ = ["FLOAT32_RTOL", "FLOAT64_RTOL", "ArchDetectDetector", "archdetect_design", "noise_rtol"]


class ArchDetectDetector(Detector):
    """Training-free pairwise interaction detector of Archipelago, batched over instances.

    Parameters
    ----------
    merge_threshold : float, default 0.1
        Pairs at least this fraction of the instance's strongest pair are merged into higher-order
        sets when they share a feature. In (0, 1].
    max_order : int or None, default None
        Largest order reported. ``None``: no limit (merged sets of any size). ``2``: pairs only.
        A merged set larger than the limit is left out (its pairs stay).
    rtol : float or None, default None
        A mixed difference smaller than ``rtol`` times the largest absolute output among its four
        queries is set to zero: it is floating-point noise of the model, not an interaction.
        ``None`` picks it per instance from the outputs' precision (:func:`noise_rtol`):
        :data:`FLOAT32_RTOL` when every output is a float32 number (a float32 model: rounding is
        about 1e-7 relative), else :data:`FLOAT64_RTOL`. ``0`` keeps every difference as
        computed. The value used is in each result's ``metadata["rtol"]``.

    Notes
    -----
    ``weights`` are accepted and ignored: the design is a fixed set of queries, not a sample.
    """

    name: ClassVar[str] = "archdetect"

    def __init__(
        self, merge_threshold: float = 0.1, max_order: int | None = None, rtol: float | None = None
    ):
        check_number("merge_threshold", merge_threshold, low=0.0, high=1.0, low_open=True)
        check_int("max_order", max_order, 2, allow_none=True)
        if rtol is not None:
            check_number("rtol", rtol, low=0.0, high=1.0, high_open=True)
        self.merge_threshold = float(merge_threshold)
        self.max_order = None if max_order is None else int(max_order)
        self.rtol = None if rtol is None else float(rtol)

    def __repr__(self) -> str:
        return f"ArchDetectDetector(merge_threshold={self.merge_threshold}, max_order={self.max_order}, rtol={self.rtol})"

    def min_samples(self, n_features: int) -> int:
        """The size of the fixed design, ``p**2 + p + 2``."""
        return n_features * n_features + n_features + 2

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: PerturbationScheme,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The fixed ArchDetect design, shape (N, p**2 + p + 2, p); ``n_samples`` is ignored.

        See :func:`archdetect_design` for the row order. Row 0 is all ``True`` (the instance).
        """
        if (
            isinstance(n_instances, bool)
            or not isinstance(n_instances, (int, np.integer))
            or n_instances < 0
        ):
            raise InputError(f"n_instances must be a non-negative integer, got {n_instances!r}")
        return np.repeat(archdetect_design(n_features)[None], int(n_instances), axis=0)

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
        """Read pairwise interactions, main effects and merged sets off the fixed design.

        ``masks`` must be the design of :meth:`design` in the same row order (checked); ``weights``
        are accepted for protocol compatibility and ignored (the design is not a sample).
        """
        masks, outputs, weights, max_order = check_experiments(
            masks, outputs, weights, max_order, rng
        )
        n_inst, n, p = masks.shape
        expected = archdetect_design(p)
        if n != expected.shape[0]:
            raise InputError(
                f"masks must hold the ArchDetect design of {expected.shape[0]} rows per instance for p={p} "
                f"(from ArchDetectDetector.design), got {n} rows"
            )
        if not (masks == expected).all():
            raise InputError(
                "masks must be ArchDetectDetector.design(...) in its row order; the rows differ"
            )
        if max_order is None:
            max_order = self.max_order

        rtol = noise_rtol(outputs) if self.rtol is None else np.full(n_inst, self.rtol)
        omega_on, omega_off, main = _mixed_differences(outputs, p, rtol)
        strength = np.sqrt(0.5 * omega_on**2 + 0.5 * omega_off**2)  # (N, p, p), zero diagonal

        results = []
        for k in range(n_inst):
            interactions = _rank(strength[k], self.merge_threshold, max_order)
            results.append(
                LocalInteractions(
                    interactions=interactions,
                    main_effects=main[k],
                    pairwise_strengths=strength[k],
                    metadata={
                        "detector": self.name,
                        "n_queries": n,
                        "rtol": float(rtol[k]),
                        "omega_instance_context": omega_on[k],
                        "omega_baseline_context": omega_off[k],
                    },
                )
            )
        return results


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


def _mixed_differences(
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

    omega_on, effect_on = context(outputs[:, :half], -1.0)  # toggling = switching off
    omega_off, effect_off = context(outputs[:, half:], +1.0)  # toggling = switching on
    return omega_on, omega_off, 0.5 * (effect_on + effect_off)


def _rank(
    strength: np.ndarray, merge_threshold: float, max_order: int | None
) -> list[tuple[tuple[int, ...], float]]:
    """Pairs with positive strength and merged sets, strongest first (ties by feature ids)."""
    p = strength.shape[0]
    iu, ju = np.triu_indices(p, 1)
    values = strength[iu, ju]
    keep = values > 0
    entries: list[tuple[tuple[int, ...], float]] = [
        ((int(i), int(j)), float(v))
        for i, j, v in zip(iu[keep], ju[keep], values[keep], strict=True)
    ]
    if values.size and values.max() > 0 and (max_order is None or max_order > 2):
        strong = values >= merge_threshold * values.max()
        entries.extend(_merge_pairs(iu[strong], ju[strong], values[strong], p, max_order))
    entries.sort(key=lambda e: (-e[1], len(e[0]), e[0]))
    return entries


def _merge_pairs(
    iu: np.ndarray, ju: np.ndarray, values: np.ndarray, p: int, max_order: int | None
) -> list[tuple[tuple[int, ...], float]]:
    """Connected components (size >= 3) of the graph of strong pairs, with summed edge strength."""
    parent = np.arange(p)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in zip(iu.tolist(), ju.tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(a) for a in range(p)])
    edge_root = roots[iu]
    merged = []
    for root in np.unique(edge_root):
        members = np.flatnonzero(roots == root)
        if members.size < 3 or (max_order is not None and members.size > max_order):
            continue
        merged.append((tuple(int(m) for m in members), float(values[edge_root == root].sum())))
    return merged
