"""DeepFM (Guo et al., 2017): linear term + factorisation machine + MLP over shared embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import CTRModel, LinearPart, mlp

__all__ = ["DeepFM", "fm_term"]


def fm_term(emb: torch.Tensor) -> torch.Tensor:
    """Second-order FM term ``sum_{i<j} <e_i, e_j>`` of embeddings (N, F, E) -> (N, 1)."""
    square_of_sum = emb.sum(dim=1).pow(2)
    sum_of_square = emb.pow(2).sum(dim=1)
    return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)


class DeepFM(CTRModel):
    """``logit = linear(ids, dense) + FM(emb) + deep([emb, dense])``; the FM covers categorical fields.

    Parameters
    ----------
    cardinalities, n_dense, embed_dim
        See :class:`~glider_plugins.recsys.base.CTRModel`.
    hidden : sequence of int, default (64, 32)
        Widths of the deep part's hidden layers.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    name = "deepfm"

    def __init__(self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, hidden: Sequence[int] = (64, 32), dropout: float = 0.0) -> None:
        super().__init__(cardinalities, n_dense, embed_dim, hidden=list(hidden), dropout=dropout)
        self.linear = LinearPart(self.cardinalities, self.n_dense)
        self.deep, width = mlp(self.n_fields * self.embed_dim + self.n_dense, hidden, dropout)
        self.head = nn.Linear(width, 1)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        deep = self.head(self.deep(self.deep_input(emb, dense)))
        return self.linear(cat_ids, dense) + fm_term(emb) + deep
