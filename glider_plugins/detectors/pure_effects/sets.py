"""Sets of features as the detectors read them: cliques of a pair graph, the ranking of pairs and
sets by ``|m(S)|``, the signed pure effects a result keeps, and pair masses.

Shared by every detector family (ArchDetect, ``"moebius"``, NID): numpy alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...set_functions import pair_mass

__all__ = ["cliques", "pair_mass", "pairs_of", "rank_interactions", "signed_effects"]


def cliques(graph: np.ndarray, max_size: int) -> list[tuple[int, ...]]:
    """Every clique of 2..``max_size`` nodes of a symmetric bool adjacency matrix (sorted tuples).

    Grown from each pair by adding larger common neighbours only, so each clique appears once.
    """
    out: list[tuple[int, ...]] = []
    frontier = [tuple(pair) for pair in pairs_of(graph)]
    while frontier:
        out.extend(frontier)
        if len(frontier[0]) >= max_size:
            break
        grown = []
        for members in frontier:
            common = np.logical_and.reduce(graph[list(members)], axis=0)
            grown.extend(members + (int(v),) for v in np.flatnonzero(common) if v > members[-1])
        frontier = grown
    return out


def pairs_of(matrix: np.ndarray) -> list[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, where a symmetric bool matrix is true."""
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(matrix, 1)), strict=True)]


def rank_interactions(pure_pairs: np.ndarray, sets: list[tuple[tuple[int, ...], float]]) -> list[tuple[tuple[int, ...], float]]:
    """Pairs with a non-zero pure effect and the sets found, by ``|m(S)|``, strongest first (ties:
    smaller sets, then ids)."""
    iu, ju = np.triu_indices(len(pure_pairs), 1)
    values = np.abs(pure_pairs[iu, ju])
    keep = np.flatnonzero(values > 0)
    keep = keep[np.lexsort((ju[keep], iu[keep], -values[keep]))]  # the pairs in ranking order (ties: ids)
    entries = list(zip(zip(iu[keep].tolist(), ju[keep].tolist()), values[keep].tolist()))
    if sets:  # merged with the pairs: by strength, then smaller sets first, then ids
        entries += [(members, abs(value)) for members, value in sets]
        entries.sort(key=lambda e: (-e[1], len(e[0]), e[0]))
    return entries


def signed_effects(pure_pairs: np.ndarray, sets: Sequence[tuple[tuple[int, ...], float]]) -> dict[tuple[int, ...], float]:
    """The signed ``m(S)`` of the pairs with a non-zero pure effect ((p, p) symmetric) and of the
    given sets (members, value), as :attr:`LocalInteractions.signed_values
    <glider_plugins.results.LocalInteractions.signed_values>` holds them."""
    iu, ju = np.nonzero(np.triu(pure_pairs, 1))
    signed = {(int(i), int(j)): float(pure_pairs[i, j]) for i, j in zip(iu, ju, strict=True)}
    signed.update((tuple(int(i) for i in members), float(value)) for members, value in sets)
    return signed
