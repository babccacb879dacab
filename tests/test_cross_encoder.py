"""CrossFeatureEncoder: ids per combination, OOV and missing ids, binning, sklearn conventions."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from glider_plugins import CrossFeatureEncoder, Glider, GlobalInteractions
from glider_plugins.encoders import cross, cross_keys
from glider_plugins.encoders.base import NotFittedError
from glider_plugins.errors import InputError
from glider_plugins.plugins import available, make_encoder
from tests.groundtruth.planted import planted_function, planted_instances


def frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "C1": rng.integers(1, 4, n),  # ids 1..3
            "C2": rng.choice(["a", "b"], n),
            "I1": rng.normal(size=n),  # dense
            "C3": rng.integers(0, 1000, n),  # mostly rare values
        }
    )


# ------------------------------------------------------------------------------- ids
def test_each_frequent_combination_gets_its_own_id():
    X = np.array([[1, 7]] * 5 + [[1, 8]] * 5 + [[2, 7]] * 5 + [[2, 8]] * 2)
    enc = CrossFeatureEncoder([(0, 1)], min_count=3).fit(X)
    ids = enc.transform(X)[:, 0]
    assert ids.dtype == np.int64 and ids.shape == (17,)
    assert len({ids[0], ids[5], ids[10]}) == 3 and set(ids[:15]) <= {1, 2, 3}
    assert (ids[:5] == ids[0]).all() and (ids[5:10] == ids[5]).all()
    assert (ids[15:] == 4).all()  # seen twice < min_count: the OOV id V + 1
    assert enc.vocab_sizes_.tolist() == [3] and enc.oov_ids_.tolist() == [4] and enc.cardinalities_.tolist() == [5]


def test_unseen_combinations_and_values_are_out_of_vocabulary():
    X = np.array([[1, 7]] * 3 + [[2, 8]] * 3)
    enc = CrossFeatureEncoder([(0, 1)], min_count=1).fit(X)
    new = np.array([[1, 8], [2, 7], [9, 7], [1, 7]])  # unseen combos, an unseen value, a seen combo
    assert enc.transform(new)[:, 0].tolist() == [3, 3, 3, enc.transform(X[:1])[0, 0]]


def test_a_missing_parent_gives_the_missing_id():
    X = pd.DataFrame({"a": [1.0, 1.0, np.nan, 2.0], "b": ["x", None, "x", "y"], "c": [0, 5, 5, 5]})
    enc = CrossFeatureEncoder([("a", "b"), ("b", "c")], min_count=1, missing_value=0).fit(X)
    out = enc.transform(X)
    assert out["a_x_b"].tolist()[1:3] == [0, 0] and out["a_x_b"].iloc[0] > 0
    assert out["b_x_c"].tolist()[:2] == [0, 0]  # c == missing_value, b is None
    assert cross.MISSING_ID == 0


def test_dense_fields_are_quantile_binned_before_crossing():
    df = frame(4000)
    enc = CrossFeatureEncoder([("C1", "I1")], n_bins=4, min_count=1).fit(df)
    assert enc.dense_features_ == [2] and list(enc.categories_) == [0]
    assert np.allclose(enc.bin_edges_[2], np.quantile(df["I1"], [0.25, 0.5, 0.75]))
    assert enc.vocab_sizes_.tolist() == [12]  # 3 ids x 4 bins
    sizes = pd.Series(enc.transform(df).iloc[:, 0]).value_counts()
    assert sizes.min() > 0.8 * 4000 / 12  # quantile bins: evenly filled
    assert enc.transform(pd.DataFrame({"C1": [1], "C2": ["a"], "I1": [1e9], "C3": [0]})).iloc[0, 0] in range(1, 13)


def test_auto_dense_detection_and_explicit_choices():
    X = np.column_stack([np.r_[np.arange(50) % 3, np.nan], np.linspace(0, 1, 51)])
    auto = CrossFeatureEncoder([(0, 1)], n_bins=5, min_count=1).fit(X)
    assert auto.dense_features_ == [1]  # whole-number floats (ids with NaN) stay categorical
    explicit = CrossFeatureEncoder([(0, 1)], n_bins=5, min_count=1, dense_features=[0, 1]).fit(X)
    assert explicit.dense_features_ == [0, 1]
    none = CrossFeatureEncoder([(0, 1)], min_count=1, dense_features=None).fit(X)
    assert none.dense_features_ == [] and none.vocab_sizes_[0] == 50


def test_min_count_excludes_rare_parent_values():
    df = frame()
    enc = CrossFeatureEncoder([("C1", "C3")], min_count=10).fit(df)
    assert enc.vocab_sizes_[0] == 0 and (enc.transform(df).iloc[:, 0] == 1).all()  # all OOV


def test_compressed_keys_give_the_same_ids(monkeypatch):
    df = frame(2000)
    plain = CrossFeatureEncoder([("C1", "C2", "I1"), ("C3", "C1")], n_bins=8, min_count=2).fit_transform(df)
    monkeypatch.setattr(cross_keys, "KEY_LIMIT", 4)  # force the int64-overflow path at every step
    squeezed = CrossFeatureEncoder([("C1", "C2", "I1"), ("C3", "C1")], n_bins=8, min_count=2).fit_transform(df)
    pd.testing.assert_frame_equal(plain, squeezed)


def test_vectorised_on_many_rows():
    df = frame(200_000)
    start = time.perf_counter()
    out = CrossFeatureEncoder([("C1", "C2"), ("C1", "I1"), ("C2", "C3", "I1")]).fit_transform(df)
    assert out.shape == (200_000, 3) and time.perf_counter() - start < 10.0


# ------------------------------------------------------------------------------- inputs, names
def test_dataframe_in_dataframe_out_and_names():
    df = frame().set_index(np.arange(600) + 1000)
    enc = CrossFeatureEncoder([("C1", "C2"), (0, 2)], min_count=1)
    out = enc.fit_transform(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["C1_x_C2", "C1_x_I1"]
    assert (out.index == df.index).all() and (out.dtypes == np.int64).all()
    assert enc.get_feature_names_out().tolist() == ["C1_x_C2", "C1_x_I1"]
    arr = CrossFeatureEncoder([(0, 1)], min_count=1).fit(df[["C1", "C3"]].to_numpy())
    assert isinstance(arr.transform(df[["C1", "C3"]].to_numpy()), np.ndarray)
    assert arr.get_feature_names_out().tolist() == ["x0_x_x1"]


def test_global_interactions_and_top_pairs_are_accepted():
    g = GlobalInteractions({(0, 1): 9, (0, 1, 2): 5, (1, 3): 4}, {}, n_instances=10, feature_names=["C1", "C2", "I1", "C3"])
    df = frame()
    assert CrossFeatureEncoder(g, top_k=2, min_count=1).fit(df).interactions_ == [(0, 1, 2), (1, 3)]
    assert CrossFeatureEncoder(g, min_count=1).fit(df).interactions_ == [(0, 1), (0, 1, 2), (1, 3)]
    shuffled = df[["C3", "I1", "C2", "C1"]]  # names win over positions when X has them
    enc = CrossFeatureEncoder(g, top_k=1, min_count=1).fit(shuffled)
    assert enc.interactions_ == [(2, 3)] and enc.get_feature_names_out().tolist() == ["C2_x_C1"]
    assert CrossFeatureEncoder(g.top(2), min_count=1).fit(df).interactions_ == [(0, 1, 2), (1, 3)]


def test_glider_to_encoder_on_a_dataframe():
    df = pd.DataFrame(planted_instances(60), columns=[f"f{i}" for i in range(12)])
    g = Glider(planted_function, detector="archdetect").detect(df, top_k=3, baselines=0.0, show_progress=False)
    enc = CrossFeatureEncoder(g, top_k=4, n_bins=3, min_count=1)
    out = enc.fit_transform(df)
    # most frequent first: the pairs' pure effects (2 x0 x1, 2 x5 x6) outweigh the triples'
    # (1.5 x2 x3 x4, ...) on most instances, so the triples drop out of more top 3s
    assert list(out.columns) == ["f0_x_f1", "f5_x_f6", "f7_x_f8_x_f9", "f2_x_f3_x_f4"]
    assert enc.dense_features_ == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert enc.cardinalities_[:2].tolist() == [11, 11] and (enc.cardinalities_[2:] <= 3**3 + 2).all()  # 3 bins a parent


# ------------------------------------------------------------------------------- sklearn and registry
def test_clone_and_pipeline():
    df = frame()
    y = (df["C1"].to_numpy() == 2) ^ (df["C2"].to_numpy() == "a")  # an XOR: only the cross explains it
    enc = CrossFeatureEncoder([("C1", "C2")], min_count=5)
    twin = clone(enc)
    assert twin is not enc and twin.get_params() == enc.get_params() and not hasattr(twin, "interactions_")
    model = Pipeline([("cross", enc), ("onehot", OneHotEncoder(handle_unknown="ignore")), ("lr", LogisticRegression())])
    assert model.fit(df, y).score(df, y) == 1.0


def test_registered_as_cross():
    assert available("encoders")["cross"] == "builtins"
    enc = make_encoder("cross", interactions=[(0, 1)], min_count=1)
    assert isinstance(enc, CrossFeatureEncoder) and enc.name == "cross"
    assert enc.fit_transform(np.array([[1, 2], [1, 2]])).tolist() == [[1], [1]]


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "interactions: pass the interactions"),
        ({"interactions": (0, 1)}, "each interaction must be a tuple of columns"),
        ({"interactions": [(0, 0)]}, "fewer than 2 distinct columns"),
        ({"interactions": [(0, 9)]}, "column index 9 is out of range"),
        ({"interactions": [("C1", "nope")]}, "no column named 'nope'"),
        ({"interactions": [(0, 1)], "min_count": 0}, "min_count must be an integer >= 1"),
        ({"interactions": [(0, 1)], "n_bins": 1}, "n_bins must be an integer >= 2"),
        ({"interactions": [(0, 1)], "dense_features": "all"}, "dense_features must be 'auto'"),
    ],
)
def test_bad_parameters_are_named_in_fit(kwargs, message):
    enc = CrossFeatureEncoder(**kwargs)  # parameters are only stored here
    with pytest.raises(InputError, match=message):
        enc.fit(frame(20))


def test_transform_before_fit_and_other_columns():
    with pytest.raises(NotFittedError):
        CrossFeatureEncoder([(0, 1)]).transform(np.zeros((2, 2)))
    enc = CrossFeatureEncoder([(0, 1)]).fit(frame(20))
    with pytest.raises(InputError, match="columns"):
        enc.transform(frame(20).iloc[:, :3])
    with pytest.raises(InputError, match="needs X to be a DataFrame"):
        CrossFeatureEncoder([("a", "b")]).fit(np.zeros((3, 2)))


# ------------------------------------------------------------------ issue 14: data-aware encoding
def test_dense_by_cardinality_whatever_the_dtype():
    """"auto": a numeric column with more than n_bins distinct values is binned (an age in whole
    years, a count), one with few stays categorical, strings and bools always do."""
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({"age": rng.integers(17, 91, n), "rating": rng.integers(1, 6, n), "flag": rng.random(n) < 0.5,
                       "city": rng.choice([f"c{i}" for i in range(300)], n), "hours": rng.integers(1, 100, n).astype(float)})
    enc = CrossFeatureEncoder([("age", "rating"), ("flag", "city"), ("hours", "rating")], n_bins=20, min_count=1).fit(df)
    assert [enc.feature_names_in_[c] for c in enc.dense_features_] == ["age", "hours"]  # 74 and 99 values > 20
    assert len(enc.bin_edges_[0]) <= 19 and 3 not in enc.dense_features_  # 300 city names: categorical
    wide = CrossFeatureEncoder([("age", "rating")], n_bins=100, min_count=1).fit(df)
    assert wide.dense_features_ == []  # 74 values <= 100 bins: categorical
    kept = CrossFeatureEncoder([("age", "rating")], n_bins=20, min_count=1, dense_features=None).fit(df)
    assert kept.dense_features_ == [] and kept.vocab_sizes_[0] == 74 * 5


def test_empty_and_sparse_crosses_warn_by_name_and_report_their_support():
    df = frame(2000)
    with pytest.warns(UserWarning, match="cross 'C1_x_C3' gives its own id .* to only") as caught:
        enc = CrossFeatureEncoder([("C1", "C2"), ("C1", "C3")], min_count=5, dense_features=None).fit(df)
    assert len(caught) == 1  # C1 x C2 (6 combinations) covers every row: no warning
    assert enc.support_[0] == 1.0 and 0 < enc.support_[1] < 0.5
    with pytest.warns(UserWarning, match="cross 'C1_x_C3' has an empty vocabulary"):
        CrossFeatureEncoder([("C1", "C3")], min_count=50, dense_features=None).fit(df)
    table = enc.summary(frame(500, seed=1))
    assert list(table.columns) == ["cross", "columns", "vocab_size", "cardinality", "support_fit", "support"]
    assert table["columns"].tolist() == [("C1", "C2"), ("C1", "C3")] and table["support"][0] == 1.0
    assert table["support"][1] == pytest.approx(enc._support(enc.transform(frame(500, seed=1)).to_numpy())[1])
    with pytest.raises(InputError, match="min_support must be a number in"):
        CrossFeatureEncoder([("C1", "C2")], min_support=2).fit(df)


def test_set_output_pandas_for_arrays_and_clone_keeps_it():
    X = frame(400)[["C1", "C3"]].to_numpy()
    enc = CrossFeatureEncoder([(0, 1)], min_count=1, dense_features=None).set_output(transform="pandas")
    out = enc.fit_transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["x0_x_x1"]
    assert isinstance(clone(enc).fit(X).transform(X), pd.DataFrame)
    assert isinstance(enc.set_output(transform="default").transform(X), np.ndarray)
    with pytest.raises(InputError, match="set_output: transform must be"):
        enc.set_output(transform="polars")


def test_ctr_preprocessor_survives_clone():
    from glider_plugins.recsys.data import CTRPreprocessor

    pre = CTRPreprocessor(min_count=3, dense="log", missing_values=(0,))
    twin = clone(pre)
    assert twin is not pre and twin.get_params() == pre.get_params()
    assert "dense='log'" in repr(twin)
    with pytest.raises(InputError, match="dense: expected 'bin' or 'log'"):
        pre.set_params(dense="quantile")
    with pytest.raises(InputError, match="no parameter"):
        pre.set_params(bins=3)
