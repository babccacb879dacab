"""One instance's pure effects by regression: what its rows allow (exact low orders, the features
that interact, the fit order), the fit, and the result.

Both detector families fit pure effects this way: ``"moebius"`` on its own design
(:class:`~glider_plugins.detectors.moebius.MoebiusDetector`) and NID's complete refit on the masks
it trained on (:func:`~glider_plugins.detectors.nid.refit.complete_refit`). The method is the
``"moebius"`` detector's (its module docstring): the all-off and one-on rows give ``m({})`` and
``m({i})`` exactly, the two-on rows ``m({i, j})``; features that act alone, or not at all, are
screened out by the one-off and one-on rows; sets of the others up to the order the distinct masks
allow are fitted by least squares (:mod:`.least_squares`), sets of three or more confirmed by
``min_share``, ``significance`` standard errors and a lower leave-one-out error.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import comb
from typing import NamedTuple

import numpy as np

from ..._timing import spent
from ...errors import InputError
from ...results import LocalInteractions
from ...set_functions import distinct_masks, pair_mass
from .differences import ContextRows
from .least_squares import MoebiusFit, confirmed_sets, least_squares_fit, transform_fit
from .sets import rank_interactions

__all__ = [
    "MAX_TERMS", "Plan", "faithfulness_of", "fit_instance", "fit_order", "fit_terms", "fitted_result", "local_result",
    "plan_instance", "top_order_share",
]

#: Most fitted terms per instance (the least squares costs ``n * terms**2``); at 1000 queries the
#: budget allows about 800.
MAX_TERMS = 4096


def fit_order(n_features: int, n_distinct: int, rows_per_term: float = 1.25) -> int:
    """The largest order ``k`` whose terms (all sets of up to ``k`` of ``n_features``) number at
    most ``n_distinct / rows_per_term``; ``n_features`` when the distinct masks are all ``2**p``."""
    if n_distinct >= 2**n_features:
        return n_features
    order, terms = 0, 1
    while order < n_features and terms + comb(n_features, order + 1) <= n_distinct / rows_per_term:
        order += 1
        terms += comb(n_features, order)
    return order


def plan_instance(masks: np.ndarray, y: np.ndarray, rtol: float, *, rows_per_term: float = 1.25,
                  max_fit_order: int | None = None, max_terms: int | None = None) -> Plan:
    """What one instance's rows allow: the exact low orders, the active features, what is left of
    the outputs once the other features' exact main effects are taken off, the fit order.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (n, p)
    y : numpy.ndarray, shape (n,)
        The outputs (background-averaged where a background was queried).
    rtol : float
        The noise floor relative to the outputs (:func:`~.differences.noise_rtol`).
    rows_per_term : float, default 1.25
        Distinct masks per fitted term at least (:func:`fit_order`).
    max_fit_order : int or None, default None
        Largest order fitted; ``None``: the largest the distinct masks allow.
    max_terms : int or None, default None
        At most this many terms (all sets of up to the fit order of the active features) where the
        masks are not every combination of them (the exact transform is never cut); at least pairs.
    """
    rows = ContextRows(masks, y, rtol)
    low = rows.low_orders()
    active = rows.active() if low is not None else np.arange(masks.shape[1])
    target = y.astype(np.float64)
    if low is not None:
        idle = np.setdiff1d(np.arange(masks.shape[1]), active)
        target = target - masks[:, idle] @ low[1][idle]
    distinct = len(distinct_masks(masks[:, active])[0]) if active.size else 1
    room = fit_order(active.size, distinct, rows_per_term)
    order = min(max(max_fit_order or room, min(2, active.size)), active.size)
    if max_terms is not None and distinct < 2**active.size:
        order = min(order, max(fit_order(active.size, max_terms, 1.0), min(2, active.size)))
    saturated = active.size > 0 and order == active.size and distinct == 2**active.size
    return Plan(low, active, target, order, saturated, room)


def fit_instance(masks: np.ndarray, plan: Plan, rtol: float, report: int | None, *, min_share: float = 0.05,
                 significance: float = 2.0, name: str = "moebius", extra: Sequence[tuple[int, ...]] = (),
                 share: bool = False) -> LocalInteractions:
    """One instance's fit from its :func:`plan_instance`, sets reported up to ``report`` features
    (``min_share`` and ``significance`` as :class:`~glider_plugins.detectors.moebius.MoebiusDetector`
    takes them; ``name`` goes into the result's metadata); ``extra`` sets of active features beyond
    the fit order get a term too (NID's candidates); ``share`` as :func:`fit_terms` takes it.
    :func:`fit_terms`, then :func:`fitted_result`."""
    return fitted_result(masks, plan, fit_terms(masks, plan, rtol, name, extra, share=share), rtol, report, min_share=min_share,
                         significance=significance, name=name)


def fit_terms(masks: np.ndarray, plan: Plan, rtol: float, name: str = "moebius",
              extra: Sequence[tuple[int, ...]] = (), *, share: bool = False) -> MoebiusFit:
    """The pure effects of every term the plan allows (and ``extra`` sets of active features beyond
    its order): the Moebius transform when every combination was queried, else least squares over
    the exact low orders; ``share``: the masks are a set other instances are fitted on too (one of
    :func:`~glider_plugins.detectors.moebius.design.family_masks`), whose pair fit
    :func:`~.least_squares.least_squares_fit` may share."""
    with spent("fit"):
        scale = float(np.abs(plan.target).max())
        if plan.saturated:  # every combination queried: the transform itself, no least squares
            return transform_fit(masks, plan.target, plan.active, rtol * scale)
        terms = [members for size in range(plan.order + 1) for members in itertools.combinations(plan.active.tolist(), size)]
        active = set(plan.active.tolist())
        terms += list(dict.fromkeys(tuple(sorted(t)) for t in extra if len(t) > plan.order and set(t) <= active))
        if len(terms) > MAX_TERMS:
            raise InputError(
                f"the {name!r} detector would fit {len(terms)} terms for {plan.active.size} features (at most {MAX_TERMS}); "
                "use detector='auto' or 'nid' for this many features, or lower fit_order"
            )
        return least_squares_fit(masks, plan.target, terms, plan.low, rtol * scale, share=share)


def faithfulness_of(fit: MoebiusFit, plan: Plan) -> dict[str, float]:
    """How far a fit's pure effects can be trusted: ``heldout_r2`` (:meth:`MoebiusFit.held_out_r2`
    on the plan's outputs; 1 for the exact transform) and ``top_order_share``
    (:func:`top_order_share`; 0 for the exact transform)."""
    if plan.saturated:
        return {"heldout_r2": 1.0, "top_order_share": 0.0}
    return {"heldout_r2": fit.held_out_r2(plan.target), "top_order_share": top_order_share(fit)}


def fitted_result(masks: np.ndarray, plan: Plan, fit: MoebiusFit, rtol: float, report: int | None, *,
                  min_share: float = 0.05, significance: float = 2.0, name: str = "moebius") -> LocalInteractions:
    """The result of a :func:`fit_terms`: its sets of three or more confirmed (``min_share``,
    ``significance``, a lower leave-one-out error), its :func:`faithfulness_of` in the metadata."""
    sets = confirmed_sets(fit, report, min_share, significance, saturated=plan.saturated)
    main = np.zeros(masks.shape[1]) if plan.low is None else plan.low[1]
    local = local_result(fit, sets, main, name, len(masks), rtol, plan)
    local.metadata.update(faithfulness_of(fit, plan))
    return local


def top_order_share(fit: MoebiusFit) -> float:
    """The share of the fitted interaction mass ``sum |m(S)|`` (sets of two or more) held by the
    sets of the largest fitted order: near 0 where the fit has run out of interactions before its
    order (sparse games), large where the mass goes on past it (dense ones). 0 for an empty fit."""
    sizes = np.array([len(t) for t in fit.terms])
    mass = np.abs(fit.coef) * (sizes >= 2)
    total = float(mass.sum())
    return float(mass[sizes == sizes.max()].sum() / total) if total > 0 and sizes.max() >= 3 else 0.0


class Plan(NamedTuple):
    """One instance's fit, before fitting (:func:`plan_instance`)."""

    low: tuple[float, np.ndarray, np.ndarray | None] | None  #: exact m({}), m({i}), m({i, j}) (or None)
    active: np.ndarray  #: the features that get terms beyond their main effect
    target: np.ndarray  #: the outputs less the other features' exact main effects, (n,)
    order: int  #: the largest order fitted
    saturated: bool  #: every combination of the active features queried
    room: int  #: the largest order the distinct masks allow (:func:`fit_order`)

    def n_terms(self, order: int | None = None) -> int:
        """How many terms a fit up to ``order`` (default: :attr:`order`) of the active features has."""
        top = self.order if order is None else order
        return sum(comb(self.active.size, size) for size in range(min(top, self.active.size) + 1))


def local_result(fit: MoebiusFit, sets: list[int], main: np.ndarray, name: str, n: int, rtol: float, plan: Plan) -> LocalInteractions:
    """The pairs with a non-zero effect and the reported sets, by ``|m(S)|``; main effects (``main``,
    (p,), for the features without a fitted one); pair masses over every fitted term; the signed
    ``m(S)`` of every non-zero fitted term of two or more features and ``m({})``."""
    p = main.size
    pairs, main = np.zeros((p, p)), main.astype(np.float64).copy()
    sizes = np.fromiter(map(len, fit.terms), dtype=np.int64, count=len(fit.terms))
    singles = np.flatnonzero(sizes == 1)
    main[[fit.terms[k][0] for k in singles.tolist()]] = fit.coef[singles]
    two = np.flatnonzero(sizes == 2)
    ends = np.array([fit.terms[k] for k in two.tolist()], dtype=np.int64).reshape(-1, 2)
    pairs[ends[:, 0], ends[:, 1]] = pairs[ends[:, 1], ends[:, 0]] = fit.coef[two]
    set_effects = [(tuple(sorted(map(int, fit.terms[c]))), float(fit.coef[c])) for c in sets]
    kept = np.flatnonzero((sizes >= 2) & (fit.coef != 0))
    signed = dict(zip([tuple(sorted(map(int, fit.terms[k]))) if len(fit.terms[k]) > 2 else fit.terms[k] for k in kept.tolist()],
                      fit.coef[kept].tolist(), strict=True))
    return LocalInteractions.unchecked(
        rank_interactions(pairs, set_effects),
        main,
        np.abs(pairs) if sizes.max(initial=0) <= 2 else pair_mass(p, fit.terms, fit.coef),  # a pair's mass: |m| of its own term
        signed_values=signed,
        baseline_value=float(fit.coef[fit.terms.index(())]),
        metadata={
            "detector": name, "n_queries": n, "rtol": rtol, "fit_order": plan.order, "n_terms": len(fit.terms),
            "active_features": plan.active.tolist(), "exact_pairs": plan.low is not None and plan.low[2] is not None,
            "set_effects": set_effects,
        },
    )
