"""InteractionAttribution: the Captum-facing boundary, on functions and models with planted interactions."""

from __future__ import annotations

import time
import warnings

import captum.attr
import numpy as np
import pytest
import torch

from glider_plugins import InteractionAttribution
from glider_plugins.errors import (
    InputError,
    InputTypeError,
    NonFiniteOutputError,
    UnknownPluginError,
)
from glider_plugins.explain.formatting import Background
from glider_plugins.explain.querying import ROW_ALIGN
from glider_plugins.results import AttributionResult
from tests import models


def planted(x: np.ndarray) -> np.ndarray:
    """x0*x1 + x2*x3*x4 + main effects on x5, x6; x7 does nothing."""
    return 2 * x[:, 0] * x[:, 1] + 3 * x[:, 2] * x[:, 3] * x[:, 4] + x[:, 5] - 0.5 * x[:, 6]


def instances(n: int = 3, p: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=(n, p))


def top_pairs(res, i: int, k: int) -> set[tuple[int, int]]:
    pw = res[i].pairwise()
    iu = np.triu_indices_from(pw, 1)
    order = np.argsort(-pw[iu])[:k]
    return {(int(iu[0][o]), int(iu[1][o])) for o in order}


PLANTED_PAIRS = {(0, 1), (2, 3), (2, 4), (3, 4)}


def test_is_a_captum_attribution():
    ia = InteractionAttribution(planted)
    assert isinstance(ia, captum.attr.Attribution)
    assert ia.get_name() == "Interaction Attribution"
    assert ia.has_convergence_delta() is False
    assert ia.forward_func is planted


@pytest.mark.parametrize("detector", ["nid", "archdetect"])
def test_planted_interactions_are_found(detector):
    res = InteractionAttribution(planted, detector=detector).attribute_interactions(instances(), baselines=0.0, n_samples=1000, seed=0)
    assert len(res) == 3
    for i in range(3):
        assert top_pairs(res, i, 4) == PLANTED_PAIRS
        strengths = [s for _, s in res[i].interactions]
        assert strengths == sorted(strengths, reverse=True)
        higher = [set(f) for f, _ in res[i].interactions if len(f) >= 3][:3]
        assert {2, 3, 4} in higher
        # x5 and x6 act alone: large main effects of the right sign, x7 none
        me = res[i].main_effects
        assert me[5] > 0.3 and me[6] < -0.1 and abs(me[7]) < 0.1


def test_same_seed_same_result_and_seed_matters():
    ia = InteractionAttribution(planted, detector="nid")
    a = ia.attribute_interactions(instances(), n_samples=300, seed=7)
    b = ia.attribute_interactions(instances(), n_samples=300, seed=7)
    c = ia.attribute_interactions(instances(), n_samples=300, seed=8)
    np.testing.assert_array_equal(a.pairwise(), b.pairwise())
    assert a[0].interactions == b[0].interactions
    assert not np.array_equal(a.pairwise(), c.pairwise())
    # the default ("auto": "moebius" here) enumerates all 2**8 masks at 1000 queries: the seed
    # only picks which of them are repeated, and the exact transform does not depend on that
    default = InteractionAttribution(planted)
    assert default.attribute_interactions(instances(), n_samples=300, seed=7).metadata["detector"] == "moebius"
    np.testing.assert_array_equal(default.attribute_interactions(instances(), seed=7).pairwise(), default.attribute_interactions(instances(), seed=8).pairwise())


@pytest.mark.parametrize("detector", ["nid", "archdetect"])
def test_single_instance_is_the_batch_of_one(detector):
    """An instance's masks come from the seed and its own content, so it gets the same result
    alone, in a batch, or in another position of another batch, number for number."""
    x = instances(n=3)
    ia = InteractionAttribution(planted, detector=detector)
    batch = ia.attribute_interactions(x, n_samples=300, seed=0)
    one = ia.attribute_interactions(x[1:2], n_samples=300, seed=0)
    shuffled = ia.attribute_interactions(np.concatenate([x[2:], instances(n=2, seed=5), x[1:2]]), n_samples=300, seed=0)
    for other in (one[0], shuffled[3]):
        np.testing.assert_array_equal(other.pairwise(), batch[1].pairwise())
        np.testing.assert_array_equal(other.main_effects, batch[1].main_effects)
        assert other.interactions == batch[1].interactions


def test_masks_depend_on_the_seed_and_the_instance_only():
    from glider_plugins.detectors import NIDDetector
    from glider_plugins.explain.formatting import build_layout
    from glider_plugins.explain.querying import design_per_instance
    from glider_plugins.explain.reproducibility import instance_seeds
    from glider_plugins.perturbations import BinaryPerturbation

    def design(x, seed, baselines=None):
        layout, _ = build_layout(x, baselines, None, None)
        seeds = instance_seeds(layout, seed, np.random.default_rng(0))
        return design_per_instance(NIDDetector(), layout, 50, BinaryPerturbation(), seeds)

    x = instances(n=3)
    masks = design(np.concatenate([x[:1], x[:1], x[1:]]), 0)
    assert masks.shape == (4, 50, 8)
    np.testing.assert_array_equal(masks[0], masks[1])  # equal instances
    assert not np.array_equal(masks[1], masks[2]) and not np.array_equal(masks[2], masks[3])
    np.testing.assert_array_equal(design(x[2:3], 0)[0], masks[3])  # alone
    assert not np.array_equal(design(x, 1)[0], masks[0])  # another seed
    # the baselines are not part of the key, given per instance or shared: alone (one row) the two
    # cannot be told apart, and an instance draws the same masks alone and in a batch
    per_instance = np.full((2, 8), 0.5)
    np.testing.assert_array_equal(design(x[:2], 0, baselines=per_instance)[1], design(x[1:2], 0, baselines=per_instance[1:])[0])
    np.testing.assert_array_equal(design(x[:2], 0, baselines=np.full((1, 8), 0.5))[0], masks[0])


def test_result_shapes_exports_and_json_round_trip(tmp_path):
    names = [f"f{i}" for i in range(8)]
    res = InteractionAttribution(planted, detector="nid").attribute_interactions(torch.as_tensor(instances()), n_samples=300, seed=0, feature_names=names, top_k=5)
    assert res.pairwise().shape == (3, 8, 8)
    np.testing.assert_allclose(res.pairwise(), res.pairwise().transpose(0, 2, 1))
    assert all(len(r.interactions) <= 5 for r in res)
    attributions = res.attributions()
    assert isinstance(attributions, torch.Tensor) and attributions.shape == (3, 8)
    np.testing.assert_allclose(attributions.numpy(), res.main_effects())
    df = res.to_dataframe()
    assert list(df.columns) == ["instance", "rank", "features", "names", "order", "strength", "index", "value"]
    assert (df["index"] == "Moebius").all() and np.allclose(df["value"].abs(), df["strength"])
    assert df.iloc[0]["names"] == " x ".join(names[f] for f in res[0].interactions[0][0])
    assert res.main_effects_dataframe().shape == (3, 8)
    path = tmp_path / "res.json"
    res.to_json(path)
    back = AttributionResult.from_json(path)
    assert back[1].interactions == res[1].interactions
    np.testing.assert_allclose(back.pairwise(), res.pairwise())
    np.testing.assert_allclose(back.attributions(), res.main_effects())
    assert back.metadata["detector"] == "nid" and back.metadata["n_queries"] == 3 * 300
    with pytest.raises(ValueError, match="does not parse as JSON written by AttributionResult.to_json"):
        AttributionResult.from_json("{broken")


def test_metadata_reports_query_and_detection_time():
    res = InteractionAttribution(planted).attribute_interactions(instances(), n_samples=200, seed=0)
    meta = res.metadata
    assert meta["query_seconds"] >= 0 and meta["detect_seconds"] > 0
    assert meta["design_seconds"] > 0
    assert meta["total_seconds"] >= meta["design_seconds"] + meta["query_seconds"] + meta["detect_seconds"]
    assert meta["framework"] == "callable" and meta["perturbation"] == "binary"
    # detection split: fitting models of the outputs, and the rest; ArchDetect fits none
    assert 0 < meta["fit_seconds"] <= meta["detect_seconds"]
    assert meta["fit_seconds"] + meta["rank_seconds"] == pytest.approx(meta["detect_seconds"])
    for detector, fits in (("archdetect", False), ("fourier", True), ("nid", True)):
        meta = InteractionAttribution(planted, detector=detector).attribute_interactions(instances(), n_samples=200, seed=0).metadata
        assert (meta["fit_seconds"] > 0) == fits and meta["rank_seconds"] > 0, detector


def test_the_rows_of_a_model_call_change_its_speed_not_its_random_draws(monkeypatch):
    """A background row drawn per query (``background_rows=None``): the draws come in perturbation
    blocks, so calls of 64 rows (instead of the default) give the very same result."""
    import glider_plugins.explain.reproducibility as reproducibility
    from glider_plugins.detectors.moebius import MoebiusDetector

    x = instances(4, p=8, seed=2)
    explain = InteractionAttribution(planted, detector=MoebiusDetector(background_rows=None))
    background = Background(instances(30, p=8, seed=5))
    wide = explain.attribute_interactions(x, baselines=background, n_samples=400, seed=1)
    calls: list[int] = []
    monkeypatch.setattr(reproducibility, "CALL_BYTES", 1)  # every call holds MIN_ROWS_PER_CALL rows
    narrow = InteractionAttribution(lambda rows: calls.append(len(rows)) or planted(rows), detector=MoebiusDetector(background_rows=None)
                                    ).attribute_interactions(x, baselines=background, n_samples=400, seed=1)
    assert max(calls) == reproducibility.MIN_ROWS_PER_CALL
    assert [a.interactions for a in wide] == [b.interactions for b in narrow]
    np.testing.assert_array_equal(wide.pairwise(), narrow.pairwise())


def test_a_part_timed_inside_itself_counts_once_and_nothing_is_kept_without_a_collector():
    from glider_plugins._timing import collect, spent

    with spent("fit"):  # no collector: nothing recorded anywhere
        pass
    with collect() as seconds:
        with spent("fit"):
            time.sleep(0.02)
            with spent("fit"):
                time.sleep(0.02)
    assert 0.04 <= seconds["fit"] < 0.06
    with collect() as fresh:
        pass
    assert fresh == {}


def test_feature_mask_groups_elements_across_a_tuple_of_inputs():
    """Two inputs; feature 0 spans an element of each, so the product across inputs is one feature."""

    def f(a, b):
        return a[:, 0] * b[:, 0] * a[:, 1] + b[:, 1]

    rng = np.random.default_rng(1)
    a, b = rng.uniform(1, 2, size=(2, 2)), rng.uniform(1, 2, size=(2, 2))
    mask = (np.array([[0, 1]]), np.array([[0, 2]]))
    res = InteractionAttribution(f, detector="archdetect").attribute_interactions((a, b), feature_mask=mask, seed=0)
    assert res.n_features == 3
    assert top_pairs(res, 0, 1) == {(0, 1)}
    attr_a, attr_b = res.attributions()
    assert attr_a.shape == (2, 2) and attr_b.shape == (2, 2)
    np.testing.assert_allclose(attr_a[:, 0], attr_b[:, 0])  # shared feature, same attribution


def test_image_style_mask_broadcasts_over_channels():
    """A (1, 1, H, W) mask on (N, C, H, W) images groups each pixel's channels (Captum's convention)."""

    def f(x):
        return x[:, :, 0, 0].sum(1) * x[:, :, 1, 1].sum(1)

    x = np.random.default_rng(0).uniform(1, 2, size=(2, 3, 2, 2)).astype(np.float32)
    mask = np.arange(4).reshape(1, 1, 2, 2)
    res = InteractionAttribution(f, detector="archdetect").attribute_interactions(torch.as_tensor(x), feature_mask=torch.as_tensor(mask), seed=0)
    assert res.n_features == 4
    assert top_pairs(res, 0, 1) == {(0, 3)}
    assert res.attributions().shape == (2, 3, 2, 2)


def test_dict_inputs_and_named_baselines():
    def f(d):
        return d["a"][:, 0] * d["b"][:, 0] + d["a"][:, 1]

    x = {"a": np.ones((2, 2)) * 2, "b": np.ones((2, 1)) * 3}
    res = InteractionAttribution(f, detector="archdetect").attribute_interactions(x, baselines={"a": 0.0, "b": 1.0}, seed=0)
    assert top_pairs(res, 0, 1) == {(0, 2)}
    attributions = res.attributions()
    assert set(attributions) == {"a", "b"}


def test_ctr_model_with_missing_id_baseline_through_onnx(ctr):
    """int64 field ids + float dense values; an off field takes the missing id 0, off dense values 0."""
    cat, dense = models.ctr_batch(4, seed=3)
    cat = np.maximum(cat, 1)  # instances have real (non-missing) ids
    mask = (np.arange(4)[None, :], np.arange(4, 7)[None, :])
    names = ["f0", "f1", "f2", "f3", "d0", "d1", "d2"]
    onnx_res = InteractionAttribution(str(ctr.torch_onnx), detector="archdetect").attribute_interactions((cat, dense), baselines=(0, 0.0), feature_mask=mask, feature_names=names, seed=0)
    torch_res = InteractionAttribution(ctr.torch, detector="archdetect").attribute_interactions((torch.as_tensor(cat), torch.as_tensor(dense)), baselines=(0, 0.0), feature_mask=mask, seed=0)
    np.testing.assert_allclose(onnx_res.pairwise(), torch_res.pairwise(), rtol=1e-3, atol=1e-6)
    assert onnx_res.to_dataframe().iloc[0]["names"].count(" x ") >= 1
    nid = InteractionAttribution(str(ctr.torch_onnx)).attribute_interactions((cat, dense), baselines=(0, 0.0), feature_mask=mask, n_samples=400, seed=0)
    assert len(nid) == 4 and nid.pairwise().shape == (4, 7, 7)


def recording(ctr, calls: list):
    """The CTR model as a callable that keeps a copy of every batch it is called on."""

    def record(c, d):
        calls.append((c.copy(), d.copy()))
        return models.CTRModel.forward(ctr.torch, torch.as_tensor(c), torch.as_tensor(d)).detach().numpy()

    return record


def test_ctr_model_with_background_data(ctr):
    cat, dense = models.ctr_batch(3, seed=4)
    bg_cat, bg_dense = models.ctr_batch(50, seed=5)
    calls = []
    record = recording(ctr, calls)
    # one random background row per sample (background_rows=None; the default pairs them, below)
    res = InteractionAttribution(record).attribute_interactions((cat, dense), baselines=Background((bg_cat, bg_dense)), n_samples=200, seed=0, background_rows=None)
    assert res.n_features == 7
    perturbed_cat = np.concatenate([c for c, _ in calls[1:]])
    # an off field took a background value: every perturbed value is the instance's or a background one
    for field in range(4):
        allowed = set(cat[:, field]) | set(bg_cat[:, field])
        assert set(perturbed_cat[:, field]) <= allowed
    assert len({tuple(r) for r in perturbed_cat}) > 20
    # the background rows an instance's samples take come from (seed, instance): alone == in a batch
    calls.clear()
    alone = InteractionAttribution(record).attribute_interactions((cat[1:2], dense[1:2]), baselines=Background((bg_cat, bg_dense)), n_samples=200, seed=0, background_rows=None)
    np.testing.assert_array_equal(alone[0].pairwise(), res[1].pairwise())
    assert alone[0].interactions == res[1].interactions
    rows = np.concatenate([c for c, _ in calls[1:]])  # instance 1's perturbed rows, a block of the batch's
    assert any(np.array_equal(perturbed_cat[o : o + len(rows)], rows) for o in range(len(perturbed_cat) - len(rows) + 1))
    with pytest.raises(InputError, match=r"Background data\[1\]: expected rows shaped like the input"):
        InteractionAttribution(record).attribute_interactions((cat, dense), baselines=Background((bg_cat, bg_dense[:, :2])))


@pytest.mark.parametrize("detector", ["nid", "archdetect"])
def test_paired_background_rows_average_fixed_baseline_games(ctr, detector):
    """By default every mask is queried once per background row (up to background_rows, drawn
    from the seed), that row the baseline of all its queries, and the outputs are averaged."""
    cat, dense = models.ctr_batch(3, seed=4)
    bg_cat, bg_dense = models.ctr_batch(6, seed=5)
    calls = []
    record = recording(ctr, calls)
    options = dict(baselines=Background((bg_cat, bg_dense)), n_samples=200, seed=0, background_rows=4)
    res = InteractionAttribution(record, detector=detector).attribute_interactions((cat, dense), **options)
    assert res.metadata["background_rows"] == 4
    # every call's off values come from one background row: each row's rows share it
    used = set()
    for c, _ in calls[1:]:
        off = [tuple(bg_cat[b]) for b in range(6) if all(((c[:, f] == bg_cat[b, f]) | (c[:, f] == cat[:, f][:, None]).any(axis=0)).all() for f in range(4))]
        assert off, "a call mixed background rows"
        used.update(off)
    assert 1 <= len(used) <= 4
    calls.clear()
    alone = InteractionAttribution(record, detector=detector).attribute_interactions((cat[1:2], dense[1:2]), **options)
    np.testing.assert_array_equal(alone[0].pairwise(), res[1].pairwise())
    # all rows when there are no more than background_rows: the result is the same for any seed
    if detector == "archdetect":
        a = InteractionAttribution(record, detector=detector).attribute_interactions((cat, dense), **{**options, "background_rows": 6})
        b = InteractionAttribution(record, detector=detector).attribute_interactions((cat, dense), **{**options, "background_rows": 6, "seed": 9})
        np.testing.assert_allclose(a.pairwise(), b.pairwise(), rtol=1e-6, atol=1e-9)


def test_perturbations_per_eval_bounds_model_calls_and_progress_shows(capsys):
    sizes = []

    def f(x):
        sizes.append(len(x))
        return planted(x)

    res = InteractionAttribution(f, detector="nid").attribute_interactions(instances(), n_samples=200, perturbations_per_eval=128, seed=0, show_progress=True)
    # the 3 instances themselves (each at a multiple of ROW_ALIGN), then every perturbation once:
    # repeated masks are answered once
    assert sizes[0] == 3 * ROW_ALIGN and max(sizes) <= 128
    # every distinct perturbation once, plus up to ROW_ALIGN - 1 filler rows per instance
    sent, distinct = sum(sizes[1:]), 3 * 199 - res.metadata["n_repeated"]
    assert sent % ROW_ALIGN == 0 and distinct <= sent < distinct + 3 * ROW_ALIGN
    assert "model queries" in capsys.readouterr().err
    # one model call: no bar (issue 27, defect 7)
    InteractionAttribution(f, detector="nid").attribute_interactions(instances(n=1), n_samples=200, seed=0, show_progress=True)
    assert "model queries" not in capsys.readouterr().err


def test_a_row_keeps_its_position_modulo_the_alignment_alone_or_in_a_batch():
    """A model whose scores move in the last bits with a row's place in the call (as compute
    kernels that treat rows in groups do) still gives an instance the same result alone and in a
    batch: its rows start at a multiple of ROW_ALIGN in every call."""

    def place_dependent(x):
        return planted(x) + 1e-7 * (np.arange(len(x)) % ROW_ALIGN)

    x = instances(n=3, seed=8)
    ia = InteractionAttribution(place_dependent)
    run = dict(n_samples=203, seed=0, perturbations_per_eval=100, hidden_units=(8, 4), max_epochs=5)
    batch = ia.attribute_interactions(x, **run)
    for k in range(3):
        alone = ia.attribute_interactions(x[k : k + 1], **run)
        np.testing.assert_array_equal(alone[0].pairwise(), batch[k].pairwise())


def test_rows_per_call_are_tuned_to_the_model_and_change_no_result():
    """The default call size is tuned on the run's own calls: a model that is slower per row in
    large calls (as a network whose activations leave the cache) gets the smallest candidate, one
    with a large cost per call the largest; the results are the same before, during and after."""
    from glider_plugins.explain.calls import CALL_SIZE_TRIALS, CallSizes, call_sizes

    def cache_bound(x):  # per row: 10 us per 100 rows of the call
        time.sleep(len(x) ** 2 * 1e-7)
        return planted(x) + 1e-7 * (np.arange(len(x)) % ROW_ALIGN)

    def call_bound(x):  # 5 ms a call whatever its rows
        time.sleep(5e-3)
        return planted(x) + 1e-7 * (np.arange(len(x)) % ROW_ALIGN)

    x = instances(n=6, seed=3)
    for model, best in ((cache_bound, 256), (call_bound, 1024)):
        ia = InteractionAttribution(model, detector="moebius")
        first = ia.attribute_interactions(x, n_samples=1000, seed=0)
        sizes = call_sizes(ia.adapter, 1024, ROW_ALIGN)
        while sizes.chosen is None:  # more runs until every candidate has answered its trials
            ia.attribute_interactions(x, n_samples=1000, seed=1)
        assert sizes.sizes == [256, 512, 1024] and sizes.chosen == best
        again = InteractionAttribution(model, detector="moebius").attribute_interactions(x, n_samples=1000, seed=0)
        assert call_sizes(InteractionAttribution(model).adapter, 1024, ROW_ALIGN) is sizes  # kept for the model
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a.pairwise(), b.pairwise())
    # a partial call, and each size's first, are not timed; a cap at the smallest call is not tuned
    tuner = CallSizes(1024, ROW_ALIGN)
    for size in tuner.sizes:
        tuner.record(size, size, 1.0)  # first calls: set-up, ignored
        tuner.record(size, size - ROW_ALIGN, 1e-9)  # partial: ignored
    for _ in range(CALL_SIZE_TRIALS):
        for size, seconds in zip(tuner.sizes, (3.0, 1.0, 4.0), strict=True):
            assert tuner.chosen is None and tuner.next() in tuner.sizes
            tuner.record(size, size, seconds * size)
    assert tuner.chosen == 512 and tuner.next() == 512
    assert CallSizes(64, ROW_ALIGN).chosen == 64 and CallSizes(40, 1).sizes == [40]


def test_additional_forward_args_are_expanded_or_passed_unchanged():
    def f(x, scale, power):
        return scale[:, 0] * x[:, 0] * x[:, 1] ** power

    x = instances(n=2, p=3)
    scale = np.array([[1.0], [-1.0]])
    res = InteractionAttribution(f, detector="archdetect").attribute_interactions(x, additional_forward_args=(scale, 2), seed=0)
    assert top_pairs(res, 0, 1) == {(0, 1)}
    # per-instance scale reached its rows: the pair's signed pure effect flips with it
    pure = [r.metadata["omega_baseline_context"][0, 1] for r in res]
    assert pure[0] * pure[1] < 0 and abs(pure[0]) == pytest.approx(x[0, 0] * x[0, 1] ** 2)
    with pytest.raises(InputError, match="additional_forward_args: a tensor of shape"):
        InteractionAttribution(f).attribute_interactions(x, additional_forward_args=(np.ones((5, 1)), 2))


def test_kernel_weights_run_and_change_the_fit():
    ia = InteractionAttribution(planted, detector="nid")
    plain = ia.attribute_interactions(instances(n=1), n_samples=300, seed=0, refit=False)
    weighted = ia.attribute_interactions(instances(n=1), n_samples=300, seed=0, kernel_width=0.25, refit=False)
    assert weighted.metadata["kernel_width"] == 0.25
    assert not np.allclose(plain.pairwise(), weighted.pairwise())
    # the least-squares refit of an exactly fitting model gives the same pure effects with any
    # weights; its held-out fit quality is weighted too
    plain = ia.attribute_interactions(instances(n=1), n_samples=300, seed=0)
    weighted = ia.attribute_interactions(instances(n=1), n_samples=300, seed=0, kernel_width=0.25)
    assert plain[0].metadata["val_loss"] != weighted[0].metadata["val_loss"]
    np.testing.assert_allclose(plain[0].main_effects, weighted[0].main_effects, atol=1e-6)


def test_target_selects_an_output_and_is_checked(cnn):
    x = models.image_batch(2)
    mask = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 4, axis=0), 4, axis=1)[None, None]
    ia = InteractionAttribution(cnn.torch, detector="archdetect")
    res = ia.attribute_interactions(torch.as_tensor(x), target=1, feature_mask=torch.as_tensor(mask), seed=0)
    assert res.n_features == 4
    per_instance = ia.attribute_interactions(torch.as_tensor(x), target=[1, 2], feature_mask=torch.as_tensor(mask), seed=0)
    np.testing.assert_allclose(per_instance.pairwise()[0], res.pairwise()[0], atol=1e-6)
    with pytest.raises(InputError, match="target=3 is out of range for a model with 3 outputs"):
        ia.attribute_interactions(torch.as_tensor(x), target=3, feature_mask=torch.as_tensor(mask))
    with pytest.raises(InputError, match="pass target"):
        ia.attribute_interactions(torch.as_tensor(x), feature_mask=torch.as_tensor(mask))
    # a target given to the constructor is the default of every call (issue 27, defect 4); a call's own wins
    chosen = InteractionAttribution(cnn.torch, detector="archdetect", target=1)
    np.testing.assert_array_equal(chosen.attribute_interactions(torch.as_tensor(x), feature_mask=torch.as_tensor(mask), seed=0).pairwise(),
                                  res.pairwise())
    other = chosen.attribute_interactions(torch.as_tensor(x), target=2, feature_mask=torch.as_tensor(mask), seed=0)
    np.testing.assert_array_equal(other.pairwise()[1], per_instance.pairwise()[1])


# ---------------------------------------------------------------- bad input
def test_feature_mask_with_gaps_or_bad_shape():
    x = instances(n=2, p=4)
    ia = InteractionAttribution(planted_small)
    with pytest.raises(InputError, match=r"feature_mask: ids must be exactly 0..p-1 without gaps.*\[1\]"):
        ia.attribute_interactions(x, feature_mask=np.array([0, 2, 2, 3]))
    with pytest.raises(InputError, match=r"feature_mask: shape \(3,\) does not broadcast to the input's shape \(2, 4\)"):
        ia.attribute_interactions(x, feature_mask=np.array([0, 1, 2]))
    with pytest.raises(InputTypeError, match="feature_mask: expected integer feature ids, got dtype float64"):
        ia.attribute_interactions(x, feature_mask=np.array([0.0, 1, 2, 3]))
    with pytest.raises(InputError, match="at least 2"):
        ia.attribute_interactions(x, feature_mask=np.zeros(4, dtype=int))
    with pytest.raises(InputError, match="feature_names: expected 4 names"):
        ia.attribute_interactions(x, feature_names=["a"])


def planted_small(x):
    return x[:, 0] * x[:, 1] + x[:, 2]


def test_baselines_of_the_wrong_shape():
    x = instances(n=2, p=4)
    ia = InteractionAttribution(planted_small)
    with pytest.raises(InputError, match=r"baselines: shape \(3,\) does not broadcast"):
        ia.attribute_interactions(x, baselines=np.zeros(3))
    with pytest.raises(InputError, match="baselines: inputs is a tuple of 2 tensors, so pass a tuple of 2"):
        InteractionAttribution(lambda a, b: a[:, 0] * b[:, 0]).attribute_interactions((x, x), baselines=(0.0, 0.0, 0.0))


def test_float_baseline_for_id_input_is_refused(ctr):
    cat, dense = models.ctr_batch(2)
    with pytest.raises(InputTypeError, match=r"baselines\[0\]: the input holds integer ids"):
        InteractionAttribution(ctr.torch).attribute_interactions((cat, dense), baselines=(0.5, 0.0))


def test_n_samples_too_small_names_the_minimum():
    # the detector named is the one the user chose ("auto", not what it resolved to; issue 27, defect 3)
    with pytest.raises(InputError, match=r"n_samples=5 is too small for detector 'auto' with 4 features; .* n_samples >= 10"):
        InteractionAttribution(planted_small).attribute_interactions(instances(n=1, p=4), n_samples=5)
    InteractionAttribution(planted_small).attribute_interactions(instances(n=1, p=4), baselines=0.0, n_samples=10)


@pytest.mark.parametrize("detector", ["auto", "moebius", "archdetect", "nid", "fourier"])
def test_no_detector_queries_more_than_the_budget(detector):
    """A budget is a promise: every detector queries at most n_samples per instance, or refuses
    the budget before any query, naming what it needs (moebius queried 12 for 1, archdetect 32 for 5)."""
    x = instances(n=2, p=5)
    for n_samples in (1, 5, 12, 20, 31, 32, 40):
        ia = InteractionAttribution(lambda rows: planted_small(rows[:, :4]) + rows[:, 4], detector=detector)
        try:
            res = ia.attribute_interactions(x, baselines=0.0, n_samples=n_samples, seed=0)
        except InputError as error:
            needed = int(str(error).rsplit(">= ", 1)[1])
            assert f"detector '{detector}'" in str(error) and needed > n_samples
            continue
        assert res.metadata["n_queries"] <= n_samples * len(x)


def test_unknown_detector_or_perturbation_lists_the_known_ones():
    with pytest.raises(UnknownPluginError, match="archdetect.*nid"):
        InteractionAttribution(planted_small, detector="lasso")
    with pytest.raises(UnknownPluginError, match="binary"):
        InteractionAttribution(planted_small, perturbation="dropout")


def test_constant_model_output_is_an_error_and_partly_constant_a_warning():
    with pytest.raises(InputError, match="does not change under any perturbation"):
        InteractionAttribution(lambda x: np.ones(len(x))).attribute_interactions(instances(n=2, p=4), n_samples=100)
    x = instances(n=2, p=4)
    x[1] = 0.0  # equal to the baseline: nothing changes for instance 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = InteractionAttribution(planted_small).attribute_interactions(x, baselines=0.0, n_samples=100, seed=0)
    assert any("constant under perturbation for instance(s) [1]" in str(w.message) for w in caught)
    assert res[1].interactions == [] and not res[1].main_effects.any()
    assert res[0].interactions


def test_model_returning_nan_on_perturbations():
    def f(x):
        out = planted_small(x)
        out[(x == 0).sum(axis=1) == 2] = np.nan
        return out

    with pytest.raises(NonFiniteOutputError, match="non-finite scores"):
        InteractionAttribution(f).attribute_interactions(instances(n=1, p=4), baselines=0.0, n_samples=200, seed=0)


def test_bad_counts_are_named():
    ia = InteractionAttribution(planted_small)
    x = instances(n=1, p=4)
    for kwargs, name in [({"max_order": 1}, "max_order"), ({"top_k": 0}, "top_k"), ({"perturbations_per_eval": 0}, "perturbations_per_eval"), ({"kernel_width": -1.0}, "kernel_width"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed")]:
        with pytest.raises(InputError, match=name):
            ia.attribute_interactions(x, **kwargs)


def test_the_default_detector_follows_the_budget_and_the_options():
    """"auto": "moebius" on the Fourier design where the budget fits sets of three (pure effects
    where their fit is faithful, else the Fourier indices) or where ArchDetect's p**2 + p + 2 queries
    leave no room for the Fourier fit, ArchDetect where its design fits with that room but sets of
    three do not, "moebius" on its 2 p + 2 screening rows below the Fourier fit, NID when an option
    is NID's own; an option none takes is refused by name."""
    x = instances(n=2, p=8)
    ia = InteractionAttribution(planted)
    full = ia.attribute_interactions(x, n_samples=300, seed=0)
    assert full.metadata["detector"] == "moebius" and {r.index for r in full} == {"Moebius"} and full[0].top(1, order=3)
    assert ia.attribute_interactions(x, n_samples=300, seed=0, merge_threshold=0.2).metadata["detector"] == "archdetect"
    crowded = ia.attribute_interactions(x, n_samples=74, seed=0)  # pairs only fit: the triple is missed, so not faithful
    assert crowded.metadata["detector"] == "moebius" and {r.metadata["detector"] for r in crowded} == {"fourier"}
    assert {r.index for r in crowded} == {"BII"} and "not faithful" in crowded[0].metadata["chosen_by"]
    wide = InteractionAttribution(lambda z: z[:, 0] * z[:, 1] + z[:, 2:].sum(axis=1)).attribute_interactions(
        instances(n=1, p=20), n_samples=1000, seed=0)
    assert wide.metadata["detector"] == "archdetect"  # 422 design rows leave room for the Fourier fit; sets of three do not fit
    res = ia.attribute_interactions(x, n_samples=30, seed=0)  # 5 interacting features, 30 masks: pairs only
    assert res.metadata["detector"] == "moebius" and [r.metadata["fit_order"] for r in res] == [2, 2]
    assert [r.metadata["active_features"] for r in res] == [[0, 1, 2, 3, 4]] * 2
    with pytest.raises(InputError, match="n_samples=17 is too small for detector 'auto' with 8 features.* >= 18"):
        ia.attribute_interactions(x, n_samples=17, seed=0)
    assert ia.attribute_interactions(x, n_samples=300, seed=0, hidden_units=(8, 4), max_epochs=3).metadata["detector"] == "nid"
    with pytest.raises(InputError, match=r"detector options \['hiden_units'\] are taken by none of 'moebius'"):
        ia.attribute_interactions(x, hiden_units=(8,))
    with pytest.raises(InputError, match="merge_threshold must be"):
        ia.attribute_interactions(x, merge_threshold=2.0)


def test_an_unknown_adapter_option_is_named_with_those_the_adapter_takes():
    """A detector option passed to the constructor (whose keywords go to the adapter) is refused by
    name, not as a raw TypeError from inside the adapter."""
    with pytest.raises(InputError, match=r"unknown adapter option\(s\) \['fit_order'\] for a callable model; the CallableAdapter takes \[.*'target'\]"):
        InteractionAttribution(planted, fit_order=3)
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match=r"\['n_samples'\] for a torch model.*'device'"):
        InteractionAttribution(torch.nn.Linear(3, 1), n_samples=10)
    assert InteractionAttribution(torch.nn.Linear(3, 1), batch_size=8) is not None


def test_a_dataframes_columns_name_the_features_and_top_gives_names():
    import pandas as pd

    frame = pd.DataFrame(instances(n=2, p=4), columns=["age", "income", "city", "clicks"])
    res = InteractionAttribution(planted_small).attribute_interactions(frame, baselines=0.0, n_samples=200, seed=0)
    assert res[0].feature_names == ["age", "income", "city", "clicks"]  # were x0..x3 (issue 27, defect 5)
    (pair, strength), = res[0].top(1, names=True)
    assert pair == ("age", "income") and strength == res[0].top(1)[0][1]
    same = InteractionAttribution(planted_small).attribute_interactions(frame.to_numpy(), baselines=0.0, n_samples=200, seed=0)
    np.testing.assert_array_equal(res.pairwise(), same.pairwise())
    with pytest.raises(InputTypeError, match=r"inputs: columns \['city'\] are not numeric"):
        InteractionAttribution(planted_small).attribute_interactions(frame.assign(city="x"), baselines=0.0)
