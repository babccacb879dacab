"""Every pure interaction of an instance, exactly: all 2**p masks queried, then the Moebius transform.

Around one instance ``x`` with baseline ``x'``, the model defines a set function on the
interpretable features, ``v(T) = f(x_T, x'_rest)`` (features in ``T`` take the instance's values,
the others the baseline's). Its Moebius transform::

    m(S) = sum_{T subset of S} (-1)**(|S| - |T|) v(T)

is the *pure effect* of the set ``S``: what ``S`` adds beyond all its subsets, in output units.
The ``m`` add up to the model, ``v(T) = sum_{S subset of T} m(S)``: ``m({})`` is the baseline's
score, ``m({i})`` what feature ``i`` does alone, ``m({i, j})`` the pair's interaction, and so on.
With a background data set, ``v`` is averaged over background rows (each row one baseline), and so
is ``m`` (the transform is linear).

Reference strengths, the definitions the detectors are measured against:

* a set's own strength is ``|m(S)|``;
* a pair's strength is ``sum |m(S)|`` over every set ``S`` that holds both its features (its
  interaction mass, at any order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_instance, check_int
from ..adapters.base import TargetType
from ..adapters.dispatch import adapt
from ..errors import InputError
from ..explain.formatting import build_layout, format_extra, format_target
from ..explain.querying import QueryPlan, probe_instances, query_masks
from ..explain.reproducibility import query_rows
from ..layout import FeatureLayout
from ..set_functions import (
    all_masks,
    check_index,
    exact_index_values,
    exact_pair_index,
    moebius_transform,
    walsh_transform,
)

__all__ = ["MAX_FEATURES", "ExactInteractions", "all_masks", "exact_interactions", "moebius_transform"]

#: Enumeration queries 2**p masks per instance (and background row); more features are refused.
MAX_FEATURES = 16

#: :func:`exact_interactions` sets pure effects below this share of an instance's largest absolute
#: score to zero: float64 rounding of the 2**p-term sums, not interactions.
NOISE_RTOL = 1e-10


@dataclass
class ExactInteractions:
    """The exact pure effects of N instances.

    Attributes
    ----------
    moebius : numpy.ndarray, shape (N, 2**p)
        ``m(S)`` in output units, in subset-bitmask order (:func:`all_masks`); rounding noise
        (below :data:`NOISE_RTOL` of the instance's largest absolute score) is zero.
    values : numpy.ndarray, shape (N, 2**p)
        The (background-averaged) scores ``v(T)`` of every mask.
    feature_names : list of str
    metadata : dict
        ``n_queries`` (model rows answered), ``n_background`` (background rows averaged, 0 for
        fixed baselines).
    """

    moebius: np.ndarray
    values: np.ndarray
    feature_names: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.moebius.shape[1]).bit_length() - 1

    def __len__(self) -> int:
        return int(self.moebius.shape[0])

    def main_effects(self) -> np.ndarray:
        """``m({i})``, shape (N, p): what each feature does alone (switched on from its baseline)."""
        return self.moebius[:, 2 ** np.arange(self.n_features)]

    def pairwise(self, index: str = "Moebius") -> np.ndarray:
        """Every pair's exact index, shape (N, p, p), symmetric, zero diagonal.

        ``"Moebius"``: the pair mass ``sum |m(S)|`` over the sets holding both features; ``"BII"``:
        the signed Banzhaf interaction ``sum_{R containing i, j} 2**-(|R| - 2) m(R)``; ``"k-SII"``:
        the signed Shapley interaction ``sum_{R containing i, j} m(R) / (|R| - 1)``
        (:func:`glider_plugins.set_functions.exact_pair_index`).
        """
        if check_index(index) == "Moebius":
            members = all_masks(self.n_features).astype(np.float64)  # (2**p, p)
            weighted = np.abs(self.moebius)[:, :, None] * members[None]  # (N, 2**p, p)
            out = np.einsum("nsi,sj->nij", weighted, members)
            idx = np.arange(self.n_features)
            out[:, idx, idx] = 0.0
            return out
        return exact_pair_index(self.moebius, index)

    def index_values(self, instance: int, index: str) -> dict[tuple[int, ...], float]:
        """One instance's exact ``"BII"`` or ``"k-SII"`` of the empty set, every feature and every
        pair (:func:`glider_plugins.set_functions.exact_index_values`)."""
        check_instance(instance, len(self))
        return exact_index_values(self.moebius[int(instance)], index)

    def walsh(self) -> np.ndarray:
        """The Fourier (Walsh) coefficients of every instance's game under uniform masks, shape
        (N, 2**p) (:func:`glider_plugins.set_functions.walsh_transform`)."""
        return walsh_transform(self.values)

    def walsh_energy(self, order: int) -> np.ndarray:
        """Per instance, the share of the variance of the scores over all masks held by the Fourier
        terms of 1..``order`` features, shape (N,): the R^2 over all masks of the best surrogate of
        that order (the ceiling of any detector's surrogate of that order)."""
        check_int("order", order, 1)
        power = self.walsh() ** 2
        sizes = all_masks(self.n_features).sum(axis=1)
        total = power[:, sizes >= 1].sum(axis=1)
        low = power[:, (sizes >= 1) & (sizes <= order)].sum(axis=1)
        return np.divide(low, total, out=np.ones(len(self)), where=total > 0)

    def set_strength(self, instance: int, features: Sequence[int]) -> float:
        """``|m(S)|`` of one set ``S`` for one instance."""
        bits = sum(1 << int(i) for i in set(features))
        return float(abs(self.moebius[instance, bits]))

    def top(self, instance: int, k: int | None = None, min_order: int = 2) -> list[tuple[tuple[int, ...], float]]:
        """The sets of ``min_order`` or more features with the largest ``|m(S)|``, strongest first
        (ties: smaller sets, then ids), as ``(feature_ids, |m(S)|)``."""
        check_int("min_order", min_order, 1)
        strength = np.abs(self.moebius[instance])
        sizes = all_masks(self.n_features).sum(axis=1)
        rows = np.flatnonzero((sizes >= min_order) & (strength > 0))
        order = rows[np.lexsort((rows, sizes[rows], -strength[rows]))]
        if k is not None:
            order = order[:k]
        return [(_members(int(s)), float(strength[s])) for s in order]

    def to_shapiq(self, instance: int, index: str = "Moebius") -> Any:
        """Instance ``instance``'s exact values as ``shapiq.InteractionValues``, ``estimated=False``.

        ``index="Moebius"``: every non-zero ``m(S)``, ``baseline_value`` ``m({})``
        (:func:`glider_plugins.interop.shapiq.exact_to_shapiq`); ``"BII"`` or ``"k-SII"``: that
        index of order 2 (:meth:`index_values`). Compare with a detector's
        :meth:`LocalInteractions.to_shapiq <glider_plugins.results.LocalInteractions.to_shapiq>`."""
        from ..interop.shapiq import exact_to_shapiq, index_to_shapiq

        if check_index(index) == "Moebius":
            return exact_to_shapiq(self, instance)
        return index_to_shapiq(self.index_values(instance, index), self.n_features, index,
                               baseline_value=float(self.moebius[int(instance), 0]), estimated=False,
                               estimation_budget=2**self.n_features)

    def share_of_order(self, min_order: int) -> np.ndarray:
        """Per instance, the share of the total interaction mass ``sum_{|S|>=2} |m(S)|`` held by
        sets of ``min_order`` or more features, shape (N,)."""
        sizes = all_masks(self.n_features).sum(axis=1)
        mass = np.abs(self.moebius)
        total = mass[:, sizes >= 2].sum(axis=1)
        return np.divide(mass[:, sizes >= min_order].sum(axis=1), total, out=np.zeros(len(self)), where=total > 0)


def _members(bits: int) -> tuple[int, ...]:
    return tuple(i for i in range(bits.bit_length()) if bits >> i & 1)


def exact_interactions(
    forward_func: Any,
    inputs: Any,
    baselines: Any = None,
    target: TargetType = None,
    additional_forward_args: Any = None,
    feature_mask: Any = None,
    perturbation: Any = "binary",
    feature_names: Sequence[str] | None = None,
    n_background: int | None = None,
    perturbations_per_eval: int | None = None,
    show_progress: bool = False,
    **adapter_options: Any,
) -> ExactInteractions:
    """Query every mask of every instance and take the Moebius transform: the exact pure effects.

    The arguments mean what they mean for :meth:`InteractionAttribution.attribute_interactions` (the same
    formatting, adapters and perturbation schemes), so a detector's result and this reference
    describe the same set function.

    Parameters
    ----------
    forward_func : model
        Anything :func:`~glider_plugins.adapters.adapt` accepts.
    inputs, baselines, target, additional_forward_args, feature_mask, feature_names
        As for :meth:`InteractionAttribution.attribute_interactions`. With ``baselines=Background(data)``, every
        mask is scored once per background row (that row as the baseline) and the scores are
        averaged.
    perturbation : str or PerturbationScheme, default "binary"
        How an "off" feature is realised; it must be deterministic (no random draws per row).
    n_background : int, optional
        With a background: use its first ``n_background`` rows (default: all).
    perturbations_per_eval : int, optional
        Rows per model call.
    show_progress : bool, default False
    **adapter_options
        Passed to :func:`~glider_plugins.adapters.adapt` (``batch_size``, ``output``, ...).

    Returns
    -------
    ExactInteractions

    Raises
    ------
    InputError
        For more than :data:`MAX_FEATURES` features, or a scheme that draws at random.
    """
    from ..plugins import make_perturbation

    scheme = make_perturbation(perturbation)
    layout, _ = build_layout(inputs, baselines, feature_mask, feature_names)
    p = layout.n_features
    if p > MAX_FEATURES:
        raise InputError(
            f"feature_mask: exact enumeration needs at most {MAX_FEATURES} interpretable features (2**p queries "
            f"per instance), got {p}; group features with feature_mask"
        )
    if getattr(scheme, "deterministic", True) is False:
        raise InputError(f"perturbation: exact enumeration needs a deterministic scheme, {scheme!r} draws at random")
    check_int("n_background", n_background, allow_none=True)
    rows, per_call = query_rows(layout, perturbations_per_eval)
    extra = format_extra(additional_forward_args, layout.n_instances)
    target = format_target(target, layout.n_instances)
    adapter = adapt(forward_func, **adapter_options)
    masks = np.broadcast_to(all_masks(p)[None], (layout.n_instances, 2**p, p))
    seeds = [np.random.SeedSequence(0) for _ in range(layout.n_instances)]  # nothing is drawn
    values = np.zeros((layout.n_instances, 2**p))
    layouts = list(fixed_baselines(layout, n_background))
    n_queries = 0
    for fixed in layouts:
        plan = QueryPlan(adapter, fixed, scheme, target, extra, rows, per_call)
        scores, stats = query_masks(
            plan, np.ascontiguousarray(masks), seeds, unperturbed=probe_instances(plan), show_progress=show_progress, dedupe=False
        )
        values += scores
        n_queries += int(stats["n_queries"])
    values /= len(layouts)
    moebius = moebius_transform(values)
    moebius[np.abs(moebius) <= NOISE_RTOL * np.abs(values).max(axis=1, keepdims=True)] = 0.0
    return ExactInteractions(
        moebius=moebius,
        values=values,
        feature_names=list(layout.feature_names or [f"x{i}" for i in range(p)]),
        metadata={"n_queries": n_queries, "n_background": 0 if layout.background is None else len(layouts)},
    )


def fixed_baselines(layout: FeatureLayout, n_background: int | None) -> Sequence[FeatureLayout]:
    """The layout itself for fixed baselines; with a background, one layout per background row,
    that row as every instance's baseline."""
    if layout.background is None:
        return [layout]
    count = layout.background[0].shape[0] if n_background is None else min(n_background, layout.background[0].shape[0])
    return [layout.with_background_row(r) for r in range(count)]
