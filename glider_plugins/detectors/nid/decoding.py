"""Neural Interaction Detection: reading interactions off trained weights, and the cut-off.

Pairwise strengths ``omega(i, j) = sum_u z_u min(|W1[u, i]|, |W1[u, j]|)``, higher-order sets
from each unit's greedy prefixes with redundant subsets pruned, and the optional cut-off that
keeps as many interactions as improve a held-out additive-plus-crosses fit (Tsang et al., 2018).
"""

from __future__ import annotations

import numpy as np

__all__ = ["anyorder_sets", "nid_anyorder", "nid_pairwise", "prune_redundant", "rank_pairs", "unit_influence", "cutoff_interactions"]


def unit_influence(mlp_weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """|W1| and unit influences from stacked weights.

    Parameters
    ----------
    mlp_weights : list of numpy.ndarray, shapes (N, p, h1), (N, h1, h2), ..., (N, hL, 1)

    Returns
    -------
    w_input : numpy.ndarray, shape (N, h1, p)
        ``|W1|`` with units as rows.
    z : numpy.ndarray, shape (N, h1)
        ``|w_out|^T |W_L| ... |W_2|`` per first-layer unit.
    """
    w_input = np.abs(mlp_weights[0]).transpose(0, 2, 1)
    z = np.abs(mlp_weights[-1])[:, :, 0]  # (N, hL)
    for w in reversed(mlp_weights[1:-1]):
        z = np.einsum("nio,no->ni", np.abs(w), z)
    return w_input, z


def nid_pairwise(w_input: np.ndarray, z: np.ndarray) -> np.ndarray:
    """NID pairwise strengths ``omega(i, j) = sum_u z_u min(|W1[u, i]|, |W1[u, j]|)``.

    Parameters
    ----------
    w_input : numpy.ndarray, shape (N, h1, p)
    z : numpy.ndarray, shape (N, h1)

    Returns
    -------
    numpy.ndarray, shape (N, p, p)
        Symmetric, zero diagonal.
    """
    n_inst, h1, p = w_input.shape
    out = np.zeros((n_inst, p, p))
    budget = 2**24  # entries of the (instances, units, p, p) temporary per chunk
    if h1 * p * p <= budget:  # whole instances per chunk
        step = max(1, budget // (h1 * p * p))
        for s in range(0, n_inst, step):
            a = w_input[s : s + step]
            out[s : s + step] = np.einsum(
                "nuij,nu->nij", np.minimum(a[:, :, :, None], a[:, :, None, :]), z[s : s + step]
            )
    else:  # large p: chunks of units within an instance
        step = max(1, budget // (p * p))
        for k in range(n_inst):
            for s in range(0, h1, step):
                a = w_input[k, s : s + step]
                out[k] += np.einsum(
                    "uij,u->ij", np.minimum(a[:, :, None], a[:, None, :]), z[k, s : s + step]
                )
    idx = np.arange(p)
    out[:, idx, idx] = 0.0
    return out


def nid_anyorder(
    w_input: np.ndarray, z: np.ndarray, max_order: int
) -> list[tuple[tuple[int, ...], float]]:
    """NID's arbitrary-order ranking for one instance (before pruning).

    Each unit ``u`` proposes the prefixes of its inputs sorted by ``|W1[u, :]|``, descending; the
    prefix of size ``k`` gets ``z_u`` times its ``k``-th largest weight. Strengths of equal sets
    add up over units.

    Parameters
    ----------
    w_input : numpy.ndarray, shape (h1, p)
    z : numpy.ndarray, shape (h1,)
    max_order : int
        Largest prefix size (2..p).

    Returns
    -------
    list of (tuple of int, float)
        Every proposed set with its strength, strongest first (ties: smaller sets, then ids).
    """
    sets, strengths = anyorder_sets(w_input, z, max_order)
    ranked = sorted(zip(sets, strengths.tolist(), strict=True), key=lambda e: (-e[1], len(e[0]), e[0]))
    return [e for e in ranked if e[1] > 0]


def anyorder_sets(w_input: np.ndarray, z: np.ndarray, max_order: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The sets :func:`nid_anyorder` proposes and their summed strengths, in no particular order."""
    h1, p = w_input.shape
    k_max = min(max_order, p)
    if k_max < 2:
        return [], np.zeros(0)
    order = np.argsort(-w_input, axis=1, kind="stable")[:, :k_max]  # (h1, K)
    values = np.take_along_axis(w_input, order, axis=1)
    contrib = (z[:, None] * values)[:, 1:]  # prefixes of size 2..K, (h1, K-1)
    onehot = np.zeros((h1, k_max, p), dtype=bool)
    np.put_along_axis(onehot, order[:, :, None], True, axis=2)
    members = np.logical_or.accumulate(onehot, axis=1)[:, 1:]  # (h1, K-1, p)
    packed = np.packbits(members.reshape(-1, p), axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    strengths = np.bincount(inverse.ravel(), weights=contrib.ravel(), minlength=uniq.size)
    first = np.zeros(uniq.size, dtype=np.int64)
    first[inverse.ravel()[::-1]] = np.arange(inverse.size)[::-1]
    rows, cols = np.nonzero(members.reshape(-1, p)[first])  # row-major: each set's ids ascending
    ends = np.cumsum(np.bincount(rows, minlength=uniq.size)).tolist()
    ids = cols.tolist()
    sets = [tuple(ids[lo:hi]) for lo, hi in zip([0, *ends[:-1]], ends, strict=True)]
    return sets, strengths


def rank_pairs(pairwise: np.ndarray, limit: int) -> list[tuple[tuple[int, ...], float]]:
    """Pairs of a (p, p) strength matrix, strongest first (ties: ids), positive ones, at most ``limit``."""
    iu, ju = np.triu_indices(len(pairwise), 1)
    ranked = sorted(
        (((int(i), int(j)), float(pairwise[i, j])) for i, j in zip(iu, ju, strict=True)),
        key=lambda e: (-e[1], e[0]),
    )
    return [e for e in ranked if e[1] > 0][:limit]


def prune_redundant(
    ranking: list[tuple[tuple[int, ...], float]], max_interactions: int = 100
) -> list[tuple[tuple[int, ...], float]]:
    """Drop every set that is a strict subset of a stronger set already kept (NID's rule).

    Walking down the ranking, a set is kept unless a kept (hence stronger) set contains it; pairs
    ranked above their supersets therefore stay. Stops after ``max_interactions`` kept sets.
    """
    kept: list[tuple[tuple[int, ...], float]] = []
    larger: dict[int, list[frozenset[int]]] = {}  # size -> kept sets of more features than that
    for members, strength in ranking:
        s = frozenset(members)
        if any(s < other for other in larger.get(len(s), ())):
            continue
        kept.append((members, strength))
        for size in range(1, len(s)):
            larger.setdefault(size, []).append(s)
        if len(kept) >= max_interactions:
            break
    return kept



def cutoff_interactions(
    masks: np.ndarray,
    targets: np.ndarray,
    sample_w: np.ndarray,
    is_val: np.ndarray,
    ranked: list[tuple[tuple[int, ...], float]],
    tolerance: float,
    ridge: float = 1e-3,
) -> tuple[int, list[float]]:
    """Number of top interactions whose AND-crosses keep improving held-out R^2.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (n, p)
    targets, sample_w : numpy.ndarray, shape (n,)
    is_val : numpy.ndarray of bool, shape (n,)
    ranked : list of (tuple of int, float)
    tolerance : float
        Smallest R^2 gain that counts.
    ridge : float
        Ridge penalty, relative to the training weight mass.

    Returns
    -------
    kept : int
    curve : list of float
        Held-out R^2 with 0, 1, ... crosses (as far as evaluated).
    """
    x = masks.astype(np.float64)
    crosses = [x[:, list(members)].prod(axis=1) for members, _ in ranked]
    tr, va = ~is_val, is_val
    w_tr, w_va = sample_w[tr], sample_w[va]
    if w_va.sum() <= 0:  # held-out samples all weigh zero: score them equally
        w_va = np.ones_like(w_va)
    y_va_mean = np.average(targets[va], weights=w_va)
    ss_tot = max(float(np.sum(w_va * (targets[va] - y_va_mean) ** 2)), 1e-12)

    def r2(n_cross: int) -> float:
        design = np.column_stack([np.ones(len(x)), x, *crosses[:n_cross]])
        a, b = design[tr] * np.sqrt(w_tr)[:, None], targets[tr] * np.sqrt(w_tr)
        penalty = ridge * w_tr.sum() * np.eye(design.shape[1])
        penalty[0, 0] = 0.0  # no penalty on the intercept
        coef = np.linalg.solve(a.T @ a + penalty, a.T @ b)
        resid = targets[va] - design[va] @ coef
        return 1.0 - float(np.sum(w_va * resid**2)) / ss_tot

    curve = [r2(0)]
    kept = 0
    for k in range(1, len(crosses) + 1):
        curve.append(r2(k))
        if curve[-1] - curve[-2] <= tolerance:
            break
        kept = k
    return kept, curve
