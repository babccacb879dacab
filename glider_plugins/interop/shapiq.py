"""Results as shapiq ``InteractionValues``: signed pure effects (Moebius coefficients) in output units.

Around an instance the model is a set function ``v(T)`` with pure effects ``m(S)``,
``v(T) = sum_{S subset of T} m(S)`` (:mod:`glider_plugins.reference`). shapiq calls these the
Moebius interactions (index ``"Moebius"``): the conversions here give an
``shapiq.InteractionValues`` with ``index="Moebius"``, ``min_order=0``, the empty set's value
``m({})`` (the model's output with every feature off) as ``baseline_value``, every feature's
``m({i})`` and each estimated set's signed ``m(S)``. shapiq's ``MoebiusConverter`` turns them into
Shapley values and interactions (``"SV"``, ``"k-SII"``, ``"STII"``, ``"FSII"``, ...).

shapiq is imported only here, when a conversion is asked for.

>>> iv = result[0].to_shapiq()                       # doctest: +SKIP
>>> iv[(0, 1)]                                       # the signed pure effect of the pair
>>> shapiq.game_theory.moebius_converter.MoebiusConverter(iv)("k-SII", order=2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_instance
from ..errors import InputError
from ..set_functions import all_masks, pair_mass

if TYPE_CHECKING:
    from shapiq import InteractionValues

    from ..reference.exact import ExactInteractions
    from ..results import LocalInteractions

__all__ = ["check_instance", "exact_to_shapiq", "index_to_shapiq", "local_index_to_shapiq", "local_to_shapiq", "moebius_values", "pair_strengths", "shapiq_players"]

#: The detectors whose results carry signed pure effects (``"nid"`` only with ``refit=True``).
SIGNED_DETECTORS = ("moebius", "archdetect", "auto", "nid (refit=True)")


def _shapiq() -> Any:
    try:
        import shapiq
    except ImportError as exc:
        raise ImportError("to_shapiq() needs shapiq: pip install shapiq (or glider-plugins[dev])") from exc
    return shapiq


def moebius_values(
    effects: Iterable[tuple[tuple[int, ...], float]],
    *,
    n_players: int,
    baseline_value: float,
    estimated: bool = True,
    estimation_budget: int | None = None,
) -> InteractionValues:
    """Pure effects as a shapiq ``InteractionValues`` of index ``"Moebius"``.

    Parameters
    ----------
    effects : iterable of (tuple of int, float)
        Signed ``m(S)`` of non-empty sets of players 0..n_players-1 (sets not given are 0).
    n_players : int
    baseline_value : float
        ``m({})``: the value of the empty coalition.
    estimated : bool, default True
        Whether the values are estimates (a detector) or exact (the enumeration).
    estimation_budget : int, optional
        Coalitions evaluated.

    Returns
    -------
    shapiq.InteractionValues
    """
    shapiq = _shapiq()
    values: dict[tuple[int, ...], float] = {(): float(baseline_value)}
    for members, value in effects:
        values[tuple(sorted(int(i) for i in members))] = float(value)
    # the lookup of the sets given: without one, shapiq enumerates every set of up to max_order
    # players first (at 300 players and sets of four, 330 million: out of memory)
    lookup = {members: position for position, members in enumerate(values)}
    return shapiq.InteractionValues(
        np.fromiter(values.values(), dtype=np.float64, count=len(values)),
        interaction_lookup=lookup,
        index="Moebius",
        max_order=max(1, max(len(s) for s in values)),
        min_order=0,
        n_players=int(n_players),
        estimated=bool(estimated),
        estimation_budget=None if estimation_budget is None else int(estimation_budget),
        baseline_value=float(baseline_value),
    )


def local_to_shapiq(local: LocalInteractions, reported_only: bool = False) -> InteractionValues:
    """One instance's pure effects (:meth:`LocalInteractions.to_shapiq <glider_plugins.results.LocalInteractions.to_shapiq>`).

    Parameters
    ----------
    local : LocalInteractions
    reported_only : bool, default False
        ``False``: every set the detector estimated (``local.signed_values``); ``True``: only the
        sets in ``local.interactions`` (the reported ranking, after ``top_k``).

    Raises
    ------
    InputError
        When the result holds no signed pure effects (NID with ``refit=False`` ranks by network
        weights). An instance whose output did not change under any perturbation converts as the
        constant game it is: ``m({})`` the output, every other value 0.
    """
    detector = local.metadata.get("detector")
    if local.signed_values is None or local.baseline_value is None:
        raise InputError(
            f"to_shapiq(): the strengths of detector {detector!r} are not signed pure effects (NID with refit=False "
            f"ranks by network weights), so they have no shapiq index; use one of {list(SIGNED_DETECTORS)}, e.g. "
            "detector='moebius'"
        )
    if reported_only:
        effects = [(s, local.signed_values[s]) for s, _ in local.interactions]
    else:
        effects = list(local.signed_values.items())
    players = shapiq_players(local)
    singles = [((i,), float(v)) for i, v in enumerate(local.main_effects[:players])]
    effects = [(s, v) for s, v in effects if _among(s, players)]
    n_queries = local.metadata.get("n_queries")
    return moebius_values(
        singles + effects,
        n_players=players,
        baseline_value=local.baseline_value,
        estimated=True,
        estimation_budget=None if n_queries is None else int(n_queries),
    )


def local_index_to_shapiq(local: LocalInteractions, index: str) -> InteractionValues:
    """One instance's order-2 ``index`` (``"BII"``, ``"k-SII"``; :meth:`LocalInteractions.index_values
    <glider_plugins.results.LocalInteractions.index_values>`) as :func:`index_to_shapiq` lays it
    out, on the instance's own players (:func:`shapiq_players`)."""
    players = shapiq_players(local)
    values = {s: v for s, v in local.index_values(index).items() if _among(s, players)}
    n_queries = local.metadata.get("n_queries")
    return index_to_shapiq(values, players, index, baseline_value=local.baseline_value,
                           estimation_budget=None if n_queries is None else int(n_queries))


def _among(members: tuple[int, ...], players: int) -> bool:
    return all(f < players for f in members)


def shapiq_players(local: LocalInteractions) -> int:
    """The players of an instance's shapiq values: ``p`` less the features its own mask left
    without elements when they are the last ones (as :func:`~glider_plugins.features.superpixel_mask`
    numbers each image's superpixels 0..k-1); ``p`` when they are not."""
    present = local.present_features
    return len(present) if present == list(range(len(present))) else local.n_features


def exact_to_shapiq(exact: ExactInteractions, instance: int) -> InteractionValues:
    """The exact pure effects of one instance (every non-zero ``m(S)``), ``estimated=False``.

    Raises
    ------
    InputError
        When ``instance`` is not one of the ``len(exact)`` instances.
    """
    check_instance(instance, len(exact))
    row = exact.moebius[int(instance)]
    members = all_masks(exact.n_features)
    effects = [(tuple(np.flatnonzero(members[s]).tolist()), float(row[s])) for s in np.flatnonzero(row) if s != 0]
    return moebius_values(
        effects,
        n_players=exact.n_features,
        baseline_value=float(row[0]),
        estimated=False,
        estimation_budget=2**exact.n_features,
    )


def pair_strengths(values: InteractionValues | Mapping[tuple[int, ...], float], n_players: int | None = None) -> np.ndarray:
    """Each pair's interaction mass ``sum |value(S)|`` over the sets of two or more players holding
    it, (n, n) symmetric with a zero diagonal: the detectors' ``pairwise()`` for Moebius values,
    ``|value({i, j})|`` for pair-only indices (k-SII, FBII of order 2).

    Parameters
    ----------
    values : shapiq.InteractionValues or mapping set -> value
    n_players : int, optional
        Needed for a plain mapping.
    """
    if n_players is None:
        n_players = int(values.n_players)  # type: ignore[union-attr]
    items = values.dict_values if hasattr(values, "dict_values") else values
    sets = [(members, value) for members, value in items.items() if len(members) >= 2]
    return pair_mass(n_players, [m for m, _ in sets], np.array([v for _, v in sets], dtype=np.float64))


def index_to_shapiq(
    values: Mapping[tuple[int, ...], float],
    n_players: int,
    index: str,
    *,
    baseline_value: float | None,
    estimated: bool = True,
    estimation_budget: int | None = None,
) -> InteractionValues:
    """Values of an order-2 index (``"BII"``, ``"k-SII"``) of the empty set, the players and the
    pairs as a shapiq ``InteractionValues``, laid out as shapiq's ``ExactComputer`` lays them out
    (``min_order=0``, ``max_order=2``; ``baseline_value`` the game's value with every player off).

    Parameters
    ----------
    values : mapping tuple of int -> float
        :func:`glider_plugins.set_functions.index_values`.
    n_players : int
    index : {"BII", "k-SII"}
    baseline_value : float or None
        ``v({})``; ``None``: the value of the empty set in ``values``.
    estimated : bool, default True
    estimation_budget : int, optional
    """
    shapiq = _shapiq()
    table = {tuple(sorted(int(i) for i in members)): float(v) for members, v in values.items()}
    baseline = table.get((), 0.0) if baseline_value is None else float(baseline_value)
    return shapiq.InteractionValues(
        table,
        index=str(index),
        max_order=2,
        min_order=0,
        n_players=int(n_players),
        estimated=bool(estimated),
        estimation_budget=None if estimation_budget is None else int(estimation_budget),
        baseline_value=baseline,
    )
