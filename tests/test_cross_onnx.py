"""CrossFeatureEncoder.to_onnx (issue 25, point 4): the crosses as an ONNX graph that gives exactly
the ids transform gives, on held-out rows with unseen values, NaNs and the missing id."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

from glider_plugins import CrossFeatureEncoder
from glider_plugins.encoders import NotFittedError
from glider_plugins.errors import InputError


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "user": rng.integers(0, 60, n).astype(float),  # 0 is the missing id
        "item": rng.integers(1, 40, n).astype(float),
        "age": rng.normal(40, 10, n),  # dense: binned
        "hour": rng.integers(0, 24, n).astype(float),
    })
    frame.loc[rng.random(n) < 0.05, "age"] = np.nan
    frame.loc[rng.random(n) < 0.05, "user"] = np.nan
    return frame


def run(model: onnx.ModelProto, frame: pd.DataFrame, dtype: str = "float64") -> np.ndarray:
    """The graph on the columns its metadata names, from a table of more columns."""
    columns = json.loads({p.key: p.value for p in model.metadata_props}["input_columns"])
    session = ort.InferenceSession(model.SerializeToString())
    return session.run(["cross_ids"], {"X": frame[columns].to_numpy().astype(dtype)})[0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_graph_gives_the_ids_transform_gives_on_held_out_rows(tmp_path, dtype):
    train, test = table(4000, 0), table(1500, 1)
    train["city"], test["city"] = "x", "y"  # a column no cross reads: the graph does not take it
    test.iloc[0, 0], test.iloc[1, 1], test.iloc[2, 3] = 999.0, 2.5, 1e6  # unseen id, not an id, far out of range
    enc = CrossFeatureEncoder([("user", "item"), ("item", "age"), ("user", "hour", "age")], min_count=3, missing_value=0)
    enc.fit(train)
    expected = enc.transform(test).to_numpy()
    got = run(enc.to_onnx(tmp_path / "crosses.onnx", dtype=dtype), test, dtype)
    np.testing.assert_array_equal(got, expected)
    assert set(np.unique(expected[:, 0])) >= {0, int(enc.oov_ids_[0])}  # missing and out-of-vocabulary ids are exercised
    np.testing.assert_array_equal(run(onnx.load(str(tmp_path / "crosses.onnx")), test, dtype), expected)


def test_compressed_keys_travel_too(monkeypatch):
    """A radix that would pass the key limit is compressed through the keys seen, in the graph too."""
    monkeypatch.setattr("glider_plugins.encoders.cross_keys.KEY_LIMIT", 50)
    train, test = table(3000, 2), table(800, 3)
    enc = CrossFeatureEncoder([("user", "item", "hour")], min_count=1).fit(train)
    assert any(step is not None for step in enc._crosses[0].steps)
    np.testing.assert_array_equal(run(enc.to_onnx(), test), enc.transform(test).to_numpy())


def test_strings_unfitted_encoders_and_bad_dtypes_are_refused():
    frame = pd.DataFrame({"city": ["a", "b"] * 50, "shop": [1.0, 2.0] * 50})
    enc = CrossFeatureEncoder([("city", "shop")], min_count=1).fit(frame)
    with pytest.raises(InputError, match="column 'city' holds categories that are not whole numbers"):
        enc.to_onnx()
    with pytest.raises(NotFittedError):
        CrossFeatureEncoder([("a", "b")]).to_onnx()
    numeric = CrossFeatureEncoder([(0, 1)], min_count=1).fit(table(200, 4).to_numpy())
    assert json.loads({p.key: p.value for p in numeric.to_onnx().metadata_props}["input_columns"]) == ["x0", "x1"]
    with pytest.raises(InputError, match="dtype: expected 'float64' or 'float32'"):
        numeric.to_onnx(dtype="int64")
