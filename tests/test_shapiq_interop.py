"""to_shapiq(): results as shapiq InteractionValues (index "Moebius", signed, output units)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from glider_plugins import InteractionAttribution
from glider_plugins.errors import InputError
from glider_plugins.interop.shapiq import pair_strengths
from glider_plugins.reference import exact_interactions
from glider_plugins.results import AttributionResult, LocalInteractions

shapiq = pytest.importorskip("shapiq")

P = 5


def planted(x: np.ndarray) -> np.ndarray:
    """0.5 + 2 x0 x1 + x2 - 1.5 x1 x2 x3 (x4 does nothing): at baseline 0 and instance 1,
    m({}) = 0.5, m({2}) = 1, m({0, 1}) = 2, m({1, 2, 3}) = -1.5, every other m(S) = 0."""
    return 0.5 + 2 * x[:, 0] * x[:, 1] + x[:, 2] - 1.5 * x[:, 1] * x[:, 2] * x[:, 3]


X = np.array([[1.0] * P, [1.0, 1.0, 1.0, 0.0, 1.0]])  # the second: x3 at its baseline, no triple
BASE = np.zeros((2, P))


def explain(detector: str = "moebius", **options) -> AttributionResult:
    return InteractionAttribution(planted, detector=detector).attribute_interactions(X, baselines=BASE, n_samples=200, seed=0, **options)


@pytest.fixture(scope="module")
def moebius_result() -> AttributionResult:
    return explain("moebius")


@pytest.mark.parametrize("detector", ["moebius", "archdetect", "auto"])
def test_the_known_pair_and_triple_come_out_signed_in_output_units(detector):
    res = explain(detector)
    iv = res[0].to_shapiq()
    assert isinstance(iv, shapiq.InteractionValues)
    assert iv.index == "Moebius" and iv.min_order == 0 and iv.n_players == P and iv.estimated
    assert iv[(0, 1)] == pytest.approx(2.0, abs=1e-6)
    assert iv[(1, 2, 3)] == pytest.approx(-1.5, abs=1e-6)  # negative stays negative
    assert iv[(2,)] == pytest.approx(1.0, abs=1e-6) and iv[(0,)] == pytest.approx(0.0, abs=1e-6)
    assert iv[()] == pytest.approx(0.5) and iv.baseline_value == pytest.approx(0.5)
    assert iv.estimation_budget == res[0].metadata["n_queries"]
    # the pure effects add up to the instance's output: v(all on) = sum of every m(S)
    assert sum(iv.dict_values.values()) == pytest.approx(planted(X[:1])[0], abs=1e-6)
    second = res.to_shapiq(1)
    assert second[(1, 2, 3)] == pytest.approx(0.0, abs=1e-6) and second[(0, 1)] == pytest.approx(2.0, abs=1e-6)


def test_strengths_are_the_absolute_signed_values(moebius_result):
    local = moebius_result[0]
    assert [s for s, _ in local.interactions] == [(0, 1), (1, 2, 3)]
    for members, strength in local.interactions:
        assert strength == pytest.approx(abs(local.signed_values[members]))
    assert dict(local.signed_interactions())[(1, 2, 3)] == pytest.approx(-1.5)


@pytest.mark.parametrize("kernel_width", [None, 1.0])  # the complete refit; LIME weights: the pure-effect fit
def test_nid_with_refit_is_signed_too(kernel_width):
    res = InteractionAttribution(planted, detector="nid").attribute_interactions(
        X[:1], baselines=BASE[:1], n_samples=300, seed=0, kernel_width=kernel_width)
    assert res[0].metadata.get("refit") == ("complete" if kernel_width is None else None)
    iv = res.to_shapiq(0)
    assert iv[(0, 1)] == pytest.approx(2.0, abs=1e-3)
    assert iv[(1, 2, 3)] == pytest.approx(-1.5, abs=1e-3)
    assert iv[()] == pytest.approx(0.5, abs=1e-3)


def test_nid_weight_strengths_are_refused_naming_the_detector_to_use():
    res = InteractionAttribution(planted, detector="nid").attribute_interactions(X[:1], baselines=BASE[:1], n_samples=100, seed=0, refit=False)
    assert res[0].signed_values is None
    with pytest.raises(InputError, match=r"detector 'nid' are not signed pure effects.*detector='moebius'"):
        res.to_shapiq()


def test_the_exact_reference_matches_shapiqs_own_exact_moebius_and_shapley_values():
    from shapiq.game_theory.moebius_converter import MoebiusConverter

    ref = exact_interactions(planted, X[:1], baselines=BASE[:1])
    ours = ref.to_shapiq(0)
    assert not ours.estimated and ours.estimation_budget == 2**P

    def game(coalitions: np.ndarray) -> np.ndarray:
        return planted(np.where(coalitions, X[0], BASE[0]))

    exact = shapiq.ExactComputer(game, n_players=P)
    theirs = exact("Moebius")
    for members in set(theirs.dict_values) | set(ours.dict_values):
        assert ours[members] == pytest.approx(theirs[members], abs=1e-9), members
    shapley = MoebiusConverter(ours)("SV", order=1)
    np.testing.assert_allclose([shapley[(i,)] for i in range(P)], [exact("SV", order=1)[(i,)] for i in range(P)], atol=1e-9)
    estimate = explain("moebius")[0].to_shapiq()
    assert {s for s, v in estimate.dict_values.items() if abs(v) > 1e-9} == {s for s, v in ours.dict_values.items() if v}


def test_json_round_trip_keeps_the_signed_values_and_old_documents_still_load(moebius_result):
    loaded = AttributionResult.from_json(moebius_result.to_json())
    assert loaded[0].signed_values == moebius_result[0].signed_values
    assert loaded[0].to_shapiq()[(1, 2, 3)] == pytest.approx(-1.5)
    assert loaded[0].to_shapiq()[()] == pytest.approx(0.5)
    old = moebius_result[0].to_dict()
    del old["signed_values"], old["baseline_value"]
    legacy = LocalInteractions.from_dict(old)
    assert legacy.interactions == moebius_result[0].interactions and legacy.signed_values is None
    with pytest.raises(InputError, match="not signed pure effects"):
        legacy.to_shapiq()


def test_reported_only_follows_top_k_and_the_list_has_one_per_instance():
    res = explain("moebius", top_k=1)
    assert len(res.to_shapiq()) == len(X)
    reported = res.to_shapiq(0, reported_only=True)
    assert {s for s in reported.dict_values if len(s) >= 2} == {res[0].interactions[0][0]}
    assert res.to_shapiq(0)[(0, 1)] == pytest.approx(2.0)  # all estimated sets
    with pytest.raises(InputError, match=r"instance: expected an integer in 0\.\.1, got 2"):
        res.to_shapiq(2)


def test_pair_strengths_of_the_values_are_the_detectors_pair_masses(moebius_result):
    iv = moebius_result[0].to_shapiq()
    np.testing.assert_allclose(pair_strengths(iv), moebius_result[0].pairwise(), atol=1e-12)


def test_signed_values_must_cover_the_reported_sets():
    with pytest.raises(ValueError, match=r"missing \[\(0, 1\)\]"):
        LocalInteractions([((0, 1), 1.0)], np.zeros(2), np.zeros((2, 2)), signed_values={}, baseline_value=0.0)


def test_an_instance_must_be_an_integer_not_a_bool():
    res = InteractionAttribution(lambda x: x[:, 0] * x[:, 1] + x[:, 2]).attribute_interactions(np.ones((2, 3)), baselines=0.0, n_samples=100, seed=0)
    with pytest.raises(InputError, match="instance: expected an integer in 0..1, got True"):
        res.to_shapiq(True)
    assert res.to_shapiq(1)[(0, 1)] == pytest.approx(1.0)


def test_many_players_with_large_sets_convert_without_enumerating_every_set():
    """shapiq builds the lookup of every set of up to max_order players unless given one: at 300
    players with a fitted set of four (the many-features benchmark) that was 330 million sets and
    the process ran out of memory. The lookup now holds the sets the result has."""
    p = 60
    local = LocalInteractions([((1, 2, 3, 4), 0.5), ((5, 6), 0.25)], np.arange(p) / p, np.zeros((p, p)),
                              signed_values={(1, 2, 3, 4): -0.5, (5, 6): 0.25, (7, 8, 9): 0.1}, baseline_value=2.0)
    local.to_shapiq()  # shapiq imported and warmed
    tracemalloc.start()
    try:
        values = local.to_shapiq()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5e6  # 73 MB with the 523,686 sets of up to four of 60 enumerated
    assert len(values.interaction_lookup) == 1 + p + 3
    assert values[(1, 2, 3, 4)] == -0.5 and values[(5, 6)] == 0.25 and values[(7, 8, 9)] == 0.1
    assert values[(3,)] == pytest.approx(3 / p) and values[()] == 2.0 and values[(10, 11)] == 0.0
    assert values.max_order == 4 and values.n_players == p and values.index == "Moebius"
