"""Pair fits that share their design: the pair columns of every feature on one set of masks,
factored once, and each instance's fit on its own features read off it.

With many features (p > 16 at 1000 queries) the pure-effect fit is pairs only, over the features
an instance's screening rows keep (:func:`~.instance.plan_instance`): a Gram matrix, its Cholesky
factor and the rows' leverages per instance, ``n k**2`` operations for ``k`` pairs (about 600-800
at p = 39). Instances whose random masks are the same set (one of a small family:
:func:`~glider_plugins.detectors.moebius.design.family_masks`) share the design's
:class:`SharedPairs`: the columns ``X`` of every pair of all ``p`` features, their Gram matrix
``G``, its inverse, ``W = X G^-1`` (kept transposed) and each row's leverage ``h_F`` in the fit
on every pair. An instance keeping the pairs ``A`` and leaving out ``B`` (:class:`PairSubset`), with ``B`` the
smaller, then needs only ``S = (G^-1)[B, B]`` factored (block inversion: ``S^-1`` is the Schur
complement of ``G[A, A]``):

* its solves ``G[A, A]^-1 r = (G^-1 r)_A - (G^-1 S^-1 (G^-1 r)_B)_A`` (``r`` padded with zeros),
  products with ``G^-1`` instead of a factorisation (``k**3 / 3``);
* its leverages ``h_A = h_F - rowsum((W_B S^-1) * W_B)``, ``n |B|**2`` operations instead of
  ``n k**2``.

Where ``A`` is the smaller, ``G[A, A]`` (the same counts; the full matrix's diagonal jitter) is
factored as the direct fit would. What is computed depends only on the masks and the instance's
own pairs, never on which other instances are fitted beside it or before it: an instance gets the
same numbers alone or in any batch, and keeping a design's part (:data:`KEPT_DESIGNS`) only saves
building it again.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict

import numpy as np

from .columns import GramFactor, count_gram, cross_columns, jittered

__all__ = ["KEPT_DESIGNS", "MIN_ROWS_PER_PAIR", "PairSubset", "SharedPairs", "forget_designs", "kept_designs", "shared_pairs"]

#: A design shares its pair fit when it has at least this many masks per pair of all its
#: features (the pure-effect fit's own ``rows_per_term`` default): p = 39 at 1000 queries (741 pairs).
MIN_ROWS_PER_PAIR = 1.25
#: The most designs whose :class:`SharedPairs` are kept (least recently used dropped first): a
#: family's sets for one ``p`` and budget (:data:`~glider_plugins.detectors.moebius.design.DESIGN_FAMILY`).
#: At p = 39 and 1000 queries one takes about 21 MB (its columns, Gram matrix, inverse and weights).
KEPT_DESIGNS = 8

_kept: OrderedDict[bytes, SharedPairs | None] = OrderedDict()
_lock = threading.Lock()


def shared_pairs(masks: np.ndarray) -> SharedPairs | None:
    """The :class:`SharedPairs` of ``masks`` (n, p): kept from an earlier fit on the same masks
    (:data:`KEPT_DESIGNS`), or built; ``None`` where the design has too few masks for every pair
    (:data:`MIN_ROWS_PER_PAIR`) or their Gram matrix cannot be factored (then the fit is made on
    the instance's own pairs)."""
    n, p = masks.shape
    if p < 2 or p * (p - 1) / 2 * MIN_ROWS_PER_PAIR > n:
        return None
    key = hashlib.sha1(np.packbits(masks, axis=1).tobytes() + np.array(masks.shape).tobytes()).digest()
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    found = SharedPairs.build(masks)
    with _lock:
        _kept[key] = found
        while len(_kept) > KEPT_DESIGNS:
            _kept.popitem(last=False)
    return found


def kept_designs() -> int:
    """How many designs' :class:`SharedPairs` are kept (at most :data:`KEPT_DESIGNS`)."""
    with _lock:
        return len(_kept)


def forget_designs() -> None:
    """Drop every kept :class:`SharedPairs`: the next fit on a design builds it again (what the
    first call in a fresh process pays; a benchmark timing a cold start calls this first)."""
    with _lock:
        _kept.clear()


class SharedPairs:
    """One design's pair fit over all ``p`` features (see the module docstring): the masks (n, p)
    as floats, the AND-cross columns of every pair, transposed (``X.T``, (P, n)), their jittered
    Gram matrix ``G`` (P, P), its inverse, ``W.T = G^-1 X.T`` (P, n) and each row's full leverage
    ``h_F`` (n,)."""

    def __init__(self, masks: np.ndarray, pairs: list[tuple[int, int]], columns_t: np.ndarray, gram: np.ndarray,
                 inverse: np.ndarray) -> None:
        self.position = {pair: column for column, pair in enumerate(pairs)}
        self.ends = np.array(pairs, dtype=np.int64).reshape(-1, 2)  # each column's two features
        self.masks = masks.astype(np.float64)
        self.columns_t, self.gram, self.inverse = columns_t, gram, inverse
        self.weights_t = inverse @ columns_t
        self.leverage = np.einsum("pn,pn->n", self.weights_t, columns_t)

    def pair_moments(self, values: np.ndarray) -> np.ndarray:
        """``X.T values`` for every pair, (P,): the pairs' entries of ``M.T diag(values) M`` (the
        masks ``M``), ``n p**2`` operations instead of ``n P``."""
        crossed = (self.masks * values[:, None]).T @ self.masks
        return crossed[self.ends[:, 0], self.ends[:, 1]]

    def pair_predictions(self, coef: np.ndarray) -> np.ndarray:
        """``X coef`` for ``coef`` over every pair (P,), (n,): each mask's ``m.T B m`` with the
        pairs' coefficients in the upper triangle of ``B`` (p, p)."""
        upper = np.zeros((self.masks.shape[1],) * 2)
        upper[self.ends[:, 0], self.ends[:, 1]] = coef
        return np.einsum("np,np->n", self.masks @ upper, self.masks)

    @classmethod
    def build(cls, masks: np.ndarray) -> SharedPairs | None:
        """From the masks (n, p); ``None`` where the Gram matrix is not positive definite."""
        pairs = list(itertools.combinations(range(masks.shape[1]), 2))
        design = cross_columns(masks, pairs)
        gram = jittered(count_gram(design))
        factor = GramFactor(gram)
        if not factor.factored:
            return None
        return cls(masks, pairs, np.ascontiguousarray(design.T), gram, factor.inverse())

    def subset(self, terms: list[tuple[int, ...]]) -> PairSubset | None:
        """The fit on ``terms`` (pairs of this design), or ``None`` if one is not a pair."""
        try:
            columns = np.array([self.position[tuple(t)] for t in terms], dtype=np.int64)
        except KeyError:
            return None
        return PairSubset(self, columns)


class PairSubset:
    """One instance's pairs ``A`` within a :class:`SharedPairs` (the others ``B``): their columns
    and the solves and leverages of their least squares, as a Gram factor gives them
    (``solve``, ``inverse``, ``leverage``) and as the columns do (``moment`` ``X_A^T v``,
    ``predict`` ``X_A b``, ``matrix`` ``X_A``). Through the full fit's inverse (block inversion
    with ``S = (G^-1)[B, B]``) where ``B`` is the smaller, else by factoring ``G[A, A]``."""

    def __init__(self, shared: SharedPairs, columns: np.ndarray) -> None:
        self.shared, self.columns = shared, columns
        kept = np.zeros(len(shared.gram), dtype=bool)
        kept[columns] = True
        self.left_out = np.flatnonzero(~kept)
        self._schur: GramFactor | None = None  # S = (G^-1)[B, B], factored
        self._direct: GramFactor | None = None  # G[A, A], factored
        if len(self.left_out) < len(columns):
            schur = GramFactor(shared.inverse[np.ix_(self.left_out, self.left_out)])
            self._schur = schur if schur.factored else None
        if self._schur is None:
            self._direct = GramFactor(shared.gram[np.ix_(columns, columns)])

    @property
    def width(self) -> int:
        return len(self.columns)

    def moment(self, values: np.ndarray) -> np.ndarray:
        """``X_A^T values``, (k,)."""
        return self.shared.pair_moments(values)[self.columns]

    def predict(self, coef: np.ndarray) -> np.ndarray:
        """``X_A coef``, (n,)."""
        return self.shared.pair_predictions(self._padded(coef, self.columns))

    def matrix(self) -> np.ndarray:
        """``X_A``, (n, k)."""
        return self.shared.columns_t[self.columns].T

    def solve(self, right: np.ndarray) -> np.ndarray:
        """``G[A, A]^-1 right`` for ``right`` of shape (k,)."""
        if self._direct is not None:
            return self._direct.solve(right)
        inverse = self.shared.inverse  # symmetric: (G^-1)[:, B] v is v (G^-1)[B, :], rows B only
        full = inverse @ self._padded(right, self.columns)  # (G^-1)[:, A] right
        return full[self.columns] - (self._schur.solve(full[self.left_out]) @ inverse[self.left_out])[self.columns]

    def inverse(self) -> np.ndarray:
        """``G[A, A]^-1``, (k, k)."""
        if self._direct is not None:
            return self._direct.inverse()
        inverse = self.shared.inverse
        across = inverse[np.ix_(self.left_out, self.columns)]  # (G^-1)[B, A]
        return inverse[np.ix_(self.columns, self.columns)] - across.T @ self._schur.solve(across)

    def leverage(self) -> np.ndarray:
        """Each row's leverage in the fit on ``A``, (n,): the full fit's less what ``B`` adds
        (``rowsum((W_B S^-1) * W_B)``, the leverages of ``W_B`` under ``S``)."""
        if self._direct is not None:
            return self._direct.leverage(self.matrix())
        return self.shared.leverage - self._schur.leverage_of_rows(self.shared.weights_t[self.left_out])

    def _padded(self, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.shared.gram))
        out[positions] = values
        return out
