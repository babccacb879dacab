"""Sizing figures to their text: measured label widths, wrapped interaction names.

Figures are sized from the widths their labels will have once drawn, so a long feature name
("worst concave points x mean fractal dimension") is shown in full instead of pushing the axes
out of the figure or being cut at its edge. Text is measured on a private Agg renderer that no
pyplot figure manager knows about.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from functools import lru_cache

import matplotlib
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter

#: Interaction labels longer than this many characters are wrapped at their " x " joints.
WRAP_CHARS = 42


@lru_cache(maxsize=1)
def _renderer():
    """One Agg renderer to measure text with (sizes in pixels at its dpi); not a pyplot figure."""
    return FigureCanvasAgg(Figure(figsize=(1.0, 1.0))).get_renderer()


def text_widths(texts: Sequence[str], prop: FontProperties | None = None) -> list[float]:
    """Widths in inches of ``texts`` drawn in ``prop`` (default: tick-label font); multi-line: widest line."""
    prop = prop if prop is not None else tick_font()
    renderer = _renderer()

    def width(line: str) -> float:
        return renderer.get_text_width_height_descent(line, prop, ismath=False)[0] / renderer.dpi if line else 0.0

    return [max(width(line) for line in str(t).split("\n")) for t in texts]


def widest(texts: Sequence[str], prop: FontProperties | None = None) -> float:
    """The largest of :func:`text_widths` (0 for no texts)."""
    return max(text_widths(texts, prop), default=0.0)


def tick_font(size: str | float | None = None) -> FontProperties:
    """The font of y tick labels (matplotlib's rcParams), optionally at another size."""
    return FontProperties(size=size if size is not None else matplotlib.rcParams["ytick.labelsize"])


def wrap_label(label: str, width: int = WRAP_CHARS, joint: str = " x ") -> str:
    """``label`` broken into lines at its ``joint``s when longer than ``width`` characters.

    Every name stays whole (a single name longer than ``width`` keeps its own line); joining the
    lines with spaces gives back the label.
    """
    parts = label.split(joint)
    if len(label) <= width or len(parts) == 1:
        return label
    lines, line = [], parts[0]
    for part in parts[1:]:
        if len(line) + len(joint) + len(part) > width:
            lines.append(line + joint.rstrip())
            line = part
        else:
            line += joint + part
    return "\n".join([*lines, line])


def n_lines(labels: Sequence[str]) -> int:
    """The most lines any label has (1 for none)."""
    return max((label.count("\n") + 1 for label in labels), default=1)


def fill_text(text: str, width_inches: float, prop: FontProperties) -> str:
    """``text`` wrapped at spaces into lines at most ``width_inches`` wide (titles)."""
    if widest([text], prop) <= width_inches:
        return text
    per_char = widest([text], prop) / max(len(text), 1)
    return textwrap.fill(text, width=max(int(width_inches / per_char), 12))


def compact_ticks(axis: Axis, nbins: int, symmetric: bool = False, common_power: bool = True) -> None:
    """At most ``nbins`` + 1 ticks, written short.

    Values such as 0.0002 would otherwise be written in full on every tick, and the ticks of a
    narrow panel run into each other. ``common_power``: tiny or huge values get one power of ten
    at the axis end (``x1e-4``); else each tick is written with 2 significant digits (colour
    bars, whose label sits where the power would go).
    """
    axis.set_major_locator(MaxNLocator(nbins=nbins, symmetric=symmetric))
    if not common_power:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.2g}"))
        return
    formatter = ScalarFormatter(useMathText=True)
    formatter.set_powerlimits((-2, 3))
    axis.set_major_formatter(formatter)
