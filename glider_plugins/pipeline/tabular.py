"""Flat tables (CSV/Parquet) in and out, and how a table maps onto a ``(cat_ids, dense)`` model.

The mapping rule (used by the ``glider`` command and :func:`table_inputs`):

* A model with the recommenders' signature has two inputs, ``cat_ids`` (int64, (N, F)) and
  ``dense`` (float32, (N, D)). ``F`` and ``D`` are read from the ONNX input shapes.
* The table's feature columns are given by ``categorical=`` and ``dense=`` (column lists). Without
  them, every column except ``label`` is a feature, **in table order**: the first ``F`` are the
  categorical ids, the next ``D`` the dense values (exactly the layout ``glider demo`` and
  :func:`~glider_plugins.pipeline.run_pipeline` write).
* Models exported by the pipeline carry their field names and vocabulary sizes as ONNX metadata
  (``glider.cat_names``, ``glider.dense_names``, ``glider.cardinalities``); then the columns are
  matched **by name** and ids are checked against the vocabulary.

Feature ``f`` of the detected interactions is categorical field ``f`` for ``f < F`` and dense
field ``f - F`` otherwise; its name is the column's name.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["ModelFields", "TableInputs", "model_fields", "read_table", "table_inputs", "table_kind", "write_table"]

META_CAT, META_DENSE, META_CARDS = "glider.cat_names", "glider.dense_names", "glider.cardinalities"


@dataclass(frozen=True)
class ModelFields:
    """What a ``(cat_ids, dense)`` ONNX model takes.

    Attributes
    ----------
    n_cat, n_dense : int or None
        Categorical and dense fields (None: the shape is dynamic).
    cat_names, dense_names : tuple of str or None
        Field names stored in the model's metadata, if any.
    cardinalities : tuple of int or None
        Vocabulary size of each categorical field (id 0 included), if stored.
    """

    n_cat: int | None
    n_dense: int | None
    cat_names: tuple[str, ...] | None = None
    dense_names: tuple[str, ...] | None = None
    cardinalities: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TableInputs:
    """A table cut into model inputs.

    Attributes
    ----------
    cat : ndarray of int64, shape (N, F)
    dense : ndarray of float32, shape (N, D)
    cat_names, dense_names : tuple of str
        The columns used, in input order.
    """

    cat: np.ndarray
    dense: np.ndarray
    cat_names: tuple[str, ...]
    dense_names: tuple[str, ...]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Feature names: categorical columns, then dense columns."""
        return self.cat_names + self.dense_names

    def feature_mask(self) -> tuple[np.ndarray, np.ndarray]:
        """One feature per field: categorical field f is feature f, dense field j is F + j."""
        n_cat = self.cat.shape[1]
        return np.arange(n_cat)[None], n_cat + np.arange(self.dense.shape[1])[None]


# ----------------------------------------------------------------------------------------- file I/O
def read_table(path: str | os.PathLike, arg: str = "data") -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) file.

    Raises
    ------
    InputError
        Naming ``arg`` and the file when it is missing, of an unknown kind, unreadable or empty.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{arg}: no such file {str(path)!r}")
    kind = table_kind(path, arg)
    try:
        frame = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except Exception as exc:  # pandas/pyarrow raise many kinds
        raise InputError(f"{arg}: cannot read {str(path)!r} as {kind} ({type(exc).__name__}: {exc})") from exc
    if len(frame) == 0:
        raise InputError(f"{arg}: {str(path)!r} has no rows")
    return frame


def write_table(frame: pd.DataFrame, path: str | os.PathLike, arg: str = "out") -> Path:
    """Write ``frame`` as CSV or Parquet, chosen by the suffix of ``path``; returns the path."""
    path = Path(path)
    kind = table_kind(path, arg)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if kind == "tsv" else ",")
    return path


def table_kind(path: Path, arg: str) -> str:
    """The kind of table file ``path`` names ("csv", "tsv" or "parquet"), by its suffix; an
    :class:`InputError` naming ``arg`` for any other."""
    name = path.name.lower()
    for suffixes, kind in (((".parquet", ".pq"), "parquet"), ((".tsv", ".tsv.gz"), "tsv"), ((".csv", ".csv.gz"), "csv")):
        if name.endswith(suffixes):
            return kind
    raise InputError(f"{arg}: {str(path)!r} is neither CSV (.csv, .tsv) nor Parquet (.parquet, .pq)")


# ------------------------------------------------------------------------------------ model fields
def model_fields(model: str | os.PathLike) -> ModelFields:
    """Read the field counts (and names/vocabularies, when stored) of a ``(cat_ids, dense)`` ONNX model.

    Raises
    ------
    InputError
        When ``model`` is not an ONNX file with two inputs ``(cat_ids, dense)`` of rank 2.
    """
    path = Path(model)
    if not path.is_file():
        raise InputError(f"model: no such file {str(path)!r}")
    session = onnx_session(path, "model")
    inputs = session.get_inputs()
    if len(inputs) != 2 or any(len(i.shape or ()) != 2 for i in inputs):
        shapes = {i.name: i.shape for i in inputs}
        raise InputError(f"model: expected two rank-2 inputs (cat_ids (N, F), dense (N, D)), {str(path)!r} has {shapes}")
    n_cat, n_dense = (s.shape[1] if isinstance(s.shape[1], int) else None for s in inputs)
    meta = session.get_modelmeta().custom_metadata_map
    return ModelFields(n_cat, n_dense, *_metadata(meta))


def onnx_session(path: str | os.PathLike, arg: str) -> Any:
    """An onnxruntime CPU session of the file ``path``; a file that does not load is a
    :class:`~glider_plugins.errors.ModelLoadError` naming ``arg``."""
    from ..errors import ModelLoadError

    try:
        import onnxruntime as ort

        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several kinds for a bad file
        raise ModelLoadError(f"{arg}: cannot load {str(path)!r} as ONNX ({type(exc).__name__}: {exc})") from exc


def _metadata(meta: dict[str, str]) -> tuple[Any, Any, Any]:
    def load(key: str) -> Any:
        return tuple(json.loads(meta[key])) if key in meta else None

    return load(META_CAT), load(META_DENSE), load(META_CARDS)


def add_metadata(path: str | os.PathLike, cat_names: Any, dense_names: Any, cardinalities: Any) -> None:
    """Store field names and vocabularies in an ONNX file (needs the ``onnx`` package; skipped without)."""
    try:
        import onnx
    except ImportError:
        return
    proto = onnx.load(str(path))
    for key, value in ((META_CAT, list(cat_names)), (META_DENSE, list(dense_names)), (META_CARDS, [int(c) for c in cardinalities])):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(path))


# ---------------------------------------------------------------------------------- table -> inputs
def table_inputs(
    frame: pd.DataFrame, fields: ModelFields, categorical: list[str] | None = None, dense: list[str] | None = None, label: str = "label",
) -> TableInputs:
    """Cut ``frame`` into ``(cat_ids, dense)`` for a model with ``fields`` (rule: module docstring).

    Raises
    ------
    InputError
        Naming the columns that are missing, extra or of the wrong kind, and ids outside the
        model's vocabulary.
    """
    if len(frame) == 0:
        raise InputError("data: the table has no rows")
    cats, denses = _choose_columns(frame, fields, categorical, dense, label)
    cat = _ids(frame, cats, fields.cardinalities)
    not_numbers = [c for c in denses if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if not_numbers:
        column = frame[not_numbers[0]]
        example = next((v for v in column if not _is_number(v)), column.iloc[0])
        raise InputError(f"data: dense columns {not_numbers} hold values that are not numbers (e.g. {example!r} in {not_numbers[0]!r})")
    values = frame[denses].to_numpy(dtype=np.float64, na_value=np.nan) if denses else np.zeros((len(frame), 0))
    bad = [c for j, c in enumerate(denses) if not np.isfinite(values[:, j]).all()]
    if bad:
        raise InputError(f"data: dense columns {bad} hold missing or infinite values; impute them first")
    return TableInputs(cat, values.astype(np.float32), tuple(cats), tuple(denses))


def _choose_columns(frame: pd.DataFrame, fields: ModelFields, categorical: list[str] | None, dense: list[str] | None, label: str) -> tuple[list[str], list[str]]:
    columns = [str(c) for c in frame.columns]
    if categorical is not None or dense is not None:
        cats, denses = list(categorical or []), list(dense or [])
    elif fields.cat_names is not None and fields.dense_names is not None:
        cats, denses = list(fields.cat_names), list(fields.dense_names)
    else:
        features = [c for c in columns if c != label]
        if fields.n_cat is None or fields.n_dense is None:
            raise InputError("data: the model's input shapes are dynamic; name the columns with --categorical/--dense")
        if len(features) != fields.n_cat + fields.n_dense:
            raise InputError(
                f"data: the model takes {fields.n_cat} categorical + {fields.n_dense} dense columns, the table has "
                f"{len(features)} feature columns {features} (without {label!r}); pass --categorical/--dense"
            )
        cats, denses = features[: fields.n_cat], features[fields.n_cat:]
    missing = [c for c in cats + denses if c not in columns]
    if missing:
        raise InputError(f"data: columns {missing} that the model takes are not in the table; its columns are {columns}")
    for what, chosen, expected in (("categorical", cats, fields.n_cat), ("dense", denses, fields.n_dense)):
        if expected is not None and len(chosen) != expected:
            raise InputError(f"data: the model takes {expected} {what} columns, got {len(chosen)}: {chosen}")
    return cats, denses


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _ids(frame: pd.DataFrame, cats: list[str], cardinalities: tuple[int, ...] | None) -> np.ndarray:
    not_int = [c for c in cats if not pd.api.types.is_integer_dtype(frame[c])]
    if not_int:
        raise InputError(f"data: categorical columns {not_int} must hold integer ids (0 = missing); encode them first (CTRPreprocessor)")
    cat = frame[cats].to_numpy(dtype=np.int64) if cats else np.zeros((len(frame), 0), np.int64)
    negative = [c for j, c in enumerate(cats) if cat[:, j].min(initial=0) < 0]
    if negative:
        raise InputError(f"data: categorical columns {negative} hold negative ids; ids are 0 (missing) or positive")
    if cardinalities is not None:
        for j, c in enumerate(cats):
            top = int(cat[:, j].max(initial=0))
            if top >= cardinalities[j]:
                raise InputError(f"data: column {c!r} has id {top}, outside the model's vocabulary 0..{cardinalities[j] - 1}")
    return cat
