"""ArchDetect (Tsang et al., NeurIPS 2020, "How does this interaction affect me?"): training-free
interactions, read as pure effects.

In the binary mask space, the instance is ``x* = 1`` (all features on) and the baseline ``x' = 0``
(all off). Around them the model is a set function ``v(T)`` with pure effects (Moebius
coefficients) ``m(S)``, ``v(T) = sum_{S subset of T} m(S)`` (see :mod:`glider_plugins.reference`).
For a pair ``(i, j)`` and a context ``c`` for the other features, the discrete mixed difference is::

    omega(c) = f(c; i on, j on) - f(c; i on, j off) - f(c; i off, j on) + f(c; i off, j off)

ArchDetect evaluates it in the two contexts ``c = x'`` (rest off) and ``c = x*`` (rest on), and
the single-feature differences likewise. In pure effects these are exactly::

    f(x' with i on) - f(x')  = m({i})                              (main effect)
    omega(x')                = m({i, j})                            (the pair's pure effect)
    omega(x*) - omega(x')    = sum_{S strictly containing {i, j}} m(S)   (the pair's excess)

so main effects and pair effects are exact, and every set of three or more features leaves the
same excess on each of its pairs. Sets are read off the excesses by matching pursuit: candidates
are the cliques of pairs with a strong excess; the candidate that explains most of what is left
of the excesses is taken when *each* of its pairs supports it (the excess left on every pair has
its sign and at least half its size: a set confirmed pair by pair, not merged from strong pairs),
then all taken sets are refitted by least squares and the next is sought. A set's strength is
``|m(S)|`` as fitted, on the same scale as the pairs' ``|m({i, j})|``; strong pairs that merely
overlap leave no excess and form no set.

``pairwise_strengths`` is each pair's interaction mass, ``|m({i, j})|`` plus the ``|m(S)|`` of the
sets found through it plus what no set explains of its excess: the reference's ``sum |m(S)|``
over the sets that hold the pair, as far as two contexts show it.

With ``baselines=Background(data)``, the design is queried once per background row (up to
``background_rows`` rows; each row the baseline of all queries of that pass) and the outputs are
averaged, so the four queries of a difference share their background and all of the above holds
for the background-averaged game.

The design is fixed: ``p**2 + p + 2`` masks per instance (and background row), whatever
``n_samples`` asks for.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np

from .._checks import check_int, check_number
from ..errors import InputError
from ..perturbations.base import PerturbationScheme
from ..results import LocalInteractions
from .base import Detector, check_experiments
from .pure_effects.differences import (
    FLOAT32_RTOL,
    FLOAT64_RTOL,
    archdetect_design,
    mixed_differences,
    noise_rtol,
)
from .pure_effects.sets import cliques, rank_interactions, signed_effects

__all__ = ["FLOAT32_RTOL", "FLOAT64_RTOL", "ArchDetectDetector", "archdetect_design", "noise_rtol"]


class ArchDetectDetector(Detector):
    """Training-free pairwise interaction detector of Archipelago, batched over instances.

    Parameters
    ----------
    merge_threshold : float, default 0.1
        A pair's excess is strong, and a set's fitted effect a real share, from this fraction of
        the instance's largest pure pair effect or excess on. In (0, 1].
    max_order : int or None, default None
        Largest order reported. ``None``: sets of up to ``max_set_size`` features. ``2``: pairs
        only.
    background_rows : int or None, default 32
        With a background data set: query the design with this many background rows (each the
        baseline of one pass, the outputs averaged); all rows when the set has no more. More rows
        are drawn with the seed. ``None``: one random row per query, so the four queries of a
        difference take four rows (on the panel's breast-cancer model: noise, a set of half the
        features or more in every row's top 5 and pair precision@5 0.11 against the exact
        reference; 0.66 and no such set paired).
    max_set_size : int, default 6
        Largest candidate set when ``max_order`` is ``None``.
    rtol : float or None, default None
        A mixed difference smaller than ``rtol`` times the largest absolute output among its four
        queries is set to zero: it is floating-point noise of the model, not an interaction.
        ``None`` picks it per instance from the outputs' precision (:func:`noise_rtol`):
        :data:`FLOAT32_RTOL` when every output is a float32 number (a float32 model: rounding is
        about 1e-7 relative), else :data:`FLOAT64_RTOL`. ``0`` keeps every difference as
        computed. The value used is in each result's ``metadata["rtol"]``.

    Notes
    -----
    ``weights`` are accepted and ignored: the design is a fixed set of queries, not a sample.
    """

    name: ClassVar[str] = "archdetect"

    def __init__(
        self,
        merge_threshold: float = 0.1,
        max_order: int | None = None,
        rtol: float | None = None,
        background_rows: int | None = 32,
        max_set_size: int = 6,
    ):
        check_number("merge_threshold", merge_threshold, low=0.0, high=1.0, low_open=True)
        check_int("max_order", max_order, 2, allow_none=True)
        check_int("background_rows", background_rows, allow_none=True)
        check_int("max_set_size", max_set_size, 2)
        self.background_rows = None if background_rows is None else int(background_rows)
        self.max_set_size = int(max_set_size)
        if rtol is not None:
            check_number("rtol", rtol, low=0.0, high=1.0, high_open=True)
        self.merge_threshold = float(merge_threshold)
        self.max_order = None if max_order is None else int(max_order)
        self.rtol = None if rtol is None else float(rtol)

    def min_samples(self, n_features: int) -> int:
        """The size of the fixed design, ``p**2 + p + 2``."""
        return n_features * n_features + n_features + 2

    def design(
        self,
        n_instances: int,
        n_features: int,
        n_samples: int,
        perturbation: PerturbationScheme,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The fixed ArchDetect design, shape (N, p**2 + p + 2, p); ``n_samples`` is ignored.

        See :func:`archdetect_design` for the row order. Row 0 is all ``True`` (the instance).
        """
        if (
            isinstance(n_instances, bool)
            or not isinstance(n_instances, (int, np.integer))
            or n_instances < 0
        ):
            raise InputError(f"n_instances must be a non-negative integer, got {n_instances!r}")
        return np.repeat(archdetect_design(n_features)[None], int(n_instances), axis=0)

    def detect(
        self,
        masks: np.ndarray,
        outputs: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        max_order: int | None = None,
        rng: np.random.Generator,
        show_progress: bool = False,
    ) -> list[LocalInteractions]:
        """Read pairwise interactions, main effects and merged sets off the fixed design.

        ``masks`` must be the design of :meth:`design` in the same row order (checked); ``weights``
        are accepted for protocol compatibility and ignored (the design is not a sample).
        """
        masks, outputs, weights, max_order = check_experiments(
            masks, outputs, weights, max_order, rng
        )
        n_inst, n, p = masks.shape
        expected = archdetect_design(p)
        if n != expected.shape[0]:
            raise InputError(
                f"masks must hold the ArchDetect design of {expected.shape[0]} rows per instance for p={p} "
                f"(from ArchDetectDetector.design), got {n} rows"
            )
        if not (masks == expected).all():
            raise InputError(
                "masks must be ArchDetectDetector.design(...) in its row order; the rows differ"
            )
        if max_order is None:
            max_order = self.max_order

        rtol = noise_rtol(outputs) if self.rtol is None else np.full(n_inst, self.rtol)
        omega_on, omega_off, main = mixed_differences(outputs, p, rtol)
        excess = omega_on - omega_off  # (N, p, p): the pure effects of the pairs' supersets
        largest = max_order if max_order is not None else self.max_set_size

        results = []
        for k in range(n_inst):
            sets = [] if largest < 3 else find_sets(omega_off[k], excess[k], self.merge_threshold, largest)
            mass, unexplained = pair_mass(omega_off[k], excess[k], sets)
            results.append(
                LocalInteractions(
                    interactions=rank_interactions(omega_off[k], sets),
                    main_effects=main[k],
                    pairwise_strengths=mass,
                    signed_values=signed_effects(omega_off[k], sets),
                    baseline_value=float(outputs[k, n // 2]),
                    metadata={
                        "detector": self.name,
                        "n_queries": n,
                        "rtol": float(rtol[k]),
                        "omega_instance_context": omega_on[k],
                        "omega_baseline_context": omega_off[k],
                        "set_effects": [(members, value) for members, value in sets],
                        "unexplained_excess": unexplained,
                    },
                )
            )
        return results


#: Candidate sets considered per instance at most (cliques of the strongest excess pairs first).
MAX_CANDIDATES = 500
#: Candidates are cliques of at most this many of the strongest excess pairs: the enumeration
#: stays bounded when many pairs carry excess (a dense graph on 39 features has millions of
#: cliques of up to 6).
MAX_EXCESS_EDGES = 60
#: A set is taken only when the excess left on each of its pairs has its sign and at least this
#: share of its fitted effect.
SUPPORT = 0.5


def find_sets(
    pure_pairs: np.ndarray, excess: np.ndarray, threshold: float, max_size: int
) -> list[tuple[tuple[int, ...], float]]:
    """Sets of three or more features and their fitted pure effects, from the pairs' excesses.

    Parameters
    ----------
    pure_pairs, excess : numpy.ndarray, shape (p, p)
        ``m({i, j})`` and ``sum_{S strictly containing {i, j}} m(S)``, symmetric.
    threshold : float
        An excess counts from ``threshold`` times the instance's largest ``|m({i, j})|`` or
        ``|excess|``; a set is taken only if its effect reaches that too.
    max_size : int

    Returns
    -------
    list of (tuple of int, float)
        Members and signed fitted ``m(S)``, in the order found.
    """
    p = len(excess)
    iu, ju = np.triu_indices(p, 1)
    scale = max(np.abs(pure_pairs[iu, ju]).max(initial=0.0), np.abs(excess[iu, ju]).max(initial=0.0))
    if scale <= 0:
        return []
    floor = threshold * scale
    values = np.abs(excess[iu, ju])
    above = np.flatnonzero(values >= floor)
    keep = above[np.argsort(-values[above], kind="stable")][:MAX_EXCESS_EDGES]
    strong = np.zeros((p, p), dtype=bool)
    strong[iu[keep], ju[keep]] = strong[ju[keep], iu[keep]] = True
    candidates = [c for c in cliques(strong, max_size) if len(c) >= 3]
    if len(candidates) > MAX_CANDIDATES:  # the cliques whose weakest excess is largest
        weakest = [min(abs(excess[a, b]) for a, b in itertools.combinations(c, 2)) for c in candidates]
        order = np.argsort(-np.asarray(weakest), kind="stable")[:MAX_CANDIDATES]
        candidates = [candidates[o] for o in sorted(order)]
    pair_index = {(int(a), int(b)): n for n, (a, b) in enumerate(zip(iu, ju, strict=True))}
    cand_pairs = [np.array([pair_index[ab] for ab in itertools.combinations(c, 2)]) for c in candidates]
    target = excess[iu, ju]
    taken: list[int] = []
    coef = np.zeros(0)
    left = target.copy()
    while True:
        best, best_gain = -1, 0.0
        for n, rows in enumerate(cand_pairs):
            if n in taken:
                continue
            value = left[rows].mean()
            if abs(value) < floor or not _supported(left[rows], value):
                continue
            gain = rows.size * value**2
            if gain > best_gain:
                best, best_gain = n, gain
        if best < 0:
            break
        taken.append(best)
        design = np.zeros((target.size, len(taken)))
        for col, n in enumerate(taken):
            design[cand_pairs[n], col] = 1.0
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        left = target - design @ coef
    return [(candidates[n], float(c)) for n, c in zip(taken, coef, strict=True) if abs(c) >= floor]


def _supported(left: np.ndarray, value: float) -> bool:
    """Every pair of a set carries the set: its excess left has the set's sign and half its size."""
    return bool((np.sign(left) == np.sign(value)).all() and (np.abs(left) >= SUPPORT * abs(value)).all())


def pair_mass(
    pure_pairs: np.ndarray, excess: np.ndarray, sets: list[tuple[tuple[int, ...], float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's interaction mass ``|m({i, j})| + sum |m(S)|`` over the sets found through it, plus
    the excess no set explains; and that unexplained excess (signed), both (p, p)."""
    explained = np.zeros_like(excess)
    through = np.zeros_like(excess)
    for members, value in sets:
        idx = np.array(members)
        block = np.ix_(idx, idx)
        explained[block] += value
        through[block] += abs(value)
    unexplained = excess - explained
    np.fill_diagonal(unexplained, 0.0)
    np.fill_diagonal(through, 0.0)
    return np.abs(pure_pairs) + through + np.abs(unexplained), unexplained
