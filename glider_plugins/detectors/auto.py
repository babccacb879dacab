"""``"auto"``, the default detector: pure-effect regression (``"moebius"``) where the budget fits
pure effects beyond pairs, ArchDetect where only its design fits, pure-effect regression on the
features its screening rows find interacting beyond, NID where an instance has very many of those.

Chosen by the real-model panel (``benchmarks/real_model_panel.py``, user guide): against the exact
pure effects of a LightGBM census model, a LightGBM breast-cancer model and a DeepFM, at 1000
queries, ``"moebius"`` (:mod:`.moebius`) ranks pairs like the reference (precision@5 0.89-0.99,
Spearman 0.97-1.00), with exact main effects, stable across seeds, where ArchDetect's two contexts
reach 0.61-0.88 and 0.84-0.99 and NID 0.63-0.83 and 0.66-0.86. It needs the budget to fit every
set of up to three features (p <= 16 at 1000 queries). Between that and ``p**2 + p + 2 <=
n_samples`` (p <= 31 at 1000) ArchDetect's fixed design is used (its pairs and main effects exact
at the baseline). Beyond, ``"moebius"`` queries ArchDetect's ``2 p + 2`` main-effect rows and
random masks: the features whose main difference is the same in both contexts act alone and keep
their exact main effect, and the fit covers the others (many features, few queries:
``benchmarks/many_features.py``, user guide); with every field interacting, as on most real models at
that size, pairs only (on the panel's census model and DeepFM at 120 queries, where this path is
taken, precision@5 0.78-0.82 and Spearman 0.90-0.98 against NID's 0.62-0.64 and 0.21-0.31). An
instance with more interacting features than pairs fit in
:data:`~glider_plugins.detectors.moebius.MAX_TERMS` terms (about 90) goes to NID on all its masks
(``metadata["fallback_from"] == "moebius"``). Options only one detector takes choose it
(``hidden_units``, ``stages``, ... choose NID).

This module is the only one that knows more than one detector: the choice (:class:`AutoDetector`)
and the hand-overs (:class:`MoebiusHandOver`, also what ``detector="moebius"`` with
``fallback=True`` builds: :func:`moebius_detector`) are made here, so the families below never
import each other.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..results import LocalInteractions
from .archdetect import ArchDetectDetector
from .base import Detector
from .fourier import (
    DESIGNS,
    FourierDetector,
    archdetect_leaves_room,
    check_design_index,
    fourier_design,
    fourier_result,
)
from .moebius import MAX_TERMS, MoebiusDetector, fit_order
from .pure_effects.differences import archdetect_design
from .pure_effects.instance import Plan, faithfulness_of, fit_terms, fitted_result, top_order_share
from .pure_effects.least_squares import MoebiusFit

__all__ = ["EXACT_R2", "FAITHFUL_R2", "MAX_ATTEMPT_TERMS", "MAX_TOP_ORDER_SHARE", "AutoDetector", "MoebiusHandOver", "MoebiusOrFourier", "moebius_detector"]

#: An instance keeps its pure effects when their sparse fit is faithful: it predicts at least this
#: share of the variance of the outputs of masks held out of it (each in turn) ...
FAITHFUL_R2 = 0.999
#: ... and the sets of its largest fitted order hold less than this share of its interaction mass
#: (the mass dies out before the order the budget allows). Else the instance gets the Fourier
#: indices. On the panel at 1000 queries the tabular models' fits predict ``1 - R^2 <= 1.3e-4`` with
#: top-order shares up to 0.32 (the census model averaged over a background: an average of 20
#: sparse games); the image and text models' ``1 - R^2`` of 2e-5 to 0.2 with shares of 0.26 to 0.77,
#: most above 0.4: a few text rows look as sparse as the tabular ones and keep their pure effects.
MAX_TOP_ORDER_SHARE = 0.35
#: The pure-effect attempt of :class:`MoebiusOrFourier` fits at most this many terms (its cost grows
#: with their square). 1000 queries never reach it (at 1.25 masks a term, at most 800); at 3000 it
#: fits sets of up to four of 12 words instead of five (794 terms, not 1,586). Measured at 3000
#: queries, typical baseline, 20 rows, seed 0: auto's time a row on the review CNN 317 -> 131 ms,
#: the GRU 343 -> 133 ms, the digits CNN 186 -> 121 ms; BII precision@5 1.00 -> 0.99 on the review
#: CNN, k-SII 0.99 -> 1.00, the GRU and digits unchanged (1.00 / 0.98, 0.94 / 0.91); the tabular
#: panel's models, whose active features are all enumerated at 3000, unchanged (exact transforms).
MAX_ATTEMPT_TERMS = 1024
#: A fit that predicts held-out masks to this share of their variance is faithful whatever its top
#: order holds: the game is that polynomial (planted sets of three fitted at order 3, say).
EXACT_R2 = 1.0 - 1e-6


class AutoDetector(Detector):
    """Resolves to :class:`MoebiusHandOver` (``"moebius"`` with its hand-overs),
    :class:`ArchDetectDetector` or :class:`~glider_plugins.detectors.NIDDetector` once the number of
    features and the budget are known (:meth:`resolve`).

    Parameters
    ----------
    index : {"BII", "k-SII"}, default "BII"
        Where the Fourier design is used (:class:`MoebiusOrFourier`: p <= 16 at 1000 queries), the
        pairwise index it is drawn for and that instances without a faithful pure-effect fit
        (image and text models) rank by; instances with one rank by their pure effects
        (``"Moebius"``), and every result converts to any index (``pairwise(index=...)``). No
        other path reads it.
    **options
        Passed to the detector chosen. Options only one detector takes choose it.
    """

    name: ClassVar[str] = "auto"

    def __init__(self, index: str = "BII", **options: Any) -> None:
        from .nid import NIDDetector

        self.index = check_design_index(index)
        accepted = {cls: _accepted(cls) for cls in (MoebiusDetector, ArchDetectDetector, NIDDetector)}
        unknown = sorted(set(options) - set().union(*accepted.values()))
        if unknown:
            taken = ", ".join(f"'{cls.name}' ({sorted(names)})" for cls, names in accepted.items())
            raise InputError(f"detector options {unknown} are taken by none of {taken} (and 'index')")
        self.options = dict(options)
        for cls, names in accepted.items():  # check values now
            build = moebius_detector if cls is MoebiusDetector else cls
            build(**{k: v for k, v in options.items() if k in names})

    def get_params(self) -> dict[str, object]:
        """The options given, by name (sorted), ``index`` where it is not ``"BII"`` (so settings
        written before it existed still match)."""
        extra = {} if self.index == "BII" else {"index": self.index}
        return dict(sorted({**self.options, **extra}.items()))

    def min_samples(self, n_features: int) -> int:
        """The smallest budget at which the detector :meth:`resolve` picks can work: the least of
        the candidates' own minima that the one picked there accepts."""
        from .nid import NIDDetector

        candidates = {cls().min_samples(n_features) for cls in (MoebiusDetector, ArchDetectDetector, NIDDetector, FourierDetector)}
        for budget in sorted(candidates):
            if self.resolve(n_features, budget).min_samples(n_features) <= budget:
                return budget
        return max(candidates)

    def resolve(self, n_features: int, n_samples: int) -> Detector:
        """The detector for ``n_features`` features and ``n_samples`` queries per instance, the first
        that takes all the options given of:

        * :class:`MoebiusOrFourier` when the Fourier design fits and either every set of up to three
          features fits beside ArchDetect's design or ArchDetect's design leaves no room for the
          Fourier fit (p <= 16 at 1000 queries, p <= 15 at 300);
        * ``"moebius"`` with its hand-overs (:class:`MoebiusHandOver`) when ArchDetect's design and
          every set of up to three features fit, ``"archdetect"`` when its design fits,
          ``"moebius"`` on its screening rows (``2 p + 2`` queries), and ``"nid"``.
        """
        design_fits = ArchDetectDetector().min_samples(n_features) <= n_samples
        moebius_options = {k: v for k, v in self.options.items() if k in _accepted(MoebiusDetector)}
        moebius = moebius_detector(**{"fallback": True, **moebius_options})
        moebius_takes = set(self.options) <= _accepted(MoebiusDetector)
        beyond_pairs = fit_order(n_features, min(n_samples, 2**n_features), moebius.rows_per_term) >= min(3, n_features)
        fourier_fits = FourierDetector().min_samples(n_features) <= n_samples
        crowded = not archdetect_leaves_room(n_features, n_samples)
        if fourier_fits and (beyond_pairs or crowded) and moebius_takes and isinstance(moebius, MoebiusHandOver):
            return MoebiusOrFourier(index=self.index, **moebius_options)
        if design_fits and beyond_pairs and moebius_takes:
            return moebius
        if design_fits and set(self.options) <= _accepted(ArchDetectDetector):
            return ArchDetectDetector(**self.options)
        if not design_fits and moebius.min_samples(n_features) <= n_samples and moebius_takes:
            return moebius
        return self._nid()

    def _nid(self) -> Detector:
        """NID with the options it takes."""
        from .nid import NIDDetector

        return NIDDetector(**{k: v for k, v in self.options.items() if k in _accepted(NIDDetector)})

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
        """Detect with the detector :meth:`resolve` picks for these masks' ``p`` and ``n``
        (masks that are not ArchDetect's design go to ``"moebius"`` or NID)."""
        n, p = np.shape(masks)[1:]
        chosen = self.resolve(p, n)
        if isinstance(chosen, ArchDetectDetector) and n != chosen.min_samples(p):
            chosen = self._nid()
        return chosen.detect(masks, outputs, weights, max_order=max_order, rng=rng, show_progress=show_progress)


def _accepted(cls: type) -> set[str]:
    return {name for name in inspect.signature(cls.__init__).parameters if name != "self"}


class MoebiusHandOver(MoebiusDetector):
    """``"moebius"`` that hands the instances its rows cannot fit to ArchDetect or NID.

    With ArchDetect's rows in the design, an instance whose active features are too many to fit
    sets of three goes to ArchDetect (on those rows); without them, one whose pairs alone are more
    than :data:`~glider_plugins.detectors.moebius.MAX_TERMS` terms (about 90 interacting features)
    goes to NID (on all its masks); results marked ``metadata["fallback_from"] = "moebius"``. The
    others are fitted as :class:`~glider_plugins.detectors.moebius.MoebiusDetector` fits them.

    Parameters
    ----------
    **options
        :class:`~glider_plugins.detectors.moebius.MoebiusDetector`'s; ``fallback`` is ``True``
        whatever is passed (``get_params`` reports it so).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "fallback": False})
        self.fallback = True

    def get_params(self) -> dict[str, object]:
        """:class:`~glider_plugins.detectors.moebius.MoebiusDetector`'s parameters, ``fallback=True``."""
        return {name: getattr(self, name) for name in _accepted(MoebiusDetector)}

    def fit_instances(self, masks: np.ndarray, outputs: np.ndarray, plans: list[Plan], rtols: np.ndarray,
                      report: int | None, *, rng: np.random.Generator, show_progress: bool = False) -> list[LocalInteractions]:
        """Fit each instance as ``"moebius"`` does, or hand it over (:func:`hands_over`)."""
        handed = [k for k, plan in enumerate(plans) if hands_over(plan)]
        kept = [k for k in range(len(plans)) if k not in handed]
        fitted = super().fit_instances(masks[kept], outputs[kept], [plans[k] for k in kept], rtols[kept], report, rng=rng,
                                       show_progress=show_progress)
        results = dict(zip(kept, fitted, strict=True))
        if handed:
            results.update(zip(handed, self._hand_over(masks[handed], outputs[handed], report, rng, show_progress), strict=True))
        return [results[k] for k in range(len(plans))]

    def _hand_over(self, masks: np.ndarray, outputs: np.ndarray, report: int | None, rng: np.random.Generator,
                   show_progress: bool) -> list[LocalInteractions]:
        """ArchDetect on the instances' ArchDetect rows when they lead every instance's masks, else
        NID on all their masks, marked ``metadata["fallback_from"]``."""
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


class MoebiusOrFourier(MoebiusHandOver):
    """:class:`MoebiusHandOver` on the Fourier design (:func:`~glider_plugins.detectors.fourier.fourier_design`),
    choosing per instance what its game supports: the pure effects where their sparse fit predicts
    masks held out of it (``metadata["heldout_r2"]`` at least :data:`FAITHFUL_R2`) and has run out
    of interactions before its top order (``metadata["top_order_share"]`` below
    :data:`MAX_TOP_ORDER_SHARE`): tabular models; else the Banzhaf and Shapley interactions of the pairs (``"fourier"``: image and text models,
    whose pure effects spread over thousands of sets). The same queries serve both; the result says
    which (``metadata["index"]``: ``"Moebius"``, or ``index``: ``"BII"`` by default, ``metadata["chosen_by"]``). A BII
    result keeps the pure-effect fit's ``moebius_top_order_share`` and ``moebius_heldout_r2``, or
    ``moebius_heldout_r2_at_most`` where a bound settled it (:func:`judge_fit`).

    Parameters
    ----------
    index : {"BII", "k-SII"}, default "BII"
        The index the Fourier design is drawn for and the Fourier results rank by
        (:class:`~glider_plugins.detectors.fourier.FourierDetector`'s ``index``).
    **options
        :class:`~glider_plugins.detectors.moebius.MoebiusDetector`'s. Its pure-effect attempt
        fits at most :data:`MAX_ATTEMPT_TERMS` terms unless ``fit_order`` is given.
    """

    attempt_terms: ClassVar[int | None] = MAX_ATTEMPT_TERMS

    def __init__(self, index: str = "BII", **options: Any) -> None:
        super().__init__(**options)
        self.index = check_design_index(index)

    def get_params(self) -> dict[str, object]:
        """:class:`MoebiusHandOver`'s parameters and ``index``."""
        return {**super().get_params(), "index": self.index}

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: Any,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """:func:`~glider_plugins.detectors.fourier.fourier_design` for each instance, shape (N, n, p)."""
        designs = [fourier_design(n_features, n_samples, rng, *DESIGNS[self.index]) for _ in range(int(n_instances))]
        return np.stack(designs) if designs else np.zeros((0, n_samples, n_features), dtype=bool)

    def fit_instance(self, masks: np.ndarray, plan: Plan, rtol: float, report: int | None,
                     extra: tuple[tuple[int, ...], ...] = ()) -> LocalInteractions:
        """The pure effects where their fit is faithful (:func:`is_faithful`), else the Fourier
        indices on the same masks (``metadata["chosen_by"]`` says why)."""
        fit = fit_terms(masks, plan, rtol, self.name, extra)
        faithful, trust = judge_fit(fit, plan)
        r2 = f"held-out R^2 {trust['heldout_r2']:.6g}" if "heldout_r2" in trust else f"held-out R^2 at most {trust['heldout_r2_at_most']:.6g}"
        reason = f"pure-effect fit: {r2}, top-order share {trust['top_order_share']:.3g}"
        if faithful:
            local = fitted_result(masks, plan, fit, rtol, report, min_share=self.min_share, significance=self.significance,
                                  name=self.name)
            local.metadata["chosen_by"] = f"{reason} (faithful)"
            return local
        local = fourier_result(masks, plan.target + self._idle_part(masks, plan), rtol, low=plan.low, index=self.index)
        local.metadata.update({f"moebius_{k}": v for k, v in trust.items()})
        local.metadata["chosen_by"] = f"{reason} (not faithful: see is_faithful)"
        return local

    @staticmethod
    def _idle_part(masks: np.ndarray, plan: Plan) -> np.ndarray:
        """What :func:`plan_instance` took off the outputs: the idle features' exact main effects."""
        if plan.low is None:
            return np.zeros(len(masks))
        idle = np.setdiff1d(np.arange(masks.shape[1]), plan.active)
        return masks[:, idle] @ plan.low[1][idle]


def is_faithful(heldout_r2: float, top_order_share: float) -> bool:
    """Whether a sparse fit of pure effects can be trusted (:class:`MoebiusOrFourier`): held-out R^2
    at least :data:`EXACT_R2`, or at least :data:`FAITHFUL_R2` with a top-order share below
    :data:`MAX_TOP_ORDER_SHARE`. A ``nan`` R^2 (no mask could be held out) is not faithful."""
    return bool(heldout_r2 >= EXACT_R2 or (heldout_r2 >= FAITHFUL_R2 and top_order_share < MAX_TOP_ORDER_SHARE))


def judge_fit(fit: MoebiusFit, plan: Plan) -> tuple[bool, dict[str, float]]:
    """Whether ``fit`` is faithful (:func:`is_faithful`), and what decided it: its
    :func:`~.pure_effects.instance.faithfulness_of`, or, where the bound of its held-out R^2 that
    needs no leverage (:meth:`~.pure_effects.least_squares.MoebiusFit.held_out_r2_bound`) already
    falls short, ``heldout_r2_at_most`` in place of ``heldout_r2`` (the same decision, without the
    leave-one-out pass: most image and text instances are judged so)."""
    if not plan.saturated:
        share = top_order_share(fit)
        bound = fit.held_out_r2_bound(plan.target)
        if not is_faithful(bound, share):  # the held-out R^2 is at most the bound: not faithful either
            return False, {"heldout_r2_at_most": bound, "top_order_share": share}
    trust = faithfulness_of(fit, plan)
    return is_faithful(**trust), trust


def hands_over(plan: Plan) -> bool:
    """Whether :class:`MoebiusHandOver` gives an instance to another detector: with exact pairs
    (ArchDetect's rows), when its masks leave no room for sets of three; without, when even its
    pairs are more than :data:`~glider_plugins.detectors.moebius.MAX_TERMS` terms."""
    if plan.low is not None and plan.low[2] is not None:
        return plan.room < min(3, plan.active.size)
    return plan.n_terms(2) > MAX_TERMS


def moebius_detector(**options: Any) -> MoebiusDetector:
    """What the name ``"moebius"`` builds: :class:`MoebiusHandOver` with ``fallback=True``, else
    :class:`~glider_plugins.detectors.moebius.MoebiusDetector` (same options)."""
    fallback = options.get("fallback", False)
    if isinstance(fallback, (bool, np.bool_)) and fallback:
        return MoebiusHandOver(**options)
    return MoebiusDetector(**options)


moebius_detector.__signature__ = inspect.signature(MoebiusDetector)  # type: ignore[attr-defined]
