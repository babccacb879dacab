"""The exact reference: enumeration and Moebius transform, checked against functions whose pure
effects are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from glider_plugins import Background, InteractionAttribution
from glider_plugins.errors import InputError
from glider_plugins.reference import (
    ExactInteractions,
    all_masks,
    compare_with_reference,
    exact_interactions,
    moebius_transform,
    pair_precision,
    pair_spearman,
    top_overlap,
)


def quickstart(x: np.ndarray) -> np.ndarray:
    return 2 * x[:, 0] * x[:, 1] + 3 * x[:, 2] * x[:, 3] * x[:, 4] + x[:, 5]


def test_moebius_inverts_the_sum_over_subsets():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 2**5))
    masks = all_masks(5)
    subset = (masks[:, None, :] <= masks[None, :, :]).all(axis=2)  # subset[s, t]: S inside T
    values = m @ subset  # v(T) = sum over S inside T of m(S)
    np.testing.assert_allclose(moebius_transform(values), m, atol=1e-12)
    np.testing.assert_allclose(moebius_transform(values[0]), m[0], atol=1e-12)


def test_pure_effects_of_a_known_function_with_a_zero_baseline():
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(3, 8))
    ref = exact_interactions(quickstart, x, baselines=0.0)
    for i in range(3):
        top = ref.top(i)
        assert [s for s, _ in top] == sorted([(0, 1), (2, 3, 4)], key=lambda s: -abs(ref.set_strength(i, s)))
        assert ref.set_strength(i, (0, 1)) == pytest.approx(2 * x[i, 0] * x[i, 1])
        assert ref.set_strength(i, (2, 3, 4)) == pytest.approx(3 * x[i, 2] * x[i, 3] * x[i, 4])
    # each feature alone does nothing, but x5 (which is additive)
    expected = np.zeros((3, 8))
    expected[:, 5] = x[:, 5]
    np.testing.assert_allclose(ref.main_effects(), expected, atol=1e-12)
    pairs = ref.pairwise()
    np.testing.assert_allclose(pairs[:, 0, 1], 2 * x[:, 0] * x[:, 1])
    np.testing.assert_allclose(pairs[:, 2, 4], 3 * x[:, 2] * x[:, 3] * x[:, 4])
    assert pairs[:, 0, 2].max() == 0 and ref.metadata["n_queries"] == 3 * (2**8 - 1)
    np.testing.assert_allclose(ref.share_of_order(3), [ref.set_strength(i, (2, 3, 4)) / (ref.set_strength(i, (0, 1)) + ref.set_strength(i, (2, 3, 4))) for i in range(3)])


def test_a_background_averages_the_references_of_its_rows():
    rng = np.random.default_rng(1)
    x, background = rng.normal(size=(2, 6)), rng.normal(size=(4, 6))
    f = lambda z: z[:, 0] * z[:, 1] * z[:, 2] + np.sin(z[:, 3] * z[:, 4]) + z[:, 5]  # noqa: E731
    averaged = exact_interactions(f, x, baselines=Background(background))
    each = [exact_interactions(f, x, baselines=background[r : r + 1]).moebius for r in range(4)]
    np.testing.assert_allclose(averaged.moebius, np.mean(each, axis=0), atol=1e-12)
    assert averaged.metadata["n_background"] == 4
    first_two = exact_interactions(f, x, baselines=Background(background), n_background=2)
    np.testing.assert_allclose(first_two.moebius, np.mean(each[:2], axis=0), atol=1e-12)


def test_feature_groups_and_more_than_sixteen_features():
    x = np.random.default_rng(2).uniform(size=(2, 20))
    grouped = exact_interactions(lambda z: z[:, :10].sum(axis=1) * z[:, 10:].sum(axis=1), x, feature_mask=np.arange(20)[None] // 10)
    assert grouped.n_features == 2
    np.testing.assert_allclose(grouped.set_strength(0, (0, 1)), x[0, :10].sum() * x[0, 10:].sum())
    with pytest.raises(InputError, match="feature_mask: exact enumeration needs at most 16"):
        exact_interactions(lambda z: z.sum(axis=1), x)
    with pytest.raises(InputError, match="2\\*\\*p entries"):
        moebius_transform(np.zeros(6))


def test_metrics_against_the_reference():
    truth = np.zeros((4, 4))
    truth[0, 1] = truth[1, 0] = 3.0
    truth[2, 3] = truth[3, 2] = 1.0
    assert pair_precision(truth, truth, k=5) == 1.0  # only two pairs interact: both count
    swapped = truth.copy()
    swapped[0, 1] = swapped[1, 0] = 0.0
    swapped[0, 2] = swapped[2, 0] = 3.0
    assert pair_precision(swapped, truth, k=2) == 0.5
    assert pair_spearman(truth, truth) == pytest.approx(1.0)
    assert np.isnan(pair_spearman(np.zeros((4, 4)), truth))
    assert np.isnan(pair_precision(truth, np.zeros((4, 4))))


def test_compare_and_overlap_on_a_detector_result():
    x = np.random.default_rng(3).uniform(0.5, 1.5, size=(3, 8))
    ref = exact_interactions(quickstart, x, baselines=0.0)
    ia = InteractionAttribution(quickstart, detector="archdetect")
    res = ia.attribute_interactions(x, baselines=0.0)
    table = compare_with_reference(res, ref)
    assert list(table.columns) == [
        "instance", "precision_at_k", "spearman", "big_set", "reference_big_set", "largest_set",
        "main_effect_error", "strength_error",
    ]
    assert (table.precision_at_k == 1.0).all() and not table.reference_big_set.any()
    np.testing.assert_array_equal(top_overlap(res, res), np.ones(3))
    with pytest.raises(InputError, match="reference: expected 2 instances"):
        compare_with_reference(res[:2], ref)
    assert isinstance(ref, ExactInteractions) and len(ref) == 3
