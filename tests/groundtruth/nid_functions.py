"""The ten synthetic functions F1..F10 of NID (Tsang et al., ICLR 2018, Table 1), with ground truth.

Every function takes ``X`` of shape (n, 10) and returns shape (n,). Feature ids are 0-based here
(the paper's ``x1`` is column 0). Ground-truth interaction sets follow the paper's Table 1, shifted
to 0-based ids.

Input ranges (paper, Sec. 5.1): every feature is uniform on [-1, 1], except in F1, which uses the
ranges of Hooker (2004): ``x4, x5, x8, x10 ~ U(0.6, 1)`` and the other features ``~ U(0, 1)``.

Two terms are undefined on part of [-1, 1]^10 as printed in the paper; we follow the authors' code:

* F3/F4 ``-x3^(2|x4|)`` is written ``-(x3**2)**abs(x4)`` in the official demo
  (github.com/mtsang/neural-interaction-detection, ``demo.ipynb``), i.e. ``-|x3|^(2|x4|)``.
* F2 ``sqrt(x7 / (1 + |x8|))`` is negative under the root when ``x7 < 0``; the authors' code for F2 is
  not public, so we apply the same remedy as their F4 code (absolute value of the base of a real
  power): ``sqrt(|x7| / (1 + |x8|))``. The interaction set {x7, x8, x9, x10} is unchanged.

Helpers build a black-box "mask game" ``g(mask) = f(where(mask, x, x'))`` from a function, an
instance ``x`` and a baseline ``x'``, measure a game's exact local interactions by enumerating all
``2**p`` masks, and score pairwise strengths against the ground truth with a rank-statistic AUC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FUNCTIONS",
    "SyntheticFunction",
    "cube_values",
    "local_pair_strengths",
    "mask_game",
    "mixed_difference_rms",
    "pairwise_auc",
    "true_pair_matrix",
    "true_pairs",
]

N_FEATURES = 10


def _cols(X: np.ndarray) -> tuple[np.ndarray, ...]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != N_FEATURES:
        raise ValueError(f"X must have shape (n, {N_FEATURES}), got {X.shape}")
    return tuple(X.T)


def f1(X: np.ndarray) -> np.ndarray:
    """pi^(x1 x2) sqrt(2 x3) - asin(x4) + log(x3 + x5) - (x9 / x10) sqrt(x7 / x8) - x2 x7."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.pi ** (x1 * x2) * np.sqrt(2.0 * x3)
        - np.arcsin(x4)
        + np.log(x3 + x5)
        - (x9 / x10) * np.sqrt(x7 / x8)
        - x2 * x7
    )


def f2(X: np.ndarray) -> np.ndarray:
    """pi^(x1 x2) sqrt(2|x3|) - asin(x4/2) + log(|x3 + x5| + 1) + x9/(1+|x10|) sqrt(|x7|/(1+|x8|)) - x2 x7."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.pi ** (x1 * x2) * np.sqrt(2.0 * np.abs(x3))
        - np.arcsin(0.5 * x4)
        + np.log(np.abs(x3 + x5) + 1.0)
        + (x9 / (1.0 + np.abs(x10))) * np.sqrt(np.abs(x7) / (1.0 + np.abs(x8)))
        - x2 * x7
    )


def f3(X: np.ndarray) -> np.ndarray:
    """exp|x1 - x2| + |x2 x3| - (x3^2)^|x4| + log(x4^2 + x5^2 + x7^2 + x8^2) + x9 + 1/(1 + x10^2)."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.exp(np.abs(x1 - x2))
        + np.abs(x2 * x3)
        - (x3**2) ** np.abs(x4)
        + np.log(x4**2 + x5**2 + x7**2 + x8**2)
        + x9
        + 1.0 / (1.0 + x10**2)
    )


def f4(X: np.ndarray) -> np.ndarray:
    """F3 + (x1 x4)^2."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return f3(X) + (x1 * x4) ** 2


def f5(X: np.ndarray) -> np.ndarray:
    """1/(1 + x1^2 + x2^2 + x3^2) + sqrt(exp(x4 + x5)) + |x6 + x7| + x8 x9 x10."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        1.0 / (1.0 + x1**2 + x2**2 + x3**2)
        + np.sqrt(np.exp(x4 + x5))
        + np.abs(x6 + x7)
        + x8 * x9 * x10
    )


def f6(X: np.ndarray) -> np.ndarray:
    """exp(|x1 x2| + 1) - exp(|x3 + x4| + 1) + cos(x5 + x6 - x8) + sqrt(x8^2 + x9^2 + x10^2)."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.exp(np.abs(x1 * x2) + 1.0)
        - np.exp(np.abs(x3 + x4) + 1.0)
        + np.cos(x5 + x6 - x8)
        + np.sqrt(x8**2 + x9**2 + x10**2)
    )


def f7(X: np.ndarray) -> np.ndarray:
    """(atan x1 + atan x2)^2 + max(x3 x4 + x6, 0) - 1/(1 + (x4 x5 x6 x7 x8)^2) + (|x7|/(1+|x9|))^5 + sum x."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        (np.arctan(x1) + np.arctan(x2)) ** 2
        + np.maximum(x3 * x4 + x6, 0.0)
        - 1.0 / (1.0 + (x4 * x5 * x6 * x7 * x8) ** 2)
        + (np.abs(x7) / (1.0 + np.abs(x9))) ** 5
        + np.asarray(X, dtype=np.float64).sum(axis=1)
    )


def f8(X: np.ndarray) -> np.ndarray:
    """x1 x2 + 2^(x3 + x5 + x6) + 2^(x3 + x4 + x5 + x7) + sin(x7 sin(x8 + x9)) + acos(0.9 x10)."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        x1 * x2
        + 2.0 ** (x3 + x5 + x6)
        + 2.0 ** (x3 + x4 + x5 + x7)
        + np.sin(x7 * np.sin(x8 + x9))
        + np.arccos(0.9 * x10)
    )


def f9(X: np.ndarray) -> np.ndarray:
    """tanh(x1 x2 + x3 x4) sqrt|x5| + exp(x5 + x6) + log((x6 x7 x8)^2 + 1) + x9 x10 + 1/(1 + |x10|)."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.tanh(x1 * x2 + x3 * x4) * np.sqrt(np.abs(x5))
        + np.exp(x5 + x6)
        + np.log((x6 * x7 * x8) ** 2 + 1.0)
        + x9 * x10
        + 1.0 / (1.0 + np.abs(x10))
    )


def f10(X: np.ndarray) -> np.ndarray:
    """sinh(x1 + x2) + acos(tanh(x3 + x5 + x7)) + cos(x4 + x5) + sec(x7 x9)."""
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = _cols(X)
    return (
        np.sinh(x1 + x2)
        + np.arccos(np.tanh(x3 + x5 + x7))
        + np.cos(x4 + x5)
        + 1.0 / np.cos(x7 * x9)
    )


@dataclass(frozen=True)
class SyntheticFunction:
    """One NID test function with its ground truth and input range.

    Attributes
    ----------
    name : str
        ``"F1"`` .. ``"F10"``.
    func : callable
        ``X (n, 10) -> y (n,)``.
    interactions : tuple of tuple of int
        Ground-truth interaction sets, 0-based feature ids, each sorted.
    low, high : tuple of float, length 10
        Per-feature sampling range (uniform).
    """

    name: str
    func: Callable[[np.ndarray], np.ndarray]
    interactions: tuple[tuple[int, ...], ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @property
    def n_features(self) -> int:
        return N_FEATURES

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.func(X)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` inputs uniformly from the function's range, shape (n, 10)."""
        return rng.uniform(np.asarray(self.low), np.asarray(self.high), size=(n, N_FEATURES))

    @property
    def max_order(self) -> int:
        return max(len(s) for s in self.interactions)


def _sets(*sets: Iterable[int]) -> tuple[tuple[int, ...], ...]:
    """1-based sets as printed in the paper -> sorted 0-based tuples."""
    return tuple(tuple(sorted(i - 1 for i in s)) for s in sets)


_UNIT = ((-1.0,) * N_FEATURES, (1.0,) * N_FEATURES)
_F1_LOW = tuple(0.6 if i in (4, 5, 8, 10) else 0.0 for i in range(1, N_FEATURES + 1))
_F1_HIGH = (1.0,) * N_FEATURES

#: F1..F10 by name, in order.
FUNCTIONS: dict[str, SyntheticFunction] = {
    fn.name: fn
    for fn in (
        SyntheticFunction(
            "F1", f1, _sets({1, 2, 3}, {3, 5}, {7, 8, 9, 10}, {2, 7}), _F1_LOW, _F1_HIGH
        ),
        SyntheticFunction("F2", f2, _sets({1, 2, 3}, {3, 5}, {7, 8, 9, 10}, {2, 7}), *_UNIT),
        SyntheticFunction("F3", f3, _sets({1, 2}, {2, 3}, {3, 4}, {4, 5, 7, 8}), *_UNIT),
        SyntheticFunction("F4", f4, _sets({1, 2}, {2, 3}, {3, 4}, {4, 5, 7, 8}, {1, 4}), *_UNIT),
        SyntheticFunction("F5", f5, _sets({1, 2, 3}, {4, 5}, {6, 7}, {8, 9, 10}), *_UNIT),
        SyntheticFunction("F6", f6, _sets({1, 2}, {3, 4}, {5, 6, 8}, {8, 9, 10}), *_UNIT),
        SyntheticFunction("F7", f7, _sets({1, 2}, {3, 4, 6}, {4, 5, 6, 7, 8}, {7, 9}), *_UNIT),
        SyntheticFunction("F8", f8, _sets({1, 2}, {3, 5, 6}, {3, 4, 5, 7}, {7, 8, 9}), *_UNIT),
        SyntheticFunction("F9", f9, _sets({1, 2, 3, 4, 5}, {5, 6}, {6, 7, 8}, {9, 10}), *_UNIT),
        SyntheticFunction("F10", f10, _sets({1, 2}, {3, 5, 7}, {4, 5}, {7, 9}), *_UNIT),
    )
}


def mask_game(
    func: Callable[[np.ndarray], np.ndarray], x: np.ndarray, baseline: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """A black box over binary masks: ``g(mask) = func(where(mask, x, baseline))``.

    Parameters
    ----------
    func : callable
        ``X (m, p) -> y (m,)``.
    x, baseline : numpy.ndarray, shape (p,) or (N, p)
        Instance(s) and baseline(s). With shape (N, p), masks must have shape (N, n, p) and row
        ``k`` of the masks uses instance ``k``.

    Returns
    -------
    callable
        ``masks (..., p) bool -> outputs (...)`` float64.
    """
    x = np.asarray(x, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if x.shape != baseline.shape or x.ndim not in (1, 2):
        raise ValueError(
            f"x and baseline must have equal shape (p,) or (N, p), got {x.shape} and {baseline.shape}"
        )
    if x.ndim == 2:
        x, baseline = x[:, None, :], baseline[:, None, :]

    def game(masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        values = np.where(masks, x, baseline)
        return func(values.reshape(-1, values.shape[-1])).reshape(values.shape[:-1])

    return game


def true_pairs(sets: Iterable[Sequence[int]], p: int) -> list[tuple[int, int]]:
    """All pairs ``i < j`` (0-based, below ``p``) that lie inside some ground-truth set."""
    return [tuple(int(v) for v in ij) for ij in np.argwhere(np.triu(true_pair_matrix(sets, p), 1))]


def true_pair_matrix(sets: Iterable[Sequence[int]], p: int) -> np.ndarray:
    """Symmetric (p, p) bool matrix, ``True`` where both features lie in one ground-truth set."""
    truth = np.zeros((p, p), dtype=bool)
    for s in sets:
        idx = np.asarray(sorted(s), dtype=int)
        if idx.size and (idx.min() < 0 or idx.max() >= p):
            raise ValueError(f"ground-truth set {tuple(s)} has ids outside 0..{p - 1}")
        truth[np.ix_(idx, idx)] = True
    np.fill_diagonal(truth, False)
    return truth


def pairwise_auc(
    pairwise_matrix: np.ndarray,
    ground_truth_sets: Iterable[Sequence[int]],
    exclude: np.ndarray | None = None,
) -> float:
    """ROC AUC of pairwise strengths against ground-truth pairs (Mann-Whitney, ties count half).

    Parameters
    ----------
    pairwise_matrix : numpy.ndarray, shape (p, p)
        Pairwise strengths; only the upper triangle ``i < j`` is read.
    ground_truth_sets : iterable of sequences of int
        Interaction sets; a pair is positive when it lies inside one of them.
    exclude : numpy.ndarray of bool, shape (p, p), optional
        Pairs left out of the count (neither positive nor negative).

    Returns
    -------
    float
        Probability that a random positive pair scores above a random negative pair.
    """
    scores = np.asarray(pairwise_matrix, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"pairwise_matrix must be square, got shape {scores.shape}")
    p = scores.shape[0]
    iu = np.triu_indices(p, 1)
    labels = true_pair_matrix(ground_truth_sets, p)[iu]
    values = scores[iu]
    if exclude is not None:
        kept = ~np.asarray(exclude, dtype=bool)[iu]
        labels, values = labels[kept], values[kept]
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("pairwise AUC needs both positive and negative pairs")
    ranks = _average_ranks(values)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values`` with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    # boundaries of runs of equal values
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], values.size]
    run_rank = (starts + ends + 1) / 2.0  # mean of 1-based ranks start+1 .. end
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def cube_values(game: Callable[[np.ndarray], np.ndarray], p: int) -> np.ndarray:
    """A mask game on all ``2**p`` masks, shape (2,) * p: axis ``i`` is feature ``i`` off / on."""
    if p > 20:
        raise ValueError(f"enumerating 2**{p} masks is too much; p must be <= 20")
    masks = np.array(np.meshgrid(*([[False, True]] * p), indexing="ij")).reshape(p, -1).T
    return np.asarray(game(masks), dtype=np.float64).reshape((2,) * p)


def mixed_difference_rms(values: np.ndarray, features: Sequence[int]) -> float:
    """Root mean square, over all contexts of the other features, of the discrete mixed derivative.

    For a pair this is ``f(11) - f(10) - f(01) + f(00)``; for a set ``S`` the ``|S|``-th order
    difference. It is exactly zero in every context when no term of the game depends on all of
    ``S`` together.

    Parameters
    ----------
    values : numpy.ndarray, shape (2,) * p
        From :func:`cube_values`.
    features : sequence of int
    """
    diff = values
    for axis in features:
        diff = np.diff(diff, axis=axis)
    return float(np.sqrt(np.mean(diff**2)))


def local_pair_strengths(values: np.ndarray) -> np.ndarray:
    """Exact local pairwise interaction strengths of a game, shape (p, p), zero diagonal.

    Entry ``(i, j)`` is :func:`mixed_difference_rms` of the pair: the ground truth a detector on
    this game's masks should recover, whatever the global form of the function.
    """
    p = values.ndim
    out = np.zeros((p, p))
    for i, j in zip(*np.triu_indices(p, 1), strict=True):
        out[i, j] = out[j, i] = mixed_difference_rms(values, (int(i), int(j)))
    return out


def weak_true_pairs(fn: SyntheticFunction, x: np.ndarray, baseline: np.ndarray, tau: float = 0.05) -> np.ndarray:
    """Pairs of the paper's sets that barely interact around this instance, shape (p, p) bool.

    A true pair is weak when its exact local strength (:func:`local_pair_strengths` of the mask
    game) is below ``tau`` times the instance's strongest pair. Scoring local ground truth leaves
    them out (neither positive nor negative); see ``tests/test_detectors.py`` for why.
    """
    exact = local_pair_strengths(cube_values(mask_game(fn, x, baseline), fn.n_features))
    return true_pair_matrix(fn.interactions, fn.n_features) & (exact < tau * exact.max())
