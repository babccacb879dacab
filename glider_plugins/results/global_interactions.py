"""GlobalInteractions: what GLIDER found over many instances, as plain data with exports.

An interaction's *count* is the number of explained instances in whose ``top_k`` local
interactions it appears; interactions are ranked by count (ties: stronger mean strength first,
then lower order, then the feature ids). :meth:`GlobalInteractions.top` applies the paper's subset
pruning within the target K (:func:`prune_subsets`). Results never draw themselves: pictures are
made from :meth:`GlobalInteractions.to_dataframe` in :mod:`glider_plugins.visualization`.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import check_int
from .._json import jsonable, read_document, write_document
from ..errors import InputError

__all__ = ["FORMAT", "MIN_FREQUENCY", "GlobalInteractions", "prune_subsets"]

#: Default share of instances an interaction needs to be considered by ``top``.
MIN_FREQUENCY = 0.05

#: Format tag written by :meth:`GlobalInteractions.to_json` and required by ``from_json``.
FORMAT = "glider_plugins.GlobalInteractions/1"

FeatureSet = tuple[int, ...]


def prune_subsets(ranked: Sequence[Sequence[int]], k: int) -> list[FeatureSet]:
    """Choose ``k`` sets from a ranking with GLIDER's subset pruning (Tsang et al., 2020).

    Walking down ``ranked``: a set that is a strict subset of an already chosen set is skipped;
    otherwise it is chosen, and chosen sets that are strict subsets of it are removed. Stops once
    ``k`` sets are chosen (or the ranking is exhausted).

    Parameters
    ----------
    ranked : sequence of sequence of int
        Feature sets, most important first.
    k : int
        How many sets to choose.

    Returns
    -------
    list of tuple of int
        At most ``k`` sorted tuples, in the order of ``ranked``.

    Examples
    --------
    >>> prune_subsets([(0, 1), (2, 3), (0, 1, 4), (1, 4), (5, 6)], 3)
    [(2, 3), (0, 1, 4), (5, 6)]
    """
    chosen: list[frozenset[int]] = []
    position: dict[frozenset[int], int] = {}
    for rank, members in enumerate(ranked):
        if len(chosen) >= k:
            break
        candidate = frozenset(int(i) for i in members)
        if candidate in position or any(candidate < c for c in chosen):
            continue
        chosen = [c for c in chosen if not c < candidate]
        chosen.append(candidate)
        position[candidate] = rank
    return [tuple(sorted(c)) for c in sorted(chosen, key=position.__getitem__)]


class GlobalInteractions:
    """Interactions found across instances by :class:`~glider_plugins.Glider`, ranked by count.

    Parameters
    ----------
    counts : mapping of tuple of int to int
        Per interaction (sorted feature ids), the number of instances in whose ``top_k`` it is.
    mean_strength : mapping of tuple of int to float
        Per interaction, its mean local strength over the instances where it appears.
    n_instances : int
        Number of instances explained.
    feature_names : sequence of str
        Names of the p features.
    metadata : dict, optional
        Detector, perturbation, ``n_samples``, ``top_k``, ``seed``, ``detect_seed``, timings, ...

    Attributes
    ----------
    counts : dict of tuple of int to int
        Ranked: most frequent first.
    interactions : list of tuple of int
        The ranked interactions (no pruning).
    """

    def __init__(
        self,
        counts: Mapping[Sequence[int], int],
        mean_strength: Mapping[Sequence[int], float],
        n_instances: int,
        feature_names: Sequence[str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        strength = {_key(k): float(v) for k, v in mean_strength.items()}
        items = [(_key(k), int(c)) for k, c in counts.items()]
        items.sort(key=lambda kc: (-kc[1], -strength.get(kc[0], 0.0), len(kc[0]), kc[0]))
        self.counts: dict[FeatureSet, int] = dict(items)
        self._strength = {k: strength.get(k, 0.0) for k in self.counts}
        self.n_instances = int(n_instances)
        self.feature_names = [str(n) for n in feature_names]
        self.metadata = dict(metadata or {})

    # ------------------------------------------------------------------ ranked views
    @property
    def interactions(self) -> list[FeatureSet]:
        """All interactions, most frequent first (unpruned)."""
        return list(self.counts)

    @property
    def frequency(self) -> dict[FeatureSet, float]:
        """Per interaction, ``count / n_instances`` (ranked order)."""
        n = max(self.n_instances, 1)
        return {k: c / n for k, c in self.counts.items()}

    @property
    def mean_strength(self) -> dict[FeatureSet, float]:
        """Per interaction, its mean local strength where it appears (ranked order)."""
        return dict(self._strength)

    def __len__(self) -> int:
        return len(self.counts)

    def top(self, k: int, prune: bool = True, min_frequency: float = MIN_FREQUENCY) -> list[tuple[FeatureSet, int]]:
        """The ``k`` most frequent interactions as ``(feature_ids, count)``, most frequent first.

        Parameters
        ----------
        k : int
            How many to return. When fewer are available a warning says so and all of them are
            returned.
        prune : bool, default True
            Subset pruning within the top ``k`` (:func:`prune_subsets`): ``(2, 3)`` is not listed
            next to ``(2, 3, 4)``, and a chosen ``(0, 1)`` gives way to a chosen ``(0, 1, 5)``.
        min_frequency : float, default 0.05
            Consider only interactions found in at least this share of the instances; ``0``
            is the paper's rule exactly. With pruning, a rare superset of frequent sets (detector
            noise such as NID's union ``(0, 1, 5, 6)`` of two strong pairs, seen in a few
            instances) would otherwise replace them once ``k`` reaches that far down the ranking.

        Returns
        -------
        list of (tuple of int, int)
        """
        check_int("k", k)
        ranked = self.frequent(min_frequency)
        chosen = prune_subsets(ranked, int(k)) if prune else ranked[: int(k)]
        if len(chosen) < k:
            why = "after subset pruning " if prune and len(ranked) >= k else ""
            rare = f"in at least {min_frequency:.0%} of the instances " if min_frequency > 0 else ""
            _warn_caller(
                f"k={k} is larger than the {len(chosen)} interaction(s) available {rare}{why}"
                f"(found over {self.n_instances} instances); returning {len(chosen)}"
            )
        return [(s, self.counts[s]) for s in chosen]

    def frequent(self, min_frequency: float = MIN_FREQUENCY) -> list[FeatureSet]:
        """Every interaction found in at least ``min_frequency`` of the instances, most frequent
        first (what :meth:`top` chooses from; no pruning, no count asked for, so no warning)."""
        if not 0.0 <= min_frequency <= 1.0:
            raise InputError(f"min_frequency must be between 0 and 1, got {min_frequency!r}")
        least = min_frequency * self.n_instances
        return [s for s, c in self.counts.items() if c >= least]

    def names(self, k: int, prune: bool = True, min_frequency: float = MIN_FREQUENCY) -> list[tuple[str, ...]]:
        """Feature-name tuples of :meth:`top`."""
        return [self.names_of(s) for s, _ in self.top(k, prune, min_frequency)]

    def names_of(self, features: Sequence[int]) -> tuple[str, ...]:
        """Names of the given feature ids."""
        return tuple(self.feature_names[i] for i in features)

    # ------------------------------------------------------------------ exports
    def to_dataframe(self, k: int | None = None, prune: bool = True, min_frequency: float = MIN_FREQUENCY):
        """One row per interaction, most frequent first.

        Parameters
        ----------
        k : int, optional
            Only the rows of :meth:`top` ``(k, prune)``. Default: every interaction, unpruned
            (pruning needs a target K).
        prune, min_frequency
            As in :meth:`top`, when ``k`` is given.

        Returns
        -------
        pandas.DataFrame
            Columns ``features`` (tuple of ids), ``names`` (joined with " x "), ``order``,
            ``count``, ``frequency``, ``mean_strength``.
        """
        import pandas as pd

        chosen = self.interactions if k is None else [s for s, _ in self.top(k, prune, min_frequency)]
        n = max(self.n_instances, 1)
        rows = [
            {
                "features": s,
                "names": " x ".join(self.names_of(s)),
                "order": len(s),
                "count": self.counts[s],
                "frequency": self.counts[s] / n,
                "mean_strength": self._strength[s],
            }
            for s in chosen
        ]
        columns = ["features", "names", "order", "count", "frequency", "mean_strength"]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "n_instances": self.n_instances,
            "feature_names": self.feature_names,
            "interactions": [[list(s), c, self._strength[s]] for s, c in self.counts.items()],
            "metadata": jsonable(self.metadata),
        }

    def to_json(self, path: str | os.PathLike | None = None, indent: int | None = None) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        return write_document(self.to_dict(), path, indent)

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> GlobalInteractions:
        """Load from a JSON string or a file written by :meth:`to_json`.

        Raises
        ------
        InputError
            When ``source`` does not parse or is not a GlobalInteractions document.
        """
        data, label = read_document(source, FORMAT, "GlobalInteractions")
        return cls.from_dict(data, label)

    @classmethod
    def from_dict(cls, data: dict[str, Any], label: str = "data") -> GlobalInteractions:
        try:
            rows = [(tuple(int(i) for i in s), int(c), float(v)) for s, c, v in data["interactions"]]
            return cls(
                counts={s: c for s, c, _ in rows},
                mean_strength={s: v for s, _, v in rows},
                n_instances=int(data["n_instances"]),
                feature_names=list(data["feature_names"]),
                metadata=data.get("metadata") or {},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{label}: a malformed GlobalInteractions document ({type(exc).__name__}: {exc})") from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GlobalInteractions):
            return NotImplemented
        return (
            list(self.counts.items()) == list(other.counts.items())
            and np.allclose(list(self._strength.values()), list(other._strength.values()))
            and self.n_instances == other.n_instances
            and self.feature_names == other.feature_names
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(f"{s}: {c}" for s, c in list(self.counts.items())[:3])
        return f"GlobalInteractions(n_instances={self.n_instances}, n_interactions={len(self)}, top=[{head}{', ...' if len(self) > 3 else ''}])"


def _warn_caller(message: str) -> None:
    """Warn at the first frame outside glider_plugins (the user's call)."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("glider_plugins"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _key(features: Sequence[int]) -> FeatureSet:
    return tuple(sorted(int(i) for i in features))
