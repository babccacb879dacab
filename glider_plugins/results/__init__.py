"""Results as plain data: what was found for one instance, for a batch, and globally.

Results never draw themselves (pictures live in :mod:`glider_plugins.visualization`); they export
to JSON, pandas and shapiq (:mod:`glider_plugins.interop.shapiq`). Layers, top to bottom (each
imports only those below it; ``tox`` checks it):

* :mod:`.attribution`: :class:`AttributionResult`, the :class:`LocalInteractions` of a batch
  (pandas, JSON, shapiq, attributions in the inputs' shape), and its JSON format tag;
* :mod:`.local`: :class:`LocalInteractions`, one instance's result, and :data:`Interaction`;
* :mod:`.global_interactions`, beside :mod:`.local` (neither imports the other):
  :class:`GlobalInteractions`, GLIDER's counts over many instances, with :func:`prune_subsets`
  and :data:`MIN_FREQUENCY`. Its own ``FORMAT`` stays in that module: ``FORMAT`` here is
  :class:`AttributionResult`'s, as in 0.1.
"""

from __future__ import annotations

from .attribution import FORMAT, AttributionResult
from .global_interactions import MIN_FREQUENCY, GlobalInteractions, prune_subsets
from .local import Interaction as _Interaction
from .local import LocalInteractions

#: One interaction: the sorted tuple of feature ids that act together, and its strength.
Interaction = _Interaction  # bound here, not only imported: the API reference reads this comment

__all__ = [
    "FORMAT", "MIN_FREQUENCY", "AttributionResult", "GlobalInteractions", "Interaction", "LocalInteractions",
    "prune_subsets",
]
