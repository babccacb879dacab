"""The pipeline's source model: one of the recommenders trained here, or the user's own.

The user's own model is an ONNX file, a ``torch.nn.Module`` or a Python callable, taking one of two
input layouts (``source_inputs``):

``"ids"``
    ``(cat_ids (N, F) int64, dense (N, D) float32)`` exactly as
    :func:`~glider_plugins.pipeline.prepare_data` encodes the table: the layout of the recommenders
    here, and of a model the user trained on ``prepare_data(...).train``. Baselines: id 0 (missing
    or rare) and dense 0 (the training mean).
``"table"``
    One float32 matrix (N, d) of the table's feature columns, in the table's column order, raw
    values (what a scikit-learn or LightGBM model converted to ONNX, or a torch MLP on the columns,
    takes). Every feature column must be numeric. Baseline: the typical training row (median of a
    float column, the most frequent value of any other).

``"auto"`` reads the layout off the model: two inputs (ONNX inputs, or parameters of ``forward`` /
the callable without defaults) are ``"ids"``, one is ``"table"``.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..recsys import MODELS, model_key
from ..recsys.training import log_loss, roc_auc
from .tabular import onnx_session

__all__ = ["LAYOUTS", "SourceModel", "is_registered", "resolve_source", "source_arguments", "source_metrics", "source_scores", "source_target",
           "table_matrix", "typical_row"]

LAYOUTS: tuple[str, ...] = ("auto", "ids", "table")


@dataclass(frozen=True)
class SourceModel:
    """A user's source model, ready for :class:`~glider_plugins.Glider`.

    Attributes
    ----------
    model : str or object
        The ONNX path (as a string), module or callable.
    layout : {"ids", "table"}
    kind : {"onnx", "torch", "callable"}
    options : dict
        Adapter options (:func:`~glider_plugins.adapters.adapt`: ``output_name``, ``output``,
        ``model_output``, ``batch_size``, ...).
    """

    model: Any
    layout: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


def is_registered(source_model: Any) -> bool:
    """Whether ``source_model`` names one of the recommenders trained here."""
    return isinstance(source_model, str) and model_key(source_model) in MODELS


def resolve_source(source_model: Any, source_inputs: str = "auto", source_options: dict[str, Any] | None = None) -> SourceModel:
    """The user's model and its input layout (module docstring).

    Raises
    ------
    InputError
        Naming ``source_model`` (not a registered name, ONNX file, module or callable),
        ``source_inputs`` (unknown, or not readable off the model). (An ONNX model with several
        outputs is explained on its first float output unless ``source_options`` has ``output_name``.)
    """
    options = dict(source_options or {})
    if source_inputs not in LAYOUTS:
        raise InputError(f"source_inputs: expected one of {list(LAYOUTS)}, got {source_inputs!r}")
    if isinstance(source_model, (str, os.PathLike)):
        path = Path(source_model)
        if not path.is_file():
            raise InputError(
                f"source_model: {str(source_model)!r} is neither a model name of {sorted(MODELS)} nor an ONNX file")
        # several outputs: the adapter explains the first float one (a classifier's probabilities,
        # not its int64 label) and logs which, unless source_options names one (output_name)
        kind, model, n_inputs = "onnx", str(path), _onnx_inputs(path)
    elif _is_torch_module(source_model):
        kind, model, n_inputs = "torch", source_model, _required_parameters(source_model.forward)
    elif callable(source_model):
        kind, model, n_inputs = "callable", source_model, _required_parameters(source_model)
    else:
        raise InputError(
            f"source_model: expected a model name of {sorted(MODELS)}, an ONNX file, a torch.nn.Module or a callable, "
            f"got {type(source_model).__name__}")
    layout = source_inputs
    if layout == "auto":
        layout = {1: "table", 2: "ids"}.get(n_inputs or 0, "")
        if not layout:
            raise InputError(
                f"source_inputs: cannot tell the layout of the {kind} source model ({n_inputs} inputs); "
                "pass source_inputs='ids' ((cat_ids, dense) as prepare_data encodes the table) or 'table' (one float matrix)")
    return SourceModel(model, layout, kind, options)


def _onnx_inputs(path: Path) -> int:
    return len(onnx_session(path, "source_model").get_inputs())


def _is_torch_module(model: Any) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(model, torch.nn.Module)


def _required_parameters(function: Any) -> int | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in signature.parameters.values() if p.kind in kinds and p.default is inspect.Parameter.empty)


def typical_row(frame: pd.DataFrame) -> np.ndarray:
    """The typical row of ``frame``'s columns, shape (1, d): median of a float column, most frequent value of any other."""
    values = [frame[c].median() if pd.api.types.is_float_dtype(frame[c]) else frame[c].mode(dropna=True).iloc[0] for c in frame.columns]
    return np.asarray(values, dtype=np.float32)[None]


def table_matrix(frame: pd.DataFrame, arg: str = "data") -> np.ndarray:
    """The feature columns of ``frame`` as one float32 matrix (N, d) for a ``"table"`` model.

    Raises
    ------
    InputError
        Naming the columns that are not numeric or hold missing values.
    """
    not_numeric = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if not_numeric:
        raise InputError(
            f"{arg}: a source model taking the table (source_inputs='table') needs numeric feature columns; {not_numeric} "
            "are not (encode them as numbers first, or give a model taking (cat_ids, dense))")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = [str(c) for j, c in enumerate(frame.columns) if not np.isfinite(values[:, j]).all()]
    if missing:
        raise InputError(f"{arg}: columns {missing} hold missing or infinite values; a 'table' source model needs them filled")
    return values.astype(np.float32)


def source_arguments(source: SourceModel, prepared: Any, part: str) -> tuple[tuple[np.ndarray, ...], Any, Any, list[str]]:
    """What :meth:`Glider.detect` (and scoring) take for ``part`` of the data: inputs, baselines,
    feature mask and feature names."""
    data = getattr(prepared, part)
    if source.layout == "ids":
        return (data.cat, data.dense), (0, 0.0), data.feature_mask(), list(data.feature_names)
    raw = prepared.raw[part].drop(columns="label")
    matrix = table_matrix(raw, "data")
    return (matrix,), typical_row(prepared.raw["train"].drop(columns="label")), None, [str(c) for c in raw.columns]


def source_target(source: SourceModel, inputs: tuple[np.ndarray, ...]) -> int | None:
    """The output to explain: ``None`` for one score per row, ``1`` (the positive class) for two.

    Raises
    ------
    InputError
        Naming ``source_model`` when it answers with more than two scores per row.
    """
    from ..adapters import adapt

    probe = np.asarray(adapt(source.model, **source.options).predict(tuple(x[:2] for x in inputs)))
    width = int(np.prod(probe.shape[1:])) if probe.ndim > 1 else 1
    if width > 2:
        raise InputError(f"source_model: expected one score per row or two class scores, the model gives {width} per row")
    return 1 if width == 2 else None


def source_scores(source: SourceModel, prepared: Any, part: str) -> np.ndarray:
    """The source model's output explained (:func:`source_target`) on the rows of ``part``, shape (n_rows,)."""
    from ..adapters import adapt

    inputs, _, _, _ = source_arguments(source, prepared, part)
    scores = adapt(source.model, **source.options)(inputs, target=source_target(source, inputs))
    return np.asarray(scores, dtype=np.float64).reshape(-1)


def source_metrics(source: SourceModel, prepared: Any) -> dict[str, float]:
    """Test ``auc`` of the user's model (and ``logloss`` when its scores are probabilities)."""
    scores = source_scores(source, prepared, "test")
    labels = prepared.test.labels
    metrics = {"auc": roc_auc(labels, scores)}
    if np.all((scores >= 0) & (scores <= 1)):
        metrics["logloss"] = log_loss(labels, scores)
    return metrics
