"""The columns of a pure-effect fit and their Gram matrix: the AND-cross of each set's features on
the masks, the counts of rows two crosses share, and the diagonal jitter that keeps repeated
columns solvable, and that matrix factored (:mod:`.least_squares` and :mod:`.shared`)."""

from __future__ import annotations

import numpy as np

__all__ = ["JITTER", "GramFactor", "count_gram", "cross_columns", "jittered"]

#: The diagonal jitter of a Gram matrix, relative to its mean diagonal.
JITTER = 1e-9


def cross_columns(masks: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray:
    """The AND-cross of each term's features (the empty set: all ones), shape (n, len(terms))."""
    out = np.ones((len(masks), len(terms)))
    by_size: dict[int, list[int]] = {}
    for n, members in enumerate(terms):
        by_size.setdefault(len(members), []).append(n)
    for size, columns in by_size.items():
        if size:
            members = np.array([terms[c] for c in columns])  # (m, size)
            out[:, columns] = masks[:, members].all(axis=2)
    return out


def count_gram(design: np.ndarray) -> np.ndarray:
    """``design.T @ design`` for 0/1 columns (AND-crosses): counts of rows, exact in float32 below
    2**24 rows (half the time of float64), returned as float64."""
    if len(design) < 2**24:
        single = design.astype(np.float32)
        return (single.T @ single).astype(np.float64)
    return design.T @ design


def jittered(gram: np.ndarray) -> np.ndarray:
    """``gram`` plus :data:`JITTER` times its mean diagonal on the diagonal (in place; returned)."""
    gram += JITTER * max(float(np.trace(gram)) / len(gram), 1e-300) * np.eye(len(gram))
    return gram


class GramFactor:
    """A symmetric positive definite matrix ``gram`` (k, k) factored once: its Cholesky factor
    (torch's LAPACK), or its inverse where the factorisation fails."""

    def __init__(self, gram: np.ndarray) -> None:
        import torch

        factor, info = torch.linalg.cholesky_ex(torch.from_numpy(np.ascontiguousarray(gram)))
        self._lower = factor if int(info) == 0 else None
        self._inverse = np.linalg.inv(gram) if self._lower is None else None

    @property
    def factored(self) -> bool:
        """Whether ``gram`` was positive definite (factored by Cholesky, not inverted)."""
        return self._lower is not None

    def solve(self, right: np.ndarray) -> np.ndarray:
        """``gram^-1 right`` for ``right`` of shape (k,) or (k, m)."""
        if self._lower is None:
            return self._inverse @ right
        import torch

        column = right.ndim == 1
        values = torch.from_numpy(np.ascontiguousarray(right[:, None] if column else right))
        half = torch.linalg.solve_triangular(self._lower, values, upper=False)
        out = torch.linalg.solve_triangular(self._lower.mT, half, upper=True).numpy()
        return out[:, 0] if column else out

    def inverse(self) -> np.ndarray:
        """``gram^-1``, (k, k)."""
        if self._lower is None:
            return self._inverse
        import torch

        return torch.cholesky_inverse(self._lower).numpy()

    def leverage(self, design: np.ndarray) -> np.ndarray:
        """The diagonal of ``design gram^-1 design^T`` for ``design`` (n, k): the squared norms of
        the rows of ``design L^-T``."""
        if self._lower is None:
            return np.sum((design @ self._inverse) * design, axis=1)
        import torch

        whitened = torch.linalg.solve_triangular(self._lower.mT, torch.from_numpy(design), upper=True, left=False)  # design L^-T
        return whitened.square().sum(dim=1).numpy()
