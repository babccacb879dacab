"""CrossFeatureEncoder: one categorical column per feature interaction (GLIDER's cross features).

For an interaction of columns ``(C1, C2, ...)`` every row gets the id of its combination of
values: dense (float) parents are first quantile-binned, each combination seen at least
``min_count`` times in the fit data has its own id ``1..V``, every other combination (rare or
unseen) the out-of-vocabulary id ``V + 1``, and a row with a missing parent the missing id ``0``.
Ids are ready for an embedding table of ``cardinalities_[j] = V + 2`` rows.

Everything is vectorised: parent values become integer codes (``searchsorted`` on the sorted
categories or bin edges), codes are combined in a mixed radix (compressed with ``np.unique``
whenever the radix would overflow int64), and the vocabulary is the sorted array of frequent keys.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from .base import Encoder
from .cross_columns import (
    as_float,
    column_index,
    column_values,
    has_fractions,
    interaction_sets,
    looks_dense,
    missing_mask,
    quantile_edges,
)
from .cross_keys import apply_keys, fit_keys, lookup

__all__ = ["MISSING_ID", "CrossFeatureEncoder", "has_fractions"]

#: The id of a combination with a missing parent.
MISSING_ID = 0


@dataclass
class _Parent:
    """How one input column becomes codes 0..radix-1: bin edges (dense) or sorted categories."""

    dense: bool
    table: np.ndarray  # inner bin edges (dense) or frequent categories (categorical), sorted

    @property
    def radix(self) -> int:
        return len(self.table) + 1 if self.dense else max(len(self.table), 1)


@dataclass
class _Cross:
    """A fitted interaction: compression tables between parents, and the sorted vocabulary."""

    steps: list[np.ndarray | None]
    vocabulary: np.ndarray


class CrossFeatureEncoder(Encoder):
    """Cross features for feature interactions, as a scikit-learn transformer.

    Parameters
    ----------
    interactions : GlobalInteractions, or sequence of sequences of int or str
        The interactions to encode: a :class:`~glider_plugins.GlobalInteractions` (its
        :meth:`top` ``(top_k)`` with subset pruning, or all of them), a list of column-index or
        column-name tuples, or the ``(features, count)`` pairs ``GlobalInteractions.top`` returns.
        Feature ids of a GlobalInteractions are read as column names when ``X`` has columns of
        those names, else as column indices.
    top_k : int, optional
        Use only the first ``top_k`` interactions.
    min_count : int, default 10
        A combination needs this many rows in the fit data to get its own id.
    n_bins : int, default 100
        Quantile bins of dense parents (fewer when values tie).
    dense_features : "auto", None, or sequence of int or str, default "auto"
        Columns to bin. ``"auto"``: numeric columns (integer or float, not bool) with more than
        ``n_bins`` distinct values, and float columns holding values that are not whole numbers;
        other columns (strings, categories, few distinct numbers such as small ids) are
        categorical. An integer id column with many values (a user or item id) is binned too:
        list the columns to bin, or pass ``None``, to keep it categorical. ``None``: none.
    missing_value : scalar, optional
        A categorical value that means missing (e.g. id 0), besides NaN and None.
    min_support : float, default 0.5
        A cross whose own ids (not the out-of-vocabulary one) cover fewer than this share of the
        fit rows with known parents gets a warning naming it, as does one with no id at all
        (``support_``; :meth:`summary`). In [0, 1]; ``0``: only empty vocabularies warn.

    Attributes
    ----------
    interactions_ : list of tuple of int
        The encoded interactions as column indices.
    cardinalities_ : numpy.ndarray of int64, shape (n_interactions,)
        Embedding-table sizes: ``V + 2`` (missing id 0, ids 1..V, OOV id V + 1).
    vocab_sizes_ : numpy.ndarray of int64, shape (n_interactions,)
        ``V`` per interaction.
    oov_ids_ : numpy.ndarray of int64, shape (n_interactions,)
        ``V + 1`` per interaction.
    dense_features_ : list of int
        Columns that were quantile-binned.
    bin_edges_ : dict of int to numpy.ndarray
        Per binned column, its bin edges.
    categories_ : dict of int to numpy.ndarray
        Per categorical column, the values frequent enough to be part of a combination.
    support_ : numpy.ndarray of float64, shape (n_interactions,)
        Share of the fit rows without a missing parent that get one of the cross's own ids.

    Examples
    --------
    >>> enc = CrossFeatureEncoder([("C1", "C2"), ("C1", "I1")], min_count=5)  # doctest: +SKIP
    >>> enc.fit_transform(df)          # DataFrame with int64 columns "C1_x_C2", "C1_x_I1"
    >>> enc.cardinalities_             # embedding sizes
    """

    name: ClassVar[str] = "cross"

    def __init__(
        self,
        interactions: Any = None,
        top_k: int | None = None,
        min_count: int = 10,
        n_bins: int = 100,
        dense_features: Any = "auto",
        missing_value: Any = None,
        min_support: float = 0.5,
    ) -> None:
        self.interactions = interactions
        self.top_k = top_k
        self.min_count = min_count
        self.n_bins = n_bins
        self.dense_features = dense_features
        self.missing_value = missing_value
        self.min_support = min_support

    # ------------------------------------------------------------------ transformer interface
    def fit(self, X: Any, y: Any = None) -> CrossFeatureEncoder:
        """Learn bins, categories and the vocabulary of every interaction from ``X``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame, shape (n_rows, n_columns)
        y : ignored

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """:meth:`fit`, then the ids of ``X`` as :meth:`transform` gives them (computed once: fitting
        already encodes ``X`` for :attr:`support_`)."""
        return self._output(self._fit(X), X)

    def _fit(self, X: Any) -> np.ndarray:
        """Fit on ``X`` and return its ids (n_rows, n_interactions)."""
        self._check_params()
        array = self._validate_input(X, reset=True)
        self.interactions_ = self._resolve_interactions(X)
        used = sorted({c for s in self.interactions_ for c in s})
        self.dense_features_ = [c for c in used if c in self._resolve_dense(X, array, used)]
        self._parents = {c: self._fit_parent(column_values(X, array, c), c) for c in used}
        self.bin_edges_ = {c: p.table for c, p in self._parents.items() if p.dense}
        self.categories_ = {c: p.table for c, p in self._parents.items() if not p.dense}
        self._crosses = [self._fit_cross(X, array, s) for s in self.interactions_]
        self.vocab_sizes_ = np.array([len(c.vocabulary) for c in self._crosses], dtype=np.int64)
        self.oov_ids_ = self.vocab_sizes_ + 1
        self.cardinalities_ = self.vocab_sizes_ + 2
        ids = self._transform(X, array)
        self.support_ = self._support(ids)
        self._warn_sparse()
        return ids

    def set_output(self, *, transform: str | None = None) -> CrossFeatureEncoder:
        """scikit-learn's output API: ``transform="pandas"`` makes :meth:`transform` return a
        DataFrame for any input (columns :meth:`get_feature_names_out`, a DataFrame's index kept);
        ``"default"``: a DataFrame for a DataFrame, an array otherwise. ``None`` leaves it as is."""
        if transform is None:
            return self
        if transform not in ("default", "pandas"):
            raise InputError(f"set_output: transform must be 'default', 'pandas' or None, got {transform!r}")
        self._sklearn_output_config = {"transform": transform}
        return self

    def summary(self, X: Any = None) -> Any:
        """Per cross: its columns, ``vocab_size``, ``cardinality``, ``support_fit`` (:attr:`support_`)
        and, with ``X``, ``support`` on it (same definition), as a pandas DataFrame."""
        import pandas as pd

        self._check_is_fitted()
        table = pd.DataFrame({
            "cross": list(self.get_feature_names_out()),
            "columns": [tuple(str(n) for n in self._input_feature_names()[list(s)]) for s in self.interactions_],
            "vocab_size": self.vocab_sizes_, "cardinality": self.cardinalities_, "support_fit": self.support_,
        })
        if X is not None:
            table["support"] = self._support(self._transform(X, self._validate_input(X, reset=False)))
        return table

    def transform(self, X: Any) -> Any:
        """The cross id of every row and interaction.

        Parameters
        ----------
        X : array-like or pandas.DataFrame, shape (n_rows, n_columns)
            The columns seen in :meth:`fit`.

        Returns
        -------
        numpy.ndarray of int64, shape (n_rows, n_interactions), or a pandas.DataFrame
            A DataFrame (same index, columns :meth:`get_feature_names_out`) when ``X`` is one.
        """
        self._check_is_fitted()
        return self._output(self._transform(X, self._validate_input(X, reset=False)), X)

    def _output(self, out: np.ndarray, X: Any) -> Any:
        """``out`` as a DataFrame for a DataFrame ``X`` or with ``set_output(transform="pandas")``."""
        frame_in = hasattr(X, "columns") and hasattr(X, "index")
        if frame_in or getattr(self, "_sklearn_output_config", {}).get("transform") == "pandas":
            import pandas as pd

            return pd.DataFrame(out, columns=list(self.get_feature_names_out()), index=X.index if frame_in else None)
        return out

    def _transform(self, X: Any, array: np.ndarray) -> np.ndarray:
        out = np.empty((array.shape[0], len(self._crosses)), dtype=np.int64)
        for j, (members, cross) in enumerate(zip(self.interactions_, self._crosses)):
            codes, missing, valid = self._codes(X, array, members)
            out[:, j] = _ids(codes, missing, valid, members, self._parents, cross)
        return out

    def _support(self, ids: np.ndarray) -> np.ndarray:
        """Per cross, the share of rows without a missing parent that have one of its own ids."""
        known = ids != MISSING_ID
        own = known & (ids < self.oov_ids_[None, :])
        return np.divide(own.sum(axis=0), known.sum(axis=0), out=np.zeros(ids.shape[1]), where=known.sum(axis=0) > 0)

    def _warn_sparse(self) -> None:
        names = self.get_feature_names_out()
        for name, size, support in zip(names, self.vocab_sizes_, self.support_, strict=True):
            if size == 0:
                warnings.warn(f"cross {name!r} has an empty vocabulary: no combination of its columns is seen "
                              f"min_count={self.min_count} times in the fit data, so every row gets the out-of-vocabulary id",
                              UserWarning, stacklevel=3)
            elif support < self.min_support:
                warnings.warn(f"cross {name!r} gives its own id ({size} ids) to only {support:.1%} of the fit rows "
                              f"(min_support={self.min_support}); the rest are out of vocabulary", UserWarning, stacklevel=3)

    def to_onnx(self, path: Any = None, dtype: str = "float64") -> Any:
        """This fitted encoder as an ONNX graph: input ``"X"`` of ``dtype``, the columns the crosses
        read (N, n_columns; in the encoder's order, named by the model's metadata ``input_columns``;
        ids as numbers, NaN for missing), output ``"cross_ids"`` (N, n_interactions) int64, equal
        to :meth:`transform`. Serve it beside an ONNX recommender and
        the crosses are computed in the same runtime (:mod:`~glider_plugins.encoders.cross_onnx`).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Also save the model there.
        dtype : {"float64", "float32"}, default "float64"

        Returns
        -------
        onnx.ModelProto

        Raises
        ------
        InputError
            Before :meth:`fit` (:class:`NotFittedError`), for a column of strings or categories
            that are not whole numbers, or another ``dtype``.
        """
        self._check_is_fitted()
        from .cross_onnx import encoder_to_onnx

        model = encoder_to_onnx(self, dtype)
        if path is not None:
            import onnx

            onnx.save(model, str(path))
        return model

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``"C1_x_C2"`` per interaction (input names joined with ``"_x_"``)."""
        names = self._input_feature_names(input_features)
        return np.asarray(["_x_".join(str(names[c]) for c in s) for s in self.interactions_], dtype=object)

    # ------------------------------------------------------------------ fitting helpers
    def _check_params(self) -> None:
        support = self.min_support
        if isinstance(support, bool) or not isinstance(support, (int, float, np.integer, np.floating)) or not 0 <= support <= 1:
            raise InputError(f"min_support must be a number in [0, 1], got {support!r}")
        for name, least in (("min_count", 1), ("n_bins", 2), ("top_k", 1)):
            value = getattr(self, name)
            if name == "top_k" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise InputError(f"{name} must be an integer >= {least}, got {value!r}")

    def _resolve_interactions(self, X: Any) -> list[tuple[int, ...]]:
        """``interactions`` (and ``top_k``) as a list of distinct column-index tuples."""
        names = getattr(self, "feature_names_in_", None)
        sets, use_names = interaction_sets(self.interactions, self.top_k, names)
        resolved: list[tuple[int, ...]] = []
        for members in sets:
            cols = tuple(sorted({column_index(m, names, self.n_features_in_, "interactions", use_names) for m in members}))
            if len(cols) < 2:
                raise InputError(f"interactions: {tuple(members)!r} has fewer than 2 distinct columns; a cross needs at least 2")
            if cols not in resolved:
                resolved.append(cols)
        return resolved

    def _resolve_dense(self, X: Any, array: np.ndarray, used: list[int]) -> set[int]:
        if self.dense_features is None:
            return set()
        if isinstance(self.dense_features, str):
            if self.dense_features != "auto":
                raise InputError(f"dense_features must be 'auto', None, or a list of columns, got {self.dense_features!r}")
            return {c for c in used if looks_dense(column_values(X, array, c), int(self.n_bins))}
        names = getattr(self, "feature_names_in_", None)
        return {column_index(c, names, self.n_features_in_, "dense_features") for c in self.dense_features}

    def _fit_parent(self, values: np.ndarray, column: int) -> _Parent:
        if column in self.dense_features_:
            v = as_float(values, column)
            return _Parent(True, quantile_edges(v[~np.isnan(v)], int(self.n_bins)))
        v, missing = self._categorical(values)
        categories, counts = np.unique(v[~missing], return_counts=True)
        return _Parent(False, categories[counts >= self.min_count])

    def _fit_cross(self, X: Any, array: np.ndarray, members: tuple[int, ...]) -> _Cross:
        codes, missing, valid = self._codes(X, array, members)
        keys, steps = fit_keys(codes, [self._parents[c].radix for c in members], valid & ~missing)
        uniq, counts = np.unique(keys[valid & ~missing], return_counts=True)
        return _Cross(steps, uniq[counts >= self.min_count])

    # ------------------------------------------------------------------ codes
    def _codes(self, X: Any, array: np.ndarray, members: tuple[int, ...]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Per parent its codes; rows with a missing parent; rows whose parents are all known."""
        n = array.shape[0]
        codes, missing, valid = [], np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
        for c in members:
            parent = self._parents[c]
            if parent.dense:
                v = as_float(column_values(X, array, c), c)
                miss = np.isnan(v)
                code, known = np.searchsorted(parent.table, np.where(miss, 0.0, v), side="right"), ~miss
            else:
                v, miss = self._categorical(column_values(X, array, c))
                code, known = lookup(parent.table, v)
            codes.append(np.where(known & ~miss, code, 0).astype(np.int64))
            missing |= miss
            valid &= known
        return codes, missing, valid

    def _categorical(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Comparable values and the missing mask (NaN, None, ``missing_value``)."""
        missing = missing_mask(values, self.missing_value)
        if values.dtype == object:
            values = np.where(missing, "", values).astype(str)
        elif np.issubdtype(values.dtype, np.floating):
            values = np.where(missing, 0.0, values)
        return values, missing


def _ids(codes: list[np.ndarray], missing: np.ndarray, valid: np.ndarray, members: tuple[int, ...], parents: dict[int, _Parent], cross: _Cross) -> np.ndarray:
    radices = [parents[c].radix for c in members]
    key, valid = apply_keys(codes, radices, cross.steps, valid & ~missing)
    pos, found = lookup(cross.vocabulary, key)
    ids = np.where(valid & found, pos + 1, cross.vocabulary.size + 1)
    return np.where(missing, MISSING_ID, ids).astype(np.int64)
