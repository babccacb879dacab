"""The candidate crosses the pipeline's selection tries: GLIDER's, and the controls that must be
beaten on the same terms (the same selection, the same rows, as many candidates of the same sizes).

* ``+glider``: the source model's interactions worth a cross, ``n`` of them
  (:func:`valued_candidates`, ranking ``"cross-value"``; the default ``"source-and-labels"`` takes
  it and ``+labels``' head in turn, :func:`merged_candidates`): every pair of fields and
  GLIDER's groups of three or more, ranked by their cross value on the training rows
  (:func:`~glider_plugins.encoders.cross_value.cross_values`: the held-out share of the source
  model's non-additive output a cross's ids explain); or GLIDER's ``n`` most frequent
  interactions (:func:`glider_candidates`, ranking ``"frequency"``, the paper's);
* ``+random``: ``n`` random feature groups of the sizes of GLIDER's candidates, drawn from all groups
  of those sizes (GLIDER's and planted ones included: chance may find them too; one list per draw);
* ``+all-pairs``: every pair of fields, the brute-force anchor (where there are at most
  :data:`ALL_PAIRS_MAX` pairs);
* ``+labels`` (asked for by name): the ``n`` pairs of highest cross value on the training
  *labels* instead of the source model's scores (:func:`label_candidates`): a data-only ranking
  like FAST, measured with the cross's own ids; it finds what the data rewards whether or not the
  source model learned it;
* ``+fast``: the ``n`` strongest pairs by FAST (interpret's EBM, ``interpret.utils.measure_interactions``:
  the gain of a two-feature tree on the residual of the main effects), an optional extra.

Each list is checked by :func:`~glider_plugins.encoders.selection.select_crosses` as GLIDER's is.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..results import GlobalInteractions

__all__ = ["ALL_PAIRS_MAX", "CONTROLS", "DEFAULT_CONTROLS", "RANKINGS", "VALUED_PAIRS_MAX", "Candidates", "all_pairs", "candidate_count",
           "fast_candidates", "glider_candidates", "label_candidates", "merged_candidates", "pair_count", "random_candidates", "valued_candidates"]

#: The controls, in the order the table shows them.
CONTROLS = ("+random", "+all-pairs", "+fast", "+labels")
#: The controls ``controls=True`` runs (``+labels`` is asked for by name).
DEFAULT_CONTROLS = ("+random", "+all-pairs", "+fast")
#: How ``+glider``'s candidates are ranked: by cross value on the source model's scores and on the
#: labels, the two heads taken in turn (default; :func:`merged_candidates`), by cross value on the
#: scores alone, or by GLIDER's frequency.
RANKINGS = ("source-and-labels", "cross-value", "frequency")
#: Every pair is tried where the fields have at most this many pairs (p = 25); beyond, the anchor
#: is not run (its cost is the selection's, one logistic regression per candidate).
ALL_PAIRS_MAX = 300
#: Every pair is valued where the fields have at most this many pairs (p = 141; a pass over the
#: training rows per pair, no model fit); beyond, only GLIDER's interactions are.
VALUED_PAIRS_MAX = 10_000


@dataclass
class Candidates:
    """One candidate list: its variant, the groups (field names, in the order they are tried), the
    seconds it took to propose them (GLIDER's detection is timed as the pipeline's step) and, for
    a valued list, every group it ranked with its cross value (``values``)."""

    variant: str
    groups: list[tuple[str, ...]]
    seconds: float = 0.0
    values: Any = None


def pair_count(n_fields: int) -> int:
    """How many pairs ``n_fields`` fields have."""
    return n_fields * (n_fields - 1) // 2


def candidate_count(n_fields: int, k: int) -> int:
    """How many candidates each list tries: ``3 k``, but at most a third of the pairs (at least
    ``k``, at most every pair): the selection's cost is one regression per candidate."""
    pairs = pair_count(n_fields)
    return max(1, min(3 * k, max(k, pairs // 3), pairs))


def glider_candidates(interactions: GlobalInteractions, n: int) -> Candidates:
    """GLIDER's ``n`` strongest interactions (``top(n)``), by name."""
    return Candidates("+glider", [tuple(str(x) for x in interactions.names_of(s)) for s, _ in interactions.top(n)])


def valued_candidates(interactions: GlobalInteractions, train: Any, scores: np.ndarray, n: int, *, k: int = 1,
                      min_count: int = 10, dense_features: Any = None, missing_value: Any = None, seed: int = 0) -> Candidates:
    """The ``n`` groups of highest cross value on the source model's ``scores`` over ``train``
    (a warning when fewer than ``k`` are worth anything).

    The groups valued: every pair of ``train``'s columns (where there are at most
    :data:`VALUED_PAIRS_MAX`; else GLIDER's pairs) and GLIDER's ``3 n`` most frequent groups of
    three or more, found in at least ``MIN_FREQUENCY`` of the rows (:meth:`GlobalInteractions.frequent`,
    what :meth:`GlobalInteractions.top` chooses from; brute force cannot enumerate sets of three at
    scale, GLIDER proposes them).
    Groups worth nothing (value <= 0) are not proposed. ``scores``: the source model's output on
    ``train``'s rows (log-odds; scores that are all in [0, 1] are read as probabilities and turned
    into log-odds here).
    """
    from ..encoders.cross_value import cross_values

    start = time.perf_counter()
    names = [str(c) for c in train.columns]
    found = [tuple(str(x) for x in interactions.names_of(s)) for s in interactions.frequent()]  # what GLIDER's top considers
    found = [g for g in found if len(g) == 2] + [g for g in found if len(g) > 2][:3 * n]
    every_pair = pair_count(len(names)) <= VALUED_PAIRS_MAX
    pool = list(itertools.combinations(names, 2)) if every_pair else [g for g in found if len(g) == 2]
    pool += [g for g in found if len(g) > 2]
    if not pool:
        return Candidates("+glider", [], time.perf_counter() - start)
    values = cross_values(pool, train, as_log_odds(scores), min_count=min_count, dense_features=dense_features,
                          missing_value=missing_value, seed=seed)
    values, groups = _positive_head(values, n)
    if len(groups) < k:
        warnings.warn(f"k={k} is larger than the {len(groups)} candidate cross(es) worth anything (cross value > 0); "
                      f"using all of them", stacklevel=3)
    return Candidates("+glider", groups, time.perf_counter() - start, values)


def label_candidates(train: Any, labels: np.ndarray, n: int, *, min_count: int = 10, dense_features: Any = None,
                     missing_value: Any = None, seed: int = 0) -> Candidates:
    """The ``n`` pairs of ``train``'s columns of highest positive cross value on the 0/1 ``labels``
    (every pair where there are at most :data:`VALUED_PAIRS_MAX`, else none)."""
    from ..encoders.cross_value import cross_values

    start = time.perf_counter()
    names = [str(c) for c in train.columns]
    if len(names) < 2 or pair_count(len(names)) > VALUED_PAIRS_MAX:
        return Candidates("+labels", [], time.perf_counter() - start)
    values = cross_values(list(itertools.combinations(names, 2)), train, np.asarray(labels, dtype=np.float64), min_count=min_count,
                          dense_features=dense_features, missing_value=missing_value, seed=seed)
    values, groups = _positive_head(values, n)
    return Candidates("+labels", groups, time.perf_counter() - start, values)


def merged_candidates(source: Candidates, labels: Candidates, n: int) -> Candidates:
    """The first ``n`` groups of two valued lists taken in turn (the source model's first, then the
    labels', then the source's second, ...), each group once: the source model's view of the
    data (denoised clicks) and the data's own (what the source did not learn) in one list as long
    as either. ``values``: both lists' cross values, a column ``on`` saying which (``"scores"`` or
    ``"labels"``)."""
    merged: list[tuple[str, ...]] = []
    for pair in itertools.zip_longest(source.groups, labels.groups):
        for group in pair:
            if group is not None and group not in merged and len(merged) < n:
                merged.append(group)
    tables = [values.assign(on=on) for values, on in ((source.values, "scores"), (labels.values, "labels")) if values is not None]
    if tables:
        import pandas as pd

        values = pd.concat(tables, ignore_index=True)
        values.attrs = dict(tables[0].attrs)  # the first list's (the source model's additive fit)
    else:
        values = None
    return Candidates("+glider", merged, source.seconds + labels.seconds, values)


def _positive_head(values: Any, n: int) -> tuple[Any, list[tuple[str, ...]]]:
    """The valued groups highest first (ties in their given order), and the first ``n`` of positive value."""
    values = values.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
    return values, [tuple(g) for g, v in zip(values["columns"], values["value"], strict=True) if v > 0][:n]


def as_log_odds(scores: np.ndarray) -> np.ndarray:
    """``scores`` as they are, or, when every one is a probability in [0, 1], their log-odds
    (clipped a float32 step away from 0 and 1)."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size and np.all((values >= 0) & (values <= 1)):
        clipped = np.clip(values, 1e-7, 1 - 1e-7)
        return np.log(clipped) - np.log1p(-clipped)
    return values


def random_candidates(sizes: Sequence[int], names: Sequence[str], seed: int, exclude: Sequence[Sequence[str]] = ()) -> Candidates:
    """Random groups of ``names``, one of each size in ``sizes``, distinct and none in ``exclude``
    (fewer where the groups of a size run out)."""
    rng = np.random.default_rng(seed)
    taken = {tuple(sorted(g)) for g in exclude}
    groups: list[tuple[str, ...]] = []
    for size in sizes:
        for _ in range(1000):
            group = tuple(sorted(str(names[i]) for i in rng.choice(len(names), size=min(size, len(names)), replace=False)))
            if group not in taken:
                taken.add(group)
                groups.append(group)
                break  # a size with no group left to draw gets none: fewer candidates, never a repeat
    return Candidates("+random", groups)


def all_pairs(names: Sequence[str]) -> Candidates:
    """Every pair of ``names``, in column order."""
    return Candidates("+all-pairs", [(str(a), str(b)) for a, b in itertools.combinations(names, 2)])


def fast_candidates(train: object, y: np.ndarray, n: int, categorical: Sequence[str]) -> Candidates:
    """The ``n`` strongest pairs of the columns of ``train`` by FAST (interpret's
    ``measure_interactions``), ``categorical`` columns as nominal, the others as continuous.

    Raises
    ------
    ImportError
        Without interpret: ``pip install interpret-core`` (or ``glider-plugins[fast]``).
    """
    try:
        from interpret.utils import measure_interactions
    except ImportError as exc:
        raise ImportError("the '+fast' control needs interpret: pip install interpret-core (or glider-plugins[fast])") from exc
    columns = [str(c) for c in train.columns]  # type: ignore[attr-defined]
    if len(columns) < 2:
        raise InputError("train: FAST needs at least 2 columns")
    types = ["nominal" if c in set(categorical) else "continuous" for c in columns]
    start = time.perf_counter()
    ranked = measure_interactions(train, np.asarray(y), interactions=n, feature_names=columns, feature_types=types)
    pairs = [tuple(sorted((columns[a], columns[b]) if isinstance(a, (int, np.integer)) else (str(a), str(b))))
             for (a, b), _ in (ranked.items() if isinstance(ranked, dict) else ranked)]
    return Candidates("+fast", pairs[:n], time.perf_counter() - start)
