"""Deep & Cross Network (Wang et al., 2017): an explicit cross network beside an MLP."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import InputError
from .base import CTRModel, mlp

__all__ = ["DCN", "CrossNetwork"]


class CrossNetwork(nn.Module):
    """``x_{l+1} = x_0 * (x_l w_l) + b_l + x_l`` (``"vector"``, DCN) or
    ``x_0 * (W_l x_l + b_l) + x_l`` (``"matrix"``, DCN-V2); (N, K) -> (N, K)."""

    def __init__(self, width: int, n_layers: int, parameterization: str = "vector") -> None:
        super().__init__()
        if parameterization not in ("vector", "matrix"):
            raise InputError(f"parameterization: expected 'vector' or 'matrix', got {parameterization!r}")
        self.vector = parameterization == "vector"
        out = 1 if self.vector else width
        self.layers = nn.ModuleList(nn.Linear(width, out, bias=not self.vector) for _ in range(n_layers))
        self.biases = nn.Parameter(torch.zeros(n_layers, width)) if self.vector else None

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x = x0
        for i, layer in enumerate(self.layers):
            x = x0 * layer(x) + self.biases[i] + x if self.biases is not None else x0 * layer(x) + x
        return x


class DCN(CTRModel):
    """``logit = head([cross(x0), deep(x0)])`` with ``x0 = [emb_1, ..., emb_F, dense]``.

    Parameters
    ----------
    cardinalities, n_dense, embed_dim
        See :class:`~glider_plugins.recsys.base.CTRModel`.
    cross_layers : int, default 2
        Number of cross layers.
    parameterization : {"vector", "matrix"}, default "vector"
        DCN's rank-one weight vector, or DCN-V2's full matrix per cross layer.
    hidden : sequence of int, default (64, 32)
        Widths of the deep part's hidden layers (empty: cross network only).
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    name = "dcn"

    def __init__(
        self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, cross_layers: int = 2,
        parameterization: str = "vector", hidden: Sequence[int] = (64, 32), dropout: float = 0.0,
    ) -> None:
        super().__init__(cardinalities, n_dense, embed_dim, cross_layers=cross_layers, parameterization=parameterization, hidden=list(hidden), dropout=dropout)
        width = self.n_fields * self.embed_dim + self.n_dense
        self.cross = CrossNetwork(width, int(cross_layers), parameterization)
        self.deep, deep_width = mlp(width, hidden, dropout)
        self.head = nn.Linear(width + (deep_width if hidden else 0), 1)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        x0 = self.deep_input(emb, dense)
        parts = [self.cross(x0), self.deep(x0)] if len(self.deep) else [self.cross(x0)]
        return self.head(torch.cat(parts, dim=1))
