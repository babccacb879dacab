"""GLIDER pictures: global interactions by frequency, and the AUC table as grouped bars."""

from __future__ import annotations

import os
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from glider_plugins.errors import InputError
from glider_plugins.results import MIN_FREQUENCY

from ._common import (
    STRENGTH_COLOR,
    check_top_k,
    checks_show,
    figure_and_axes,
    finish,
    hide_top_right,
)
from ._layout import fill_text, n_lines, widest, wrap_label

#: Width in inches of the bar area of a new figure (bars, their labels and the legend).
_BARS_IN = 4.6
#: Extra width in inches for the legend of highlighted interactions.
_LEGEND_IN = 1.0
#: Bars of highlighted (kept) interactions.
KEPT_COLOR = "#e6550d"

__all__ = ["plot_auc_table", "plot_global_interactions"]

_BASELINE_COLOR = "#9e9e9e"
_VARIANT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


@checks_show
def plot_global_interactions(
    global_or_dataframe: Any,
    top_k: int = 20,
    *,
    prune: bool = True,
    min_frequency: float = MIN_FREQUENCY,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | os.PathLike | None = None,
    highlight: Any = None,
    show: bool = False,
) -> tuple[Figure, Axes]:
    """The interactions of ``GlobalInteractions.top(top_k)`` as a ranked horizontal bar chart.

    Each bar's length is the interaction's *frequency*: the share of the explained instances in
    whose local top interactions it appears (the x axis, in %). Each bar is labelled with that
    frequency and the count behind it, ``"67% (20 of 30)"``.

    Parameters
    ----------
    global_or_dataframe : GlobalInteractions or pandas.DataFrame
        A ``GlobalInteractions``: exactly the sets of ``top(top_k, prune, min_frequency)`` are
        drawn, in its order (subset pruning and the frequency floor included; ``top`` warns when
        fewer than ``top_k`` are available). A table (e.g. ``to_dataframe(k)``) is drawn as given,
        most frequent first, at most ``top_k`` rows: a column ``frequency``, a label column
        ``names`` (or ``features``, tuples of ids), optionally ``count``.
    top_k : int, default 20
        Number of interactions to draw (>= 1).
    prune, min_frequency
        Passed to :meth:`GlobalInteractions.top` (ignored for a table).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default: a new figure, sized so that every name fits.
    title : str, optional
        Default: "Most frequent interactions (GLIDER, N instances)".
    save : path, optional
        Also write the figure there (see :func:`save_figure`).
    highlight : sequence of tuples of int, optional
        Interactions (feature ids) drawn in a second colour and named in a legend, e.g. the crosses
        a selection kept (``label`` "kept"); needs the table's ``features`` column.
    show : bool, default False
        Call :func:`matplotlib.pyplot.show` once drawn.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``ax``'s figure, or a new pyplot figure (the caller closes it when making many).
    ax : matplotlib.axes.Axes
        ``ax.patches`` are the bars, most frequent on top (``ax.containers[0]``: the bars only).
    """
    top_k = check_top_k(top_k)
    top, n_instances = _global_table(global_or_dataframe, top_k, prune, min_frequency)
    labels = [wrap_label(str(n)) for n in top["names"]]
    colours = _colours(top, highlight)
    legend = KEPT_COLOR in colours
    given = ax is not None
    height = 1.4 + (0.2 * n_lines(labels) + 0.12) * max(len(top), 1)
    fig, ax = figure_and_axes(ax, figsize=(widest(labels) + 0.4 + _BARS_IN + _LEGEND_IN * legend, height))
    bars = ax.barh(np.arange(len(top)), top["frequency"].to_numpy(dtype=float), color=colours, height=0.7)
    ax.bar_label(bars, labels=_bar_labels(top, n_instances), padding=3, fontsize="small")
    ax.set_yticks(np.arange(len(top)), labels)
    ax.invert_yaxis()
    _frequency_axis(ax, top["frequency"].to_numpy(dtype=float), n_instances)
    if legend:  # right of the axes: never on a bar or its label
        ax.legend(handles=[Patch(color=KEPT_COLOR, label="kept"), Patch(color=STRENGTH_COLOR, label="not kept")],
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    if not len(top):
        ax.text(0.5, 0.5, "no interactions found", ha="center", va="center", transform=ax.transAxes)
    suffix = f", {n_instances} instances" if n_instances else ""
    heading = title if title is not None else f"Most frequent interactions (GLIDER{suffix})"
    room = ax.get_position().width * fig.get_size_inches()[0] if given else _BARS_IN  # the title is centred on the axes
    ax.set_title(fill_text(heading, room, FontProperties(size=matplotlib.rcParams["axes.titlesize"])))
    return finish(fig, ax, save, show)


def _frequency_axis(ax: Axes, frequency: np.ndarray, n_instances: int | None) -> None:
    """x in % up to at most 100%, with room right of the longest bar for its label."""
    right = 1.35 * min(1.0, float(frequency.max())) if len(frequency) else 1.0
    end = min(1.0, right)  # no share above 100% on the axis
    ax.set_xlim(0.0, right)
    ax.set_xticks([t for t in MaxNLocator(nbins=5).tick_values(0.0, end) if -1e-9 <= t <= end + 1e-9])
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.spines["bottom"].set_bounds(0.0, end)
    hide_top_right(ax)
    of = f"the {n_instances} explained instances" if n_instances else "the explained instances"
    ax.set_xlabel(f"frequency (share of {of})")


def _colours(top: pd.DataFrame, highlight: Any) -> list[str]:
    """KEPT_COLOR for the highlighted interactions, STRENGTH_COLOR for the others."""
    marked = {tuple(sorted(int(i) for i in h)) for h in (highlight or [])}
    if not marked:
        return [STRENGTH_COLOR] * len(top)
    if "features" not in top.columns:
        raise InputError("highlight: needs the interactions' feature ids (a GlobalInteractions or a table with 'features')")
    return [KEPT_COLOR if tuple(sorted(f)) in marked else STRENGTH_COLOR for f in top["features"]]


def _bar_labels(top: pd.DataFrame, n_instances: int | None) -> list[str]:
    """``"67% (20 of 30)"``: the drawn frequency, then the count it comes from (when known)."""
    shares = [f"{f:.0%}" for f in top["frequency"]]
    if "count" not in top.columns:
        return shares
    of = f" of {n_instances}" if n_instances else ""
    return [f"{share} ({int(c)}{of})" for share, c in zip(shares, top["count"])]


@checks_show
def plot_auc_table(
    table: pd.DataFrame,
    *,
    value: str = "auc_mean",
    error: str | None = "auc_std",
    group: str = "model",
    hue: str = "variant",
    ax: Axes | None = None,
    title: str | None = "Test AUC by model and feature set",
    save: str | os.PathLike | None = None,
    show: bool = False,
) -> tuple[Figure, Axes]:
    """The AUC results table as a grouped bar chart with error bars.

    One group of bars per ``group`` value (model), one bar per ``hue`` value (variant:
    baseline, +crosses, +random, +oracle), in the order they first appear in the table. The
    y axis starts near the smallest value, not at zero, so that AUC differences of a few
    thousandths are visible; every bar is labelled with its value.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (model, variant) with columns ``group``, ``hue``, ``value`` and optionally
        ``error``.
    value, error : str
        Columns of the bar heights and of the error bars (``error=None``: no error bars; a
        missing ``auc_std`` column is allowed).
    group, hue : str
        Columns that name the groups and the bars within a group.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default: a new figure.
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
        One bar container per variant in ``ax.containers`` (plus their error bars).
    """
    means, errors = _auc_matrix(table, value, error, group, hue)
    models, variants = list(means.index), list(means.columns)
    fig, ax = figure_and_axes(ax, figsize=(max(5.0, 1.1 + 0.5 * len(models) * len(variants) + 1.0), 4.0))
    width = 0.8 / len(variants)
    x = np.arange(len(models))
    for k, variant in enumerate(variants):
        offset = (k - (len(variants) - 1) / 2) * width
        color = _BASELINE_COLOR if str(variant).lower() == "baseline" else _VARIANT_COLORS[k % len(_VARIANT_COLORS)]
        yerr = errors[variant].to_numpy() if errors is not None else None
        bars = ax.bar(x + offset, means[variant].to_numpy(), width, yerr=yerr, capsize=3,
                      color=color, label=str(variant), error_kw={"elinewidth": 1})
        ax.bar_label(bars, fmt="%.4f", padding=2, fontsize="x-small", rotation=90)
    ax.set_xticks(x, [str(m) for m in models])
    ax.set_ylabel(value)
    ax.set_ylim(*_value_limits(means, errors))
    ax.legend(title=hue, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    hide_top_right(ax)
    if title:
        ax.set_title(title)
    return finish(fig, ax, save, show)


def _global_table(obj: Any, top_k: int, prune: bool, min_frequency: float) -> tuple[pd.DataFrame, int | None]:
    """The rows to draw (``names``, ``frequency``, ...), most frequent first, and N if known."""
    if hasattr(obj, "top") and hasattr(obj, "to_dataframe"):  # GlobalInteractions: what top() returns
        table = obj.to_dataframe(k=top_k, prune=prune, min_frequency=min_frequency)
    else:
        table = obj.to_dataframe() if hasattr(obj, "to_dataframe") else obj
    if not isinstance(table, pd.DataFrame):
        raise InputError("global_or_dataframe: expected GlobalInteractions or a pandas DataFrame, "
                         f"got {type(obj).__name__}")
    if "frequency" not in table.columns or not {"names", "features"} & set(table.columns):
        raise InputError("global_or_dataframe: the table needs a 'frequency' column and a 'names' or "
                         f"'features' column; it has {list(table.columns)}")
    table = table.sort_values("frequency", ascending=False, kind="stable").head(top_k).copy()
    if "names" not in table.columns:
        table["names"] = [" x ".join(str(f) for f in feats) for feats in table["features"]]
    n = getattr(obj, "n_instances", None)
    return table, int(n) if n is not None else _instances_of(table)


def _instances_of(table: pd.DataFrame) -> int | None:
    """N of a table whose rows agree on it (``count / frequency``), else None."""
    if "count" not in table.columns or table.empty or (table["frequency"] <= 0).any():
        return None
    n = np.unique(np.round(table["count"].to_numpy(dtype=float) / table["frequency"].to_numpy(dtype=float)))
    return int(n[0]) if len(n) == 1 else None


def _auc_matrix(
    table: pd.DataFrame, value: str, error: str | None, group: str, hue: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(models x variants) tables of means and errors, in order of first appearance."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in (group, hue, value) if c not in table.columns]
    if missing:
        raise InputError(f"table: missing column(s) {missing}; it has {list(table.columns)}")
    if table.empty:
        raise InputError("table: no rows to plot")
    if table.duplicated([group, hue]).any():
        raise InputError(f"table: several rows for the same ({group}, {hue}); aggregate them first")
    order = {"index": pd.unique(table[group]), "columns": pd.unique(table[hue])}
    means = table.pivot(index=group, columns=hue, values=value).reindex(**order).astype(float)
    if error is None or error not in table.columns:
        return means, None
    return means, table.pivot(index=group, columns=hue, values=error).reindex(**order).astype(float)


def _value_limits(means: pd.DataFrame, errors: pd.DataFrame | None) -> tuple[float, float]:
    err = errors.fillna(0.0).to_numpy() if errors is not None else 0.0
    low = float(np.nanmin(means.to_numpy() - err))
    high = float(np.nanmax(means.to_numpy() + err))
    pad = max(0.35 * (high - low), 0.002)
    return max(0.0, low - pad), high + 1.4 * pad
