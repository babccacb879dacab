"""Captum arguments that :meth:`InteractionAttribution.attribute <glider_plugins.InteractionAttribution.attribute>`
takes only at their defaults, or not at all, checked at the boundary with a message that says
what to do instead (rather than a TypeError from deep inside)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["check_captum_arguments", "repeat_per_instance"]

#: Arguments of other Captum methods that ``attribute`` does not take, and what to do instead.
_CAPTUM_ONLY = {
    "internal_batch_size": "perturbations_per_eval bounds the perturbed rows per model call",
    "n_steps": "this is not a path method; n_samples sets the perturbations per instance",
    "method": "this is not a path method; n_samples sets the perturbations per instance",
    "num_interp_features": "the number of features comes from the feature_mask",
    "nt_type": "wrap it: NoiseTunnel(InteractionAttribution(model)).attribute(...)",
    "nt_samples": "wrap it: NoiseTunnel(InteractionAttribution(model)).attribute(...)",
    "stdevs": "wrap it: NoiseTunnel(InteractionAttribution(model)).attribute(...)",
}


def check_captum_arguments(return_input_shape: Any, return_convergence_delta: Any, options: dict[str, Any]) -> None:
    """Refuse the Captum arguments ``attribute`` does not support.

    Parameters
    ----------
    return_input_shape, return_convergence_delta : Any
        As the user passed them; only ``True`` and ``False`` (Captum's defaults) are supported.
    options : dict
        The other keyword arguments; those of other Captum methods (:data:`_CAPTUM_ONLY`) are refused.

    Raises
    ------
    InputError
        Naming the argument and what to do instead.
    """
    if return_input_shape is not True:
        raise InputError(
            f"return_input_shape={return_input_shape!r}: attribute() always returns attributions in the inputs' shape; "
            "for one main effect per feature, shape (N, p), use attribute_interactions(...).main_effects()"
        )
    if return_convergence_delta is not False:
        raise InputError(
            f"return_convergence_delta={return_convergence_delta!r}: InteractionAttribution has no convergence delta "
            "(has_convergence_delta() is False); leave it False"
        )
    for name in options:
        if name in _CAPTUM_ONLY:
            raise InputError(f"{name}: a Captum argument InteractionAttribution.attribute does not take; {_CAPTUM_ONLY[name]}")


def repeat_per_instance(value: Any, inputs: Any) -> Any:
    """A ``feature_mask`` or baseline with one row per instance, for inputs Captum repeated.

    ``NoiseTunnel`` and ``captum.metrics.sensitivity_max`` repeat each instance ``k`` times next to
    each other (``repeat_interleave``) before they call ``attribute``, but not always the
    arguments that go with it: a value of ``rows`` rows, ``1 < rows < N`` with ``N = k * rows``
    and as many dimensions as its input, is repeated the same way. Anything else is returned as it
    is (and checked by the formatting, which never repeats).
    """
    if value is None or isinstance(value, Mapping):
        return value
    arrays = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if isinstance(value, (tuple, list)):
        if len(value) != len(arrays):
            return value
        return type(value)(_repeated(v, x) for v, x in zip(value, arrays))
    return _repeated(value, arrays[0]) if len(arrays) == 1 else value


def _repeated(value: Any, array: Any) -> Any:
    shape, batch = getattr(value, "shape", None), getattr(array, "shape", None)
    if shape is None or batch is None or len(shape) == 0 or len(shape) != len(batch):
        return value
    rows, n = int(shape[0]), int(batch[0])
    if not (1 < rows < n and n % rows == 0):
        return value
    if hasattr(value, "repeat_interleave"):  # a torch tensor
        return value.repeat_interleave(n // rows, dim=0)
    return np.repeat(np.asarray(value), n // rows, axis=0)
