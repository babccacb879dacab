"""Mixed-radix keys of parent codes, as :class:`~glider_plugins.CrossFeatureEncoder` combines them:
the running key is compressed to the keys seen whenever the radix would overflow int64."""

from __future__ import annotations

import numpy as np

__all__ = ["KEY_LIMIT", "apply_keys", "fit_keys", "lookup"]

#: The running radix is compressed before it reaches this.
KEY_LIMIT = 2**62


def lookup(table: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in the sorted ``table`` and whether each was found."""
    if table.size == 0:
        return np.zeros(values.shape, dtype=np.int64), np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(table, values), table.size - 1)
    return pos, table[pos] == values


def fit_keys(codes: list[np.ndarray], radices: list[int], valid: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Mixed-radix keys of the parents' codes; the running key is compressed to the keys seen
    (on valid rows) whenever the radix would pass 2**62."""
    key, radix, steps = codes[0].copy(), radices[0], []
    for code, r in zip(codes[1:], radices[1:]):
        table = None
        if radix * r >= KEY_LIMIT:
            table = np.unique(key[valid])
            key, radix = np.minimum(np.searchsorted(table, key), max(table.size - 1, 0)), max(table.size, 1)
        steps.append(table)
        key, radix = key * r + code, radix * r
    return key, steps


def apply_keys(codes: list[np.ndarray], radices: list[int], steps: list[np.ndarray | None], valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = codes[0].copy()
    for code, r, table in zip(codes[1:], radices[1:], steps):
        if table is not None:
            pos, found = lookup(table, key)
            key, valid = np.where(found, pos, 0), valid & found
        key = key * r + code
    return key, valid
