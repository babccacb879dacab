"""A black-box function over 12 features with planted pairwise and 3-way interactions, for GLIDER.

``planted_function(X)`` with ``X`` of shape (n, 12) returns shape (n,)::

    2.0 x0 x1 + 1.5 x2 x3 x4 + 2.0 x5 x6 + 1.5 x7 x8 x9 + x10 - 0.5 x11

so the planted interaction groups are ``{0, 1}``, ``{2, 3, 4}``, ``{5, 6}`` and ``{7, 8, 9}``;
``x10`` and ``x11`` only have main effects. Explained with binary masks and the baseline 0 around
instances drawn from ``U(0.5, 1.5)``, every group is a genuine local interaction of every instance
(a product term vanishes when any of its factors is switched off).

:func:`recovery` scores a list of found sets against the planted groups: the share of groups found
exactly (recall) and the share of found sets that are not part of any group (false positives; a
strict subset of a planted group, such as ``{2, 3}``, is a real interaction and not counted false).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["N_FEATURES", "PLANTED", "planted_function", "planted_instances", "recovery"]

N_FEATURES = 12

#: The planted interaction groups, as sorted tuples of 0-based feature ids.
PLANTED: tuple[tuple[int, ...], ...] = ((0, 1), (2, 3, 4), (5, 6), (7, 8, 9))


def planted_function(X: np.ndarray) -> np.ndarray:
    """The black box: (n, 12) -> (n,), numpy in and out."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != N_FEATURES:
        raise ValueError(f"X must have shape (n, {N_FEATURES}), got {X.shape}")
    x = X.T
    return (
        2.0 * x[0] * x[1]
        + 1.5 * x[2] * x[3] * x[4]
        + 2.0 * x[5] * x[6]
        + 1.5 * x[7] * x[8] * x[9]
        + x[10]
        - 0.5 * x[11]
    )


def planted_instances(n: int, seed: int = 0) -> np.ndarray:
    """``n`` instances drawn from ``U(0.5, 1.5)^12``, shape (n, 12)."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=(n, N_FEATURES))


def recovery(found: Iterable[Sequence[int]], planted: Sequence[Sequence[int]] = PLANTED) -> tuple[float, float]:
    """``(recall, false_share)`` of ``found`` sets against the ``planted`` groups.

    ``recall``: share of planted groups found exactly. ``false_share``: share of found sets that
    are neither a planted group nor a subset of one.
    """
    found_sets = [frozenset(f) for f in found]
    groups = [frozenset(g) for g in planted]
    recall = sum(g in found_sets for g in groups) / len(groups)
    false = sum(not any(f <= g for g in groups) for f in found_sets)
    return recall, (false / len(found_sets) if found_sets else 0.0)
