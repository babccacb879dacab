"""Exact local interactions by enumeration (p <= 16): the ground truth for tests, benchmarks and
users who want to check a detector on their own small model.

>>> from glider_plugins.reference import exact_interactions       # doctest: +SKIP
>>> ref = exact_interactions(model, x, baselines=b)                # 2**p queries per instance
>>> ref.top(0, 5)                                                  # the 5 largest pure effects
>>> ref.pairwise()                                                 # (N, p, p) pair masses
>>> ref.pairwise("BII")                                            # (N, p, p) Banzhaf interactions
"""

from .compare import (
    captured_at_k,
    compare_with_reference,
    faithfulness,
    pair_precision,
    pair_spearman,
    surrogate,
    top_overlap,
)
from .exact import MAX_FEATURES, ExactInteractions, all_masks, exact_interactions, moebius_transform
from .game import MaskGame

__all__ = [
    "MAX_FEATURES",
    "ExactInteractions",
    "MaskGame",
    "all_masks",
    "captured_at_k",
    "compare_with_reference",
    "exact_interactions",
    "faithfulness",
    "moebius_transform",
    "pair_precision",
    "pair_spearman",
    "surrogate",
    "top_overlap",
]
