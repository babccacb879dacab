"""Shared pieces of the target recommenders: the data container, embeddings, the model base class.

Conventions used by every model in :mod:`glider_plugins.recsys`:

* categorical fields are int64 ids of shape (N, F); field ``f`` takes ids ``0..cardinalities[f]-1``
  and id 0 means missing or out of vocabulary (OOV) in every field;
* dense fields are finite float32 values of shape (N, D) (D may be 0);
* a model is called as ``model(cat_ids, dense)`` and returns one logit per row, shape (N, 1), so it
  exports to ONNX with a dynamic batch axis (:func:`export_onnx`) and is explained by
  :class:`glider_plugins.InteractionAttribution` with ``inputs=(cat_ids, dense)``;
* cross features are just more categorical columns (:meth:`CTRDataset.with_categorical`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import InputError

__all__ = ["CTRDataset", "CTRModel", "FieldEmbedding", "LinearPart", "check_compatible", "export_onnx", "mlp"]


def _names(names: Sequence[str] | None, n: int, prefix: str, arg: str) -> tuple[str, ...]:
    if names is None:
        return tuple(f"{prefix}{i}" for i in range(n))
    names = tuple(str(x) for x in names)
    if len(names) != n:
        raise InputError(f"{arg}: expected {n} names, got {len(names)}")
    return names


@dataclass(frozen=True)
class CTRDataset:
    """Categorical ids, dense values and click labels of N rows, ready for the models.

    Parameters
    ----------
    cat : array of int, shape (N, F)
        Field ids; ``cat[:, f]`` lies in ``0..cardinalities[f]-1`` and 0 is missing/OOV.
    dense : array of float, shape (N, D)
        Finite dense values (D may be 0). Default: no dense fields.
    labels : array of {0, 1}, shape (N,), optional
        Click labels; ``None`` for data that is only scored.
    cardinalities : sequence of int, length F, optional
        Number of ids of each field, id 0 included. Default: ``cat.max(axis=0) + 1``.
    cat_names, dense_names : sequence of str, optional
        Field names. Default: ``C0, C1, ...`` and ``I0, I1, ...``.
    """

    cat: np.ndarray
    dense: np.ndarray = field(default=None)  # type: ignore[assignment]
    labels: np.ndarray | None = None
    cardinalities: tuple[int, ...] = field(default=None)  # type: ignore[assignment]
    cat_names: tuple[str, ...] = field(default=None)  # type: ignore[assignment]
    dense_names: tuple[str, ...] = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        cat = np.asarray(self.cat)
        if cat.ndim != 2 or not np.issubdtype(cat.dtype, np.integer):
            raise InputError(f"cat: expected a 2-D integer array (N, F), got dtype {cat.dtype} and shape {cat.shape}")
        cat = cat.astype(np.int64, copy=False)
        n = cat.shape[0]
        dense = np.zeros((n, 0), np.float32) if self.dense is None else np.asarray(self.dense, dtype=np.float32)
        if dense.ndim != 2 or dense.shape[0] != n:
            raise InputError(f"dense: expected shape ({n}, D), got {dense.shape}")
        if not np.isfinite(dense).all():
            raise InputError("dense: contains NaN or infinite values; impute or bin them first (CTRPreprocessor)")
        cards = self._cardinalities(cat)
        object.__setattr__(self, "cat", cat)
        object.__setattr__(self, "dense", dense)
        object.__setattr__(self, "labels", self._labels(n))
        object.__setattr__(self, "cardinalities", cards)
        object.__setattr__(self, "cat_names", _names(self.cat_names, cat.shape[1], "C", "cat_names"))
        object.__setattr__(self, "dense_names", _names(self.dense_names, dense.shape[1], "I", "dense_names"))

    def _cardinalities(self, cat: np.ndarray) -> tuple[int, ...]:
        if cat.size and cat.min() < 0:
            raise InputError(f"cat: ids must be >= 0 (0 = missing/OOV), field {int(np.argmin(cat.min(axis=0)))} has {int(cat.min())}")
        seen = cat.max(axis=0) + 1 if cat.size else np.ones(cat.shape[1], np.int64)
        if self.cardinalities is None:
            return tuple(int(max(c, 1)) for c in seen)
        cards = tuple(int(c) for c in self.cardinalities)
        if len(cards) != cat.shape[1] or min(cards, default=1) < 1:
            raise InputError(f"cardinalities: expected {cat.shape[1]} positive counts, got {cards}")
        bad = [f for f in range(len(cards)) if seen[f] > cards[f]]
        if bad:
            f = bad[0]
            raise InputError(f"cat: field {f} has id {int(seen[f]) - 1}, outside its vocabulary (cardinalities[{f}] = {cards[f]})")
        return cards

    def _labels(self, n: int) -> np.ndarray | None:
        if self.labels is None:
            return None
        labels = np.asarray(self.labels, dtype=np.float32).reshape(-1)
        if labels.shape[0] != n or not np.isin(labels, (0.0, 1.0)).all():
            raise InputError(f"labels: expected {n} values in {{0, 1}}, got shape {labels.shape}")
        return labels

    def __len__(self) -> int:
        return int(self.cat.shape[0])

    @property
    def n_cat(self) -> int:
        """Number of categorical fields F."""
        return int(self.cat.shape[1])

    @property
    def n_dense(self) -> int:
        """Number of dense fields D."""
        return int(self.dense.shape[1])

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the interpretable features: categorical fields, then dense fields."""
        return self.cat_names + self.dense_names

    def feature_mask(self) -> tuple[np.ndarray, np.ndarray]:
        """Captum-style feature mask of ``(cat_ids, dense)``: field f is feature f, dense j is F + j."""
        return np.arange(self.n_cat)[None], self.n_cat + np.arange(self.n_dense)[None]

    def subset(self, index: np.ndarray | slice) -> CTRDataset:
        """The rows ``index`` (boolean mask, integer indices or slice), same fields and cardinalities."""
        labels = None if self.labels is None else self.labels[index]
        return CTRDataset(self.cat[index], self.dense[index], labels, self.cardinalities, self.cat_names, self.dense_names)

    def with_categorical(self, ids: np.ndarray, cardinalities: Sequence[int] | None = None, names: Sequence[str] | None = None) -> CTRDataset:
        """Append categorical columns (e.g. cross features) after the existing fields.

        Parameters
        ----------
        ids : array of int, shape (N, K)
            The new fields' ids, 0 = missing/OOV.
        cardinalities : sequence of int, length K, optional
            Their vocabulary sizes. Pass the encoder's sizes so that train, valid and test agree;
            default: ``ids.max(axis=0) + 1``.
        names : sequence of str, optional
            Their names; default ``X0, X1, ...``.
        """
        ids = np.asarray(ids)
        ids = ids.reshape(-1, 1) if ids.ndim == 1 else ids
        if ids.shape[0] != len(self):
            raise InputError(f"ids: expected {len(self)} rows, got {ids.shape[0]}")
        extra = CTRDataset(ids, None, None, cardinalities, _names(names, ids.shape[1], "X", "names"))
        return CTRDataset(
            np.concatenate([self.cat, extra.cat], axis=1), self.dense, self.labels,
            self.cardinalities + extra.cardinalities, self.cat_names + extra.cat_names, self.dense_names,
        )

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cat_ids, dense)`` as torch tensors (int64 (N, F), float32 (N, D)), the model's inputs."""
        return torch.from_numpy(self.cat), torch.from_numpy(self.dense)


def check_compatible(model: CTRModel, data: CTRDataset, arg: str = "data") -> None:
    """Raise :class:`InputError` naming the field when ``data`` does not fit ``model``'s inputs."""
    if data.n_cat != model.n_fields or data.n_dense != model.n_dense:
        raise InputError(
            f"{arg}: the model takes {model.n_fields} categorical and {model.n_dense} dense fields, "
            f"the data has {data.n_cat} ({', '.join(data.cat_names)}) and {data.n_dense}"
        )
    for f, (seen, known) in enumerate(zip(data.cardinalities, model.cardinalities)):
        if seen > known and int(data.cat[:, f].max(initial=0)) >= known:
            raise InputError(f"{arg}: field {data.cat_names[f]!r} has ids up to {seen - 1}, outside the model's vocabulary 0..{known - 1}")


class FieldEmbedding(nn.Module):
    """One embedding table for all fields, with per-field offsets.

    Ids outside a field's range ``0..cardinalities[f]-1`` are read as id 0 (missing/OOV), so the
    module (and its ONNX export) never indexes another field's rows.

    Parameters
    ----------
    cardinalities : sequence of int
        Ids per field (id 0 included).
    dim : int
        Embedding size.
    init_std : float, default 0.01
        Standard deviation of the normal initialisation.
    """

    def __init__(self, cardinalities: Sequence[int], dim: int, init_std: float = 0.01) -> None:
        super().__init__()
        cards = torch.as_tensor([int(c) for c in cardinalities], dtype=torch.int64)
        self.register_buffer("cardinalities", cards)
        self.register_buffer("offsets", torch.cumsum(cards, 0) - cards)
        self.table = nn.Embedding(int(cards.sum()), dim)
        nn.init.normal_(self.table.weight, std=init_std)

    def forward(self, cat_ids: torch.Tensor) -> torch.Tensor:
        """(N, F) int64 ids -> (N, F, dim) embeddings."""
        valid = (cat_ids >= 0) & (cat_ids < self.cardinalities)
        return self.table(torch.where(valid, cat_ids, torch.zeros_like(cat_ids)) + self.offsets)


class LinearPart(nn.Module):
    """The wide/linear term: one weight per categorical id, a linear map of the dense values, a bias.

    ``forward(cat_ids (N, F), dense (N, D)) -> (N, 1)``.
    """

    def __init__(self, cardinalities: Sequence[int], n_dense: int) -> None:
        super().__init__()
        self.weights = FieldEmbedding(cardinalities, 1, init_std=0.0)
        self.dense = nn.Linear(n_dense, 1, bias=False) if n_dense else None
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, cat_ids: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        out = self.weights(cat_ids).sum(dim=1) + self.bias
        return out + self.dense(dense) if self.dense is not None else out


def mlp(in_dim: int, hidden: Sequence[int], dropout: float = 0.0) -> tuple[nn.Sequential, int]:
    """Linear -> ReLU (-> Dropout) blocks; returns the network and its output width."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, int(width)), nn.ReLU()]
        layers += [nn.Dropout(dropout)] if dropout > 0 else []
        in_dim = int(width)
    return nn.Sequential(*layers), in_dim


class CTRModel(nn.Module):
    """Base class: ``model(cat_ids (N, F) int64, dense (N, D) float32) -> logits (N, 1)``.

    Subclasses set ``name`` and implement :meth:`logit`; the base class owns the shared
    :class:`FieldEmbedding` (``self.embedding``) and keeps the constructor arguments in
    ``self.config`` so that ``make_model(model.name, **model.config)`` rebuilds the architecture.

    Parameters
    ----------
    cardinalities : sequence of int
        Ids per categorical field, id 0 (missing/OOV) included; cross fields are more entries.
    n_dense : int
        Number of dense fields (0 allowed).
    embed_dim : int, default 8
        Embedding size of every field.
    """

    name: ClassVar[str] = "base"
    input_names: ClassVar[tuple[str, str]] = ("cat_ids", "dense")

    def __init__(self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, **hyper: Any) -> None:
        super().__init__()
        cards = tuple(int(c) for c in cardinalities)
        if not cards or min(cards) < 1:
            raise InputError(f"cardinalities: expected at least one field with a positive count, got {cards}")
        if int(n_dense) < 0 or int(embed_dim) < 1:
            raise InputError(f"n_dense/embed_dim: expected n_dense >= 0 and embed_dim >= 1, got {n_dense} and {embed_dim}")
        self.cardinalities, self.n_dense, self.embed_dim = cards, int(n_dense), int(embed_dim)
        self.config: dict[str, Any] = {"cardinalities": list(cards), "n_dense": self.n_dense, "embed_dim": self.embed_dim, **hyper}
        self.embedding = FieldEmbedding(cards, self.embed_dim)

    @property
    def n_fields(self) -> int:
        """Number of categorical fields F."""
        return len(self.cardinalities)

    def forward(self, cat_ids: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """(N, F) int64 ids, (N, D) float32 values -> (N, 1) logits."""
        out = self.logit(cat_ids, dense, self.embedding(cat_ids))
        # with D = 0 this adds an exact zero that keeps `dense` an input of the exported graph
        return out if self.n_dense else out + dense.sum(dim=1, keepdim=True)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """(N, F) ids, (N, D) dense, (N, F, E) embeddings -> (N, 1) logits."""
        raise NotImplementedError

    def deep_input(self, emb: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """Flattened embeddings followed by the dense values, (N, F * E + D)."""
        return torch.cat([emb.flatten(1), dense], dim=1) if self.n_dense else emb.flatten(1)


def export_onnx(model: CTRModel, path: str | Path, *, opset_version: int | None = None) -> Path:
    """Export ``model`` to ONNX (TorchScript exporter) with a dynamic batch axis.

    Inputs ``cat_ids`` (int64, (N, F)) and ``dense`` (float32, (N, D)); output ``logit`` (N, 1).
    """
    path = Path(path)
    cat = torch.zeros((2, model.n_fields), dtype=torch.int64)
    dense = torch.zeros((2, model.n_dense), dtype=torch.float32)
    axes = {name: {0: "batch"} for name in (*model.input_names, "logit")}
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                model, (cat, dense), str(path), input_names=list(model.input_names), output_names=["logit"],
                dynamic_axes=axes, dynamo=False, **({"opset_version": opset_version} if opset_version else {}),
            )
    finally:
        model.train(was_training)
    return path
