"""Image overlay: the top interacting superpixel sets outlined (and lightly tinted) on the image."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.ndimage import binary_dilation
from skimage.segmentation import find_boundaries

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import (
    as_local,
    check_top_k,
    checks_show,
    feature_names_for,
    figure_and_axes,
    finish,
    group_color,
    interaction_label,
    signed_top,
    value_label,
)

__all__ = ["plot_image_interactions", "image_to_rgb", "overlay_interactions"]


@checks_show
def plot_image_interactions(
    image: Any,
    feature_mask: Any,
    local: LocalInteractions | AttributionResult,
    top_k: int = 3,
    *,
    order: int | None = None,
    ax: Axes | None = None,
    fill_alpha: float = 0.25,
    thickness: int | None = None,
    title: str | None = "Top interacting superpixels",
    save: str | os.PathLike | None = None,
    show: bool = False,
) -> tuple[Figure, Axes]:
    """Outline each of the ``top_k`` interacting superpixel sets on the image, one colour each.

    Parameters
    ----------
    image : array or tensor
        One image: (C, H, W), (H, W, C) or (H, W) grayscale, optionally with leading batch axes
        of size 1; C is 1, 3 or 4. uint8 (0..255) or float; floats outside [0, 1] (normalised
        inputs) are rescaled to [0, 1] for display.
    feature_mask : integer array or tensor
        The superpixel id of every pixel: (H, W), or Captum-style broadcastable, e.g.
        (1, 1, H, W) or (1, C, H, W) with the same ids in every channel.
    local : LocalInteractions or AttributionResult of one instance
        ``res[i]``; its feature ids are the mask's ids.
    top_k : int, default 3
        Number of interacting sets to draw (>= 1), strongest first.
    order : int, optional
        Only sets of this size (2: pairs).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default: a new figure.
    fill_alpha : float, default 0.25
        Opacity of the tint inside each set (0: outlines only).
    thickness : int, optional
        Outline width in pixels; default: about 1% of the image size.
    title : str or None
        Axes title.
    save : path, optional
        Also write the figure there (see :func:`save_figure`).
    show : bool, default False
        Call :func:`matplotlib.pyplot.show` once drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``ax``'s figure, or a new pyplot figure (the caller closes it when making many).
    ax : matplotlib.axes.Axes
        ``ax.images[0]`` holds the overlaid RGB image (see :func:`overlay_interactions`); the
        legend names each set with its strength, and each set's number is written on it.
    """
    local = as_local(local)
    top_k = check_top_k(top_k)
    mask = _mask_2d(feature_mask)
    rgb = image_to_rgb(image, mask.shape)
    _check_ids(mask, local)
    top = signed_top(local, top_k, order=order)
    colors = [group_color(rank) for rank in range(len(top))]
    overlaid = overlay_interactions(rgb, mask, [f for f, _ in top], colors, fill_alpha, thickness)
    fig, ax = figure_and_axes(ax, figsize=(6.0, 6.0 * mask.shape[0] / mask.shape[1] + 1.0))
    ax.imshow(overlaid, interpolation="nearest")
    ax.set_axis_off()
    _number_regions(ax, mask, top, colors)
    handles = [Patch(facecolor=c, edgecolor=c, label=f"#{r + 1}  {_set_label(f, local)}  ({s:+.3g})")
               for r, ((f, s), c) in enumerate(zip(top, colors))]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), fontsize="small",
                  ncol=1, frameon=False, title=value_label(local), title_fontsize="small")
    if title:
        ax.set_title(title)
    return finish(fig, ax, save, show)


def overlay_interactions(
    rgb: np.ndarray,
    mask: np.ndarray,
    groups: Sequence[Sequence[int]],
    colors: Sequence[str],
    fill_alpha: float = 0.25,
    thickness: int | None = None,
) -> np.ndarray:
    """``rgb`` (H, W, 3) with each group of mask ids tinted and outlined in its colour.

    Only pixels inside a group change; with ``fill_alpha=0`` and ``thickness=1`` exactly the
    pixels of ``find_boundaries(region, mode="inner")`` change. The strongest group (first) is
    drawn last, on top.
    """
    if not 0.0 <= fill_alpha <= 1.0:
        raise InputError(f"fill_alpha: expected a value in [0, 1], got {fill_alpha}")
    thickness = thickness if thickness is not None else max(1, round(min(mask.shape) / 100))
    if thickness < 1:
        raise InputError(f"thickness: expected an integer >= 1, got {thickness}")
    out = np.array(rgb, dtype=float, copy=True)
    for group, color in reversed(list(zip(groups, colors))):
        region = np.isin(mask, list(group))
        rgb_color = np.asarray(to_rgb(color))
        out[region] = (1.0 - fill_alpha) * out[region] + fill_alpha * rgb_color
        edge = find_boundaries(region, mode="inner")
        if thickness > 1:
            edge = binary_dilation(edge, iterations=thickness - 1) & region
        out[edge] = rgb_color
    return out


def image_to_rgb(image: Any, hw: tuple[int, int]) -> np.ndarray:
    """One image as (H, W, 3) floats in [0, 1], its layout told apart by the mask's (H, W)."""
    arr = _numpy(image)
    while arr.ndim > 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2 and arr.shape == hw:
        arr = arr[:, :, None]
    elif arr.ndim == 3 and arr.shape[1:] == hw and arr.shape[0] in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)
    elif not (arr.ndim == 3 and arr.shape[:2] == hw and arr.shape[2] in (1, 3, 4)):
        raise InputError(
            f"image: shape {tuple(np.shape(image))} does not match feature_mask's (H, W) = {hw}; "
            f"expected (C, H, W), (H, W, C) or (H, W) with C in 1, 3, 4"
        )
    arr = arr[:, :, :3]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return _to_unit_range(arr)


def _to_unit_range(arr: np.ndarray) -> np.ndarray:
    """uint8-like integers divided by 255; floats in [0, 1] kept; anything else min-max scaled."""
    if arr.dtype == bool:
        return arr.astype(float)
    integer = np.issubdtype(arr.dtype, np.integer)
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError("image: contains NaN or infinite values")
    low, high = float(arr.min()), float(arr.max())
    if integer and low >= 0 and high <= 255:
        return arr / 255.0
    if not integer and low >= 0.0 and high <= 1.0:
        return arr
    return (arr - low) / (high - low) if high > low else np.zeros_like(arr)


def _mask_2d(feature_mask: Any) -> np.ndarray:
    """The (H, W) superpixel ids of a Captum-style mask (leading/channel axes of size 1 or equal)."""
    mask = _numpy(feature_mask)
    original = mask.shape
    if not np.issubdtype(mask.dtype, np.integer):
        if not np.all(np.isfinite(mask)) or not np.all(mask == np.round(mask)):
            raise InputError("feature_mask: expected integer superpixel ids")
        mask = mask.astype(np.int64)
    while mask.ndim > 2 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.ndim == 3:  # one mask per channel: (C, H, W) or (H, W, C), all channels alike
        for axis in (0, 2):
            first = np.take(mask, 0, axis=axis)
            if mask.shape[axis] in (1, 3, 4) and np.all(mask == np.expand_dims(first, axis)):
                mask = first
                break
    if mask.ndim != 2:
        raise InputError(
            f"feature_mask: expected (H, W) superpixel ids, or broadcastable like (1, 1, H, W), "
            f"got shape {original}"
        )
    return mask


def _check_ids(mask: np.ndarray, local: LocalInteractions) -> None:
    low, high = int(mask.min()), int(mask.max())
    if low < 0 or high >= local.n_features:
        raise InputError(
            f"feature_mask: ids run from {low} to {high}, but local has {local.n_features} "
            f"features (ids 0..{local.n_features - 1})"
        )


def _set_label(features: tuple[int, ...], local: LocalInteractions) -> str:
    """The set's feature names, or "superpixels 3 x 9" when the names are the default x0, x1..."""
    names = feature_names_for(local, None)
    if names == [f"x{i}" for i in range(local.n_features)]:
        return "superpixels " + " x ".join(str(f) for f in features)
    return interaction_label(features, names)


def _number_regions(ax: Axes, mask: np.ndarray, top: list, colors: list[str]) -> None:
    """Write each set's rank on its pixel nearest the centre of the superpixels only it has.

    Sets that share a superpixel (``8 x 14``, ``12 x 14``) would otherwise put their numbers
    on top of each other; a set whose superpixels all appear in other sets uses all of them.
    """
    for rank, ((group, _), color) in enumerate(zip(top, colors)):
        others = {f for k, (g, _) in enumerate(top) if k != rank for f in g}
        own = [f for f in group if f not in others] or list(group)
        rows, cols = np.nonzero(np.isin(mask, own))
        if rows.size == 0:
            continue
        nearest = np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2)
        ax.text(cols[nearest], rows[nearest], str(rank + 1), color="white", fontsize="small",
                fontweight="bold", ha="center", va="center",
                bbox={"boxstyle": "circle,pad=0.2", "facecolor": color, "edgecolor": "white"})


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)
