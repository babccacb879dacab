"""A CTR model served by ONNX, for the speed benchmarks: DeepFM over ``p`` fields (2/3 categorical).

    from benchmarks.ctr_onnx import ctr_onnx
    onnx_bytes, (cat_ids, dense) = ctr_onnx(p=39, n_rows=1000, seed=0)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

__all__ = ["PAPER_SIZE", "SMALL_SIZE", "ctr_onnx", "split_fields"]


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
    from glider_plugins.recsys.base import export_onnx

    n_cat, n_dense = split_fields(p)
    model = make_model("deepfm", [cardinality] * n_cat, n_dense, seed=seed, **(size or SMALL_SIZE))
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(model, Path(folder) / "ctr.onnx")
        onnx_bytes = path.read_bytes()
    rng = np.random.default_rng(seed)
    cat = rng.integers(1, cardinality, size=(n_rows, n_cat), dtype=np.int64)
    dense = rng.uniform(0.0, 2.0, size=(n_rows, n_dense)).astype(np.float32)
    return onnx_bytes, (cat, dense)
