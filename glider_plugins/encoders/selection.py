"""Which cross features pay off: GLIDER's candidates checked on held-out labelled data.

GLIDER says which features a model combines; whether a cross of them helps another model is a
different question (a cross of a 1,682-value item id with anything is mostly out of vocabulary at
80,000 rows). :func:`select_crosses` answers it cheaply, before any target model is trained:

1. a **base** logistic regression on the one-hot fields (categories seen ``min_count`` times;
   float columns with fractions standardised, as numbers) is fitted on the training rows and
   scored by log loss on held-out rows;
2. each candidate alone: its cross ids (:class:`~glider_plugins.CrossFeatureEncoder`, fitted on the
   training rows) one-hot beside the fields; its **gain** is how much it lowers the held-out log
   loss;
3. **forward selection**: candidates whose gain passes ``min_gain``, best first, are added one at a
   time when they still lower the held-out log loss of the current set by ``min_gain``; at most
   ``max_crosses``. No candidate passing means no cross is kept, and the report says so.

Deterministic (lbfgs; ties broken by candidate order): the same data give the same selection.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError
from .cross import CrossFeatureEncoder, has_fractions

__all__ = ["CrossSelection", "logistic_auc", "select_crosses"]


@dataclass
class CrossSelection:
    """What :func:`select_crosses` found.

    Attributes
    ----------
    kept : list of tuple of str
        The crosses kept, in the order they were added.
    report : pandas.DataFrame
        One row per candidate: ``cross``, ``columns``, ``count`` and ``strength`` (GLIDER's, when
        given), ``vocab_size``, ``support`` (share of training rows with an id of its own),
        ``gain`` (held-out log loss it removes alone), ``step_gain`` (what it removed when tried in
        forward selection; NaN if not tried), ``kept``.
    base_logloss, final_logloss : float
        Held-out log loss of the fields alone and with the kept crosses.
    """

    kept: list[tuple[str, ...]]
    report: Any
    base_logloss: float
    final_logloss: float

    def __str__(self) -> str:
        head = (f"kept {len(self.kept)} of {len(self.report)} candidate crosses; held-out log loss "
                f"{self.base_logloss:.5f} -> {self.final_logloss:.5f}")
        return head if self.kept else head + " (no cross lowers it: none kept)"


def select_crosses(
    candidates: Sequence[Sequence[str]] | Any,
    train: Any,
    y_train: Any,
    valid: Any,
    y_valid: Any,
    *,
    n_candidates: int | None = None,
    max_crosses: int | None = None,
    min_gain: float = 2e-4,
    min_count: int = 10,
    dense_features: Any = None,
    missing_value: Any = None,
    show_progress: bool = False,
) -> CrossSelection:
    """Keep the candidate crosses that lower a logistic regression's held-out log loss.

    Parameters
    ----------
    candidates : GlobalInteractions, or sequence of sequences of column names
        Candidate crosses, strongest first. A GlobalInteractions gives its :meth:`top`
        ``(n_candidates)`` sets by name (every interaction without ``n_candidates``), and the
        report its counts and strengths.
    n_candidates : int, optional
        Try only the first this many candidates (e.g. ``3 * k``).
    train, valid : pandas.DataFrame
        Feature columns (no label) of the training and held-out rows.
    y_train, y_valid : array-like of 0/1
        Their labels.
    max_crosses : int, optional
        Keep at most this many.
    min_gain : float, default 2e-4
        Held-out log loss (nats per row) a cross must remove, alone and when added.
    min_count, dense_features, missing_value
        As :class:`~glider_plugins.CrossFeatureEncoder` (``dense_features=None``: every column is
        crossed by its values).
    show_progress : bool, default False
        A tqdm bar over the logistic-regression fits (one per candidate, then one per step).

    Returns
    -------
    CrossSelection
    """
    import pandas as pd

    check_int("n_candidates", n_candidates, allow_none=True)
    sets, counts, strengths = _candidates(candidates, n_candidates)
    for name, frame in (("train", train), ("valid", valid)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{name}: expected a pandas DataFrame of feature columns, got {type(frame).__name__}")
    missing = sorted({c for s in sets for c in s} - set(train.columns))
    if missing:
        raise InputError(f"candidates: columns {missing} are not in train; its columns are {list(train.columns)[:20]}")
    check_int("max_crosses", max_crosses, allow_none=True)
    check_number("min_gain", min_gain, low=0.0)
    y_fit, y_held = _labels(y_train, len(train), "y_train"), _labels(y_valid, len(valid), "y_valid")
    from tqdm.auto import tqdm

    check = _Check(train, valid, y_fit, y_held, min_count)
    crosses = _encode(sets, train, valid, min_count, dense_features, missing_value)
    with tqdm(total=len(sets) + 1, desc="cross selection", unit="fit", disable=not show_progress) as bar:
        base = check.logloss([])
        bar.update()
        gains = np.empty(len(sets))
        for j, cross in enumerate(crosses):
            gains[j] = base - check.logloss([cross])
            bar.update()
        kept, step, current = _forward(check, crosses, gains, base, min_gain, max_crosses, bar)
    report = pd.DataFrame({
        "cross": ["_x_".join(s) for s in sets], "columns": [tuple(s) for s in sets], "count": counts, "strength": strengths,
        "vocab_size": [c.vocab for c in crosses], "support": [c.support for c in crosses],
        "gain": gains, "step_gain": step, "kept": [j in kept for j in range(len(sets))],
    })
    return CrossSelection([tuple(sets[j]) for j in kept], report, float(base), float(current))


def _forward(check: _Check, crosses: list[_Encoded], gains: np.ndarray, base: float, min_gain: float,
             max_crosses: int | None, bar: Any) -> tuple[list[int], np.ndarray, float]:
    """Forward selection: candidates whose gain alone passes ``min_gain``, best first, each kept when
    it lowers the current held-out log loss by ``min_gain``. Returns the kept indices, each tried
    candidate's step gain (NaN if not tried) and the final log loss."""
    order = sorted(np.flatnonzero(gains > min_gain), key=lambda j: (-gains[j], j))
    bar.total += len(order)
    step = np.full(len(crosses), np.nan)
    kept: list[int] = []
    current = base
    for j in order:
        if max_crosses is not None and len(kept) >= max_crosses:
            break
        trial = check.logloss([crosses[i] for i in [*kept, j]])
        bar.update()
        step[j] = current - trial
        if step[j] > min_gain:
            kept.append(int(j))
            current = trial
    return kept, step, current


@dataclass
class _Encoded:
    train: np.ndarray  # (n_train,) int64 cross ids
    valid: np.ndarray
    vocab: int
    support: float


def _encode(sets: list[tuple[str, ...]], train: Any, valid: Any, min_count: int, dense: Any, missing_value: Any) -> list[_Encoded]:
    with warnings.catch_warnings():  # sparse crosses are what the check is for: the report says it
        warnings.simplefilter("ignore", UserWarning)
        encoder = CrossFeatureEncoder([list(s) for s in sets], min_count=min_count, dense_features=dense,
                                      missing_value=missing_value, min_support=0.0).fit(train)
    ids_train = encoder.transform(train).to_numpy()
    ids_valid = encoder.transform(valid).to_numpy()
    return [_Encoded(ids_train[:, j], ids_valid[:, j], int(encoder.vocab_sizes_[j]), float(encoder.support_[j]))
            for j in range(len(sets))]


class _Check:
    """The logistic regression on one-hot fields (plus crosses), scored on held-out rows."""

    def __init__(self, train: Any, valid: Any, y_train: np.ndarray, y_valid: np.ndarray, min_count: int) -> None:
        from scipy import sparse

        numeric = [c for c in train.columns if has_fractions(train[c].to_numpy())]
        categorical = [c for c in train.columns if c not in numeric]
        self.y_train, self.y_valid, self.min_count = y_train, y_valid, min_count
        blocks_train, blocks_valid = [], []
        if categorical:
            one_hot = self._one_hot(train[categorical].astype(str).to_numpy(), valid[categorical].astype(str).to_numpy())
            blocks_train.append(one_hot[0])
            blocks_valid.append(one_hot[1])
        if numeric:
            values = train[numeric].to_numpy(np.float64)
            mean, scale = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            scale = np.where(scale > 0, scale, 1.0)
            for frame, blocks in ((train, blocks_train), (valid, blocks_valid)):
                blocks.append(sparse.csr_matrix(np.nan_to_num((frame[numeric].to_numpy(np.float64) - mean) / scale)))
        self.fields = (sparse.hstack(blocks_train).tocsr(), sparse.hstack(blocks_valid).tocsr())

    def _one_hot(self, train: np.ndarray, valid: np.ndarray) -> tuple[Any, Any]:
        from sklearn.preprocessing import OneHotEncoder

        encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=self.min_count, sparse_output=True)
        return encoder.fit_transform(train), encoder.transform(valid)

    def logloss(self, crosses: list[_Encoded]) -> float:
        from sklearn.metrics import log_loss

        return float(log_loss(self.y_valid, self.held_out_scores(crosses), labels=[0, 1]))

    def auc(self, crosses: list[_Encoded]) -> float:
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(self.y_valid, self.held_out_scores(crosses)))

    def held_out_scores(self, crosses: list[_Encoded]) -> np.ndarray:
        """The held-out rows' probabilities from the regression fitted on the training rows.

        With crosses, lbfgs starts from the fields' own solution (zero for the crosses' columns):
        the same objective and tolerance, a few iterations instead of a hundred."""
        from scipy import sparse

        if not crosses:
            return self._base.predict_proba(self.fields[1])[:, 1]
        ids = self._one_hot(np.stack([c.train for c in crosses], axis=1), np.stack([c.valid for c in crosses], axis=1))
        train, valid = (sparse.hstack([fields, more]).tocsr() for fields, more in zip(self.fields, ids, strict=True))
        model = _regression(warm_start=True)
        model.coef_ = np.hstack([self._base.coef_, np.zeros((1, train.shape[1] - self._base.coef_.shape[1]))])
        model.intercept_ = self._base.intercept_.copy()
        return _fitted(model, train, self.y_train).predict_proba(valid)[:, 1]

    @cached_property
    def _base(self) -> Any:
        """The regression on the fields alone (fitted once)."""
        return _fitted(_regression(), self.fields[0], self.y_train)


def _regression(warm_start: bool = False) -> Any:
    """The selection's logistic regression (one setting for every fit)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=300, tol=1e-6, warm_start=warm_start)


def _fitted(model: Any, x: Any, y: np.ndarray) -> Any:
    """``model`` fitted, lbfgs' ConvergenceWarning silenced: the held-out score decides."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(x, y)


def logistic_auc(crosses: Sequence[Sequence[str]], train: Any, y_train: Any, test: Any, y_test: Any, *, min_count: int = 10,
                 dense_features: Any = None, missing_value: Any = None) -> float:
    """Test AUC of the selection's logistic regression (one-hot fields, the ``crosses`` one-hot
    beside them) fitted on ``train``: the cheapest target model, with no seed to vary.

    Parameters as :func:`select_crosses`; ``crosses`` may be empty (the fields alone).
    """
    y_fit, y_held = _labels(y_train, len(train), "y_train"), _labels(y_test, len(test), "y_test")
    check = _Check(train, test, y_fit, y_held, min_count)
    encoded = _encode([tuple(c) for c in crosses], train, test, min_count, dense_features, missing_value) if crosses else []
    return check.auc(encoded)


def _candidates(candidates: Any, n_candidates: int | None) -> tuple[list[tuple[str, ...]], list[float], list[float]]:
    from ..results import GlobalInteractions

    if isinstance(candidates, GlobalInteractions):
        rows = candidates.to_dataframe(k=n_candidates) if n_candidates is not None else candidates.to_dataframe()
        sets = [tuple(str(n) for n in candidates.names_of(s)) for s in rows["features"]]
        return sets, rows["count"].astype(float).tolist(), rows["mean_strength"].astype(float).tolist()
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not candidates:
        raise InputError(f"candidates: expected a non-empty list of column-name tuples, got {candidates!r:.100}")
    sets, seen = [], set()
    for item in candidates[:n_candidates]:
        if isinstance(item, (str, bytes)) or not isinstance(item, (Sequence, np.ndarray)) or len(item) < 2:
            raise InputError(f"candidates: each candidate must be a tuple of at least 2 column names, got {item!r}")
        group = tuple(str(c) for c in item)
        if frozenset(group) not in seen:  # a repeated candidate is tried once
            seen.add(frozenset(group))
            sets.append(group)
    return sets, [np.nan] * len(sets), [np.nan] * len(sets)


def _labels(y: Any, n: int, name: str) -> np.ndarray:
    values = np.asarray(y)
    if values.shape != (n,):
        raise InputError(f"{name}: expected {n} labels (one per row), got shape {values.shape}")
    if not np.isin(values, (0, 1)).all() or len(np.unique(values)) < 2:
        raise InputError(f"{name}: expected 0/1 labels with both classes present")
    return values.astype(np.int64)
