"""An encoder that hashes value combinations of column groups into a fixed number of bucket ids.

The "hashing trick" for feature crosses: no vocabulary is learned, so combinations never seen in
``fit`` still get an id (possibly shared with others: a collision), and the ids of a combination are
the same in every process and on every machine (the hash is a fixed 64-bit mix, not Python's salted
``hash``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from glider_plugins.encoders.base import Encoder
from glider_plugins.errors import InputError

__all__ = ["HashedCrossEncoder"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scramble of uint64 values (wrap-around arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


_NAN_CODE = 0x7FF8000000000000


def _text_code(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _value_code(value: Any) -> int:
    """The code of one value of an object column; agrees with the vectorised paths below."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return int(value) % 2**64
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != v:
            return _NAN_CODE
        if v == round(v) and abs(v) < 2.0**62:
            return int(v) % 2**64
        return int(np.float64(v + 0.0).view(np.uint64))
    return _text_code(str(value))


def _column_codes(column: np.ndarray) -> np.ndarray:
    """A uint64 code per value: integers (and whole floats) by value, other values by their text."""
    if column.dtype == bool or np.issubdtype(column.dtype, np.integer):
        return column.astype(np.int64).view(np.uint64)
    if np.issubdtype(column.dtype, np.floating):
        values = column.astype(np.float64)
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2.0**62)
        codes = (values + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
        codes = np.where(np.isnan(values), np.uint64(_NAN_CODE), codes)
        # 3.0 hashes like 3, so an int column that became float (pandas, NaN) keeps its ids
        return np.where(whole, np.where(whole, values, 0).astype(np.int64).view(np.uint64), codes)
    if column.dtype.kind in "US":
        uniques, inverse = np.unique(column.astype(str), return_inverse=True)
        digests = np.array([_text_code(u) for u in uniques], dtype=np.uint64)
        return digests[inverse.reshape(-1)]
    # object columns (e.g. a DataFrame with mixed dtypes): value by value, each distinct value once
    memo: dict[Any, int] = {}
    out = np.empty(len(column), dtype=np.uint64)
    for i, value in enumerate(column):
        key = (type(value), value)
        try:
            code = memo[key]
        except (KeyError, TypeError):
            code = _value_code(value)
            try:
                memo[key] = code
            except TypeError:  # unhashable value
                pass
        out[i] = code
    return out


class HashedCrossEncoder(Encoder):
    """Hash the value combination of each group of columns into an int64 id in ``[0, n_buckets)``.

    Parameters
    ----------
    groups : sequence of sequences of int or str
        The column groups to cross, e.g. ``[(0, 1), (0, 2, 3)]``, or column names when fitted on a
        pandas DataFrame. One output column per group.
    n_buckets : int, default 1024
        Number of ids per group; more buckets, fewer collisions.
    seed : int, default 0
        Salt of the hash: another seed gives another (equally good) assignment of ids.

    Attributes
    ----------
    groups_ : tuple of tuple of int
        The groups as column positions.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : numpy.ndarray of str
        Column names, when fitted on a DataFrame with string column names.
    n_combinations_ : numpy.ndarray of int64, shape (n_groups,)
        Distinct value combinations of each group in the ``fit`` data.
    n_collisions_ : numpy.ndarray of int64, shape (n_groups,)
        How many of those combinations share a bucket with another one (``n_combinations_`` minus
        the number of distinct ids).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 10, 5], [2, 20, 5], [1, 10, 6]])
    >>> enc = HashedCrossEncoder(groups=[(0, 1)], n_buckets=100).fit(X)
    >>> ids = enc.transform(X)
    >>> ids.shape, ids.dtype.name, bool(ids[0, 0] == ids[2, 0])
    ((3, 1), 'int64', True)
    """

    name: ClassVar[str] = "hashed_cross"

    def __init__(self, groups: Sequence[Sequence[int | str]] = (), n_buckets: int = 1024, seed: int = 0) -> None:
        self.groups = groups
        self.n_buckets = n_buckets
        self.seed = seed

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if isinstance(self.n_buckets, bool) or not isinstance(self.n_buckets, (int, np.integer)) or not 1 <= self.n_buckets <= 2**62:
            raise InputError(f"n_buckets must be an integer in [1, 2**62], got {self.n_buckets!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        if isinstance(self.groups, (str, bytes)) or not isinstance(self.groups, Sequence) or len(self.groups) == 0:
            raise InputError(f"groups must be a non-empty sequence of column groups such as [(0, 1)], got {self.groups!r}")

    def _resolve_groups(self) -> tuple[tuple[int, ...], ...]:
        names = getattr(self, "feature_names_in_", None)
        lookup = {str(n): i for i, n in enumerate(names)} if names is not None else {}
        resolved = []
        for g, group in enumerate(self.groups):
            if isinstance(group, (str, bytes, int, np.integer)) or not isinstance(group, Sequence) or len(group) == 0:
                raise InputError(f"groups[{g}] must be a non-empty sequence of columns, got {group!r}")
            columns = []
            for column in group:
                if isinstance(column, str):
                    if column not in lookup:
                        known = list(lookup) or "none (X had no column names)"
                        raise InputError(f"groups[{g}]: unknown column {column!r}; known columns: {known}")
                    columns.append(lookup[column])
                elif isinstance(column, (int, np.integer)) and not isinstance(column, bool):
                    if not -self.n_features_in_ <= column < self.n_features_in_:
                        raise InputError(f"groups[{g}]: column {column} is out of range for X with {self.n_features_in_} columns")
                    columns.append(int(column) % self.n_features_in_)
                else:
                    raise InputError(f"groups[{g}]: columns are given by position (int) or name (str), got {column!r}")
            if len(set(columns)) != len(columns):
                raise InputError(f"groups[{g}] names a column twice: {group!r}")
            resolved.append(tuple(columns))
        return tuple(resolved)

    def fit(self, X: Any, y: Any = None) -> HashedCrossEncoder:
        """Validate the parameters and the columns of ``X``; record collision statistics."""
        self._check_params()
        array = self._validate_input(X, reset=True)
        self.groups_ = self._resolve_groups()
        codes = self._group_codes(array)
        ids = self._hash_codes(codes)
        combinations, collisions = [], []
        for g, group_codes in enumerate(codes):
            n_combos = len(np.unique(group_codes, axis=0))
            combinations.append(n_combos)
            collisions.append(n_combos - len(np.unique(ids[:, g])))
        self.n_combinations_ = np.asarray(combinations, dtype=np.int64)
        self.n_collisions_ = np.asarray(collisions, dtype=np.int64)
        return self

    # ------------------------------------------------------------------ transforming
    def _group_codes(self, array: np.ndarray) -> list[np.ndarray]:
        """Per group, the uint64 codes of its columns, shape (n_rows, len(group))."""
        codes: dict[int, np.ndarray] = {}
        for column in {c for group in self.groups_ for c in group}:
            codes[column] = _column_codes(array[:, column])
        return [np.stack([codes[c] for c in group], axis=1).reshape(array.shape[0], len(group)) for group in self.groups_]

    def _hash_codes(self, group_codes: list[np.ndarray]) -> np.ndarray:
        n_rows = group_codes[0].shape[0]
        out = np.empty((n_rows, len(group_codes)), dtype=np.int64)
        salt = _mix(np.array([self.seed], dtype=np.uint64) + _GOLDEN)
        for g, codes in enumerate(group_codes):
            h = np.full(n_rows, salt[0] ^ np.uint64(g), dtype=np.uint64)
            with np.errstate(over="ignore"):
                for j in range(codes.shape[1]):
                    h = _mix(h * _GOLDEN + _mix(codes[:, j]))
            out[:, g] = (h % np.uint64(self.n_buckets)).astype(np.int64)
        return out

    def transform(self, X: Any) -> np.ndarray:
        """Bucket ids, shape (n_rows, n_groups), int64 in ``[0, n_buckets)``; unseen values are fine."""
        self._check_is_fitted()
        array = self._validate_input(X, reset=False)
        return self._hash_codes(self._group_codes(array))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """One name per group: the column names joined by ``"_x_"`` (e.g. ``"user_x_item"``)."""
        names = self._input_feature_names(input_features)
        return np.asarray(["_x_".join(str(names[c]) for c in group) for group in self.groups_], dtype=object)
