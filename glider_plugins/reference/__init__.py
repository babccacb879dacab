"""Exact local interactions by enumeration (p <= 16): the ground truth for tests, benchmarks and
users who want to check a detector on their own small model.

>>> from glider_plugins.reference import exact_interactions       # doctest: +SKIP
>>> ref = exact_interactions(model, x, baselines=b)                # 2**p queries per instance
>>> ref.top(0, 5)                                                  # the 5 largest pure effects
>>> ref.pairwise()                                                 # (N, p, p) pair masses
"""

from .compare import compare_with_reference, pair_precision, pair_spearman, top_overlap
from .exact import MAX_FEATURES, ExactInteractions, all_masks, exact_interactions, moebius_transform

__all__ = [
    "MAX_FEATURES",
    "ExactInteractions",
    "all_masks",
    "compare_with_reference",
    "exact_interactions",
    "moebius_transform",
    "pair_precision",
    "pair_spearman",
    "top_overlap",
]
