"""Data for the target recommenders: synthetic Criteo-shaped data with planted crosses, MovieLens-100K,
and the paper's preprocessing (rare categories to OOV, log-binned dense values)."""

from __future__ import annotations

from .movielens import (
    MOVIELENS_FIELDS,
    MovieLensNotFoundError,
    load_movielens_100k,
    movielens_100k_path,
)
from .preprocess import CTRPreprocessor, criteo_log_bin, train_valid_test_split
from .synthetic import SyntheticCTR, make_criteo_like

__all__ = [
    "MOVIELENS_FIELDS", "CTRPreprocessor", "MovieLensNotFoundError", "SyntheticCTR", "criteo_log_bin",
    "load_movielens_100k", "make_criteo_like", "movielens_100k_path", "train_valid_test_split",
]
