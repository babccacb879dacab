"""Explaining found interactions away: least squares of the outputs on the main effects and the
AND-crosses of found pairs and of the sets they close (their cliques), on binary masks.

Used by the staged NID of :mod:`.stages`: each pass's residual, and each found pair's cross
mass (how much of the output the crosses through it explain).
"""

from __future__ import annotations

import numpy as np

from ..pure_effects.sets import cliques

__all__ = ["DESIGN_BYTES", "CrossFit"]

#: :class:`CrossFit` builds its float64 designs for this many bytes' worth of instances at a time.
DESIGN_BYTES = 64 * 2**20


class CrossFit:
    """Weighted least squares of outputs on bias, main effects and AND-crosses of found pairs.

    What does not change from pass to pass (the design's bias and main-effect columns, their Gram
    matrix and right-hand side, on the training rows) is computed once here; :meth:`fit` adds the
    crosses of the pairs found so far.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (N, n, p)
    outputs, sample_w : numpy.ndarray, shape (N, n)
    is_val : numpy.ndarray of bool, shape (N, n)
        Held-out rows; the fit uses the other rows, the residual covers all.
    max_clique : int
        Largest clique given its own AND-cross.
    ridge : float
        Jitter relative to the mean diagonal of the Gram matrix (keeps repeated columns solvable).
    """

    def __init__(
        self,
        masks: np.ndarray,
        outputs: np.ndarray,
        sample_w: np.ndarray,
        is_val: np.ndarray,
        max_clique: int = 6,
        ridge: float = 1e-9,
    ) -> None:
        self.masks, self.outputs = masks, outputs.astype(np.float64)
        self.max_clique, self.ridge = max_clique, ridge
        self.w = sample_w * ~is_val
        grams, rhs = [], []
        for block in self._blocks(np.arange(len(masks)), 0):
            weighted = self._base(block) * self.w[block][:, :, None]
            grams.append(weighted.transpose(0, 2, 1) @ self._base(block))
            rhs.append(weighted.transpose(0, 2, 1) @ self.outputs[block][:, :, None])
        self.base_gram = np.concatenate(grams)  # (N, p + 1, p + 1)
        self.base_rhs = np.concatenate(rhs)  # (N, p + 1, 1)

    def _base(self, k: np.ndarray) -> np.ndarray:
        """The bias and main-effect columns of instances ``k``, (G, n, p + 1) float64."""
        base = np.empty((k.size, *self.masks.shape[1:2], self.masks.shape[2] + 1))
        base[:, :, 0] = 1.0
        base[:, :, 1:] = self.masks[k]
        return base

    def _blocks(self, k: np.ndarray, n_sets: int) -> list[np.ndarray]:
        """``k`` cut so that one block's float64 design stays near :data:`DESIGN_BYTES`."""
        n, p = self.masks.shape[1:]
        step = max(1, DESIGN_BYTES // (8 * n * (p + 1 + n_sets)))
        return [k[lo : lo + step] for lo in range(0, k.size, step)]

    def fit(self, found: np.ndarray, instances: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Explain ``found`` away: the residual of the fit and each pair's cross mass.

        Parameters
        ----------
        found : numpy.ndarray of bool, shape (M, p, p)
            Symmetric; the pairs to explain away, per instance. Every clique of found pairs (a set
            all of whose pairs were found, up to ``max_clique`` features) gets its AND-cross too,
            so an interaction of three or more features is removed whole once its pairs are found.
        instances : numpy.ndarray of int, shape (M,), optional
            The instances ``found`` belongs to (default: all N, in order).

        Returns
        -------
        resid : numpy.ndarray, shape (M, n)
        mass : numpy.ndarray, shape (M, p, p)
            The cross mass of a pair: the sum of the absolute least-squares coefficients (output
            units) of the AND-crosses of every fitted set that holds both its features, i.e. how
            much of the output the found interactions through that pair explain. A pair found only
            because NID mixed it with stronger ones has a mass near zero.
        """
        ids = np.arange(len(self.masks)) if instances is None else np.asarray(instances)
        n, p = self.masks.shape[1:]
        resid = np.empty((ids.size, n))
        mass = np.zeros((ids.size, p, p))
        sets = [_by_size(cliques(found[r], self.max_clique)) for r in range(ids.size)]
        widths = np.array([sum(len(cols) for cols, _ in s.values()) for s in sets], dtype=int)
        # instances with as many sets share one stacked fit; each keeps its own columns (no
        # padding), and stacked products and solves work matrix by matrix: nothing depends on
        # the batch
        for n_sets in np.unique(widths):
            for rows in self._blocks(np.flatnonzero(widths == n_sets), int(n_sets)):
                resid[rows], mass[rows] = self._fit_block(ids[rows], [sets[r] for r in rows], int(n_sets))
        return resid, mass

    def _fit_block(self, k: np.ndarray, sets: list[dict[int, tuple[np.ndarray, np.ndarray]]], n_sets: int) -> tuple[np.ndarray, np.ndarray]:
        """Fit instances ``k``, each with ``n_sets`` crosses: their residuals and cross masses."""
        p = self.masks.shape[2]
        base = self._base(k)
        crosses = np.empty((k.size, base.shape[1], n_sets))
        for g, by_size in enumerate(sets):
            for cols, members in by_size.values():
                crosses[g][:, cols] = self.masks[k[g]][:, members].all(axis=2)
        coef = self._solve(k, base, crosses)
        resid = self.outputs[k] - (base @ coef[:, : p + 1] + crosses @ coef[:, p + 1 :])[:, :, 0]
        mass = np.zeros((k.size, p, p))
        for g, by_size in enumerate(sets):
            size_c = np.abs(coef[g, p + 1 :, 0])
            for cols, members in by_size.values():
                a, b = np.nonzero(~np.eye(members.shape[1], dtype=bool))
                np.add.at(mass[g], (members[:, a].ravel(), members[:, b].ravel()), np.repeat(size_c[cols], a.size))
        return resid, mass

    def _solve(self, k: np.ndarray, base: np.ndarray, crosses: np.ndarray) -> np.ndarray:
        """Coefficients (G, p + 1 + s, 1) of instances ``k`` with their cross columns (G, n, s)."""
        weighted = crosses * self.w[k][:, :, None]
        side = weighted.transpose(0, 2, 1) @ base  # (G, s, p + 1)
        gram = np.block([[self.base_gram[k], side.transpose(0, 2, 1)], [side, weighted.transpose(0, 2, 1) @ crosses]])
        rhs = np.concatenate([self.base_rhs[k], weighted.transpose(0, 2, 1) @ self.outputs[k][:, :, None]], axis=1)
        width = gram.shape[2]
        jitter = self.ridge * np.maximum(np.trace(gram, axis1=1, axis2=2) / width, 1e-300)
        gram += jitter[:, None, None] * np.eye(width)
        return np.linalg.solve(gram, rhs)


def _by_size(sets: list[tuple[int, ...]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Sets grouped by size: per size, their columns (positions in ``sets``) and members (m, size)."""
    out: dict[int, tuple[list[int], list[tuple[int, ...]]]] = {}
    for col, members in enumerate(sets):
        cols, rows = out.setdefault(len(members), ([], []))
        cols.append(col)
        rows.append(members)
    return {size: (np.array(cols), np.array(rows)) for size, (cols, rows) in out.items()}
