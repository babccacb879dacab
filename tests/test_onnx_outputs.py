"""Which output of an ONNX model is explained: skl2onnx classifiers (label vs probabilities, ZipMap)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from glider_plugins import InteractionAttribution
from glider_plugins.adapters import adapt
from glider_plugins.adapters.onnx import choose_output
from glider_plugins.adapters.outputs import maps_to_array
from glider_plugins.errors import InputError, ModelError

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def _export(model, x, zipmap: bool) -> bytes:
    from skl2onnx import to_onnx

    options = None if zipmap else {id(model): {"zipmap": False}}
    return to_onnx(model, x[:1], options=options, target_opset={"": 17, "ai.onnx.ml": 3}).SerializeToString()


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    models = {
        "logreg": LogisticRegression(max_iter=300).fit(x, y),
        "gb": GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(x, y),
    }
    return x, models


@pytest.fixture(scope="module")
def iris_strings():
    """Three classes with string labels: a ZipMap keyed by class name."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    return x, LogisticRegression(max_iter=500).fit(x, labels)


@pytest.mark.parametrize("name", ["logreg", "gb"])
@pytest.mark.parametrize("zipmap", [False, True])
def test_a_classifier_explains_its_probabilities_not_its_label(cancer, name, zipmap, caplog):
    x, models = cancer
    model = models[name]
    with caplog.at_level(logging.INFO, logger="glider_plugins"):
        adapter = adapt(_export(model, x, zipmap))
    used = "output_probability" if zipmap else "probabilities"
    assert adapter.output_used_ == used
    assert f"explaining '{used}'" in caplog.text and "label" in caplog.text
    expected = model.predict_proba(x)
    np.testing.assert_allclose(adapter.predict(x[:50]), expected[:50], atol=1e-5)
    np.testing.assert_allclose(adapter(x[:50], target=1), expected[:50, 1], atol=1e-5)
    if zipmap:
        assert adapter.output_classes_ == list(model.classes_)


def test_an_explicit_output_name_still_gives_the_label(cancer):
    x, models = cancer
    model = models["gb"]
    onnx_bytes = _export(model, x, zipmap=False)
    label = adapt(onnx_bytes, output_name="label")
    assert label.output_used_ == "label"
    np.testing.assert_array_equal(label(x[:40]), model.predict(x[:40]))
    by_position = adapt(onnx_bytes, output_name=1)
    assert by_position.output_used_ == "probabilities"
    np.testing.assert_allclose(by_position(x[:40], target=0), model.predict_proba(x[:40])[:, 0], atol=1e-5)


def test_a_bad_output_name_lists_the_outputs(cancer):
    x, models = cancer
    onnx_bytes = _export(models["logreg"], x, zipmap=False)
    with pytest.raises(InputError, match=r"output_name='proba' is not an output.*\['label', 'probabilities'\]"):
        adapt(onnx_bytes, output_name="proba")
    with pytest.raises(InputError, match=r"output_name=2 is out of range.*2 outputs \['label', 'probabilities'\]"):
        adapt(onnx_bytes, output_name=2)


def test_zipmap_with_string_classes_reads_columns_in_class_order(iris_strings):
    x, model = iris_strings
    adapter = adapt(_export(model, x, zipmap=True))
    scores = adapter.predict(x[::10])
    assert scores.shape == (len(x[::10]), 3)
    np.testing.assert_allclose(scores, model.predict_proba(x[::10]), atol=1e-5)
    assert adapter.output_classes_ == ["setosa", "versicolor", "virginica"]


def test_target_one_explains_the_positive_class_of_a_default_export(cancer):
    """A default (ZipMap) export, target=1, the 30 columns in 4 groups: every mask queried, so the
    pure effects add up from the baseline's log-odds of class 1 to the instance's."""
    pytest.importorskip("shapiq")
    x, models = cancer
    model = models["gb"]
    ia = InteractionAttribution(_export(model, x, zipmap=True), detector="moebius", output="logits", model_output="probabilities")
    groups = (np.arange(x.shape[1]) * 4 // x.shape[1])[None]
    res = ia.attribute_interactions(x[:2], baselines=0.0, target=1, feature_mask=groups, n_samples=16, seed=0)
    proba = model.predict_proba(np.vstack([x[:2], np.zeros_like(x[:1])]).astype(np.float64))
    log_odds = np.log(proba[:, 1]) - np.log(proba[:, 0])
    for i in range(2):
        iv = res.to_shapiq(i)
        assert iv.baseline_value == pytest.approx(log_odds[2], abs=1e-4)
        assert sum(iv.dict_values.values()) == pytest.approx(log_odds[i], abs=1e-4)


def test_choose_output_prefers_floats_then_maps_then_the_first():
    label, proba, zipped = ("label", "tensor(int64)"), ("p", "tensor(double)"), ("z", "seq(map(int64,tensor(float)))")
    assert choose_output([label, proba], None) == proba
    assert choose_output([label, zipped], None) == zipped
    assert choose_output([label, zipped, proba], None) == proba
    assert choose_output([label], None) == label
    assert choose_output([label, proba], -2) == label
    with pytest.raises(InputError, match="pass a name or a position"):
        choose_output([label, proba], 1.5)


def test_maps_that_are_not_one_probability_per_class_are_refused_with_the_zipmap_hint():
    np.testing.assert_array_equal(maps_to_array([{0: 0.25, 1: 0.75}], "p")[0], [[0.25, 0.75]])
    with pytest.raises(ModelError, match=r"'p' is a sequence of maps.*zipmap': False"):
        maps_to_array([{0: 0.25, 1: 0.75}, {0: 1.0}], "p")


def test_output_name_is_refused_where_there_is_no_output_to_choose():
    """A torch model with one output (or unnamed tuple outputs) cannot honour a name: refused, not ignored."""
    import torch

    from glider_plugins.adapters import adapt

    single = torch.nn.Linear(3, 1)
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(InputError, match="returns a single output, so there is none to choose"):
        adapt(single, output_name="probabilities")(x)
    assert adapt(single, output_name=0)(x).shape == (2,)  # position 0 of one output is that output

    class Pair(torch.nn.Module):
        def forward(self, x):
            return x.sum(1), x.sum(1) * 2

    with pytest.raises(InputError, match=r"returns 2 unnamed outputs \(a tuple\), so pass a position 0..1"):
        adapt(Pair(), output_name="second")(x)
    np.testing.assert_allclose(adapt(Pair(), output_name=1)(x), [6.0, 6.0])


def test_the_output_choice_is_logged_once_per_file_and_the_cli_takes_a_class_label(iris_strings, tmp_path, caplog, capsys):
    """Issue 27, defect 7: the pipeline logged "explaining 'probabilities'" four times (once per
    adapter of the same file), and ``--target`` took only an index, not a class the model reports."""
    import io

    import pandas as pd

    from glider_plugins.cli import main

    x, model = iris_strings
    path = tmp_path / "iris.onnx"
    path.write_bytes(_export(model, x, zipmap=True))
    with caplog.at_level(logging.INFO, logger="glider_plugins"):
        adapt(str(path))
        adapt(str(path))
    assert caplog.text.count("explaining 'output_probability'") == 1
    table = tmp_path / "iris.csv"
    pd.DataFrame(x[:20], columns=["sl", "sw", "pl", "pw"]).to_csv(table, index=False)
    runs = {}
    for target in ("virginica", "2", "tulip"):
        out = io.StringIO()
        status = main(["explain", str(path), "--data", str(table), "--rows", "0", "--target", target, "--quiet"], out=out)
        runs[target] = (status, out.getvalue(), capsys.readouterr().err)
    assert runs["virginica"][0] == 0 and runs["virginica"][1] == runs["2"][1]
    assert runs["tulip"][0] == 2 and "--target: the model reports no class 'tulip'; its classes are ['setosa', 'versicolor', 'virginica']" in runs["tulip"][2]
    labelled = tmp_path / "labelled.csv"
    pd.DataFrame(x[:20], columns=["sl", "sw", "pl", "pw"]).assign(species=0).to_csv(labelled, index=False)
    status = main(["explain", str(path), "--data", str(labelled), "--target", "2", "--quiet"], out=io.StringIO())
    assert status == 2 and "the table has no column 'label': if one of its columns is the label, name it with --label" in capsys.readouterr().err
    assert main(["explain", str(path), "--data", str(labelled), "--target", "2", "--label", "species", "--quiet"], out=io.StringIO()) == 0
