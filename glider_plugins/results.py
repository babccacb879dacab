"""Results as plain data: what was found for one instance, for a batch, and globally.

Results never draw themselves (pictures live in :mod:`glider_plugins.visualization`); they export
to JSON, pandas and shapiq (:mod:`glider_plugins.interop.shapiq`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import check_instance
from ._json import jsonable, read_document, write_document
from .errors import InputError
from .set_functions import check_index, index_values, pair_mass, pair_matrix

__all__ = ["AttributionResult", "Interaction", "LocalInteractions"]

#: Format tag of :meth:`AttributionResult.to_json` documents.
FORMAT = "glider_plugins.AttributionResult/1"

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
        self.interactions = [(tuple(int(i) for i in sorted(s)), float(v)) for s, v in self.interactions]
        if self.signed_values is not None:
            self.signed_values = {tuple(int(i) for i in sorted(s)): float(v) for s, v in dict(self.signed_values).items()}
            missing = [s for s, _ in self.interactions if s not in self.signed_values]
            if missing:
                raise ValueError(f"signed_values must hold every reported interaction; missing {missing[:5]}")
        if self.baseline_value is not None:
            self.baseline_value = float(self.baseline_value)
        if self.indices is not None:
            self.indices = {str(name): {tuple(int(i) for i in sorted(m)): float(v) for m, v in dict(values).items()}
                            for name, values in dict(self.indices).items()}

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
            from .interop.shapiq import local_to_shapiq

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
            from .interop.shapiq import local_to_shapiq

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
        from .interop.shapiq import local_index_to_shapiq, local_to_shapiq

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



class AttributionResult(Sequence[LocalInteractions]):
    """What :meth:`InteractionAttribution.attribute_interactions` found for each of N instances.

    ``res[i]`` is the :class:`LocalInteractions` of instance ``i``; ``len(res)`` is N.

    Attributes
    ----------
    instances : list of LocalInteractions
    feature_names : list of str
    feature_mask : tuple of numpy.ndarray
        The feature id of every input element, each ``(1 or N, *shape_k)``; maps main effects back
        onto the inputs in :meth:`attributions`.
    input_shapes : tuple of tuple of int
        Shapes of the explained inputs, ``(N, *shape_k)`` each.
    input_names : tuple of str, optional
        Names when the inputs were a dict.
    input_dtypes : tuple of str, optional
        Per input, the dtype name :meth:`attributions` gives (the input's floating dtype; the
        default float dtype for integer ids). ``None`` (documents written before it was kept):
        float64.
    input_devices : tuple, optional
        Per input, the torch device its attributions go to (not saved by :meth:`to_json`).
    metadata : dict
        Detector, perturbation, n_samples, seed, number of model queries, and the split between
        query time and detection time (``query_seconds``, ``detect_seconds``).
    """

    def __init__(
        self,
        instances: list[LocalInteractions],
        *,
        feature_names: list[str],
        feature_mask: tuple[np.ndarray, ...] = (),
        input_shapes: tuple[tuple[int, ...], ...] = (),
        input_names: tuple[str, ...] | None = None,
        single_input: bool = True,
        torch_tensors: bool = False,
        input_dtypes: tuple[str, ...] | None = None,
        input_devices: tuple[Any, ...] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.instances = list(instances)
        self.feature_names = list(feature_names)
        self.feature_mask = tuple(np.asarray(m) for m in feature_mask)
        self.input_shapes = tuple(tuple(int(d) for d in s) for s in input_shapes)
        self.input_names = input_names
        self.single_input = single_input
        self.torch_tensors = torch_tensors
        self.input_dtypes = tuple(str(d) for d in input_dtypes) if input_dtypes else None
        self.input_devices = tuple(input_devices) if input_devices else None
        self.metadata = dict(metadata or {})

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.instances[index]
        return self.instances[index]

    def __len__(self) -> int:
        return len(self.instances)

    def __iter__(self) -> Iterator[LocalInteractions]:
        return iter(self.instances)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def pairwise(self, index: str | None = None) -> np.ndarray:
        """Every instance's pairs, shape (N, p, p): ``index=None`` the strengths each ranks by,
        ``"Moebius"`` pair masses, ``"BII"`` or ``"k-SII"`` signed indices
        (:meth:`LocalInteractions.pairwise`)."""
        if index is not None:
            check_index(index)  # once, before any instance
        return np.stack([r.pairwise(index) for r in self.instances])

    def main_effects(self) -> np.ndarray:
        """Main effects of every instance, shape (N, p)."""
        return np.stack([r.main_effects for r in self.instances])

    def attributions(self) -> Any:
        """Main effects spread over the inputs' elements, in the shape (and type) of ``inputs``.

        Every element gets the main effect of the feature it belongs to, as Captum's
        perturbation methods return attributions, so ``captum.attr.visualization`` takes them.
        A tuple of tensors for tuple inputs, a dict for dict inputs, torch tensors (on the inputs'
        devices) when the inputs were torch tensors; each in its input's dtype (``input_dtypes``).
        """
        if not self.feature_mask:
            raise ValueError("attributions(): this result has no feature mask (it was loaded without one)")
        effects = self.main_effects()
        dtypes = self.input_dtypes or ("float64",) * len(self.input_shapes)
        out = []
        for mask, shape, dtype in zip(self.feature_mask, self.input_shapes, dtypes):
            ids = np.broadcast_to(mask, shape)
            out.append(np.take_along_axis(effects, ids.reshape(shape[0], -1), axis=1).reshape(shape).astype(dtype))
        if self.torch_tensors:
            import torch

            devices = self.input_devices or (None,) * len(out)
            out = [torch.as_tensor(a, device=device) for a, device in zip(out, devices)]
        if self.input_names is not None:
            return dict(zip(self.input_names, out))
        return out[0] if self.single_input else tuple(out)

    def to_dataframe(self, top_k: int | None = None):
        """Long table: one row per (instance, interaction), strongest first within an instance.

        Columns: ``instance``, ``rank``, ``features`` (tuple of ids), ``names`` (joined with
        " x "), ``order``, ``strength`` (the magnitude ranked by), ``index`` (what it is: the
        instance's :attr:`LocalInteractions.index`) and ``value`` (signed: ``m(S)``, or the pair's
        BII; NaN where the detector has no signed values).
        """
        import pandas as pd

        columns = ["instance", "rank", "features", "names", "order", "strength", "index", "value"]
        rows = []
        for i, local in enumerate(self.instances):
            signed = dict(local.signed_interactions()) if local.index != "Moebius" or local.signed_values is not None else {}
            for rank, (feats, strength) in enumerate(local.top(top_k)):
                names = [self.feature_names[f] for f in feats]
                rows.append(dict(zip(columns, [i, rank, feats, " x ".join(names), len(feats), strength, local.index,
                                               signed.get(feats, float("nan"))], strict=True)))
        return pd.DataFrame(rows, columns=columns)

    def main_effects_dataframe(self):
        """Wide table of main effects: one row per instance, one column per feature name."""
        import pandas as pd

        return pd.DataFrame(self.main_effects(), columns=self.feature_names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "feature_names": self.feature_names,
            "feature_mask": [m.tolist() for m in self.feature_mask],
            "input_shapes": [list(s) for s in self.input_shapes],
            "input_names": list(self.input_names) if self.input_names is not None else None,
            "single_input": self.single_input,
            "input_dtypes": list(self.input_dtypes) if self.input_dtypes is not None else None,
            "metadata": jsonable(self.metadata),
            "instances": [r.to_dict() for r in self.instances],
        }

    def to_json(self, path: str | os.PathLike | None = None, indent: int | None = None) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        return write_document(self.to_dict(), path, indent)

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> AttributionResult:
        """Load from a JSON string or a file path written by :meth:`to_json`."""
        data, _ = read_document(source, FORMAT, "AttributionResult")
        return cls(
            [LocalInteractions.from_dict(d) for d in data["instances"]],
            feature_names=data["feature_names"],
            feature_mask=tuple(np.asarray(m, dtype=np.int64) for m in data["feature_mask"]),
            input_shapes=tuple(tuple(s) for s in data["input_shapes"]),
            input_names=tuple(data["input_names"]) if data.get("input_names") is not None else None,
            single_input=bool(data.get("single_input", True)),
            input_dtypes=data.get("input_dtypes"),
            metadata=data.get("metadata") or {},
        )

    def to_shapiq(self, instance: int | None = None, reported_only: bool = False, index: str = "Moebius") -> Any:
        """The results as shapiq ``InteractionValues``, per instance.

        Parameters
        ----------
        instance : int, optional
            One instance's values; ``None``: a list with one per instance.
        reported_only : bool, default False
            See :meth:`LocalInteractions.to_shapiq`.
        index : {"Moebius", "BII", "k-SII"}, default "Moebius"
            The pure effects, or an order-2 index (:meth:`LocalInteractions.to_shapiq`).

        Raises
        ------
        InputError
            For an ``instance`` out of range, another ``index``, or a detector without signed pure
            effects.
        """
        check_index(index)
        if instance is None:
            return [item.to_shapiq(reported_only, index) for item in self.instances]
        check_instance(instance, len(self))
        return self.instances[int(instance)].to_shapiq(reported_only, index)

    def __repr__(self) -> str:
        return f"AttributionResult(n_instances={len(self)}, n_features={self.n_features}, detector={self.metadata.get('detector')!r})"

