"""GLIDER pictures: global interactions by frequency, and the AUC table as grouped bars."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from glider_plugins.errors import InputError

from ._common import STRENGTH_COLOR, check_top_k, figure_and_axes, finish

#: Bars of highlighted (kept) interactions.
KEPT_COLOR = "#e6550d"

__all__ = ["plot_auc_table", "plot_global_interactions"]

_BASELINE_COLOR = "#9e9e9e"
_VARIANT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def plot_global_interactions(
    global_or_dataframe: Any,
    top_k: int = 20,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | os.PathLike | None = None,
    highlight: Any = None,
) -> Figure:
    """The ``top_k`` interactions GLIDER found most often, as a ranked horizontal bar chart.

    Parameters
    ----------
    global_or_dataframe : GlobalInteractions or pandas.DataFrame
        Anything with ``to_dataframe()`` (``GlobalInteractions``), or its table: a column
        ``frequency`` (share of instances where the interaction was found), a label column
        ``names`` (or ``features``, tuples of ids), optionally ``count``.
    top_k : int, default 20
        Number of interactions to draw (>= 1).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default: a new figure.
    title : str, optional
        Default: "Most frequent interactions (GLIDER, N instances)".
    save : path, optional
        Also write the figure there (see :func:`save_figure`).
    highlight : sequence of tuples of int, optional
        Interactions (feature ids) drawn in a second colour and named in a legend, e.g. the crosses
        a selection kept (``label`` "kept"); needs the table's ``features`` column.

    Returns
    -------
    matplotlib.figure.Figure
        ``ax.patches`` are the bars, most frequent on top; each is labelled with its count when
        the table has one.
    """
    top_k = check_top_k(top_k)
    table, n_instances = _global_table(global_or_dataframe)
    top = table.sort_values("frequency", ascending=False, kind="stable").head(top_k)
    fig, ax = figure_and_axes(ax, figsize=(7.0, 1.2 + 0.32 * max(len(top), 1)))
    rows = np.arange(len(top))
    marked = {tuple(sorted(int(i) for i in h)) for h in (highlight or [])}
    if marked and "features" not in top.columns:
        raise InputError("highlight: needs the interactions' feature ids (a GlobalInteractions or a table with 'features')")
    kept = [tuple(sorted(f)) in marked for f in top["features"]] if marked else [False] * len(top)
    colours = [KEPT_COLOR if k else STRENGTH_COLOR for k in kept]
    bars = ax.barh(rows, top["frequency"].to_numpy(dtype=float), color=colours, height=0.7)
    if any(kept):
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=KEPT_COLOR, label="kept"), Patch(color=STRENGTH_COLOR, label="not kept")],
                  loc="lower right", fontsize="small", frameon=False)
    if "count" in top.columns:
        ax.bar_label(bars, labels=[str(int(c)) for c in top["count"]], padding=3, fontsize="small")
    ax.set_yticks(rows, [str(n) for n in top["names"]])
    ax.invert_yaxis()
    ax.margins(x=0.1)
    ax.set_xlabel("frequency (share of explained instances)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not len(top):
        ax.text(0.5, 0.5, "no interactions found", ha="center", va="center", transform=ax.transAxes)
    suffix = f", {n_instances} instances" if n_instances else ""
    ax.set_title(title if title is not None else f"Most frequent interactions (GLIDER{suffix})")
    return finish(fig, save)


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
) -> Figure:
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

    Returns
    -------
    matplotlib.figure.Figure
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
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return finish(fig, save)


def _global_table(obj: Any) -> tuple[pd.DataFrame, int | None]:
    """The global interactions as a table with ``names`` and ``frequency``, and N if known."""
    table = obj.to_dataframe() if hasattr(obj, "to_dataframe") else obj
    if not isinstance(table, pd.DataFrame):
        raise InputError("global_or_dataframe: expected GlobalInteractions or a pandas DataFrame, "
                         f"got {type(obj).__name__}")
    if "frequency" not in table.columns or not {"names", "features"} & set(table.columns):
        raise InputError("global_or_dataframe: the table needs a 'frequency' column and a 'names' or "
                         f"'features' column; it has {list(table.columns)}")
    table = table.copy()
    if "names" not in table.columns:
        table["names"] = [" x ".join(str(f) for f in feats) for feats in table["features"]]
    n = getattr(obj, "n_instances", None)
    return table, int(n) if n is not None else None


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
