"""Interaction indices a budget can identify (issue 24): the Banzhaf (BII) and Shapley (k-SII)
interaction of every pair, exact from the references, estimated by the ``"fourier"`` detector, and
chosen by ``"auto"`` where a sparse fit of pure effects is not faithful.

Ground truth: shapiq's own ``ExactComputer`` on the same games, exact enumeration of real
callables, and planted games whose Fourier terms stop at two features (there the fit is exact)."""

from __future__ import annotations

import itertools
import math

import matplotlib
import numpy as np
import pytest
import shapiq
from shapiq.game_theory.exact import ExactComputer

from glider_plugins import AttributionResult, Background, InteractionAttribution
from glider_plugins.detectors.fourier import (
    DESIGNS,
    RIDGE_GRID,
    complement_rows,
    distinct_rows,
    even_part,
    fourier_design,
    fourier_fit,
    fourier_result,
    search_grid,
    shapley_pair_correction,
)
from glider_plugins.detectors.fourier.fit import _walsh_columns
from glider_plugins.errors import InputError
from glider_plugins.reference import (
    MaskGame,
    compare_with_reference,
    exact_interactions,
    faithfulness,
    top_overlap,
)
from glider_plugins.set_functions import (
    all_masks,
    distinct_masks,
    exact_pair_index,
    game_values,
    index_values,
    mask_keys,
    moebius_transform,
    pair_mass,
    pair_matrix,
    walsh_transform,
    walsh_values,
)
from tests.groundtruth.planted import planted_function, planted_instances

P = 6


def random_game(p: int, seed: int) -> tuple[np.ndarray, dict[tuple[int, ...], float]]:
    """Every m(S) of a random game on p players, as an array (subset-bitmask order) and a dict."""
    rng = np.random.default_rng(seed)
    moebius = rng.normal(size=2**p)
    members = all_masks(p)
    return moebius, {tuple(np.flatnonzero(members[s]).tolist()): float(moebius[s]) for s in range(2**p)}


def table_game(values: np.ndarray):
    """A shapiq game reading a table of all 2**p values."""
    p = len(values).bit_length() - 1
    return lambda coalitions: values[np.asarray(coalitions, dtype=np.int64) @ (1 << np.arange(p))]


@pytest.mark.parametrize("index", ["BII", "k-SII"])
def test_the_conversions_are_shapiqs_exact_indices(index):
    moebius, effects = random_game(P, seed=1)
    values = game_values(P, effects)  # v(T): the sum of m(S) over the S in T
    np.testing.assert_allclose(moebius_transform(values), moebius, atol=1e-12)
    theirs = ExactComputer(n_players=P, game=table_game(values))(index, order=2)
    ours = index_values(P, list(effects), np.array(list(effects.values())), index)
    assert set(ours) == {s for s in theirs.interaction_lookup}
    for members, value in ours.items():
        assert value == pytest.approx(theirs[members], abs=1e-10), members
    pairs = exact_pair_index(moebius[None], index)[0]
    for a, b in itertools.combinations(range(P), 2):
        assert pairs[a, b] == pytest.approx(theirs[(a, b)], abs=1e-10)


def test_the_banzhaf_interaction_is_four_times_the_fourier_coefficient():
    moebius, effects = random_game(P, seed=2)
    values = game_values(P, effects)
    walsh = walsh_transform(values)
    bii = index_values(P, list(effects), np.array(list(effects.values())), "BII")
    for a, b in itertools.combinations(range(P), 2):
        assert bii[(a, b)] == pytest.approx(4 * walsh[(1 << a) | (1 << b)], abs=1e-12)


def low_order_game(p: int, seed: int):
    """A model whose game around x = 1 with baseline 0 has Fourier terms of at most two features."""
    rng = np.random.default_rng(seed)
    pairs = {(a, b): rng.normal() for a, b in itertools.combinations(range(p), 2) if rng.random() < 0.4}
    singles = rng.normal(size=p)

    def model(x: np.ndarray) -> np.ndarray:
        s = 2.0 * x - 1.0
        return 0.3 + s @ singles + sum(w * s[:, a] * s[:, b] for (a, b), w in pairs.items())

    return model


@pytest.mark.parametrize("p", [8, 12])
def test_fourier_is_exact_where_the_game_stops_at_two_features(p):
    model = low_order_game(p, seed=p)
    x = np.ones((2, p))
    ref = exact_interactions(model, x, baselines=0.0)
    res = InteractionAttribution(model, detector="fourier").attribute_interactions(x, baselines=0.0, n_samples=600, seed=0)
    assert res.metadata["n_queries"] <= 2 * 600
    for index in ("BII", "k-SII"):
        np.testing.assert_allclose(res.pairwise(index), ref.pairwise(index), atol=1e-9)
        for i in range(2):
            exact = ref.index_values(i, index)
            for members, value in res[i].index_values(index).items():
                assert value == pytest.approx(exact[members], abs=1e-9), (index, members)
    assert res[0].index == "BII" and res[0].interactions[0][1] == pytest.approx(np.abs(ref.pairwise("BII")[0]).max())
    signed = dict(res[0].signed_interactions())
    assert all(signed[s] == pytest.approx(ref.pairwise("BII")[0][s]) for s, _ in res[0].interactions[:5])
    np.testing.assert_allclose(faithfulness(res, ref).r2, 1.0, atol=1e-9)


@pytest.mark.parametrize("p", [5, 7])
def test_fourier_is_exact_for_any_game_where_every_mask_is_queried(p):
    """Sets of four and five features: the surrogate of order 2 under uniform sizes gives their
    pairs 2/7 (and 5/28) of m(S) where the Shapley interaction gives 1/3 (and 1/4); the correction
    from the residuals makes the k-SII exact, and the BII come from plain least squares."""
    rng = np.random.default_rng(p)
    effects = {members: rng.normal() for size in range(p + 1) for members in itertools.combinations(range(p), size)
               if rng.random() < 0.5 or size >= 4}
    values = game_values(p, effects)

    def model(x: np.ndarray) -> np.ndarray:
        return values[np.asarray(x, dtype=bool) @ (1 << np.arange(p))]

    x = np.ones((1, p))
    ref = exact_interactions(model, x, baselines=0.0)
    res = InteractionAttribution(model, detector="fourier").attribute_interactions(x, baselines=0.0, n_samples=2**p, seed=0)
    for index in ("BII", "k-SII"):
        np.testing.assert_allclose(res.pairwise(index), ref.pairwise(index), atol=1e-9)


def test_the_shapley_correction_is_what_four_features_add():
    """m({0, 1, 2, 3}) = 1 on all masks: the order-2 surrogate under uniform sizes says 2/7 for
    the pair (0, 1), the Shapley interaction 1/3; the correction is the difference."""
    p = 6
    masks = all_masks(p)
    values = masks[:, :4].all(axis=1).astype(float)
    _, shapley = fourier_fit(masks, values)
    fitted = np.array([shapley[(0, 1)] * 4, exact_pair_index(moebius_transform(values[None]), "k-SII")[0, 0, 1]])
    assert fitted == pytest.approx([2 / 7, 1 / 3])
    residual = values - _walsh_columns(masks, list(shapley)) @ np.array(list(shapley.values()))
    correction = shapley_pair_correction(masks, residual)
    assert correction[0, 1] == pytest.approx(1 / 3 - 2 / 7)
    assert correction[4, 5] == pytest.approx(0.0, abs=1e-12) and np.allclose(correction, correction.T)


def test_the_shapley_correction_sums_each_pair_over_each_size_as_its_definition_does():
    """On sampled masks: the stratified estimate of ``sum_z r(z) chi_ij(z) q(|z - ij|)``, each size's
    sum scaled to its population and shrunk by its sampling variance, pair by pair as written."""
    p = 7
    rng = np.random.default_rng(3)
    masks = fourier_design(p, 60, rng)
    residual = rng.normal(size=len(masks))
    sizes = masks.sum(axis=1)
    total, variance = np.zeros((p, p)), np.zeros((p, p))
    for size in np.unique(sizes):
        rows = np.flatnonzero(sizes == size)
        population = math.comb(p, int(size))
        for i, j in itertools.combinations(range(p), 2):
            outside = size - masks[rows, i].astype(int) - masks[rows, j].astype(int)
            weight = np.array([1 / ((p - 1) * math.comb(p - 2, int(t))) for t in outside])
            chi = (2.0 * masks[rows, i] - 1) * (2.0 * masks[rows, j] - 1)
            terms = residual[rows] * population / len(rows) * weight * chi
            total[i, j] += terms.sum()
            if len(rows) > 1:
                spread = (terms**2).sum() - terms.sum() ** 2 / len(rows)
                variance[i, j] += spread * len(rows) / (len(rows) - 1) * max(0.0, 1 - len(rows) / population)
    expected = total**2 / (total**2 + variance) * total
    found = shapley_pair_correction(masks, residual)
    iu = np.triu_indices(p, 1)
    assert found[iu] == pytest.approx(expected[iu], rel=1e-10, abs=1e-12)
    assert np.allclose(found, found.T) and not np.diag(found).any()


@pytest.mark.parametrize("p", [3, 16, 70])
def test_complement_rows_find_each_rows_complement_and_even_part_averages_with_it(p):
    """Positions of ``1 - z`` among the rows (-1 where it was not queried), checked against a scan;
    the even part of a value is its mean with its complement's (a single row keeps its own)."""
    rng = np.random.default_rng(p)
    half = rng.random((30, p)) < 0.5
    masks = np.concatenate([half, ~half[:12]])[rng.permutation(42)]
    found = complement_rows(masks)
    expected = [next((j for j in range(len(masks)) if (masks[j] == ~masks[i]).all()), -1) for i in range(len(masks))]
    assert [(f >= 0) for f in found] == [(e >= 0) for e in expected]
    assert all((masks[f] == ~masks[i]).all() for i, f in enumerate(found) if f >= 0)
    values = rng.normal(size=len(masks))
    even = even_part(values, found)
    paired = found >= 0
    assert even[paired] == pytest.approx(0.5 * (values[paired] + values[found[paired]]))
    assert (even[~paired] == values[~paired]).all() and len(complement_rows(np.zeros((0, 4), bool))) == 0


@pytest.mark.parametrize("index", ["BII", "k-SII"])
def test_a_design_of_every_mask_with_repeats_gives_the_exact_indices(index):
    """Where the budget holds every mask, the design repeats some to fill it; each distinct mask
    counts once (its outputs averaged: :func:`distinct_rows`), so both indices are exact. Counted
    as often as it was drawn, a repeated mask weighed twice (errors of 0.5 % of the largest pair)."""
    p = 7
    rng = np.random.default_rng(5)
    values = rng.normal(size=2**p)
    masks = fourier_design(p, 300, np.random.default_rng(0), *DESIGNS[index])
    assert len(masks) == 300 and len(distinct_masks(masks)[0]) == 2**p
    result = fourier_result(masks, values[masks @ (1 << np.arange(p))], 1e-9, index=index)
    exact = exact_pair_index(moebius_transform(values[None]), index)[0]
    assert pair_matrix(p, result.indices[index]) == pytest.approx(exact, abs=1e-9)
    assert result.metadata["n_queries"] == 300
    once, means = distinct_rows(np.array([[1, 0], [0, 1], [1, 0]], bool), np.array([1.0, 2.0, 4.0]))
    assert once.tolist() == [[True, False], [False, True]] and means.tolist() == [2.5, 2.0]


def test_the_shapley_pairs_ignore_what_sets_of_three_add():
    """A set of three features has no Shapley interaction on any pair and is odd under ``z -> 1 - z``:
    added to a game of pairs (and a few sets of four), large enough to dominate its outputs, it
    moves the estimated k-SII of the pairs by a few per cent of the largest at most (the fit's
    penalty and the correction read the residuals' even part; reading all of them, 40 %)."""
    p = 10
    rng = np.random.default_rng(3)
    game = {members: rng.normal() * (0.3 if len(members) == 2 else 1.0) for size in range(3)
            for members in itertools.combinations(range(p), size)}
    game.update({members: 0.3 * rng.normal() for members in itertools.combinations(range(p), 4) if rng.random() < 0.05})
    triples = {members: 2.0 * rng.normal() for members in itertools.combinations(range(p), 3) if rng.random() < 0.2}
    plain, odd = walsh_values(p, game), walsh_values(p, {**game, **triples})
    for seed in range(3):
        masks = fourier_design(p, 300, np.random.default_rng(seed), 1.0, 0.3)
        keys = masks @ (1 << np.arange(p))
        before, after = (pair_matrix(p, fourier_result(masks, values[keys], 1e-9, index="k-SII").indices["k-SII"])
                         for values in (plain, odd))
        assert np.abs(after - before).max() < 0.1 * np.abs(before).max()


@pytest.mark.parametrize("size", [1, 2, 3, len(RIDGE_GRID), 11])
def test_the_penalty_search_finds_the_least_error_of_the_grid_from_any_start(size):
    """Error curves with one minimum (anywhere, flat stretches included): the walk from every start
    returns the first point of least error, as a scan of the whole grid does, trying each point
    at most once."""
    rng = np.random.default_rng(size)
    curves = [np.abs(np.arange(size) - rng.integers(size)) + 0.0 for _ in range(5)]
    curves += [np.maximum(np.abs(np.arange(size) - size // 2) - 1, 0.0) * 2.0 + 1.0, np.full(size, 3.0)]  # flat bottoms
    for curve in curves:
        for start in range(size):
            tried: list[int] = []

            def errors_of(points, curve=curve, tried=tried):
                tried.extend(points)
                return curve[points].tolist()

            assert search_grid(errors_of, size, start) == int(np.argmin(curve))
            assert len(tried) == len(set(tried)) <= size


def test_mask_keys_tell_rows_apart_as_numpy_unique_does():
    rng = np.random.default_rng(0)
    for p in (1, 3, 8, 9, 16, 17, 40):
        masks = rng.random((200, p)) < 0.5
        masks[100:] = masks[:100]  # repeats
        keys, inverse = distinct_masks(masks)
        rows, expected = np.unique(masks, axis=0, return_inverse=True)
        assert len(keys) == len(rows) and (inverse == expected.ravel()).all()
        assert (mask_keys(masks[:5]) == keys[inverse[:5]]).all()
    assert len(distinct_masks(np.zeros((4, 0), dtype=bool))[0]) == 1


def dense_model(p: int = 12):
    """Max-pooling over overlapping windows of a random projection: every feature interacts with
    every other at every order (a dense game), yet pairs differ clearly in their Banzhaf interaction."""
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(p, 24))

    def model(x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(x @ weights, 0.0)
        return np.log1p(np.exp(hidden.reshape(len(x), 4, 6).max(axis=2))).sum(axis=1)

    return model


def test_pair_mass_adds_each_terms_magnitude_to_every_pair_inside_it_in_the_terms_order():
    rng = np.random.default_rng(0)
    for p in (3, 10, 16):
        terms = [t for size in range(6) for t in itertools.combinations(range(p), size)][:700]
        terms += [(0, 2, 1), (1, 2)] if p > 2 else []  # unsorted and repeated sets count as they come
        rng.shuffle(terms)
        effects = rng.normal(size=len(terms)) * 10.0 ** rng.integers(-8, 8, len(terms))
        expected = np.zeros((p, p))
        for members, value in zip(terms, effects, strict=True):  # pairs first, then the larger sets
            if len(members) == 2:
                expected[members] += abs(value)
                expected[members[::-1]] += abs(value)
        for members, value in zip(terms, effects, strict=True):
            for a, b in itertools.combinations(members, 2) if len(members) > 2 else ():
                expected[a, b] += abs(value)
                expected[b, a] += abs(value)
        np.testing.assert_array_equal(pair_mass(p, terms, effects), expected)  # bit for bit: the same sums in the same order
    assert not pair_mass(4, [], np.zeros(0)).any()


def test_auto_reports_banzhaf_for_a_dense_game_and_pure_effects_for_a_sparse_one():
    dense = dense_model()
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(4, 12))
    ref = exact_interactions(dense, x, baselines=0.0)
    runs = [InteractionAttribution(dense).attribute_interactions(x, baselines=0.0, n_samples=1000, seed=s) for s in (0, 1)]
    assert {local.index for local in runs[0]} == {"BII"} and "not faithful" in runs[0][0].metadata["chosen_by"]
    scores = compare_with_reference(runs[0], ref, index="BII")
    assert scores.precision_at_k.mean() >= 0.8 and scores.captured_at_k.mean() >= 0.95
    assert compare_with_reference(runs[0], ref, index="k-SII").precision_at_k.mean() >= 0.7
    assert np.nanmean(top_overlap(runs[0], runs[1])) >= 0.8
    sparse = InteractionAttribution(planted_function).attribute_interactions(planted_instances(3, seed=1), baselines=0.0, seed=0)
    assert {local.index for local in sparse} == {"Moebius"} and sparse[0].top(1, order=3)
    assert "(faithful)" in sparse[0].metadata["chosen_by"]


def test_the_bound_that_skips_the_leave_one_out_pass_decides_as_the_pass_does():
    from glider_plugins.detectors.auto import is_faithful, judge_fit
    from glider_plugins.detectors.fourier import fourier_design
    from glider_plugins.detectors.pure_effects.instance import (
        faithfulness_of,
        fit_terms,
        plan_instance,
    )

    rows = [(dense_model(), x) for x in np.random.default_rng(0).uniform(0.5, 1.5, size=(3, 12))]
    rows += [(planted_function, x) for x in planted_instances(3, seed=1)]
    decisions, shortcuts = [], 0
    for k, (model, row) in enumerate(rows):
        for budget in (300, 1000):
            masks = fourier_design(12, budget, np.random.default_rng(k))
            plan = plan_instance(masks, model(np.where(masks, row, 0.0)), 1e-9)
            fit = fit_terms(masks, plan, 1e-9)
            full = faithfulness_of(fit, plan)
            faithful, trust = judge_fit(fit, plan)
            assert faithful == is_faithful(**full)
            if "heldout_r2_at_most" in trust:  # decided without the leverages
                shortcuts += 1
                assert trust["heldout_r2_at_most"] >= full["heldout_r2"]
            decisions.append(faithful)
    assert shortcuts >= 3 and any(decisions) and not all(decisions)


def test_each_instance_gets_the_same_answer_alone_or_in_a_batch():
    dense = dense_model()
    x = np.random.default_rng(1).uniform(0.5, 1.5, size=(3, 12))
    mixed = np.concatenate([x[:2], planted_instances(1, seed=2)[:, :12]])
    batch = InteractionAttribution(dense).attribute_interactions(mixed, baselines=0.0, seed=3)
    alone = InteractionAttribution(dense).attribute_interactions(mixed[1:2], baselines=0.0, seed=3)
    assert batch[1].index == alone[0].index
    np.testing.assert_array_equal(batch[1].pairwise("BII"), alone[0].pairwise("BII"))


def test_pairwise_and_to_shapiq_by_index_for_a_pure_effect_result():
    res = InteractionAttribution(planted_function, detector="moebius").attribute_interactions(
        planted_instances(2, seed=4), baselines=0.0, seed=0)
    ref = exact_interactions(planted_function, planted_instances(2, seed=4), baselines=0.0)
    np.testing.assert_allclose(res.pairwise("BII"), ref.pairwise("BII"), atol=1e-9)  # every m(S) is recovered
    np.testing.assert_allclose(res.pairwise("k-SII"), ref.pairwise("k-SII"), atol=1e-9)
    np.testing.assert_array_equal(res.pairwise("Moebius"), res.pairwise())
    converted = shapiq.game_theory.moebius_converter.MoebiusConverter(res[0].to_shapiq())("k-SII", order=2)
    ours = res.to_shapiq(0, index="k-SII")
    assert ours.index == "k-SII" and ours.max_order == 2 and ours.baseline_value == pytest.approx(res[0].baseline_value)
    for members in itertools.combinations(range(12), 2):
        assert ours[members] == pytest.approx(converted[members], abs=1e-9)
    exact = ref.to_shapiq(0, index="BII")
    assert not exact.estimated and exact[(0, 1)] == pytest.approx(ref.pairwise("BII")[0, 0, 1])


def test_indices_survive_json_and_bad_indices_are_named():
    res = InteractionAttribution(dense_model(), detector="fourier").attribute_interactions(
        np.ones((1, 12)), baselines=0.0, n_samples=500, seed=0)
    again = AttributionResult.from_json(res.to_json())
    np.testing.assert_array_equal(again.pairwise("k-SII"), res.pairwise("k-SII"))
    assert again[0].index == "BII" and again[0].indices == res[0].indices
    with pytest.raises(InputError, match="index: expected one of"):
        res.pairwise("SV")
    with pytest.raises(InputError, match="index: expected one of"):
        res.to_shapiq(0, index="Shapley")
    with pytest.raises(InputError, match="n_samples=100 is too small for detector 'fourier'"):
        InteractionAttribution(dense_model(), detector="fourier").attribute_interactions(np.ones((1, 12)), baselines=0.0, n_samples=100)


def test_a_mask_game_is_the_exact_references_set_function():
    x = planted_instances(2, seed=5)
    background = planted_instances(3, seed=6)
    ref = exact_interactions(planted_function, x[:1], baselines=Background(background))
    game = MaskGame(planted_function, x[:1], baselines=Background(background))
    masks = all_masks(12)[::97]
    np.testing.assert_allclose(game(masks), ref.values[0, ::97], atol=1e-12)
    assert game.n_queries == 3 * int((~masks.all(axis=1)).sum())  # each background row; an all-on row is the instance
    with pytest.raises(InputError, match="a game is one instance"):
        MaskGame(planted_function, x, baselines=0.0)
    with pytest.raises(InputError, match="coalitions: expected 12 players"):
        game(np.ones((1, 5), bool))


def test_archdetect_rows_are_queried_only_where_they_take_at_most_a_fifth_of_the_budget():
    """At 12 features and 1000 queries ArchDetect's 158 rows stay (the text models gain from them);
    at 16 its 274 rows give way to the 34 main-effect rows (the BII fit hardly weighs their sizes);
    the detector ``auto`` chooses is decided by room alone, as before."""
    from glider_plugins.detectors.archdetect import ArchDetectDetector
    from glider_plugins.detectors.auto import AutoDetector, MoebiusOrFourier
    from glider_plugins.detectors.fourier import FIXED_SHARE, fixed_rows
    from glider_plugins.detectors.pure_effects.differences import archdetect_design

    assert len(archdetect_design(12)) <= FIXED_SHARE * 1000 < len(archdetect_design(16))
    np.testing.assert_array_equal(fixed_rows(12, 1000), archdetect_design(12))
    assert len(fixed_rows(16, 1000)) == 2 * 16 + 2
    assert isinstance(AutoDetector().resolve(16, 1000), MoebiusOrFourier)
    assert isinstance(AutoDetector().resolve(20, 1000), ArchDetectDetector)


def test_autos_pure_effect_attempt_is_capped_in_terms_but_never_cuts_the_exact_transform():
    """At 3000 queries on 12 features the attempt fits sets of up to four (794 terms), not five
    (1,586); 1000 queries never reach the cap; where every combination of the active features was
    queried the exact transform stays; an explicit fit_order is the user's."""
    from glider_plugins.detectors.auto import MAX_ATTEMPT_TERMS, MoebiusOrFourier
    from glider_plugins.detectors.fourier import fourier_design
    from glider_plugins.detectors.pure_effects.instance import plan_instance

    dense, row = dense_model(), np.random.default_rng(0).uniform(0.5, 1.5, size=12)
    masks = fourier_design(12, 3000, np.random.default_rng(0))
    y = dense(np.where(masks, row, 0.0))
    uncapped = plan_instance(masks, y, 1e-9)
    capped = MoebiusOrFourier().plan_instance(masks, y, 1e-9)
    assert uncapped.order == 5 and capped.order == 4 and capped.room == uncapped.room
    assert sum(math.comb(12, k) for k in range(5)) <= MAX_ATTEMPT_TERMS < sum(math.comb(12, k) for k in range(6))
    assert MoebiusOrFourier(fit_order=5).plan_instance(masks, y, 1e-9).order == 5
    masks_1000 = fourier_design(12, 1000, np.random.default_rng(0))
    y_1000 = dense(np.where(masks_1000, row, 0.0))
    assert MoebiusOrFourier().plan_instance(masks_1000, y_1000, 1e-9).order == plan_instance(masks_1000, y_1000, 1e-9).order
    small = dense_model(10)  # 2**10 masks fit in 3000 queries: the exact transform, 1024 terms and more
    masks_10 = fourier_design(10, 3000, np.random.default_rng(0))
    y_10 = small(np.where(masks_10, np.random.default_rng(1).uniform(0.5, 1.5, size=10), 0.0))
    assert plan_instance(masks_10, y_10, 1e-9).saturated and MoebiusOrFourier().plan_instance(masks_10, y_10, 1e-9).saturated


def test_asked_for_shapley_interactions_the_masks_weigh_every_size_alike_and_the_pairs_rank_by_them():
    from glider_plugins.detectors.archdetect import archdetect_design
    from glider_plugins.detectors.fourier import (
        SHAPLEY_MIXTURE,
        SIZE_MIXTURE,
        FourierDetector,
        archdetect_rows,
        fixed_rows,
    )
    from glider_plugins.perturbations import BinaryPerturbation
    from glider_plugins.plugins import make_detector

    dense = dense_model()
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(4, 12))
    res = InteractionAttribution(dense, detector=make_detector("auto", index="k-SII")).attribute_interactions(
        x, baselines=0.0, n_samples=1000, seed=0)
    assert {local.index for local in res} == {"k-SII"} and res[0].metadata["detector"] == "fourier"
    for local in res:
        np.testing.assert_array_equal(local.pairwise(), np.abs(local.pairwise("k-SII")))
        strengths = [strength for _, strength in local.interactions]
        assert strengths == sorted(strengths, reverse=True)
        first, _ = local.interactions[0]
        assert local.signed_interactions()[0] == (first, pytest.approx(local.pairwise("k-SII")[first]))
    ref = exact_interactions(dense, x, baselines=0.0)
    assert compare_with_reference(res, ref, index="k-SII").precision_at_k.mean() >= 0.9
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glider_plugins.visualization import plot_interactions, plot_pairwise_heatmap

    fig, (bars, _) = plot_interactions(res[0], top_k=5)
    signed = [value for _, value in res[0].signed_interactions()[:5]]
    assert bars.get_xlabel() == "Shapley interaction (k-SII)" and any(value < 0 for value in signed)
    np.testing.assert_allclose([patch.get_width() for patch in bars.patches], signed)  # the sign is drawn
    plt.close(fig)
    fig, ax = plot_pairwise_heatmap(res[0])
    assert fig.axes[-1].get_ylabel() == "Shapley interaction (k-SII, signed)"
    np.testing.assert_array_equal(ax.images[0].get_array(), res[0].pairwise("k-SII"))
    plt.close(fig)
    assert faithfulness(res, ref).r2.mean() >= 0.9 * faithfulness(res, ref).ceiling.mean()  # both indices' surrogate

    def extreme_share(detector: FourierDetector) -> float:
        """The share of the random masks (after ArchDetect's rows: sizes 3 to 9 of 12) of size 3 or 9."""
        masks = detector.design(20, 12, 1000, BinaryPerturbation(), np.random.default_rng(0))[:, len(fixed_rows(12, 1000)):]
        sizes = masks.sum(axis=2)
        assert sizes.min() == 3 and sizes.max() == 9
        return float(((sizes == 3) | (sizes == 9)).mean())

    shapley, banzhaf = FourierDetector(index="k-SII"), FourierDetector()
    assert (shapley.mixture, banzhaf.mixture) == (SHAPLEY_MIXTURE, SIZE_MIXTURE)
    # ArchDetect's rows (the smallest and largest sizes, enumerated) up to 30 % of the budget, not 20 %
    sixteen = [detector.design(1, 16, 1000, BinaryPerturbation(), np.random.default_rng(0))[0] for detector in (shapley, banzhaf)]
    np.testing.assert_array_equal(sixteen[0][: archdetect_rows(16)], archdetect_design(16))
    assert len(fixed_rows(16, 1000)) == 34 and (sixteen[1][:34] == fixed_rows(16, 1000)).all()  # BII: the main-effect rows
    np.testing.assert_array_equal(FourierDetector(index="k-SII").design(1, 16, 300, BinaryPerturbation(), np.random.default_rng(0))[0][:34],
                                  fixed_rows(16, 300))
    # every size alike: 2/7 of the draws, less the repeats of the 220 sets of 3 (or their complements)
    # refused; binomial sizes mixed with 15 % uniform ones: 0.14
    assert extreme_share(shapley) > 0.22 and extreme_share(banzhaf) < 0.16
    for build in (FourierDetector, lambda index: make_detector("auto", index=index)):
        with pytest.raises(InputError, match=r"index: expected one of \['BII', 'k-SII'\]"):
            build(index="SII")
