"""Instances whose feature masks cover different features, each explained on its own.

A batch numbers its features up to the most any instance has (an image with fewer superpixels
than the batch's most leaves some ids without pixels). :func:`explain_by_groups` explains each
group of instances with the same features on those features alone (:meth:`FeatureLayout.on_features`),
as each would be explained alone, and puts the results back among the batch's features
(:meth:`LocalInteractions.embedded`: the features an instance lacks get no effect).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from ..layout import FeatureLayout
from ..results import AttributionResult, LocalInteractions

__all__ = ["ADDED_METADATA", "explain_by_groups", "merged_metadata"]

#: Metadata of an attribution that several groups of instances add up to (:func:`merged_metadata`).
ADDED_METADATA = ("n_queries", "n_repeated", "query_seconds", "design_seconds", "detect_seconds", "fit_seconds", "rank_seconds",
                  "total_seconds")

#: Explains the instances of a layout that have all its features, given their formatted target and extra arguments.
ExplainGroup = Callable[[FeatureLayout, Any, tuple[Any, ...]], AttributionResult]


def explain_by_groups(explain: ExplainGroup, layout: FeatureLayout, groups: list[tuple[np.ndarray, np.ndarray]], target: Any,
                      extra: tuple[Any, ...]) -> tuple[list[LocalInteractions], dict[str, Any]]:
    """Each group of :meth:`FeatureLayout.feature_groups` explained by ``explain`` on its own
    features; returns every instance's result among the batch's features, in the batch's order,
    and the groups' metadata merged (:func:`merged_metadata`). A group with fewer than two
    features is not queried: its instances get empty results and a warning.

    Raises
    ------
    InputError
        Naming ``feature_mask`` when no instance has two features of its own.
    """
    if all(len(present) < 2 for _, present in groups):
        raise InputError(f"feature_mask: no instance has 2 or more features of its own (each covers at most one of the "
                         f"{layout.n_features} ids); interactions need at least 2")
    local: list[LocalInteractions | None] = [None] * layout.n_instances
    parts: list[dict[str, Any]] = []
    for rows, present in groups:
        if len(present) < 2:  # no pair to interact: nothing to query
            found = [LocalInteractions([], np.zeros(len(present)), np.zeros((len(present),) * 2), metadata={"too_few_features": True})
                     for _ in rows]
            warnings.warn(f"instance(s) {rows[:10].tolist()} have {len(present)} feature(s) of their own in feature_mask; interactions "
                          "need at least 2: they get empty results", UserWarning, stacklevel=4)
        else:
            part_target = [target[i] for i in rows.tolist()] if isinstance(target, list) else target
            part_extra = tuple(value[rows] if isinstance(value, np.ndarray) else value for value in extra)
            part = explain(layout.on_features(rows, present), part_target, part_extra)
            found = part.instances
            parts.append(part.metadata)
        for row, item in zip(rows.tolist(), found, strict=True):
            local[row] = item.embedded(present, layout.n_features)
            local[row].feature_names = layout.feature_names
    return [item for item in local if item is not None], merged_metadata(parts)


def merged_metadata(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The metadata of one attribution from its groups' (in order): counts and seconds added
    (:data:`ADDED_METADATA`), ``n_samples`` the most, any other entry kept where the groups agree
    and else the list of their distinct values (e.g. the detectors ``"auto"`` chose)."""
    merged: dict[str, Any] = {}
    for key in dict.fromkeys(key for part in parts for key in part):
        values = [part[key] for part in parts if key in part]
        if key in ADDED_METADATA:
            merged[key] = sum(values)
        elif key == "n_samples":
            merged[key] = max(values)
        else:
            distinct: list[Any] = []
            for value in values:
                if value not in distinct:
                    distinct.append(value)
            merged[key] = distinct[0] if len(distinct) == 1 else distinct
    return merged
