"""Wide & Deep (Cheng et al., 2016): a linear model over the ids plus an MLP over the embeddings.

The "wide" cross-product transformations of the paper are the cross features: pass them as extra
categorical fields and the wide part learns one weight per cross id.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import CTRModel, LinearPart, mlp

__all__ = ["WideDeep"]


class WideDeep(CTRModel):
    """``logit = wide(ids, dense) + deep([emb_1, ..., emb_F, dense])``.

    Parameters
    ----------
    cardinalities, n_dense, embed_dim
        See :class:`~glider_plugins.recsys.base.CTRModel`.
    hidden : sequence of int, default (64, 32)
        Widths of the deep part's hidden layers.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    name = "widedeep"

    def __init__(self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, hidden: Sequence[int] = (64, 32), dropout: float = 0.0) -> None:
        super().__init__(cardinalities, n_dense, embed_dim, hidden=list(hidden), dropout=dropout)
        self.wide = LinearPart(self.cardinalities, self.n_dense)
        self.deep, width = mlp(self.n_fields * self.embed_dim + self.n_dense, hidden, dropout)
        self.head = nn.Linear(width, 1)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.wide(cat_ids, dense) + self.head(self.deep(self.deep_input(emb, dense)))
