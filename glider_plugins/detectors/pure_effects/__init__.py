"""Pure effects by regression: the layer both detector families stand on.

Around an instance the model is a set function with pure effects (Moebius coefficients) ``m(S)``
(:mod:`glider_plugins.set_functions`). Every built-in detector reads or fits them here:

* :mod:`.differences`: what ArchDetect's design rows show exactly (main and pair effects at the
  baseline, mixed differences in both contexts), and the outputs' noise floor;
* :mod:`.least_squares` and :mod:`.instance`: one instance's pure effects by least squares over its
  exact low orders (the ``"moebius"`` detector and NID's complete refit);
* :mod:`.regression`: AND-cross regression on sampled masks with held-out confirmation of sets (NID's
  refit where the masks do not afford every set of three);
* :mod:`.sets`: cliques of pair graphs, rankings by ``|m(S)|``, signed effects, pair masses.

Nothing here imports a detector: ArchDetect, ``"moebius"`` and NID import this layer, and only
:mod:`glider_plugins.detectors.auto` chooses between them.
"""

from __future__ import annotations

from typing import Any

from .regression import CONFIRM_GAIN, SIGNIFICANCE, PureEffectFit, PureEffects
from .sets import pair_mass, signed_effects

__all__ = ["CONFIRM_GAIN", "SIGNIFICANCE", "PureEffectFit", "PureEffects", "pair_mass", "signed_effects"]


def __getattr__(name: str) -> Any:
    # 0.1's glider_plugins.detectors.pure_effects was today's .regression module: its other names still resolve
    from . import regression

    try:
        return getattr(regression, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
