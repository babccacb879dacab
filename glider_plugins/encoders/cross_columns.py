"""How :class:`~glider_plugins.CrossFeatureEncoder` reads its columns: which interactions, which
column each member names, which columns are dense."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError, InputTypeError

__all__ = ["as_float", "column_index", "column_values", "has_fractions", "interaction_sets", "is_pair_from_top", "looks_dense",
           "missing_mask", "quantile_edges"]


def interaction_sets(interactions: Any, top_k: int | None, names: np.ndarray | None) -> tuple[list[Sequence[Any]], bool]:
    """The interaction member lists, and whether GlobalInteractions ids should be read as names."""
    from ..results import GlobalInteractions

    if interactions is None:
        raise InputError("interactions: pass the interactions to encode (a GlobalInteractions or a list of column tuples)")
    if isinstance(interactions, GlobalInteractions):
        chosen = [s for s, _ in interactions.top(top_k)] if top_k is not None else interactions.interactions
        known = set() if names is None else set(names)
        if known and all(n in known for s in chosen for n in interactions.names_of(s)):
            return [interactions.names_of(s) for s in chosen], True
        return chosen, False
    if isinstance(interactions, (str, bytes)) or not isinstance(interactions, Sequence) or len(interactions) == 0:
        raise InputError(f"interactions: expected a non-empty list of column tuples, got {interactions!r:.100}")
    sets = []
    for item in interactions:
        if is_pair_from_top(item):
            item = item[0]
        if isinstance(item, (str, bytes)) or not isinstance(item, (Sequence, np.ndarray)):
            raise InputError(f"interactions: each interaction must be a tuple of columns, got {item!r}; e.g. [(0, 1), ('C1', 'C2')]")
        sets.append(list(item))
    return (sets[:top_k] if top_k is not None else sets), False


def is_pair_from_top(item: Any) -> bool:
    """``((0, 1), 17)``: an entry of ``GlobalInteractions.top``."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (tuple, list)) and isinstance(item[1], (int, np.integer, float))


def column_index(member: Any, names: np.ndarray | None, n_columns: int, what: str, by_name: bool = False) -> int:
    if isinstance(member, (int, np.integer)) and not isinstance(member, bool) and not by_name:
        if not 0 <= member < n_columns:
            raise InputError(f"{what}: column index {member} is out of range for X with {n_columns} columns")
        return int(member)
    if names is None:
        raise InputError(f"{what}: column name {member!r} needs X to be a DataFrame with named columns when fitting")
    where = np.flatnonzero(names == member)
    if where.size == 0:
        raise InputError(f"{what}: no column named {member!r}; X's columns are {list(names)[:20]}")
    return int(where[0])


def column_values(X: Any, array: np.ndarray, j: int) -> np.ndarray:
    """Column ``j`` in its own dtype (a DataFrame's per-column dtype, not the frame's common one)."""
    iloc = getattr(X, "iloc", None)
    if iloc is not None:
        return np.asarray(iloc[:, j].to_numpy())
    return array[:, j]


def looks_dense(values: np.ndarray, n_bins: int) -> bool:
    """A numeric, non-bool column with more than ``n_bins`` distinct values, or a float one with
    values that are not whole numbers (``dense_features="auto"``)."""
    if values.dtype == bool or not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        return False
    finite = values[np.isfinite(values)] if np.issubdtype(values.dtype, np.floating) else values
    return bool(finite.size) and (len(np.unique(finite)) > n_bins or has_fractions(values))


def has_fractions(values: np.ndarray) -> bool:
    """A float column holding finite values that are not whole numbers."""
    if not np.issubdtype(values.dtype, np.floating):
        return False
    finite = values[np.isfinite(values)]
    return bool(finite.size) and not np.array_equal(finite, np.round(finite))


def as_float(values: np.ndarray, column: int) -> np.ndarray:
    if values.dtype == object:  # None, pd.NA (nullable pandas dtypes) -> NaN
        import pandas as pd

        values = np.where(pd.isna(values), np.nan, values)
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"dense_features: column {column} holds values that are not numbers; it cannot be binned") from None


def quantile_edges(finite: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner edges of ``n_bins`` quantile bins of the finite values (fewer where values tie; none
    without values): a value's bin is ``searchsorted(edges, value, side="right")``."""
    if finite.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, int(n_bins) + 1)))[1:-1]


def missing_mask(values: np.ndarray, missing_value: Any) -> np.ndarray:
    """Where a categorical column is missing: NaN, None, or equal to ``missing_value``."""
    import pandas as pd

    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing_value is not None:
        missing |= np.asarray(values == missing_value, dtype=bool)
    return missing
