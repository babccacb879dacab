"""Pure-effect regression (``"moebius"``): ArchDetect's design (or its main-effect rows) plus random
masks, and a least-squares fit of every pure effect up to the order the query budget allows.

Around an instance the model is a set function ``v(T)`` of the features switched on, with pure
effects (Moebius coefficients) ``m(S)``: ``v(T) = sum_{S subset of T} m(S)`` (see
:mod:`glider_plugins.reference`). On binary masks ``m(S)`` is the coefficient of the AND-cross
``prod_{i in S} mask_i``, so:

1. **Design.** ArchDetect's ``p**2 + p + 2`` masks (all off, one or two features on; all on, one or
   two features off; :func:`~glider_plugins.detectors.archdetect.archdetect_design`) when they fit
   in ``n_samples``, else their ``2 p + 2`` main-effect rows (:func:`screening_design`); then
   distinct uniformly random masks up to ``n_samples``. All ``2**p`` masks when they fit in the
   budget (repeated to fill it, for schemes with random "off" values).
2. **Exact low orders.** The all-off and one-on rows give ``m({})`` and ``m({i})`` exactly, the
   two-on rows ``m({i, j})`` (finite differences at the baseline).
3. **Screening.** With ArchDetect's whole design, a feature whose main difference and every pair
   difference are zero (below the noise floor) in both contexts, at the baseline and at the
   instance, is taken for one that does nothing here (an instance value equal to the baseline's, a
   field the model ignores) and gets no term. With the main-effect rows only, a feature whose main
   difference is the same in both contexts (``f(on) - f(on - i) = f(off + i) - f(off)``: the sum
   of the pure effects of all sets of two or more holding it is zero) is taken for one that acts
   alone: its exact ``m({i})`` is taken off the outputs and it gets no other term. These are checks
   on ``4p - 2`` and ``p`` differences, not proofs: a feature whose higher-order effects cancel in
   both contexts would be missed. The pure effects of the features kept are then exact in what is
   fitted whatever the others do: ``v`` restricted to them, the others off, has the same ``m(S)``.
4. **Higher orders.** Sets of 3..k active features (2..k without the pair rows) get their ``m(S)``
   by least squares on what the exact low orders leave of the outputs, with ``k`` the largest order
   whose terms number at most the distinct masks (of the active features) divided by
   ``rows_per_term``, and at least 2; ``k`` is every active feature (the exact Moebius transform)
   when the masks cover all their combinations. Pairs that outnumber the masks get the
   least-norm fit (through the masks' kernel; no standard errors).
5. **Reporting.** A pair is reported when ``m({i, j})`` is not zero. A set of three or more is
   reported only when the set itself interacts: its fitted ``|m(S)|`` is at least ``min_share`` of
   the largest fitted interaction and ``significance`` standard errors, and its term lowers the
   leave-one-out (each mask held out in turn) error of the fit. Strengths are ``|m(S)|`` in output
   units, the same scale for every order and for the reference.

``pairwise_strengths`` is each pair's interaction mass ``sum |m(S)|`` over all fitted terms holding
it (reported or not): the reference's pair mass, truncated at order ``k``. ``main_effects`` are the
exact ``m({i})``. With ``baselines=Background(data)``, the design is queried once per background row
(up to ``background_rows``; :func:`glider_plugins.querying.query_design`) and averaged, and all of
the above holds for the background-averaged game.

With many features and few queries (``benchmarks/many_features.py``: the NID functions on 10 of
p = 100 or 300 inputs, main effects on the others, 1000 queries) the screening keeps the 10 and
the fit is as on 10 features alone (README). When every feature interacts (most real models at
p > 16), the features kept are too many for sets of three: the fit is pairs only (on the panel's
census model and DeepFM at 120 queries, still precision@5 0.78-0.82 and Spearman 0.90-0.98, where
NID reaches 0.62-0.64 and 0.21-0.31); ``fallback=True`` (``"auto"``) hands such an instance to
ArchDetect when its design was queried, and to NID when even the pairs are more than
:data:`MAX_TERMS` terms.

On the real-model panel (``benchmarks/real_model_panel.py``, README), at 1000 queries, this ranks
pairs like the exact reference (precision@5 0.89-0.99, Spearman 0.97-1.00 on LightGBM and DeepFM
models, with a typical row and with a background), where ArchDetect's two contexts alone reach
0.61-0.88 and 0.84-0.99.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import comb
from typing import ClassVar, NamedTuple

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError, InputTypeError
from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions
from .archdetect import ArchDetectDetector, _mixed_differences, _rank, archdetect_design, noise_rtol
from .base import Detector, check_experiments
from .moebius_design import fit_order, moebius_design, screening_design
from .moebius_fit import MoebiusFit, confirmed_sets, least_squares_fit, transform_fit
from .pure_effects import pair_mass

__all__ = ["MAX_TERMS", "MoebiusDetector", "fit_order", "moebius_design", "screening_design"]

#: Most fitted terms per instance (the least squares costs ``n * terms**2``); at 1000 queries the
#: budget allows about 800.
MAX_TERMS = 4096


class MoebiusDetector(Detector):
    """Pure effects of every order the budget allows, by least squares over exact low orders.

    Parameters
    ----------
    max_order : int or None, default None
        Largest order reported. ``None``: every fitted order. ``2``: pairs only (the pair masses
        still count the fitted higher orders).
    fit_order : int or None, default None
        Largest order fitted. ``None``: the largest the distinct masks allow at ``rows_per_term``
        (:func:`fit_order`). At least 2.
    rows_per_term : float, default 1.25
        Distinct masks per fitted term at least (>= 1). On the panel, 1.6 (one order less at
        p = 10) lowers pair precision@5 by 0.04-0.10.
    min_share : float, default 0.05
        A set of three or more is reported from this share of the instance's largest fitted
        interaction on. In [0, 1].
    significance : float, default 2.0
        ... and from this many standard errors on (residual of the fit). ``0`` turns it off.
    rtol : float or None, default None
        Differences and effects under ``rtol`` times the outputs' scale are zero (model rounding);
        ``None``: from the outputs' precision, as ArchDetect (:func:`~glider_plugins.detectors.archdetect.noise_rtol`).
    background_rows : int or None, default 32
        With a background data set: query the design with this many background rows, as ArchDetect.
    fallback : bool, default False
        With ArchDetect's rows in the design, an instance whose active features are too many to fit
        sets of three goes to ArchDetect (on those rows); without them, one whose pairs alone are
        more than :data:`MAX_TERMS` terms (about 90 interacting features) goes to NID (on all its
        masks); results marked ``metadata["fallback_from"] = "moebius"``. ``False``: the first gets
        the pairs-only fit (its pairs exact), the second an error naming ``'nid'``. ``"auto"``
        sets it.

    Notes
    -----
    ``weights`` are accepted and ignored: the masks are a design, not a sample to be weighted.
    The design needs ``2 p + 2`` queries at least (:func:`screening_design`); a smaller
    ``n_samples`` queries that many.
    """

    name: ClassVar[str] = "moebius"

    def __init__(
        self,
        max_order: int | None = None,
        fit_order: int | None = None,
        rows_per_term: float = 1.25,
        min_share: float = 0.05,
        significance: float = 2.0,
        rtol: float | None = None,
        background_rows: int | None = 32,
        fallback: bool = False,
    ) -> None:
        check_int("max_order", max_order, 2, allow_none=True)
        if not isinstance(fallback, (bool, np.bool_)):
            raise InputTypeError(f"fallback must be True or False, got {fallback!r}")
        check_int("fit_order", fit_order, 2, allow_none=True)
        check_number("rows_per_term", rows_per_term, low=1.0)
        check_number("min_share", min_share, low=0.0, high=1.0)
        check_number("significance", significance, low=0.0)
        if rtol is not None:
            check_number("rtol", rtol, low=0.0, high=1.0, high_open=True)
        check_int("background_rows", background_rows, allow_none=True)
        self.max_order = None if max_order is None else int(max_order)
        self.fit_order = None if fit_order is None else int(fit_order)
        self.rows_per_term = float(rows_per_term)
        self.min_share = float(min_share)
        self.significance = float(significance)
        self.rtol = None if rtol is None else float(rtol)
        self.background_rows = None if background_rows is None else int(background_rows)
        self.fallback = bool(fallback)

    def min_samples(self, n_features: int) -> int:
        """The screening rows, ``2 p + 2`` (or ``2**p`` when that is fewer)."""
        return min(2 * n_features + 2, 2**n_features)

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: PerturbationScheme,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """ArchDetect's design, then distinct random masks up to ``n_samples``: shape (N, n, p)
        (:func:`moebius_design`, one draw per instance). Row 0 is all ``True``."""
        check_int("n_instances", n_instances, 0)
        check_int("n_samples", n_samples)
        designs = [moebius_design(n_features, n_samples, rng) for _ in range(int(n_instances))]
        return np.stack(designs) if designs else np.zeros((0, *moebius_design(n_features, n_samples, rng).shape), dtype=bool)

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
        """Fit the pure effects of each instance (see the module docstring).

        Any masks are accepted; the exact low orders and the screening need the all-off and one-on
        rows, and the all-on and one-off rows, of :meth:`design` (with its two-on and two-off rows,
        the pairs are exact too): without them every order is fitted by least squares and no
        feature is screened out. With ``fallback``, some instances go to ArchDetect or NID
        (:meth:`_fallback_detect`).
        """
        masks, outputs, _, max_order = check_experiments(masks, outputs, weights, max_order, rng)
        report = self.max_order if max_order is None else max_order
        rtol = noise_rtol(outputs) if self.rtol is None else np.full(len(outputs), self.rtol)
        plans = [self.plan_instance(masks[k], outputs[k], float(rtol[k])) for k in range(len(masks))]
        handed = [k for k, plan in enumerate(plans) if self.fallback and plan.hands_over()]
        fitted = [k for k in range(len(masks)) if k not in handed]
        if show_progress:
            from tqdm.auto import tqdm

            fitted = tqdm(fitted, desc="moebius fits", unit="instance")
        results = {k: self.fit_instance(masks[k], plans[k], float(rtol[k]), report) for k in fitted}
        if handed:
            results.update(zip(handed, self._fallback_detect(masks[handed], outputs[handed], report, rng, show_progress), strict=True))
        return [results[k] for k in range(len(masks))]

    def _fallback_detect(self, masks: np.ndarray, outputs: np.ndarray, report: int | None, rng: np.random.Generator,
                         show_progress: bool) -> list[LocalInteractions]:
        """ArchDetect on the instances' ArchDetect rows when they lead every instance's masks, else
        NID on all their masks (``fallback=True``), marked ``metadata["fallback_from"]``."""
        from .nid import NIDDetector

        p = masks.shape[2]
        design = archdetect_design(p)
        shared = {"rtol": self.rtol, "background_rows": self.background_rows}
        if masks.shape[1] >= len(design) and (masks[:, : len(design)] == design).all():
            found = ArchDetectDetector(max_order=report, **shared).detect(masks[:, : len(design)], outputs[:, : len(design)], rng=rng)
        else:
            found = NIDDetector(max_order=report, background_rows=self.background_rows).detect(
                masks, outputs, rng=rng, show_progress=show_progress
            )
        for item in found:
            item.metadata["fallback_from"] = self.name
        return found

    def plan_instance(self, masks: np.ndarray, y: np.ndarray, rtol: float) -> _Plan:
        """What one instance's rows allow: the exact low orders, the active features, what is left of
        the outputs once the other features' exact main effects are taken off, the fit order.

        Parameters
        ----------
        masks : numpy.ndarray of bool, shape (n, p)
        y : numpy.ndarray, shape (n,)
            The outputs (background-averaged where a background was queried).
        rtol : float
            The noise floor relative to the outputs (:func:`~.archdetect.noise_rtol`).
        """
        rows = _ContextRows(masks, y, rtol)
        low = rows.low_orders()
        active = rows.active() if low is not None else np.arange(masks.shape[1])
        target = y.astype(np.float64)
        if low is not None:
            idle = np.setdiff1d(np.arange(masks.shape[1]), active)
            target = target - masks[:, idle] @ low[1][idle]
        distinct = len(np.unique(masks[:, active], axis=0)) if active.size else 1
        room = fit_order(active.size, distinct, self.rows_per_term)
        order = min(max(self.fit_order or room, min(2, active.size)), active.size)
        saturated = active.size > 0 and order == active.size and distinct == 2**active.size
        return _Plan(low, active, target, order, saturated, room)

    def fit_instance(self, masks: np.ndarray, plan: _Plan, rtol: float, report: int | None,
                     extra: Sequence[tuple[int, ...]] = ()) -> LocalInteractions:
        """One instance's fit from its :meth:`plan_instance`, sets reported up to ``report``
        features; ``extra`` sets of active features beyond the fit order get a term too (NID's
        candidates, :func:`~.nid_refit.complete_refit`)."""
        scale = float(np.abs(plan.target).max())
        if plan.saturated:  # every combination queried: the transform itself, no least squares
            fit = transform_fit(masks, plan.target, plan.active, rtol * scale)
        else:
            terms = [members for size in range(plan.order + 1) for members in itertools.combinations(plan.active.tolist(), size)]
            active = set(plan.active.tolist())
            terms += list(dict.fromkeys(tuple(sorted(t)) for t in extra if len(t) > plan.order and set(t) <= active))
            if len(terms) > MAX_TERMS:
                raise InputError(
                    f"the 'moebius' detector would fit {len(terms)} terms for {plan.active.size} features (at most {MAX_TERMS}); "
                    "use detector='auto' or 'nid' for this many features, or lower fit_order"
                )
            fit = least_squares_fit(masks, plan.target, terms, plan.low, rtol * scale)
        sets = confirmed_sets(fit, report, self.min_share, self.significance, saturated=plan.saturated)
        main = np.zeros(masks.shape[1]) if plan.low is None else plan.low[1]
        return _result(fit, sets, main, self.name, len(masks), rtol, plan)

class _ContextRows:
    """The outputs of one instance at ArchDetect's design rows (the mean over a mask's repeats: a
    scheme with random "off" values answers each differently), and what they show exactly: with the
    whole design, main and pair effects; with only its main-effect rows (:func:`screening_design`),
    main effects and which features interact at all."""

    def __init__(self, masks: np.ndarray, y: np.ndarray, rtol: float) -> None:
        p = masks.shape[1]
        codes, inverse = np.unique(np.packbits(masks, axis=1), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        mean = np.bincount(inverse, weights=y) / np.bincount(inverse)
        index = {code.tobytes(): n for n, code in enumerate(codes)}
        found = np.array([index.get(code.tobytes(), -1) for code in np.packbits(archdetect_design(p), axis=1)])
        self.half = 1 + p + p * (p - 1) // 2  # the instance-context rows, then the baseline-context ones
        present = found >= 0
        #: the main-effect rows of each context: (instance, baseline)
        self.has_mains = (bool(present[: 1 + p].all()), bool(present[self.half : self.half + 1 + p].all()))
        #: the pair rows of each context too
        self.has_pairs = (bool(present[: self.half].all()), bool(present[self.half :].all()))
        outputs = np.where(present, mean[np.maximum(found, 0)], 0.0)[None]  # (1, p**2 + p + 2), missing rows 0
        self.omega_on, self.omega_off, main = _mixed_differences(outputs, p, np.array([rtol]))
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


class _Plan(NamedTuple):
    """One instance's fit, before fitting (:meth:`MoebiusDetector.plan_instance`)."""

    low: tuple[float, np.ndarray, np.ndarray | None] | None  #: exact m({}), m({i}), m({i, j}) (or None)
    active: np.ndarray  #: the features that get terms beyond their main effect
    target: np.ndarray  #: the outputs less the other features' exact main effects, (n,)
    order: int  #: the largest order fitted
    saturated: bool  #: every combination of the active features queried
    room: int  #: the largest order the distinct masks allow (:func:`fit_order`)

    def hands_over(self) -> bool:
        """Whether ``fallback`` gives the instance to another detector: with exact pairs (ArchDetect's
        rows), when the masks leave no room for sets of three; without, when even the pairs are
        more than :data:`MAX_TERMS` terms."""
        if self.low is not None and self.low[2] is not None:
            return self.room < min(3, self.active.size)
        return self.n_terms(2) > MAX_TERMS

    def n_terms(self, order: int | None = None) -> int:
        """How many terms a fit up to ``order`` (default: :attr:`order`) of the active features has."""
        top = self.order if order is None else order
        return sum(comb(self.active.size, size) for size in range(min(top, self.active.size) + 1))


def _result(fit: MoebiusFit, sets: list[int], main: np.ndarray, name: str, n: int, rtol: float, plan: _Plan) -> LocalInteractions:
    """The pairs with a non-zero effect and the reported sets, by ``|m(S)|``; main effects (``main``,
    (p,), for the features without a fitted one); pair masses over every fitted term; the signed
    ``m(S)`` of every non-zero fitted term of two or more features and ``m({})``."""
    p = main.size
    pairs, main = np.zeros((p, p)), main.astype(np.float64).copy()
    for members, value in zip(fit.terms, fit.coef, strict=True):
        if len(members) == 1:
            main[members] = value
        elif len(members) == 2:
            pairs[members] = pairs[members[::-1]] = value
    set_effects = [(fit.terms[c], float(fit.coef[c])) for c in sets]
    signed = {members: float(value) for members, value in zip(fit.terms, fit.coef, strict=True) if len(members) >= 2 and value != 0}
    return LocalInteractions(
        interactions=_rank(pairs, set_effects),
        main_effects=main,
        pairwise_strengths=pair_mass(p, fit.terms, fit.coef),
        signed_values=signed,
        baseline_value=float(fit.coef[fit.terms.index(())]),
        metadata={
            "detector": name, "n_queries": n, "rtol": rtol, "fit_order": plan.order, "n_terms": len(fit.terms),
            "active_features": plan.active.tolist(), "exact_pairs": plan.low is not None and plan.low[2] is not None,
            "set_effects": set_effects,
        },
    )
