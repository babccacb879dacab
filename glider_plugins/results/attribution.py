"""AttributionResult: the :class:`~glider_plugins.results.LocalInteractions` of a batch.

A sequence of them, with what maps main effects back onto the inputs; exports to pandas, JSON and
shapiq (:mod:`glider_plugins.interop.shapiq`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._checks import check_instance
from .._json import jsonable, read_document, write_document
from ..set_functions import check_index
from .local import LocalInteractions

__all__ = ["FORMAT", "AttributionResult"]

#: Format tag of :meth:`AttributionResult.to_json` documents.
FORMAT = "glider_plugins.AttributionResult/1"


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
        Detector, perturbation, n_samples, seed, number of model queries, and where the time went:
        drawing the masks (``design_seconds``), the model's answers (``query_seconds``), the
        detector's work (``detect_seconds``: ``fit_seconds`` fitting models of the outputs, the
        pure-effect least squares, the Fourier ridge fits or NID's networks, and ``rank_seconds``
        the rest: differences, checks, indices, ranking), all of it (``total_seconds``).
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

