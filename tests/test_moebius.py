"""The ``"moebius"`` detector: ArchDetect's design plus random masks, exact low orders, least squares
of every pure effect the budget allows, sets reported only when they interact themselves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from glider_plugins import Background, InteractionAttribution
from glider_plugins.detectors.archdetect import archdetect_design
from glider_plugins.detectors.moebius import (
    MAX_TERMS,
    MoebiusDetector,
    fit_order,
    moebius_design,
    screening_design,
)
from glider_plugins.errors import InputError, InputTypeError
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
    # a budget under ArchDetect's design: its main-effect rows in both contexts, then random masks
    small = moebius_design(12, 100, np.random.default_rng(0))
    assert small.shape == (100, 12) and len(np.unique(small, axis=0)) == 100
    np.testing.assert_array_equal(small[:26], screening_design(12))
    np.testing.assert_array_equal(screening_design(12), archdetect_design(12)[np.r_[0:13, 79:92]])
    assert moebius_design(12, 10, np.random.default_rng(0)).shape == (26, 12)
    assert MoebiusDetector().design(0, 12, 1000, None, np.random.default_rng(0)).shape == (0, 1000, 12)


def test_fit_order_follows_the_distinct_masks():
    assert fit_order(12, 1000) == 4  # 794 terms of up to 4 features fit in 800
    assert fit_order(16, 1000) == 3
    assert fit_order(31, 1000) == 2
    assert fit_order(6, 64) == 6  # every mask: the exact transform


def test_with_every_mask_it_is_the_exact_reference():
    x = rows(3, 6)
    res = InteractionAttribution(dense, detector="moebius").attribute_interactions(x, seed=0)
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
    res = InteractionAttribution(planted, detector="moebius").attribute_interactions(x, seed=0)
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
    res = InteractionAttribution(triangle, detector="moebius").attribute_interactions(rows(3, 14), seed=0)
    for local in res:
        assert not [m for m, _ in local.interactions if len(m) >= 3 and set(m) <= {0, 1, 2}]
        assert {m for m, _ in local.interactions[:3]} == {(0, 1), (1, 2), (0, 2)}


def test_an_instance_gets_the_same_result_alone_in_a_batch_and_as_float32():
    x = rows(3, 12)
    ia = InteractionAttribution(planted, detector="moebius")
    batch = ia.attribute_interactions(x, seed=3)
    one = ia.attribute_interactions(x[1:2], seed=3)
    single = ia.attribute_interactions(x.astype(np.float32)[1:2].astype(np.float64), seed=3)
    assert one[0].interactions == batch[1].interactions
    np.testing.assert_array_equal(one[0].pairwise(), batch[1].pairwise())
    # the float32 copy of the same numbers draws the same masks (the key hashes float32 values)
    assert [m for m, _ in single[0].interactions[:4]] == [m for m, _ in batch[1].interactions[:4]]


def test_a_background_is_queried_row_by_row_and_averaged():
    x, background = rows(2, 8), rows(5, 8, seed=1)
    res = InteractionAttribution(dense_8 := (lambda z: dense(z[:, :6]) + z[:, 6] * z[:, 7]), detector="moebius").attribute_interactions(
        x, baselines=Background(background), seed=0)
    ref = exact_interactions(dense_8, x, baselines=Background(background))
    assert res.metadata["background_rows"] == 5
    np.testing.assert_allclose(res.pairwise(), ref.pairwise(), atol=1e-9)  # 2**8 masks: exact


def test_options_are_checked_by_name():
    for kwargs, name in [({"rows_per_term": 0.5}, "rows_per_term"), ({"min_share": 2.0}, "min_share"),
                         ({"fit_order": 1}, "fit_order"), ({"significance": -1.0}, "significance"),
                         ({"max_order": 1}, "max_order"), ({"background_rows": 0}, "background_rows"),
                         ({"fallback": "yes"}, "fallback")]:
        with pytest.raises((InputError, InputTypeError), match=name):
            MoebiusDetector(**kwargs)
    assert "rows_per_term=1.25" in repr(MoebiusDetector()) and MoebiusDetector(fit_order=3).get_params()["fit_order"] == 3
    masks = np.ones((1, 10, 100), dtype=bool)
    masks[0, 1:] = np.random.default_rng(0).random((9, 100)) < 0.5
    with pytest.raises(InputError, match=f"at most {MAX_TERMS}.*detector='auto' or 'nid'"):
        MoebiusDetector().detect(masks, np.random.default_rng(0).normal(size=(1, 10)), rng=np.random.default_rng(0))


def widened(p: int, seed: int = 0):
    """``planted`` on inputs 0..11 and main effects only on inputs 12..p-1."""
    c = np.random.default_rng(seed).normal(size=p - 12)
    return lambda z: planted(z[:, :12]) + z[:, 12:] @ c


def test_many_features_screened_to_the_interacting_ones():
    """p = 60 at 1000 queries (ArchDetect's design would need 3662): the screening rows find the
    ten features that interact, the others keep their exact main effects and get no term, and the
    pure effects of the ten come out as the exact reference's (the transform restricted to them,
    the other features off, is exact whatever those do)."""
    x, model = rows(2, 60), widened(60)
    res = InteractionAttribution(model).attribute_interactions(x, seed=0)
    assert res.metadata["detector"] == "moebius" and res.metadata["n_samples"] == 1000
    ref = exact_interactions(planted, x[:, :12], baselines=0.0)
    for i, local in enumerate(res):
        assert local.metadata["active_features"] == list(range(10)) and not local.metadata["exact_pairs"]
        assert "fallback_from" not in local.metadata
        assert {m for m, _ in local.interactions[:4]} == {(0, 1, 2, 3), (4, 5, 6), (7, 8), (8, 9)}
        np.testing.assert_allclose(local.pairwise()[:12, :12], ref.pairwise()[i], rtol=1e-6, atol=1e-9)
        assert local.pairwise()[12:].max() == 0
        alone = model(np.where(np.eye(60, dtype=bool), x[i], 0.0)) - model(np.zeros((1, 60)))
        np.testing.assert_allclose(local.main_effects, alone, rtol=1e-9, atol=1e-12)
    # the same result alone and in a batch
    one = InteractionAttribution(model).attribute_interactions(x[1:], seed=0)
    np.testing.assert_array_equal(one[0].pairwise(), res[1].pairwise())


def chain(z: np.ndarray) -> np.ndarray:
    """Every feature interacting with its neighbours, and a three-way set."""
    return (z[:, :-1] * z[:, 1:]).sum(axis=1) + z[:, 0] * z[:, 1] * z[:, 2]


def test_dense_instances_are_handed_to_archdetect_or_nid():
    """Every feature interacting: with ``fallback=True`` an instance goes to ArchDetect on the
    design's ArchDetect rows (the same numbers as ArchDetect itself) when sets of three do not fit,
    and to NID when not even the pairs fit in MAX_TERMS terms; without, the pairs-only fit."""
    x = rows(2, 20)
    handing = InteractionAttribution(chain, detector="moebius")
    mine = handing.attribute_interactions(x, n_samples=600, seed=0, fallback=True)
    arch = InteractionAttribution(chain, detector="archdetect").attribute_interactions(x, seed=0)
    for local, theirs in zip(mine, arch, strict=True):
        assert local.metadata["fallback_from"] == "moebius" and local.metadata["detector"] == "archdetect"
        np.testing.assert_array_equal(local.pairwise(), theirs.pairwise())
        assert local.interactions == theirs.interactions
    own = handing.attribute_interactions(x, n_samples=600, seed=0)
    assert [r.metadata["fit_order"] for r in own] == [2, 2] and own[0].metadata["exact_pairs"]
    neighbours = np.zeros((2, 20, 20))  # the exact pure pairs at baseline 0: x_i x_(i+1)
    for i in range(19):
        neighbours[:, i, i + 1] = neighbours[:, i + 1, i] = x[:, i] * x[:, i + 1]
    np.testing.assert_allclose(own.pairwise(), neighbours, rtol=1e-9, atol=1e-12)
    wide = InteractionAttribution(chain).attribute_interactions(rows(1, 100), seed=0, max_order=2)  # 5051 terms
    assert wide[0].metadata["detector"] == "nid" and wide[0].metadata["fallback_from"] == "moebius"
    with pytest.raises(InputError, match="5051 terms for 100 features"):
        handing.attribute_interactions(rows(1, 100), seed=0)


def test_pairs_outnumbering_the_masks_get_the_least_norm_fit():
    """40 interacting features at 600 queries (821 pair terms): the least-norm fit still ranks the
    39 neighbour pairs first (measured 35 and 37 of 39 in the top 39; NID on the same budget 8, 7)."""
    res = InteractionAttribution(chain).attribute_interactions(rows(2, 40), n_samples=600, seed=0)
    for local in res:
        assert local.metadata["detector"] == "moebius" and local.metadata["fit_order"] == 2
        found = {m for m, _ in local.interactions[:39]}
        assert len(found & {(i, i + 1) for i in range(39)}) >= 33, sorted(found)


def test_an_additive_model_has_no_interactions_at_any_size():
    """Every feature acting alone: no term beyond the main effects, which are exact (p = 10 on the
    whole design, p = 40 on the screening rows, where nothing is left to fit)."""
    for p in (10, 40):
        coef = np.arange(p, dtype=float)
        x = rows(2, p)
        res = InteractionAttribution(lambda z, c=coef: z @ c).attribute_interactions(x, seed=0)
        for i, local in enumerate(res):
            assert local.interactions == [] and local.pairwise().max() == 0
            np.testing.assert_allclose(local.main_effects, x[i] * coef, rtol=1e-12)


def test_the_gram_factor_solves_and_inverts_with_or_without_a_cholesky_factor():
    from glider_plugins.detectors.pure_effects.columns import GramFactor as _GramFactor

    rng = np.random.default_rng(0)
    design = rng.normal(size=(30, 5))
    for gram in (design.T @ design, np.array([[1.0, 2.0], [2.0, 1.0]])):  # positive definite; indefinite: no factor
        factor, right = _GramFactor(gram), rng.normal(size=len(gram))
        np.testing.assert_allclose(factor.solve(right), np.linalg.solve(gram, right), rtol=1e-10)
        np.testing.assert_allclose(factor.inverse(), np.linalg.inv(gram), rtol=1e-10, atol=1e-12)
        rows = rng.normal(size=(7, len(gram)))
        np.testing.assert_allclose(factor.leverage(rows), np.einsum("ij,jk,ik->i", rows, np.linalg.inv(gram), rows), rtol=1e-10)


def test_coded_columns_and_the_subset_count_gram_are_the_gathered_columns_and_their_products():
    """Issue 26: the AND-crosses from one integer per mask, and their Gram matrix from the counts of
    masks holding each union of features, are the same numbers as gathering and multiplying the
    columns (exact integers); wider masks and terms over more features take the direct route."""
    from glider_plugins.detectors.pure_effects.columns import (
        MAX_SUBSET_FEATURES,
        cross_columns,
        subset_count_gram,
    )

    rng = np.random.default_rng(0)
    for p, features in ((30, 10), (70, 12)):  # coded masks; more features than an int64 holds: gathered
        masks = rng.random((500, p)) < 0.5
        active = np.sort(rng.choice(p, features, replace=False)).tolist()
        terms = [()] + [t for size in range(1, 5) for t in itertools.combinations(active, size)]
        columns = cross_columns(masks, terms)
        gathered = np.stack([masks[:, list(t)].all(axis=1) if t else np.ones(len(masks), bool) for t in terms], axis=1)
        np.testing.assert_array_equal(columns, gathered.astype(np.float64))
        np.testing.assert_array_equal(subset_count_gram(masks, terms), columns.T @ columns)
    wide = [tuple(range(MAX_SUBSET_FEATURES + 1))]
    assert subset_count_gram(rng.random((10, MAX_SUBSET_FEATURES + 1)) < 0.5, wide) is None  # 2**17 counts: the columns' product instead


def test_pairs_fitted_on_a_shared_design_are_the_direct_fits_numbers():
    """Issue 26: instances on the same masks share the factorisation of every pair's columns; an
    instance's fit on its own pairs (block inversion where it leaves out fewer pairs than it keeps,
    its own Gram block where more) gives what least squares on its columns gives."""
    from glider_plugins.detectors.moebius.design import DESIGN_FAMILY, family_masks
    from glider_plugins.detectors.pure_effects.columns import (
        GramFactor,
        count_gram,
        cross_columns,
        jittered,
    )
    from glider_plugins.detectors.pure_effects.least_squares import least_squares_fit
    from glider_plugins.detectors.pure_effects.shared import shared_pairs

    p, rng = 20, np.random.default_rng(0)
    masks = moebius_design(p, 400, np.random.default_rng(1))
    assert any((masks[42:] == family_masks(p, 400, member)).all() for member in range(DESIGN_FAMILY))
    pairs = shared_pairs(masks)
    assert pairs is not None and shared_pairs(masks) is pairs  # kept for the next instance on these masks
    z = masks.astype(np.float64)
    for kept in (18, 15, 6):  # 153 pairs kept, 37 left out: block inversion; 105 / 85; 15 / 175: the block itself
        active = np.sort(rng.choice(p, kept, replace=False))
        terms = [()] + [(int(i),) for i in active] + list(itertools.combinations(active.tolist(), 2))
        main = rng.normal(size=p)
        y = z[:, active] @ main[active] + rng.normal(size=len(z))
        fit = least_squares_fit(masks, y, terms, (0.0, main, None), 1e-12, share=True)
        columns = cross_columns(masks, terms[1 + kept:])
        target = y - z[:, active] @ main[active]
        np.testing.assert_allclose(fit.coef[1 + kept:], np.linalg.lstsq(columns, target, rcond=None)[0], rtol=1e-6, atol=1e-8)
        direct = GramFactor(jittered(count_gram(columns)))
        np.testing.assert_allclose(fit.leverage, direct.leverage(columns), atol=1e-7)
        np.testing.assert_allclose(fit.inverse, direct.inverse(), rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(fit.design, columns)
        assert fit.held_out_r2(target) == pytest.approx(1 - np.sum((target - columns @ fit.coef[1 + kept:]) ** 2 / (1 - fit.leverage) ** 2)
                                                        / np.sum((target - target.mean()) ** 2))
    assert shared_pairs(masks[:150]) is None  # 190 pairs need 238 masks


def test_only_masks_other_instances_share_keep_a_shared_pair_fit():
    """A family's set (the moebius design) keeps its shared pair fit for the next instances on it;
    masks drawn for one instance alone (auto's Fourier design below 17 features) are fitted
    directly and keep nothing (they would build a fit nobody reuses and push the family's out)."""
    from glider_plugins.detectors.pure_effects.shared import forget_designs, kept_designs

    forget_designs()
    InteractionAttribution(chain).attribute_interactions(rows(3, 12), n_samples=300, seed=0)  # fits pairs over exact mains
    assert kept_designs() == 0
    InteractionAttribution(chain, detector="moebius").attribute_interactions(rows(3, 20), n_samples=400, seed=0)
    assert 1 <= kept_designs() <= 3  # the sets the three instances' streams picked
    forget_designs()
    assert kept_designs() == 0


def test_an_instances_random_masks_are_one_of_a_family_its_own_stream_picks():
    from glider_plugins.detectors.moebius.design import DESIGN_FAMILY, family_masks

    drawn = {moebius_design(39, 1000, np.random.default_rng(seed))[80:].tobytes() for seed in range(40)}
    family = {family_masks(39, 1000, member).tobytes() for member in range(DESIGN_FAMILY)}
    assert drawn == family  # 40 streams pick all 8 sets, and nothing else
    with pytest.raises(ValueError):
        family_masks(39, 1000, 0)[0, 0] = True  # read-only: instances share it
