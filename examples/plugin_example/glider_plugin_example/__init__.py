"""Example glider-plugins plugin.

* ``"gaussian"``: :class:`~glider_plugin_example.gaussian.GaussianPerturbation`, a perturbation scheme
  for continuous inputs that adds Gaussian noise to the features it switches off;
* ``"hashed_cross"``: :class:`~glider_plugin_example.hashed_cross.HashedCrossEncoder`, an encoder that
  hashes the value combinations of groups of columns into bucket ids.

Both are registered by :mod:`glider_plugin_example.plugin` (the entry point); this package imports
nothing heavy at import time.
"""

__version__ = "0.1.0"
