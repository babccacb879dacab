"""Interoperability: results in other libraries' terms, and other libraries' arguments in ours.

* :mod:`.shapiq`: pure effects as ``shapiq.InteractionValues`` (index ``"Moebius"``), and the pair
  strengths by which any index's values are compared.
* :mod:`.captum`: the Captum arguments :meth:`InteractionAttribution.attribute
  <glider_plugins.InteractionAttribution.attribute>` refuses or repeats, checked at the boundary.

Both depend on the ground floor only (errors, checks, set-function arithmetic): the results, the
exact references and the local explainer call down into them. shapiq is imported only when a
conversion is asked for.
"""
