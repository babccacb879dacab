"""Glider (global detection) and GlobalInteractions, on a black box with planted interactions."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from glider_plugins import Glider, GlobalInteractions
from glider_plugins.errors import InputError, InputTypeError
from glider_plugins.explain.formatting import build_layout
from glider_plugins.glider.chunks import ChunkBuilder, ChunkOptions, detect_chunk
from glider_plugins.glider.models import ModelSpec
from glider_plugins.results import prune_subsets
from tests.groundtruth.planted import PLANTED, planted_function, planted_instances, recovery

K = int(1.5 * len(PLANTED))  # the acceptance: K = 1.5 x planted


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return planted_instances(150, seed=0)


@pytest.fixture(scope="module")
def found(data) -> GlobalInteractions:
    return Glider(planted_function, detector="archdetect").detect(data, top_k=3, baselines=0.0, seed=0, chunk_size=40, show_progress=False)


class PlantedModule(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(planted_function(x.detach().numpy()))


# ------------------------------------------------------------------------------- ground truth
def test_planted_groups_are_recovered_among_the_top_k(found):
    assert found.n_instances == 150 and found.feature_names == [f"x{i}" for i in range(12)]
    with pytest.warns(UserWarning, match=f"k={K} is larger than the 4 interaction"):
        top = found.top(K)
    recall, false_share = recovery([s for s, _ in top])
    assert recall >= 0.75 and false_share <= 1 / 3
    assert recall == 1.0 and false_share == 0.0  # measured: every group, nothing else
    counts = [c for _, c in top]
    assert counts == sorted(counts, reverse=True) and counts[-1] >= 0.5 * found.n_instances


def test_a_torch_model_and_more_local_interactions_per_instance(data):
    g = Glider(PlantedModule(), detector="archdetect").detect(torch.as_tensor(data[:60]), top_k=5, baselines=0.0, seed=1, show_progress=False)
    assert g.metadata["framework"] == "torch"
    with pytest.warns(UserWarning, match="larger than"):
        recall, false_share = recovery([s for s, _ in g.top(K)])
    assert recall >= 0.75 and false_share <= 1 / 3


def test_nid_with_cutoff_recovers_the_planted_groups_deterministically(data, one_torch_thread):
    """MADEX as in the paper (NID + its cut-off) on 60 instances; measured recall 1.0 for seeds 0-2."""
    glider = Glider(planted_function, detector="nid")
    run = dict(n_instances=60, top_k=3, n_samples=300, baselines=0.0, seed=0, show_progress=False, hidden_units=(64, 32), cutoff=True)
    g = glider.detect(data, **run)
    with pytest.warns(UserWarning, match="larger than"):  # 4 sets after pruning
        recall, false_share = recovery([s for s, _ in g.top(K)])
    assert recall >= 0.75 and false_share <= 1 / 3
    assert {s for s, _ in g.top(2)} == {(0, 1), (5, 6)}  # the strongest terms are the most frequent
    assert glider.detect(data, **run) == g
    assert g.metadata["detector"] == "nid" and g.metadata["n_samples"] == 300 and g.metadata["options"]["cutoff"] is True


# ------------------------------------------------------------------------------- pruning
def test_a_strict_subset_of_a_chosen_set_is_skipped():
    assert prune_subsets([(2, 3, 4), (2, 3), (0, 1), (3, 4)], 2) == [(2, 3, 4), (0, 1)]


def test_a_chosen_set_contained_in_a_newly_chosen_one_is_removed():
    ranked = [(0, 1), (5, 6), (0, 1, 2), (1, 2), (7, 8)]
    assert prune_subsets(ranked, 3) == [(5, 6), (0, 1, 2), (7, 8)]
    assert prune_subsets(ranked, 2) == [(0, 1), (5, 6)]  # pruning happens within the target K


def test_top_prunes_hand_made_counts_and_can_skip_rare_sets():
    counts = {(0, 1): 90, (5, 6): 80, (2, 3): 70, (2, 3, 4): 60, (0, 1, 9): 3, (7, 8): 2}
    g = GlobalInteractions(counts, {s: 1.0 for s in counts}, n_instances=100, feature_names=[f"f{i}" for i in range(10)])
    assert g.top(3) == [((0, 1), 90), ((5, 6), 80), ((2, 3), 70)]  # (2, 3, 4) is beyond K = 3
    assert g.top(4, prune=False) == [((0, 1), 90), ((5, 6), 80), ((2, 3), 70), ((2, 3, 4), 60)]
    # K = 4: (2, 3, 4) replaces (2, 3); then the rare (0, 1, 9) replaces (0, 1) -- the paper's rule
    assert g.top(4, min_frequency=0.0) == [((5, 6), 80), ((2, 3, 4), 60), ((0, 1, 9), 3), ((7, 8), 2)]
    with pytest.warns(UserWarning, match="k=4 is larger than the 3 interaction.*in at least 5% of the instances"):
        assert g.top(4) == [((0, 1), 90), ((5, 6), 80), ((2, 3, 4), 60)]  # default: sets in >= 5%
    assert g.names(2) == [("f0", "f1"), ("f5", "f6")]
    assert g.frequency[(2, 3)] == 0.7 and list(g.counts)[0] == (0, 1)
    assert g.frequent() == [(0, 1), (5, 6), (2, 3), (2, 3, 4)] and g.frequent(0.0)[-2:] == [(0, 1, 9), (7, 8)]  # what top chooses from
    with pytest.raises(InputError, match="k must be a positive integer"):
        g.top(0)
    with pytest.raises(InputError, match="min_frequency must be between 0 and 1"):
        g.frequent(1.5)


# ------------------------------------------------------------------------------- instances, seeds, chunks
def test_same_seed_same_sample_and_another_seed_another_sample(data):
    glider = Glider(planted_function, detector="archdetect")
    run = dict(n_instances=40, top_k=3, baselines=0.0, show_progress=False)
    a, b, c = (glider.detect(data, seed=s, **run) for s in (7, 7, 8))
    assert a == b and a.metadata["instance_ids"] == b.metadata["instance_ids"]
    assert a.metadata["detect_seed"] == b.metadata["detect_seed"]
    ids = a.metadata["instance_ids"]
    assert len(ids) == 40 == a.n_instances and ids == sorted(set(ids)) and 0 <= ids[0] and ids[-1] < 150
    assert c.metadata["instance_ids"] != ids


def test_more_instances_than_rows_warns_and_uses_all(data):
    with pytest.warns(UserWarning, match="n_instances=500 is more than the 20 rows"):
        g = Glider(planted_function, detector="archdetect").detect(data[:20], n_instances=500, top_k=3, baselines=0.0, show_progress=False)
    assert g.n_instances == 20


def test_chunks_cut_per_row_arguments_and_do_not_change_a_seedless_detector(data, found):
    """ArchDetect draws nothing at random, so any chunking gives the counts of one big batch; the
    per-row baselines (150, 12) must be cut to each chunk's rows."""
    per_row = np.zeros_like(data)
    g = Glider(planted_function, detector="archdetect").detect(data, top_k=3, baselines=per_row, chunk_size=7, seed=0, show_progress=False)
    assert g.counts == found.counts and g.metadata["detect_seed"] == found.metadata["detect_seed"]


def test_nid_global_result_does_not_depend_on_chunk_size(data):
    """Every chunk uses the run's detection seed and an instance's masks and network depend only
    on that seed and its content, so chunks of 7 or 40 count exactly what one chunk counts."""
    run = dict(top_k=3, baselines=0.0, n_samples=120, seed=4, hidden_units=(8, 4), max_epochs=4, stages=2, show_progress=False)
    glider = Glider(planted_function, detector="nid")
    whole = glider.detect(data[:40], chunk_size=40, **run)
    for size in (7, 16):
        cut = glider.detect(data[:40], chunk_size=size, **run)
        assert cut.counts == whole.counts and cut.mean_strength == whole.mean_strength
    other_seed = glider.detect(data[:40], chunk_size=40, **dict(run, seed=5))
    assert other_seed.mean_strength != whole.mean_strength


def test_chunk_work_is_a_picklable_function_of_spec_chunk_options_and_seed(data):
    spec = ModelSpec(planted_function, "archdetect")
    spec.attribution()  # cached locally, never shipped
    layout, info = build_layout(data[:10], 0.0)
    chunk = ChunkBuilder(layout, info, 10, None, None).chunk(0, np.arange(3, 8))
    shipped = pickle.loads(pickle.dumps((spec, chunk, ChunkOptions(158, 3), 123)))
    assert shipped[0]._cache is None
    here, there = detect_chunk(spec, chunk, ChunkOptions(158, 3), 123), detect_chunk(*shipped)  # ArchDetect's 12**2 + 12 + 2 rows
    assert there.interactions == here.interactions and list(there.instance_ids) == [3, 4, 5, 6, 7]


# ------------------------------------------------------------------------------- data formats
def test_dataframe_columns_are_the_features_and_name_them(data):
    df = pd.DataFrame(data, columns=[f"f{i}" for i in range(12)])
    g = Glider(planted_function, detector="archdetect").detect(df, top_k=3, baselines=0.0, show_progress=False)
    assert g.feature_names == list(df.columns)
    with pytest.warns(UserWarning):
        assert set(g.names(K)) == {("f0", "f1"), ("f2", "f3", "f4"), ("f5", "f6"), ("f7", "f8", "f9")}
    table = g.to_dataframe(k=4)
    assert list(table.columns) == ["features", "names", "order", "count", "frequency", "mean_strength"]
    assert table["names"].iloc[0] in {"f2 x f3 x f4", "f0 x f1"} and set(table["order"]) == {2, 3}
    assert np.allclose(table["frequency"], table["count"] / 150) and (table["mean_strength"] > 0).all()
    assert len(g.to_dataframe()) == len(g)
    with pytest.raises(InputTypeError, match=r"data: columns \['label'\] are not numeric"):
        Glider(planted_function).detect(df.assign(label="a"), show_progress=False)


def test_dict_inputs_with_a_feature_mask(data):
    def model(d):
        return planted_function(np.concatenate([d["a"], d["b"]], axis=1))

    inputs = {"a": data[:30, :6], "b": data[:30, 6:]}
    mask = {"a": np.arange(6)[None], "b": np.arange(6, 12)[None]}
    g = Glider(model, detector="archdetect").detect(inputs, top_k=3, feature_mask=mask, baselines={"a": 0.0, "b": 0.0}, show_progress=False)
    with pytest.warns(UserWarning):
        assert recovery([s for s, _ in g.top(K)])[0] == 1.0


# ------------------------------------------------------------------------------- exports
def test_json_round_trip_through_a_file_and_a_string(found, tmp_path):
    path = tmp_path / "global.json"
    text = found.to_json(path)
    back = GlobalInteractions.from_json(path)
    assert back == found and back.metadata["detect_seed"] == found.metadata["detect_seed"]
    assert GlobalInteractions.from_json(text) == found and GlobalInteractions.from_json(str(path)) == found
    assert back.mean_strength == pytest.approx(found.mean_strength)


def test_files_that_do_not_parse_are_named(tmp_path, found):
    broken = tmp_path / "broken.json"
    broken.write_text(found.to_json()[:-20])
    with pytest.raises(InputError, match="broken.json.*does not parse as JSON"):
        GlobalInteractions.from_json(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="not a GlobalInteractions JSON document"):
        GlobalInteractions.from_json(other)
    with pytest.raises(InputError, match="neither an existing file nor JSON text"):
        GlobalInteractions.from_json(str(tmp_path / "missing.json"))
    malformed = json.loads(found.to_json())
    malformed["interactions"] = [[[0, 1], "many"]]
    with pytest.raises(InputError, match="malformed GlobalInteractions document"):
        GlobalInteractions.from_json(json.dumps(malformed))


def test_k_larger_than_what_was_found_warns_and_returns_what_there_is(found):
    with pytest.warns(UserWarning, match=f"k=50 is larger than the {len(found)} interaction"):
        assert len(found.top(50, prune=False, min_frequency=0)) == len(found)


# ------------------------------------------------------------------------------- bad input
def test_bad_arguments_are_named(data):
    glider = Glider(planted_function, detector="archdetect")
    with pytest.raises(InputError, match="top_k must be a positive integer"):
        glider.detect(data, top_k=0, show_progress=False)
    with pytest.raises(InputError, match="n_instances must be a positive integer"):
        glider.detect(data, n_instances=0, show_progress=False)
    with pytest.raises(InputError, match="chunk_size must be a positive integer"):
        glider.detect(data, chunk_size=0, show_progress=False)
    with pytest.raises(InputError, match="^data: got 0 instances"):
        glider.detect(data[:0], show_progress=False)
    with pytest.raises(InputError, match="data: the DataFrame has no rows"):
        glider.detect(pd.DataFrame({"a": []}, dtype=float), show_progress=False)
    with pytest.raises(InputError, match="target: a list of targets needs one per row of data"):
        glider.detect(data, target=[0, 0], show_progress=False)


def test_constant_outputs_warn_once_or_fail(data):
    def gated(x):  # x0 <= 1 stays <= 1 when perturbed: constant output; else x0, x1, x2 interact
        return (x[:, 0] > 1.0) * x[:, 1] * x[:, 2]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = Glider(gated, detector="archdetect").detect(data[:40], top_k=2, baselines=0.0, chunk_size=10, show_progress=False)
    constant = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(constant) == 1 and "constant under perturbation" in str(constant[0].message)
    assert 0 < g.metadata["n_constant"] < 40 and g.top(1, prune=False)[0][0] == (0, 1, 2)
    with pytest.raises(InputError, match="does not change under any perturbation"):
        Glider(lambda x: np.ones(len(x)), detector="archdetect").detect(data[:5], show_progress=False)


def test_progress_bar_over_the_chunks_only_when_asked(data, capsys):
    quiet = Glider(planted_function, detector="archdetect").detect(data[:20], top_k=2, chunk_size=10, baselines=0.0)
    assert "GLIDER" not in capsys.readouterr().err  # off by default, as Captum's show_progress
    shown = Glider(planted_function, detector="archdetect").detect(data[:20], top_k=2, chunk_size=10, baselines=0.0, show_progress=True)
    assert "GLIDER" in capsys.readouterr().err
    assert shown.counts == quiet.counts


# ------------------------------------------------------------------------------- query cost
def _plan(x: np.ndarray, baselines):
    from glider_plugins.adapters import adapt
    from glider_plugins.explain.querying import QueryPlan
    from glider_plugins.perturbations.binary import BinaryPerturbation

    layout, _ = build_layout(x, baselines, None, None)
    return QueryPlan(adapt(planted_function), layout, BinaryPerturbation(), rows_per_eval=500)


def test_repeated_mask_rows_are_queried_once_with_identical_outputs():
    from glider_plugins.explain.querying import deterministic_scheme, query_masks
    from glider_plugins.perturbations.binary import sample_lime_masks

    x = planted_instances(6, seed=9)
    plan = _plan(x, 0.0)
    masks = sample_lime_masks(6, 12, 1000, np.random.default_rng(0))
    unperturbed = planted_function(x)
    seeds = [np.random.SeedSequence([1, i]) for i in range(6)]
    once, stats = query_masks(plan, masks, seeds, unperturbed=unperturbed, dedupe=True)
    every, plain = query_masks(plan, masks, seeds, unperturbed=unperturbed, dedupe=False)
    assert deterministic_scheme(plan) and np.array_equal(once, every)
    distinct = sum(len({m.tobytes() for m in masks[i] if not m.all()}) for i in range(6))
    assert stats["n_queries"] == plain["n_queries"] and plain["n_repeated"] == 0
    assert stats["n_queries"] - stats["n_repeated"] == distinct  # rows sent to the model
    assert stats["n_repeated"] > 0.1 * plain["n_queries"]  # p = 12: every all-off row and more repeat
    from glider_plugins import Background

    assert not deterministic_scheme(_plan(x, Background(planted_instances(20, seed=1))))  # a random row each


def test_glider_reports_query_and_detection_time(found):
    meta = found.metadata
    assert meta["query_seconds"] > 0 and meta["detect_seconds"] > 0 and meta["design_seconds"] > 0
    assert meta["total_seconds"] >= meta["design_seconds"] + meta["query_seconds"] + meta["detect_seconds"]
    assert meta["fit_seconds"] + meta["rank_seconds"] == pytest.approx(meta["detect_seconds"])
    assert meta["n_queries"] > 0 and meta["n_repeated"] >= 0 and meta["executor"] == "local" and meta["failed_chunks"] == []


def test_nid_trains_instances_in_groups_deterministically(one_torch_thread):
    from glider_plugins import InteractionAttribution

    x = planted_instances(5, seed=2)
    run = dict(baselines=0.0, n_samples=200, seed=0, hidden_units=(16, 8), max_epochs=5)
    ia = InteractionAttribution(planted_function)
    grouped = ia.attribute_interactions(x, instance_batch=2, **run)
    assert [r.interactions for r in grouped] == [r.interactions for r in ia.attribute_interactions(x, instance_batch=2, **run)]
    first = ia.attribute_interactions(x, instance_batch=None, **run)
    assert len(grouped) == len(first) == 5 and all(r.metadata["epochs"] >= 1 for r in grouped)
    with pytest.raises(InputError, match="instance_batch must be a positive integer or None"):
        ia.attribute_interactions(x, instance_batch=0, **run)


def test_executor_retry_and_checkpoint_arguments_are_checked(data, tmp_path):
    glider = Glider(planted_function, detector="archdetect")
    with pytest.raises(InputError, match="retries must be a non-negative integer, got -1"):
        glider.detect(data, retries=-1)
    with pytest.raises(InputError, match="max_in_flight must be a positive integer, got 0"):
        glider.detect(data, max_in_flight=0)
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="checkpoint: .* exists and is not a folder"):
        glider.detect(data[:5], checkpoint=tmp_path / "file", seed=0, baselines=0.0, show_progress=False)
