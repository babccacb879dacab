"""Cross values: what a cross's ids explain of a model's non-additive output, on planted functions."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from glider_plugins.encoders.cross_value import additive_residual, cross_values
from glider_plugins.errors import InputError
from glider_plugins.pipeline.candidates import as_log_odds, candidate_count


def _table(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"f{j}": rng.integers(0, card, n) for j, card in enumerate((4, 5, 6, 3, 7, 2))})


def _additive(frame: pd.DataFrame, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return sum(rng.normal(size=frame[c].max() + 1)[frame[c].to_numpy()] for c in frame.columns)


def _values(frame: pd.DataFrame, scores: np.ndarray, **options) -> pd.Series:
    table = cross_values(list(itertools.combinations(frame.columns, 2)), frame, scores, **options)
    return table.set_index("cross")["value"]


def test_planted_pairs_rank_first_and_additive_pairs_are_worth_nothing():
    frame = _table()
    rng = np.random.default_rng(2)
    strong, weak = rng.normal(size=(4, 5)), rng.normal(size=(6, 3))
    scores = _additive(frame) + strong[frame["f0"], frame["f1"]] + 0.3 * weak[frame["f2"], frame["f3"]]
    values = _values(frame, scores).sort_values(ascending=False)
    assert list(values.index[:2]) == ["f0_x_f1", "f2_x_f3"], values.head()
    assert values.iloc[2:].abs().max() < 0.1 * values.iloc[1], values  # noise only: a cross that adds nothing is worth about 0
    table = cross_values([("f0", "f1")], frame, scores)
    assert 0.3 < table.loc[0, "share"] <= 1.0 and table.attrs["additive_r2"] < 1.0


def test_additive_scores_have_no_cross_value_and_the_fields_explain_them():
    frame = _table(5000)
    scores = _additive(frame)
    residual, r2 = additive_residual(frame, scores)
    assert r2 == pytest.approx(1.0, abs=1e-9) and np.abs(residual).max() < 1e-6
    assert _values(frame, scores).abs().max() < 1e-9


def test_backfitting_is_the_least_squares_additive_fit():
    frame = _table(3000, seed=3)
    scores = np.random.default_rng(4).normal(size=len(frame))
    residual, r2 = additive_residual(frame, scores)
    onehot = pd.get_dummies(frame.astype(str)).to_numpy(dtype=np.float64)
    design = np.hstack([np.ones((len(frame), 1)), onehot])
    expected = scores - design @ np.linalg.lstsq(design, scores, rcond=None)[0]
    np.testing.assert_allclose(residual, expected, atol=1e-7)
    assert r2 == pytest.approx(1 - np.mean(expected**2) / np.var(scores), abs=1e-9)


def test_a_cross_too_sparse_to_learn_is_worth_less_than_a_weaker_one_with_support():
    """An item id of 2,000 values crossed with a field: each combination seen ~5 times, below
    min_count, so the cross's ids cannot learn its (larger) interaction; a weaker interaction of
    two small fields can be learned and ranks first."""
    rng = np.random.default_rng(5)
    n = 20_000
    frame = pd.DataFrame({"item": rng.integers(0, 2000, n), "g": rng.integers(0, 2, n), "a": rng.integers(0, 4, n),
                          "b": rng.integers(0, 4, n)})
    per_item = rng.normal(size=(2000, 2))
    small = rng.normal(size=(4, 4))
    scores = per_item[frame["item"], frame["g"]] + 0.4 * small[frame["a"], frame["b"]]
    values = _values(frame, scores, min_count=10)
    assert values["a_x_b"] > 0 and values["a_x_b"] == values.max(), values
    assert values["item_x_g"] < 0.1 * values["a_x_b"]


def test_a_pure_three_way_interaction_is_valued_as_a_triple_not_as_its_pairs():
    frame = _table(20_000, seed=6)
    bits = [(frame[c] % 2).to_numpy() for c in ("f0", "f2", "f5")]
    scores = _additive(frame) + np.where(bits[0] ^ bits[1] ^ bits[2], 1.0, -1.0)
    table = cross_values([("f0", "f2", "f5"), ("f0", "f2"), ("f0", "f5"), ("f2", "f5")], frame, scores)
    values = table.set_index("cross")["value"]
    assert values["f0_x_f2_x_f5"] > 0.9 and values.drop("f0_x_f2_x_f5").abs().max() < 0.01, values


def test_the_same_seed_gives_the_same_values_in_any_order_and_dense_columns_are_binned():
    frame = _table(8000, seed=7)
    frame["x"] = np.random.default_rng(8).normal(size=len(frame))
    scores = _additive(frame.drop(columns="x")) + np.sin(3 * frame["x"]) * (frame["f4"] - 3)
    pairs = [("f4", "x"), ("f0", "f1"), ("f2", "x")]
    first = cross_values(pairs, frame, scores, dense_features=["x"], seed=3).set_index("cross")["value"]
    again = cross_values(pairs[::-1], frame, scores, dense_features=["x"], seed=3).set_index("cross")["value"]
    pd.testing.assert_series_equal(first, again.loc[first.index])
    assert first.idxmax() == "f4_x_x"
    other = cross_values(pairs, frame, scores, dense_features=["x"], seed=4).set_index("cross")["value"]
    assert not np.array_equal(first.to_numpy(), other.to_numpy())


@pytest.mark.parametrize("kwargs, match", [
    ({"scores": np.zeros(3)}, "scores: expected 100 numbers"),
    ({"scores": np.full(100, np.nan)}, "scores: expected finite"),
    ({"candidates": [("f0",)]}, "candidates: each candidate"),
    ({"candidates": [("f0", "nope")]}, r"candidates: columns \['nope'\]"),
    ({"candidates": "f0"}, "candidates: expected a non-empty list"),
    ({"train": np.zeros((100, 6))}, "train: expected a pandas DataFrame"),
    ({"shrinkage": -1.0}, "shrinkage"),
    ({"min_count": 0}, "min_count"),
])
def test_bad_arguments_are_named(kwargs, match):
    frame = _table(100)
    arguments = {"candidates": [("f0", "f1")], "train": frame, "scores": np.zeros(100), **kwargs}
    with pytest.raises(InputError, match=match):
        cross_values(arguments.pop("candidates"), arguments.pop("train"), arguments.pop("scores"), **arguments)


def test_candidate_count_is_at_most_a_third_of_the_pairs_and_probabilities_become_log_odds():
    assert candidate_count(11, 10) == 18  # MovieLens-100K: 55 pairs
    assert candidate_count(12, 10) == 22 and candidate_count(39, 10) == 30
    assert candidate_count(5, 10) == 10 and candidate_count(3, 10) == 3 and candidate_count(2, 1) == 1
    np.testing.assert_allclose(as_log_odds(np.array([0.5, 0.25, 1.0])), [0.0, np.log(1 / 3), np.log(1e7 - 1)], rtol=1e-6)
    np.testing.assert_array_equal(as_log_odds(np.array([-1.0, 2.0])), [-1.0, 2.0])


def test_cross_ids_split_the_rows_as_the_encoder_does():
    """The values are computed on the crosses a target model would get: the same partition of the
    rows as CrossFeatureEncoder's ids (missing parent, rare value or combination, own ids), the
    same vocabulary sizes and support, dense columns by the same bins."""
    from glider_plugins import CrossFeatureEncoder
    from glider_plugins.encoders.cross_value import _field_codes, cross_ids

    rng = np.random.default_rng(9)
    n = 6000
    frame = pd.DataFrame({"a": rng.integers(0, 40, n), "b": rng.choice([0, 1, 2, 3, 7, 99], n, p=[.1, .3, .3, .2, .099, .001]),
                          "x": np.where(rng.random(n) < 0.05, np.nan, rng.gamma(2.0, size=n)), "c": rng.integers(1, 4, n)})
    groups = [("a", "b"), ("b", "x"), ("a", "b", "c"), ("x", "c")]
    encoder = CrossFeatureEncoder(groups, min_count=10, dense_features=["x"], missing_value=0, min_support=0.0)
    expected = encoder.fit_transform(frame).to_numpy()
    for j, group in enumerate(groups):
        ids, vocab, support = cross_ids([_field_codes(frame, c, 10, ["x"], 0) for c in group], 10)
        pairs = set(zip(ids.tolist(), expected[:, j].tolist()))
        assert len(pairs) == len(set(ids.tolist())) == len(set(expected[:, j].tolist())), group  # a one-to-one relabelling
        assert vocab == encoder.vocab_sizes_[j] and support == pytest.approx(encoder.support_[j]), group
        assert set(ids[expected[:, j] == 0]) == {0}  # missing parents keep the missing id


def test_crosses_of_many_wide_fields_number_their_combinations_without_overflow():
    """Seven fields of 2,000 values: 2,000**7 combinations would overflow a 64-bit key."""
    from glider_plugins.encoders.cross_value import _field_codes, cross_ids

    rng = np.random.default_rng(10)
    base = rng.integers(0, 2000, size=(4000, 7))
    frame = pd.DataFrame(np.vstack([base, base[:50].repeat(20, axis=0)]), columns=[f"w{j}" for j in range(7)])
    ids, vocab, support = cross_ids([_field_codes(frame, c, 1, None, None) for c in frame.columns], 10)
    assert vocab == 50 and support == pytest.approx(50 * 21 / len(frame))  # only the repeated rows reach min_count
    assert len(np.unique(ids[4000:])) == 50 and set(ids[50:4000]) == {1}


def test_the_additive_fit_names_bad_scores():
    with pytest.raises(InputError, match="scores: expected 100 numbers"):
        additive_residual(_table(100), np.zeros(7))
