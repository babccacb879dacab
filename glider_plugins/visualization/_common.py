"""What every picture shares: the colour scheme, argument checks, figure creation and saving.

New figures are made through ``pyplot`` (:func:`matplotlib.pyplot.figure`), so ``plt.show()`` in a
script and a notebook's inline backend display them. Every plotting function returns
``(fig, ax)`` and takes ``show=True`` to call ``plt.show()``; whoever makes many figures in a loop
closes each one (``plt.close(fig)``), as with any pyplot figure.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize, to_hex
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "glider_plugins.visualization needs matplotlib: pip install matplotlib"
    ) from exc

from glider_plugins.errors import InputError
from glider_plugins.results import AttributionResult, LocalInteractions

__all__ = ["GROUP_COLORS", "SIGNED_CMAP", "STRENGTH_COLOR", "save_figure"]

#: The one colour map for signed values (main effects, pairwise strengths): red up, blue down,
#: white at zero.
SIGNED_CMAP = "RdBu_r"
#: Colour of interaction-strength bars (neither sign: strengths are magnitudes).
STRENGTH_COLOR = "#6a3d9a"
#: Colours that tell interacting groups (superpixel sets, word groups) apart, in rank order.
GROUP_COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
                "#42d4f4", "#f032e6", "#bfef45", "#9a6324", "#000075")


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 150, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .pdf, .svg).

    A PNG is ``fig.get_size_inches() * dpi`` pixels (figures use constrained layout, so nothing
    is cut off); pass ``bbox_inches="tight"`` to crop instead.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure returned by one of the plotting functions.
    path : str or os.PathLike
        Destination; missing parent folders are created.
    dpi : int, default 150
        Resolution of raster formats.
    **kwargs
        Passed on to :meth:`matplotlib.figure.Figure.savefig`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, **kwargs)
    return path


def checks_show(plot: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a plotting function so that its ``show`` argument is checked before anything is
    drawn (a bad value must not leave a half-made pyplot figure open)."""
    signature = inspect.signature(plot)

    @functools.wraps(plot)
    def checked(*args: Any, **kwargs: Any) -> Any:
        show = signature.bind(*args, **kwargs).arguments.get("show", False)
        if not isinstance(show, (bool, np.bool_)):
            raise InputError(f"show: expected True or False, got {show!r}")
        return plot(*args, **kwargs)

    return checked


def hide_top_right(ax: Axes) -> None:
    """Only the left and bottom spines: bar charts read without a box."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def finish(fig: Figure, axes: Any, save: str | os.PathLike | None, show: bool) -> tuple[Figure, Any]:
    """Save ``fig`` when a path is given, show it when asked, and return ``(fig, axes)``
    (``show`` was checked by :func:`checks_show`)."""
    if save is not None:
        save_figure(fig, save)
    if show:
        plt.show()
    return fig, axes


def new_figure(figsize: tuple[float, float], layout: str | None = "constrained") -> Figure:
    """A new pyplot figure (``plt.show()`` and notebooks display it; the caller closes it)."""
    return plt.figure(figsize=figsize, layout=layout)


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes."""
    if ax is not None:
        if not isinstance(ax, Axes):
            raise InputError(f"ax: expected a matplotlib Axes, got {type(ax).__name__}")
        return root_figure(ax), ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def root_figure(ax: Axes) -> Figure:
    """The top-level figure of ``ax`` (not a subfigure), the one that can be saved."""
    try:
        return ax.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10
        return ax.figure


def signed_cmap() -> Colormap:
    return matplotlib.colormaps[SIGNED_CMAP]


def signed_norm(values: np.ndarray) -> Normalize:
    """A colour scale symmetric around zero, so white means 0 in every picture."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    vmax = float(np.abs(finite).max()) if finite.size else 0.0
    vmax = vmax if vmax > 0 else 1.0
    return Normalize(vmin=-vmax, vmax=vmax)


def signed_hex(values: np.ndarray, norm: Normalize | None = None) -> list[str]:
    """Hex colours of ``values`` on the signed colour map."""
    values = np.asarray(values, dtype=float)
    norm = norm or signed_norm(values)
    return [to_hex(c) for c in signed_cmap()(norm(values))]


def group_color(rank: int) -> str:
    return GROUP_COLORS[rank % len(GROUP_COLORS)]


def check_top_k(top_k: int) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise InputError(f"top_k: expected an integer >= 1, got {top_k!r}")
    return int(top_k)


def as_local(local: Any, name: str = "local") -> LocalInteractions:
    """``local`` as :class:`LocalInteractions`; an :class:`AttributionResult` of one instance is taken."""
    if isinstance(local, AttributionResult):
        if len(local) != 1:
            raise InputError(
                f"{name}: got an AttributionResult of {len(local)} instances; pass one instance, "
                f"e.g. res[i]"
            )
        local = local[0]
    if not isinstance(local, LocalInteractions):
        raise InputError(f"{name}: expected LocalInteractions (res[i]), got {type(local).__name__}")
    return local


def feature_names_for(
    local: LocalInteractions, feature_names: Sequence[str] | None, name: str = "feature_names"
) -> list[str]:
    """Explicit names, else the result's, else x0..x{p-1}; checked against p."""
    p = local.n_features
    names = feature_names if feature_names is not None else local.feature_names
    names = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(p)]
    if len(names) != p:
        raise InputError(f"{name}: got {len(names)} names for {p} features")
    return names


def signed_top(local: LocalInteractions, top_k: int, order: int | None = None) -> list[tuple[tuple[int, ...], float]]:
    """The ``top_k`` strongest interactions with their signed value of the result's index (the
    signed ``m(S)``, or a pair's signed BII or k-SII): a -6.3 interaction is drawn as -6.3, not 6.3.
    Unsigned strengths where the detector has no signed values (NID with ``refit=False``)."""
    top = local.top(top_k, order=order)
    if local.index == "Moebius" and local.signed_values is None:
        return top
    signed = dict(local.signed_interactions())
    return [(features, signed[features]) for features, _ in top]


#: What a signed pairwise index is called in labels, by its shapiq name.
INDEX_NAMES = {"BII": "Banzhaf interaction (BII)", "k-SII": "Shapley interaction (k-SII)"}


def value_label(local: LocalInteractions) -> str:
    """What the values :func:`signed_top` returns are, for axis labels and legend titles."""
    if local.index in INDEX_NAMES:
        return INDEX_NAMES[local.index]
    if local.signed_values is None:
        return "interaction strength"
    return "pure effect m(S)"


def interaction_label(features: Sequence[int], names: Sequence[str]) -> str:
    """``"age x gender"``: the names of an interacting set, joined as in ``to_dataframe``."""
    return " x ".join(names[f] for f in features)
