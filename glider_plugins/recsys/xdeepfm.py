"""xDeepFM (Lian et al., 2018): linear term + Compressed Interaction Network (CIN) + MLP."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import InputError
from .base import CTRModel, LinearPart, mlp

__all__ = ["CIN", "XDeepFM"]


class CIN(nn.Module):
    """Compressed Interaction Network: explicit vector-wise interactions of growing order.

    Layer k computes ``X^k_h = act(sum_{i,j} W^{k,h}_{ij} (X^{k-1}_i * X^0_j))`` (elementwise
    products over the embedding axis, a 1x1 convolution over the (i, j) pairs); each layer's
    feature maps are sum-pooled over the embedding axis. With ``split_half``, half of the maps of
    every layer but the last go to the output and half to the next layer (as in the paper's code).

    ``forward((N, F, E)) -> (N, out_width)``.
    """

    def __init__(self, n_fields: int, layer_sizes: Sequence[int], split_half: bool = True) -> None:
        super().__init__()
        sizes = [int(s) for s in layer_sizes]
        if not sizes or min(sizes) < 1 or (split_half and any(s % 2 for s in sizes[:-1])):
            raise InputError(f"cin_layers: expected positive sizes (even except the last with split_half), got {sizes}")
        self.split_half = split_half
        self.convs = nn.ModuleList()
        self.keep: list[int] = []  # maps passed on to the next layer
        previous, out_width = n_fields, 0
        for k, size in enumerate(sizes):
            self.convs.append(nn.Conv1d(previous * n_fields, size, kernel_size=1))
            last = k == len(sizes) - 1
            previous = size // 2 if split_half and not last else size
            self.keep.append(previous)
            out_width += size - previous if split_half and not last else size
        self.out_width = out_width

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        n, m, e = x0.shape
        x, pooled = x0, []
        for k, conv in enumerate(self.convs):
            z = torch.einsum("nhe,nme->nhme", x, x0).reshape(n, -1, e)
            maps = torch.relu(conv(z))  # (N, size, E)
            last = k == len(self.convs) - 1
            if self.split_half and not last:
                x, out = maps[:, : self.keep[k]], maps[:, self.keep[k] :]
            else:
                x, out = maps, maps
            pooled.append(out.sum(dim=2))
        return torch.cat(pooled, dim=1)


class XDeepFM(CTRModel):
    """``logit = linear(ids, dense) + head(CIN(emb)) + deep([emb, dense])``.

    Parameters
    ----------
    cardinalities, n_dense, embed_dim
        See :class:`~glider_plugins.recsys.base.CTRModel`.
    cin_layers : sequence of int, default (32, 32)
        Feature maps per CIN layer.
    split_half : bool, default True
        Pass half of each CIN layer's maps on and pool the other half.
    hidden : sequence of int, default (64, 32)
        Widths of the deep part's hidden layers.
    dropout : float, default 0.0
        Dropout after each hidden layer.
    """

    name = "xdeepfm"

    def __init__(
        self, cardinalities: Sequence[int], n_dense: int, embed_dim: int = 8, cin_layers: Sequence[int] = (32, 32),
        split_half: bool = True, hidden: Sequence[int] = (64, 32), dropout: float = 0.0,
    ) -> None:
        super().__init__(cardinalities, n_dense, embed_dim, cin_layers=list(cin_layers), split_half=split_half, hidden=list(hidden), dropout=dropout)
        self.linear = LinearPart(self.cardinalities, self.n_dense)
        self.cin = CIN(self.n_fields, cin_layers, split_half)
        self.cin_head = nn.Linear(self.cin.out_width, 1, bias=False)
        self.deep, width = mlp(self.n_fields * self.embed_dim + self.n_dense, hidden, dropout)
        self.head = nn.Linear(width, 1)

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        deep = self.head(self.deep(self.deep_input(emb, dense)))
        return self.linear(cat_ids, dense) + self.cin_head(self.cin(emb)) + deep
