"""What a cross can add: the share of a model's non-additive output that a cross's ids explain.

GLIDER says which features a model combines at each row; a cross feature helps another model only
where that interaction carries weight over the data *and* the cross's vocabulary can learn it. This
module measures both at once, on the rows themselves:

1. the **additive part** of the source model's scores (log-odds, one per row) is fitted by least
   squares on its fields, one value per category (backfitting; categories seen fewer than
   ``min_count`` times share one value, dense fields by quantile bins): the best model of the scores
   with no cross at all. What is left, the **residual**, is everything the fields alone cannot say:
   the source model's interactions, weighted by how often the data meet them;
2. a candidate's **cross value** is how much of that residual its cross ids explain on rows they
   were not estimated on: the rows are split in two halves (``seed``); each half's residual is
   predicted by the other half's mean residual per cross id (shrunk towards 0 by ``shrinkage``
   rows), and the value is the mean drop of the squared residual, both ways round. A cross whose
   ids are too rare to estimate (a 1,682-value item id crossed with anything at 80,000 rows) or
   that does not interact is worth about 0 (or less: it predicts noise).

No labels are used: the values say what the *source model* combines that a model of the fields
lacks ("explain source minus target"), in its own output's units (squared log-odds per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError
from .cross_columns import looks_dense, missing_mask, quantile_edges

__all__ = ["additive_residual", "cross_values"]

#: Quantile bins of a dense column (:class:`~glider_plugins.CrossFeatureEncoder`'s default ``n_bins``).
N_BINS = 100
#: Combinations counted by one bincount over at most this many possible keys (beyond, those seen are numbered first).
KEY_SPACE = 1 << 24
#: Backfitting sweeps at most, and the change of the fit (relative to the scores' spread) that stops it.
MAX_SWEEPS = 100
TOLERANCE = 1e-9


def cross_values(
    candidates: Sequence[Sequence[str]],
    train: Any,
    scores: Any,
    *,
    min_count: int = 10,
    dense_features: Any = None,
    missing_value: Any = None,
    shrinkage: float = 10.0,
    seed: int = 0,
) -> Any:
    """The cross value of each candidate: the held-out share of ``scores``' non-additive part its
    cross ids explain.

    Parameters
    ----------
    candidates : sequence of sequences of str
        Column groups of ``train`` (two or more columns each).
    train : pandas.DataFrame, shape (n_rows, n_columns)
        Feature columns of the rows the source model scored.
    scores : array-like of float, shape (n_rows,)
        The source model's output on those rows, in the units to explain (log-odds for a
        classifier: an additive model of probabilities would call every saturation an interaction).
    min_count, dense_features, missing_value
        As :class:`~glider_plugins.CrossFeatureEncoder` (the crosses' ids are the encoder's, the
        vocabulary a target model would get); ``dense_features=None``: every column by its values.
    shrinkage : float, default 10.0
        Pseudo-rows of residual 0 added to every cross id's mean (rarer ids predict less).
    seed : int, default 0
        Seeds the split of the rows into halves.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, in their order: ``cross``, ``columns``, ``value`` (mean squared
        residual removed per row, held out), ``share`` (``value`` over the residual's mean square;
        NaN when the scores are additive), ``vocab_size``, ``support`` (the encoder's). Its
        ``attrs["additive_r2"]`` is the share of the scores' variance the fields alone explain.

    Raises
    ------
    InputError
        Naming the argument: a candidate of fewer than two columns or of columns not in
        ``train``, ``scores`` of the wrong length or not finite, a bad ``shrinkage``/``min_count``.
    """
    import pandas as pd

    _check_frame(train)
    groups = _groups(candidates, train)
    values = _scores(scores, len(train))
    check_int("min_count", min_count)
    check_int("seed", seed, minimum=0)
    check_number("shrinkage", shrinkage, low=0.0)
    codes = {str(c): _field_codes(train, c, min_count, dense_features, missing_value) for c in train.columns}
    residual, r2 = _backfitted(list(codes.values()), values)
    held_out = np.random.default_rng(seed).permutation(len(train)) % 2 == 1
    mean_square = float(np.mean(residual**2))
    rows: list[dict[str, Any]] = []
    for group in groups:
        ids, vocab, support = cross_ids([codes[c] for c in group], min_count)
        value = _held_out_gain(ids, residual, held_out, float(shrinkage))
        rows.append({"cross": "_x_".join(group), "columns": group, "value": value,
                     "share": value / mean_square if mean_square > 0 else np.nan, "vocab_size": vocab, "support": support})
    table = pd.DataFrame(rows, columns=["cross", "columns", "value", "share", "vocab_size", "support"])
    table.attrs["additive_r2"] = r2
    return table


def additive_residual(train: Any, scores: np.ndarray, *, min_count: int = 10, dense_features: Any = None,
                      missing_value: Any = None) -> tuple[np.ndarray, float]:
    """``scores`` less their least-squares additive model on the columns of ``train`` (one value
    per category seen ``min_count`` times, one for the rarer ones, one for missing; a dense column
    by the encoder's quantile bins), and the share of the variance that model explains.

    Backfitting (block Gauss-Seidel on the one-hot normal equations) until the fit moves by less
    than :data:`TOLERANCE` of the scores' spread: deterministic, no matrix of the one-hot columns.
    """
    _check_frame(train)
    values = _scores(scores, len(train))
    codes = [_field_codes(train, column, min_count, dense_features, missing_value) for column in train.columns]
    return _backfitted(codes, values)


def _backfitted(codes: list[np.ndarray], scores: np.ndarray) -> tuple[np.ndarray, float]:
    centred = scores - scores.mean()
    residual = centred.copy()
    effects = [np.zeros(int(c.max()) + 1) for c in codes]
    counts = [np.bincount(c).astype(np.float64) for c in codes]
    scale = max(float(np.abs(centred).max()), 1e-300)
    for _ in range(MAX_SWEEPS):
        moved = 0.0
        for j, code in enumerate(codes):
            residual += effects[j][code]
            new = np.bincount(code, weights=residual, minlength=len(effects[j])) / np.maximum(counts[j], 1.0)
            moved = max(moved, float(np.abs(new - effects[j]).max()))
            effects[j] = new
            residual -= new[code]
        if moved < TOLERANCE * scale:
            break
    total = float(np.mean(centred**2))
    return residual, (1.0 - float(np.mean(residual**2)) / total) if total > 0 else 1.0


def _held_out_gain(ids: np.ndarray, residual: np.ndarray, held_out: np.ndarray, shrinkage: float) -> float:
    """Mean drop of the squared residual when each half is predicted by the other half's shrunk
    mean residual per id."""
    size = int(ids.max()) + 1
    gain = 0.0
    for fit in (~held_out, held_out):
        sums = np.bincount(ids[fit], weights=residual[fit], minlength=size)
        counts = np.bincount(ids[fit], minlength=size)
        predicted = (sums / (counts + shrinkage + 1e-300))[ids[~fit]]
        target = residual[~fit]
        gain += float(np.sum(target**2 - (target - predicted) ** 2))
    return gain / len(ids)


def cross_ids(codes: list[np.ndarray], min_count: int) -> tuple[np.ndarray, int, float]:
    """A cross's ids from its columns' codes (:func:`_field_codes`), as
    :class:`~glider_plugins.CrossFeatureEncoder` assigns them up to their labels: a row with a
    missing parent gets the missing id, one with a rare parent value or a combination seen fewer
    than ``min_count`` times the out-of-vocabulary id, the others one id per combination.

    Returns the ids (n_rows,), the vocabulary size and the support (share of the rows with known
    parents that get an id of their own), as the encoder's ``vocab_sizes_`` and ``support_``.
    """
    missing = np.zeros(len(codes[0]), dtype=bool)
    rare = np.zeros(len(codes[0]), dtype=bool)
    key = np.zeros(len(codes[0]), dtype=np.int64)
    space = 1
    for code in codes:
        missing |= code == 0
        rare |= code == 1
        radix = max(int(code.max()) - 1, 1) if code.size else 1
        key = key * radix + np.maximum(code - 2, 0)
        space *= radix
        if space > KEY_SPACE:  # many wide fields: number the combinations seen so far instead (no overflow)
            key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
            space = int(key.max()) + 1
    known = ~missing & ~rare
    frequent = np.bincount(key[known], minlength=space) >= min_count
    label = np.cumsum(frequent)  # 1..V for the frequent combinations
    own = known & frequent[key]
    ids = np.where(own, label[key] + 1, 1)
    ids = np.where(missing, 0, ids).astype(np.int64)
    vocab = int(frequent.sum())
    with_parents = int((~missing).sum())
    return ids, vocab, float(own.sum() / with_parents) if with_parents else 0.0


def _field_codes(train: Any, column: Any, min_count: int, dense_features: Any, missing_value: Any) -> np.ndarray:
    """One column's codes 0..C for the additive model: bins of a dense column (the encoder's), else
    its categories seen ``min_count`` times; rare values share a code, missing ones another."""
    import pandas as pd

    values = train[column].to_numpy()
    dense = _is_dense(column, values, dense_features)
    missing = missing_mask(values, None if dense else missing_value)  # as the encoder: only NaN is missing in a dense column
    if dense:
        numbers = np.where(missing, np.nan, values.astype(np.float64))
        edges = quantile_edges(numbers[~np.isnan(numbers)], N_BINS)
        code = np.searchsorted(edges, np.where(missing, 0.0, numbers), side="right") + 2
    else:
        inverse = np.where(missing, -1, pd.factorize(values, use_na_sentinel=True)[0])
        counts = np.bincount(inverse[inverse >= 0], minlength=1)
        frequent = counts >= min_count
        label = np.cumsum(frequent) + 1  # 2.. for the frequent values, in order of first appearance
        code = np.where(inverse >= 0, np.where(frequent[np.maximum(inverse, 0)], label[np.maximum(inverse, 0)], 1), 0)
    return np.where(missing, 0, code).astype(np.int64)


def _is_dense(column: Any, values: np.ndarray, dense_features: Any) -> bool:
    if dense_features is None:
        return False
    if isinstance(dense_features, str):
        if dense_features != "auto":
            raise InputError(f"dense_features: expected 'auto', None, or a list of columns, got {dense_features!r}")
        return bool(looks_dense(values, N_BINS))
    return column in set(dense_features)


def _check_frame(train: Any) -> None:
    import pandas as pd

    if not isinstance(train, pd.DataFrame):
        raise InputError(f"train: expected a pandas DataFrame of feature columns, got {type(train).__name__}")


def _groups(candidates: Any, train: Any) -> list[tuple[str, ...]]:
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or len(candidates) == 0:
        raise InputError(f"candidates: expected a non-empty list of column-name tuples, got {candidates!r:.100}")
    groups = []
    for item in candidates:
        if isinstance(item, (str, bytes)) or not isinstance(item, (Sequence, np.ndarray)) or len(set(item)) < 2:
            raise InputError(f"candidates: each candidate must be a tuple of at least 2 distinct column names, got {item!r}")
        groups.append(tuple(str(c) for c in item))
    unknown = sorted({c for g in groups for c in g} - {str(c) for c in train.columns})
    if unknown:
        raise InputError(f"candidates: columns {unknown} are not in train; its columns are {list(train.columns)[:20]}")
    return groups


def _scores(scores: Any, n_rows: int) -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"scores: expected {n_rows} numbers (one per row of train), got {type(scores).__name__}") from exc
    if values.shape != (n_rows,):
        raise InputError(f"scores: expected {n_rows} numbers (one per row of train), got {values.size}")
    if not np.isfinite(values).all():
        raise InputError("scores: expected finite numbers; some are NaN or infinite (probabilities of exactly 0 or 1 "
                         "as log-odds?)")
    return values
