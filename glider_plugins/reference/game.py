"""One instance's set function as a callable game: what any game-theoretic explainer (shapiq's
approximators, say) can query on the same terms as this library's detectors.

``game(coalitions)`` scores masks (``True``: the feature takes the instance's value, ``False``: its
baseline's) through the same formatting, adapter and perturbation scheme as
:meth:`InteractionAttribution.attribute_interactions <glider_plugins.InteractionAttribution.attribute_interactions>`
and :func:`~glider_plugins.reference.exact_interactions`; with a ``Background`` every coalition is
scored once per background row and averaged, as the exact reference does. A peer compared with a
detector then answers the same game, query for query.

>>> game = MaskGame(model, x[:1], baselines=b, feature_mask=mask)      # doctest: +SKIP
>>> shapiq.KernelSHAPIQ(n=game.n_features, max_order=2, index="k-SII").approximate(1000, game)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..adapters.base import TargetType
from ..adapters.dispatch import adapt
from ..errors import InputError
from ..explain.formatting import build_layout, format_extra, format_target
from ..explain.querying import QueryPlan, probe_instances, query_masks
from ..explain.reproducibility import query_rows
from .exact import fixed_baselines

__all__ = ["MaskGame"]


class MaskGame:
    """The set function of one instance: ``game(coalitions)`` -> scores.

    Parameters
    ----------
    forward_func : model
    inputs : array-like or tensor, shape (1, ...)
        One instance (a batch of one).
    baselines, target, additional_forward_args, feature_mask, perturbation, n_background
        As for :func:`~glider_plugins.reference.exact_interactions`.
    **adapter_options

    Attributes
    ----------
    n_features : int
    n_queries : int
        Model rows answered so far (coalitions times background rows).
    """

    def __init__(self, forward_func: Any, inputs: Any, baselines: Any = None, target: TargetType = None,
                 additional_forward_args: Any = None, feature_mask: Any = None, perturbation: Any = "binary",
                 n_background: int | None = None, **adapter_options: Any) -> None:
        from ..plugins import make_perturbation

        scheme = make_perturbation(perturbation)
        layout, _ = build_layout(inputs, baselines, feature_mask, None)
        if layout.n_instances != 1:
            raise InputError(f"inputs: a game is one instance, got {layout.n_instances}; pass x[i:i + 1]")
        if getattr(scheme, "deterministic", True) is False:
            raise InputError(f"perturbation: a game needs a deterministic scheme, {scheme!r} draws at random")
        adapter = adapt(forward_func, **adapter_options)
        extra = format_extra(additional_forward_args, 1)
        chosen = format_target(target, 1)
        rows, per_call = query_rows(layout, None)
        self._plans = [QueryPlan(adapter, fixed, scheme, chosen, extra, rows, per_call) for fixed in fixed_baselines(layout, n_background)]
        self._unperturbed = [probe_instances(plan) for plan in self._plans]
        self.n_features = int(layout.n_features)
        self.n_queries = 0

    def __call__(self, coalitions: Any) -> np.ndarray:
        """Scores of ``coalitions`` (bool, shape (n, p) or (p,)), averaged over the background rows;
        shape (n,) (a float for one coalition)."""
        masks = np.asarray(coalitions, dtype=bool)
        single = masks.ndim == 1
        masks = np.atleast_2d(masks)
        if masks.shape[1] != self.n_features:
            raise InputError(f"coalitions: expected {self.n_features} players per row, got {masks.shape[1]}")
        seeds = [np.random.SeedSequence(0)]  # nothing is drawn: the scheme is deterministic
        total = np.zeros(len(masks))
        for plan, unperturbed in zip(self._plans, self._unperturbed, strict=True):
            scores, stats = query_masks(plan, np.ascontiguousarray(masks[None]), seeds, unperturbed=unperturbed, dedupe=False)
            total += scores[0]
            self.n_queries += int(stats["n_queries"])
        values = total / len(self._plans)
        return float(values[0]) if single else values
