"""Baselines (the value an "off" feature takes) computed from a table, per column.

``--baseline`` of ``glider explain`` / ``glider global``:

``auto`` (default)
    ``zeros`` for a ``(cat_ids, dense)`` recommender (id 0 is the missing id there, and the dense
    columns are standardised), else ``median`` for float columns and ``mode`` for id columns:
    a typical row, inside the data the model was trained on (zero can lie far outside it, e.g.
    a tumour's area of 0).
``median``, ``mean``
    Per float column, over every row of ``--data``. Integer (id) columns take their ``mode``: an
    average of ids is no id.
``mode``
    The most frequent value of each column (the smallest on ties).
``zeros``
    0 everywhere.
FILE
    A CSV/Parquet file of one row holding (at least) every column the model takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .model_inputs import MappedInputs, ModelInput
from .tabular import read_table

__all__ = ["BASELINE_KINDS", "table_baselines"]

#: The named ``--baseline`` kinds (anything else is a file).
BASELINE_KINDS = ("auto", "median", "mean", "mode", "zeros")


def table_baselines(mapped: MappedInputs, how: str = "auto", recommender: bool = False) -> tuple[np.ndarray, ...]:
    """One baseline row per input, shaped to broadcast against it (``(1, d)``, or ``(1,)``).

    Parameters
    ----------
    mapped : MappedInputs
        The table cut into the model's inputs; statistics are taken over all its rows.
    how : str, default "auto"
        One of :data:`BASELINE_KINDS` or the path of a one-row CSV/Parquet file (module docstring).
    recommender : bool, default False
        The model has the ``(cat_ids, dense)`` signature: ``auto`` means ``zeros``.

    Raises
    ------
    InputError
        Naming ``--baseline``: a file that is missing, has more than one row, lacks columns, or
        holds values of the wrong kind.
    """
    if how not in BASELINE_KINDS:
        return _from_file(mapped, how)
    if how == "auto":
        how = "zeros" if recommender else "median"
    rows = []
    for spec, values in zip(mapped.inputs, mapped.arrays):
        table = values.reshape(values.shape[0], -1)
        if how == "zeros":
            row = np.zeros(table.shape[1])
        elif how == "mode" or spec.kind == "int":
            row = np.array([_mode(table[:, j]) for j in range(table.shape[1])])
        else:
            row = np.median(table, axis=0) if how == "median" else table.mean(axis=0, dtype=np.float64)
        rows.append(_shaped(row, spec))
    return tuple(rows)


def _mode(column: np.ndarray) -> float:
    values, counts = np.unique(column, return_counts=True)
    return values[np.argmax(counts)]  # np.unique sorts: the smallest of the most frequent


def _shaped(row: np.ndarray, spec: ModelInput) -> np.ndarray:
    row = np.asarray(row).astype(spec.dtype)
    return row if spec.rank == 1 else row[None]


def _from_file(mapped: MappedInputs, path: str) -> tuple[np.ndarray, ...]:
    if not Path(path).is_file():
        raise InputError(f"--baseline: expected one of {list(BASELINE_KINDS)} or a one-row CSV/Parquet file, got {path!r} (no such file)")
    frame = read_table(path, "--baseline")
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) != 1:
        raise InputError(f"--baseline: {path!r} has {len(frame)} rows; a baseline file holds one row")
    missing = [c for c in mapped.columns if c not in frame.columns]
    if missing:
        raise InputError(f"--baseline: {path!r} lacks the columns {missing} that the model takes")
    rows = []
    for spec in mapped.inputs:
        values = frame[list(spec.columns)]
        wrong = [c for c in spec.columns if not _fits(values[c], spec.kind)]
        if wrong:
            what = "integer ids" if spec.kind == "int" else "finite numbers"
            raise InputError(f"--baseline: columns {wrong} of {path!r} feed input {spec.name!r} and must hold {what}, got {values[wrong[0]].iloc[0]!r}")
        rows.append(_shaped(values.to_numpy(dtype=np.float64)[0], spec))
    return tuple(rows)


def _fits(column: pd.Series, kind: str) -> bool:
    if kind == "int":
        return bool(pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column))
    return bool(pd.api.types.is_numeric_dtype(column) and np.isfinite(column.to_numpy(dtype=np.float64, na_value=np.nan)).all())
