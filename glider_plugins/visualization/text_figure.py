"""Text picture as a matplotlib figure: the PNG twin of :func:`.text.text_interactions_html`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import (
    as_local,
    checks_show,
    finish,
    new_figure,
    signed_cmap,
    signed_norm,
    value_label,
)
from ._layout import compact_ticks, text_widths
from .text import Group, WordStyle, word_styles

__all__ = ["plot_text_interactions"]

_PT = 1.0 / 72.0  # inches per point: the figure is laid out in inches, y downwards
_MARK_GAP = 0.025  # inches before each group number
_COLORBAR_H = 0.85  # inches at the bottom for the colour bar, its ticks and its label


@checks_show
def plot_text_interactions(
    words: Sequence[str],
    local: LocalInteractions | AttributionResult,
    top_k: int = 3,
    *,
    order: int | None = None,
    width: float = 8.0,
    fontsize: float = 14.0,
    save: str | os.PathLike | None = None,
    show: bool = False,
) -> tuple[Figure, Axes]:
    """The picture of :func:`text_interactions_html` as a matplotlib figure (for PNG/PDF).

    Words wrap into lines ``width`` inches wide; the figure is as tall as the text, the legend
    and the colour bar of the main effects below them. Word texts have ``gid="glider-word"`` and
    a background box in the signed colour map; group underlines are lines with
    ``gid="glider-group-<n>"`` (n = 1 for the strongest).

    Parameters
    ----------
    words, local, top_k, order
        As in :func:`text_interactions_html`.
    width : float, default 8.0
        Figure width in inches.
    fontsize : float, default 14.0
        Size of the words in points.
    save : path, optional
        Also write the figure there (see :func:`save_figure`).
    show : bool, default False
        Call :func:`matplotlib.pyplot.show` once drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        A new pyplot figure (the caller closes it when making many); its second axes is the
        colour bar (the words' background colour scale).
    ax : matplotlib.axes.Axes
        The text, laid out in inches (y downwards).
    """
    styles, groups = word_styles(words, local, top_k, order)
    prop = FontProperties(size=fontsize)
    widths = text_widths([s.word for s in styles], prop)
    mark_prop = FontProperties(size=0.6 * fontsize, weight="bold")
    marks = [sum(text_widths([str(g + 1) for g in s.groups], mark_prop)) + _MARK_GAP * len(s.groups)
             for s in styles]
    gap = text_widths([" "], prop)[0] + 0.08
    margin, line_h = 0.15, 2.4 * fontsize * _PT
    lines = _wrap([w + m for w, m in zip(widths, marks)], width - 2 * margin, gap)
    n_lines = max((line for _, line in lines), default=0) + 1
    legend_h = (len(groups) + 1.3) * 1.6 * 0.75 * fontsize * _PT
    height = 2 * margin + n_lines * line_h + legend_h + _COLORBAR_H
    fig = new_figure((width, height), layout=None)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(height, 0.0)
    ax.set_axis_off()
    for style, (x, line), w in zip(styles, lines, widths):
        _draw_word(ax, style, groups, (margin + x, margin + (line + 0.6) * line_h), w, prop, mark_prop)
    _draw_legend(ax, groups, margin, margin + n_lines * line_h, 0.75 * fontsize, value_label(as_local(local)))
    _draw_colorbar(fig, [s.effect for s in styles], margin, 0.75 * fontsize)
    return finish(fig, ax, save, show)


def _draw_colorbar(fig: Figure, effects: list[float], margin: float, size: float) -> None:
    """A horizontal colour bar of the words' background scale along the bottom of the figure."""
    width, height = fig.get_size_inches()
    bar_w = min(4.0, width - 2 * margin)
    cax = fig.add_axes((margin / width, 0.62 / height, bar_w / width, 0.14 / height))
    cbar = fig.colorbar(ScalarMappable(signed_norm(np.array(effects)), signed_cmap()), cax=cax,
                        orientation="horizontal")
    cbar.set_label("background: main effect (red raises the score, blue lowers it)",
                   fontsize=0.9 * size, color="#555555")
    compact_ticks(cbar.ax.xaxis, nbins=4, symmetric=True, common_power=False)
    cbar.ax.tick_params(labelsize=0.85 * size)




def _wrap(widths: list[float], line_width: float, gap: float) -> list[tuple[float, int]]:
    """(x, line) of each word, greedy line breaking."""
    x, line, out = 0.0, 0, []
    for w in widths:
        if x > 0.0 and x + w > line_width:
            x, line = 0.0, line + 1
        out.append((x, line))
        x += w + gap
    return out


def _draw_word(ax: Axes, style: WordStyle, groups: list[Group], xy: tuple[float, float],
               width: float, prop: FontProperties, mark_prop: FontProperties) -> None:
    """The word on its background, one underline per group below, group numbers after it."""
    x, y = xy
    size = prop.get_size_in_points()
    ax.text(x, y, style.word, fontproperties=prop, color=style.foreground, va="baseline",
            parse_math=False, gid="glider-word",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": style.background, "edgecolor": "none"})
    for k, g in enumerate(style.groups):
        y_line = y + (0.45 + 0.28 * k) * size * _PT
        ax.plot([x, x + width], [y_line, y_line], color=groups[g].color, linewidth=2.5,
                solid_capstyle="butt", gid=f"glider-group-{g + 1}")
    mark_x = x + width + _MARK_GAP
    for g in style.groups:
        ax.text(mark_x, y - 0.45 * size * _PT, str(g + 1), color=groups[g].color,
                fontproperties=mark_prop, va="baseline")
        mark_x += text_widths([str(g + 1)], mark_prop)[0] + _MARK_GAP


def _draw_legend(ax: Axes, groups: list[Group], x: float, y: float, size: float, what: str) -> None:
    step = 1.6 * size * _PT
    if groups:
        ax.text(x, y + 0.8 * step, f"numbers in brackets: {what}", fontsize=0.9 * size, color="#555555", va="baseline")
        y += step
    for k, group in enumerate(groups):
        row = y + (k + 0.8) * step
        ax.plot([x, x + 0.3], [row - 0.3 * size * _PT] * 2, color=group.color, linewidth=3)
        ax.text(x + 0.4, row, f"{group.rank + 1}   {group.label}   ({group.strength:+.3g})",
                fontsize=size, va="baseline", parse_math=False)
    if not groups:
        ax.text(x, y + 0.8 * step, "no interactions found", fontsize=0.9 * size, color="#555555",
                va="baseline")
