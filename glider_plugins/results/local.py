"""LocalInteractions: what was found around one instance, as plain data.

The interactions ranked by strength, main effects, pairs, the signed pure effects and indices the
detector estimated; exports to a plain dict (JSON) and to shapiq
(:mod:`glider_plugins.interop.shapiq`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._json import jsonable
from ..errors import InputError
from ..set_functions import check_index, index_values, pair_mass, pair_matrix

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
    signed_values : dict (tuple of int -> float), optional
        The signed pure effect ``m(S)`` (Moebius coefficient, output units) of every set of two or
        more features the detector estimated as non-zero: the reported ``interactions`` and the
        fitted sets that were not reported. A reported set's strength is ``|m(S)|``. ``None``
        when the detector's strengths are not signed pure effects (NID with ``refit=False``).
    baseline_value : float, optional
        ``m({})``: the model's output with every feature off (background-averaged with a
        ``Background``); ``None`` when ``signed_values`` is.
    indices : dict (str -> dict (tuple of int -> float)), optional
        Interaction indices the detector estimated directly, by shapiq's name (``"BII"``,
        ``"k-SII"``): each one's value of the empty set, every feature and every pair. ``None``
        when they follow from the pure effects (:meth:`index_values` converts those).

    Notes
    -----
    The index ``interactions`` and ``pairwise_strengths`` rank by is ``metadata["index"]``
    (:attr:`index`): ``"Moebius"`` (pure effects; a pair's strength is its mass) unless the
    detector says otherwise (``"BII"`` for the ``"fourier"`` detector on dense models).
    """

    interactions: list[Interaction]
    main_effects: np.ndarray
    pairwise_strengths: np.ndarray
    feature_names: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    signed_values: dict[tuple[int, ...], float] | None = None
    baseline_value: float | None = None
    indices: dict[str, dict[tuple[int, ...], float]] | None = None

    def __post_init__(self) -> None:
        self.main_effects = np.asarray(self.main_effects, dtype=np.float64)
        self.pairwise_strengths = np.asarray(self.pairwise_strengths, dtype=np.float64)
        p = self.main_effects.shape[0]
        if self.pairwise_strengths.shape != (p, p):
            raise ValueError(f"pairwise_strengths must have shape ({p}, {p}), got {self.pairwise_strengths.shape}")
        self.interactions = [(_members(s), float(v)) for s, v in self.interactions]
        if self.signed_values is not None:
            self.signed_values = {_members(s): float(v) for s, v in dict(self.signed_values).items()}
            missing = [s for s, _ in self.interactions if s not in self.signed_values]
            if missing:
                raise ValueError(f"signed_values must hold every reported interaction; missing {missing[:5]}")
        if self.baseline_value is not None:
            self.baseline_value = float(self.baseline_value)
        if self.indices is not None:
            self.indices = {str(name): {_members(m): float(v) for m, v in dict(values).items()}
                            for name, values in dict(self.indices).items()}

    @classmethod
    def unchecked(cls, interactions: list[Interaction], main_effects: np.ndarray, pairwise_strengths: np.ndarray, *,
                  metadata: dict[str, Any], signed_values: dict[tuple[int, ...], float] | None = None,
                  baseline_value: float | None = None, indices: dict[str, dict[tuple[int, ...], float]] | None = None,
                  feature_names: list[str] | None = None) -> LocalInteractions:
        """A result from fields already in the form the constructor gives them, taken as they are:
        sets as sorted tuples of Python ints, values as Python floats, float64 arrays of shapes
        (p,) and (p, p), every reported set in ``signed_values``. For detectors that build them so
        (hundreds of pairs an instance: the constructor's conversion would cost more than the fit)."""
        result = cls.__new__(cls)
        result.__dict__.update(interactions=interactions, main_effects=main_effects, pairwise_strengths=pairwise_strengths,
                               feature_names=feature_names, metadata=metadata, signed_values=signed_values,
                               baseline_value=baseline_value, indices=indices)
        return result

    @property
    def n_features(self) -> int:
        return int(self.main_effects.shape[0])

    @property
    def index(self) -> str:
        """The index ``interactions`` and ``pairwise_strengths`` rank by (``metadata["index"]``,
        ``"Moebius"`` when the detector does not say)."""
        return str(self.metadata.get("index", "Moebius"))

    def pairwise(self, index: str | None = None) -> np.ndarray:
        """Each pair's interaction, a symmetric (p, p) array with a zero diagonal.

        Parameters
        ----------
        index : {None, "Moebius", "BII", "k-SII"}
            ``None``: the strengths the result ranks by (:attr:`index`, unsigned). ``"Moebius"``:
            each pair's mass ``sum |m(S)|`` over the sets holding it. ``"BII"``, ``"k-SII"``: the
            signed Banzhaf or Shapley interaction of the pair (output units), estimated by the
            detector or converted from its pure effects (:meth:`index_values`).

        Raises
        ------
        InputError
            For another ``index``, or an index the result cannot give (NID with ``refit=False``
            has no pure effects to convert).
        """
        if index is None or (index == "Moebius" and self.index == "Moebius"):
            return self.pairwise_strengths
        if check_index(index) == "Moebius":
            effects = self._pure_effects()
            return pair_mass(self.n_features, list(effects), np.array(list(effects.values())))
        return pair_matrix(self.n_features, self.index_values(index))

    def index_values(self, index: str) -> dict[tuple[int, ...], float]:
        """The values of an order-2 index for the empty set, every feature and every pair.

        ``"BII"`` or ``"k-SII"`` as the detector estimated them (:attr:`indices`), else converted
        from the pure effects (``baseline_value``, ``main_effects``, ``signed_values``) by
        :func:`glider_plugins.set_functions.index_values`.
        """
        if index not in ("BII", "k-SII"):
            raise InputError(f"index: expected 'BII' or 'k-SII' (the pure effects are signed_values), got {index!r}")
        if self.indices is not None and index in self.indices:
            return dict(self.indices[index])
        effects = self._pure_effects()
        return index_values(self.n_features, list(effects), np.array(list(effects.values())), index)

    def _pure_effects(self) -> dict[tuple[int, ...], float]:
        """Every estimated ``m(S)``: the empty set, the features, and ``signed_values``."""
        if self.signed_values is None or self.baseline_value is None:
            from ..interop.shapiq import local_to_shapiq

            local_to_shapiq(self)  # raises, naming the detector
        effects = {(): float(self.baseline_value)}  # type: ignore[arg-type]
        effects.update(((i,), float(v)) for i, v in enumerate(self.main_effects))
        effects.update(self.signed_values)  # type: ignore[arg-type]
        return effects

    @property
    def present_features(self) -> list[int]:
        """The features of this instance: all ``p`` but those its own mask left without elements
        (``metadata["absent_features"]``: an image with fewer superpixels than the batch's most)."""
        absent = set(self.metadata.get("absent_features", []))
        return [i for i in range(self.n_features) if i not in absent]

    def embedded(self, present: Sequence[int], n_features: int) -> LocalInteractions:
        """This result, found on an instance's own features, among ``n_features``: its feature ``i``
        becomes ``present[i]`` (ascending); the others are absent (``metadata["absent_features"]``),
        with no effect: zero main effects, pairs and index values (a feature that covers no element
        of the instance is a null player of its game).

        Parameters
        ----------
        present : sequence of int, length :attr:`n_features`
            The ids of this result's features among ``n_features``, ascending.
        n_features : int
            The batch's number of features.
        """
        ids = np.asarray(present, dtype=np.int64)
        if ids.shape != (self.n_features,) or np.any(np.diff(ids) <= 0) or ids.min(initial=0) < 0 or ids.max(initial=-1) >= n_features:
            raise InputError(f"present: expected {self.n_features} ascending feature ids below n_features={n_features}, got {ids.tolist()}")
        absent = np.setdiff1d(np.arange(n_features), ids)

        def moved(features: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(int(ids[i]) for i in features)

        main = np.zeros(n_features)
        main[ids] = self.main_effects
        pairs = np.zeros((n_features, n_features))
        pairs[np.ix_(ids, ids)] = self.pairwise_strengths
        indices = None
        if self.indices is not None:
            nulls = {(int(i),): 0.0 for i in absent} | {_members((int(i), j)): 0.0 for i in absent for j in range(n_features) if j != i}
            indices = {name: {moved(m): v for m, v in values.items()} | nulls for name, values in self.indices.items()}
        metadata = dict(self.metadata)
        if absent.size:
            metadata["absent_features"] = absent.tolist()
        return LocalInteractions(
            interactions=[(moved(s), v) for s, v in self.interactions],
            main_effects=main,
            pairwise_strengths=pairs,
            feature_names=self.feature_names,
            metadata=metadata,
            signed_values=None if self.signed_values is None else {moved(s): v for s, v in self.signed_values.items()},
            baseline_value=self.baseline_value,
            indices=indices,
        )

    def top(self, k: int | None = None, order: int | None = None, names: bool = False) -> list[tuple[tuple[Any, ...], float]]:
        """The ``k`` strongest interactions, optionally only those of one ``order``; with
        ``names=True`` each set as its features' names (:attr:`feature_names`, e.g. a
        DataFrame's columns; ``x0, x1, ...`` when none were given) instead of their indices."""
        chosen = [it for it in self.interactions if order is None or len(it[0]) == order]
        chosen = chosen if k is None else chosen[:k]
        return [(self.names_of(features), strength) for features, strength in chosen] if names else chosen

    def signed_interactions(self) -> list[Interaction]:
        """The reported ``interactions`` with their signed value of :attr:`index` (``m(S)`` for pure
        effects, a pair's signed BII for ``"BII"``) instead of its magnitude, same order.

        Raises
        ------
        InputError
            When the detector's strengths are not signed pure effects (``signed_values`` is ``None``).
        """
        if self.index != "Moebius":
            values = self.index_values(self.index)
            return [(s, values[s]) for s, _ in self.interactions]
        if self.signed_values is None:
            from ..interop.shapiq import local_to_shapiq

            local_to_shapiq(self)  # raises, naming the detector
        return [(s, self.signed_values[s]) for s, _ in self.interactions]  # type: ignore[index]

    def to_shapiq(self, reported_only: bool = False, index: str = "Moebius") -> Any:
        """The result as ``shapiq.InteractionValues`` (output units).

        ``index="Moebius"``: the pure effects; ``iv[()]`` (and ``iv.baseline_value``) is ``m({})``,
        ``iv[(i,)]`` the main effect ``m({i})``, ``iv[S]`` the signed ``m(S)`` of every set the
        detector estimated (or, with ``reported_only=True``, of the reported ``interactions``
        only); sets not estimated are 0 (:func:`glider_plugins.interop.shapiq.local_to_shapiq`).
        ``index="BII"`` or ``"k-SII"``: that index of order 2 (:meth:`index_values`) as shapiq's
        ``ExactComputer`` gives it, ``baseline_value`` the output with every feature off.

        Raises
        ------
        InputError
            When the strengths are not signed pure effects (NID with ``refit=False``): the message
            names the detector and the detectors to use instead; for another ``index``.
        """
        from ..interop.shapiq import local_index_to_shapiq, local_to_shapiq

        if check_index(index) == "Moebius":
            return local_to_shapiq(self, reported_only=reported_only)
        return local_index_to_shapiq(self, index)

    def names_of(self, features: Sequence[int]) -> tuple[str, ...]:
        names = self.feature_names or [f"x{i}" for i in range(self.n_features)]
        return tuple(names[i] for i in features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "interactions": [[list(s), v] for s, v in self.interactions],
            "main_effects": self.main_effects.tolist(),
            "pairwise_strengths": self.pairwise_strengths.tolist(),
            "feature_names": self.feature_names,
            "metadata": jsonable(self.metadata),
            "signed_values": None if self.signed_values is None else [[list(s), v] for s, v in self.signed_values.items()],
            "baseline_value": self.baseline_value,
            "indices": None if self.indices is None else {
                name: [[list(s), v] for s, v in values.items()] for name, values in self.indices.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocalInteractions:
        return cls(
            interactions=[(tuple(s), float(v)) for s, v in data["interactions"]],
            main_effects=np.asarray(data["main_effects"], dtype=np.float64),
            pairwise_strengths=np.asarray(data["pairwise_strengths"], dtype=np.float64),
            feature_names=data.get("feature_names"),
            metadata=dict(data.get("metadata") or {}),
            signed_values=None if data.get("signed_values") is None else {tuple(s): float(v) for s, v in data["signed_values"]},
            baseline_value=data.get("baseline_value"),
            indices=None if data.get("indices") is None else {
                name: {tuple(s): float(v) for s, v in values} for name, values in data["indices"].items()},
        )


def _members(features: Any) -> tuple[int, ...]:
    """A set of features as results hold it: a sorted tuple of Python ints (a pair already so, as
    the built-in detectors give most of them, is kept as it is)."""
    if type(features) is tuple and len(features) == 2 and type(features[0]) is int and type(features[1]) is int \
            and features[0] < features[1]:
        return features
    return tuple(sorted(map(int, features)))
