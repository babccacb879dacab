"""The local stage (MADEX): one model, a batch of instances, their interactions.

Layers, top to bottom (each imports only those below it; ``tox`` checks it):

* :mod:`.attribution`: :class:`~glider_plugins.InteractionAttribution`, the Captum boundary: the
  inputs formatted once, the design queried, the detector called, the results assembled;
* :mod:`.querying` and :mod:`.formatting`: masks into model inputs into scores (batched, aligned);
  inputs, masks, baselines, targets and extra arguments into one
  :class:`~glider_plugins.layout.FeatureLayout`;
* :mod:`.reproducibility`: seeds, block streams and row alignment, so that an instance's result does
  not depend on its batch.
"""
