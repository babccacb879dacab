"""The ``"moebius"`` detector: ArchDetect's design plus random masks, exact low orders, least squares
of every pure effect the budget allows, sets reported only when they interact themselves."""

from __future__ import annotations

import numpy as np
import pytest

from glider_plugins import Background, InteractionAttribution
from glider_plugins.detectors.archdetect import archdetect_design
from glider_plugins.detectors.moebius import MAX_TERMS, MoebiusDetector, fit_order, moebius_design
from glider_plugins.errors import InputError
from glider_plugins.reference import exact_interactions


def dense(x: np.ndarray) -> np.ndarray:
    """Interactions of every order on 6 features: no truncation of it is exact."""
    return np.sin(x[:, 0] * x[:, 1] + x[:, 2]) * np.exp(0.3 * x[:, 3] * x[:, 4]) + x[:, 5] * x[:, 0] * x[:, 2]


def planted(x: np.ndarray) -> np.ndarray:
    """A 4-way and a 3-way set, two pairs, main effects; x10 and x11 do nothing (12 features)."""
    return (4 * x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3] + 3 * x[:, 4] * x[:, 5] * x[:, 6] + 2 * x[:, 7] * x[:, 8]
            + x[:, 8] * x[:, 9] + x[:, 9] - 0.5 * x[:, 1])


def rows(n: int, p: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=(n, p))


def test_the_design_is_archdetects_then_distinct_random_masks():
    masks = moebius_design(12, 1000, np.random.default_rng(0))
    assert masks.shape == (1000, 12) and masks[0].all()
    np.testing.assert_array_equal(masks[:158], archdetect_design(12))
    assert len(np.unique(masks, axis=0)) == 1000
    assert 0.4 < masks[158:].mean() < 0.6  # each feature on with probability 1/2
    # every mask when they fit in the budget, the instance first; at least the ArchDetect design
    every = moebius_design(6, 1000, np.random.default_rng(0))
    assert every.shape == (1000, 6) and every[0].all() and len(np.unique(every, axis=0)) == 64
    assert len(np.unique(every[:64], axis=0)) == 64  # one full cycle first, then repeats
    assert moebius_design(12, 10, np.random.default_rng(0)).shape == (158, 12)
    assert MoebiusDetector().design(0, 12, 1000, None, np.random.default_rng(0)).shape == (0, 1000, 12)


def test_fit_order_follows_the_distinct_masks():
    assert fit_order(12, 1000) == 4  # 794 terms of up to 4 features fit in 800
    assert fit_order(16, 1000) == 3
    assert fit_order(31, 1000) == 2
    assert fit_order(6, 64) == 6  # every mask: the exact transform


def test_with_every_mask_it_is_the_exact_reference():
    x = rows(3, 6)
    res = InteractionAttribution(dense, detector="moebius").attribute(x, seed=0)
    ref = exact_interactions(dense, x, baselines=0.0)
    np.testing.assert_allclose(res.pairwise(), ref.pairwise(), atol=1e-9)
    np.testing.assert_allclose(np.stack([r.main_effects for r in res]), ref.main_effects(), atol=1e-12)
    for i, local in enumerate(res):
        assert local.metadata["fit_order"] == 6 and res.metadata["n_samples"] == 1000
        for members, value in local.interactions:
            assert value == pytest.approx(ref.set_strength(i, members), rel=1e-9)
    assert res.metadata["n_queries"] - res.metadata["n_repeated"] == 3 * 64  # the model saw each mask once


def test_planted_sets_are_found_with_their_pure_effects():
    x = rows(2, 12)
    res = InteractionAttribution(planted, detector="moebius").attribute(x, seed=0)
    ref = exact_interactions(planted, x, baselines=0.0)
    for i, local in enumerate(res):
        top = [members for members, _ in local.interactions[:4]]
        assert set(top) == {(0, 1, 2, 3), (4, 5, 6), (7, 8), (8, 9)}
        for members, value in local.interactions[:4]:
            assert value == pytest.approx(ref.set_strength(i, members), rel=1e-6)
        # x10 and x11 do nothing: screened out, no term, no pair mass
        assert local.metadata["active_features"] == list(range(10))
        assert local.pairwise()[10:].max() == 0 and local.main_effects[10:].max() == 0
        np.testing.assert_allclose(local.main_effects, ref.main_effects()[i], atol=1e-12)
    np.testing.assert_allclose(res.pairwise(), ref.pairwise(), rtol=1e-6, atol=1e-9)


def test_overlapping_pairs_make_no_set():
    """Three strong pairs closing a triangle: no three-way effect, so no set of three is reported."""
    triangle = lambda z: 3 * z[:, 0] * z[:, 1] + 3 * z[:, 1] * z[:, 2] + 3 * z[:, 0] * z[:, 2] + np.sin(z[:, 3] * z[:, 4] * z[:, 5] * z[:, 6] * z[:, 7])  # noqa: E731
    res = InteractionAttribution(triangle, detector="moebius").attribute(rows(3, 14), seed=0)
    for local in res:
        assert not [m for m, _ in local.interactions if len(m) >= 3 and set(m) <= {0, 1, 2}]
        assert {m for m, _ in local.interactions[:3]} == {(0, 1), (1, 2), (0, 2)}


def test_an_instance_gets_the_same_result_alone_in_a_batch_and_as_float32():
    x = rows(3, 12)
    ia = InteractionAttribution(planted, detector="moebius")
    batch = ia.attribute(x, seed=3)
    one = ia.attribute(x[1:2], seed=3)
    single = ia.attribute(x.astype(np.float32)[1:2].astype(np.float64), seed=3)
    assert one[0].interactions == batch[1].interactions
    np.testing.assert_array_equal(one[0].pairwise(), batch[1].pairwise())
    # the float32 copy of the same numbers draws the same masks (the key hashes float32 values)
    assert [m for m, _ in single[0].interactions[:4]] == [m for m, _ in batch[1].interactions[:4]]


def test_a_background_is_queried_row_by_row_and_averaged():
    x, background = rows(2, 8), rows(5, 8, seed=1)
    res = InteractionAttribution(dense_8 := (lambda z: dense(z[:, :6]) + z[:, 6] * z[:, 7]), detector="moebius").attribute(
        x, baselines=Background(background), seed=0)
    ref = exact_interactions(dense_8, x, baselines=Background(background))
    assert res.metadata["background_rows"] == 5
    np.testing.assert_allclose(res.pairwise(), ref.pairwise(), atol=1e-9)  # 2**8 masks: exact


def test_options_are_checked_by_name():
    for kwargs, name in [({"rows_per_term": 0.5}, "rows_per_term"), ({"min_share": 2.0}, "min_share"),
                         ({"fit_order": 1}, "fit_order"), ({"significance": -1.0}, "significance"),
                         ({"max_order": 1}, "max_order"), ({"background_rows": 0}, "background_rows")]:
        with pytest.raises(InputError, match=name):
            MoebiusDetector(**kwargs)
    assert "rows_per_term=1.25" in repr(MoebiusDetector()) and MoebiusDetector(fit_order=3).get_params()["fit_order"] == 3
    masks = np.ones((1, 10, 100), dtype=bool)
    masks[0, 1:] = np.random.default_rng(0).random((9, 100)) < 0.5
    with pytest.raises(InputError, match=f"at most {MAX_TERMS}.*detector='nid'"):
        MoebiusDetector().detect(masks, np.random.default_rng(0).normal(size=(1, 10)), rng=np.random.default_rng(0))
