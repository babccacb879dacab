"""Preprocessing of tabular click data as the GLIDER paper did for Criteo (following AutoInt).

Categories seen fewer than ``min_count`` times in the training split become out-of-vocabulary;
dense values are log-binned (the Criteo winners' ``floor(ln(x)^2)`` for x > 2) into categorical
ids, or kept dense after a signed log transform and standardisation. Every categorical column is
encoded to contiguous int64 ids with 0 reserved for missing *and* out-of-vocabulary values, the
convention of :mod:`glider_plugins.recsys` models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InputError
from ..base import CTRDataset

__all__ = ["CTRPreprocessor", "criteo_log_bin", "train_valid_test_split"]


def criteo_log_bin(x: Any) -> np.ndarray:
    """Log-bin keys of dense values: ``floor(x)`` for x <= 2, ``3 + floor(ln(x)^2)`` for x > 2.

    The two ranges never collide (keys <= 2 and >= 3). NaN stays NaN. Returns float64 (N,).
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        big = 3.0 + np.floor(np.log(np.where(x > 2, x, 3.0)) ** 2)
    return np.where(x > 2, big, np.floor(x))


class CTRPreprocessor:
    """Encode a DataFrame into a :class:`~glider_plugins.recsys.CTRDataset` (scikit-learn style).

    Parameters
    ----------
    cat_columns, dense_columns : sequence of str, optional
        The categorical and dense columns. Default: float columns are dense, every other column
        except ``label`` is categorical.
    label : str, default "label"
        The click column (values 0/1); optional in :meth:`transform`.
    min_count : int, default 10
        Categories (and dense bins) seen fewer times in the fit data map to id 0 (OOV).
    dense : {"bin", "log"}, default "bin"
        ``"bin"``: dense columns become categorical fields of :func:`criteo_log_bin` keys.
        ``"log"``: kept dense as ``sign(x) log(1 + |x|)``, standardised with the fit data's mean
        and scale; missing values become 0 (the mean).
    missing_values : sequence, default ()
        Category values that mean missing besides NaN/None (e.g. ``(0,)`` for
        :func:`~glider_plugins.recsys.data.make_criteo_like` frames, ``("",)`` for raw Criteo).

    Attributes
    ----------
    vocabularies_ : dict of str -> pandas.Index
        The kept values of each categorical field; value ``vocabularies_[c][i]`` has id ``i + 1``.
    cardinalities_ : tuple of int
        Ids per categorical field (id 0 included), in :attr:`cat_names_` order.
    cat_names_, dense_names_ : tuple of str
        Output fields, in the input frame's column order.
    binned_columns_ : tuple of str
        The dense input columns encoded as categorical log-bin fields.
    dense_mean_, dense_scale_ : ndarray of shape (D,)
        Standardisation of the ``"log"`` dense fields (empty with ``"bin"``).
    """

    def __init__(
        self, cat_columns: Sequence[str] | None = None, dense_columns: Sequence[str] | None = None, *,
        label: str = "label", min_count: int = 10, dense: str = "bin", missing_values: Sequence[Any] = (),
    ) -> None:
        if dense not in ("bin", "log"):
            raise InputError(f"dense: expected 'bin' or 'log', got {dense!r}")
        if int(min_count) < 1:
            raise InputError(f"min_count: expected a positive count, got {min_count}")
        self.cat_columns, self.dense_columns, self.label = cat_columns, dense_columns, label
        self.min_count, self.dense, self.missing_values = int(min_count), dense, tuple(missing_values)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's convention: ``sklearn.base.clone`` works)."""
        return {"cat_columns": self.cat_columns, "dense_columns": self.dense_columns, "label": self.label,
                "min_count": self.min_count, "dense": self.dense, "missing_values": self.missing_values}

    def set_params(self, **params: Any) -> CTRPreprocessor:
        """Set constructor arguments, checked as the constructor checks them; returns ``self``."""
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise InputError(f"CTRPreprocessor has no parameter(s) {unknown}; its parameters: {', '.join(self.get_params())}")
        merged = {**self.get_params(), **params}
        self.__init__(merged.pop("cat_columns"), merged.pop("dense_columns"), **merged)  # type: ignore[misc]
        return self

    def __repr__(self) -> str:
        return "CTRPreprocessor(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    # ------------------------------------------------------------------ fit
    def fit(self, frame: pd.DataFrame, y: Any = None) -> CTRPreprocessor:
        """Learn vocabularies (and dense scaling) from ``frame``; returns ``self``."""
        cats, denses = self._columns(frame)
        binned = denses if self.dense == "bin" else []
        self.binned_columns_ = tuple(binned)
        self.cat_names_ = tuple(c for c in frame.columns if c in set(cats) | set(binned))
        self.dense_names_ = tuple(c for c in frame.columns if c in set(denses) - set(binned))
        self.vocabularies_ = {c: self._vocabulary(self._raw(frame, c)) for c in self.cat_names_}
        self.cardinalities_ = tuple(len(self.vocabularies_[c]) + 1 for c in self.cat_names_)
        logged = np.stack([_signed_log(frame[c]) for c in self.dense_names_], axis=1) if self.dense_names_ else np.zeros((len(frame), 0))
        self.dense_mean_ = np.nan_to_num(np.nanmean(logged, axis=0)) if len(frame) else np.zeros(logged.shape[1])
        scale = np.nan_to_num(np.nanstd(logged, axis=0)) if len(frame) else np.ones(logged.shape[1])
        self.dense_scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def _columns(self, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
        rest = [c for c in frame.columns if c != self.label]
        is_float = {c: pd.api.types.is_float_dtype(frame[c]) for c in rest}
        dense = list(self.dense_columns) if self.dense_columns is not None else [c for c in rest if is_float[c]]
        cats = list(self.cat_columns) if self.cat_columns is not None else [c for c in rest if not is_float[c] and c not in dense]
        missing = [c for c in cats + dense if c not in frame.columns]
        if missing:
            raise InputError(f"frame: missing columns {missing}")
        if set(cats) & set(dense):
            raise InputError(f"cat_columns/dense_columns: columns in both: {sorted(set(cats) & set(dense))}")
        return cats, dense

    def _raw(self, frame: pd.DataFrame, column: str) -> pd.Series:
        """The column's category keys (dense columns: log-bin keys), missing values as NaN/None."""
        values = frame[column]
        if column in self.binned_columns_:
            return pd.Series(criteo_log_bin(values.to_numpy(dtype=np.float64, na_value=np.nan)), index=frame.index)
        return values.mask(values.isin(self.missing_values)) if self.missing_values else values

    def _vocabulary(self, values: pd.Series) -> pd.Index:
        counts = values.dropna().value_counts()
        kept = counts[counts >= self.min_count]
        order = sorted(zip(kept.index, kept.to_numpy()), key=lambda kv: (-kv[1], str(kv[0])))
        return pd.Index([k for k, _ in order], dtype=kept.index.dtype)

    # ------------------------------------------------------------------ transform
    def transform(self, frame: pd.DataFrame) -> CTRDataset:
        """Encode ``frame`` (same columns as the fit data; the label column optional)."""
        if not hasattr(self, "vocabularies_"):
            raise InputError("CTRPreprocessor: call fit() before transform()")
        self._columns(frame)
        absent = [c for c in (*self.cat_names_, *self.dense_names_) if c not in frame.columns]
        if absent:
            raise InputError(f"frame: missing columns {absent}")
        n = len(frame)
        cat = np.zeros((n, len(self.cat_names_)), np.int64)
        for j, c in enumerate(self.cat_names_):
            cat[:, j] = self.vocabularies_[c].get_indexer(self._raw(frame, c)) + 1  # unseen/missing: -1 -> 0
        dense = np.zeros((n, len(self.dense_names_)), np.float32)
        for j, c in enumerate(self.dense_names_):
            dense[:, j] = np.nan_to_num((_signed_log(frame[c]) - self.dense_mean_[j]) / self.dense_scale_[j])
        labels = _labels(frame[self.label]) if self.label in frame.columns else None
        return CTRDataset(cat, dense, labels, self.cardinalities_, self.cat_names_, self.dense_names_)

    def fit_transform(self, frame: pd.DataFrame, y: Any = None) -> CTRDataset:
        """``fit(frame).transform(frame)``."""
        return self.fit(frame).transform(frame)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output field names: categorical fields, then dense fields."""
        return np.asarray([*self.cat_names_, *self.dense_names_], dtype=object)


def _signed_log(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.sign(x) * np.log1p(np.abs(x))


def _labels(values: pd.Series) -> np.ndarray:
    y = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError(f"frame: label column {values.name!r} must hold only 0 and 1")
    return y.astype(np.float32)


def train_valid_test_split(data: Any, *, valid: float = 0.1, test: float = 0.1, seed: int = 0) -> tuple[Any, Any, Any]:
    """Shuffle the rows of a DataFrame or CTRDataset with ``seed`` and cut (train, valid, test).

    ``valid`` and ``test`` are fractions of the rows (each in [0, 1), together below 1).
    """
    if not (0 <= valid < 1 and 0 <= test < 1 and valid + test < 1):
        raise InputError(f"valid/test: expected fractions in [0, 1) with a sum below 1, got {valid} and {test}")
    n = len(data)
    order = np.random.default_rng(seed).permutation(n)
    n_valid, n_test = int(round(n * valid)), int(round(n * test))
    parts = np.split(order, [n - n_valid - n_test, n - n_test])
    if isinstance(data, pd.DataFrame):
        return tuple(data.iloc[np.sort(p)].reset_index(drop=True) for p in parts)  # type: ignore[return-value]
    if isinstance(data, CTRDataset):
        return tuple(data.subset(np.sort(p)) for p in parts)  # type: ignore[return-value]
    raise InputError(f"data: expected a pandas DataFrame or CTRDataset, got {type(data).__name__}")
