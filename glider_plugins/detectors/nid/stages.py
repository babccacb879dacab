"""Staged NID: explain found pairs away with exact AND-crosses, then detect again on what is left.

One NID pass reads every interaction off one network. When one interaction dominates an
instance (often: a strength 10-100 times the next), the network spreads it over many first-layer
units, those units also carry the weaker interactions, and NID's ``min(|W1[u, i]|, |W1[u, j]|)``
then credits pairs that mix a dominant feature with a weak one: the weak true pairs drown among
these mixed false pairs. On binary masks an interaction between two features is fully described
by one AND-cross ``mask_i * mask_j``, and one of three or more features by the AND-crosses of
all its subsets, so found interactions can be removed exactly: after each pass, the strongest new
pairs join the found ones, every clique of found pairs (a set all of whose pairs were found) gets
its AND-cross, a least-squares fit of these with the linear main effects is subtracted, and the
next network is trained on the residual, rescaled to unit spread. Each pass thus sees the weaker
interactions at full scale, free of the stronger ones (without the clique terms, the leftover
higher-order part of found sets mixes with weak pairs again: AUC 0.94-0.96 instead of 0.98-0.99).

A pair keeps the strength NID gave it in the pass that found it (output units); pairs never
found keep the last pass's strength. Measured on the NID test functions (``tests/test_detectors.py``):
mean pairwise AUC against the paper's complete interaction sets 0.78 with one pass; with one new
pair per pass (MADEX's 256-128-64 network), 0.93 with four passes, 0.97 with six, 0.98-0.99 with
eight; with up to three new pairs per pass (the defaults: a 32-16 network, six passes), 0.99.
A pair a pass selects is dropped again when the least-squares AND-crosses through it explain
almost nothing (:data:`REJECT_RATIO`): NID mixed it in from a stronger pair's units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..pure_effects.sets import pairs_of
from .crosses import CrossFit
from .decoding import (
    anyorder_sets,
    nid_anyorder,
    nid_pairwise,
    prune_redundant,
    rank_pairs,
    unit_influence,
)

__all__ = [
    "REJECT_RATIO",
    "FirstPass",
    "Passes",
    "fit_metadata",
    "rank_instance",
    "rank_sets",
    "run_passes",
    "select_pairs",
]


class FirstPass(NamedTuple):
    """What the first (plain NID) pass read, per instance."""

    pairwise: np.ndarray  #: (N, p, p) strengths in output units
    w_input: np.ndarray  #: (N, h1, p) ``|W1|``
    z: np.ndarray  #: (N, h1) unit influences
    scale: np.ndarray  #: (N,) output units per unit of the standardised target


@dataclass
class Passes:
    """The outcome of :func:`run_passes`."""

    pairwise: np.ndarray  #: (N, p, p) final strengths, output units
    candidates: list[dict[tuple[int, ...], float]] | None  #: sets -> largest NID strength over passes
    found: np.ndarray  #: (N, p, p) bool, symmetric: the pairs some pass found
    found_order: list[list[tuple[int, int]]]  #: per instance, the found pairs in the order found
    count: np.ndarray  #: (N,) passes run


#: A pair a pass selects is dropped again when the least-squares AND-crosses through it explain
#: less than this share of its NID strength (its cross mass, :class:`CrossFit`). On the NID test
#: panel, pairs found wrongly (NID mixing them with stronger ones) have a share of 0.000, true
#: pairs 0.13 and more (0.019 for one with no local interaction). It keeps a false pair from
#: holding the strength NID gave it when it was mixed in (pairwise AUC on three draws of the
#: panel: 0.986-0.992 with it, 0.984-0.994 without; 0.05 measured the same).
REJECT_RATIO = 0.02

def run_passes(
    masks: np.ndarray,
    outputs: np.ndarray,
    sample_w: np.ndarray,
    split: np.ndarray,
    first: FirstPass,
    *,
    stages: int,
    pairs_per_stage: int,
    stage_threshold: float,
    max_order: int,
    train: Callable[..., dict[str, Any]],
) -> Passes:
    """Passes 2..``stages`` after ``first``: explain the found pairs away and detect again.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (N, n, p)
    outputs, sample_w : numpy.ndarray, shape (N, n)
    split : numpy.ndarray of bool, shape (N, n)
        Held-out rows.
    first : FirstPass
    stages, pairs_per_stage, stage_threshold : int, int, float
        See :class:`~glider_plugins.detectors.nid.NIDDetector`.
    max_order : int
        With 2, no higher-order candidates are collected (``candidates`` is ``None``).
    train : callable
        ``train(masks, targets, sample_w, split, linear_start, stage) -> fit`` with
        ``fit["mlp_weights"]`` as from :func:`.training.train_stacked`.

    Returns
    -------
    Passes
        A found pair keeps the strength of the pass that found it; the others take the latest
        pass's. A selected pair whose cross mass is below :data:`REJECT_RATIO` of its strength is
        not kept (nor selected again); until a later pass measures it, its strength is that mass.
        An instance stops when a pass finds no new pair or its residual is below ``1e-6`` of its
        outputs' spread.
    """
    n_inst, _, p = masks.shape
    final = first.pairwise.copy()
    found = np.zeros((n_inst, p, p), dtype=bool)
    rejected = np.zeros((n_inst, p, p), dtype=bool)
    found_order: list[list[tuple[int, int]]] = [[] for _ in range(n_inst)]
    count = np.ones(n_inst, dtype=int)
    candidates: list[dict[tuple[int, ...], float]] | None = None if max_order == 2 else [{} for _ in range(n_inst)]
    active = np.arange(n_inst)
    crosses = CrossFit(masks, outputs, sample_w, split)
    w_train = crosses.w  # sample weights on the training rows
    spread = np.sqrt(np.einsum("nr,nr->n", w_train, (outputs - outputs.mean(axis=1, keepdims=True)) ** 2) / w_train.sum(axis=1))
    stage_pw, stage_w, stage_z, stage_scale = first.pairwise, first.w_input, first.z, first.scale
    for stage in range(1, stages + 1):
        if candidates is not None:
            for row, k in enumerate(active):
                seen = candidates[k]
                sets, strengths = anyorder_sets(stage_w[row], stage_z[row], max_order)
                for members, value in zip(sets, (strengths * stage_scale[row]).tolist(), strict=True):
                    if value > seen.get(members, 0.0):
                        seen[members] = value
        new = select_pairs(stage_pw, found[active] | rejected[active], pairs_per_stage, stage_threshold)
        final[active] = np.where(new, stage_pw, final[active])
        found[active] |= new
        resid, mass = crosses.fit(found[active], active)
        reject = new & (mass < REJECT_RATIO * final[active])
        if reject.any():  # mixed into the pass by NID, not interactions: drop, and fit again
            found[active] &= ~reject
            rejected[active] |= reject
            final[active] = np.where(reject, mass, final[active])
            again = reject.any(axis=(1, 2))
            redo = active[again]
            resid[again] = crosses.fit(found[redo], redo)[0]
        selected, new = new, new & ~reject
        for row, k in enumerate(active):
            found_order[k].extend(sorted(pairs_of(new[row]), key=lambda ij, r=row: -stage_pw[r][ij]))
        if stage == stages:
            break
        r_scale = np.sqrt(np.einsum("nr,nr->n", w_train[active], resid**2) / w_train[active].sum(axis=1))
        going = selected.any(axis=(1, 2)) & (r_scale > 1e-6 * spread[active])
        if not going.any():
            break
        active, resid, r_scale = active[going], resid[going], r_scale[going]
        count[active] += 1
        fit = train(
            masks[active], resid / r_scale[:, None], sample_w[active], split[active],
            np.zeros((active.size, p + 1)), stage,
        )
        stage_w, stage_z = unit_influence(fit["mlp_weights"])
        stage_pw, stage_scale = nid_pairwise(stage_w, stage_z) * r_scale[:, None, None], r_scale
        # pairs not found (yet) take the latest pass's strength
        final[active] = np.where(found[active], final[active], stage_pw)
    return Passes(final, candidates, found, found_order, count)


def rank_sets(
    sets: dict[tuple[int, ...], float], pairwise: np.ndarray, found: np.ndarray
) -> list[tuple[tuple[int, ...], float]]:
    """One instance's candidate sets, strongest first, ready for NID's pruning.

    A set cannot interact more than its weakest pair does (NID's ``min`` over members, applied to
    pairs): a set holding a pair no pass found falls to that pair's final (small) strength, so
    sets that only mix features in the units of the first pass drop. Strict subsets of a set of
    three or more features whose pairs were all found are left out: that set was explained away
    whole (:class:`CrossFit`), its parts are not further interactions.

    Parameters
    ----------
    sets : dict
        Set -> largest NID strength over the passes (output units).
    pairwise : numpy.ndarray, shape (p, p)
        Final pair strengths.
    found : numpy.ndarray of bool, shape (p, p)
    """
    cap = np.where(found, np.inf, pairwise)
    members_list = list(sets)
    values = np.fromiter(sets.values(), dtype=np.float64, count=len(members_list))
    capped = values.copy()
    rows_by_size: dict[int, list[int]] = {}
    for row, members in enumerate(members_list):
        rows_by_size.setdefault(len(members), []).append(row)
    # per size: the sets' rows and their members, (m, size)
    by_size = {size: (rows, np.array([members_list[r] for r in rows])) for size, rows in rows_by_size.items()}
    closed: list[np.ndarray] = []
    for size, (rows, idx) in by_size.items():  # all sets of one size at once
        a, b = np.triu_indices(size, 1)
        capped[rows] = np.minimum(values[rows], cap[idx[:, a], idx[:, b]].min(axis=1))
        if size >= 3:
            is_closed = found[idx[:, a], idx[:, b]].all(axis=1) & (capped[rows] > 0)
            closed.extend(idx[is_closed])
    inside = np.zeros(len(members_list), dtype=bool)  # strict subsets of a closed set
    for members in closed:
        in_set = np.zeros(found.shape[0], dtype=bool)
        in_set[members] = True
        for size, (rows, idx) in by_size.items():
            if size < members.size:
                inside[rows] |= in_set[idx].all(axis=1)
    # strongest first; ties: smaller sets, then ids (equal sizes: compare member columns)
    sizes = np.zeros(len(members_list), dtype=int)
    padded = np.zeros((len(members_list), max(by_size, default=0)), dtype=int)
    for size, (rows, idx) in by_size.items():
        sizes[rows] = size
        padded[rows, :size] = idx
    keep = np.flatnonzero((capped > 0) & ~inside)
    order = keep[np.lexsort((*padded[keep].T[::-1], sizes[keep], -capped[keep]))]
    return [(members_list[r], float(capped[r])) for r in order.tolist()]


def select_pairs(
    strengths: np.ndarray, found: np.ndarray, per_stage: int, threshold: float
) -> np.ndarray:
    """The pairs a pass adds: the strongest not yet found, as strong as ``threshold`` times the best.

    Parameters
    ----------
    strengths : numpy.ndarray, shape (N, p, p)
        This pass's NID strengths.
    found : numpy.ndarray of bool, shape (N, p, p)
        Pairs found by earlier passes (not eligible).
    per_stage : int
        At most this many new pairs per instance.
    threshold : float
        A pair after the first must reach ``threshold`` times the first's strength.

    Returns
    -------
    numpy.ndarray of bool, shape (N, p, p)
        Symmetric; the new pairs. Instances with no positive candidate get none.
    """
    n_inst, p, _ = strengths.shape
    iu, ju = np.triu_indices(p, 1)
    values = np.where(found[:, iu, ju], -np.inf, strengths[:, iu, ju])  # (N, pairs)
    order = np.argsort(-values, axis=1, kind="stable")[:, :per_stage]
    top = np.take_along_axis(values, order, axis=1)  # (N, per_stage), descending
    keep = (top > 0) & np.isfinite(top) & (top >= threshold * top[:, :1])
    new = np.zeros((n_inst, p, p), dtype=bool)
    rows = np.repeat(np.arange(n_inst)[:, None], order.shape[1], axis=1)
    new[rows[keep], iu[order[keep]], ju[order[keep]]] = True
    return new | new.transpose(0, 2, 1)


def rank_instance(k: int, max_order: int, pairwise: np.ndarray, w_input: np.ndarray, z: np.ndarray, scale: float,
                  passes: Any, limit: int) -> list[tuple[tuple[int, ...], float]]:
    """Instance ``k``'s ranking before the refit: its pairs (``max_order == 2``), one pass's
    arbitrary-order NID strengths (``passes is None``), or the candidate sets of the passes."""
    if max_order == 2:
        return rank_pairs(pairwise, limit)
    if passes is None:
        return prune_redundant([(m, v * scale) for m, v in nid_anyorder(w_input, z, max_order)], limit)
    return prune_redundant(rank_sets(passes.candidates[k], pairwise, passes.found[k]), limit)


def fit_metadata(fit: dict[str, Any], k: int, mean: float, scale: float, passes: Any) -> dict[str, Any]:
    """Instance ``k``'s fit record: held-out loss and R^2, epochs, the output standardisation, passes."""
    return {
        "val_loss": float(fit["val_loss"][k]),
        "val_r2": float(fit["val_r2"][k]),
        "epochs": int(fit["epochs"][k]),
        "best_epoch": int(fit["best_epoch"][k]),
        "output_mean": mean,
        "output_scale": scale,
        "passes": 1 if passes is None else int(passes.count[k]),
        "found_pairs": [] if passes is None else passes.found_order[k],
    }
