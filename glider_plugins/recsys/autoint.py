"""AutoInt (Song et al., 2019): multi-head self-attention over field embeddings (+ an MLP: AutoInt+).

Dense fields are tokens too, as in the paper: dense field j contributes ``x_j * v_j`` with a learned
vector ``v_j``, so attention can relate dense and categorical fields.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import InputError
from .base import CTRModel, mlp

__all__ = ["AutoInt", "InteractingLayer"]


class InteractingLayer(nn.Module):
    """Multi-head (scaled dot-product) self-attention, residual projection, ReLU; (N, M, d_in) -> (N, M, H * a)."""

    def __init__(self, in_dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.qkv = nn.Linear(in_dim, 3 * heads * head_dim, bias=False)
        self.residual = nn.Linear(in_dim, heads * head_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, _ = x.shape
        q, k, v = self.qkv(x).reshape(n, m, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)  # (N, H, M, a)
        attention = torch.softmax(q @ k.transpose(-1, -2) / self.head_dim**0.5, dim=-1)
        out = (attention @ v).transpose(1, 2).reshape(n, m, self.heads * self.head_dim)
        return torch.relu(out + self.residual(x))


class AutoInt(CTRModel):
    """``logit = head([flatten(attention^L(tokens)), deep([emb, dense])])``.

    Parameters
    ----------
    cardinalities, n_dense, embed_dim
        See :class:`~glider_plugins.recsys.base.CTRModel`.
    attention_layers : int, default 2
        Number of interacting layers.
    heads : int, default 2
        Attention heads per layer.
    head_dim : int, default 8
        Size of each head.
    hidden : sequence of int, default (64, 32)
        Widths of the parallel MLP (AutoInt+); empty for plain AutoInt.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    name = "autoint"

    def __init__(
        self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, attention_layers: int = 2,
        heads: int = 2, head_dim: int = 8, hidden: Sequence[int] = (64, 32), dropout: float = 0.0,
    ) -> None:
        super().__init__(cardinalities, n_dense, embed_dim, attention_layers=attention_layers, heads=heads, head_dim=head_dim, hidden=list(hidden), dropout=dropout)
        if attention_layers < 1 or heads < 1 or head_dim < 1:
            raise InputError(f"attention_layers/heads/head_dim: expected positive values, got {attention_layers}, {heads}, {head_dim}")
        self.dense_vectors = nn.Parameter(torch.randn(self.n_dense, self.embed_dim) * 0.01)
        dims = [self.embed_dim] + [heads * head_dim] * attention_layers
        self.attention = nn.Sequential(*(InteractingLayer(d, heads, head_dim) for d in dims[:-1]))
        self.deep, width = mlp(self.n_fields * self.embed_dim + self.n_dense, hidden, dropout)
        tokens = self.n_fields + self.n_dense
        self.head = nn.Linear(tokens * dims[-1] + (width if hidden else 0), 1)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([emb, dense.unsqueeze(-1) * self.dense_vectors], dim=1) if self.n_dense else emb
        parts = [self.attention(tokens).flatten(1)]
        if len(self.deep):
            parts.append(self.deep(self.deep_input(emb, dense)))
        return self.head(torch.cat(parts, dim=1))
