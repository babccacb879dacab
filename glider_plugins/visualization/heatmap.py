"""Pairwise heat map: how strongly each pair of features interacts around one instance."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import (
    INDEX_NAMES,
    SIGNED_CMAP,
    as_local,
    checks_show,
    feature_names_for,
    figure_and_axes,
    finish,
    signed_norm,
)
from ._layout import tick_font, widest

__all__ = ["plot_pairwise_heatmap"]

#: Above this many features, cell values are not written in the cells.
_ANNOTATE_MAX = 12
#: Above this many features, not every tick is labelled.
_LABEL_MAX = 60


@checks_show
def plot_pairwise_heatmap(
    local_or_matrix: LocalInteractions | AttributionResult | np.ndarray,
    feature_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    title: str | None = "Pairwise interaction strength",
    save: str | os.PathLike | None = None,
    show: bool = False,
) -> tuple[Figure, Axes]:
    """Heat map of the symmetric (p, p) pairwise interaction strengths, with feature names.

    Parameters
    ----------
    local_or_matrix : LocalInteractions, AttributionResult of one instance, or array (p, p)
        ``res[i]`` (its :meth:`~LocalInteractions.pairwise` is drawn) or a symmetric matrix.
    feature_names : sequence of str, optional
        Tick labels; default: the result's names, else ``x0 .. x{p-1}``.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default: a new figure.
    annotate : bool, optional
        Write each value in its cell; default: when p <= 12.
    title : str or None
        Axes title.
    save : path, optional
        Also write the figure there (see :func:`save_figure`).
    show : bool, default False
        Call :func:`matplotlib.pyplot.show` once drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``ax``'s figure, or a new pyplot figure sized so that every name fits (the caller closes
        it, ``plt.close(fig)``, when making many); it also holds the colour bar's axes.
    ax : matplotlib.axes.Axes
        The heat map: its image (``ax.images[0]``) holds the matrix itself; colours use the signed
        colour map centred at zero, so only red appears for non-negative strengths.

    Raises
    ------
    InputError
        When the matrix is not square and symmetric, or the names do not match p.
    """
    matrix, names = _matrix_and_names(local_or_matrix, feature_names)
    what = _what(local_or_matrix)
    fig, ax = figure_and_axes(ax, figsize=_figsize(names))
    image = ax.imshow(matrix, cmap=SIGNED_CMAP, norm=signed_norm(matrix), interpolation="nearest")
    _label_axes(ax, names)
    if annotate if annotate is not None else len(names) <= _ANNOTATE_MAX:
        _annotate(ax, matrix, image.norm)
    cbar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
    cbar.set_label(what)
    if np.nanmin(matrix) >= 0:  # strengths only: show the red half of the signed scale
        cbar.ax.set_ylim(0.0, image.norm.vmax)
    if title:
        ax.set_title(title)
    return finish(fig, ax, save, show)


def _what(local_or_matrix: Any) -> str:
    """The colour bar's label: the index a result's matrix holds."""
    if isinstance(local_or_matrix, (LocalInteractions, AttributionResult)):
        local = as_local(local_or_matrix, "local_or_matrix")
        if local.index in INDEX_NAMES:
            return f"{INDEX_NAMES[local.index][:-1]}, signed)"
        return "interaction mass: sum of |m(S)| over the sets holding the pair" if local.signed_values is not None else "interaction strength"
    return "interaction strength"


def _figsize(names: list[str]) -> tuple[float, float]:
    """Room for the cells, the names (x labels at 45 degrees) and the colour bar with its label."""
    p = len(names)
    cells = 0.45 * min(p, 30)
    label = widest(names, tick_font(_font_size(p))) if p <= _LABEL_MAX else 0.0
    return label + cells + 1.5, 0.75 * label + cells + 0.9


def _font_size(p: int) -> str:
    return "medium" if p <= 15 else "small" if p <= 30 else "x-small"


def _matrix_and_names(
    local_or_matrix: LocalInteractions | AttributionResult | np.ndarray,
    feature_names: Sequence[str] | None,
) -> tuple[np.ndarray, list[str]]:
    if isinstance(local_or_matrix, (LocalInteractions, AttributionResult)):
        local = as_local(local_or_matrix, "local_or_matrix")
        matrix = local.pairwise(local.index) if local.index != "Moebius" else local.pairwise()  # BII, k-SII: signed
        names, kept = feature_names_for(local, feature_names), local.present_features  # an image's own superpixels only
        return matrix[np.ix_(kept, kept)], [names[i] for i in kept]
    matrix = np.asarray(local_or_matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InputError(f"local_or_matrix: expected a square (p, p) matrix, got shape {matrix.shape}")
    if not np.allclose(matrix, matrix.T, equal_nan=True):
        raise InputError("local_or_matrix: the pairwise matrix must be symmetric")
    p = matrix.shape[0]
    names = [f"x{i}" for i in range(p)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != p:
        raise InputError(f"feature_names: got {len(names)} names for a {p} x {p} matrix")
    return matrix, names


def _label_axes(ax: Axes, names: list[str]) -> None:
    p = len(names)
    if p <= _LABEL_MAX:
        ticks = np.arange(p)
        size = _font_size(p)
        ax.set_xticks(ticks, names, rotation=45, ha="right", rotation_mode="anchor", fontsize=size)
        ax.set_yticks(ticks, names, fontsize=size)
    ax.set_xticks(np.arange(p + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(p + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=0.8)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _annotate(ax: Axes, matrix: np.ndarray, norm) -> None:
    """Write every non-zero off-diagonal value in its cell, white on dark cells."""
    p = matrix.shape[0]
    for i in range(p):
        for j in range(p):
            if i == j or matrix[i, j] == 0:
                continue
            value = matrix[i, j]
            dark = abs(float(norm(value)) - 0.5) > 0.35
            ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize="x-small",
                    color="white" if dark else "black")
