"""Interaction indices a query budget can identify (``"fourier"``): the Banzhaf and Shapley
interactions of every pair, by weighted least squares in the Fourier basis of the masks.

Image and text models spread their pure effects ``m(S)`` over thousands of sets of four or more
features: no budget of about a thousand queries determines a pair's mass ``sum |m(S)|`` there. Their
games are low-order in the Fourier (Walsh) basis instead, ``v(z) = sum_S f(S) prod_{i in S} (2 z_i - 1)``:
terms of up to two features carry most of their variance over the masks. The pairwise indices that
are linear in the game are then estimable with bounded error:

* the **Banzhaf interaction** of a pair, ``BII(ij) = sum_{R containing i, j} 2**-(|R| - 2) m(R)``,
  its mean second difference over all contexts, is ``4 f(ij)``: the Fourier coefficient of the best
  surrogate of order 2 under uniform masks (:func:`glider_plugins.set_functions.index_values`);
* the **Shapley interaction**, ``SII(ij) = sum_R m(R) / (|R| - 1)``, weighs every context size
  alike: it comes from the surrogate of order 2 fitted under masks whose sizes are uniform, and
  ``"k-SII"`` adds its singles (Shapley values less half their pairs).

**Design** (:func:`fourier_design`): ArchDetect's masks (all sets of at most two features on, and
of at most two off) when they take at most a fifth of the budget (:data:`FIXED_SHARE`), else their
``2 p + 2`` main-effect rows; they enumerate the smallest and largest sizes, and give the exact
``m({})`` and ``m({i})``. The rest are pairs of complementary masks (``z`` and ``1 - z``: the even
and the odd Fourier terms then separate, so a pair's term is confounded only with terms of four
features or more), their sizes drawn from a mixture of the binomial sizes of uniform masks and
uniform sizes (:data:`SIZE_MIXTURE` of the latter), each set of a size equally likely.

**Fit** (:func:`fourier_fit`): every mask size is a stratum; a mask of size ``t`` weighs
``pi_t / n_t`` (the target's mass of that size over the rows of that size), with ``pi`` the
binomial sizes of uniform masks for BII and uniform sizes for the Shapley index; weighted adaptive
ridge regression on the Fourier terms of up to two features (a sparse prior: a few pairs carry most
of the interaction; the penalty by generalised cross-validation, :func:`search_grid`). The indices are those of the fitted surrogate,
exact for it, estimates for the model; the Shapley pairs add what the surrogate's residuals say of
the sets of four features or more (:func:`shapley_pair_correction`). The Shapley pairs read only
the **even part** of the outputs, ``(v(z) + v(1 - z)) / 2`` (:func:`even_part`): the Shapley fit's
penalty is chosen, and the correction computed, on the even part of its residuals, so that sets of
three features (odd, and of no Shapley interaction on a pair) do not blur them. Where every mask
was queried, both indices are exact.

On the dense panel (``benchmarks/real_model_panel.py``, user guide) this ranks pairs by BII against the
exact index at precision@5 of about 0.9 or more at 1000 queries, with the Shapley pairs close behind.
Where a sparse fit of pure effects is faithful (tabular models), ``"auto"`` keeps the pure effects
(:class:`~glider_plugins.detectors.auto.AutoDetector`).

* :mod:`.design`: the masks (:func:`fourier_design`);
* :mod:`.fit`: one instance's fit and result (:func:`fourier_fit`, :func:`fourier_result`,
  :func:`shapley_pair_correction`);
* :mod:`.ridge`: the weighted adaptive ridge each fit solves, its penalty by generalised
  cross-validation (:func:`search_grid`), on the even part of complementary rows (:func:`even_part`);
* :mod:`.detector`: :class:`FourierDetector`.
"""

from __future__ import annotations

from .design import (
    DESIGNS,
    FIXED_SHARE,
    MIN_ROWS_PER_TERM,
    ROWS_PER_TERM,
    SHAPLEY_FIXED_SHARE,
    SHAPLEY_MIXTURE,
    SIZE_MIXTURE,
    DesignShares,
    archdetect_leaves_room,
    archdetect_rows,
    check_design_index,
    fixed_rows,
    fourier_design,
    n_terms,
)
from .detector import FourierDetector
from .fit import distinct_rows, fourier_fit, fourier_result, shapley_pair_correction
from .ridge import (
    ADAPTIVE_FLOOR,
    ADAPTIVE_STEPS,
    RIDGE_GRID,
    complement_rows,
    even_part,
    search_grid,
)

# The public home of the class: registries and pickles name it by this path.
FourierDetector.__module__ = __name__

__all__ = [
    "ADAPTIVE_FLOOR", "ADAPTIVE_STEPS", "DESIGNS", "FIXED_SHARE", "MIN_ROWS_PER_TERM", "RIDGE_GRID", "ROWS_PER_TERM",
    "SHAPLEY_FIXED_SHARE", "SHAPLEY_MIXTURE", "SIZE_MIXTURE", "DesignShares",
    "FourierDetector", "archdetect_leaves_room", "archdetect_rows", "check_design_index", "complement_rows", "distinct_rows", "even_part", "fixed_rows",
    "fourier_design", "fourier_fit",
    "fourier_result", "n_terms", "search_grid", "shapley_pair_correction",
]
