"""Pure-effect regression (``"moebius"``): ArchDetect's design plus random masks, and a least-squares
fit of every pure effect up to the order the query budget allows.

Around an instance the model is a set function ``v(T)`` of the features switched on, with pure
effects (Moebius coefficients) ``m(S)``: ``v(T) = sum_{S subset of T} m(S)`` (see
:mod:`glider_plugins.reference`). On binary masks ``m(S)`` is the coefficient of the AND-cross
``prod_{i in S} mask_i``, so:

1. **Design.** ArchDetect's ``p**2 + p + 2`` masks (all off, one or two features on; all on, one or
   two features off; :func:`~glider_plugins.detectors.archdetect.archdetect_design`), then distinct
   uniformly random masks up to ``n_samples``; all ``2**p`` masks when they fit in the budget
   (repeated to fill it, for schemes with random "off" values).
2. **Exact low orders.** The all-off, one-on and two-on rows give ``m({})``, ``m({i})`` and
   ``m({i, j})`` exactly (finite differences at the baseline).
3. **Screening.** A feature whose main difference and every pair difference are zero (below the
   noise floor) in both contexts, at the baseline and at the instance, is taken for one that does
   nothing here (an instance value equal to the baseline's, a field the model ignores) and gets no
   term. This is a check on ``4p - 2`` differences, not a proof: a feature that acts only through
   higher-order effects cancelling in both contexts would be missed.
4. **Higher orders.** Sets of 3..k active features get their ``m(S)`` by least squares on what the
   exact low orders leave of the outputs, with ``k`` the largest order whose terms number at most
   the distinct masks divided by ``rows_per_term``; ``k`` is every active feature (the exact
   Moebius transform) when the masks cover all their combinations.
5. **Reporting.** A pair is reported when ``m({i, j})`` is not zero. A set of three or more is
   reported only when the set itself interacts: its fitted ``|m(S)|`` is at least ``min_share`` of
   the largest fitted interaction and ``significance`` standard errors, and its term lowers the
   leave-one-out (each mask held out in turn) error of the fit. Strengths are ``|m(S)|`` in output
   units, the same scale for every order and for the reference.

``pairwise_strengths`` is each pair's interaction mass ``sum |m(S)|`` over all fitted terms holding
it (reported or not): the reference's pair mass, truncated at order ``k``. ``main_effects`` are the
exact ``m({i})``. With ``baselines=Background(data)``, the design is queried once per background row
(up to ``background_rows``; :func:`glider_plugins.attribution.query_design`) and averaged, and all of
the above holds for the background-averaged game.

On the real-model panel (``benchmarks/real_model_panel.py``, README), at 1000 queries, this ranks
pairs like the exact reference (precision@5 0.89-0.99, Spearman 0.97-1.00 on LightGBM and DeepFM
models, with a typical row and with a background), where ArchDetect's two contexts alone reach
0.61-0.88 and 0.84-0.99.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import ClassVar

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError
from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions
from .archdetect import _mixed_differences, _rank, archdetect_design, noise_rtol
from .base import Detector, check_experiments
from .moebius_fit import MoebiusFit, least_squares_fit, transform_fit
from .pure_effects import pair_mass

__all__ = ["MAX_TERMS", "MoebiusDetector", "fit_order", "moebius_design"]

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

    Notes
    -----
    ``weights`` are accepted and ignored: the masks are a design, not a sample to be weighted.
    The design needs ``p**2 + p + 2`` queries at least; a smaller ``n_samples`` queries that many.
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
    ) -> None:
        check_int("max_order", max_order, 2, allow_none=True)
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

    def get_params(self) -> dict[str, object]:
        """The constructor's arguments, as set (scikit-learn's convention)."""
        return {
            "max_order": self.max_order, "fit_order": self.fit_order, "rows_per_term": self.rows_per_term,
            "min_share": self.min_share, "significance": self.significance, "rtol": self.rtol,
            "background_rows": self.background_rows,
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"MoebiusDetector({inner})"

    def min_samples(self, n_features: int) -> int:
        """ArchDetect's design, ``p**2 + p + 2`` (or ``2**p`` when that is fewer)."""
        return min(n_features * n_features + n_features + 2, 2**n_features)

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

        Any masks are accepted; the exact low orders and the screening need the all-off, one-on
        and two-on rows (and the all-on, one-off, two-off rows) of :meth:`design`: without them
        every order is fitted by least squares and no feature is screened out.
        """
        masks, outputs, _, max_order = check_experiments(masks, outputs, weights, max_order, rng)
        report = self.max_order if max_order is None else max_order
        rtol = noise_rtol(outputs) if self.rtol is None else np.full(len(outputs), self.rtol)
        rows = range(len(masks))
        if show_progress:
            from tqdm.auto import tqdm

            rows = tqdm(rows, desc="moebius fits", unit="instance")
        return [self._one(masks[k], outputs[k], float(rtol[k]), report) for k in rows]

    def _one(self, masks: np.ndarray, y: np.ndarray, rtol: float, report: int | None) -> LocalInteractions:
        p = masks.shape[1]
        scale = float(np.abs(y).max())
        rows = _ContextRows(masks, y, rtol)
        low = rows.low_orders()
        active = rows.active() if low is not None else np.arange(p)
        distinct = len(np.unique(masks[:, active], axis=0))
        order = self.fit_order or fit_order(active.size, distinct, self.rows_per_term)
        order = min(max(order, min(2, active.size)), active.size)
        saturated = order == active.size and distinct == 2**active.size
        if saturated:  # every combination queried: the transform itself, no least squares
            fit = transform_fit(masks, y, active, rtol * scale)
        else:
            terms = [members for size in range(order + 1) for members in itertools.combinations(active.tolist(), size)]
            if len(terms) > MAX_TERMS:
                raise InputError(
                    f"the 'moebius' detector would fit {len(terms)} terms for {active.size} features (at most {MAX_TERMS}); "
                    "use detector='nid' for this many features, or lower fit_order"
                )
            fit = least_squares_fit(masks, y, terms, low, rtol * scale)
        sets = self._confirmed(fit, report, saturated=saturated)
        return _result(p, fit, sets, self.name, len(y), rtol, order, active)

    def _confirmed(self, fit: MoebiusFit, report: int | None, saturated: bool) -> list[int]:
        """Indices of the fitted sets of three or more that are reported; a ``saturated`` fit (every
        combination of the active features queried: the exact transform) needs no held-out check."""
        sizes = np.array([len(t) for t in fit.terms])
        interacting = np.abs(fit.coef[sizes >= 2])
        largest = interacting.max(initial=0.0)
        if largest <= 0:
            return []
        keep = []
        for c in np.flatnonzero((sizes >= 3) & (sizes <= (report or sizes.max()))):
            value = abs(fit.coef[c])
            if value <= 0 or value < self.min_share * largest or value < self.significance * fit.errors[c]:
                continue
            if saturated or fit.held_out_gain(c) > 0:
                keep.append(int(c))
        return keep


def moebius_design(n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """One instance's masks, shape (n, p), bool: ArchDetect's design in its row order (row 0 all on),
    then distinct masks not in it, each feature on with probability 1/2, until ``n_samples`` rows
    (``n`` is at least the design's ``p**2 + p + 2``). When ``2**p`` masks fit in that, all of them
    instead (all-on first), repeated up to ``n_samples`` rows: a scheme whose "off" values are
    random (noise, background rows) gets the whole budget to average over, and a deterministic
    one queries the model once per distinct mask (repeats are answered from the first)."""
    p = int(n_features)
    check_int("n_features", p)
    if 2**p <= max(n_samples, p * p + p + 2):
        from ..reference.exact import all_masks

        every = all_masks(p)[::-1]
        cycles, rest = divmod(max(int(n_samples), 2**p), 2**p)
        tail = every[np.sort(rng.choice(2**p, rest, replace=False))] if rest else every[:0]
        return np.concatenate([np.tile(every, (cycles, 1)), tail])
    base = archdetect_design(p)
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
    return np.concatenate([base, np.asarray(extra, dtype=bool).reshape(-1, p)])


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


class _ContextRows:
    """The outputs of one instance at ArchDetect's design rows (the mean over a mask's repeats: a
    scheme with random "off" values answers each differently), and what they show exactly."""

    def __init__(self, masks: np.ndarray, y: np.ndarray, rtol: float) -> None:
        p = masks.shape[1]
        codes, inverse = np.unique(np.packbits(masks, axis=1), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        mean = np.bincount(inverse, weights=y) / np.bincount(inverse)
        index = {code.tobytes(): n for n, code in enumerate(codes)}
        found = np.array([index.get(code.tobytes(), -1) for code in np.packbits(archdetect_design(p), axis=1)])
        self.half = 1 + p + p * (p - 1) // 2  # the instance-context rows, then the baseline-context ones
        #: which halves of the design were all queried: (instance context, baseline context)
        self.has = (bool((found[: self.half] >= 0).all()), bool((found[self.half :] >= 0).all()))
        outputs = np.where(found >= 0, mean[found], 0.0)[None]  # (1, p**2 + p + 2), a missing half 0
        self.omega_on, self.omega_off, main = _mixed_differences(outputs, p, np.array([rtol]))
        self.outputs, self.main, self.p, self.rtol = outputs[0], main[0], p, rtol

    def low_orders(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Exact ``m({})``, ``m({i})`` (p,) and ``m({i, j})`` (p, p) at the baseline; None when the
        design's baseline rows are not all there."""
        if not self.has[1]:
            return None
        return float(self.outputs[self.half]), self.main, self.omega_off[0]

    def active(self) -> np.ndarray:
        """Features with a non-zero main or pair difference at the baseline or at the instance
        (all features when the design's rows are not all there)."""
        if not all(self.has):
            return np.arange(self.p)
        moves = (self.omega_on[0] != 0).any(axis=1) | (self.omega_off[0] != 0).any(axis=1)
        for start in (0, self.half):  # each context: f(context), then its one-toggled rows
            base, single = self.outputs[start], self.outputs[start + 1 : start + 1 + self.p]
            moves |= np.abs(single - base) > self.rtol * np.maximum(np.abs(single), abs(base))
        return np.flatnonzero(moves)


def _result(p: int, fit: MoebiusFit, sets: list[int], name: str, n: int, rtol: float, order: int, active: np.ndarray) -> LocalInteractions:
    """The pairs with a non-zero effect and the reported sets, by ``|m(S)|``; main effects; pair
    masses over every fitted term."""
    pairs, main = np.zeros((p, p)), np.zeros(p)
    for members, value in zip(fit.terms, fit.coef, strict=True):
        if len(members) == 1:
            main[members] = value
        elif len(members) == 2:
            pairs[members] = pairs[members[::-1]] = value
    set_effects = [(fit.terms[c], float(fit.coef[c])) for c in sets]
    return LocalInteractions(
        interactions=_rank(pairs, set_effects),
        main_effects=main,
        pairwise_strengths=pair_mass(p, fit.terms, fit.coef),
        metadata={
            "detector": name, "n_queries": n, "rtol": rtol, "fit_order": order, "n_terms": len(fit.terms),
            "active_features": active.tolist(), "set_effects": set_effects,
        },
    )
