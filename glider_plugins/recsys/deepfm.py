"""DeepFM (Guo et al., 2017): linear term + factorisation machine + MLP over shared embeddings."""

from __future__ import annotations

import torch

from .wide_deep import WideDeep

__all__ = ["DeepFM", "fm_term"]


def fm_term(emb: torch.Tensor) -> torch.Tensor:
    """Second-order FM term ``sum_{i<j} <e_i, e_j>`` of embeddings (N, F, E) -> (N, 1)."""
    square_of_sum = emb.sum(dim=1).pow(2)
    sum_of_square = emb.pow(2).sum(dim=1)
    return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)


class DeepFM(WideDeep):
    """``logit = linear(ids, dense) + FM(emb) + deep([emb, dense])``: Wide&Deep plus the FM term
    over the categorical fields' embeddings.

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

    def logit(self, cat_ids: torch.Tensor, dense: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return super().logit(cat_ids, dense, emb) + fm_term(emb)
