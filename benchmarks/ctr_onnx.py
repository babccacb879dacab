"""A CTR model served by ONNX, for the speed benchmarks: DeepFM over ``p`` fields (2/3 categorical).

    from benchmarks.ctr_onnx import ctr_onnx
    onnx_bytes, (cat_ids, dense) = ctr_onnx(p=39, n_rows=1000, seed=0)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

__all__ = ["PAPER_SIZE", "SMALL_SIZE", "ctr_onnx", "split_fields", "trained_ctr_onnx"]


def split_fields(p: int) -> tuple[int, int]:
    """``(n_categorical, n_dense)`` for ``p`` fields: Criteo's 26 + 13 at p = 39."""
    n_dense = max(1, p // 3)
    return p - n_dense, n_dense


#: DeepFM's size in its paper's Criteo experiments (Guo et al., 2017): 10-dim embeddings, 400-400-400.
PAPER_SIZE = {"embed_dim": 10, "hidden": (400, 400, 400)}
#: A small DeepFM (this library's defaults): 8-dim embeddings, 64-32.
SMALL_SIZE = {"embed_dim": 8, "hidden": (64, 32)}


def ctr_onnx(
    p: int = 39, n_rows: int = 1000, seed: int = 0, cardinality: int = 50, size: dict | None = None
) -> tuple[bytes, tuple[np.ndarray, np.ndarray]]:
    """An untrained (seeded) DeepFM over ``p`` fields exported to ONNX, and ``n_rows`` instances.

    ``size``: the DeepFM's ``embed_dim`` and ``hidden`` (default :data:`SMALL_SIZE`).

    Returns
    -------
    model : bytes
        The serialized ONNX model (inputs ``cat_ids`` int64 (N, F), ``dense`` float32 (N, D)).
    data : tuple of numpy.ndarray
        ``(cat_ids, dense)``: ids in ``1..cardinality-1`` (0 is the missing id, the baseline) and
        dense values in ``U(0, 2)``.
    """
    from glider_plugins.recsys import make_model
    n_cat, n_dense = split_fields(p)
    model = make_model("deepfm", [cardinality] * n_cat, n_dense, seed=seed, **(size or SMALL_SIZE))
    onnx_bytes = _onnx_bytes(model)
    rng = np.random.default_rng(seed)
    cat = rng.integers(1, cardinality, size=(n_rows, n_cat), dtype=np.int64)
    dense = rng.uniform(0.0, 2.0, size=(n_rows, n_dense)).astype(np.float32)
    return onnx_bytes, (cat, dense)


def trained_ctr_onnx(
    n_instances: int, seed: int = 0, size: dict | None = None, n_rows: int = 40000
) -> tuple[bytes, tuple[np.ndarray, np.ndarray], list[tuple[int, ...]]]:
    """A DeepFM trained on 39-field Criteo-like clicks with planted crosses, exported to ONNX.

    The data are :func:`~glider_plugins.recsys.data.make_criteo_like` (13 dense fields binned
    into ids, 26 categorical; 4 planted pairs and 2 planted triples), ``n_rows`` rows; training
    takes a few seconds. Returns the ONNX bytes, ``n_instances`` test rows ``(cat_ids, dense)``
    (``dense`` has no columns) and the planted groups as field ids.
    """
    from glider_plugins.pipeline.data import prepare_data
    from glider_plugins.recsys import make_model
    from glider_plugins.recsys.training import fit

    data = prepare_data("synthetic", seed=seed, synthetic_options={"n_rows": n_rows})
    model = make_model("deepfm", data.train.cardinalities, data.train.n_dense, seed=seed, **(size or SMALL_SIZE))
    fit(model, data.train, data.valid, epochs=5, seed=seed)
    onnx_bytes = _onnx_bytes(model)
    rows = slice(0, n_instances)
    return onnx_bytes, (data.test.cat[rows], data.test.dense[rows]), list(data.planted or [])


def _onnx_bytes(model) -> bytes:
    """The serialized ONNX export of a recsys model."""
    from glider_plugins.recsys.base import export_onnx

    with tempfile.TemporaryDirectory() as folder:
        return export_onnx(model, Path(folder) / "ctr.onnx").read_bytes()
