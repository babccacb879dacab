"""Results as plain data: what was found for one instance, for a batch, and globally.

Results never draw themselves (pictures live in :mod:`glider_plugins.visualization`); they export
to JSON and pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Interaction", "LocalInteractions"]

#: One interaction: the sorted tuple of feature ids that act together, and its strength.
Interaction = tuple[tuple[int, ...], float]


@dataclass
class LocalInteractions:
    """Interactions found around one instance.

    Attributes
    ----------
    interactions : list of (tuple of int, float)
        Interacting feature sets (pairs and higher order), strongest first. Feature ids are
        interpretable-feature ids 0..p-1, each tuple sorted ascending.
    main_effects : numpy.ndarray, shape (p,)
        What each feature does alone: the change in the model's score when the feature is switched
        on (from its baseline to the instance's value), as estimated by the detector.
    pairwise_strengths : numpy.ndarray, shape (p, p)
        Symmetric matrix of pairwise interaction strengths, zero diagonal.
    feature_names : list of str, optional
        Names of the p features.
    metadata : dict
        Detector-specific extras (fit quality, cut-off, timings).
    """

    interactions: list[Interaction]
    main_effects: np.ndarray
    pairwise_strengths: np.ndarray
    feature_names: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.main_effects = np.asarray(self.main_effects, dtype=np.float64)
        self.pairwise_strengths = np.asarray(self.pairwise_strengths, dtype=np.float64)
        p = self.main_effects.shape[0]
        if self.pairwise_strengths.shape != (p, p):
            raise ValueError(f"pairwise_strengths must have shape ({p}, {p}), got {self.pairwise_strengths.shape}")
        self.interactions = [(tuple(int(i) for i in sorted(s)), float(v)) for s, v in self.interactions]

    @property
    def n_features(self) -> int:
        return int(self.main_effects.shape[0])

    def pairwise(self) -> np.ndarray:
        """Symmetric (p, p) matrix of pairwise interaction strengths."""
        return self.pairwise_strengths

    def top(self, k: int | None = None, order: int | None = None) -> list[Interaction]:
        """The ``k`` strongest interactions, optionally only those of one ``order``."""
        chosen = [it for it in self.interactions if order is None or len(it[0]) == order]
        return chosen if k is None else chosen[:k]

    def names_of(self, features: Sequence[int]) -> tuple[str, ...]:
        names = self.feature_names or [f"x{i}" for i in range(self.n_features)]
        return tuple(names[i] for i in features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "interactions": [[list(s), v] for s, v in self.interactions],
            "main_effects": self.main_effects.tolist(),
            "pairwise_strengths": self.pairwise_strengths.tolist(),
            "feature_names": self.feature_names,
            "metadata": _jsonable(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocalInteractions:
        return cls(
            interactions=[(tuple(s), float(v)) for s, v in data["interactions"]],
            main_effects=np.asarray(data["main_effects"], dtype=np.float64),
            pairwise_strengths=np.asarray(data["pairwise_strengths"], dtype=np.float64),
            feature_names=data.get("feature_names"),
            metadata=dict(data.get("metadata") or {}),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
