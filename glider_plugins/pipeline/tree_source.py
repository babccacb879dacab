"""A gradient-boosted tree model of the raw table, as an ONNX file: a source model of the user's kind.

``glider demo --data census`` uses it: scikit-learn's ``GradientBoostingClassifier`` on the
training rows of the table itself (numeric columns as they are, categorical fields as integer
codes), converted by ``skl2onnx`` and handed to :func:`~glider_plugins.pipeline.run_pipeline` as
the user's own ONNX model (``source_inputs="table"``), exactly as a user would hand theirs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .source import table_matrix

__all__ = ["TREE_SOURCE_OPTIONS", "train_tree_source"]

#: What :func:`run_pipeline` needs to explain the exported classifier's log-odds of the positive class.
TREE_SOURCE_OPTIONS: dict[str, Any] = {"output_name": "probabilities", "output": "logits", "model_output": "probabilities"}


def train_tree_source(prepared: Any, path: str | Path, *, seed: int = 0, n_estimators: int = 200, max_depth: int = 4) -> Path:
    """Fit a gradient-boosted tree classifier on ``prepared.raw["train"]`` and save it as ONNX.

    Parameters
    ----------
    prepared : PipelineData
        From :func:`~glider_plugins.pipeline.prepare_data`; every feature column numeric.
    path : str or Path
        Where the ONNX file goes (input ``X``, float32 (N, d); outputs ``label`` and
        ``probabilities`` (N, 2)).
    seed, n_estimators, max_depth
        Of scikit-learn's ``GradientBoostingClassifier``.

    Returns
    -------
    pathlib.Path
    """
    try:
        from skl2onnx import to_onnx
        from sklearn.ensemble import GradientBoostingClassifier
    except ImportError as exc:
        raise InputError("the tree source model needs scikit-learn and skl2onnx: pip install 'glider-plugins[pipeline]'") from exc
    train = prepared.raw.get("train")
    if train is None:
        raise InputError("prepared: no raw training rows (prepare it with glider_plugins.pipeline.prepare_data)")
    x = table_matrix(train.drop(columns="label"), "data")
    model = GradientBoostingClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=seed)
    model.fit(x, train["label"].to_numpy(dtype=np.int64))
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(onx.SerializeToString())
    return out
