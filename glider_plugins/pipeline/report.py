"""PipelineResult: the pipeline's interactions, AUC table and timings, and its files (JSON, CSV, PNG, HTML)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..results import GlobalInteractions
from .report_page import report_page

__all__ = ["RECOMMENDABLE", "PipelineResult", "planted_recovery"]

#: The candidate lists :attr:`PipelineResult.recommended` chooses among, in the order that breaks a
#: tie (the random draws are controls, not a list to use).
RECOMMENDABLE = ("+glider", "+all-pairs", "+fast", "+labels")


def planted_recovery(found: list[tuple[int, ...]], planted: list[tuple[int, ...]]) -> dict[str, float]:
    """How well ``found`` groups match the ``planted`` ones.

    A planted group is *recovered* when some found group of two or more features lies inside it
    (a pair of a planted 3-way group counts: pairwise detectors report its pairs). A found group is
    *false* when it lies inside no planted group.

    Returns
    -------
    dict
        ``recall`` (share of planted groups recovered) and ``false_share`` (share of found groups
        that are false).
    """
    planted_sets = [set(g) for g in planted]
    found_sets = [set(g) for g in found if len(g) >= 2]
    recovered = sum(any(f <= p for f in found_sets) for p in planted_sets)
    false = sum(not any(f <= p for p in planted_sets) for f in found_sets)
    return {"recall": recovered / max(len(planted_sets), 1), "false_share": false / max(len(found_sets), 1)}


@dataclass
class PipelineResult:
    """What :func:`~glider_plugins.pipeline.run_pipeline` found and measured.

    Attributes
    ----------
    interactions : GlobalInteractions
        GLIDER's counts over the explained rows of the source model.
    table : pandas.DataFrame
        One row per (model, variant): ``model, variant, auc_mean, auc_std, logloss_mean,
        logloss_std, n_crosses, n_runs, candidates, select_s``. Models: ``logreg`` (the selection's
        logistic regression on the test rows, no seed) and the target recommenders. Variants:
        ``baseline``, ``+glider`` (GLIDER's candidates, selected), the controls through the same
        selection (``+random``: mean and spread over :attr:`random_draws`; ``+all-pairs``;
        ``+fast``) and ``+oracle`` (planted crosses, synthetic data only); ``candidates``: how many
        each list tried, ``select_s``: seconds to propose and select them (per draw).
    timings : dict of str -> float
        Seconds per step (``prepare, source_fit, export, detect, targets, total``).
    crosses : list of tuple of int
        GLIDER's encoded top-K interactions (feature ids; names via :attr:`feature_names`); the
        crosses to use are :attr:`recommended_crosses` (a control's where it did better on the
        validation rows).
    variants : dict of str -> list of tuple of int
        The feature groups crossed in each fixed variant (``baseline``, ``+glider``, ``+oracle``).
    planted : list of tuple of int, or None
        The planted groups (synthetic data).
    source_metrics : dict
        Test ``auc`` and ``logloss`` of the source model.
    settings : dict
        The run's settings.
    random_draws : list of list of tuple of int
        The feature groups of every ``+random`` draw.
    feature_names : list of str
        The prepared data's fields: names of the feature ids in :attr:`crosses`, :attr:`variants`
        and :attr:`random_draws` (the source model's own ids, in :attr:`interactions`, may differ
        in order).
    selection : CrossSelection or None
        With ``select=True``: GLIDER's candidates checked on the validation rows
        (:func:`~glider_plugins.encoders.selection.select_crosses`); its ``report`` lists every
        candidate, and ``+glider`` holds the crosses it kept (none, when no cross paid off).
    selections : dict of str -> list of CrossSelection
        Every variant's selections (one per ``+random`` draw), GLIDER's included.
    cross_values : pandas.DataFrame or None
        With ``ranking="cross-value"``: every group valued for ``+glider``, highest first
        (:func:`~glider_plugins.encoders.cross_value.cross_values`' columns; ``cross_values.csv``);
        with ``"source-and-labels"`` the pairs valued on the labels follow, a column ``on`` saying
        which (``"scores"`` or ``"labels"``).
    """

    interactions: GlobalInteractions
    table: pd.DataFrame
    timings: dict[str, float]
    crosses: list[tuple[int, ...]]
    variants: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)
    planted: list[tuple[int, ...]] | None = None
    source_metrics: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    selection: Any = None
    random_draws: list[list[tuple[int, ...]]] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    selections: dict[str, list[Any]] = field(default_factory=dict)
    cross_values: Any = None

    def recovery(self) -> dict[str, float] | None:
        """:func:`planted_recovery` of the top-K against the planted groups (None without them)."""
        return None if not self.planted else planted_recovery(self.crosses, self.planted)

    @property
    def recommended(self) -> str | None:
        """The candidate list whose kept crosses to use: of :data:`RECOMMENDABLE` run here, the one
        whose selection reached the lowest held-out log loss (validation rows: the test rows are
        not looked at; a tie goes to the first). GLIDER's interactions stay the source model's
        explanation (:attr:`interactions`) whichever wins. ``None`` without a selection."""
        losses = self.validation_loglosses()
        return min(losses, key=lambda variant: (losses[variant], RECOMMENDABLE.index(variant))) if losses else None

    @property
    def recommended_crosses(self) -> list[tuple[int, ...]]:
        """The crosses :attr:`recommended` kept (feature ids; names via :attr:`feature_names`);
        without a selection, :attr:`crosses`."""
        chosen = self.recommended
        return list(self.variants[chosen]) if chosen is not None else list(self.crosses)

    def recommendation_reasons(self) -> str:
        """Each list's held-out log loss after the selection, as text (``"+glider 0.01326, +fast 0.01403"``)."""
        return ", ".join(f"{variant} {loss:.5f}" for variant, loss in self.validation_loglosses().items())

    def validation_loglosses(self) -> dict[str, float]:
        """The held-out log loss each candidate list of :data:`RECOMMENDABLE` reached with its kept
        crosses (its selection's ``final_logloss``), by variant."""
        return {variant: float(found[0].final_logloss) for variant, found in self.selections.items()
                if variant in RECOMMENDABLE and found and found[0] is not None}

    def gains(self) -> pd.DataFrame:
        """AUC gain of every variant over the baseline, per model (columns: variants)."""
        means = self.table.pivot(index="model", columns="variant", values="auc_mean")
        return means.sub(means["baseline"], axis=0).drop(columns="baseline")

    def format_table(self, digits: int = 4) -> str:
        """The table as Markdown-style text: ``AUC mean +- std`` and ``log loss mean +- std``."""
        lines = ["| model | variant | test AUC | test log loss | candidates tried | selection s |", "|---|---|---|---|---|---|"]
        for row in self.table.itertuples():
            loss = "—" if pd.isna(row.logloss_mean) else f"{row.logloss_mean:.{digits}f} ± {row.logloss_std:.{digits}f}"
            tried = getattr(row, "candidates", 0) or "—"
            seconds = f"{row.select_s:.0f}" if getattr(row, "select_s", 0) else "—"
            lines.append(f"| {row.model} | {row.variant} | {row.auc_mean:.{digits}f} ± {row.auc_std:.{digits}f} | {loss} | {tried} | {seconds} |")
        return "\n".join(lines)

    def cross_names(self) -> dict[str, list[str]]:
        """Each variant's crosses by feature name (``"a x b"``); ``+random``'s as ``"draw j: a x b"``."""
        names = self.feature_names or list(self.interactions.feature_names)

        def named(group: tuple[int, ...]) -> str:
            return " x ".join(names[i] for i in group)

        out = {v: [named(g) for g in groups] for v, groups in self.variants.items()}
        if self.random_draws:
            out["+random"] = [f"draw {j + 1}: {named(g)}" for j, draw in enumerate(self.random_draws) for g in draw]
        return out

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``interactions.json``, ``results.csv``, ``summary.json``, ``auc.png``, ``interactions.png``
        and ``report.html`` (embedding both pictures) into the folder ``out``, with ``selection.csv``
        and ``cross_values.csv`` where there are selections and cross values; returns the paths."""
        import matplotlib.pyplot as plt  # the backend is the application's (CLI, notebook, MPLBACKEND)

        from ..visualization._common import save_figure
        from ..visualization.glider import plot_auc_table

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {name: folder / name for name in ("interactions.json", "results.csv", "summary.json", "auc.png", "interactions.png", "report.html")}
        self.interactions.to_json(paths["interactions.json"], indent=1)
        self.table.to_csv(paths["results.csv"], index=False)
        paths["summary.json"].write_text(json.dumps(self._summary(), indent=1, default=str))
        for key, draw in (("auc.png", lambda: plot_auc_table(self.table)), ("interactions.png", self._interactions_figure)):
            figure, _ = draw()  # a pyplot figure: closed once written (or when writing fails)
            try:
                save_figure(figure, paths[key], dpi=110, bbox_inches="tight")
            finally:
                plt.close(figure)
        reports = [s.report.assign(variant=v, draw=j) for v, ss in self.selections.items() for j, s in enumerate(ss) if s is not None]
        if reports:
            paths["selection.csv"] = folder / "selection.csv"
            pd.concat(reports, ignore_index=True).to_csv(paths["selection.csv"], index=False)
        if self.cross_values is not None:
            paths["cross_values.csv"] = folder / "cross_values.csv"
            self.cross_values.to_csv(paths["cross_values.csv"], index=False)
        paths["report.html"].write_text(report_page(self, paths), encoding="utf-8")
        return paths

    def _interactions_figure(self) -> Any:
        """GLIDER's candidates with the kept ones highlighted (with a selection), else the crosses."""
        from ..visualization.glider import plot_global_interactions

        if self.selection is None:
            return plot_global_interactions(self.interactions, top_k=max(len(self.crosses), 1))
        own = {name: i for i, name in enumerate(self.interactions.feature_names)}  # the source model's ids
        names = self.feature_names or list(self.interactions.feature_names)
        kept = [tuple(own[names[i]] for i in group) for group in self.crosses]
        # top(k) of what the selection tried: the plot draws exactly those sets
        return plot_global_interactions(self.interactions, top_k=max(len(self.selection.report), 1), highlight=kept,
                                        title=f"GLIDER's candidates ({self.interactions.n_instances} instances), the kept crosses highlighted")

    def _summary(self) -> dict[str, Any]:
        summary = {"settings": self.settings, "timings": self.timings, "source_metrics": self.source_metrics, "crosses": self.cross_names(), "recovery": self.recovery()}
        if self.selection is not None:
            summary["selection"] = {"text": str(self.selection), "base_logloss": self.selection.base_logloss,
                                    "final_logloss": self.selection.final_logloss, "kept": [list(k) for k in self.selection.kept]}
        summary["selections"] = {v: [str(s) for s in ss if s is not None] for v, ss in self.selections.items()}
        chosen = self.recommended
        if chosen is not None:
            summary["recommended"] = {"variant": chosen, "crosses": self.cross_names()[chosen], "validation_logloss": self.validation_loglosses()}
        return summary
