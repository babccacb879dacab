"""Target recommenders for cross features: Wide&Deep, DeepFM, DCN, xDeepFM and AutoInt in PyTorch.

Every model is called as ``model(cat_ids, dense)`` with int64 ids (N, F) (0 = missing/OOV) and
float32 values (N, D), and returns one logit per row, (N, 1). Cross features found by GLIDER are
extra categorical fields (:meth:`CTRDataset.with_categorical`).

>>> from glider_plugins.recsys import make_model, fit, evaluate           # doctest: +SKIP
>>> model = make_model("deepfm", train.cardinalities, train.n_dense, seed=0)
>>> history = fit(model, train, valid, epochs=10, seed=0)
>>> evaluate(model, test)               # {"auc": 0.78, "logloss": 0.45}

Data sets (synthetic Criteo-shaped data, MovieLens-100K) and preprocessing live in
:mod:`glider_plugins.recsys.data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import InputError
from .autoint import AutoInt
from .base import CTRDataset, CTRModel, FieldEmbedding, check_compatible, export_onnx
from .dcn import DCN
from .deepfm import DeepFM
from .training import TrainingHistory, evaluate, fit, log_loss, predict, roc_auc
from .wide_deep import WideDeep
from .xdeepfm import XDeepFM

__all__ = [
    "MODELS", "AutoInt", "CTRDataset", "CTRModel", "DCN", "DeepFM", "FieldEmbedding", "TrainingHistory",
    "WideDeep", "XDeepFM", "check_compatible", "evaluate", "export_onnx", "fit", "log_loss", "make_model",
    "model_key", "predict", "roc_auc",
]

MODELS: dict[str, type[CTRModel]] = {cls.name: cls for cls in (WideDeep, DeepFM, DCN, XDeepFM, AutoInt)}


def model_key(name: str) -> str:
    """The registry key of a model name: lower case, without ``&``, ``_`` and ``-`` (``"Wide&Deep"`` -> ``"widedeep"``)."""
    return str(name).lower().replace("&", "").replace("_", "").replace("-", "")


def make_model(name: str, cardinalities: Sequence[int], n_dense: int, *, seed: int | None = None, **hyper: Any) -> CTRModel:
    """Build the model registered as ``name`` in :data:`MODELS`.

    Parameters
    ----------
    name : {"widedeep", "deepfm", "dcn", "xdeepfm", "autoint"}
        The architecture.
    cardinalities : sequence of int
        Ids per categorical field (id 0 = missing/OOV included), cross fields included.
    n_dense : int
        Number of dense fields.
    seed : int, optional
        Seeds the initial weights (inside ``torch.random.fork_rng``: global state untouched).
    **hyper
        The model's own hyperparameters (``embed_dim``, ``hidden``, ...; see its class).
    """
    key = model_key(name)
    if key not in MODELS:
        raise InputError(f"name: unknown model {name!r}; expected one of {sorted(MODELS)}")
    if seed is None:
        return MODELS[key](cardinalities, n_dense, **hyper)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[key](cardinalities, n_dense, **hyper)
