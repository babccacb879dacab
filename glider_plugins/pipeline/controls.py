"""The pipeline's variants: GLIDER's candidate crosses and the controls, each list through the same
selection on the same rows (:mod:`.candidates` proposes them), and the logistic regression that
scores every variant's crosses without a seed to vary."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..results import GlobalInteractions
from .candidates import (
    ALL_PAIRS_MAX,
    CONTROLS,
    DEFAULT_CONTROLS,
    Candidates,
    all_pairs,
    candidate_count,
    fast_candidates,
    glider_candidates,
    label_candidates,
    merged_candidates,
    pair_count,
    random_candidates,
    valued_candidates,
)
from .data import PipelineData

__all__ = ["candidate_lists", "check_controls", "choose_crosses", "feature_ids", "logistic_rows", "random_groups", "variants_of",
           "with_costs"]

logger = logging.getLogger("glider_plugins.pipeline.run")  # the pipeline's one logger


def feature_ids(prepared: PipelineData, names: Sequence[str]) -> tuple[int, ...]:
    """Feature ids of the prepared layout for feature names of the source model's layout."""
    index = {name: i for i, name in enumerate(prepared.train.feature_names)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise InputError(f"source_model: its features {unknown} are not fields of the prepared data {list(index)}")
    return tuple(sorted(index[n] for n in names))


def random_groups(sizes: Sequence[int], n_features: int, exclude: Sequence[Sequence[int]], seed: int) -> list[tuple[int, ...]]:
    """Random feature groups of the given sizes, distinct and not in ``exclude`` (seeded)."""
    names = [str(i) for i in range(n_features)]
    drawn = random_candidates(sizes, names, seed, [tuple(str(i) for i in g) for g in exclude])
    return [tuple(sorted(int(i) for i in g)) for g in drawn.groups]


def check_controls(controls: bool | Sequence[str]) -> tuple[str, ...]:
    if controls is True:
        return DEFAULT_CONTROLS
    if controls is False:
        return ()
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown or isinstance(controls, str):
        raise InputError(f"controls: expected True, False or some of {list(CONTROLS)}, got {controls!r}")
    return tuple(c for c in CONTROLS if c in controls)


def candidate_lists(prepared: PipelineData, interactions: GlobalInteractions, k: int, controls: Sequence[str], seed: int,
                    n_draws: int, scores: np.ndarray | None = None, min_count: int = 10,
                    with_labels: bool = False) -> dict[str, list[Candidates]]:
    """Every variant's candidate lists (one per ``+random`` draw), each as long as GLIDER's
    (:func:`~glider_plugins.pipeline.candidates.candidate_count`; the controls of the same sizes):
    :mod:`~glider_plugins.pipeline.candidates`. With the source model's ``scores`` on the training
    rows, GLIDER's list is ranked by cross value (:func:`valued_candidates`), else by frequency;
    ``with_labels``: merged in turn with the pairs of highest cross value on the labels
    (:func:`merged_candidates`, ranking ``"source-and-labels"``)."""
    names = list(prepared.train.feature_names)
    train = prepared.frame("train")
    n = candidate_count(len(names), k)
    valued = {"min_count": min_count, "dense_features": list(prepared.train.dense_names), "missing_value": 0, "seed": seed}
    labels = None
    if "+labels" in controls or with_labels:
        labels = label_candidates(train[names], train["label"].to_numpy(), n, **valued)
    if scores is None:
        glider = glider_candidates(interactions, n)
    else:
        glider = valued_candidates(interactions, train[names], scores, n, k=k, **valued)
    if with_labels and labels is not None:
        glider = merged_candidates(glider, labels, n)
    lists: dict[str, list[Candidates]] = {"+glider": [glider]}
    n = len(glider.groups) or n
    if "+random" in controls:
        sizes = [len(g) for g in glider.groups] or [2] * n
        lists["+random"] = [random_candidates(sizes, names, seed + 7919 * (j + 1)) for j in range(n_draws)]
    if "+all-pairs" in controls:
        if pair_count(len(names)) <= ALL_PAIRS_MAX:
            lists["+all-pairs"] = [all_pairs(names)]
        else:
            logger.info("+all-pairs not run: %d pairs (at most %d)", pair_count(len(names)), ALL_PAIRS_MAX)
    if "+fast" in controls:
        try:
            lists["+fast"] = [fast_candidates(train.drop(columns="label"), train["label"].to_numpy(), n,
                                              [c for c in names if c not in prepared.train.dense_names])]
        except ImportError as exc:
            warnings.warn(f"{exc}; the '+fast' control is skipped", stacklevel=3)
    if "+labels" in controls and labels is not None:
        head = Candidates("+labels", labels.groups[:n], labels.seconds, labels.values)  # as many as GLIDER's
        lists["+labels"] = [head]
    return lists


def choose_crosses(prepared: PipelineData, lists: dict[str, list[Candidates]], k: int, min_count: int, select: bool,
                   show: bool, workers: int = 1) -> tuple[dict[str, list[list[tuple[int, ...]]]], dict[str, list[Any]], dict[str, list[float]]]:
    """Each list's crosses: those of its candidates that lower the validation log loss (``select``,
    at most ``k``; :func:`~glider_plugins.encoders.selection.select_crosses`, the same call for
    every list, ``workers`` lists at a time: deterministic, so the same selections), else its first
    ``k``. Returns the kept groups (feature ids), the selections and the seconds each list's
    selection took, per variant and list."""
    train, valid = prepared.frame("train"), prepared.frame("valid")
    names = [c for c in train.columns if c != "label"]
    tasks = [(variant, candidates) for variant, group in lists.items() for candidates in group]
    settings = {"max_crosses": k, "min_count": min_count, "dense_features": list(prepared.train.dense_names), "missing_value": 0}
    frames = (train[names], train["label"], valid[names], valid["label"])
    jobs = [c.groups if select and c.groups else None for _, c in tasks]
    if workers > 1 and sum(job is not None for job in jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = list(pool.map(_timed_selection, jobs, [frames] * len(jobs), [settings] * len(jobs), [False] * len(jobs)))
    else:
        done = [_timed_selection(job, frames, settings, show) for job in jobs]
    chosen: dict[str, list[list[tuple[int, ...]]]] = {}
    selections: dict[str, list[Any]] = {}
    costs: dict[str, list[float]] = {}
    for (variant, candidates), (selection, seconds) in zip(tasks, done, strict=True):
        kept = selection.kept if selection is not None else candidates.groups[:k]
        if selection is not None:
            logger.info("%s: %s", variant, selection)
        chosen.setdefault(variant, []).append([feature_ids(prepared, g) for g in kept])
        selections.setdefault(variant, []).append(selection)
        costs.setdefault(variant, []).append(seconds + candidates.seconds)
    return chosen, selections, costs


def _timed_selection(groups: list[tuple[str, ...]] | None, frames: tuple[Any, ...], settings: dict[str, Any],
                     show: bool) -> tuple[Any, float]:
    """:func:`select_crosses` of one list (``None``: no selection) and the seconds it took."""
    from ..encoders.selection import select_crosses

    if groups is None:
        return None, 0.0
    clock = time.perf_counter()
    selection = select_crosses(groups, *frames, show_progress=show, **settings)
    return selection, time.perf_counter() - clock


def variants_of(prepared: PipelineData, chosen: dict[str, list[list[tuple[int, ...]]]],
              controls: bool | Sequence[str]) -> tuple[dict[str, list[tuple[int, ...]]], list[list[tuple[int, ...]]]]:
    """The fixed variants (baseline, +glider, +all-pairs, +fast, +oracle) and the ``+random`` draws."""
    variants: dict[str, list[tuple[int, ...]]] = {"baseline": []}
    variants.update({v: lists[0] for v, lists in chosen.items() if v != "+random"})
    if controls is not False and prepared.planted:
        variants["+oracle"] = list(prepared.planted)
    if not chosen["+glider"][0]:
        warnings.warn("no cross is encoded (GLIDER found none, or none lowered the validation log loss): "
                      "the '+glider' variant equals the baseline", stacklevel=3)
    return variants, chosen.get("+random", [])


def with_costs(table: pd.DataFrame, lists: dict[str, list[Candidates]], costs: dict[str, list[float]]) -> pd.DataFrame:
    """The table with ``candidates`` (tried per list) and ``select_s`` (mean seconds per list to
    propose and select them) of each variant."""
    tried = {v: int(np.mean([len(c.groups) for c in ls])) for v, ls in lists.items()}
    seconds = {v: float(np.mean(c)) for v, c in costs.items()}
    out = table.copy()
    out["candidates"] = [tried.get(v, 0) for v in out["variant"]]
    out["select_s"] = [seconds.get(v, 0.0) for v in out["variant"]]
    return out


def logistic_rows(prepared: PipelineData, variants: dict[str, list[tuple[int, ...]]], draws: list[list[tuple[int, ...]]],
                  min_count: int) -> pd.DataFrame:
    """Table rows of the ``logreg`` model: the selection's logistic regression (one-hot fields and
    each variant's crosses, fitted on train) scored on the test rows; ``+random`` over its draws."""
    from ..encoders.selection import logistic_auc

    train, test = prepared.frame("train"), prepared.frame("test")
    names = [c for c in train.columns if c != "label"]
    groups = {**variants, **({"+random": None} if draws else {})}
    rows = []
    for variant in [v for v in ("baseline", "+glider", *CONTROLS, "+oracle") if v in groups]:
        lists = draws if variant == "+random" else [groups[variant]]
        aucs = np.array([logistic_auc([tuple(names[i] for i in g) for g in crosses], train[names], train["label"], test[names],
                                      test["label"], min_count=min_count, dense_features=list(prepared.train.dense_names),
                                      missing_value=0) for crosses in lists])
        rows.append({"model": "logreg", "variant": variant, "auc_mean": aucs.mean(), "auc_std": aucs.std(ddof=1) if len(aucs) > 1 else 0.0,
                     "logloss_mean": np.nan, "logloss_std": np.nan, "n_crosses": len(lists[0]), "n_runs": len(aucs)})
    return pd.DataFrame(rows)
