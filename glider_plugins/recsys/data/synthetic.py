"""Criteo-shaped synthetic click data with planted feature interactions (known ground truth).

The click model is a logistic model, ``P(click) = sigmoid(bias + main effects + crosses)``:

* categorical field ``C_j`` has a cardinality drawn log-uniformly from ``cardinality_range`` and
  Zipf-distributed values ``1..card`` (0 = missing); each value has a main effect ~ N(0, main_scale);
* dense field ``I_j`` holds heavy-tailed counts ``floor(exp(N(mu_j, sigma_j)))`` (NaN = missing), with
  a main effect linear in its standardised ``log(1 + x)``;
* each planted group (pairs and 3-way crosses) adds a random effect per combination of its fields'
  levels, uniform with standard deviation ``cross_scale``, computed by hashing the combination (so
  every combination, seen or not, has a fixed effect); a categorical field's level is its value, a
  dense field's level its :func:`~glider_plugins.recsys.data.preprocess.criteo_log_bin` key (so
  the preprocessed bins identify the crosses exactly); a missing parent switches the cross off;
* the bias gives a click rate of about ``base_ctr``.

The ground truth (cardinalities, effects, planted groups, bias) depends on ``seed`` only, never on
``n_rows``; the rows come from an independent stream of the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import InputError
from .preprocess import criteo_log_bin

__all__ = ["SyntheticCTR", "make_criteo_like"]

_CALIBRATION_ROWS = 20_000
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class SyntheticCTR:
    """A synthetic data set and its ground truth.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``I1..ID`` (float64 counts, NaN = missing), ``C1..CF`` (int64, 0 = missing),
        ``label`` (int64 0/1).
    fields : list of str
        The feature columns in order (dense first, as in Criteo); feature id = position. A
        preprocessed data set may order its fields differently (``dense="log"`` puts the dense
        fields last): map planted groups by name through ``CTRDataset.feature_names``.
    planted : list of tuple of str
        The planted interaction groups, by field name.
    cardinalities : dict of str -> int
        Distinct non-missing values of each categorical field.
    logits : ndarray of shape (N,)
        The true logits of the rows (``sigmoid(logits)`` is the click probability).
    """

    frame: pd.DataFrame
    fields: list[str]
    planted: list[tuple[str, ...]]
    cardinalities: dict[str, int]
    logits: np.ndarray

    @property
    def planted_ids(self) -> list[tuple[int, ...]]:
        """The planted groups as sorted feature ids (positions in :attr:`fields`)."""
        return [tuple(sorted(self.fields.index(f) for f in group)) for group in self.planted]


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A 64-bit mixing hash (SplitMix64 finaliser), uint64 -> uint64."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return x ^ (x >> np.uint64(31))


class _Truth:
    """The click model drawn from the seed (see the module docstring)."""

    def __init__(self, rng: np.random.Generator, n_dense: int, n_cat: int, cardinality_range: tuple[int, int], main_scale: float, missing_rate: float) -> None:
        lo, hi = cardinality_range
        self.dense_names = [f"I{j + 1}" for j in range(n_dense)]
        self.cat_names = [f"C{j + 1}" for j in range(n_cat)]
        self.cards = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi), n_cat))).astype(np.int64)
        self.mu, self.sigma = rng.uniform(0.0, 2.0, n_dense), rng.uniform(0.5, 1.5, n_dense)
        self.dense_coef = rng.normal(0.0, main_scale, n_dense)
        self.main = [np.concatenate([[0.0], rng.normal(0.0, main_scale, c)]) for c in self.cards]
        self.missing = rng.uniform(0.5, 1.5, n_dense + n_cat) * missing_rate
        self.salt = int(rng.integers(1, 2**62))
        self.groups: list[tuple[str, ...]] = []
        self.bias = 0.0

    @property
    def fields(self) -> list[str]:
        return self.dense_names + self.cat_names

    def sample(self, rng: np.random.Generator, n: int, zipf: float) -> pd.DataFrame:
        """Rows without labels: dense counts and Zipf categorical values, with missing values."""
        columns: dict[str, np.ndarray] = {}
        for j, name in enumerate(self.dense_names):
            x = np.floor(np.exp(rng.normal(self.mu[j], self.sigma[j], n)))
            columns[name] = np.where(rng.random(n) < self.missing[j], np.nan, x)
        for j, name in enumerate(self.cat_names):
            p = np.arange(1, self.cards[j] + 1, dtype=np.float64) ** -zipf
            values = rng.choice(np.arange(1, self.cards[j] + 1), size=n, p=p / p.sum())
            columns[name] = np.where(rng.random(n) < self.missing[len(self.dense_names) + j], 0, values).astype(np.int64)
        return pd.DataFrame(columns)

    def level(self, frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A field's cross level (uint64) and its missing mask."""
        if name in self.dense_names:
            keys = criteo_log_bin(frame[name].to_numpy())
            return np.nan_to_num(keys + 8, nan=0.0).astype(np.uint64), np.isnan(keys)
        values = frame[name].to_numpy()
        return values.astype(np.uint64), values == 0

    def logits(self, frame: pd.DataFrame, cross_scale: float) -> np.ndarray:
        out = np.full(len(frame), self.bias)
        for j, name in enumerate(self.dense_names):
            z = np.log1p(frame[name].to_numpy())
            out += np.nan_to_num(self.dense_coef[j] * (z - self.mu[j]) / self.sigma[j])
        for j, name in enumerate(self.cat_names):
            out += self.main[j][frame[name].to_numpy()]
        for g, group in enumerate(self.groups):
            out += cross_scale * self._cross(frame, group, g)
        return out

    def _cross(self, frame: pd.DataFrame, group: tuple[str, ...], index: int) -> np.ndarray:
        """Unit-variance uniform effect of each row's level combination, 0 where a parent is missing."""
        code = np.full(len(frame), np.uint64(self.salt + 7919 * index) & _MASK64, dtype=np.uint64)
        missing = np.zeros(len(frame), bool)
        for name in group:
            level, absent = self.level(frame, name)
            code, missing = _splitmix64(code ^ level), missing | absent
        u = (code >> np.uint64(11)).astype(np.float64) / 2.0**53
        return np.where(missing, 0.0, np.sqrt(3.0) * (2.0 * u - 1.0))


def _choose_groups(rng: np.random.Generator, truth: _Truth, n_pairs: int, n_triples: int, cross_max_cardinality: int) -> list[tuple[str, ...]]:
    """Disjoint random groups over the dense fields and the low-cardinality categorical fields."""
    need = 2 * n_pairs + 3 * n_triples
    by_card = [truth.cat_names[j] for j in np.argsort(truth.cards, kind="stable")]
    small = [c for c in by_card if truth.cards[truth.cat_names.index(c)] <= cross_max_cardinality]
    pool = truth.dense_names + small
    pool += [c for c in by_card if c not in small][: max(0, need - len(pool))]
    if need > len(pool):
        raise InputError(f"n_pairs/n_triples: {need} distinct fields needed, only {len(pool)} exist")
    chosen = [str(f) for f in rng.choice(pool, size=need, replace=False)]
    sizes = [2] * n_pairs + [3] * n_triples
    return [tuple(chosen[sum(sizes[:i]) : sum(sizes[: i + 1])]) for i in range(len(sizes))]


def _named_groups(planted: Sequence[Sequence[str | int]], fields: list[str]) -> list[tuple[str, ...]]:
    groups = []
    for group in planted:
        names = tuple(fields[g] if isinstance(g, (int, np.integer)) and 0 <= g < len(fields) else str(g) for g in group)
        if len(set(names)) < 2 or any(n not in fields for n in names):
            raise InputError(f"planted: each group needs at least two distinct fields of {fields[0]}..{fields[-1]}, got {tuple(group)}")
        groups.append(names)
    return groups


def _calibrate_bias(truth: _Truth, rng: np.random.Generator, zipf: float, cross_scale: float, base_ctr: float) -> float:
    """The bias that gives a mean click probability of ``base_ctr`` (bisection on a fixed sample)."""
    logits = truth.logits(truth.sample(rng, _CALIBRATION_ROWS, zipf), cross_scale)
    lo, hi = -20.0, 20.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.mean(1 / (1 + np.exp(-(logits + mid)))) < base_ctr else (lo, mid)
    return (lo + hi) / 2


def make_criteo_like(
    n_rows: int, *, n_dense: int = 13, n_cat: int = 26, planted: Sequence[Sequence[str | int]] | None = None,
    n_pairs: int = 4, n_triples: int = 2, cardinality_range: tuple[int, int] = (3, 1000), cross_max_cardinality: int = 60,
    zipf: float = 1.1, missing_rate: float = 0.05, main_scale: float = 0.3, cross_scale: float = 1.0,
    base_ctr: float = 0.25, seed: int = 0,
) -> SyntheticCTR:
    """Criteo-shaped click data whose labels come from a logistic model with planted crosses.

    Parameters
    ----------
    n_rows : int
        Rows to draw.
    n_dense, n_cat : int, default 13 and 26
        Dense (``I1..``) and categorical (``C1..``) fields (Criteo's shape by default).
    planted : sequence of groups, optional
        The interaction groups, each a tuple of field names or feature ids (positions in
        ``fields``). Default: ``n_pairs`` pairs and ``n_triples`` 3-way groups on disjoint random
        fields among the dense fields and the categorical fields with at most
        ``cross_max_cardinality`` values.
    cardinality_range : (int, int), default (3, 1000)
        Categorical cardinalities are log-uniform in this range.
    zipf : float, default 1.1
        Exponent of the Zipf law of each categorical field's values.
    missing_rate : float, default 0.05
        Mean missing rate; each field gets a rate in [0.5, 1.5] times it.
    main_scale, cross_scale : float
        Standard deviations of the main effects and of each cross's effects (the logit scale).
    base_ctr : float, default 0.25
        Target click rate.
    seed : int, default 0
        Seeds the ground truth and the rows.

    Returns
    -------
    SyntheticCTR
        ``.frame`` (``I*``, ``C*``, ``label``), ``.planted``, ``.fields``, ``.logits``.
    """
    _check_args(n_rows, n_dense, n_cat, cardinality_range, zipf, missing_rate, base_ctr)
    truth_rng, calibration_rng, rows_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    truth = _Truth(truth_rng, n_dense, n_cat, cardinality_range, main_scale, missing_rate)
    truth.groups = _named_groups(planted, truth.fields) if planted is not None else _choose_groups(truth_rng, truth, n_pairs, n_triples, cross_max_cardinality)
    truth.bias = _calibrate_bias(truth, calibration_rng, zipf, cross_scale, base_ctr)
    frame = truth.sample(rows_rng, int(n_rows), zipf)
    logits = truth.logits(frame, cross_scale)
    frame["label"] = (rows_rng.random(len(frame)) < 1 / (1 + np.exp(-logits))).astype(np.int64)
    cards = {name: int(c) for name, c in zip(truth.cat_names, truth.cards)}
    return SyntheticCTR(frame, truth.fields, list(truth.groups), cards, logits)


def _check_args(n_rows: int, n_dense: int, n_cat: int, cardinality_range: tuple[int, int], zipf: float, missing_rate: float, base_ctr: float) -> None:
    if int(n_rows) < 1:
        raise InputError(f"n_rows: expected a positive count, got {n_rows}")
    if int(n_dense) < 0 or int(n_cat) < 0 or int(n_dense) + int(n_cat) < 2:
        raise InputError(f"n_dense/n_cat: expected non-negative counts with at least two fields, got {n_dense} and {n_cat}")
    lo, hi = cardinality_range
    if not 2 <= lo <= hi:
        raise InputError(f"cardinality_range: expected 2 <= low <= high, got {cardinality_range}")
    if zipf < 0 or not 0 <= missing_rate < 0.66 or not 0 < base_ctr < 1:
        raise InputError(f"zipf/missing_rate/base_ctr: expected zipf >= 0, missing_rate in [0, 0.66), base_ctr in (0, 1), got {zipf}, {missing_rate}, {base_ctr}")
