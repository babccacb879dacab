"""The ``glider`` command: explain, global, encode (CSV/Parquet in and out) and its bad-input errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest

from glider_plugins.cli import main
from glider_plugins.encoders.cross import CrossFeatureEncoder
from glider_plugins.pipeline import prepare_data
from glider_plugins.pipeline.tabular import add_metadata
from glider_plugins.recsys import CTRDataset, evaluate, export_onnx, fit, make_model
from glider_plugins.results import GlobalInteractions

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A DeepFM trained on small synthetic data: ONNX with and without field metadata, and its table as CSV."""
    folder = tmp_path_factory.mktemp("cli")
    data = prepare_data("synthetic", synthetic_options={"n_rows": 6000, "n_dense": 1, "n_cat": 5, "n_pairs": 1, "n_triples": 0, "cardinality_range": (3, 20)})
    model = make_model("deepfm", data.train.cardinalities, data.train.n_dense, seed=0)
    fit(model, data.train, data.valid, epochs=2, num_threads=1)
    bare = export_onnx(model, folder / "bare.onnx")
    named = export_onnx(model, folder / "named.onnx")
    add_metadata(named, data.train.cat_names, data.train.dense_names, data.train.cardinalities)
    csv = folder / "train.csv"
    frame = data.frame("train")
    frame.to_csv(csv, index=False)
    valid = folder / "valid.csv"
    data.frame("valid").to_csv(valid, index=False)
    return {"folder": folder, "bare": str(bare), "named": str(named), "csv": str(csv), "frame": frame, "data": data, "valid": str(valid)}


def run(argv, capsys):
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([str(a) for a in argv], out=out)
    return status, out.getvalue(), capsys.readouterr().err


def test_global_then_encode_produce_files_the_encoder_and_models_accept(files, capsys):
    folder = files["folder"]
    status, text, _ = run(["global", files["named"], "--data", files["csv"], "--out", folder / "g.json", "--n-instances", 100], capsys)
    assert status == 0 and "wrote" in text
    interactions = GlobalInteractions.from_json(folder / "g.json")
    assert len(interactions) > 0 and tuple(interactions.feature_names) == tuple(c for c in files["frame"].columns if c != "label")

    out = folder / "crossed.csv"
    status, text, _ = run(["encode", "--interactions", folder / "g.json", "--data", files["csv"], "--out", out, "--k", 3, "--min-count", 5], capsys)
    assert status == 0 and "_x_" in text and "of the others with their own id" in text and "binned into up to 100 quantile bins" in text
    status, plain, _ = run(["encode", "--interactions", folder / "g.json", "--data", files["csv"], "--out", folder / "plain.csv",
                            "--k", 3, "--min-count", 5, "--dense", "--onnx", folder / "crosses.onnx"], capsys)
    assert status == 0 and "quantile bins: none" in plain and "wrote the ONNX graph of the crosses" in plain
    graph = onnx.load(str(folder / "crosses.onnx"))
    inputs = json.loads({p.key: p.value for p in graph.metadata_props}["input_columns"])
    served = ort.InferenceSession(graph.SerializeToString()).run(None, {"X": files["frame"][inputs].to_numpy(np.float64)})[0]
    written = pd.read_csv(folder / "plain.csv")
    np.testing.assert_array_equal(served, written[[c for c in written.columns if "_x_" in c]].to_numpy())
    crossed = pd.read_csv(out)
    crosses = [c for c in crossed.columns if "_x_" in c]
    assert 1 <= len(crosses) <= 3 and all(crossed[c].dtype == np.int64 for c in crosses)

    frame = files["frame"]
    encoder = CrossFeatureEncoder(interactions, top_k=3, min_count=5).fit(frame.drop(columns="label"))
    assert list(encoder.get_feature_names_out()) == crosses  # the file's crosses are the encoder's
    features = [c for c in crossed.columns if c != "label"]
    table = CTRDataset(crossed[features].to_numpy(np.int64).copy(), labels=crossed["label"].to_numpy(), cat_names=features)
    model = make_model("dcn", table.cardinalities, table.n_dense, seed=0)
    fit(model, table, epochs=1, num_threads=1)
    assert 0.0 < evaluate(model, table)["auc"] <= 1.0


def test_global_without_metadata_uses_column_order_and_parquet_in_and_out(files, capsys, tmp_path):
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "train.parquet"
    files["frame"].to_parquet(parquet)
    status, _, _ = run(["global", files["bare"], "--data", parquet, "--out", tmp_path / "g.json", "--n-instances", 20], capsys)
    assert status == 0 and GlobalInteractions.from_json(tmp_path / "g.json").n_instances == 20
    status, _, _ = run(["encode", "--interactions", tmp_path / "g.json", "--data", parquet, "--out", tmp_path / "x.parquet", "--k", 2], capsys)
    assert status == 0 and sum("_x_" in c for c in pd.read_parquet(tmp_path / "x.parquet").columns) >= 1


def test_explain_prints_the_interactions_of_chosen_rows(files, capsys, tmp_path):
    status, text, _ = run(["explain", files["named"], "--data", files["csv"], "--rows", "0,2-3", "--top-k", 3, "--out", tmp_path / "e.csv"], capsys)
    assert status == 0
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("row")] == ["row 0", "row 2", "row 3"]
    assert " x " in text and set(pd.read_csv(tmp_path / "e.csv")["instance"]) == {0, 2, 3}


def test_columns_that_do_not_match_the_model_are_named(files, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    files["frame"].drop(columns="C3").to_csv(bad, index=False)
    status, _, err = run(["global", files["named"], "--data", bad, "--out", tmp_path / "g.json"], capsys)
    assert status == 2 and "['C3']" in err and "not in the table" in err
    status, _, err = run(["global", files["bare"], "--data", bad, "--out", tmp_path / "g.json"], capsys)
    assert status == 2 and "feature columns" in err


def test_ids_outside_the_vocabulary_are_named(files, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    files["frame"].assign(C2=10_000).to_csv(bad, index=False)
    status, _, err = run(["explain", files["named"], "--data", bad], capsys)
    assert status == 2 and "'C2' has id 10000, outside the model's vocabulary" in err


def test_empty_data_and_unparsable_interactions_are_named(files, capsys, tmp_path):
    empty = tmp_path / "empty.csv"
    files["frame"].iloc[:0].to_csv(empty, index=False)
    status, _, err = run(["global", files["named"], "--data", empty, "--out", tmp_path / "g.json"], capsys)
    assert status == 2 and "empty.csv" in err and "no rows" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    status, _, err = run(["encode", "--interactions", broken, "--data", files["csv"], "--out", tmp_path / "o.csv"], capsys)
    assert status == 2 and "broken.json" in err
    status, _, err = run(["encode", "--interactions", tmp_path / "absent.json", "--data", files["csv"], "--out", tmp_path / "o.csv"], capsys)
    assert status == 2 and "absent.json" in err


def test_k_larger_than_found_warns_and_encodes_what_there_is(files, capsys, tmp_path):
    run(["global", files["named"], "--data", files["csv"], "--out", tmp_path / "g.json", "--n-instances", 30], capsys)
    out = io.StringIO()
    status = main(["encode", "--interactions", str(tmp_path / "g.json"), "--data", files["csv"], "--out", str(tmp_path / "o.csv"), "--k", "999"], out=out)
    err = capsys.readouterr().err
    assert status == 0 and "k=999 is larger than" in err and "warning" in err


def test_console_entry_point_exits_non_zero_naming_the_culprit(files, tmp_path):
    bad = tmp_path / "bad.csv"
    files["frame"].drop(columns=["C1", "I1"]).to_csv(bad, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "glider_plugins.cli", "global", files["named"], "--data", str(bad), "--out", str(tmp_path / "g.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "glider global: error" in proc.stderr and "'I1'" in proc.stderr and "'C1'" in proc.stderr


def test_encode_with_held_out_labels_keeps_the_crosses_that_pay_off(files, capsys, tmp_path):
    """--valid: the top 3k candidates checked on held-out rows; the planted pair of the synthetic
    data is kept (the small source model does not rank it in its top 6: the selection keeps
    nothing from those), the report written beside the output."""
    status, _, _ = run(["global", files["named"], "--data", files["csv"], "--out", tmp_path / "g.json", "--n-instances", 100], capsys)
    assert status == 0
    out = tmp_path / "kept.csv"
    status, text, _ = run(["encode", "--interactions", tmp_path / "g.json", "--data", files["csv"], "--valid", files["valid"],
                           "--out", out, "--k", 8, "--min-count", 5], capsys)  # 24 candidates: every pair of the 6 fields
    assert status == 0 and "candidate crosses; held-out log loss" in text
    report = pd.read_csv(tmp_path / "kept.selection.csv")
    kept = report.loc[report["kept"], "cross"].tolist()
    assert 1 <= len(kept) <= 8 and sorted(c for c in pd.read_csv(out).columns if "_x_" in c) == sorted(kept), report.to_string()
    assert report["count"].notna().all() and (report["count"] > 0).all()  # GLIDER's counts in the report
    planted = ["_x_".join(files["data"].train.feature_names[i] for i in group) for group in files["data"].planted]
    assert set(planted) & set(kept), (planted, report)
    status, _, err = run(["encode", "--interactions", tmp_path / "g.json", "--data", files["csv"], "--valid", files["valid"],
                          "--out", out, "--label", "clicked"], capsys)
    assert status == 2 and "no label column 'clicked'" in err


# ------------------------------------------------------------------- issue 15, item 5: CLI input
@pytest.fixture(scope="module")
def plain_onnx(tmp_path_factory):
    """A (cat_ids, dense) ONNX model of a plain embedding (no id clamping: an id past its table
    makes onnxruntime raise) and a table for it: id columns a, b (0..4) and a dense column x."""
    import torch

    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Embedding(10, 1)

        def forward(self, cat, dense):
            return (self.table(cat[:, 0]) * self.table(cat[:, 1] + 5)).sum(1) + dense[:, 0]

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("plain") / "plain.onnx"
    torch.onnx.export(Plain().eval(), (torch.zeros(2, 2, dtype=torch.int64), torch.zeros(2, 1)), str(path), input_names=["cat_ids", "dense"],
                      output_names=["p"], dynamic_axes={"cat_ids": {0: "n"}, "dense": {0: "n"}, "p": {0: "n"}}, dynamo=False)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 5, 40), "b": rng.integers(0, 5, 40), "x": rng.normal(size=40)})
    return str(path), frame


def test_a_string_in_a_dense_column_is_named(plain_onnx, capsys, tmp_path):
    model, frame = plain_onnx
    bad = tmp_path / "strings.csv"
    frame.astype({"x": object}).assign(x=lambda f: f["x"].where(f.index != 3, "abc")).to_csv(bad, index=False)
    status, _, err = run(["explain", model, "--data", bad], capsys)
    assert status == 2 and "dense columns ['x'] hold values that are not numbers (e.g. 'abc' in 'x')" in err, err
    assert len(err.strip().splitlines()) == 1


def test_an_id_the_model_rejects_is_named_without_vocabulary_metadata(plain_onnx, capsys, tmp_path):
    model, frame = plain_onnx
    good = tmp_path / "good.csv"
    frame.to_csv(good, index=False)
    status, _, _ = run(["explain", model, "--data", good, "--rows", "0-1"], capsys)
    assert status == 0
    bad = tmp_path / "oov.csv"
    frame.assign(b=lambda f: f["b"].where(f.index != 7, 10_000)).to_csv(bad, index=False)
    status, _, err = run(["explain", model, "--data", bad], capsys)
    assert status == 2 and "column 'b' has id 10000 (row 7) that the model rejects" in err, err
    assert len(err.strip().splitlines()) == 1


def test_out_into_a_missing_folder_fails_before_any_work(files, capsys, tmp_path):
    import time

    start = time.perf_counter()
    status, _, err = run(["global", files["named"], "--data", files["csv"], "--out", tmp_path / "nope" / "g.json"], capsys)
    assert status == 2 and "--out: the folder" in err and "does not exist" in err
    assert time.perf_counter() - start < 5  # nothing was computed (a full run takes longer)
    status, _, err = run(["explain", files["named"], "--data", files["csv"], "--out", tmp_path / "nope" / "e.csv"], capsys)
    assert status == 2 and "--out: the folder" in err


@pytest.mark.parametrize(("rows", "match"), [("9-5", "the range '9-5' is empty"), ("5-", r"expected indices like 0,3,5-9, got '5-'"),
                                             ("a", "got 'a'"), ("0,9999", r"rows \[9999\] are outside")])
def test_bad_row_ranges_are_named(files, capsys, rows, match):
    import re

    status, _, err = run(["explain", files["named"], "--data", files["csv"], "--rows", rows], capsys)
    assert status == 2 and re.search(match, err), err


def test_demo_names_an_unknown_target_model_before_any_work(capsys, tmp_path):
    import time

    start = time.perf_counter()
    status, _, err = run(["demo", "--data", "census", "--targets", "deepfm", "widedeepp", "--out", tmp_path / "demo"], capsys)
    assert status == 2 and "--targets: unknown model(s) ['widedeepp']" in err and "deepfm" in err
    assert time.perf_counter() - start < 5  # the census tree source was not trained


@pytest.mark.parametrize(("argument", "value"), [("--controls", "+everything"), ("--ranking", "gain")])
def test_demo_names_an_unknown_control_or_ranking(capsys, tmp_path, argument, value):
    with pytest.raises(SystemExit) as stop:  # argparse's own check of the choices, before any work
        run(["demo", argument, value, "--out", tmp_path / "demo"], capsys)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"argument {argument}: invalid choice: '{value}'" in err, err


def test_a_negative_seed_is_named(files, capsys, tmp_path):
    status, _, err = run(["global", files["named"], "--data", files["csv"], "--out", tmp_path / "g.json", "--seed", -1], capsys)
    assert status == 2 and "seed must be an integer >= 0" in err


def test_encode_keeps_category_zero_unless_told_it_means_missing(capsys, tmp_path):
    """Code 0 is a real category by default; ``--missing-value 0`` makes it missing, and the summary
    says how many rows that sends to id 0 (issue 27, defect 2: 44.7 % went there unreported)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 3, 2000), "b": rng.integers(0, 3, 2000)})
    data = tmp_path / "codes.csv"
    frame.to_csv(data, index=False)
    GlobalInteractions({(0, 1): 5}, {(0, 1): 1.0}, 10, ["a", "b"]).to_json(tmp_path / "g.json")
    args = ["encode", "--interactions", tmp_path / "g.json", "--data", data, "--out", tmp_path / "out.csv", "--k", 1, "--quiet"]
    status, text, _ = run(args, capsys)
    assert status == 0 and "0.0% of rows with a missing parent (empty cells: id 0)" in text
    assert (pd.read_csv(tmp_path / "out.csv")["a_x_b"] > 0).all()
    status, text, _ = run([*args, "--missing-value", 0], capsys)
    zero = float(((frame.a == 0) | (frame.b == 0)).mean())
    assert status == 0 and f"{zero:.1%} of rows with a missing parent (empty cells or id 0: id 0)" in text
    assert (pd.read_csv(tmp_path / "out.csv")["a_x_b"] == 0).mean() == zero
