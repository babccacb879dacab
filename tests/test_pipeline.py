"""The GLIDER pipeline end to end on synthetic data with planted crosses (the acceptance criteria).

Setting (runs in about a minute on 2 busy cores): ``make_criteo_like`` with 60,000 rows, 2 dense
and 10 categorical fields (cardinalities 3..50), 4 planted pairs; source model DeepFM (exported to
ONNX and explained through it), ArchDetect on 500 training rows keeping 5 interactions each, K = 6
(1.5 x planted); target DeepFM over 2 seeds. NID gives the same ranking in principle but trains one
MLP per row: ~1.7 s a row on these cores, 14 minutes for 500 rows, so ArchDetect is used here.
Measured with these settings (with the cross selection): the 4 planted pairs kept, none false; AUC
baseline 0.8365, +glider 0.8761, +oracle 0.8761 (100 % of the oracle's gain), +random 0.8174 (two
draws, one per seed: a loss). Issue 14 asks for at least 90 % of the oracle's gain.
"""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from glider_plugins.errors import InputError
from glider_plugins.pipeline import (
    ModelFields,
    PipelineResult,
    planted_recovery,
    prepare_data,
    random_groups,
    run_pipeline,
    table_inputs,
)
from glider_plugins.pipeline.candidates import Candidates, candidate_count, merged_candidates
from glider_plugins.results import GlobalInteractions

pytest.importorskip("onnxruntime")

SYNTHETIC = {"n_rows": 60_000, "n_dense": 2, "n_cat": 10, "n_pairs": 4, "n_triples": 0, "cardinality_range": (3, 50)}


@pytest.fixture(scope="module")
def result() -> PipelineResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(
            "synthetic", source_model="deepfm", target_models=("deepfm",), k=6, n_instances=500, top_k_per_instance=5,
            seeds=(0, 1), epochs=10, batch_size=512, seed=0, show_progress=False, synthetic_options=SYNTHETIC,
            controls=("+random",),
        )


def test_planted_groups_are_recovered_among_top_k(result):
    """K = 1.5 x planted: of GLIDER's 3 K candidates the selection keeps at most K, the planted."""
    assert len(result.planted) == 4 and 1 <= len(result.crosses) <= 6
    table = result.selection.report
    assert len(table) <= 18 and table["kept"].sum() == len(result.crosses)
    assert (table.loc[table["kept"], "gain"] > 2e-4).all() and result.selection.final_logloss < result.selection.base_logloss
    recovery = result.recovery()
    assert recovery["recall"] >= 0.75, result.cross_names()
    assert recovery["false_share"] <= 1 / 3 + 1e-12, result.cross_names()


def test_crosses_recover_most_of_the_oracle_gain_and_random_ones_less(result):
    """Random candidates, as many and of the same sizes, went through the same selection: what they
    gain is what chance put among them (a planted pair now and then), less than GLIDER's."""
    for model in ("deepfm", "logreg"):
        gains = result.gains().loc[model]
        assert gains["+oracle"] > 0.01
        assert gains["+glider"] >= 0.9 * gains["+oracle"], result.format_table()
        assert gains["+random"] < gains["+glider"] - 0.1 * gains["+oracle"], result.format_table()
    tried = result.table.drop_duplicates("variant").set_index("variant")["candidates"]
    assert tried["+glider"] <= 18 and tried["+random"] == tried["+glider"]
    assert len(result.selections["+random"]) == 2 and all(s is not None for s in result.selections["+random"])


def test_target_models_train_side_by_side_with_the_same_numbers():
    small = {"n_rows": 4000, "n_dense": 0, "n_cat": 4, "n_pairs": 1, "n_triples": 0, "cardinality_range": (3, 8)}
    runs = []
    for workers in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append(run_pipeline("synthetic", source_model="widedeep", target_models=("widedeep", "dcn"), k=1, n_instances=30,
                                     seeds=(0, 1), epochs=1, show_progress=False, synthetic_options=small, controls=("+random",),
                                     workers=workers))
    pd.testing.assert_frame_equal(runs[0].table.drop(columns="select_s"), runs[1].table.drop(columns="select_s"))
    assert [s.kept for s in runs[0].selections["+random"]] == [s.kept for s in runs[1].selections["+random"]]
    with pytest.raises(InputError, match="workers"):
        run_pipeline("synthetic", workers=0)


def test_every_pair_and_fast_go_through_the_same_selection():
    """The brute-force anchor and FAST's ranking on a small table: every pair (15 of 6 fields)
    finds the planted pair as the oracle does, and FAST ranks it among its candidates."""
    small = {"n_rows": 12_000, "n_dense": 0, "n_cat": 6, "n_pairs": 1, "n_triples": 0, "cardinality_range": (4, 12)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline("synthetic", source_model="widedeep", target_models=("widedeep",), k=2, n_instances=60, seeds=(0,),
                           epochs=2, show_progress=False, synthetic_options=small, controls=("+all-pairs", "+fast"))
    assert list(res.table["variant"]) == ["baseline", "+glider", "+all-pairs", "+fast", "+oracle"] * 2
    tried = res.table.drop_duplicates("variant").set_index("variant")["candidates"]
    assert tried["+all-pairs"] == 15 and 1 <= tried["+fast"] <= 6
    planted = [tuple(res.feature_names[i] for i in g) for g in res.planted]
    assert set(planted) <= set(res.selections["+all-pairs"][0].kept)
    assert set(planted) <= {tuple(sorted(c)) for c in res.selections["+fast"][0].report["columns"]}
    gains = res.gains().loc["logreg"]
    assert gains["+all-pairs"] >= 0.9 * gains["+oracle"] > 0
    # the list to use: the lowest held-out log loss after the selection, of GLIDER's and the deterministic controls
    losses = res.validation_loglosses()
    assert set(losses) == {"+glider", "+all-pairs", "+fast"}
    assert losses == {v: res.selections[v][0].final_logloss for v in losses}
    assert res.recommended == min(losses, key=losses.get) and res.recommended_crosses == res.variants[res.recommended]


def test_table_shape_and_timings(result):
    assert list(result.table.columns) == ["model", "variant", "auc_mean", "auc_std", "logloss_mean", "logloss_std", "n_crosses",
                                          "n_runs", "candidates", "select_s"]
    assert list(result.table["model"]) == ["logreg"] * 4 + ["deepfm"] * 4
    assert list(result.table["variant"]) == ["baseline", "+glider", "+random", "+oracle"] * 2
    assert (result.table.loc[result.table["variant"].isin(["+glider", "+random"]), "select_s"] > 0).all()
    assert {"prepare", "source_fit", "export", "detect", "select", "targets", "total"} <= set(result.timings)
    assert result.source_metrics["auc"] > 0.7


def test_save_writes_json_csv_png_and_html(result, tmp_path):
    paths = result.save(tmp_path / "report")
    assert GlobalInteractions.from_json(paths["interactions.json"]) == result.interactions
    table = pd.read_csv(paths["results.csv"])
    assert len(table) == 8 and "auc_mean" in table.columns
    assert paths["auc.png"].read_bytes()[:4] == b"\x89PNG" and paths["interactions.png"].stat().st_size > 0
    page = paths["report.html"].read_text()
    assert page.count("data:image/png;base64,") == 2 and "+glider" in page
    assert json.loads(paths["summary.json"].read_text())["recovery"]["recall"] >= 0.75
    selections = pd.read_csv(paths["selection.csv"])
    assert "GLIDER's candidates in the selection" in page and len(selections) == sum(len(s.report) for ss in result.selections.values() for s in ss)
    # a page a person reads (issue 27, defect 9): styled, settings in words, numbers formatted, every variant explained
    assert "<style>" in page and "<dt>rows explained</dt>" in page and "{" not in page.split("</style>")[1]
    best = result.table.loc[result.table.groupby("model")["auc_mean"].idxmax()]
    assert all(f"{auc:.4f} ±" in page for auc in best["auc_mean"]) and page.count("<tr class='best") >= len(best)
    assert "random candidates (as many, same sizes), through the same selection" in page
    assert all(name in page for name in result.cross_names()["+glider"])
    assert ">nan<" not in page and ">True<" not in page and ">False<" not in page  # missing as a dash, kept as yes/no
    assert set(selections["variant"]) == {"+glider", "+random"}
    # the random draws are a control, never the list to use: with only them beside it, GLIDER's is recommended
    assert result.recommended == "+glider" and result.recommended_crosses == result.crosses
    summary = json.loads(paths["summary.json"].read_text())["recommended"]
    assert summary["variant"] == "+glider" and set(summary["validation_logloss"]) == {"+glider"}
    assert "Crosses to use: those <b>+glider</b> kept" in page


def test_candidates_are_every_pair_ranked_by_cross_value_planted_first(result, tmp_path):
    """The default ranking values every pair of the 12 fields (and GLIDER's larger groups) on the
    source model's scores, and every pair on the labels: on either the 4 planted pairs are the 4
    highest, and the list tried takes the two positive-valued heads in turn, at most a third of
    the pairs."""
    values = result.cross_values
    planted = {tuple(sorted(result.feature_names[i] for i in g)) for g in result.planted}
    heads = {}
    for on, least in (("scores", 66), ("labels", 66)):
        part = values[values["on"] == on]
        assert len(part) >= least and part["value"].is_monotonic_decreasing
        assert {tuple(sorted(c)) for c in part["columns"].head(4)} == planted, part.head(6)
        heads[on] = [tuple(c) for c, v in zip(part["columns"], part["value"]) if v > 0]
    tried = [tuple(c) for c in result.selection.report["columns"]]
    merged = []
    for pair in itertools.zip_longest(heads["scores"], heads["labels"]):
        merged += [g for g in pair if g is not None and g not in merged]
    assert tried == merged[:18] and len(tried) <= 66 // 3
    assert 0.0 < values.attrs["additive_r2"] < 1.0  # the planted pairs are the non-additive part of the source's scores
    paths = result.save(tmp_path / "report")
    assert pd.read_csv(paths["cross_values.csv"])["cross"].tolist() == values["cross"].tolist()
    assert "<h2>Cross values</h2>" in paths["report.html"].read_text()


def test_frequency_ranking_tries_glider_s_most_frequent_interactions():
    small = {"n_rows": 4000, "n_dense": 0, "n_cat": 5, "n_pairs": 1, "n_triples": 0, "cardinality_range": (3, 8)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline("synthetic", source_model="widedeep", target_models=("widedeep",), k=2, n_instances=40, seeds=(0,),
                           epochs=1, show_progress=False, synthetic_options=small, controls=False, ranking="frequency")
        top = [tuple(res.interactions.names_of(s)) for s, _ in res.interactions.top(candidate_count(5, 2))]
    assert res.cross_values is None and res.settings["ranking"] == "frequency"
    assert [tuple(c) for c in res.selection.report["columns"]] == top
    with pytest.raises(InputError, match="ranking: expected one of"):
        run_pipeline("synthetic", ranking="gain")


def test_labels_list_ranks_pairs_by_cross_value_on_the_labels_and_can_be_recommended():
    """The data-only list (asked for by name): the planted pair has the highest cross value on the
    clicks and is kept; it goes through the same selection and competes for the recommendation."""
    small = {"n_rows": 12_000, "n_dense": 0, "n_cat": 6, "n_pairs": 1, "n_triples": 0, "cardinality_range": (4, 12)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline("synthetic", source_model="widedeep", target_models=("widedeep",), k=2, n_instances=60, seeds=(0,),
                           epochs=2, show_progress=False, synthetic_options=small, controls=("+labels",))
    assert list(res.table["variant"]) == ["baseline", "+glider", "+labels", "+oracle"] * 2
    planted = [tuple(res.feature_names[i] for i in g) for g in res.planted]
    report = res.selections["+labels"][0].report
    assert tuple(sorted(report["columns"].iloc[0])) == planted[0] and set(planted) <= set(res.selections["+labels"][0].kept)
    assert len(report) <= candidate_count(6, 2) and "+labels" in res.validation_loglosses()
    assert res.gains().loc["logreg", "+labels"] >= 0.9 * res.gains().loc["logreg", "+oracle"] > 0


def test_source_and_labels_ranking_takes_the_two_valued_heads_in_turn():
    """``ranking="source-and-labels"``: the source model's cross-value list and the labels' taken in
    turn, each pair once, as long as either list may be; the labels' planted pair is in it even
    where the source model's scores rank it lower; ``cross_values`` says which target each value was
    measured on."""
    small = {"n_rows": 12_000, "n_dense": 0, "n_cat": 6, "n_pairs": 1, "n_triples": 0, "cardinality_range": (4, 12)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline("synthetic", source_model="widedeep", target_models=("widedeep",), k=2, n_instances=60, seeds=(0,),
                           epochs=1, show_progress=False, synthetic_options=small, controls=("+labels",), ranking="source-and-labels")
    values = res.cross_values
    assert set(values["on"]) == {"scores", "labels"} and res.settings["ranking"] == "source-and-labels"
    heads = {on: [tuple(c) for c, v in zip(part["columns"], part["value"]) if v > 0] for on, part in values.groupby("on", sort=False)}
    tried = [tuple(c) for c in res.selection.report["columns"]]
    expected = []
    for pair in itertools.zip_longest(heads["scores"], heads["labels"]):
        expected += [g for g in pair if g is not None and g not in expected]
    assert tried == expected[: candidate_count(6, 2)]
    assert [tuple(c) for c in res.selections["+labels"][0].report["columns"]] == heads["labels"][: len(tried)]
    planted = [tuple(res.feature_names[i] for i in g) for g in res.planted]
    assert tuple(sorted(heads["labels"][0])) == planted[0] and planted[0] in {tuple(sorted(g)) for g in tried}


def test_merged_candidates_interleave_dedupe_and_stop_at_n():
    source = Candidates("+glider", [("a", "b"), ("c", "d"), ("e", "f")], 1.0, pd.DataFrame({"columns": [("a", "b")], "value": [0.3]}))
    labels = Candidates("+labels", [("c", "d"), ("g", "h")], 0.5, pd.DataFrame({"columns": [("c", "d")], "value": [0.1]}))
    merged = merged_candidates(source, labels, 4)
    assert merged.groups == [("a", "b"), ("c", "d"), ("g", "h"), ("e", "f")] and merged.seconds == 1.5
    assert merged.values["on"].tolist() == ["scores", "labels"] and merged_candidates(source, labels, 2).groups == [("a", "b"), ("c", "d")]


# ------------------------------------------------------------------------------------ small pieces
def test_planted_recovery_counts_pairs_inside_groups():
    out = planted_recovery([(0, 1), (2, 3), (5, 6)], [(0, 1), (2, 3, 4), (7, 8)])
    assert out == {"recall": 2 / 3, "false_share": 1 / 3}


def test_random_groups_are_seeded_and_avoid_excluded():
    a = random_groups([2, 2, 3], 10, [(0, 1)], seed=3)
    assert a == random_groups([2, 2, 3], 10, [(0, 1)], seed=3)
    assert [len(g) for g in a] == [2, 2, 3] and (0, 1) not in a and len(set(a)) == 3


def test_k_larger_than_found_warns_and_uses_what_there_is():
    with pytest.warns(UserWarning, match="larger than"):
        small = run_pipeline(
            "synthetic", source_model="widedeep", target_models=("widedeep",), k=500, n_instances=30, seeds=(0,), epochs=1,
            controls=False, show_progress=False, synthetic_options={"n_rows": 3000, "n_dense": 1, "n_cat": 4, "n_pairs": 1, "n_triples": 0},
            select=False,
        )
    assert 0 < len(small.crosses) < 500 and list(small.table["variant"]) == ["baseline", "+glider"] * 2 and small.selection is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k": 0}, "k: expected a positive"), ({"source_model": "nope"}, "source_model: .nope. is neither a model name"), ({"target_models": ("dcn", "x")}, "target_models: unknown"), ({"seeds": ()}, "seeds")],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(InputError, match=match):
        run_pipeline("synthetic", **kwargs)


def test_bad_data_is_named():
    with pytest.raises(InputError, match="no rows"):
        prepare_data(pd.DataFrame({"a": [], "label": []}))
    with pytest.raises(InputError, match="no 'label' column"):
        prepare_data(pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(InputError, match="unknown data set 'criteo'"):
        prepare_data("criteo")


def test_table_inputs_name_missing_columns_and_ids_outside_the_vocabulary():
    fields = ModelFields(2, 1, ("a", "b"), ("x",), (3, 5))
    good = pd.DataFrame({"a": [1, 2], "b": [4, 0], "x": [0.5, 1.0], "label": [0, 1]})
    inputs = table_inputs(good, fields)
    assert inputs.cat.tolist() == [[1, 4], [2, 0]] and inputs.feature_names == ("a", "b", "x")
    with pytest.raises(InputError, match=r"\['b'\]"):
        table_inputs(good.drop(columns="b"), fields)
    with pytest.raises(InputError, match="'a' has id 3, outside the model's vocabulary 0..2"):
        table_inputs(good.assign(a=[3, 1]), fields)
    with pytest.raises(InputError, match="no rows"):
        table_inputs(good.iloc[:0], fields)
    with pytest.raises(InputError, match=r"\['b'\] must hold integer ids"):
        table_inputs(good.assign(b=["u", "v"]), fields)
    unnamed = ModelFields(2, 1)
    assert table_inputs(good, unnamed).cat_names == ("a", "b")
    with pytest.raises(InputError, match="the table has 2 feature columns"):
        table_inputs(good.drop(columns="x"), unnamed)
    assert np.array_equal(table_inputs(good, unnamed, categorical=["b", "a"], dense=["x"]).cat[:, 0], [4, 0])


def test_a_dataframe_runs_through_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(1, 5, 2000), "b": rng.integers(1, 4, 2000), "x": rng.normal(size=2000)})
    frame["label"] = ((frame["a"] == 2) ^ (frame["b"] == 1)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = run_pipeline(frame, source_model="deepfm", target_models=("widedeep",), k=1, n_instances=50, seeds=(0,), epochs=2, show_progress=False, out=tmp_path)
    assert small.settings["data"] == "dataframe" and len(small.crosses) == 1
    assert (tmp_path / "report.html").is_file() and (tmp_path / "source_deepfm.onnx").is_file()
