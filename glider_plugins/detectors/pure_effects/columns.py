"""The columns of a pure-effect fit and their Gram matrix: the AND-cross of each set's features on
the masks, the counts of rows two crosses share, and the diagonal jitter that keeps repeated
columns solvable, and that matrix factored (:mod:`.least_squares` and :mod:`.shared`)."""

from __future__ import annotations

import numpy as np

from ...set_functions import feature_codes

__all__ = ["CODED_COLUMNS", "JITTER", "MAX_CODED_FEATURES", "MAX_SUBSET_FEATURES", "GramFactor", "count_gram", "cross_columns", "jittered",
           "subset_count_gram", "term_codes"]

#: The diagonal jitter of a Gram matrix, relative to its mean diagonal.
JITTER = 1e-9
#: Masks of at most this many features are coded as one int64 each (:func:`feature_codes`).
MAX_CODED_FEATURES = 62
#: Columns :func:`cross_columns` builds from the codes at once.
CODED_COLUMNS = 512
#: :func:`subset_count_gram` counts the subsets of at most this many features (2**16 counts).
MAX_SUBSET_FEATURES = 16


def cross_columns(masks: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray:
    """The AND-cross of each term's features (the empty set: all ones), shape (n, len(terms)).

    Up to :data:`MAX_CODED_FEATURES` features, each mask is one integer (a bit per feature) and a
    term's column is where the mask holds all of the term's bits (one AND and one comparison a
    cell); beyond, each term's features are gathered and AND-ed."""
    out = np.ones((len(masks), len(terms)))
    if masks.shape[1] <= MAX_CODED_FEATURES:
        codes = feature_codes(masks)
        wanted = term_codes(terms)
        for start in range(0, len(terms), CODED_COLUMNS):  # a block of columns at a time: the integer products stay small
            block = wanted[start : start + CODED_COLUMNS]
            out[:, start : start + CODED_COLUMNS] = (codes[:, None] & block[None, :]) == block[None, :]
        return out
    by_size: dict[int, list[int]] = {}
    for n, members in enumerate(terms):
        by_size.setdefault(len(members), []).append(n)
    for size, columns in by_size.items():
        if size:
            members = np.array([terms[c] for c in columns])  # (m, size)
            out[:, columns] = masks[:, members].all(axis=2)
    return out


def term_codes(terms: list[tuple[int, ...]]) -> np.ndarray:
    """Each term as the integer of its features' bits, shape (len(terms),), int64."""
    sizes = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    out = np.zeros(len(terms), dtype=np.int64)
    for size in np.unique(sizes[sizes > 0]).tolist():  # the terms of one size at once
        rows = np.flatnonzero(sizes == size)
        members = np.array([terms[k] for k in rows.tolist()], dtype=np.int64).reshape(-1, size)
        out[rows] = np.bitwise_or.reduce(np.int64(1) << members, axis=1)
    return out


def count_gram(design: np.ndarray) -> np.ndarray:
    """``design.T @ design`` for 0/1 columns (AND-crosses): counts of rows, exact in float32 below
    2**24 rows (half the time of float64), returned as float64."""
    if len(design) < 2**24:
        single = design.astype(np.float32)
        return (single.T @ single).astype(np.float64)
    return design.T @ design


def subset_count_gram(masks: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray | None:
    """:func:`count_gram` of the terms' :func:`cross_columns` without the columns: two AND-crosses
    share the rows that hold the union of their features, so the matrix is the count of masks
    holding each union, read off the counts of masks holding each subset of the terms' features
    (a histogram of the masks on those features, summed over supersets). The same integers, in
    ``n k**2`` fewer operations; ``None`` where the terms span more than
    :data:`MAX_SUBSET_FEATURES` features (2**q counts would cost more)."""
    coded = masks.shape[1] <= MAX_CODED_FEATURES
    codes = term_codes(terms) if coded else None
    if codes is not None:
        union = int(np.bitwise_or.reduce(codes)) if codes.size else 0
        features = [f for f in range(masks.shape[1]) if union >> f & 1]
    else:
        features = sorted({int(f) for members in terms for f in members})
    q = len(features)
    if q > MAX_SUBSET_FEATURES:
        return None
    cell = feature_codes(masks[:, features]) if q else np.zeros(len(masks), dtype=np.int64)
    holding = np.bincount(cell, minlength=2**q).astype(np.int64)  # masks equal to each subset, then holding it
    for bit in range(q):
        view = holding.reshape(-1, 2, 2**bit)
        view[:, 0, :] += view[:, 1, :]
    if codes is not None:  # each term's bits moved to its features' places among ``features``
        wanted = np.zeros_like(codes)
        for place, f in enumerate(features):
            wanted |= ((codes >> f) & 1) << place
    else:
        place = {f: i for i, f in enumerate(features)}
        wanted = term_codes([tuple(place[int(f)] for f in members) for members in terms])
    return holding[wanted[:, None] | wanted[None, :]].astype(np.float64)


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

    def leverage_of_rows(self, design_t: np.ndarray) -> np.ndarray:
        """:meth:`leverage` of ``design_t.T`` given transposed, (k, n): the squared norms of the
        columns of ``L^-1 design_t``."""
        if self._lower is None:
            return np.sum((self._inverse @ design_t) * design_t, axis=0)
        import torch

        whitened = torch.linalg.solve_triangular(self._lower, torch.from_numpy(np.ascontiguousarray(design_t)), upper=False)
        return whitened.square().sum(dim=0).numpy()
