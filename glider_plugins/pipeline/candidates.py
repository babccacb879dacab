"""The candidate crosses the pipeline's selection tries: GLIDER's, and the controls that must be
beaten on the same terms (the same selection, the same rows, as many candidates of the same sizes).

* ``+glider``: GLIDER's strongest ``n`` interactions of the source model;
* ``+random``: ``n`` random feature groups of the sizes of GLIDER's candidates, drawn from all groups
  of those sizes (GLIDER's and planted ones included: chance may find them too; one list per draw);
* ``+all-pairs``: every pair of fields, the brute-force anchor (where there are at most
  :data:`ALL_PAIRS_MAX` pairs);
* ``+fast``: the ``n`` strongest pairs by FAST (interpret's EBM, ``interpret.utils.measure_interactions``:
  the gain of a two-feature tree on the residual of the main effects), an optional extra.

Each list is checked by :func:`~glider_plugins.encoders.selection.select_crosses` as GLIDER's is.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..results import GlobalInteractions

__all__ = ["ALL_PAIRS_MAX", "CONTROLS", "Candidates", "all_pairs", "fast_candidates", "glider_candidates", "random_candidates"]

#: The controls, in the order the table shows them.
CONTROLS = ("+random", "+all-pairs", "+fast")
#: Every pair is tried where the fields have at most this many pairs (p = 25); beyond, the anchor
#: is not run (its cost is the selection's, one logistic regression per candidate).
ALL_PAIRS_MAX = 300


@dataclass
class Candidates:
    """One candidate list: its variant, the groups (field names, in the order they are tried) and
    the seconds it took to propose them (GLIDER's detection is timed as the pipeline's step)."""

    variant: str
    groups: list[tuple[str, ...]]
    seconds: float = 0.0


def glider_candidates(interactions: GlobalInteractions, n: int) -> Candidates:
    """GLIDER's ``n`` strongest interactions (``top(n)``), by name."""
    return Candidates("+glider", [tuple(str(x) for x in interactions.names_of(s)) for s, _ in interactions.top(n)])


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
