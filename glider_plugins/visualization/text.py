"""Text: words coloured by main effect, the top interacting word groups underlined and numbered.

The same picture two ways: an HTML snippet here (Jupyter renders it), and a matplotlib figure
(PNG) in :mod:`.text_figure`; both draw what :func:`word_styles` describes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

from ._common import as_local, check_top_k, group_color, signed_hex, signed_top, value_label

__all__ = ["Group", "InteractionHTML", "WordStyle", "text_interactions_html", "word_styles"]


class InteractionHTML(str):
    """An HTML snippet (a ``str``) that Jupyter renders as HTML."""

    def _repr_html_(self) -> str:
        return str(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write a self-contained HTML page holding the snippet."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'<!DOCTYPE html>\n<meta charset="utf-8">\n{self}\n', encoding="utf-8")
        return path


@dataclass(frozen=True)
class WordStyle:
    """How one word is drawn: background by main effect, the ranks (0-based) of its groups."""

    word: str
    effect: float
    background: str
    foreground: str
    groups: tuple[int, ...]


@dataclass(frozen=True)
class Group:
    """One of the top interacting word sets."""

    rank: int
    features: tuple[int, ...]
    strength: float
    color: str
    label: str


def word_styles(
    words: Sequence[str],
    local: LocalInteractions | AttributionResult,
    top_k: int = 3,
    order: int | None = None,
) -> tuple[list[WordStyle], list[Group]]:
    """The shared description of the text picture, used by the HTML and the figure."""
    local = as_local(local)
    top_k = check_top_k(top_k)
    words = _check_words(words, local.n_features)
    effects = local.main_effects
    backgrounds = signed_hex(effects)
    top = signed_top(local, top_k, order=order)
    groups = [Group(r, f, s, group_color(r), " x ".join(words[i] for i in f)) for r, (f, s) in enumerate(top)]
    styles = [
        WordStyle(w, float(effects[i]), backgrounds[i], _readable_on(backgrounds[i]),
                  tuple(g.rank for g in groups if i in g.features))
        for i, w in enumerate(words)
    ]
    return styles, groups


def text_interactions_html(
    words: Sequence[str],
    local: LocalInteractions | AttributionResult,
    top_k: int = 3,
    *,
    order: int | None = None,
    save: str | os.PathLike | None = None,
) -> InteractionHTML:
    """Words coloured by main effect, the ``top_k`` interacting word groups underlined and numbered.

    Each word is a ``<span class="glider-word">`` whose background follows the signed colour
    map (red: the word raises the score, blue: lowers it; white: no effect), with the effect in
    ``data-effect`` and a tooltip. Every group has its own colour: its words get a coloured
    underline (stacked when a word is in several groups) and the group's number as a
    superscript; a legend lists the groups with their strengths. Words are HTML-escaped.

    Parameters
    ----------
    words : sequence of str
        One word per feature: ``words[i]`` is feature ``i``.
    local : LocalInteractions or AttributionResult of one instance
        ``res[i]``.
    top_k : int, default 3
        Number of groups to mark (>= 1).
    order : int, optional
        Only groups of this size (2: pairs).
    save : path, optional
        Also write a self-contained HTML page there.

    Returns
    -------
    InteractionHTML
        A ``str`` with ``_repr_html_``, so a notebook cell ending with it shows the text.
    """
    styles, groups = word_styles(words, local, top_k, order)
    spans = " ".join(_word_span(i, s, groups) for i, s in enumerate(styles))
    legend = "".join(_legend_item(g) for g in groups) or "<span>no interactions found</span>"
    snippet = InteractionHTML(
        '<div class="glider-text" style="font-family:sans-serif;font-size:15px;line-height:2.7;">'
        f'<div class="glider-words">{spans}</div>'
        '<div class="glider-legend" style="font-size:12px;line-height:1.6;margin-top:4px;">'
        f"{legend}"
        f'<div style="color:#555;">numbers in brackets: {html.escape(value_label(as_local(local)))}</div>'
        '<div style="color:#555;">background: main effect (red raises the score, blue lowers it)</div>'
        "</div></div>"
    )
    if save is not None:
        snippet.save(save)
    return snippet


def _word_span(index: int, style: WordStyle, groups: list[Group]) -> str:
    underline = ", ".join(f"0 {3 * (k + 1)}px 0 {groups[g].color}" for k, g in enumerate(style.groups))
    css = (f"background-color:{style.background};color:{style.foreground};padding:1px 3px;"
           "border-radius:3px;" + (f"box-shadow:{underline};" if underline else ""))
    marks = "".join(
        f'<sup class="glider-group" data-group="{g + 1}" style="color:{groups[g].color};'
        f'font-weight:bold;margin-left:1px;">{g + 1}</sup>'
        for g in style.groups
    )
    word = html.escape(style.word, quote=True)
    title = f"{word}: main effect {style.effect:+.3g}"
    return (f'<span class="glider-word" data-feature="{index}" data-effect="{style.effect:.6g}" '
            f'title="{title}" style="{css}">{word}{marks}</span>')


def _legend_item(group: Group) -> str:
    return (f'<div class="glider-legend-item" data-group="{group.rank + 1}">'
            f'<span style="display:inline-block;width:18px;height:4px;vertical-align:middle;'
            f'background:{group.color};margin-right:4px;"></span>'
            f"<b>{group.rank + 1}</b> {html.escape(group.label)} ({group.strength:+.3g})</div>")


def _check_words(words: Sequence[str], p: int) -> list[str]:
    if isinstance(words, str):
        raise InputError("words: expected a sequence of words (one per feature), got one string; "
                         "split it first, e.g. text.split()")
    words = [str(w) for w in words]
    if len(words) > p and not any(words[p:]):  # TokenMask.row_words pads a short row with "" to the batch's count
        words = words[:p]
    if len(words) != p:
        raise InputError(f"words: got {len(words)} words for {p} features; pass one word per feature (for a row of a "
                         "token_mask: tm.row_words(i) with tm.local(res, i), or tm.words[i])")
    return words


def _readable_on(background: str) -> str:
    """Black or white text, whichever reads better on ``background``."""
    r, g, b = to_rgb(background)
    luminance = float(np.dot([0.299, 0.587, 0.114], [r, g, b]))
    return "#000000" if luminance > 0.5 else "#ffffff"
