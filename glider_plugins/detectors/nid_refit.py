"""NID's refit: what the networks found, re-estimated as pure effects by least squares.

NID proposes (pairs by its weight measure, sets by its units' prefixes); :class:`.PureEffectFit`
decides: every pair it can afford and each candidate set are fitted as AND-crosses of the queried
masks, sets confirmed on the held-out masks (:mod:`.pure_effects`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .pure_effects import PureEffectFit, pair_mass

__all__ = ["MAX_SET_CANDIDATES", "SAMPLES_PER_TERM", "refit", "refit_pairs"]

#: Every pair is re-estimated while there are this many training samples per fitted term (bias,
#: main effects, pairs); fewer pairs otherwise.
SAMPLES_PER_TERM = 4
#: NID's strongest candidate sets of three or more features tried for confirmation.
MAX_SET_CANDIDATES = 20


def refit_pairs(pairwise: np.ndarray, found: np.ndarray | None, n_train: int) -> list[tuple[int, int]]:
    """The pairs re-estimated by least squares for one instance: all of them while the training
    samples number at least :data:`SAMPLES_PER_TERM` per fitted term, else the found pairs and
    then the strongest by NID's measure, as many as the samples support."""
    p = len(pairwise)
    iu, ju = np.triu_indices(p, 1)
    budget = max(n_train // SAMPLES_PER_TERM - 1 - p, 0)
    if budget >= iu.size:
        return list(zip(iu.tolist(), ju.tolist(), strict=True))
    first = np.zeros(iu.size) if found is None else found[iu, ju].astype(float)
    order = np.lexsort((ju, iu, -pairwise[iu, ju], -first))[:budget]
    return [(int(iu[o]), int(ju[o])) for o in sorted(order)]


def refit(
    masks: np.ndarray,
    outputs: np.ndarray,
    sample_w: np.ndarray,
    is_val: np.ndarray,
    pairwise: np.ndarray,
    found: np.ndarray | None,
    ranked: list[tuple[tuple[int, ...], float]],
    *,
    max_size: int,
    min_set_share: float,
    significance: float,
    max_interactions: int,
) -> tuple[list[tuple[tuple[int, ...], float]], np.ndarray, np.ndarray, dict[str, Any]]:
    """Re-estimate one instance's pairs and NID's candidate sets as pure effects.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (n, p)
    outputs, sample_w : numpy.ndarray, shape (n,)
    is_val : numpy.ndarray of bool, shape (n,)
    pairwise : numpy.ndarray, shape (p, p)
        NID's pair measure (output units).
    found : numpy.ndarray of bool, shape (p, p), or None
        Pairs NID's passes found.
    ranked : list of (tuple of int, float)
        NID's ranking; its sets of 3..``max_size`` features are the candidates.
    max_size, min_set_share, significance, max_interactions
        See :class:`~glider_plugins.detectors.NIDDetector`.

    Returns
    -------
    ranking : list of (tuple of int, float)
        Terms beyond their noise margin, by ``|m(S)|``.
    mass : numpy.ndarray, shape (p, p)
        Pair masses; pairs not refitted keep NID's measure, brought to output units by the ratio
        of fitted mass to NID's measure over the fitted pairs (as it is when none was refitted).
    main : numpy.ndarray, shape (p,)
    metadata : dict
    """
    p = masks.shape[1]
    pairs = refit_pairs(pairwise, found, int((~is_val).sum()))
    candidates = [m for m, _ in ranked if 3 <= len(m) <= max_size][:MAX_SET_CANDIDATES]
    fitted = PureEffectFit(masks, outputs, sample_w, is_val, pairs).confirm(candidates, min_set_share, max_size=max_size)
    magnitude = np.abs(fitted.effects)
    # what a term shows beyond its noise (sampling: its standard error; rounding: 1e-6 of the
    # largest term)
    margin = magnitude - np.maximum(significance * fitted.errors, 1e-6 * magnitude.max(initial=0.0))
    entries = [(m, float(v)) for m, v, ok in zip(fitted.terms, magnitude, margin > 0, strict=True) if ok]
    entries.sort(key=lambda e: (-e[1], len(e[0]), e[0]))
    mass = pair_mass(p, fitted.terms, np.maximum(margin, 0.0))
    fitted_pairs = np.zeros((p, p), dtype=bool)
    for a, b in pairs:
        fitted_pairs[a, b] = fitted_pairs[b, a] = True
    if not fitted_pairs[np.triu_indices(p, 1)].all():
        nid_total = pairwise[fitted_pairs].sum()
        ratio = mass[fitted_pairs].sum() / nid_total if nid_total > 0 else 1.0
        mass = np.where(fitted_pairs, mass, ratio * pairwise)
    np.fill_diagonal(mass, 0.0)
    metadata = {
        "refit_val_r2": fitted.val_r2,
        "refit_pairs": len(pairs),
        "confirmed_sets": [m for m in fitted.terms if len(m) >= 3],
        "rejected_sets": fitted.rejected,
    }
    return entries[:max_interactions], mass, fitted.main, metadata
