"""Images: superpixel masks, the "segment_mean" scheme, and a CNN whose output multiplies two regions.

The CNN is trained here (about a second) on 32x32 images: a striped patch at the top left (A), one
at the bottom right (B) and a striped distractor blob elsewhere, on a gray background. Its target
is ``stripes(A) * stripes(B) + 0.3 * stripes(distractor)``: A and B interact, the distractor only
has a main effect. Stripes (not brightness) carry the signal so that both an "off" superpixel
painted gray ("binary", baseline 0.5) and one painted its own mean colour ("segment_mean") lose it.
"""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from torch import nn

from glider_plugins import InteractionAttribution
from glider_plugins.errors import InputError
from glider_plugins.explain.formatting import build_layout
from glider_plugins.features import merge_regions, superpixel_mask
from glider_plugins.perturbations import SegmentMeanPerturbation
from glider_plugins.perturbations.segment_mean import infer_channel_axes, segment_means
from glider_plugins.plugins import make_perturbation

SIZE = 32
REGION_A = (slice(3, 11), slice(3, 11))
REGION_B = (slice(21, 29), slice(21, 29))
STRIPES = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)  # vertical stripes of period 2


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def striped_images(n: int, rng: np.random.Generator, low: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 3, 32, 32) float32 and targets (n,); stripe strengths uniform in [low, 1]."""
    x = 0.5 + 0.02 * rng.standard_normal((n, 3, SIZE, SIZE))
    strength = rng.uniform(low, 1.0, size=(n, 3))
    if low == 0.0:
        strength[rng.random((n, 3)) < 0.25] = 0.0  # flat patches: what "off" looks like
    for i in range(n):
        top_right = rng.random() < 0.5
        r0, c0 = (rng.integers(2, 8), rng.integers(19, 24)) if top_right else (rng.integers(19, 24), rng.integers(2, 8))
        regions = [REGION_A, REGION_B, (slice(r0, r0 + 8), slice(c0, c0 + 8))]
        for k, (rows, cols) in enumerate(regions):
            colour = rng.uniform(0.2, 0.8, size=3)
            x[i, :, rows, cols] = colour[:, None, None] + 0.2 * strength[i, k] * STRIPES
    y = strength[:, 0] * strength[:, 1] + 0.3 * strength[:, 2]
    return x.astype(np.float32), y.astype(np.float32)


@pytest.fixture(scope="module")
def cnn() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 2, stride=2), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(),
        nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, 1),
    )
    x, y = (torch.as_tensor(a) for a in striped_images(2000, np.random.default_rng(1)))
    # lr 1e-2 for 10 epochs reached R^2 0.88 on an AMD EPYC (0.9+ on the machines before it):
    # a smaller step for longer learns the product on both (0.95 there)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(0)
    for _ in range(20):
        for batch in torch.randperm(len(x), generator=order).split(32):
            opt.zero_grad()
            loss = ((model(x[batch])[:, 0] - y[batch]) ** 2).mean()
            loss.backward()
            opt.step()
    model.eval()
    xt, yt = striped_images(400, np.random.default_rng(2))
    with torch.no_grad():
        pred = model(torch.as_tensor(xt))[:, 0].numpy()
    assert 1 - np.mean((pred - yt) ** 2) / np.var(yt) > 0.9, "the CNN did not learn the product"
    return model


def covering_superpixel(mask: np.ndarray, region: tuple[slice, slice]) -> int:
    """The superpixel holding most pixels of ``region`` in an (H, W) mask."""
    return int(np.bincount(mask[region].ravel()).argmax())


def top_pair(pairwise: np.ndarray) -> set[int]:
    upper = np.triu_indices_from(pairwise, 1)
    k = int(np.argmax(pairwise[upper]))
    return {int(upper[0][k]), int(upper[1][k])}


# -------------------------------------------------------------------------- the planted product
@pytest.mark.parametrize("perturbation, baselines", [("binary", 0.5), ("segment_mean", None)])
def test_the_two_multiplied_regions_are_the_top_interaction(cnn, perturbation, baselines):
    images, _ = striped_images(12, np.random.default_rng(5), low=0.4)
    mask = superpixel_mask(images, "slic", n_segments=16, sigma=1)
    assert mask.shape == (12, 1, SIZE, SIZE)
    truth = [{covering_superpixel(m[0], REGION_A), covering_superpixel(m[0], REGION_B)} for m in mask]
    assert all(len(t) == 2 for t in truth)  # the segmentation keeps A and B apart
    res = InteractionAttribution(cnn, perturbation=perturbation).attribute_interactions(
        images, baselines=baselines, feature_mask=mask, n_samples=500, seed=0)
    rate = np.mean([top_pair(res[i].pairwise()) == truth[i] for i in range(len(images))])
    assert rate >= 0.75, f"{perturbation}: the A x B pair is the top interaction for only {rate:.0%} of images"
    assert res.metadata["perturbation"] == perturbation


def test_batch_channels_last_torch_and_grayscale_inputs_work(cnn):
    images, _ = striped_images(3, np.random.default_rng(6), low=0.5)
    tensor = torch.as_tensor(images)
    mask = superpixel_mask(tensor, "slic", n_segments=16, sigma=1)
    assert isinstance(mask, torch.Tensor) and mask.dtype == torch.int64 and mask.shape == (3, 1, SIZE, SIZE)
    channels_last = superpixel_mask(images.transpose(0, 2, 3, 1), "slic", n_segments=16, sigma=1)
    np.testing.assert_array_equal(channels_last[..., 0], mask[:, 0].numpy())
    gray = images.mean(axis=1)
    assert superpixel_mask(gray[0], "slic", n_segments=16).shape == (SIZE, SIZE)
    assert superpixel_mask(gray[:, None], "slic", n_segments=16).shape == (3, 1, SIZE, SIZE)


# -------------------------------------------------------------------------- superpixel_mask
@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()  # (512, 512, 3) uint8


def assert_ids_complete(mask: np.ndarray) -> int:
    ids = np.unique(mask)
    np.testing.assert_array_equal(ids, np.arange(ids.size))
    return int(ids.size)


def test_slic_on_the_astronaut_channels_last(astronaut):
    mask = superpixel_mask(astronaut, "slic", n_segments=60)
    assert mask.shape == (512, 512, 1) and mask.dtype == np.int64
    p = assert_ids_complete(mask)
    assert 20 <= p <= 120
    layout, _ = build_layout(astronaut[None], feature_mask=mask)  # broadcasts against (1, H, W, C)
    assert layout.n_features == p and layout.feature_mask[0].shape == (1, 512, 512, 3)


def test_quickshift_on_the_astronaut_channels_first_with_a_cap(astronaut):
    small = torch.as_tensor(astronaut[::2, ::2].copy()).permute(2, 0, 1).float() / 255  # (3, 256, 256)
    free = superpixel_mask(small, "quickshift")
    capped = superpixel_mask(small, "quickshift", n_segments=30)
    assert free.shape == capped.shape == (1, 256, 256)
    assert assert_ids_complete(free.numpy()) > 30
    assert assert_ids_complete(capped.numpy()) == 30
    # merging only joins quickshift regions: every capped superpixel is a union of free ones
    pairs = np.unique(np.stack([free.numpy().ravel(), capped.numpy().ravel()]), axis=1)
    assert np.unique(pairs[0]).size == pairs.shape[1]
    layout, _ = build_layout(small[None], feature_mask=capped)
    assert layout.n_features == 30


def test_batched_masks_are_numbered_per_image(astronaut):
    batch = np.stack([astronaut[:128, :128], astronaut[200:328, 200:328]])  # (2, 128, 128, 3)
    mask = superpixel_mask(batch, "slic", n_segments=20)
    assert mask.shape == (2, 128, 128, 1)
    for m in mask:
        assert_ids_complete(m)
    layout, _ = build_layout(batch, feature_mask=mask)
    assert layout.n_features == int(mask.max()) + 1


def test_superpixel_mask_errors_name_the_argument(astronaut):
    with pytest.raises(InputError, match="method"):
        superpixel_mask(astronaut, "watershed")
    with pytest.raises(InputError, match="n_segments"):
        superpixel_mask(astronaut, "slic", n_segments=1)
    with pytest.raises(InputError, match="channels_last"):
        superpixel_mask(np.zeros((3, 8, 3)))
    with pytest.raises(InputError, match="image"):
        superpixel_mask(np.zeros((2, 2, 8, 8, 3)))
    with pytest.raises(InputError, match="channel_axis"):
        superpixel_mask(astronaut, "slic", channel_axis=None)


def test_merge_regions_keeps_merging_until_the_cap():
    labels = np.arange(16).reshape(4, 4).repeat(2, axis=0).repeat(2, axis=1)  # 16 blocks
    image = np.zeros((8, 8, 1))
    image[:, 4:] = 1.0
    merged = merge_regions(labels, image, 2)
    np.testing.assert_array_equal(np.unique(merged), [0, 1])
    assert np.all(merged[:, :4] == merged[0, 0]) and np.all(merged[:, 4:] == merged[0, 7])


# -------------------------------------------------------------------------- segment_mean
@pytest.mark.parametrize("channels_last", [False, True])
def test_segment_mean_paints_exactly_the_off_superpixels_their_mean_colour(astronaut, channels_last):
    crop = astronaut[:96, 160:256]  # (96, 96, 3) uint8
    images = np.stack([crop, crop[::-1]])
    mask = superpixel_mask(images, "slic", n_segments=25)  # (2, 96, 96, 1)
    if not channels_last:
        images, mask = images.transpose(0, 3, 1, 2), mask.transpose(0, 3, 1, 2)
    layout, _ = build_layout(images, feature_mask=mask)
    scheme = make_perturbation("segment_mean")
    rng = np.random.default_rng(0)
    masks = scheme.sample_masks(2, layout.n_features, 4, rng).reshape(8, -1)
    ids = np.repeat([0, 1], 4)
    out = scheme.perturb(layout, masks, ids, rng)[0]
    assert out.shape == (8, *images.shape[1:]) and out.dtype == np.uint8
    pixels = (lambda a: a.reshape(-1, a.shape[-1])) if channels_last else (lambda a: a.reshape(a.shape[0], -1).T)
    for row, i in enumerate(ids):
        segments = mask[i].ravel()
        before, after = pixels(images[i]), pixels(out[row])
        for f in np.unique(segments):
            inside = segments == f
            if masks[row, f]:
                np.testing.assert_array_equal(after[inside], before[inside])
            else:
                expected = np.rint(before[inside].mean(axis=0))
                np.testing.assert_array_equal(after[inside], np.broadcast_to(expected, after[inside].shape))


def test_segment_means_and_channel_axes():
    x = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    fm = np.array([[0, 0], [1, 1]])[None, None].repeat(2, 0).repeat(3, 1)  # rows are features
    assert infer_channel_axes(fm) == (1,)
    means = segment_means(x, fm, 2, (1,))
    np.testing.assert_allclose(means[..., 0, :], x[..., 0, :].mean(axis=-1, keepdims=True).repeat(2, -1))
    # without a channel axis a feature averages over every channel
    np.testing.assert_allclose(segment_means(x, fm, 2, ())[0, :, 0], x[0, :, 0].mean())
    assert SegmentMeanPerturbation(channel_axis=1)._channel_axes(x, fm) == (1,)
    with pytest.raises(InputError, match="channel_axis"):
        SegmentMeanPerturbation(channel_axis=0)._channel_axes(x, fm)


def test_an_image_with_fewer_superpixels_shows_and_exports_only_its_own(cnn, tmp_path):
    """Issue 27, defect 6: a batch is explained at the largest superpixel count; an image with
    fewer superpixels had empty features in its heat map and its shapiq values (13 players for 9
    superpixels). They are now marked absent and left out; a one-segment mask warns."""
    import matplotlib

    matplotlib.use("Agg")
    from glider_plugins.visualization import plot_pairwise_heatmap

    images, _ = striped_images(2, np.random.default_rng(4))
    def grid(cells: int) -> np.ndarray:  # (1, 32, 32): cells x cells blocks
        side = np.arange(SIZE) * cells // SIZE
        return (side[:, None] * cells + side[None, :])[None]

    mask, counts = np.stack([grid(4), grid(3)]), [16, 9]
    res = InteractionAttribution(cnn, detector="fourier").attribute_interactions(
        torch.as_tensor(images), baselines=0.5, feature_mask=torch.as_tensor(mask), n_samples=600, seed=0)
    assert res.n_features == counts[0] and "absent_features" not in res[0].metadata
    assert res[1].metadata["absent_features"] == list(range(counts[1], counts[0]))
    assert res[1].present_features == list(range(counts[1]))
    for index in ("Moebius", "BII", "k-SII"):
        assert res[1].to_shapiq(index=index).n_players == counts[1] and res[0].to_shapiq(index=index).n_players == counts[0]
    fig, ax = plot_pairwise_heatmap(res[1])
    assert len(ax.get_xticklabels()) == counts[1]
    again = type(res).from_json(res.to_json())  # the mark survives the JSON round trip
    assert again[1].present_features == res[1].present_features
    digit = skimage.data.astronaut()[::64, ::64]  # 8 x 8: quickshift's LIME settings find one segment
    with pytest.warns(UserWarning, match="quickshift found one segment only in image"):
        superpixel_mask(digit, "quickshift")


def test_an_image_with_fewer_superpixels_is_explained_on_its_own_as_alone(cnn):
    """An image whose mask leaves some of the batch's features empty is explained on its own
    features: in a batch it gets the result it gets alone (its masks, its budget), and with 9
    superpixels 600 queries hold all 512 masks, so its indices are the exact ones. Explained at the
    batch's 16 features (before), half its queries went to features that do nothing."""
    from glider_plugins.reference import exact_interactions

    def grid(rows: int, cols: int) -> np.ndarray:  # (32, 32): rows x cols blocks
        side = np.arange(SIZE)
        return (side[:, None] * rows // SIZE) * cols + side[None, :] * cols // SIZE

    images, _ = striped_images(4, np.random.default_rng(6))
    mask = np.stack([grid(4, 4), grid(4, 3), grid(3, 4), grid(3, 3)])[:, None]
    explain = InteractionAttribution(cnn, detector="fourier").attribute_interactions
    batch = explain(torch.as_tensor(images), baselines=0.5, feature_mask=torch.as_tensor(mask), n_samples=600, seed=3)
    queries = 0
    for i, p in enumerate((16, 12, 12, 9)):
        alone = explain(torch.as_tensor(images[i : i + 1]), baselines=0.5, feature_mask=torch.as_tensor(mask[i : i + 1]), n_samples=600, seed=3)
        assert alone.n_features == p
        queries += alone.metadata["n_queries"]
        assert batch[i].interactions == alone[0].interactions and batch[i].metadata.get("absent_features", []) == list(range(p, 16))
        for index in ("BII", "k-SII"):
            np.testing.assert_array_equal(batch[i].pairwise(index)[:p, :p], alone[0].pairwise(index))
            assert not batch[i].pairwise(index)[p:].any() and not batch[i].main_effects[p:].any()
    assert batch.metadata["n_queries"] == queries and batch.metadata["detector"] == "fourier"
    exact = exact_interactions(cnn, torch.as_tensor(images[3:]), baselines=0.5, feature_mask=torch.as_tensor(mask[3:]))
    for index in ("BII", "k-SII"):
        np.testing.assert_allclose(batch[3].pairwise(index)[:9, :9], exact.pairwise(index)[0], atol=1e-6)


def test_an_image_with_one_superpixel_in_a_batch_gets_an_empty_result_and_a_warning(cnn):
    """No pair can interact in an image of one superpixel: it is not queried, it gets an empty
    result and a warning naming it; a batch where no image has two superpixels is refused."""
    images, _ = striped_images(2, np.random.default_rng(7))
    side = np.arange(SIZE) * 4 // SIZE
    mask = np.stack([side[:, None] * 4 + side[None, :], np.zeros((SIZE, SIZE), np.int64)])[:, None]
    explain = InteractionAttribution(cnn, detector="fourier").attribute_interactions
    with pytest.warns(UserWarning, match=r"instance\(s\) \[1\] have 1 feature\(s\) of their own"):
        res = explain(torch.as_tensor(images), baselines=0.5, feature_mask=torch.as_tensor(mask), n_samples=300, seed=0)
    alone = explain(torch.as_tensor(images[:1]), baselines=0.5, feature_mask=torch.as_tensor(mask[:1]), n_samples=300, seed=0)
    assert res[1].interactions == [] and not res[1].main_effects.any() and res[1].metadata["absent_features"] == list(range(1, 16))
    assert res[0].interactions == alone[0].interactions and res.metadata["n_queries"] == alone.metadata["n_queries"]
    ones = np.stack([np.zeros((SIZE, SIZE), np.int64), np.ones((SIZE, SIZE), np.int64)])[:, None]  # ids 0 and 1, one each
    with pytest.raises(InputError, match="feature_mask: no instance has 2 or more features of its own"):
        explain(torch.as_tensor(images), baselines=0.5, feature_mask=torch.as_tensor(ones), n_samples=300, seed=0)
