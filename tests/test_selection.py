"""select_crosses: GLIDER's candidate crosses kept only when they lower a held-out log loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glider_plugins.encoders.selection import select_crosses
from glider_plugins.errors import InputError


def clicks(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Clicks that depend on whether C1 equals C2 (no main effect of either), not on C3 x C4."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.integers(0, 5, n) for name in ("C1", "C2", "C3", "C4")})
    frame["C5"] = rng.integers(0, 3, n)
    logit = 2.0 * (frame["C1"] == frame["C2"]) - 1.0 + 0.5 * (frame["C5"] == 1)
    return frame, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_a_useful_cross_is_kept_and_a_useless_one_dropped():
    (train, y_train), (valid, y_valid) = clicks(4000, 0), clicks(2000, 1)
    found = select_crosses([("C3", "C4"), ("C1", "C2"), ("C4", "C5")], train, y_train, valid, y_valid)
    assert found.kept == [("C1", "C2")]
    report = found.report.set_index("cross")
    assert report.loc["C1_x_C2", "gain"] > 0.01 and report.loc["C1_x_C2", "kept"]
    assert report.loc["C3_x_C4", "gain"] < 2e-4 and not report.loc["C3_x_C4", "kept"]
    assert found.final_logloss < found.base_logloss - 0.01
    assert report["support"].between(0, 1).all() and report.loc["C1_x_C2", "vocab_size"] == 25
    # the same data give the same selection
    again = select_crosses([("C3", "C4"), ("C1", "C2"), ("C4", "C5")], train, y_train, valid, y_valid)
    pd.testing.assert_frame_equal(again.report, found.report)


def test_nothing_kept_when_nothing_helps_and_it_says_so(capsys):
    (train, y_train), (valid, y_valid) = clicks(3000, 2), clicks(1500, 3)
    found = select_crosses([("C3", "C4"), ("C4", "C5")], train, y_train, valid, y_valid, show_progress=True)
    assert "cross selection" in capsys.readouterr().err  # the tqdm bar over the fits
    assert found.kept == [] and "none kept" in str(found)
    assert found.final_logloss == found.base_logloss


def test_max_crosses_and_bad_input_are_named():
    (train, y_train), (valid, y_valid) = clicks(3000, 4), clicks(1500, 5)
    assert len(select_crosses([("C1", "C2"), ("C1", "C5")], train, y_train, valid, y_valid, max_crosses=1).kept) <= 1
    with pytest.raises(InputError, match=r"candidates: columns \['C9'\] are not in train"):
        select_crosses([("C1", "C9")], train, y_train, valid, y_valid)
    with pytest.raises(InputError, match="y_valid: expected 1500 labels"):
        select_crosses([("C1", "C2")], train, y_train, valid, y_valid[:10])
    with pytest.raises(InputError, match="y_train: expected 0/1 labels"):
        select_crosses([("C1", "C2")], train, y_train * 2, valid, y_valid)
    with pytest.raises(InputError, match="each candidate must be a tuple of at least 2"):
        select_crosses(["C1"], train, y_train, valid, y_valid)
