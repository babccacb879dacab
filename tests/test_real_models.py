"""The real-model panel, fast subset: the built-in detectors against the exact pure effects of
models nobody here designed (``tests/groundtruth/real_models.py``), 8 rows each, with a typical-row
baseline and with a background set.

The default's detector here, ``"moebius"``, is held to issue 13's targets in every cell: pair
precision@5 >= 0.8, Spearman >= 0.9 and top-5 overlap across seeds >= 0.9; NID (its complete
refit, :func:`glider_plugins.detectors.nid.refit.complete_refit`) in every cell but the census
model's background precision@5. What holds everywhere,
for every detector: no set of half the features or more among the top 5 (the exact references
have none there), main effects that are the exact ``m({i})`` (``"moebius"``, ArchDetect) or close to
it (NID), and reported strengths in output units on the reference's scale. ArchDetect's pair
rankings and seed stability, and NID's below the targets, are held to floors 0.05 below what this subset measured
(``python benchmarks/real_model_panel.py --rows 8``); where a floor is under the targets, that
detector does not meet them (README, "On real models").
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from glider_plugins import Background, InteractionAttribution
from glider_plugins.reference import compare_with_reference, exact_interactions, top_overlap
from tests.groundtruth.real_models import PANEL

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROWS = 8
SEEDS = (0, 1, 2)

#: Issue 13's targets: mean precision@5, mean Spearman, mean top-5 overlap across seeds.
TARGETS = (0.8, 0.9, 0.9)
MODELS = ("census", "breast_cancer", "movielens_deepfm")

#: (model, baseline, detector) -> floors of mean precision@5, mean Spearman, mean top-5 overlap
#: across seeds; measured values in the comments.
FLOORS = {
    **{(name, kind, "moebius"): TARGETS for name in MODELS for kind in ("typical", "background")},
    # NID with its complete refit: the targets, but for the census model's background P@5
    **{(name, kind, "nid"): TARGETS for name in MODELS for kind in ("typical", "background")},
    ("census", "background", "nid"): (0.67, 0.9, 0.9),  # 0.72 0.97 0.96
    ("census", "typical", "archdetect"): (0.70, 0.94, 1.0),  # 0.75 0.99 1.00
    ("census", "background", "archdetect"): (0.52, 0.90, 1.0),  # 0.57 0.95 1.00
    ("breast_cancer", "typical", "archdetect"): (0.75, 0.87, 1.0),  # 0.80 0.92 1.00
    ("breast_cancer", "background", "archdetect"): (0.55, 0.78, 1.0),  # 0.60 0.83 1.00
    ("movielens_deepfm", "typical", "archdetect"): (0.83, 0.89, 1.0),  # 0.88 0.94 1.00
    ("movielens_deepfm", "background", "archdetect"): (0.77, 0.84, 1.0),  # 0.82 0.89 1.00
}


#: Share of rows with a set of half the features or more in the top 5, at most (issue 13: 0.05),
#: where a detector is allowed more (none now: NID's complete refit has no such set on this subset,
#: where its refit of NID's candidates alone had 5-field sets on 38 % of the DeepFM's rows).
BIG_SETS: dict[tuple[str, str, str], float] = {}


@pytest.fixture(scope="module")
def panel() -> dict:
    out = {}
    for name in MODELS:
        model = PANEL[name](n_rows=ROWS)
        for kind in ("typical", "background"):
            base = model.typical if kind == "typical" else Background(model.background)
            ref = exact_interactions(model.forward, model.rows, baselines=base, feature_mask=model.feature_mask)
            for detector in ("moebius", "archdetect", "nid"):
                runs = [
                    InteractionAttribution(model.forward, detector=detector).attribute_interactions(
                        model.rows, baselines=base, feature_mask=model.feature_mask, seed=seed)
                    for seed in SEEDS
                ]
                out[name, kind, detector] = (model, ref, runs)
    return out


@pytest.mark.parametrize("cell", list(FLOORS), ids=["-".join(c) for c in FLOORS])
def test_pairs_rank_like_the_exact_reference_and_seeds_agree(panel, cell):
    _, ref, runs = panel[cell]
    table = compare_with_reference(runs[0], ref)
    stable = np.mean([np.nanmean(top_overlap(runs[0], other)) for other in runs[1:]])
    measured = (table.precision_at_k.mean(), table.spearman.mean(), stable)
    floors = FLOORS[cell]
    assert all(m >= f for m, f in zip(measured, floors, strict=True)), f"{cell}: measured {np.round(measured, 3)}, floors {floors}"


@pytest.mark.parametrize("cell", list(FLOORS), ids=["-".join(c) for c in FLOORS])
def test_no_big_sets_and_main_effects_in_output_units(panel, cell):
    _, ref, runs = panel[cell]
    table = compare_with_reference(runs[0], ref)
    assert not table.reference_big_set.any()  # so no big set is right among the top 5
    assert table.big_set.mean() <= BIG_SETS.get(cell, 0.05), table.largest_set.tolist()
    scale = np.abs(ref.main_effects()).max(axis=1)
    relative = table.main_effect_error.to_numpy() / scale
    if cell[2] in ("moebius", "archdetect"):  # exact: the baseline context's single differences
        assert relative.max() < 1e-6
    else:  # fitted by least squares on the queried masks
        assert np.median(relative) < 0.2, np.round(relative, 3)


@pytest.mark.parametrize("cell", [c for c in FLOORS if c[2] != "nid"], ids=lambda c: "-".join(c))
def test_reported_pair_strengths_are_the_exact_pure_effects(panel, cell):
    _, ref, runs = panel[cell]
    for i, local in enumerate(runs[0]):
        for members, value in local.interactions[:5]:
            if len(members) == 2:
                assert value == pytest.approx(ref.set_strength(i, members), rel=1e-6, abs=1e-9)


@pytest.fixture(scope="module")
def deepfm_onnx(panel) -> str:
    model = panel["movielens_deepfm", "typical", "moebius"][0]
    path = str(Path(tempfile.mkdtemp()) / "deepfm.onnx")
    torch.onnx.export(model.module, (torch.zeros(2, model.rows.shape[1]),), path, input_names=["x"], output_names=["p"],
                      dynamic_axes={"x": {0: "n"}, "p": {0: "n"}}, dynamo=False)
    return path


@pytest.mark.parametrize("detector", ["moebius", "archdetect"])
def test_the_deepfm_through_onnx_gives_the_same_top_3(panel, deepfm_onnx, detector):
    """float32 rows for the ONNX export, float64 for torch: the same numbers, so the same masks."""
    model, _, runs = panel["movielens_deepfm", "typical", detector]
    twin = InteractionAttribution(deepfm_onnx, detector=detector).attribute_interactions(model.rows.astype(np.float32), baselines=model.typical, seed=0)
    for a, b in zip(runs[0], twin, strict=True):
        assert [s for s, _ in a.interactions[:3]] == [s for s, _ in b.interactions[:3]]
        np.testing.assert_allclose(a.main_effects, b.main_effects, atol=1e-5)
