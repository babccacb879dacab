"""The built-in detectors on masks and outputs alone (no model adapters).

Ground truth comes from the ten NID test functions (``tests/groundtruth/nid_functions.py``) played
as mask games: for an instance ``x`` and a baseline ``x'``, both drawn independently from the
function's input range, ``g(mask) = f(where(mask, x, x'))``. Masks come from a uniform LIME
sampler (row 0 all on, then ``k ~ U{1..p}`` features off).

What "ground truth" means locally. A pair outside every set of the paper never interacts in any
mask game (its mixed differences are exactly zero). A pair inside a set does, but how much depends
on the instance: on random draws, the exact local strengths (RMS of the mixed difference over all
2**8 contexts, by enumeration) of the true pairs span three orders of magnitude, and about 40 % of
them are below 5 % of the instance's strongest pair (F7's ``(x4 x5 x6 x7 x8)^2`` term, for one,
is ~1e-3 of it). The pairwise tests score both the paper's sets in full and *local* ground truth:
true pairs whose exact local strength is at least ``TAU`` (5 %) of the instance's strongest pair
are positives, all pairs outside the sets are negatives, and the weak true pairs in between are
left out.

Measured with this file's seeds (n = 1000 samples, 4 instances per function; AUC local / full).
nid runs its defaults: up to 6 passes of up to 3 new pairs each on a 32-16 network (each pass
explains the pairs found so far, and the sets they close, away and detects again, see
``glider_plugins/detectors/nid/stages.py``); "one pass" is ``stages=1``, MADEX as published (on
the same network; MADEX's own 256-128-64 gives 0.97 / 0.80):

======  ============  ============  ============
        nid           nid, 1 pass   archdetect
======  ============  ============  ============
F1      0.99 / 0.99   0.92 / 0.81   1.00 / 1.00
F2      0.99 / 0.98   0.93 / 0.82   1.00 / 1.00
F3      1.00 / 1.00   0.95 / 0.89   1.00 / 1.00
F4      1.00 / 1.00   0.96 / 0.84   1.00 / 1.00
F5      1.00 / 0.97   0.97 / 0.72   1.00 / 0.98
F6      1.00 / 0.99   0.98 / 0.73   1.00 / 1.00
F7      1.00 / 1.00   0.99 / 0.66   1.00 / 0.99
F8      1.00 / 1.00   0.95 / 0.90   1.00 / 1.00
F9      1.00 / 1.00   0.92 / 0.64   1.00 / 1.00
F10     1.00 / 0.99   0.98 / 0.95   1.00 / 1.00
mean    1.00 / 0.99   0.96 / 0.80   1.00 / 1.00
======  ============  ============  ============

One pass falls short on the full sets because a dominant interaction spreads over many
first-layer units that also carry the weak ones, and NID's ``min`` then credits the mixed false
pairs. ArchDetect misses only pairs that are exactly zero in both of its contexts (F5's
``|x6 + x7|`` when the sign of ``x6 + x7`` is the same at all four corners).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from glider_plugins.detectors import ArchDetectDetector, Detector, NIDDetector
from glider_plugins.detectors.archdetect import (
    FLOAT32_RTOL,
    FLOAT64_RTOL,
    archdetect_design,
    noise_rtol,
)
from glider_plugins.detectors.nid.crosses import CrossFit, cliques
from glider_plugins.detectors.nid.stages import select_pairs
from glider_plugins.errors import InputError
from glider_plugins.results import LocalInteractions
from tests.groundtruth.nid_functions import (
    FUNCTIONS,
    cube_values,
    local_pair_strengths,
    mask_game,
    mixed_difference_rms,
    pairwise_auc,
    true_pair_matrix,
)

P = 10
N_PER_FUNCTION = 4
N_SAMPLES = 1000
#: A true pair counts as a local interaction when its exact strength is >= TAU x the strongest.
TAU = 0.05


def lime_masks(n_instances: int, n_samples: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform LIME masks, shape (N, n, p): row 0 all on, then k ~ U{1..p} features off."""
    n_off = rng.integers(1, p + 1, size=(n_instances, n_samples))
    ranks = rng.random((n_instances, n_samples, p)).argsort(axis=-1).argsort(axis=-1)
    masks = ranks >= n_off[..., None]
    masks[:, 0] = True
    return masks


@dataclass
class Panel:
    """Mask games of all ten functions, ``N_PER_FUNCTION`` instances each, in function order."""

    names: list[str]  # function name per instance
    x: np.ndarray  # (N, p)
    baseline: np.ndarray  # (N, p)
    masks: np.ndarray  # (N, n, p)
    outputs: np.ndarray  # (N, n)
    cubes: list[np.ndarray]  # exact game values on all 2**p masks, per instance
    exact: np.ndarray  # (N, p, p) exact local pair strengths

    def game(self, k: int):
        return mask_game(FUNCTIONS[self.names[k]], self.x[k], self.baseline[k])

    def local_exclude(self, k: int) -> np.ndarray:
        """True pairs too weak, locally, to count (see the module docstring)."""
        truth = true_pair_matrix(FUNCTIONS[self.names[k]].interactions, P)
        return truth & (self.exact[k] < TAU * self.exact[k].max())


@pytest.fixture(scope="module")
def panel() -> Panel:
    rng = np.random.default_rng(2)
    names, xs, bs, masks, outputs, cubes = [], [], [], [], [], []
    for name, fn in FUNCTIONS.items():
        x, b = fn.sample(N_PER_FUNCTION, rng), fn.sample(N_PER_FUNCTION, rng)
        m = lime_masks(N_PER_FUNCTION, N_SAMPLES, P, rng)
        names += [name] * N_PER_FUNCTION
        xs.append(x)
        bs.append(b)
        masks.append(m)
        outputs.append(mask_game(fn, x, b)(m))
        cubes += [cube_values(mask_game(fn, x[k], b[k]), P) for k in range(N_PER_FUNCTION)]
    return Panel(
        names=names,
        x=np.concatenate(xs),
        baseline=np.concatenate(bs),
        masks=np.concatenate(masks),
        outputs=np.concatenate(outputs),
        cubes=cubes,
        exact=np.stack([local_pair_strengths(c) for c in cubes]),
    )


@pytest.fixture(scope="module")
def nid_results(panel: Panel) -> list[LocalInteractions]:
    return NIDDetector().detect(panel.masks, panel.outputs, rng=np.random.default_rng(0))


@pytest.fixture(scope="module")
def arch_results(panel: Panel) -> list[LocalInteractions]:
    det = ArchDetectDetector()
    n_inst = len(panel.names)
    design = det.design(n_inst, P, 0, None, np.random.default_rng(0))
    outputs = np.stack([panel.game(k)(design[k]) for k in range(n_inst)])
    return det.detect(design, outputs, rng=np.random.default_rng(0))


def auc_table(panel: Panel, results: list[LocalInteractions]) -> dict[str, tuple[float, float]]:
    """Per function: mean (local AUC, full AUC) over its instances."""
    table: dict[str, list[tuple[float, float]]] = {}
    for k, res in enumerate(results):
        sets = FUNCTIONS[panel.names[k]].interactions
        local = pairwise_auc(res.pairwise_strengths, sets, exclude=panel.local_exclude(k))
        full = pairwise_auc(res.pairwise_strengths, sets)
        table.setdefault(panel.names[k], []).append((local, full))
    return {name: tuple(np.mean(v, axis=0)) for name, v in table.items()}


def describe(table: dict[str, tuple[float, float]]) -> str:
    return "; ".join(f"{name} {loc:.3f}/{full:.3f}" for name, (loc, full) in table.items())


# ----------------------------------------------------------------------------------------------
# accuracy on the NID functions


def test_panel_ground_truth_is_exact(panel: Panel) -> None:
    """Pairs outside the paper's sets have exactly zero local interaction (float64 rounding)."""
    for k, name in enumerate(panel.names):
        truth = true_pair_matrix(FUNCTIONS[name].interactions, P)
        outside = panel.exact[k][~truth & ~np.eye(P, dtype=bool)]
        assert outside.max() <= 1e-9 * np.abs(panel.cubes[k]).max(), name


def test_nid_pairwise_auc(panel: Panel, nid_results: list[LocalInteractions]) -> None:
    table = auc_table(panel, nid_results)
    local = np.mean([v[0] for v in table.values()])
    full = np.mean([v[1] for v in table.values()])
    assert local >= 0.98, f"nid local AUC {local:.3f} (local/full per function: {describe(table)})"
    # the paper's sets in full, weak pairs included (measured 0.987; see top)
    assert full >= 0.96, f"nid full AUC {full:.3f} (local/full per function: {describe(table)})"


def test_archdetect_pairwise_auc(panel: Panel, arch_results: list[LocalInteractions]) -> None:
    table = auc_table(panel, arch_results)
    local = np.mean([v[0] for v in table.values()])
    full = np.mean([v[1] for v in table.values()])
    assert local >= 0.98, f"archdetect local AUC {local:.3f} ({describe(table)})"
    assert full >= 0.98, f"archdetect full AUC {full:.3f} ({describe(table)})"


def test_nid_finds_planted_higher_order_sets(
    panel: Panel, nid_results: list[LocalInteractions]
) -> None:
    """Planted 3- and 4-way sets show up among the 5 strongest sets of order >= 3.

    Only sets that interact locally are scored: every pair inside and the set's own ``|S|``-th
    order mixed difference at least ``TAU`` times the strongest pair. Measured: 20 of 23 with the
    complete refit (every set up to order 4-7 by least squares, ranked by its pure effect at the
    baseline: F8's 4-way set ranks below three of its own triples on two instances, and F10's
    (2, 4, 6) has a pure effect under 5 % of the largest on one); 22 of 23 with the refit of
    NID's candidates alone (23 of 23 with MADEX's 256-128-64 network in 8 passes of one pair, 16
    of 23 in its one pass).
    """
    hits = []
    for k, res in enumerate(nid_results):
        values = panel.cubes[k]
        strongest = panel.exact[k].max()
        top = [s for s, _ in res.interactions if len(s) >= 3][:5]
        for planted in FUNCTIONS[panel.names[k]].interactions:
            if len(planted) not in (3, 4):
                continue
            pairs_strong = all(
                panel.exact[k][i, j] >= TAU * strongest
                for i, j in itertools.combinations(planted, 2)
            )
            if pairs_strong and mixed_difference_rms(values, planted) >= TAU * strongest:
                hits.append(planted in top)
    assert len(hits) >= 15, (
        f"only {len(hits)} locally active planted sets; the test lost its substance"
    )
    assert np.mean(hits) >= 0.85, f"planted sets found in {np.mean(hits):.2f} of {len(hits)} cases"


def test_results_are_well_formed(
    nid_results: list[LocalInteractions], arch_results: list[LocalInteractions]
) -> None:
    for res in [*nid_results, *arch_results]:
        assert res.main_effects.shape == (P,)
        pw = res.pairwise_strengths
        np.testing.assert_array_equal(pw, pw.T)
        assert np.all(np.diag(pw) == 0) and np.all(pw >= 0)
        strengths = [v for _, v in res.interactions]
        assert strengths == sorted(strengths, reverse=True)
        assert all(list(s) == sorted(s) and len(set(s)) == len(s) >= 2 for s, _ in res.interactions)
    meta = nid_results[0].metadata
    assert {"val_loss", "val_r2", "epochs", "best_epoch"} <= set(meta)
    assert meta["val_r2"] > 0.99 and 1 <= meta["best_epoch"] <= meta["epochs"]


# ----------------------------------------------------------------------------------------------
# a function with exactly known interactions


def planted_game(
    n_instances: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``2 m0 m1 + 3 m2 m3 m4 + sum_i c_i m_i`` on LIME masks; returns masks, outputs, c (N, p)."""
    masks = lime_masks(n_instances, N_SAMPLES, P, rng)
    c = rng.normal(size=(n_instances, P))
    m = masks.astype(float)
    outputs = (
        2 * m[..., 0] * m[..., 1]
        + 3 * m[..., 2] * m[..., 3] * m[..., 4]
        + np.einsum("nsp,np->ns", m, c)
    )
    return masks, outputs, c


def many_feature_game(
    n_instances: int, p: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, ...]]]]:
    """Per instance, 6 pairs and 3 triples on disjoint random features of ``p``, AND-crosses with
    strengths log-uniform in [0.1, 3] (random signs), plus main effects N(0, 2^2); LIME masks.

    Returns masks, outputs and each instance's planted groups.
    """
    masks = lime_masks(n_instances, N_SAMPLES, p, rng)
    m = masks.astype(float)
    outputs = np.einsum("nsp,np->ns", m, 2 * rng.normal(size=(n_instances, p)))
    planted = []
    for k in range(n_instances):
        order = rng.permutation(p)
        groups = [tuple(sorted(int(i) for i in order[2 * g : 2 * g + 2])) for g in range(6)]
        groups += [tuple(sorted(int(i) for i in order[12 + 3 * g : 15 + 3 * g])) for g in range(3)]
        strength = rng.choice([-1, 1], size=9) * np.exp(rng.uniform(np.log(0.1), np.log(3), size=9))
        for group, c in zip(groups, strength, strict=True):
            outputs[k] += c * m[k][:, list(group)].prod(axis=1)
        planted.append(groups)
    return masks, outputs, planted


@pytest.mark.parametrize(("p", "minimum"), [(39, 0.99), (100, 0.96)])
def test_nid_pairwise_auc_with_many_features(p: int, minimum: float) -> None:
    """15 true pairs among 741 (p = 39) or 4950 (p = 100), strengths spanning 30x, 1000 samples.

    Measured mean AUC here: 0.9996 at p = 39 (MADEX's one pass on its 256-128-64 network: 0.83)
    and 0.976 at p = 100 (with a 32-16 network there: 0.93, hence the wider default from 64
    features on). On other draws: 0.999 and 0.945-0.963.
    """
    masks, outputs, planted = many_feature_game(12, p, np.random.default_rng(p))
    results = NIDDetector().detect(masks, outputs, rng=np.random.default_rng(0))
    assert NIDDetector().network_for(p) == ((32, 16) if p < 64 else (64, 32))
    aucs = [pairwise_auc(r.pairwise_strengths, groups) for r, groups in zip(results, planted, strict=True)]
    assert np.mean(aucs) >= minimum, np.round(aucs, 3)


def top_pairs(pairwise: np.ndarray, k: int) -> set[tuple[int, int]]:
    iu, ju = np.triu_indices(pairwise.shape[0], 1)
    best = np.argsort(-pairwise[iu, ju], kind="stable")[:k]
    return {(int(iu[b]), int(ju[b])) for b in best}


def test_nid_cutoff_keeps_the_planted_interactions() -> None:
    masks, outputs, _ = planted_game(4, np.random.default_rng(3))
    # the refit alone reports exactly the planted pure effects here; cutoff then has nothing to cut
    refit = NIDDetector(cutoff=True).detect(masks, outputs, rng=np.random.default_rng(1))
    assert all({s for s, _ in r.interactions} == {(0, 1), (2, 3, 4)} for r in refit)
    # on NID's own ranking (no refit) it cuts the tail of weak mixed-in sets
    results = NIDDetector(cutoff=True, refit=False).detect(masks, outputs, rng=np.random.default_rng(1))
    for res in results:
        kept = res.metadata["cutoff"]
        assert 2 <= kept <= 3, res.metadata
        assert len(res.interactions) == kept
        assert {(0, 1), (2, 3, 4)} <= {s for s, _ in res.interactions}
        curve = res.metadata["cutoff_r2"]
        assert len(curve) == kept + 2 and curve[kept] > 0.99 > curve[0]


def test_nid_additive_game_has_no_interactions() -> None:
    masks, _, c = planted_game(3, np.random.default_rng(4))
    outputs = np.einsum("nsp,np->ns", masks.astype(float), c) + 5.0
    results = NIDDetector().detect(masks, outputs, rng=np.random.default_rng(0))
    for res, coef in zip(results, c, strict=True):
        np.testing.assert_allclose(res.main_effects, coef, atol=1e-4)
        assert res.pairwise_strengths.max() < 1e-3 * np.abs(coef).max()


def test_archdetect_exact_on_a_polynomial() -> None:
    """Main effects, pair and set effects are the exact pure effects (Moebius coefficients);
    pairwise strengths the pairs' interaction mass."""
    rng = np.random.default_rng(5)
    c = rng.normal(size=P)
    design = archdetect_design(P)
    m = design.astype(float)
    outputs = (2 * m[:, 0] * m[:, 1] + 3 * m[:, 2] * m[:, 3] * m[:, 4] - 1.5 * m[:, 5] * m[:, 6] * m[:, 7] * m[:, 8] + m @ c)[None]
    res = ArchDetectDetector().detect(design[None], outputs, rng=rng)[0]
    expected = np.zeros((P, P))
    expected[0, 1] = expected[1, 0] = 2.0
    for i, j in itertools.combinations((2, 3, 4), 2):  # no pure pair effect: the mass of the triple
        expected[i, j] = expected[j, i] = 3.0
    for i, j in itertools.combinations((5, 6, 7, 8), 2):
        expected[i, j] = expected[j, i] = 1.5
    np.testing.assert_allclose(res.pairwise_strengths, expected, atol=1e-12)
    np.testing.assert_allclose(res.main_effects, c, atol=1e-12)  # each feature alone: c_i exactly
    assert [s for s, _ in res.interactions] == [(2, 3, 4), (0, 1), (5, 6, 7, 8)]
    np.testing.assert_allclose([v for _, v in res.interactions], [3.0, 2.0, 1.5], atol=1e-12)
    assert res.metadata["set_effects"][1][1] == pytest.approx(-1.5)  # signed in the metadata
    # overlapping strong pairs with no higher-order term form no set
    chain = (2 * m[:, 0] * m[:, 1] + 2 * m[:, 1] * m[:, 2] + 2 * m[:, 0] * m[:, 2] + m @ c)[None]
    assert all(len(s) == 2 for s, _ in ArchDetectDetector().detect(design[None], chain, rng=rng)[0].interactions)


def test_archdetect_noise_floor_follows_the_output_precision() -> None:
    """A float64 model keeps an interaction of 1e-9 of its outputs; a float32 model's rounding
    noise (no interaction at all) is zeroed."""
    rng = np.random.default_rng(3)
    design = archdetect_design(P)
    m = design.astype(np.float64)
    c = 1000 * rng.normal(size=P)
    weak = (m @ c + 1e-6 * m[:, 0] * m[:, 1])[None]
    res = ArchDetectDetector().detect(design[None], weak, rng=rng)[0]
    assert res.metadata["rtol"] == FLOAT64_RTOL and res.interactions[0][0] == (0, 1)
    np.testing.assert_allclose(res.pairwise_strengths[0, 1], 1e-6, rtol=1e-3)
    additive32 = (design.astype(np.float32) @ c.astype(np.float32)).astype(np.float64)[None]
    assert ArchDetectDetector(rtol=0).detect(design[None], additive32, rng=rng)[0].pairwise_strengths.max() > 0  # noise
    res32 = ArchDetectDetector().detect(design[None], additive32, rng=rng)[0]
    assert res32.metadata["rtol"] == FLOAT32_RTOL and res32.pairwise_strengths.max() == 0 and res32.interactions == []
    np.testing.assert_array_equal(noise_rtol(np.concatenate([weak, additive32])), [FLOAT64_RTOL, FLOAT32_RTOL])


def test_max_order_two_reports_pairs_only(panel: Panel) -> None:
    sl = slice(0, 2)
    nid = NIDDetector(max_epochs=5).detect(
        panel.masks[sl], panel.outputs[sl], max_order=2, rng=np.random.default_rng(0)
    )
    assert all(len(s) == 2 for res in nid for s, _ in res.interactions)
    det = ArchDetectDetector(max_order=2)
    design = det.design(1, P, 0, None, np.random.default_rng(0))
    outputs = panel.game(0)(design[0])[None]
    arch = det.detect(design, outputs, rng=np.random.default_rng(0))
    assert all(len(s) == 2 for s, _ in arch[0].interactions)


# ----------------------------------------------------------------------------------------------
# randomness, batching, weights


def test_nid_is_deterministic_given_the_seed(panel: Panel) -> None:
    det = NIDDetector(max_epochs=8)
    sl = slice(0, 3)
    a = det.detect(panel.masks[sl], panel.outputs[sl], rng=np.random.default_rng(7))
    b = det.detect(panel.masks[sl], panel.outputs[sl], rng=np.random.default_rng(7))
    c = det.detect(panel.masks[sl], panel.outputs[sl], rng=np.random.default_rng(8))
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ra.pairwise_strengths, rb.pairwise_strengths)
        np.testing.assert_array_equal(ra.main_effects, rb.main_effects)
        assert ra.interactions == rb.interactions and ra.metadata == rb.metadata
    assert any(
        not np.array_equal(ra.pairwise_strengths, rc.pairwise_strengths)
        for ra, rc in zip(a, c, strict=True)
    )


def test_nid_batched_equals_one_at_a_time(
    panel: Panel, nid_results: list[LocalInteractions]
) -> None:
    """Nothing an instance's network draws or computes depends on the batch: alone, it gets the
    same result, number for number (its instance in a batch of 40, and in a batch of 3)."""
    masks, outputs, _ = planted_game(3, np.random.default_rng(6))
    det = NIDDetector()
    batched = det.detect(masks, outputs, rng=np.random.default_rng(0))
    for k in range(3):
        alone = det.detect(masks[k : k + 1], outputs[k : k + 1], rng=np.random.default_rng(0))[0]
        assert {s for s, _ in alone.interactions[:2]} == {(0, 1), (2, 3, 4)}
        assert_same_result(alone, batched[k])
    for k in range(0, len(panel.names), 3):
        alone = det.detect(
            panel.masks[k : k + 1], panel.outputs[k : k + 1], rng=np.random.default_rng(0)
        )[0]
        assert_same_result(alone, nid_results[k])


def assert_same_result(a: LocalInteractions, b: LocalInteractions) -> None:
    np.testing.assert_array_equal(a.pairwise_strengths, b.pairwise_strengths)
    np.testing.assert_array_equal(a.main_effects, b.main_effects)
    assert a.interactions == b.interactions and a.metadata == b.metadata


def dominated_game(n_instances: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``40 m0 m1 + m2 m3 + 0.5 m4 m5 + sum_i c_i m_i``: one pair 40-80 times the others."""
    masks = lime_masks(n_instances, N_SAMPLES, P, rng)
    m = masks.astype(float)
    c = rng.normal(size=(n_instances, P))
    outputs = 40 * m[..., 0] * m[..., 1] + m[..., 2] * m[..., 3] + 0.5 * m[..., 4] * m[..., 5]
    return masks, outputs + np.einsum("nsp,np->ns", m, c)


def test_nid_passes_find_weak_pairs_next_to_a_dominant_one() -> None:
    """Later passes see the weak pairs without the dominant one: they rank 2nd and 3rd."""
    masks, outputs = dominated_game(4, np.random.default_rng(8))
    one_each = NIDDetector(stages=4, pairs_per_stage=1).detect(masks, outputs, rng=np.random.default_rng(0))
    default = NIDDetector().detect(masks, outputs, rng=np.random.default_rng(0))
    for single, res in zip(one_each, default, strict=True):
        assert single.metadata["found_pairs"] == [(0, 1), (2, 3), (4, 5)]
        assert single.metadata["passes"] == 3  # nothing is left after the third: no fourth pass
        # two pairs a pass: (2, 3) is far below (0, 1), so it waits for the second pass, which
        # takes (4, 5) along (half as strong); then nothing is left
        assert res.metadata["found_pairs"] == [(0, 1), (2, 3), (4, 5)]
        assert res.metadata["passes"] == 2
        assert top_pairs(res.pairwise_strengths, 3) == {(0, 1), (2, 3), (4, 5)}
        pw = res.pairwise_strengths
        # strengths in output units, in the planted order, false pairs far below the weakest true one
        assert pw[0, 1] > pw[2, 3] > pw[4, 5] > 5 * max(pw[i, j] for i, j in itertools.combinations(range(6, P), 2))


def test_nid_one_pass_is_madex_as_published() -> None:
    masks, outputs = dominated_game(2, np.random.default_rng(8))
    one = NIDDetector(stages=1).detect(masks, outputs, rng=np.random.default_rng(0))
    staged = NIDDetector(stages=3).detect(masks, outputs, rng=np.random.default_rng(0))
    for a, b in zip(one, staged, strict=True):
        assert a.metadata["passes"] == 1 and a.metadata["found_pairs"] == []
        # the first pass is the same network: the dominant pair has the same strength
        assert a.pairwise_strengths[0, 1] == pytest.approx(b.pairwise_strengths[0, 1])
        assert a.main_effects == pytest.approx(b.main_effects)


@pytest.mark.parametrize("hidden", [(7,), (6, 5), (6, 5, 4)])
def test_nid_training_gradient_matches_autograd(hidden: tuple[int, ...]) -> None:
    """The written-out backpropagation equals autograd's gradient of the same loss (float64)."""
    import torch

    from glider_plugins.detectors.nid.network import StackLayout, forward, loss_gradient

    n_inst, rows, p, l1 = 3, 11, 5, 0.01
    layout = StackLayout([p, *hidden, 1])
    gen = torch.Generator().manual_seed(0)
    flat = torch.randn((n_inst, layout.size), generator=gen, dtype=torch.float64)
    x = torch.randn((n_inst, rows, p), generator=gen, dtype=torch.float64)
    y = torch.randn((n_inst, rows), generator=gen, dtype=torch.float64)
    w = torch.rand((n_inst, rows), generator=gen, dtype=torch.float64)
    grad = torch.full_like(flat, float("nan"))
    loss_gradient(x, y, w, flat, layout, l1, grad)

    leaf = flat.clone().requires_grad_(True)
    parts = layout.views(leaf)
    pred = forward(x, parts, layout)
    loss = ((w * (pred - y) ** 2).sum(dim=1) / w.sum(dim=1)).sum()
    loss = loss + l1 * sum(weights.abs().sum() for weights in layout.mlp_weights(parts))
    (expected,) = torch.autograd.grad(loss, leaf)
    torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-12)


def test_explain_away_removes_exactly_the_found_pairs() -> None:
    masks, outputs = dominated_game(2, np.random.default_rng(9))
    split = np.zeros(outputs.shape, dtype=bool)
    found = np.zeros((2, P, P), dtype=bool)
    found[:, 0, 1] = found[:, 1, 0] = found[:, 2, 3] = found[:, 3, 2] = True
    resid = CrossFit(masks, outputs, np.ones_like(outputs), split).fit(found)[0]
    m = masks.astype(float)
    left = 0.5 * m[..., 4] * m[..., 5]  # what no found pair explains, less its projection on the fit
    crosses = np.stack([m[..., 0] * m[..., 1], m[..., 2] * m[..., 3]], axis=2)
    design = np.concatenate([np.ones_like(m[..., :1]), m, crosses], axis=2)
    for k in range(2):
        coef = np.linalg.lstsq(design[k], left[k], rcond=None)[0]
        np.testing.assert_allclose(resid[k], left[k] - design[k] @ coef, atol=1e-6)


def test_explain_away_removes_a_set_whose_pairs_were_all_found() -> None:
    """Found pairs (0,1), (0,2), (1,2) close the set {0,1,2}: its 3-way AND goes too."""
    masks = lime_masks(1, N_SAMPLES, P, np.random.default_rng(10))
    m = masks.astype(float)
    outputs = 3 * m[..., 0] * m[..., 1] * m[..., 2] + m[..., 3] * m[..., 4]
    found = np.zeros((1, P, P), dtype=bool)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        found[0, i, j] = found[0, j, i] = True
    split = np.zeros(outputs.shape, dtype=bool)
    resid = CrossFit(masks, outputs, np.ones_like(outputs), split).fit(found)[0]
    left = m[0, :, 3] * m[0, :, 4]
    design = np.column_stack([np.ones(N_SAMPLES), m[0], m[0, :, [0, 0, 1]].T * m[0, :, [1, 2, 2]].T, m[0, :, :3].prod(axis=1)])
    np.testing.assert_allclose(resid[0], left - design @ np.linalg.lstsq(design, left, rcond=None)[0], atol=1e-6)
    # the triple alone: gone with its clique term, a good part of it stays with pairs only
    triple = outputs - m[..., 3] * m[..., 4]
    whole = CrossFit(masks, triple, np.ones_like(triple), split).fit(found)[0]
    pairs_only = CrossFit(masks, triple, np.ones_like(triple), split, max_clique=2).fit(found)[0]
    assert np.abs(whole).max() < 1e-6 < 0.1 < np.std(pairs_only)


def test_cross_mass_tells_found_interactions_from_mixed_ones() -> None:
    """In ``2 m0 m1 + 3 m2 m3 m4``, the crosses through (0, 1) explain 2, through each pair of the
    triple 3 (the triple's cross), through the wrongly found (1, 4) nothing; NID's passes drop
    such pairs again and keep exactly the planted ones."""
    masks, outputs, _ = planted_game(3, np.random.default_rng(6))
    found = np.zeros((3, P, P), dtype=bool)
    for i, j in [(0, 1), (2, 3), (2, 4), (3, 4), (1, 4)]:
        found[:, i, j] = found[:, j, i] = True
    fit = CrossFit(masks, outputs, np.ones(outputs.shape), np.zeros(outputs.shape, dtype=bool))
    resid, mass = fit.fit(found)
    # a fit of some instances equals theirs in a fit of all, also with fewer pairs found (other widths)
    fewer = found.copy()
    fewer[0, 1, 4] = fewer[0, 4, 1] = False
    some = fit.fit(fewer[[2, 0]], instances=np.array([2, 0]))
    np.testing.assert_array_equal(some[0][0], resid[2])
    np.testing.assert_array_equal(some[0][1], fit.fit(fewer)[0][0])
    np.testing.assert_allclose(mass[:, 0, 1], 2.0, rtol=1e-6)
    np.testing.assert_allclose(mass[:, [2, 2, 3], [3, 4, 4]], 3.0, rtol=1e-6)
    assert np.abs(mass[:, 1, 4]).max() < 1e-6 and not mass[~found].any()
    for res in NIDDetector(pairs_per_stage=4).detect(masks, outputs, rng=np.random.default_rng(0)):
        assert set(res.metadata["found_pairs"]) == {(0, 1), (2, 3), (2, 4), (3, 4)}


def test_cliques_lists_every_closed_set_once() -> None:
    graph = np.zeros((6, 6), dtype=bool)
    for i, j in [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (4, 5)]:
        graph[i, j] = graph[j, i] = True
    found = cliques(graph, 6)
    assert sorted(found) == sorted([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (4, 5), (0, 1, 2), (1, 2, 3)])
    assert cliques(graph, 2) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (4, 5)]


def test_select_pairs_takes_the_strongest_new_pairs_above_the_threshold() -> None:
    strengths = np.zeros((1, 4, 4))
    for (i, j), v in {(0, 1): 9.0, (0, 2): 5.0, (1, 3): 4.0, (2, 3): 1.0}.items():
        strengths[0, i, j] = strengths[0, j, i] = v
    found = np.zeros((1, 4, 4), dtype=bool)
    found[0, 0, 1] = found[0, 1, 0] = True
    new = select_pairs(strengths, found, per_stage=3, threshold=0.5)
    np.testing.assert_array_equal(new[0], new[0].T)
    assert {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(new[0])), strict=True)} == {(0, 2), (1, 3)}
    assert not select_pairs(np.zeros((1, 4, 4)), np.zeros((1, 4, 4), dtype=bool), 2, 0.5).any()


def test_nid_uses_sample_weights() -> None:
    rng = np.random.default_rng(9)
    masks, outputs, _ = planted_game(2, rng)
    det = NIDDetector()
    plain = det.detect(masks, outputs, rng=np.random.default_rng(0))
    ones = det.detect(masks, outputs, np.ones_like(outputs), rng=np.random.default_rng(0))
    for a, b in zip(plain, ones, strict=True):
        np.testing.assert_array_equal(a.pairwise_strengths, b.pairwise_strengths)
    # corrupt a quarter of the samples with a spurious (5, 6) interaction
    bad = rng.random(outputs.shape) < 0.25
    bad[:, 0] = False
    m = masks.astype(float)
    corrupted = outputs + np.where(bad, 6 * m[..., 5] * m[..., 6], 0.0)
    ignored = det.detect(masks, corrupted, np.where(bad, 0.0, 1.0), rng=np.random.default_rng(0))
    # the network's own reading (refit=False): with equal weights the complete refit would screen
    # x5 and x6 out (the corruption never shows in the one-off and one-on rows it screens with)
    unweighted = NIDDetector(refit=False).detect(masks, corrupted, rng=np.random.default_rng(0))
    for res_w, res_u in zip(ignored, unweighted, strict=True):
        pw_w, pw_u = res_w.pairwise_strengths, res_u.pairwise_strengths
        assert top_pairs(pw_w, 4) == {(0, 1), (2, 3), (2, 4), (3, 4)}
        assert pw_w[5, 6] < 0.1 * pw_w[0, 1]  # down-weighted samples are ignored ...
        assert pw_u[5, 6] > 0.3 * pw_u[0, 1]  # ... and matter when they are not


def test_archdetect_design_and_weights(panel: Panel) -> None:
    det = ArchDetectDetector()
    assert det.min_samples(P) == P * P + P + 2
    design = det.design(3, 6, 999, None, np.random.default_rng(0))
    assert design.shape == (3, 6 * 6 + 6 + 2, 6) and design.dtype == bool
    assert design[:, 0].all() and not design[:, 1 + 6 + 15].any()
    assert len({row.tobytes() for row in design[0]}) == design.shape[1]  # distinct for p >= 5
    full = det.design(2, P, 0, None, np.random.default_rng(0))
    outputs = np.stack([panel.game(k)(full[k]) for k in range(2)])
    plain = det.detect(full, outputs, rng=np.random.default_rng(0))
    weighted = det.detect(
        full, outputs, np.random.default_rng(1).random(outputs.shape), rng=np.random.default_rng(0)
    )
    for a, b in zip(plain, weighted, strict=True):
        np.testing.assert_array_equal(a.pairwise_strengths, b.pairwise_strengths)


# ----------------------------------------------------------------------------------------------
# validation


def _inputs(n_inst: int = 2, n: int = 40, p: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return lime_masks(n_inst, n, p, rng), rng.normal(size=(n_inst, n))


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        (lambda m, o, w: (m[0], o, w), "masks"),
        (lambda m, o, w: (m * 2, o, w), "masks"),
        (lambda m, o, w: (m, o[:, :-1], w), "outputs"),
        (lambda m, o, w: (m, np.where(m[..., 0], np.nan, o), w), "outputs"),
        (lambda m, o, w: (m, o, np.ones((2, 3))), "weights"),
        (lambda m, o, w: (m, o, -np.ones_like(o)), "weights"),
    ],
)
@pytest.mark.parametrize("detector", [NIDDetector, ArchDetectDetector])
def test_detect_rejects_bad_inputs(detector: type[Detector], change, argument: str) -> None:
    masks, outputs = _inputs()
    masks, outputs, weights = change(masks.astype(int), outputs, None)
    with pytest.raises(InputError, match=argument):
        detector().detect(masks, outputs, weights, rng=np.random.default_rng(0))


@pytest.mark.parametrize("detector", [NIDDetector, ArchDetectDetector])
def test_detect_rejects_bad_max_order_and_rng(detector: type[Detector]) -> None:
    masks, outputs = _inputs()
    with pytest.raises(ValueError, match="max_order"):
        detector().detect(masks, outputs, max_order=1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        detector().detect(masks, outputs, rng=np.random.RandomState(0))


def test_detectors_reject_wrong_designs() -> None:
    masks, outputs = _inputs(n=10)
    with pytest.raises(InputError, match="samples"):
        NIDDetector().detect(masks, outputs, rng=np.random.default_rng(0))
    masks, outputs = _inputs(n=40)
    with pytest.raises(InputError, match="masks"):  # 40 rows, but p=4 needs 22
        ArchDetectDetector().detect(masks, outputs, rng=np.random.default_rng(0))
    design = archdetect_design(4)[None]
    with pytest.raises(InputError, match="order"):
        ArchDetectDetector().detect(
            design[:, ::-1], np.zeros((1, 22)), rng=np.random.default_rng(0)
        )


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"hidden_units": ()}, "hidden_units"),
        ({"hidden_units": (8, 0)}, "hidden_units"),
        ({"l1": -1.0}, "l1"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"patience": -1}, "patience"),
        ({"input_init_scale": 0.0}, "input_init_scale"),
        ({"cutoff": "yes"}, "cutoff"),
        ({"stages": 0}, "stages"),
        ({"pairs_per_stage": 0}, "pairs_per_stage"),
        ({"stage_threshold": 1.5}, "stage_threshold"),
        ({"cutoff": True, "validation_fraction": 0.0}, "validation_fraction"),
        ({"max_order": 1}, "max_order"),
        ({"max_interactions": 0}, "max_interactions"),
        ({"device": "no-such-device"}, "device"),
    ],
)
def test_nid_options_are_validated(options: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        NIDDetector(**options)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"merge_threshold": 0.0}, "merge_threshold"),
        ({"max_order": 1}, "max_order"),
        ({"rtol": -1.0}, "rtol"),
        ({"rtol": True}, "rtol"),
    ],
)
def test_archdetect_options_are_validated(options: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        ArchDetectDetector(**options)


def test_small_stacks_train_on_one_thread_and_the_setting_is_restored() -> None:
    import torch

    from glider_plugins.detectors.nid.training import MIN_STACK_FOR_THREADS, _threads_for

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with _threads_for(MIN_STACK_FOR_THREADS - 1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with _threads_for(MIN_STACK_FOR_THREADS):
            assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), _threads_for(1):
            raise RuntimeError("training failed")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_archdetect_sets_stay_bounded_when_every_pair_carries_excess() -> None:
    """A saturating model of 39 features: every pair has higher-order mass. Candidates are cliques
    of the strongest excess pairs only (MAX_EXCESS_EDGES), so this returns (a clique enumeration
    over all pairs would not), and the sets found are real shares of the strongest effect."""
    from glider_plugins.detectors.archdetect import MAX_EXCESS_EDGES

    p = 39
    design = archdetect_design(p)
    w = np.random.default_rng(0).normal(size=p)
    outputs = 5 * np.tanh(design.astype(float) @ w / 3)[None]
    res = ArchDetectDetector().detect(design[None], outputs, rng=np.random.default_rng(0))[0]
    excess = res.metadata["omega_instance_context"] - res.metadata["omega_baseline_context"]
    assert (np.abs(excess[np.triu_indices(p, 1)]) > 0).sum() > MAX_EXCESS_EDGES
    scale = max(np.abs(res.metadata["omega_baseline_context"]).max(), np.abs(excess).max())
    assert res.metadata["set_effects"]
    for members, value in res.metadata["set_effects"]:
        assert 3 <= len(members) <= 6 and abs(value) >= 0.1 * scale
