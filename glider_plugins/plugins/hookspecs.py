"""Hook specifications: what a glider-plugins plugin may implement.

A plugin is any module or object with functions decorated by :data:`hookimpl` whose names are the
hooks below. Built-ins (:mod:`glider_plugins.plugins.builtins`) implement exactly these hooks too.

Every hook is optional. The four ``glider_register_*`` hooks take no arguments and return a mapping
``name -> factory``; calling ``factory(**options)`` builds the object. A name may be registered by
one plugin only (two -> :class:`~glider_plugins.errors.PluginConflictError`).

Example
-------
::

    from glider_plugins.plugins import hookimpl

    @hookimpl
    def glider_register_perturbations():
        from .gaussian import GaussianPerturbation   # import lazily: keep start-up fast
        return {"gaussian": GaussianPerturbation}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..adapters.base import ModelAdapter
    from ..detectors.base import Detector
    from ..encoders.base import Encoder
    from ..perturbations.base import PerturbationScheme

__all__ = [
    "KINDS",
    "NAME",
    "glider_adapt_model",
    "glider_register_adapters",
    "glider_register_detectors",
    "glider_register_encoders",
    "glider_register_perturbations",
    "hookimpl",
    "hookspec",
]

#: The pluggy project name and the entry-point group that plugins declare.
NAME = "glider_plugins"

#: Marks a plugin's hook implementations: ``@hookimpl def glider_register_detectors(): ...``.
hookimpl = pluggy.HookimplMarker(NAME)

#: Marks the hook specifications below.
hookspec = pluggy.HookspecMarker(NAME)

#: The kinds of things plugins register, in the order they are listed.
KINDS = ("perturbations", "detectors", "encoders", "adapters")


@hookspec
def glider_register_perturbations() -> Mapping[str, Callable[..., PerturbationScheme]]:
    """Register perturbation schemes.

    Returns
    -------
    mapping of str to callable
        ``name -> factory``; ``factory(**options)`` returns a
        :class:`~glider_plugins.perturbations.base.PerturbationScheme`. The name is what users pass
        as ``perturbation=`` (e.g. ``"binary"``). Usually the factory is the scheme's class.
    """


@hookspec
def glider_register_detectors() -> Mapping[str, Callable[..., Detector]]:
    """Register interaction detectors.

    Returns
    -------
    mapping of str to callable
        ``name -> factory``; ``factory(**options)`` returns a
        :class:`~glider_plugins.detectors.base.Detector` (e.g. ``"nid"``, ``"archdetect"``).
    """


@hookspec
def glider_register_encoders() -> Mapping[str, Callable[..., Encoder]]:
    """Register feature encoders (scikit-learn style transformers).

    Returns
    -------
    mapping of str to callable
        ``name -> factory``; ``factory(**params)`` returns an unfitted
        :class:`~glider_plugins.encoders.base.Encoder`.
    """


@hookspec
def glider_register_adapters() -> Mapping[str, Callable[..., ModelAdapter]]:
    """Register model adapters by name, so they are listed and can be picked explicitly.

    Returns
    -------
    mapping of str to callable
        ``name -> adapter class`` (or a factory with the class's signature,
        ``factory(model, **options)``) building a :class:`~glider_plugins.adapters.base.ModelAdapter`.

    Notes
    -----
    Listing an adapter does not make :func:`~glider_plugins.adapt` recognise new model types; that
    is what :func:`glider_adapt_model` is for.
    """


@hookspec(firstresult=True)
def glider_adapt_model(model: Any, options: dict[str, Any]) -> ModelAdapter | None:
    """Wrap ``model`` in an adapter, if this plugin knows its type.

    Called by :func:`~glider_plugins.adapt` for every model. Implementations run last-registered
    first, and the first one that returns an adapter wins, so an installed plugin is asked before the
    built-in recognisers (registered first, and marked ``trylast``).

    Parameters
    ----------
    model : object
        Whatever the user passed: a framework model, a file path, a callable, ...
    options : dict
        The adapter options the user gave (``target``, ``batch_size``, ...), to pass on to the
        adapter's constructor. Do not modify it.

    Returns
    -------
    ModelAdapter or None
        ``None`` when this plugin does not handle ``model``'s type (then the next plugin is asked).
    """
