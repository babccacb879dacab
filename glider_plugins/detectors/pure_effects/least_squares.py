"""The fits behind the pure-effect regression (:mod:`.instance`): one instance's pure effects by
least squares over exact low orders, or by the Moebius transform when every combination was
queried, with standard errors and the leave-one-out check of a fitted term."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...set_functions import all_masks, feature_codes, moebius_transform
from .columns import (
    GramFactor,
    count_gram,
    cross_columns,
    jittered,
    subset_count_gram,
)
from .shared import PairSubset, shared_pairs

__all__ = ["REFINEMENTS", "MoebiusFit", "confirmed_sets", "cross_columns", "least_squares_fit", "transform_fit"]

#: Iterative-refinement steps of each least-squares solve (against the diagonal jitter that keeps
#: repeated columns solvable), but on a shared design (:mod:`.shared`), whose masks are at least
#: 1.25 per pair of all its features: there the jitter moves no estimate by more than about 1e-9 of it.
REFINEMENTS = 2
#: A row whose leverage is within this of 1 cannot be held out (the fit passes through it).
_LEVERAGE_TOL = 1e-8


class MoebiusFit:
    """One instance's fitted pure effects: ``coef`` per term of ``terms`` (their standard errors
    from :meth:`errors_of`), and what the leave-one-out check of a least-squares term needs
    (``design``, ``residual`` and the Cholesky factor of the jittered Gram matrix, from which the
    inverse's columns and the leverages are derived only when asked for)."""

    def __init__(self, terms: list[tuple[int, ...]], coef: np.ndarray, errors: np.ndarray | None, fitted: np.ndarray,
                 noise: float, design: np.ndarray | PairSubset | None = None, factor: GramFactor | PairSubset | None = None,
                 residual: np.ndarray | None = None, variance: float = 0.0) -> None:
        self.terms, self.coef = terms, coef
        self.fitted = fitted  #: which terms the least squares estimated (the others are exact)
        self.noise = noise  #: the model's rounding level in output units
        self.factor, self.residual = factor, residual
        self._design = design  # the fitted terms' columns (n, k), or the shared design's pairs that give them
        self._errors, self._variance = errors, variance

    @cached_property
    def design(self) -> np.ndarray | None:
        """The fitted terms' columns, (n, k) (``None`` without least squares)."""
        return self._design.matrix() if isinstance(self._design, PairSubset) else self._design

    def errors_of(self, terms: list[int]) -> np.ndarray:
        """The standard error of the ``coef`` of each of ``terms`` (positions in :attr:`terms`),
        shape (len(terms),): 0 for an exact term; from the diagonal of the inverse Gram matrix."""
        if self._errors is not None:
            return self._errors[terms]
        out = np.zeros(len(terms))
        fitted = [n for n, term in enumerate(terms) if self.fitted[term]]
        if fitted:
            place = np.cumsum(self.fitted) - 1  # each fitted term's place among the fitted columns
            columns = place[[terms[n] for n in fitted]]
            corners = self.inverse_columns(columns)[columns, np.arange(len(columns))]
            out[fitted] = np.sqrt(np.maximum(corners, 0.0) * self._variance)
        return out

    @cached_property
    def inverse(self) -> np.ndarray:
        """The inverse of the (jittered) Gram matrix of the fitted columns."""
        return self.factor.inverse()

    def inverse_columns(self, columns: np.ndarray) -> np.ndarray:
        """Columns of :attr:`inverse`, (k, len(columns)): solved for where the fit has its own
        Cholesky factor (a few columns cost ``k**2`` each, the whole inverse ``k**3``)."""
        if "inverse" in self.__dict__ or not isinstance(self.factor, GramFactor):
            return self.inverse[:, columns]
        unit = np.zeros((int(self.fitted.sum()), len(columns)))
        unit[columns, np.arange(len(columns))] = 1.0
        return self.factor.solve(unit)

    def held_out_gains(self, terms: list[int]) -> np.ndarray:
        """How much each of ``terms`` lowers the leave-one-out squared error of the fit (PRESS: each
        mask held out in turn), as a share of that error without it, shape (len(terms),); every
        term's downdate of the fit comes from one product with the inverse's columns. Held-out
        errors within the noise level count as zero. ``inf`` for an exact term, and for a fit no
        row can be held out of (every row fixes a term: the transform is exact there)."""
        out = np.full(len(terms), np.inf)
        fitted = [n for n, term in enumerate(terms) if self.fitted[term]]
        if not fitted or self._design is None:
            return out
        free = 1.0 - self.leverage > _LEVERAGE_TOL  # rows that can be held out
        if not free.any():
            return out
        place = np.cumsum(self.fitted) - 1  # each fitted term's place among the fitted columns
        columns = place[[terms[n] for n in fitted]]
        inverse = self.inverse_columns(columns)  # (k, len(fitted))
        downdates = self.design[free] @ inverse  # (free rows, len(fitted))
        residual, leverage = self.residual[free], self.leverage[free]
        with_term = self._press(residual, leverage)
        for n, corner, u in zip(fitted, inverse[columns, np.arange(len(columns))].tolist(), downdates.T, strict=True):
            without = self._press(residual + u * self.coef[terms[n]] / corner, leverage - u**2 / corner)
            out[n] = 0.0 if without <= 0 else (without - with_term) / without
        return out

    def held_out_r2(self, y: np.ndarray) -> float:
        """The share of the variance of ``y`` (the outputs the fit was made on, (n,)) that the fit
        predicts for masks it did not see: ``1 - PRESS / total``, each row held out in turn, over
        the rows that can be held out. ``nan`` when no row can (a least-norm fit through every
        mask, or a fit with no least-squares term)."""
        if self._design is None:
            return float("nan")
        free = 1.0 - self.leverage > _LEVERAGE_TOL
        if free.sum() < 2:
            return float("nan")
        total = float(np.sum((y[free] - y[free].mean()) ** 2))
        if total <= 0:
            return 1.0
        return 1.0 - self._press(self.residual[free], self.leverage[free]) / total

    def held_out_r2_bound(self, y: np.ndarray) -> float:
        """An upper bound of :meth:`held_out_r2` that needs no leverage: each row's residual counts
        as if held out (a held-out error is at least the in-sample one, and the variance over the
        rows that can be held out at most the variance over all). ``nan`` where
        :meth:`held_out_r2` is."""
        if self._design is None:
            return float("nan")
        total = float(np.sum((y - y.mean()) ** 2))
        if total <= 0:
            return 1.0
        residual = self.residual[np.abs(self.residual) > self.noise]
        return 1.0 - float(residual @ residual) / total

    @cached_property
    def leverage(self) -> np.ndarray:
        """The hat matrix's diagonal, (n,): how much each row's own output sets its fitted value."""
        if isinstance(self._design, PairSubset):
            return self._design.leverage()
        return self.factor.leverage(self.design)

    def _press(self, residual: np.ndarray, leverage: np.ndarray) -> float:
        held_out = residual / np.maximum(1.0 - leverage, _LEVERAGE_TOL)
        return float(np.sum(np.where(np.abs(held_out) <= self.noise, 0.0, held_out) ** 2))


def least_squares_fit(masks: np.ndarray, y: np.ndarray, terms: list[tuple[int, ...]], low: tuple | None, noise: float, *,
                      share: bool = False) -> MoebiusFit:
    """Exact orders 0-2 (when ``low`` is given; orders 0-1 when its pairs are ``None``) and least
    squares for the rest of ``terms``; fitted effects within ``noise`` are zero. ``share``: the
    masks are fitted for other instances too, and a fit of pairs reads its solves off their
    :class:`~.shared.SharedPairs` (built once, kept: :func:`~.shared.shared_pairs`); else (masks of
    one instance, where building it would cost more than the fit) the fit factors its own Gram matrix."""
    sizes = np.array([len(t) for t in terms])
    coef = np.zeros(len(terms))
    fitted = np.ones(len(terms), dtype=bool)
    target = y.astype(np.float64)
    if low is not None:
        base, main, pair = low
        exact = 1 if pair is None else 2
        for n, members in enumerate(terms):
            if len(members) <= exact:
                coef[n] = base if not members else main[members[0]] if len(members) == 1 else pair[members]
        fitted = sizes > exact
        exact_cols = cross_columns(masks, [t for t, f in zip(terms, fitted, strict=True) if not f])
        target = target - exact_cols @ coef[~fitted]
    errors = np.zeros(len(terms))
    if not fitted.any():
        return MoebiusFit(terms, coef, errors, fitted, noise)
    fitted_terms = [t for t, f in zip(terms, fitted, strict=True) if f]
    subset = _shared_subset(masks, fitted_terms, low) if share and (sizes[fitted] == 2).all() else None
    if subset is not None:  # pairs of a design whose every pair was factored once (.shared)
        factor: GramFactor | PairSubset = subset
        moment, predict, width = subset.moment, subset.predict, subset.width
    else:
        design = cross_columns(masks, fitted_terms)
        if design.shape[1] >= len(y):  # more terms than masks: the least-norm solution, no errors
            coef[fitted] = _least_norm(design, target, noise)
            return MoebiusFit(terms, coef, errors, fitted, noise)
        gram = subset_count_gram(masks, fitted_terms)
        factor = GramFactor(jittered(count_gram(design) if gram is None else gram))
        moment, predict, width = (lambda values: design.T @ values), (lambda coefs: design @ coefs), design.shape[1]
    estimate = factor.solve(moment(target))
    for _ in range(REFINEMENTS if subset is None else 0):  # remove the jitter's bias (a saturated fit is then the exact
        estimate += factor.solve(moment(target - predict(estimate)))  # transform; a shared design has 1.25 rows a pair)
    estimate[np.abs(estimate) <= noise] = 0.0
    residual = target - predict(estimate)
    dof = len(y) - width
    variance = float(residual @ residual) / dof if dof > 0 else 0.0
    coef[fitted] = estimate
    return MoebiusFit(terms, coef, None, fitted, noise, subset if subset is not None else design, factor, residual, variance)


def _shared_subset(masks: np.ndarray, fitted_terms: list[tuple[int, ...]], low: tuple | None) -> PairSubset | None:
    """The fitted terms (pairs) within the design's :class:`~.shared.SharedPairs`, where the fit is
    over exact orders 0-1 (``low`` given, its pairs ``None``) on a design that shares its
    pairs (:func:`~.shared.shared_pairs`); else ``None``."""
    if low is None or low[2] is not None or not fitted_terms:
        return None
    pairs = shared_pairs(masks)
    return None if pairs is None else pairs.subset(fitted_terms)


def _least_norm(design: np.ndarray, target: np.ndarray, noise: float) -> np.ndarray:
    """The smallest-norm coefficients that fit ``target`` (solved through the masks' (n, n) kernel,
    as the least squares in the terms' space with the same diagonal jitter), within ``noise`` zero."""
    kernel = design @ design.T
    kernel += 1e-9 * max(float(np.trace(kernel)) / len(kernel), 1e-300) * np.eye(len(kernel))
    inverse = np.linalg.inv(kernel)
    dual = inverse @ target
    for _ in range(REFINEMENTS):
        dual += inverse @ (target - design @ (design.T @ dual))
    estimate = design.T @ dual
    estimate[np.abs(estimate) <= noise] = 0.0
    return estimate


def transform_fit(masks: np.ndarray, y: np.ndarray, active: np.ndarray, noise: float) -> MoebiusFit:
    """The Moebius transform of the mean output of every combination of the ``active`` features
    (all queried), effects within ``noise`` zero; standard errors from the spread of repeats."""
    q = active.size
    cell = feature_codes(masks[:, active])
    count = np.bincount(cell, minlength=2**q)
    mean = np.bincount(cell, weights=y, minlength=2**q) / count
    coef = moebius_transform(mean)
    coef[np.abs(coef) <= noise] = 0.0
    residual = y - mean[cell]
    dof = len(y) - 2**q
    variance = float(residual @ residual) / dof if dof > 0 else 0.0
    members = all_masks(q)
    sign = np.where(members.sum(axis=1) % 2, -1.0, 1.0)
    # var m(S) = variance * sum_{T subset of S} 1/count(T), the subset sums by the signed transform
    spread = sign * moebius_transform(sign / count)
    terms = [tuple(active[row].tolist()) for row in members]
    return MoebiusFit(terms, coef, np.sqrt(np.maximum(spread, 0.0) * variance), np.zeros(2**q, dtype=bool), noise)


def confirmed_sets(fit: MoebiusFit, report: int | None, min_share: float, significance: float, saturated: bool = False) -> list[int]:
    """Indices of the fitted sets of three or more (up to ``report`` features) that are reported:
    ``|m(S)|`` at least ``min_share`` of the largest fitted interaction and ``significance``
    standard errors, and a term that lowers the leave-one-out error; a ``saturated`` fit (every
    combination of its features queried: the exact transform) needs no held-out check."""
    sizes = np.array([len(t) for t in fit.terms])
    largest = np.abs(fit.coef[sizes >= 2]).max(initial=0.0)
    if largest <= 0:
        return []
    values = np.abs(fit.coef)
    large = np.flatnonzero((sizes >= 3) & (sizes <= (report or sizes.max())) & (values > 0) & (values >= min_share * largest))
    candidates = [c for c, error in zip(large.tolist(), fit.errors_of(large.tolist()), strict=True) if values[c] >= significance * error]
    if saturated or not candidates:
        return candidates
    return [c for c, gain in zip(candidates, fit.held_out_gains(candidates), strict=True) if gain > 0]
