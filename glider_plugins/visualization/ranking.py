"""Ranked bar chart of the strongest interactions, with the main effects of their features beside."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import (
    STRENGTH_COLOR,
    as_local,
    check_top_k,
    feature_names_for,
    finish,
    interaction_label,
    new_figure,
    root_figure,
    signed_hex,
    signed_norm,
)

__all__ = ["plot_interactions"]


def plot_interactions(
    local: LocalInteractions | AttributionResult,
    top_k: int = 10,
    *,
    feature_names: Sequence[str] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    main_effects: bool = True,
    save: str | os.PathLike | None = None,
) -> Figure:
    """The ``top_k`` strongest interactions as a ranked horizontal bar chart, main effects beside.

    The left panel has one bar per interaction, strongest on top, labelled with the features'
    names joined by ``" x "`` (``"age x gender"``). The right panel shows the main effect of every
    feature that takes part in those interactions (in order of first appearance), coloured on the
    signed colour map (red raises the score, blue lowers it). Without interactions the right
    panel shows the ``top_k`` largest main effects.

    Parameters
    ----------
    local : LocalInteractions or AttributionResult of one instance
        ``res[i]``.
    top_k : int, default 10
        Number of interactions to draw (>= 1).
    feature_names : sequence of str, optional
        Default: the result's names, else ``x0 .. x{p-1}``.
    ax : Axes or pair of Axes, optional
        One Axes: the interactions only. Two: interactions and main effects. Default: a new
        figure with both panels.
    main_effects : bool, default True
        Draw the main-effects panel (when ``ax`` is not a single Axes).
    save : path, optional
        Also write the figure there (see :func:`save_figure`).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0].patches`` are the interaction bars, top to bottom in rank order.
    """
    local = as_local(local)
    top_k = check_top_k(top_k)
    names = feature_names_for(local, feature_names)
    top = local.top(top_k)
    fig, ax_int, ax_main = _axes(ax, main_effects, n_rows=max(len(top), 1))
    _draw_interactions(ax_int, top, names)
    if ax_main is not None:
        features = _features_of(top) or _largest_effects(local.main_effects, top_k)
        _draw_main_effects(ax_main, features, local.main_effects, names)
    return finish(fig, save)


def _axes(
    ax: Axes | Sequence[Axes] | None, main_effects: bool, n_rows: int
) -> tuple[Figure, Axes, Axes | None]:
    if ax is None:
        height = 1.2 + 0.38 * n_rows
        if not main_effects:
            fig = new_figure((6.0, height))
            return fig, fig.add_subplot(), None
        fig = new_figure((10.0, height))
        left, right = fig.subplots(1, 2, width_ratios=[3, 2])
        return fig, left, right
    if isinstance(ax, Axes):
        return root_figure(ax), ax, None
    axes = list(ax)
    if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
        raise InputError("ax: expected one matplotlib Axes or a pair of them")
    return root_figure(axes[0]), axes[0], axes[1] if main_effects else None


def _draw_interactions(ax: Axes, top: list[tuple[tuple[int, ...], float]], names: list[str]) -> None:
    ax.set_title("Strongest interactions")
    ax.set_xlabel("interaction strength")
    if not top:
        ax.text(0.5, 0.5, "no interactions found", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
        return
    labels = [interaction_label(feats, names) for feats, _ in top]
    strengths = np.array([s for _, s in top])
    rows = np.arange(len(top))
    bars = ax.barh(rows, strengths, color=STRENGTH_COLOR, height=0.7)
    ax.bar_label(bars, fmt="%.3g", padding=3, fontsize="small")
    ax.set_yticks(rows, labels)
    ax.invert_yaxis()  # strongest on top
    ax.margins(x=0.15)
    ax.axvline(0, color="black", linewidth=0.8)
    _clean(ax)


def _draw_main_effects(ax: Axes, features: list[int], effects: np.ndarray, names: list[str]) -> None:
    values = effects[features]
    rows = np.arange(len(features))
    ax.barh(rows, values, color=signed_hex(values, signed_norm(effects)), height=0.7,
            edgecolor="#444444", linewidth=0.5)
    column = blended_transform_factory(ax.transAxes, ax.transData)
    for row, value in zip(rows, values):  # values in a column right of the panel: never on a bar
        ax.text(1.02, row, f"{value:+.3g}", transform=column, va="center", fontsize="small")
    ax.set_yticks(rows, [names[f] for f in features])
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    reach = float(np.abs(values).max()) if len(values) else 0.0
    ax.set_xlim(-1.1 * reach or -1.0, 1.1 * reach or 1.0)  # symmetric: zero in the middle
    ax.set_title("Main effects")
    ax.set_xlabel("main effect")
    _clean(ax)


def _features_of(top: list[tuple[tuple[int, ...], float]]) -> list[int]:
    """Features in the interactions, in order of first appearance."""
    return list(dict.fromkeys(f for feats, _ in top for f in feats))


def _largest_effects(effects: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-np.abs(effects), kind="stable")[:k]]


def _clean(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
