"""Acceptance on the ten NID functions, explained through the public API as black boxes.

Each function is handed to :class:`InteractionAttribution` as a plain callable (and two of them as
a torch module exported to ONNX), at random instances with independent random baselines, exactly
as a user would explain a model. Local ground truth and the reason the paper's sets in full cannot
all be seen locally are described in ``tests/test_detectors.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from glider_plugins import InteractionAttribution
from tests.groundtruth.nid_functions import FUNCTIONS, pairwise_auc, weak_true_pairs

N_INSTANCES = 4
N_SAMPLES = 1000


def instances(fn, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return fn.sample(N_INSTANCES, rng), fn.sample(N_INSTANCES, rng)


def aucs(fn, res, x, b) -> tuple[float, float]:
    """Mean (local, full) pairwise AUC over the instances of one function."""
    local = [pairwise_auc(res[i].pairwise(), fn.interactions, exclude=weak_true_pairs(fn, x[i], b[i])) for i in range(len(x))]
    full = [pairwise_auc(res[i].pairwise(), fn.interactions) for i in range(len(x))]
    return float(np.mean(local)), float(np.mean(full))


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, tuple[float, float]]]:
    table: dict[str, dict[str, tuple[float, float]]] = {"nid": {}, "archdetect": {}}
    for k, (name, fn) in enumerate(FUNCTIONS.items()):
        x, b = instances(fn, seed=100 + k)
        for detector in table:
            res = InteractionAttribution(fn, detector=detector).attribute_interactions(x, baselines=b, n_samples=N_SAMPLES, seed=k)
            table[detector][name] = aucs(fn, res, x, b)
    return table


def summary(table: dict[str, tuple[float, float]]) -> str:
    return "; ".join(f"{name} {loc:.3f}/{full:.3f}" for name, (loc, full) in table.items())


def test_nid_black_box_auc(scores):
    local, full = np.mean(list(scores["nid"].values()), axis=0)
    assert local >= 0.95, f"nid local AUC {local:.3f} (local/full: {summary(scores['nid'])})"
    assert full >= 0.96, f"nid full-set AUC {full:.3f} (local/full: {summary(scores['nid'])})"


def test_archdetect_black_box_auc(scores):
    local, full = np.mean(list(scores["archdetect"].values()), axis=0)
    assert local >= 0.98 and full >= 0.98, f"archdetect local/full: {summary(scores['archdetect'])}"


# -------------------------------------------------------------------- the same function as ONNX
class F4(nn.Module):
    """F4 in torch: exp|x1-x2| + |x2 x3| - (x3^2)^|x4| + (x1 x4)^2 + log(x4^2+x5^2+x7^2+x8^2) + x9 + 1/(1+x10^2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2, x3, x4, x5, _, x7, x8, x9, x10 = x.unbind(dim=1)
        return (
            torch.exp(torch.abs(x1 - x2)) + torch.abs(x2 * x3) - torch.pow(x3 * x3, torch.abs(x4)) + (x1 * x4) ** 2
            + torch.log(x4**2 + x5**2 + x7**2 + x8**2) + x9 + 1.0 / (1.0 + x10**2)
        )


class F6(nn.Module):
    """F6 in torch: exp(|x1 x2| + 1) - exp(|x3 + x4| + 1) + cos(x5 + x6 - x8) + sqrt(x8^2 + x9^2 + x10^2).

    (F10's acos has no float64 kernel in onnxruntime.)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2, x3, x4, x5, x6, _, x8, x9, x10 = x.unbind(dim=1)
        return (
            torch.exp(torch.abs(x1 * x2) + 1.0) - torch.exp(torch.abs(x3 + x4) + 1.0)
            + torch.cos(x5 + x6 - x8) + torch.sqrt(x8**2 + x9**2 + x10**2)
        )


def top_pairs(pairwise: np.ndarray, k: int) -> list[tuple[int, int]]:
    iu = np.triu_indices_from(pairwise, 1)
    order = np.argsort(-pairwise[iu], kind="stable")[:k]
    return [(int(iu[0][o]), int(iu[1][o])) for o in order]


@pytest.mark.parametrize(("name", "module"), [("F4", F4()), ("F6", F6())])
def test_onnx_export_gives_the_same_ranking_as_the_callable(tmp_path, name, module):
    fn = FUNCTIONS[name]
    x, b = instances(fn, seed=7)
    path = tmp_path / f"{name}.onnx"
    # exported in float64: the ONNX model answers what the callable answers, to rounding
    torch.onnx.export(module.double(), (torch.as_tensor(x),), str(path), input_names=["x"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    np.testing.assert_allclose(InteractionAttribution(path).adapter(x), fn(x), rtol=1e-10, atol=1e-10)
    for detector in ("archdetect", "nid"):
        via_onnx = InteractionAttribution(path, detector=detector).attribute_interactions(x, baselines=b, n_samples=N_SAMPLES, seed=0)
        via_callable = InteractionAttribution(fn, detector=detector).attribute_interactions(x, baselines=b, n_samples=N_SAMPLES, seed=0)
        for i in range(N_INSTANCES):
            got, want = via_onnx[i].pairwise(), via_callable[i].pairwise()
            overlap = len(set(top_pairs(got, 5)) & set(top_pairs(want, 5)))
            rho = rank_correlation(got, want)
            assert overlap == 5 and rho >= 0.99, (
                f"{detector}, instance {i}: top-5 overlap {overlap}, rank correlation {rho:.3f}"
            )


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of the pairwise strengths (upper triangles)."""
    iu = np.triu_indices_from(a, 1)
    ra, rb = (np.argsort(np.argsort(m[iu], kind="stable"), kind="stable") for m in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])
