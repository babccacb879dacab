"""Data for the target recommenders: synthetic Criteo-shaped data with planted crosses, MovieLens-100K,
the UCI census table, the KDD Cup 2004 protein table (74 numeric columns), and the paper's preprocessing (rare categories to OOV, log-binned dense values)."""

from __future__ import annotations

from .census import (
    CENSUS_CATEGORICAL,
    CENSUS_NUMERIC,
    CensusNotFoundError,
    census_path,
    load_census,
)
from .movielens import (
    MOVIELENS_FIELDS,
    MovieLensNotFoundError,
    load_movielens_100k,
    movielens_100k_path,
)
from .preprocess import CTRPreprocessor, criteo_log_bin, train_valid_test_split
from .protein import PROTEIN_FIELDS, ProteinNotFoundError, load_protein, protein_path
from .synthetic import SyntheticCTR, make_criteo_like

__all__ = [
    "CENSUS_CATEGORICAL", "CENSUS_NUMERIC", "CensusNotFoundError", "census_path", "load_census",
    "MOVIELENS_FIELDS", "CTRPreprocessor", "MovieLensNotFoundError", "SyntheticCTR", "criteo_log_bin",
    "load_movielens_100k", "make_criteo_like", "movielens_100k_path", "train_valid_test_split",
    "PROTEIN_FIELDS", "ProteinNotFoundError", "load_protein", "protein_path",
]
