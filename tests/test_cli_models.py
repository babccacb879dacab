"""``glider explain`` / ``glider global`` on models this library did not export (issue 16, point 1):
a skl2onnx GBDT, a multi-input model, a third-party DeepFM export with one float input, a CTR
model with one int64 id input, TorchScript and Keras files; the mapping options and their errors."""

from __future__ import annotations

import io
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from glider_plugins.cli import main

ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")


def run(argv, capsys):
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([str(a) for a in argv], out=out)
    err = "\n".join(line for line in capsys.readouterr().err.splitlines() if ": warning: " not in line)
    return status, out.getvalue(), err


def header_score(text):
    return float(re.search(r"\(score ([-0-9.e]+)", text).group(1))


def row_scores(text):
    return {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"^row (\d+): score ([-0-9.e]+)", text, re.M)}


def top_interaction(text, row):
    block = text.split(f"row {row}: ")[1]
    return re.search(r"^\s+1\. (.+?)\s{2,}", block, re.M).group(1)


# -------------------------------------------------------------------------------------------- models
class Multi(torch.nn.Module):
    """Three named inputs: age (N,), income (N, 2), ids (N, 1) int64; one planted pair age x income[:, 0]."""

    def __init__(self):
        super().__init__()
        self.table = torch.nn.Embedding(5, 1)

    def forward(self, age, income, ids):
        return age * income[:, 0] + income[:, 1] + self.table(ids[:, 0])[:, 0]


class Ctr(torch.nn.Module):
    """One int64 input of 12 id fields (vocabulary 0..7 each); a planted pair of fields 0 and 1."""

    def __init__(self):
        super().__init__()
        self.table = torch.nn.Embedding(8, 1)

    def forward(self, ids):
        e = self.table(ids)[..., 0]
        return e.sum(1) + 3.0 * e[:, 0] * e[:, 1]  # a logit


def _export(module, args, path, names, dims):
    torch.onnx.export(module.eval(), args, str(path), input_names=names, output_names=["p"],
                      dynamic_axes={n: {0: "batch"} for n in [*names, "p"]} if dims else None, dynamo=False)
    return str(path)


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    """A skl2onnx GradientBoostingClassifier on breast cancer (30 float columns), zipmap off."""
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier

    folder = tmp_path_factory.mktemp("cancer")
    frame, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = frame.astype(np.float32)
    model = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(frame, y)
    onx = skl2onnx.to_onnx(model, frame.to_numpy()[:1], options={"zipmap": False})
    (folder / "gbdt.onnx").write_bytes(onx.SerializeToString())
    frame.assign(label=y).to_csv(folder / "cancer.csv", index=False)
    return {"model": folder / "gbdt.onnx", "csv": folder / "cancer.csv", "frame": frame, "sk": model, "folder": folder}


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi")
    torch.manual_seed(0)
    module = Multi()
    path = _export(module, (torch.zeros(2), torch.zeros(2, 2), torch.zeros(2, 1, dtype=torch.int64)), folder / "multi.onnx",
                   ["age", "income", "ids"], True)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(size=30), "inc_a": rng.normal(size=30), "inc_b": rng.normal(size=30), "ids": rng.integers(0, 5, 30)})
    frame.to_csv(folder / "multi.csv", index=False)
    return {"model": path, "csv": folder / "multi.csv", "frame": frame, "folder": folder}


@pytest.fixture(scope="module")
def ctr(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ctr")
    torch.manual_seed(0)
    module = Ctr().eval()
    path = _export(module, (torch.zeros(2, 12, dtype=torch.int64),), folder / "ctr.onnx", ["ids"], True)
    torch.jit.save(torch.jit.script(module), str(folder / "ctr.pt"))
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.integers(0, 8, (30, 12)), columns=[f"f{j}" for j in range(12)])
    frame.to_csv(folder / "ctr.csv", index=False)
    return {"model": path, "pt": folder / "ctr.pt", "csv": folder / "ctr.csv", "frame": frame, "module": module, "folder": folder}


# ------------------------------------------------------------------------------- skl2onnx GBDT
def test_gbdt_target_1_explains_the_probability_of_class_1(cancer, capsys, tmp_path):
    base = ["explain", cancer["model"], "--data", cancer["csv"], "--rows", "0-3", "--output-name", "probabilities", "--n-samples", 150, "--quiet"]
    status, one, err = run([*base, "--target", 1, "--out", tmp_path / "one.csv"], capsys)
    assert status == 0, err
    frame, sk = cancer["frame"], cancer["sk"]
    proba = sk.predict_proba(frame.iloc[:4])[:, 1]
    assert np.allclose([row_scores(one)[i] for i in range(4)], proba, atol=1e-4)
    assert "inputs: X (float, 30 columns); 30 features" in one
    median = sk.predict_proba(frame.median().to_frame().T)[0, 1]  # --baseline auto: the median row
    assert header_score(one) == pytest.approx(median, abs=1e-4)
    status, zero, _ = run([*base, "--target", 0, "--out", tmp_path / "zero.csv"], capsys)
    assert status == 0 and np.allclose([row_scores(zero)[i] for i in range(4)], 1 - proba, atol=1e-4)
    a, b = pd.read_csv(tmp_path / "one.csv"), pd.read_csv(tmp_path / "zero.csv")  # P(0) = 1 - P(1): the same interactions
    assert list(a["names"]) == list(b["names"]) and np.allclose(a["strength"], b["strength"], rtol=1e-3, atol=1e-6)


def test_gbdt_global_writes_the_interactions_of_the_30_columns(cancer, capsys, tmp_path):
    out = tmp_path / "g.json"
    status, text, err = run(["global", cancer["model"], "--data", cancer["csv"], "--out", out, "--target", 1, "--output-name",
                             "probabilities", "--n-instances", 12, "--n-samples", 120, "--quiet"], capsys)
    assert status == 0, err
    document = json.loads(out.read_text())
    assert document["feature_names"] == list(cancer["frame"].columns) and f"over 12 rows to {out}" in text


def test_a_multi_column_output_without_target_and_a_target_out_of_range_are_named(cancer, capsys):
    base = ["explain", cancer["model"], "--data", cancer["csv"], "--output-name", "probabilities"]
    status, _, err = run(base, capsys)
    assert status == 2 and "--target: the model's output has 2 columns" in err and len(err.splitlines()) == 1
    status, _, err = run([*base, "--target", 2], capsys)
    assert status == 2 and "--target: 2 is out of range" in err and "(0..1)" in err
    status, _, err = run([*base[:-2], "--output-name", "proba"], capsys)
    assert status == 2 and "--output-name: 'proba' is not an output" in err and "probabilities" in err


# ------------------------------------------------------------------------------- several inputs
def test_several_named_inputs_map_by_name_then_position_and_by_spec(multi, capsys):
    base = ["explain", multi["model"], "--data", multi["csv"], "--rows", "0-2", "--quiet"]
    status, text, err = run(base, capsys)
    assert status == 0, err
    assert "inputs: age (float, 1 column), income (float, 2 columns), ids (int, 1 column); 4 features" in text
    assert all(top_interaction(text, r) == "age x inc_a" for r in range(3)), text  # income = (inc_a, inc_b) by position
    status, swapped, _ = run([*base, "--inputs", "income=inc_b,inc_a"], capsys)
    assert status == 0 and all(top_interaction(swapped, r) == "age x inc_b" for r in range(3)), swapped
    status, grouped, _ = run([*base, "--feature-groups", "inc_a,inc_b"], capsys)
    assert status == 0 and "; 3 features;" in grouped and top_interaction(grouped, 0) == "age x inc_a+inc_b"


@pytest.mark.parametrize("kind", ["zeros", "median", "mean", "mode", "file"])
def test_each_baseline_kind_is_the_row_the_model_is_explained_against(multi, capsys, tmp_path, kind):
    frame = multi["frame"]
    floats = ["age", "inc_a", "inc_b"]
    if kind == "zeros":
        row = frame.iloc[:1] * 0
    elif kind == "file":
        row = pd.DataFrame({"age": [1.5], "inc_a": [-2.0], "inc_b": [0.25], "ids": [3]})
        row.to_csv(tmp_path / "base.csv", index=False)
    else:
        stats = {"median": frame[floats].median(), "mean": frame[floats].mean(), "mode": frame[floats].mode().iloc[0]}[kind]
        row = pd.DataFrame([{**stats.to_dict(), "ids": int(frame["ids"].mode().min())}])  # ids take their mode
    option = tmp_path / "base.csv" if kind == "file" else kind
    status, text, err = run(["explain", multi["model"], "--data", multi["csv"], "--rows", 0, "--baseline", option, "--quiet"], capsys)
    assert status == 0, err
    session = ort.InferenceSession(multi["model"])
    feeds = {"age": row["age"].to_numpy(np.float32), "income": row[["inc_a", "inc_b"]].to_numpy(np.float32), "ids": row[["ids"]].to_numpy(np.int64)}
    assert header_score(text) == pytest.approx(float(session.run(None, feeds)[0][0]), abs=1e-5)


# ------------------------------------------------------------------------ one float input: DeepFM
def test_a_third_party_deepfm_with_one_float_input_of_10_fields(capsys, tmp_path):
    pytest.importorskip("deepctr_torch")
    from deepctr_torch.inputs import DenseFeat, SparseFeat
    from deepctr_torch.models import DeepFM

    features = [SparseFeat(f"C{i}", 6, embedding_dim=4) for i in range(8)] + [DenseFeat(f"I{i}", 1) for i in range(2)]
    model = DeepFM(features, features, task="binary", dnn_hidden_units=(8,), device="cpu", seed=0).eval()
    path = _export(model, (torch.zeros(4, 10),), tmp_path / "deepfm.onnx", ["input"], True)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 6, (24, 8)).astype(float), columns=[f"C{i}" for i in range(8)])
    frame = frame.assign(I0=rng.random(24), I1=rng.random(24), label=rng.integers(0, 2, 24))
    frame.to_csv(tmp_path / "dfm.csv", index=False)
    status, text, err = run(["explain", path, "--data", tmp_path / "dfm.csv", "--rows", "0-1", "--n-samples", 150, "--quiet"], capsys)
    assert status == 0, err
    assert "inputs: input (float, 10 columns); 10 features" in text
    with torch.no_grad():
        expected = model(torch.tensor(frame.drop(columns="label").to_numpy()[:2], dtype=torch.float32))[:, 0].numpy()
    assert np.allclose([row_scores(text)[i] for i in range(2)], expected, atol=1e-5)
    status, _, err = run(["global", path, "--data", tmp_path / "dfm.csv", "--out", tmp_path / "g.json", "--n-samples", 120, "--quiet"], capsys)
    assert status == 0 and json.loads((tmp_path / "g.json").read_text())["feature_names"] == list(frame.columns[:10]), err


# --------------------------------------------------------------------- one int64 id input, TorchScript
def test_a_ctr_model_with_one_int64_id_input(ctr, capsys):
    status, text, err = run(["explain", ctr["model"], "--data", ctr["csv"], "--rows", "0-2", "--quiet"], capsys)
    assert status == 0, err
    assert "inputs: ids (int, 12 columns); 12 features; baseline auto" in text
    assert all(top_interaction(text, r) == "f0 x f1" for r in range(3)), text


def test_an_id_outside_the_embedding_is_named(ctr, capsys, tmp_path):
    ctr["frame"].assign(f5=lambda f: f["f5"].where(f.index != 4, 99)).to_csv(tmp_path / "oov.csv", index=False)
    status, _, err = run(["explain", ctr["model"], "--data", tmp_path / "oov.csv"], capsys)
    assert status == 2 and "column 'f5' has id 99 (row 4) that the model rejects" in err and len(err.splitlines()) == 1


def test_a_torchscript_file_takes_its_inputs_from_the_spec(ctr, capsys):
    columns = ",".join(ctr["frame"].columns)
    status, script, err = run(["explain", ctr["pt"], "--data", ctr["csv"], "--rows", "0-2", "--inputs", f"ids:int={columns}", "--quiet"], capsys)
    assert status == 0, err
    status, onnx, _ = run(["explain", ctr["model"], "--data", ctr["csv"], "--rows", "0-2", "--quiet"], capsys)
    assert np.allclose(list(row_scores(script).values()), list(row_scores(onnx).values()), atol=1e-6)
    assert top_interaction(script, 0) == "f0 x f1"


def test_a_keras_file(capsys, tmp_path):
    keras = pytest.importorskip("keras")
    a, b, c = (keras.Input((1,), name=n) for n in "abc")  # named like the columns: mapped by name
    model = keras.Model([a, b, c], keras.layers.Add()([keras.layers.Multiply()([a, b]), c]))
    model.save(tmp_path / "m.keras")
    pd.DataFrame(np.random.default_rng(0).normal(size=(10, 3)), columns=["a", "b", "c"]).to_csv(tmp_path / "k.csv", index=False)
    status, text, err = run(["explain", tmp_path / "m.keras", "--data", tmp_path / "k.csv", "--rows", "0-1", "--quiet"], capsys)
    assert status == 0 and top_interaction(text, 0) == "a x b", err


# ---------------------------------------------------------------------------- workers, checkpoint
def test_workers_and_checkpoint_give_the_local_result(ctr, capsys, tmp_path):
    base = ["global", ctr["model"], "--data", ctr["csv"], "--n-samples", 100, "--quiet", "--top-k", 3]
    assert run([*base, "--out", tmp_path / "local.json"], capsys)[0] == 0
    status, _, err = run([*base, "--out", tmp_path / "pool.json", "--workers", 2, "--checkpoint", tmp_path / "ck"], capsys)
    assert status == 0, err
    local, pool = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "pool"))
    assert pool["interactions"] == local["interactions"] and pool["metadata"]["executor"] == "ProcessPoolExecutor"
    assert run([*base, "--out", tmp_path / "again.json", "--checkpoint", tmp_path / "ck"], capsys)[0] == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["metadata"]["resumed_chunks"] >= 1 and again["interactions"] == local["interactions"]


# ---------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("options", "message"), [
    (["--inputs", "income=inc_a,nope"], "--inputs: column 'nope' of input 'income' is not in the table"),
    (["--inputs", "salary=inc_a,inc_b"], "--inputs: the model has no input 'salary'; its inputs are ['age', 'income', 'ids']"),
    (["--inputs", "income=inc_a"], "--inputs: input 'income' (N, 2) float32 takes 2 columns, got 1: ['inc_a']"),
    (["--inputs", "income=inc_a,inc_b;age=inc_a"], "--inputs: column 'inc_a' is given to inputs 'age' and 'income'"),
    (["--inputs", "ids:float=ids"], "--inputs: input 'ids' is declared int64, not float"),
    (["--feature-groups", "inc_a,salary"], "--feature-groups: column 'salary' is not one of the model's columns"),
    (["--baseline", "average"], "--baseline: expected one of ['auto', 'median', 'mean', 'mode', 'zeros'] or a one-row CSV/Parquet file"),
    (["--target", 1], "--target: 1 is out of range: the model gives one score per row"),
    (["--workers", "many"], "--workers: expected a number of processes (4) or a Dask scheduler address"),
    (["--categorical", "ids", "--inputs", "x=age"], "--inputs: give either --inputs or --categorical/--dense"),
])
def test_bad_options_exit_2_with_one_line_naming_the_culprit(multi, capsys, options, message):
    command = "global" if "--workers" in options else "explain"
    extra = ["--out", multi["folder"] / "g.json"] if command == "global" else []
    status, _, err = run([command, multi["model"], "--data", multi["csv"], *extra, *options], capsys)
    assert status == 2 and message in err and len(err.splitlines()) == 1, err


def test_bad_columns_and_baseline_files_are_named(multi, capsys, tmp_path):
    base = ["explain", multi["model"], "--data"]
    multi["frame"].astype({"inc_b": object}).assign(inc_b=lambda f: f["inc_b"].where(f.index != 2, "abc")).to_csv(tmp_path / "s.csv", index=False)
    status, _, err = run([*base, tmp_path / "s.csv"], capsys)
    assert status == 2 and "columns ['inc_b'] feed the float input 'income' but hold values that are not numbers (e.g. 'abc'" in err
    multi["frame"].assign(ids=multi["frame"]["ids"] + 0.5).to_csv(tmp_path / "f.csv", index=False)
    status, _, err = run([*base, tmp_path / "f.csv"], capsys)
    assert status == 2 and "columns ['ids'] feed the integer input 'ids' but do not hold integers" in err
    multi["frame"].drop(columns="inc_b").to_csv(tmp_path / "short.csv", index=False)
    status, _, err = run([*base, tmp_path / "short.csv"], capsys)
    assert status == 2 and "--data: the model's inputs take 2 columns by position ('income' 2)" in err and "1 other columns ['inc_a']" in err
    multi["frame"].iloc[:2].to_csv(tmp_path / "two.csv", index=False)
    status, _, err = run([*base, multi["csv"], "--baseline", tmp_path / "two.csv"], capsys)
    assert status == 2 and "has 2 rows; a baseline file holds one row" in err
    multi["frame"].iloc[:1].drop(columns="age").to_csv(tmp_path / "part.csv", index=False)
    status, _, err = run([*base, multi["csv"], "--baseline", tmp_path / "part.csv"], capsys)
    assert status == 2 and "lacks the columns ['age']" in err
    status, _, err = run(["explain", tmp_path / "absent.pt", "--data", multi["csv"]], capsys)
    assert status == 2 and "absent.pt" in err
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    status, _, err = run(["explain", tmp_path / "junk.pt", "--data", multi["csv"]], capsys)
    assert status == 2 and "could not load" in err and "as a TorchScript file" in err and len(err.splitlines()) == 1


def test_review_cases_a_bad_baseline_id_a_foreign_flag_a_late_out_and_a_group_named_like_a_column(ctr, multi, capsys, tmp_path):
    # a baseline file holding an id the model rejects: one line naming --baseline
    ctr["frame"].iloc[:1].assign(f3=99).to_csv(tmp_path / "bad.csv", index=False)
    status, _, err = run(["explain", ctr["model"], "--data", ctr["csv"], "--baseline", tmp_path / "bad.csv"], capsys)
    assert status == 2 and err.startswith("glider explain: error: --baseline: the model rejects the baseline row") and len(err.splitlines()) == 1, err
    # --categorical is for (cat_ids, dense) ONNX recommenders only
    status, _, err = run(["explain", ctr["pt"], "--data", ctr["csv"], "--categorical", "f0"], capsys)
    assert status == 2 and "--categorical/--dense: only for (cat_ids, dense) ONNX recommenders" in err and len(err.splitlines()) == 1, err
    # an --out that is no table file is refused before any work
    status, text, err = run(["explain", ctr["model"], "--data", ctr["csv"], "--out", tmp_path / "x.txt"], capsys)
    assert status == 2 and "--out:" in err and "neither CSV" in err and text == "", err
    # a group and a column named like a group stay apart (one feature each)
    from glider_plugins.adapters.base import InputSpec
    from glider_plugins.pipeline.model_inputs import map_table

    frame = pd.DataFrame({"group 0": [1.0, 2.0], "a": [1.0, 2.0], "b": [3.0, 4.0]})
    mapped = map_table(frame, (InputSpec(name="x", dtype=np.dtype("float32"), shape=(None, 3)),), None, "label")
    mask, names = mapped.feature_layout([["a", "b"]])
    assert mask[0].tolist() == [[0, 1, 1]] and names == ("group 0", "a+b")
