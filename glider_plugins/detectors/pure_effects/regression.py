"""Pure effects by least squares on the queried masks: every candidate re-estimated, every set
confirmed on held-out masks.

A model's set function around an instance is a sum of pure effects (Moebius coefficients,
:mod:`glider_plugins.reference`): ``v(T) = sum_{S subset of T} m(S)``. On binary masks, the pure
effect of ``S`` is the coefficient of its AND-cross ``prod_{i in S} mask_i``, so a weighted least-
squares fit of the outputs on the bias, the main effects and the AND-crosses of candidate pairs and
sets estimates ``m(S)`` in output units, when the candidates hold the model's interactions (what
they leave out is absorbed by the terms they share features with).

:class:`PureEffectFit` fits the bias, the p main effects and a given list of pairs once, then
takes candidate sets of three or more features one at a time (strongest proposal first) and keeps
a set only when its own cross lowers the held-out error by :data:`CONFIRM_GAIN` of what is left and
its fitted effect is at least ``min_share`` of the largest fitted interaction: a set is reported
because it interacts itself, not because its pairs do. Everything works on Gram matrices, so a
candidate costs one bordered (Schur complement) solve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .sets import cliques

__all__ = ["CONFIRM_GAIN", "SIGNIFICANCE", "PureEffects", "PureEffectFit"]

#: A candidate set is kept when adding its cross lowers the held-out weighted MSE by at least this
#: share.
CONFIRM_GAIN = 0.01
#: A fitted term is reported only when its effect exceeds this many standard errors, and counts in
#: the pair masses by what it exceeds them. On the panel's census model, pair Spearman against the
#: exact reference 0.64 without the margin, 0.80 with 2 (pairs that never interact are exactly 0
#: there, and fitted noise ranked them); precision@5 unchanged.
SIGNIFICANCE = 2.0
#: Pairs fitted at this share of the largest pair effect or more propose the sets they close.
CLIQUE_SHARE = 0.1
#: Cliques of strong pairs proposed at most.
MAX_CLIQUES = 30
#: Cliques are grown from this many of the strongest pairs at most (bounds the enumeration when
#: many pairs are strong: 16 ms an instance at p = 39 without it).
MAX_CLIQUE_EDGES = 40


def _ordered(candidates: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Distinct sorted sets, smaller ones first (the given order within a size)."""
    seen: dict[tuple[int, ...], None] = {}
    for members in candidates:
        seen.setdefault(tuple(sorted(int(i) for i in members)), None)
    return sorted(seen, key=len)


@dataclass
class PureEffects:
    """What :meth:`PureEffectFit.confirm` returns for one instance (output units)."""

    bias: float  #: fitted ``m({})``, the output with every feature off
    main: np.ndarray  #: (p,) fitted ``m({i})``
    terms: list[tuple[int, ...]]  #: the pairs fitted, then the confirmed sets
    effects: np.ndarray  #: (len(terms),) their fitted signed ``m(S)``
    errors: np.ndarray  #: (len(terms),) their standard errors (training residual, ``sigma^2 G^-1``)
    rejected: list[tuple[int, ...]]  #: candidate sets that did not confirm
    val_mse: float  #: held-out weighted MSE of the final fit
    val_r2: float  #: held-out R^2 of the final fit


class PureEffectFit:
    """Weighted least squares of one instance's outputs on bias, main effects and AND-crosses.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (n, p)
    outputs, sample_w : numpy.ndarray, shape (n,)
    is_val : numpy.ndarray of bool, shape (n,)
        Held-out rows: the fit uses the others, confirmation these.
    pairs : sequence of (int, int)
        Pairs given their own cross from the start.
    ridge : float
        Jitter relative to the mean diagonal of the Gram matrix (repeated columns stay solvable).
    """

    def __init__(
        self,
        masks: np.ndarray,
        outputs: np.ndarray,
        sample_w: np.ndarray,
        is_val: np.ndarray,
        pairs: Sequence[tuple[int, int]],
        ridge: float = 1e-9,
    ) -> None:
        self.masks = masks
        self.p = masks.shape[1]
        self.y = outputs.astype(np.float64)
        self.w_tr = sample_w * ~is_val
        self.w_va = sample_w * is_val
        if self.w_va.sum() <= 0:  # no held-out rows: confirm on the training rows
            self.w_va = self.w_tr
        self.terms: list[tuple[int, ...]] = [tuple(int(i) for i in pair) for pair in pairs]
        design = self._columns(self.terms, with_base=True)
        self.g_tr, self.b_tr = self._gram(design, self.w_tr)
        self.g_va, self.b_va = self._gram(design, self.w_va)
        self.design = design
        #: diagonal jitter of every solve, fixed from the first Gram matrix
        self.jitter = ridge * max(float(np.trace(self.g_tr)) / len(self.g_tr), 1e-300)
        self.yy_va = float(self.w_va @ self.y**2)  # the held-out MSE's constant term

    def _columns(self, terms: Sequence[tuple[int, ...]], with_base: bool = False) -> np.ndarray:
        x = self.masks
        cols = [x[:, list(t)].all(axis=1) for t in terms]
        if with_base:
            cols = [np.ones(len(x), dtype=bool), *x.T, *cols]
        return np.column_stack(cols).astype(np.float64) if cols else np.zeros((len(x), 0))

    def _gram(self, design: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weighted = design * w[:, None]
        return weighted.T @ design, weighted.T @ self.y

    def _solve(self, gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        return np.linalg.solve(gram + self.jitter * np.eye(len(gram)), rhs)

    def _val_mse(self, coef: np.ndarray, g_va: np.ndarray, b_va: np.ndarray) -> float:
        return max(float(coef @ g_va @ coef - 2 * coef @ b_va + self.yy_va), 0.0) / float(self.w_va.sum())

    def _trial(self, column: np.ndarray, coef: np.ndarray, inverse: np.ndarray) -> tuple[np.ndarray, float, tuple] | None:
        """The fit with one more column, by the bordered (Schur complement) solve against the
        current inverse: ``O(k^2)`` instead of a new ``O(k^3)`` solve. Returns the coefficients,
        the held-out MSE and what :meth:`_accept` needs; ``None`` for a column the others span."""
        wc_tr, wc_va = self.w_tr * column, self.w_va * column
        side_tr, side_va = self.design.T @ wc_tr, self.design.T @ wc_va
        corner_tr, corner_va = float(wc_tr @ column), float(wc_va @ column)
        u = inverse @ side_tr
        schur = corner_tr + self.jitter - float(side_tr @ u)
        if schur <= self.jitter:
            return None
        last = (float(wc_tr @ self.y) - float(side_tr @ coef)) / schur
        head = coef - u * last
        rhs_va = float(wc_va @ self.y)
        quad = float(head @ self.g_va @ head) + 2 * last * float(side_va @ head) + last**2 * corner_va
        mse = max(quad - 2 * (float(head @ self.b_va) + last * rhs_va) + self.yy_va, 0.0) / float(self.w_va.sum())
        return np.append(head, last), mse, (column, side_tr, corner_tr, side_va, corner_va, rhs_va, u, schur)

    def _accept(self, members: tuple[int, ...], inverse: np.ndarray, parts: tuple) -> np.ndarray:
        """Add a tried column to the design, the Gram matrices and the terms; the new inverse."""
        column, side_tr, corner_tr, side_va, corner_va, rhs_va, u, schur = parts
        self.design = np.column_stack([self.design, column])
        self.g_tr = np.block([[self.g_tr, side_tr[:, None]], [side_tr[None, :], np.array([[corner_tr]])]])
        self.b_tr = np.append(self.b_tr, float((self.w_tr * column) @ self.y))
        self.g_va = np.block([[self.g_va, side_va[:, None]], [side_va[None, :], np.array([[corner_va]])]])
        self.b_va = np.append(self.b_va, rhs_va)
        self.terms.append(members)
        return np.block([[inverse + np.outer(u, u) / schur, -u[:, None] / schur], [-u[None, :] / schur, np.array([[1.0 / schur]])]])

    def _standard_errors(self, coef: np.ndarray) -> np.ndarray:
        """Standard errors of the coefficients: the training rows' residual variance times the
        diagonal of the inverse Gram matrix (weights read as frequencies)."""
        yy = float(self.w_tr @ self.y**2)
        sse = max(float(coef @ self.g_tr @ coef - 2 * coef @ self.b_tr + yy), 0.0)
        dof = max(float(self.w_tr.sum()) - len(coef), 1.0) * float(self.w_tr.sum()) / max(float((self.w_tr > 0).sum()), 1.0)
        inverse_diag = np.diag(np.linalg.inv(self.g_tr + self.jitter * np.eye(len(self.g_tr))))
        return np.sqrt(np.maximum(inverse_diag, 0.0) * sse / dof)

    def _keep(self, columns: np.ndarray) -> None:
        """Keep only these design columns (and their Gram rows and terms)."""
        self.design = self.design[:, columns]
        self.g_tr, self.b_tr = self.g_tr[np.ix_(columns, columns)], self.b_tr[columns]
        self.g_va, self.b_va = self.g_va[np.ix_(columns, columns)], self.b_va[columns]
        base = 1 + self.p
        self.terms = [self.terms[c - base] for c in columns[base:]]

    def _eliminate(self, coef: np.ndarray, mse: float, min_share: float) -> tuple[np.ndarray, float, list[tuple[int, ...]]]:
        """Backward pass over the kept sets: drop, one at a time, the set whose removal costs the
        least held-out error while that is under :data:`CONFIRM_GAIN`, or whose effect fell below
        ``min_share`` once later sets joined."""
        dropped: list[tuple[int, ...]] = []
        base = 1 + self.p
        while True:
            set_cols = [base + n for n, t in enumerate(self.terms) if len(t) >= 3]
            if not set_cols:
                return coef, mse, dropped
            largest = np.abs(coef[base:]).max()
            best, best_mse, best_coef, best_cols = None, np.inf, coef, None
            for col in set_cols:
                cols = np.array([c for c in range(len(coef)) if c != col])
                trial = self._solve(self.g_tr[np.ix_(cols, cols)], self.b_tr[cols])
                trial_mse = self._val_mse(trial, self.g_va[np.ix_(cols, cols)], self.b_va[cols])
                weak = abs(coef[col]) < min_share * largest
                if (weak or mse > (1 - CONFIRM_GAIN) * trial_mse) and (best is None or trial_mse < best_mse):
                    best, best_mse, best_coef, best_cols = col, trial_mse, trial, cols
            if best is None:
                return coef, mse, dropped
            dropped.append(self.terms[best - base])
            self._keep(best_cols)
            coef, mse = best_coef, best_mse

    def pair_cliques(self, coef: np.ndarray, max_size: int) -> list[tuple[int, ...]]:
        """Sets of 3..``max_size`` features all of whose pairs have a fitted effect of at least
        :data:`CLIQUE_SHARE` of the largest (among the :data:`MAX_CLIQUE_EDGES` strongest pairs):
        where a set's cross would be absorbed by its pairs."""
        pairs = [t for t in self.terms if len(t) == 2]
        values = np.abs(coef[1 + self.p : 1 + self.p + len(pairs)])
        if not pairs or values.max() <= 0:
            return []
        graph = np.zeros((self.p, self.p), dtype=bool)
        strong = np.flatnonzero(values >= CLIQUE_SHARE * values.max())
        for n in strong[np.argsort(-values[strong], kind="stable")][:MAX_CLIQUE_EDGES]:
            a, b = pairs[n]
            graph[a, b] = graph[b, a] = True
        found = [c for c in cliques(graph, max_size) if len(c) >= 3]
        return found[:MAX_CLIQUES]

    def confirm(self, candidates: Sequence[tuple[int, ...]], min_share: float, max_size: int = 4) -> PureEffects:
        """Fit the pairs, then keep each candidate set (in the order given) that confirms.

        Parameters
        ----------
        candidates : sequence of tuple of int
            Sets of three or more features, strongest proposal first; the cliques of strongly
            fitted pairs (:meth:`pair_cliques`) join them, and all are tried smaller sets first
            (a set's subsets are in the model before it is judged).
        min_share : float
            A kept set's fitted ``|m(S)|`` is at least this share of the largest fitted
            interaction (pair or set).
        max_size : int
            Largest clique proposed.
        """
        coef = self._solve(self.g_tr, self.b_tr)
        mse = self._val_mse(coef, self.g_va, self.b_va)
        candidates = _ordered(list(candidates) + self.pair_cliques(coef, max_size))
        rejected: list[tuple[int, ...]] = []
        inverse = np.linalg.inv(self.g_tr + self.jitter * np.eye(len(self.g_tr)))
        for members in candidates:
            members = tuple(sorted(int(i) for i in members))
            if len(members) < 3 or members in self.terms:
                continue
            tried = self._trial(self._columns([members])[:, 0], coef, inverse)
            if tried is None:
                rejected.append(members)
                continue
            trial, trial_mse, parts = tried
            largest = np.abs(trial[1 + self.p :]).max()
            if trial_mse <= (1 - CONFIRM_GAIN) * mse and abs(trial[-1]) >= min_share * largest:
                inverse = self._accept(members, inverse, parts)
                coef, mse = trial, trial_mse
            else:
                rejected.append(members)
        coef, mse, dropped = self._eliminate(coef, mse, min_share)
        rejected += dropped
        w = self.w_va
        centred = self.y - float(w @ self.y) / float(w.sum())
        total = float(w @ centred**2) / float(w.sum())
        errors = self._standard_errors(coef)
        return PureEffects(
            bias=float(coef[0]),
            main=coef[1 : 1 + self.p],
            terms=list(self.terms),
            effects=coef[1 + self.p :],
            errors=errors[1 + self.p :],
            rejected=rejected,
            val_mse=mse,
            val_r2=1.0 - mse / total if total > 0 else 1.0,
        )
