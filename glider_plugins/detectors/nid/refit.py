"""NID's refit: what the networks found, re-estimated as pure effects by least squares.

NID proposes (pairs by its weight measure, sets by its units' prefixes). Where the queried masks
afford every set of up to three features (p <= 12 at 1000 LIME masks; equal sample weights),
:func:`complete_refit` fits all sets up to the order they allow at once, with NID's larger
candidates beside them, by the pure-effect regression the ``"moebius"`` detector runs on its own
design (:mod:`glider_plugins.detectors.pure_effects.instance`). Beyond,
:class:`~glider_plugins.detectors.pure_effects.PureEffectFit` decides: every pair it can afford and
each candidate set are fitted as AND-crosses of the queried masks, sets confirmed on the held-out
masks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..pure_effects.differences import noise_rtol
from ..pure_effects.instance import MAX_TERMS, fit_instance, plan_instance
from ..pure_effects.regression import PureEffectFit
from ..pure_effects.sets import pair_mass

__all__ = ["MAX_SET_CANDIDATES", "SAMPLES_PER_TERM", "Refit", "complete_refit", "refit", "refit_pairs"]

#: Every pair is re-estimated while there are this many training samples per fitted term (bias,
#: main effects, pairs); fewer pairs otherwise.
SAMPLES_PER_TERM = 4
#: NID's strongest candidate sets of three or more features tried for confirmation.
MAX_SET_CANDIDATES = 20


class Refit(NamedTuple):
    """What :func:`refit` and :func:`complete_refit` return for one instance."""

    ranking: list[tuple[tuple[int, ...], float]]  #: terms beyond their noise margin, by ``|m(S)|``
    mass: np.ndarray  #: (p, p) pair masses
    main: np.ndarray  #: (p,) fitted ``m({i})``
    metadata: dict[str, Any]
    signed_values: dict[tuple[int, ...], float]  #: signed ``m(S)`` of every non-zero fitted set
    baseline_value: float  #: fitted ``m({})``


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
) -> Refit:
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
    Refit
        ``ranking``: terms beyond their noise margin, by ``|m(S)|``; ``mass`` (p, p): pair masses
        (pairs not refitted keep NID's measure, brought to output units by the ratio of fitted
        mass to NID's measure over the fitted pairs, as it is when none was refitted); ``main``
        (p,); ``metadata``; ``signed_values``: the signed ``m(S)`` of every non-zero fitted term;
        ``baseline_value``: the fitted ``m({})``.
    """
    p = masks.shape[1]
    candidates = [m for m, _ in ranked if 3 <= len(m) <= max_size][:MAX_SET_CANDIDATES]
    complete = complete_refit(masks, outputs, sample_w, candidates, max_size=max_size, min_set_share=min_set_share,
                              significance=significance, max_interactions=max_interactions)
    if complete is not None:
        return complete
    pairs = refit_pairs(pairwise, found, int((~is_val).sum()))
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
    signed = {m: float(v) for m, v in zip(fitted.terms, fitted.effects, strict=True) if v != 0}
    return Refit(entries[:max_interactions], mass, fitted.main, metadata, signed, fitted.bias)


def complete_refit(
    masks: np.ndarray,
    outputs: np.ndarray,
    sample_w: np.ndarray,
    candidates: list[tuple[int, ...]],
    *,
    max_size: int,
    min_set_share: float,
    significance: float,
    max_interactions: int,
) -> Refit | None:
    """Every pure effect up to the order the masks allow, as the ``"moebius"`` detector fits it on
    its own design (:func:`~glider_plugins.detectors.pure_effects.instance.fit_instance`: exact ``m({})`` and ``m({i})`` where the
    masks hold the all-off and one-on rows, features that act alone or not at all screened by the
    one-off and one-on rows, least squares of the rest, sets confirmed by ``min_set_share``,
    ``significance`` standard errors and a lower leave-one-out error), NID's ``candidates`` larger
    than that order fitted beside them. ``None`` where the masks
    leave no room for every set of three of the features kept, the terms pass
    :data:`~glider_plugins.detectors.pure_effects.instance.MAX_TERMS`, or the sample weights differ (LIME's kernel). Same returns as
    :func:`refit`.
    """
    if not np.all(sample_w == sample_w[0]):
        return None
    rtol = float(noise_rtol(outputs[None])[0])
    plan = plan_instance(masks, outputs, rtol)
    if plan.room < min(3, plan.active.size) or plan.n_terms() + len(candidates) > MAX_TERMS:
        return None
    local = fit_instance(masks, plan, rtol, max(max_size, 2), min_share=min_set_share, significance=significance,
                         extra=candidates)
    metadata = {"refit": "complete", "fit_order": plan.order, "active_features": plan.active.tolist(),
                "confirmed_sets": [m for m, _ in local.metadata["set_effects"]]}
    return Refit(local.interactions[:max_interactions], local.pairwise_strengths, local.main_effects, metadata,
                 local.signed_values, local.baseline_value)
