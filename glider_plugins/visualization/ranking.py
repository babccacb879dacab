"""Ranked bar chart of the strongest interactions, with the main effects of their features beside."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import (
    STRENGTH_COLOR,
    as_local,
    check_top_k,
    checks_show,
    feature_names_for,
    finish,
    hide_top_right,
    interaction_label,
    new_figure,
    root_figure,
    signed_cmap,
    signed_hex,
    signed_norm,
    signed_top,
    value_label,
)
from ._layout import compact_ticks, n_lines, widest, wrap_label

__all__ = ["plot_interactions"]

#: Widths in inches of the bar areas of a new figure (interactions, main effects).
_BARS_IN, _EFFECTS_IN = 3.6, 2.4


@checks_show
def plot_interactions(
    local: LocalInteractions | AttributionResult,
    top_k: int = 10,
    *,
    feature_names: Sequence[str] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    main_effects: bool = True,
    save: str | os.PathLike | None = None,
    show: bool = False,
) -> tuple[Figure, tuple[Axes, Axes | None]]:
    """The ``top_k`` strongest interactions as a ranked horizontal bar chart, main effects beside.

    The left panel has one bar per interaction, strongest on top, labelled with the features'
    names joined by ``" x "`` (``"age x gender"``; long labels wrap at the ``" x "``, every name
    is shown whole). The right panel shows the main effect of every feature that takes part in
    those interactions (in order of first appearance), one horizontal bar per feature with its
    name, coloured on the signed colour map (red raises the score, blue lowers it) with a colour
    bar for that scale. Without interactions the right panel shows the ``top_k`` largest main
    effects. A new figure is sized so that every label fits.

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
    show : bool, default False
        Call :func:`matplotlib.pyplot.show` once drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn into (``ax``'s own when given); a new one is a pyplot figure, which the
        caller closes (``plt.close(fig)``) when making many.
    axes : tuple (Axes, Axes or None)
        ``(interactions, main_effects)``; ``main_effects`` is None when that panel is not drawn.
        ``interactions.patches`` are the interaction bars, top to bottom in rank order.
    """
    local = as_local(local)
    top_k = check_top_k(top_k)
    names = feature_names_for(local, feature_names)
    top = signed_top(local, top_k)
    labels = [wrap_label(interaction_label(feats, names)) for feats, _ in top]
    features = _features_of(top) or _largest_effects(local.main_effects, top_k)
    fig, ax_int, ax_main = _axes(ax, main_effects, labels, [names[f] for f in features])
    _draw_interactions(ax_int, top, labels, value_label(local))
    if ax_main is not None:
        _draw_main_effects(ax_main, features, local.main_effects, names)
    return finish(fig, (ax_int, ax_main), save, show)


def _axes(
    ax: Axes | Sequence[Axes] | None, main_effects: bool, labels: list[str], effect_names: list[str]
) -> tuple[Figure, Axes, Axes | None]:
    if ax is None:
        return _new_axes(main_effects, labels, effect_names)
    if isinstance(ax, Axes):
        return root_figure(ax), ax, None
    axes = list(ax)
    if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
        raise InputError("ax: expected one matplotlib Axes or a pair of them")
    return root_figure(axes[0]), axes[0], axes[1] if main_effects else None


def _new_axes(main_effects: bool, labels: list[str], effect_names: list[str]) -> tuple[Figure, Axes, Axes | None]:
    """A figure whose width holds the widest labels and whose rows are tall enough for them."""
    row = max(0.38, 0.2 * n_lines(labels) + 0.12)
    height_int = row * max(len(labels), 1)
    label_int = widest(labels) + 0.3
    if not main_effects:
        fig = new_figure((label_int + _BARS_IN, 1.3 + height_int))
        return fig, fig.add_subplot(), None
    height_main = 0.34 * max(len(effect_names), 1) + 0.7  # + the colour bar
    label_main = widest(effect_names) + 0.3
    fig = new_figure((label_int + _BARS_IN + label_main + _EFFECTS_IN, 1.3 + max(height_int, height_main)))
    left, right = fig.subplots(1, 2, width_ratios=[_BARS_IN, _EFFECTS_IN])
    return fig, left, right


def _draw_interactions(ax: Axes, top: list[tuple[tuple[int, ...], float]], labels: list[str], what: str) -> None:
    """Signed bars (strongest magnitude on top), labelled with their values and the index."""
    ax.set_title("Strongest interactions")
    ax.set_xlabel(what)
    if not top:
        ax.text(0.5, 0.5, "no interactions found", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
        return
    strengths = np.array([s for _, s in top])
    rows = np.arange(len(top))
    bars = ax.barh(rows, strengths, color=STRENGTH_COLOR, height=0.7)
    ax.bar_label(bars, fmt="%+.3g" if (strengths < 0).any() else "%.3g", padding=3, fontsize="small")
    ax.set_yticks(rows, labels)
    compact_ticks(ax.xaxis, nbins=5)
    ax.invert_yaxis()  # strongest on top
    ax.margins(x=0.15)
    ax.axvline(0, color="black", linewidth=0.8)
    hide_top_right(ax)


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
    compact_ticks(ax.xaxis, nbins=2, symmetric=True)  # -a, 0, a: never crowded
    ax.set_title("Main effects")
    ax.set_xlabel("main effect")
    hide_top_right(ax)
    fig = root_figure(ax)
    height = float(fig.get_size_inches()[1])  # fraction and pad are shares of it: keep them fixed in inches
    cbar = fig.colorbar(ScalarMappable(signed_norm(effects), signed_cmap()), ax=ax, location="bottom",
                        fraction=0.13 / height, shrink=0.9, pad=0.12 / height)
    cbar.set_label("colour scale: main effects of all features", fontsize="small")
    compact_ticks(cbar.ax.xaxis, nbins=2, symmetric=True, common_power=False)
    cbar.ax.tick_params(labelsize="small")


def _features_of(top: list[tuple[tuple[int, ...], float]]) -> list[int]:
    """Features in the interactions, in order of first appearance."""
    return list(dict.fromkeys(f for feats, _ in top for f in feats))


def _largest_effects(effects: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-np.abs(effects), kind="stable")[:k]]
