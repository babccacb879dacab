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
(up to ``background_rows``; :func:`glider_plugins.explain.querying.query_design`) and averaged, and all of
the above holds for the background-averaged game.

With many features and few queries (``benchmarks/many_features.py``: the NID functions on 10 of
p = 100 or 300 inputs, main effects on the others, 1000 queries) the screening keeps the 10 and
the fit is as on 10 features alone (user guide, detectors). When every feature interacts (most real models at
p > 16), the features kept are too many for sets of three: the fit is pairs only (on the panel's
census model and DeepFM at 120 queries, still precision@5 0.78-0.82 and Spearman 0.90-0.98, where
NID reaches 0.62-0.64 and 0.21-0.31); ``"auto"`` hands such an instance to ArchDetect when its
design was queried, and to NID when even the pairs are more than :data:`MAX_TERMS` terms
(:class:`~glider_plugins.detectors.auto.AutoDetector`: the one place hand-overs are decided).

The fit itself is the pure-effect regression both detector families share
(:mod:`glider_plugins.detectors.pure_effects.instance`); this class is its design and its settings.

On the real-model panel (``benchmarks/real_model_panel.py``, user guide), at 1000 queries, this ranks
pairs like the exact reference (precision@5 0.89-0.99, Spearman 0.97-1.00 on LightGBM and DeepFM
models, with a typical row and with a background), where ArchDetect's two contexts alone reach
0.61-0.88 and 0.84-0.99.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..._checks import check_int, check_number
from ...errors import InputError, InputTypeError
from ...perturbations.base import PerturbationScheme
from ...results import LocalInteractions
from ..base import Detector, check_experiments
from ..pure_effects.differences import noise_rtol
from ..pure_effects.instance import MAX_TERMS, Plan, fit_instance, fit_order, plan_instance
from .design import moebius_design, screening_design

__all__ = ["MAX_TERMS", "MoebiusDetector", "fit_order", "moebius_design", "screening_design"]

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
        ``False`` only: an instance whose active features are too many to fit sets of three gets
        the pairs-only fit (its pairs exact), one whose pairs alone are more than :data:`MAX_TERMS`
        terms an error naming ``'nid'``. Hand-overs to ArchDetect or NID are decided by
        :class:`~glider_plugins.detectors.auto.AutoDetector` since 0.2: ask for them by name,
        ``detector="moebius"`` with ``fallback=True`` (or :func:`~glider_plugins.plugins.make_detector`),
        or use ``"auto"``. Kept in the signature so that checkpoints written before still match.

    Notes
    -----
    ``weights`` are accepted and ignored: the masks are a design, not a sample to be weighted.
    The design needs ``2 p + 2`` queries at least (:func:`screening_design`); a smaller
    ``n_samples`` queries that many.
    """

    name: ClassVar[str] = "moebius"
    #: At most this many fitted terms where no ``fit_order`` is given (None: what the masks allow).
    attempt_terms: ClassVar[int | None] = None

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
        if fallback:
            raise InputError(
                "MoebiusDetector(fallback=True): hand-overs to ArchDetect and NID are decided by AutoDetector since 0.2; "
                "ask for them by name (detector='moebius' with fallback=True, or make_detector('moebius', fallback=True)) "
                "or use detector='auto'"
            )
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
        feature is screened out.
        """
        masks, outputs, _, max_order = check_experiments(masks, outputs, weights, max_order, rng)
        report = self.max_order if max_order is None else max_order
        rtols = self.rtols(outputs)
        plans = [self.plan_instance(masks[k], outputs[k], float(rtols[k])) for k in range(len(masks))]
        return self.fit_instances(masks, outputs, plans, rtols, report, rng=rng, show_progress=show_progress)

    def rtols(self, outputs: np.ndarray) -> np.ndarray:
        """Each instance's noise floor relative to its outputs (N, n): ``rtol``, or from the outputs'
        precision (:func:`~glider_plugins.detectors.pure_effects.differences.noise_rtol`); shape (N,)."""
        return noise_rtol(outputs) if self.rtol is None else np.full(len(outputs), self.rtol)

    def fit_instances(self, masks: np.ndarray, outputs: np.ndarray, plans: list[Plan], rtols: np.ndarray,
                      report: int | None, *, rng: np.random.Generator, show_progress: bool = False) -> list[LocalInteractions]:
        """:meth:`fit_instance` for each instance of ``masks`` (N, n, p) and its plan (``outputs``
        and ``rng`` serve a subclass that hands instances over:
        :class:`~glider_plugins.detectors.auto.MoebiusHandOver`)."""
        instances = range(len(plans))
        if show_progress:
            from tqdm.auto import tqdm

            instances = tqdm(instances, desc="moebius fits", unit="instance")
        return [self.fit_instance(masks[k], plans[k], float(rtols[k]), report) for k in instances]

    def plan_instance(self, masks: np.ndarray, y: np.ndarray, rtol: float) -> Plan:
        """What one instance's rows allow, with this detector's ``rows_per_term`` and ``fit_order``
        (or :attr:`attempt_terms`; :func:`~glider_plugins.detectors.pure_effects.instance.plan_instance`).

        Parameters
        ----------
        masks : numpy.ndarray of bool, shape (n, p)
        y : numpy.ndarray, shape (n,)
            The outputs (background-averaged where a background was queried).
        rtol : float
            The noise floor relative to the outputs (:meth:`rtols`).
        """
        max_terms = self.attempt_terms if self.fit_order is None else None
        return plan_instance(masks, y, rtol, rows_per_term=self.rows_per_term, max_fit_order=self.fit_order, max_terms=max_terms)

    def fit_instance(self, masks: np.ndarray, plan: Plan, rtol: float, report: int | None,
                     extra: tuple[tuple[int, ...], ...] = ()) -> LocalInteractions:
        """One instance's fit from its :meth:`plan_instance`, sets reported up to ``report``
        features, with this detector's ``min_share`` and ``significance``
        (:func:`~glider_plugins.detectors.pure_effects.instance.fit_instance`); ``extra`` sets of
        active features beyond the fit order get a term too. Its masks are one of a family's sets
        (:func:`~.design.moebius_design`), so a fit of pairs shares their factorisation (``share``)."""
        return fit_instance(masks, plan, rtol, report, min_share=self.min_share, significance=self.significance,
                            name=self.name, extra=extra, share=True)
