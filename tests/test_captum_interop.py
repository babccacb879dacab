"""InteractionAttribution where Captum takes an attribution method: NoiseTunnel, sensitivity_max,
infidelity and the image visualisation, on a small real torch CNN (1x8x8 images, four 4x4
superpixels) and on a linear model whose main effects are known exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from captum.attr import NoiseTunnel
from captum.attr import visualization as viz
from captum.metrics import infidelity, sensitivity_max

from glider_plugins import AttributionResult, InteractionAttribution
from glider_plugins.errors import InputError

#: Four 4x4 superpixels of an 8x8 image, ids 0 1 / 2 3, shape (1, 1, 8, 8).
MASK = (torch.arange(8)[:, None] // 4 * 2 + torch.arange(8)[None, :] // 4).reshape(1, 1, 8, 8)
SETTINGS = {"target": 0, "baselines": 0.0, "feature_mask": MASK, "n_samples": 200, "seed": 0}


def cnn(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Tanh(),
        torch.nn.Flatten(), torch.nn.Linear(4 * 64, 3),
    )
    return net.to(dtype).eval()


def linear() -> torch.nn.Module:
    """f(x) = w . x + b in float64: with baseline 0, feature j's main effect is sum of w * x over its elements."""
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 1)).double().eval()


def images(n: int = 3, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(2)).to(dtype)


def exact_linear_attributions(model: torch.nn.Module, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per element, the main effect of its superpixel for the linear model at baseline 0."""
    contribution = (model[1].weight.reshape(1, 1, 8, 8) * x).reshape(x.shape[0], -1)
    ids = mask.expand_as(x).reshape(x.shape[0], -1)
    effects = torch.zeros(x.shape[0], 4, dtype=x.dtype).scatter_add_(1, ids, contribution)
    return torch.gather(effects, 1, ids).reshape(x.shape)


# ---------------------------------------------------------------------------- NoiseTunnel
def test_noise_tunnel_without_noise_is_attribute_itself():
    ia, x = InteractionAttribution(cnn()), images()
    plain = ia.attribute(x, **SETTINGS)
    smoothed = NoiseTunnel(ia).attribute(x, nt_type="smoothgrad", nt_samples=2, stdevs=0.0, **SETTINGS)
    assert smoothed.shape == x.shape and smoothed.dtype == torch.float32
    assert torch.equal(smoothed, plain)


def test_noise_tunnel_is_the_mean_over_noisy_copies_and_reproducible():
    ia, x = InteractionAttribution(cnn()), images()
    torch.manual_seed(5)
    smoothed = NoiseTunnel(ia).attribute(x, nt_samples=3, stdevs=0.2, **SETTINGS)
    torch.manual_seed(5)  # the same noise, drawn the way NoiseTunnel draws it
    noisy = x.repeat_interleave(3, dim=0) + torch.normal(0, torch.tensor(0.2).repeat((9, 1, 8, 8)))
    expected = ia.attribute(noisy, **SETTINGS).reshape(3, 3, 1, 8, 8).mean(dim=1)
    torch.testing.assert_close(smoothed, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(smoothed, ia.attribute(x, **SETTINGS))
    torch.manual_seed(5)
    assert torch.equal(NoiseTunnel(ia).attribute(x, nt_samples=3, stdevs=0.2, **SETTINGS), smoothed)
    runs = []
    for _ in range(2):  # in partitions of 2 + 1 copies: one attribute call each, still reproducible
        torch.manual_seed(6)
        runs.append(NoiseTunnel(ia).attribute(x, nt_samples=3, nt_samples_batch_size=2, stdevs=0.2, **SETTINGS))
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], smoothed)


class ImageAndDense(torch.nn.Module):
    """Two inputs: the CNN's scores scaled by one dense value and shifted by another."""

    def __init__(self) -> None:
        super().__init__()
        self.cnn = cnn()

    def forward(self, img: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        return self.cnn(img) * dense[:, :1] + dense[:, 1:]


class IdModel(torch.nn.Module):
    """Integer ids in, the squared sum of their embeddings out."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = torch.nn.Embedding(10, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids).sum(dim=(1, 2)) ** 2


def test_noise_tunnel_with_tuple_inputs_per_instance_targets_and_masks():
    ia, x = InteractionAttribution(ImageAndDense()), images()
    dense = torch.rand(3, 2, generator=torch.Generator().manual_seed(3)) + 0.5
    masks = (MASK.expand(3, 1, 8, 8), torch.tensor([[4, 5]]).expand(3, 2))
    smoothed = NoiseTunnel(ia).attribute(
        (x, dense), nt_samples=2, stdevs=(0.1, 0.1), target=[0, 1, 2], baselines=(0.0, 0.0), feature_mask=masks, n_samples=200, seed=0
    )
    assert isinstance(smoothed, tuple) and [a.shape for a in smoothed] == [x.shape, dense.shape]
    assert all(a.dtype == torch.float32 and torch.isfinite(a).all() for a in smoothed)
    assert ia.has_convergence_delta() is False and NoiseTunnel(ia).multiplies_by_inputs is True


# ---------------------------------------------------------------------------- sensitivity_max
def test_sensitivity_max_on_a_cnn_is_a_finite_score_per_image():
    ia, x = InteractionAttribution(cnn()), images()
    scores = sensitivity_max(ia.attribute, x, n_perturb_samples=4, **SETTINGS)
    assert scores.shape == (3,) and scores.dtype == torch.float32
    assert torch.isfinite(scores).all() and (scores > 0).all()


def test_sensitivity_max_equals_the_analytic_value_for_a_linear_model_with_per_image_masks():
    """sensitivity_max repeats each image 10 times in one batch; a (3, 1, 8, 8) mask with its own
    superpixels per image must follow its image."""
    model, x = linear(), images(dtype=torch.float64)
    stripes = (torch.arange(8) // 2).expand(8, 8).reshape(1, 1, 8, 8)
    masks = torch.cat([MASK, stripes, stripes.transpose(2, 3)])  # quadrants, columns, rows
    seen = []

    def perturb(inputs: torch.Tensor, radius: float) -> torch.Tensor:
        seen.append(inputs + torch.empty_like(inputs).uniform_(-radius, radius))
        return seen[-1]

    ia = InteractionAttribution(model)
    settings = {**SETTINGS, "feature_mask": masks}
    scores = sensitivity_max(ia.attribute, x, perturb_func=perturb, perturb_radius=0.1, **settings)
    exact = exact_linear_attributions(model, x, masks)
    change = exact_linear_attributions(model, seen[0], masks.repeat_interleave(10, dim=0)) - exact.repeat_interleave(10, dim=0)
    expected = (change.reshape(3, 10, -1).norm(dim=2) / exact.reshape(3, 1, -1).norm(dim=2)).max(dim=1).values
    assert scores.dtype == torch.float64
    torch.testing.assert_close(scores, expected, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------- infidelity
def superpixels_off(inputs: torch.Tensor, baselines: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Switch random superpixels to the baseline; the perturbation is 1/16 per element of an off
    superpixel, so ``sum(perturbation * attribution)`` adds the off superpixels' main effects."""
    off = torch.rand(inputs.shape[0], 4) < 0.5
    off_elements = off[:, MASK.flatten()].reshape(inputs.shape)
    return off_elements.to(inputs.dtype) / 16, torch.where(off_elements, torch.as_tensor(baselines, dtype=inputs.dtype), inputs)


def test_infidelity_of_exact_main_effects_is_zero_and_of_shuffled_ones_is_not():
    model, x = linear(), images(dtype=torch.float64)
    attributions = InteractionAttribution(model).attribute(x, **SETTINGS)
    torch.testing.assert_close(attributions, exact_linear_attributions(model, x, MASK))
    torch.manual_seed(0)
    ours = infidelity(model, superpixels_off, x, attributions, baselines=0.0, target=0, n_perturb_samples=20)
    torch.manual_seed(0)
    shuffled = infidelity(model, superpixels_off, x, attributions.flip(-1), baselines=0.0, target=0, n_perturb_samples=20)
    assert ours.shape == (3,) and (ours < 1e-20).all()
    assert (shuffled > 1e-4).all()


def test_infidelity_on_a_cnn_is_a_finite_score_per_image():
    model, x = cnn(), images()
    attributions = InteractionAttribution(model).attribute(x, **SETTINGS)
    scores = infidelity(model, superpixels_off, x, attributions, baselines=0.0, target=0, n_perturb_samples=8)
    assert scores.shape == (3,) and torch.isfinite(scores).all() and (scores >= 0).all()


# ---------------------------------------------------------------------------- types, shapes, the interactions
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_attributions_keep_the_inputs_dtype(dtype, tmp_path):
    ia, x = InteractionAttribution(cnn(dtype)), images(dtype=dtype)
    assert ia.attribute(x, **SETTINGS).dtype == dtype
    name = str(dtype).removeprefix("torch.")
    res = ia.attribute_interactions(x.numpy(), **{**SETTINGS, "feature_mask": MASK.numpy()})
    assert res.attributions().dtype == np.dtype(name)
    back = AttributionResult.from_json(res.to_json())
    assert back.attributions().dtype == np.dtype(name)
    np.testing.assert_array_equal(back.attributions(), res.attributions())


def test_integer_id_inputs_get_the_default_float_dtype_and_old_documents_still_load():
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    ia = InteractionAttribution(IdModel())
    assert ia.attribute(ids, n_samples=200, seed=0).dtype == torch.get_default_dtype()
    res = ia.attribute_interactions(ids.numpy(), n_samples=200, seed=0)
    assert res.attributions().dtype == np.float64
    document = res.to_dict()
    del document["input_dtypes"]  # as written before dtypes were kept
    assert AttributionResult.from_json(json.dumps(document)).attributions().dtype == np.float64


def test_attribute_interactions_still_gives_the_interactions():
    ia, x = InteractionAttribution(cnn()), images()
    res = ia.attribute_interactions(x, **SETTINGS)
    assert isinstance(res, AttributionResult) and len(res) == 3 and res.pairwise().shape == (3, 4, 4)
    assert any(r.interactions for r in res)
    assert torch.equal(res.attributions(), ia.attribute(x, **SETTINGS))


def test_visualize_image_attr_takes_the_attributions_of_an_image():
    x = images()
    attributions = InteractionAttribution(cnn()).attribute(x, **SETTINGS)
    figure, axis = viz.visualize_image_attr(
        attributions[0].permute(1, 2, 0).numpy(), x[0].permute(1, 2, 0).numpy(), method="blended_heat_map", sign="all", use_pyplot=False
    )
    assert figure is not None and axis is not None


# ---------------------------------------------------------------------------- what is refused, clearly
def test_unsupported_captum_arguments_are_input_errors():
    ia, x = InteractionAttribution(cnn()), images(1)
    with pytest.raises(InputError, match=r"return_input_shape=False: .*attribute_interactions\(\.\.\.\)\.main_effects\(\)"):
        ia.attribute(x, return_input_shape=False, **SETTINGS)
    with pytest.raises(InputError, match="return_convergence_delta=True: InteractionAttribution has no convergence delta"):
        NoiseTunnel(ia).attribute(x, nt_samples=2, stdevs=0.1, return_convergence_delta=True, **SETTINGS)
    with pytest.raises(InputError, match="internal_batch_size: a Captum argument .* perturbations_per_eval"):
        ia.attribute(x, internal_batch_size=4, **SETTINGS)


def test_only_the_captum_entry_point_repeats_a_per_instance_mask():
    """attribute (Captum's contract) repeats a mask of N rows for N * k repeated inputs; the
    interactions call, Glider and the exact reference share a formatting that refuses it."""
    from glider_plugins.errors import InputError

    def f(x):
        return x[:, 0] * x[:, 1] + x[:, 2]

    x = np.ones((4, 3))
    mask = np.array([[0, 1, 2], [0, 0, 1]])  # one row per original instance, 2 instances repeated twice
    ia = InteractionAttribution(f)
    with pytest.raises(InputError, match="feature_mask"):
        ia.attribute_interactions(x, baselines=0.0, feature_mask=mask, n_samples=50, seed=0)
    attr = ia.attribute(x, baselines=0.0, feature_mask=mask, n_samples=50, seed=0)
    assert attr.shape == (4, 3)
    np.testing.assert_allclose(attr[0], attr[1])  # instance 0 and its copy share its mask
    np.testing.assert_allclose(attr[2, :2], attr[2, 0])  # instance 1: features 0, 1 are one feature
