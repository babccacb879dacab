"""How close a detector comes to the exact reference, and how stable it is: the panel's metrics.

All functions take plain results (:class:`~glider_plugins.AttributionResult` or lists of
:class:`~glider_plugins.results.LocalInteractions`) and :class:`ExactInteractions`, and return one
value per instance, so that callers average them as they see fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._checks import check_int
from ..errors import InputError
from ..results import LocalInteractions
from ..set_functions import check_index, game_values, walsh_values
from .exact import ExactInteractions

__all__ = ["captured_at_k", "compare_with_reference", "faithfulness", "pair_precision", "pair_spearman", "surrogate", "top_overlap"]

#: Spearman of an index is taken over the pairs whose exact |index| is at least this share of the
#: instance's largest: near-zero pairs are ranked by noise, by any method.
SPEARMAN_SHARE = 0.05


def _top_pairs(pairwise: np.ndarray, k: int) -> set[tuple[int, int]]:
    iu, ju = np.triu_indices(len(pairwise), 1)
    values = pairwise[iu, ju]
    order = np.lexsort((ju, iu, -values))[:k]
    return {(int(iu[o]), int(ju[o])) for o in order if values[o] > 0}


def pair_precision(detected: np.ndarray, reference: np.ndarray, k: int = 5) -> float:
    """Share of the reference's ``k`` strongest pairs among the detector's ``k`` strongest.

    Parameters
    ----------
    detected, reference : numpy.ndarray, shape (p, p)
        Pair strengths (symmetric). When the reference has fewer than ``k`` pairs with any
        interaction, only those count (``nan`` when it has none).
    """
    truth = _top_pairs(reference, k)
    if not truth:
        return float("nan")
    return len(_top_pairs(detected, len(truth)) & truth) / len(truth)


def pair_spearman(detected: np.ndarray, reference: np.ndarray) -> float:
    """Spearman rank correlation of all ``p (p - 1) / 2`` pair strengths (ties: average ranks;
    ``nan`` when either side is constant)."""
    iu, ju = np.triu_indices(len(reference), 1)
    a = pd.Series(detected[iu, ju]).rank().to_numpy()
    b = pd.Series(reference[iu, ju]).rank().to_numpy()
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def captured_at_k(detected: np.ndarray, reference: np.ndarray, k: int = 5) -> float:
    """The true ``|reference|`` of the detector's ``k`` strongest pairs over that of the best ``k``
    pairs: 1 when the detector's top ``k`` are as strong as any ``k`` (ties in the reference do not
    count against it). ``nan`` when the reference has no interaction."""
    iu, ju = np.triu_indices(len(reference), 1)
    truth = np.abs(reference[iu, ju])
    best = np.sort(truth)[::-1][:k].sum()
    if best <= 0:
        return float("nan")
    chosen = np.lexsort((ju, iu, -np.abs(detected[iu, ju])))[:k]
    return float(truth[chosen].sum() / best)


def surrogate(local: LocalInteractions) -> np.ndarray:
    """What a result says the model does on every mask, shape (2**p,): its pure effects summed
    (``v(T) = sum_{S subset of T} m(S)``), or, for a result ranked by ``"BII"``, its Fourier
    terms of up to two features (``BII(S) / 2**|S|`` is the Fourier coefficient of ``S``; a result
    ranked by ``"k-SII"`` has the same surrogate: the Fourier detector reports both indices)."""
    p = local.n_features
    if local.index in ("BII", "k-SII"):
        values = local.index_values("BII")
        return walsh_values(p, {members: v / 2.0 ** len(members) for members, v in values.items()})
    return game_values(p, local._pure_effects())


def faithfulness(result: Sequence[LocalInteractions], reference: ExactInteractions) -> pd.DataFrame:
    """One row per instance: the R^2 over all ``2**p`` masks of the result's :func:`surrogate`
    against the exact scores (``r2``), its order (the most features in one of its terms), and the
    R^2 the best surrogate of that order reaches (``ceiling``: the variance in the Fourier terms
    of up to that many features, :meth:`ExactInteractions.walsh_energy`)."""
    if len(result) != len(reference):
        raise InputError(f"reference: expected {len(result)} instances, got {len(reference)}")
    rows = []
    for i, local in enumerate(result):
        truth = reference.values[i]
        fitted = surrogate(local)
        total = float(((truth - truth.mean()) ** 2).sum())
        order = 2 if local.index in ("BII", "k-SII") else max((len(s) for s in local._pure_effects()), default=1)
        rows.append({
            "instance": i,
            "r2": 1.0 - float(((truth - fitted) ** 2).sum()) / total if total > 0 else float("nan"),
            "order": order,
            "ceiling": float(reference.walsh_energy(max(order, 1))[i]),
        })
    return pd.DataFrame(rows)


def top_overlap(first: Sequence[LocalInteractions], second: Sequence[LocalInteractions], k: int = 5) -> np.ndarray:
    """Per instance, the share of ``first``'s top ``k`` interactions (sets, any order) that are in
    ``second``'s top ``k``: seed or framework stability, shape (N,). ``nan`` where ``first``
    reports nothing."""
    check_int("k", k)
    if len(first) != len(second):
        raise InputError(f"second: expected results for {len(first)} instances, got {len(second)}")
    out = np.full(len(first), np.nan)
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        top_a = {s for s, _ in a.interactions[:k]}
        if top_a:
            out[i] = len(top_a & {s for s, _ in b.interactions[:k]}) / len(top_a)
    return out


def compare_with_reference(
    result: Sequence[LocalInteractions], reference: ExactInteractions, k: int = 5, index: str = "Moebius"
) -> pd.DataFrame:
    """One row per instance: how a detector's result matches the exact reference.

    ``index="BII"`` or ``"k-SII"``: the result's signed pairs of that index
    (:meth:`LocalInteractions.pairwise`) against the exact ones, by magnitude: ``precision_at_k``,
    ``spearman`` over the pairs whose exact ``|index|`` is at least :data:`SPEARMAN_SHARE` of the
    largest, ``captured_at_k`` (:func:`captured_at_k`).

    ``index="Moebius"`` (default), pure effects: ``precision_at_k`` and ``spearman`` of the pair
    strengths against :meth:`ExactInteractions.pairwise`; ``big_set`` (a set of at least half the features is among
    the detector's top ``k``), ``reference_big_set`` (the reference's top ``k`` has one),
    ``largest_set`` (size of the largest set in the detector's top ``k``), ``main_effect_error``
    (largest absolute difference of the main effects from ``m({i})``, in output units) and
    ``strength_error`` (largest absolute difference of the top ``k`` strengths from their sets'
    ``|m(S)|``).
    """
    check_int("k", k)
    if len(result) != len(reference):
        raise InputError(f"reference: expected {len(result)} instances, got {len(reference)}")
    if check_index(index) != "Moebius":
        return _compare_index(result, reference, k, index)
    truth_pairs = reference.pairwise()
    truth_main = reference.main_effects()
    p = reference.n_features
    rows = []
    for i, local in enumerate(result):
        top = local.interactions[:k]
        sizes = [len(s) for s, _ in top]
        rows.append({
            "instance": i,
            "precision_at_k": pair_precision(local.pairwise(), truth_pairs[i], k),
            "spearman": pair_spearman(local.pairwise(), truth_pairs[i]),
            "big_set": any(size >= p / 2 for size in sizes),
            "reference_big_set": any(len(s) >= p / 2 for s, _ in reference.top(i, k)),
            "largest_set": max(sizes, default=0),
            "main_effect_error": float(np.abs(local.main_effects - truth_main[i]).max()),
            "strength_error": max((abs(v - reference.set_strength(i, s)) for s, v in top), default=0.0),
        })
    return pd.DataFrame(rows)


def _compare_index(result: Sequence[LocalInteractions], reference: ExactInteractions, k: int, index: str) -> pd.DataFrame:
    truth = reference.pairwise(index)
    iu, ju = np.triu_indices(reference.n_features, 1)
    rows = []
    for i, local in enumerate(result):
        detected = np.abs(local.pairwise(index))
        exact = np.abs(truth[i])
        big = exact[iu, ju] >= SPEARMAN_SHARE * exact[iu, ju].max(initial=0.0)
        spearman = float("nan")
        if big.sum() >= 3:
            a = pd.Series(detected[iu, ju][big]).rank().to_numpy()
            b = pd.Series(exact[iu, ju][big]).rank().to_numpy()
            spearman = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
        rows.append({"instance": i, "precision_at_k": pair_precision(detected, exact, k), "spearman": spearman,
                     "captured_at_k": captured_at_k(detected, exact, k)})
    return pd.DataFrame(rows)
