"""The dense panel, fast subset (issue 24): image and text classifiers nobody here designed, whose pure
effects spread over thousands of sets, explained by the default detector at 1000 queries and held
to the exact Banzhaf and Shapley interactions of every pair (all 2**p masks enumerated).

The full panel (``python benchmarks/real_model_panel.py --indices``, README) runs four such models
with a typical baseline and a background, beside shapiq's KernelSHAPIQ, SPEX and ProxySPEX; this
subset runs two of them on 8 rows with the typical baseline. Floors are 0.05 below what this subset
measured (comments), the issue's targets where they are met."""

from __future__ import annotations

import numpy as np
import pytest

from glider_plugins import InteractionAttribution
from glider_plugins.plugins import make_detector
from glider_plugins.reference import (
    compare_with_reference,
    exact_interactions,
    faithfulness,
    top_overlap,
)
from tests.groundtruth.real_models import PANEL

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROWS = 8
SEEDS = (0, 1, 2)
MODELS = ("digits_cnn", "review_cnn")

#: model -> floors of BII precision@5, BII Spearman (pairs of 5 % of the largest exact |BII| or
#: more), BII captured@5, k-SII precision@5, top-5 overlap across seeds.
FLOORS = {
    "digits_cnn": (0.85, 0.9, 0.95, 0.8, 0.85),  # measured 0.925, 0.959, 0.997, 0.875, 0.90
    "review_cnn": (0.9, 0.9, 0.95, 0.9, 0.9),  # measured 0.95, 0.983, 1.0, 0.95, 0.975
}


@pytest.fixture(scope="module", params=MODELS)
def dense(request):
    model = PANEL[request.param](n_rows=ROWS)
    ref = exact_interactions(model.forward, model.rows, baselines=model.typical, feature_mask=model.feature_mask)
    runs = [InteractionAttribution(model.forward).attribute_interactions(
        model.rows, baselines=model.typical, feature_mask=model.feature_mask, n_samples=1000, seed=seed) for seed in SEEDS]
    return request.param, ref, runs


def test_the_default_reports_banzhaf_interactions_that_match_the_exact_ones(dense):
    name, ref, runs = dense
    first = runs[0]
    assert {local.index for local in first} == {"BII"}  # no sparse fit of pure effects is faithful here
    assert first.metadata["n_queries"] <= 1000 * ROWS
    bii = compare_with_reference(first, ref, index="BII")
    ksii = compare_with_reference(first, ref, index="k-SII")
    stable = np.nanmean([top_overlap(first, other) for other in runs[1:]])
    measured = (bii.precision_at_k.mean(), np.nanmean(bii.spearman), bii.captured_at_k.mean(), ksii.precision_at_k.mean(), stable)
    assert all(m >= f for m, f in zip(measured, FLOORS[name], strict=True)), (name, np.round(measured, 3))


def test_the_surrogate_is_as_faithful_as_any_of_its_order(dense):
    _, ref, runs = dense
    table = faithfulness(runs[0], ref)
    assert (table.order == 2).all()
    assert (table.r2 >= 0.9 * table.ceiling).mean() >= 0.75 and table.r2.mean() >= 0.9 * table.ceiling.mean()



#: model -> floors of k-SII precision@5, k-SII Spearman and top-5 overlap across seeds when the
#: default is asked for the Shapley interactions (``index="k-SII"``).
SHAPLEY_FLOORS = {
    "digits_cnn": (0.85, 0.9, 0.85),  # measured 0.875, 0.956, 0.90 (asked for BII: k-SII P@5 0.850)
    "review_cnn": (0.9, 0.9, 0.9),  # measured 0.95, 0.981, 0.975 (asked for BII: 0.95)
}


def test_asked_for_shapley_interactions_the_default_ranks_them_at_least_as_well_as_its_banzhaf_design(dense):
    name, ref, runs = dense
    model = PANEL[name](n_rows=ROWS)
    asked = [InteractionAttribution(model.forward, detector=make_detector("auto", index="k-SII")).attribute_interactions(
        model.rows, baselines=model.typical, feature_mask=model.feature_mask, n_samples=1000, seed=seed) for seed in SEEDS]
    assert {local.index for local in asked[0]} == {"k-SII"}
    scores = compare_with_reference(asked[0], ref, index="k-SII")
    stable = np.nanmean([top_overlap(asked[0], other) for other in asked[1:]])
    measured = (scores.precision_at_k.mean(), np.nanmean(scores.spearman), stable)
    assert all(m >= f for m, f in zip(measured, SHAPLEY_FLOORS[name], strict=True)), (name, np.round(measured, 3))
    assert measured[0] >= compare_with_reference(runs[0], ref, index="k-SII").precision_at_k.mean()
