"""Gathering registrations from the plugin manager, and building schemes, detectors and encoders by name.

:mod:`.manager` builds the pluggy manager (built-ins, entry points, blocking); this module asks
its ``glider_register_*`` hooks what each plugin provides, checks for conflicts, and turns a name
and options into an object.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InputError, InputTypeError, PluginConflictError, UnknownPluginError
from .builtins import LazyFactory
from .hookspecs import KINDS
from .manager import (
    _SINGULAR,
    BLOCK_ENV,
    BUILTINS,
    _lock,
    _state,
    _warn,
    blocked_plugins,
    get_plugin_manager,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..adapters.base import ModelAdapter
    from ..detectors.base import Detector
    from ..encoders.base import Encoder
    from ..perturbations.base import PerturbationScheme

__all__ = [
    "adapt_model",
    "available",
    "get_factory",
    "make_detector",
    "make_encoder",
    "make_perturbation",
    "registrations",
]


# --------------------------------------------------------------------------------------- gathering
def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")


def _entries(kind: str) -> list[tuple[str, str, Callable[..., Any]]]:
    """Every (name, plugin name, factory) registered for ``kind``, in registration order."""
    _check_kind(kind)
    pm = get_plugin_manager()
    with _lock:
        fingerprint = tuple((name, id(plugin)) for name, plugin in pm.list_name_plugin())
        cached = _state.entries.get(kind)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        entries: list[tuple[str, str, Callable[..., Any]]] = []
        hook = getattr(pm.hook, f"glider_register_{kind}")
        for impl in hook.get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                continue
            plugin = impl.plugin_name
            try:
                result = impl.function()
            except Exception as exc:
                _warn(f"plugin {plugin!r} ({_state.distributions.get(plugin, '?')}) raised in glider_register_{kind}: {type(exc).__name__}: {exc}; its {kind} are skipped, other plugins keep working")
                continue
            if result is None:
                continue
            problem = _check_registration(result)
            if problem:
                _warn(f"plugin {plugin!r}: glider_register_{kind} {problem}; its {kind} are skipped")
                continue
            entries.extend((name, plugin, factory) for name, factory in result.items())
        _state.entries[kind] = (fingerprint, entries)
        return entries


def _check_registration(result: Any) -> str | None:
    if not isinstance(result, Mapping):
        return f"must return a dict name -> factory, got {type(result).__name__}"
    for name, factory in result.items():
        if not isinstance(name, str) or not name:
            return f"returned the name {name!r}; names must be non-empty strings"
        if not callable(factory):
            return f"registered {name!r} as {factory!r}, which is not callable"
    return None


def registrations(kind: str) -> list[tuple[str, str]]:
    """Every (name, plugin) registration of ``kind``, conflicts included, sorted by name.

    Unlike :func:`available` this never raises on a conflict: a name listed twice is one.
    """
    return sorted(((name, plugin) for name, plugin, _ in _entries(kind)), key=lambda item: item[0])


def _registry(kind: str) -> dict[str, tuple[str, Callable[..., Any]]]:
    registry: dict[str, tuple[str, Callable[..., Any]]] = {}
    for name, plugin, factory in _entries(kind):
        if name in registry:
            first = registry[name][0]
            raise PluginConflictError(
                f"the {_SINGULAR[kind]} name {name!r} is registered by two plugins, {first!r} and {plugin!r}; "
                f"uninstall one of them or block it with {BLOCK_ENV}={plugin if plugin != BUILTINS else first}"
            )
        registry[name] = (plugin, factory)
    return registry


def available(kind: str) -> dict[str, str]:
    """The registered names of one kind, each with the name of the plugin that provided it.

    Parameters
    ----------
    kind : {"perturbations", "detectors", "encoders", "adapters"}

    Returns
    -------
    dict of str to str
        ``name -> plugin name``, sorted by name (built-ins are provided by ``"builtins"``).

    Raises
    ------
    InputError
        ``kind`` is not one of :data:`~glider_plugins.plugins.KINDS`.
    PluginConflictError
        Two plugins registered the same name.
    """
    return {name: plugin for name, (plugin, _) in sorted(_registry(kind).items())}




def get_factory(kind: str, name: str) -> Callable[..., Any]:
    """The factory registered as ``name`` for ``kind``.

    Raises
    ------
    UnknownPluginError
        No plugin registered ``name``; the message lists the known names.
    """
    registry = _registry(kind)
    if isinstance(name, str) and name in registry:
        return registry[name][1]
    known = sorted(registry)
    message = f"unknown {_SINGULAR[kind]} {name!r}; known {kind}: {', '.join(map(repr, known)) or 'none'}"
    close = difflib.get_close_matches(str(name), known, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    blocked = blocked_plugins()
    if blocked:
        message += f"; plugins blocked by {BLOCK_ENV}: {', '.join(blocked)}"
    raise UnknownPluginError(message)


# ---------------------------------------------------------------------------------------- building
def _check_options(factory: Callable[..., Any], options: dict[str, Any], what: str, name: str) -> None:
    """Fail early, naming the option, when the factory's signature does not take ``options``."""
    target = factory.resolve() if isinstance(factory, LazyFactory) else factory
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # no introspectable signature: let the call decide
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        accepted = ", ".join(p.name for p in params) or "none"
        raise InputError(f"{what} {name!r}: {exc} (its options: {accepted})") from None


def _make(kind: str, spec: Any, base: type, options: dict[str, Any]) -> Any:
    what = _SINGULAR[kind]
    if isinstance(spec, base):
        if options:
            raise InputError(
                f"{what}: options {sorted(options)} were given with an already built {type(spec).__name__}; "
                f"pass its name instead, or set the options when building it"
            )
        return spec
    if not isinstance(spec, str):
        raise InputTypeError(
            f"{what} must be a name (one of {sorted(available(kind))}) or a {base.__name__} instance, got {type(spec).__name__}"
        )
    factory = get_factory(kind, spec)
    _check_options(factory, options, what, spec)
    obj = factory(**options)
    if not isinstance(obj, base):
        plugin = available(kind)[spec]
        raise InputTypeError(f"{what} {spec!r} (from plugin {plugin!r}) built a {type(obj).__name__}, which is not a {base.__name__}")
    return obj


def make_perturbation(spec: str | PerturbationScheme, **options: Any) -> PerturbationScheme:
    """A perturbation scheme by name (``"binary"``, ``"gaussian"``, ...) or the instance given.

    Parameters
    ----------
    spec : str or PerturbationScheme
        A registered name, or an instance (returned as is; ``options`` must then be empty).
    **options
        Passed to the scheme's factory.

    Raises
    ------
    UnknownPluginError
        ``spec`` is not a registered name (the message lists the known names).
    InputError
        An option the scheme does not take, or options given with an instance.
    """
    from ..perturbations.base import PerturbationScheme

    return _make("perturbations", spec, PerturbationScheme, options)


def make_detector(spec: str | Detector, **options: Any) -> Detector:
    """A detector by name (``"nid"``, ``"archdetect"``, ...) or the instance given.

    See :func:`make_perturbation` for parameters and errors.
    """
    from ..detectors.base import Detector

    return _make("detectors", spec, Detector, options)


def make_encoder(spec: str | Encoder, **options: Any) -> Encoder:
    """An unfitted encoder by name, or the instance given.

    See :func:`make_perturbation` for parameters and errors.
    """
    from ..encoders.base import Encoder

    return _make("encoders", spec, Encoder, options)


def adapt_model(model: Any, options: dict[str, Any]) -> ModelAdapter | None:
    """Ask the plugins' ``glider_adapt_model`` hooks, latest registered first, to wrap ``model``.

    Returns
    -------
    ModelAdapter or None
        The first adapter a plugin returned; ``None`` when no plugin (built-ins included) knows
        ``model``'s type.
    """
    return get_plugin_manager().hook.glider_adapt_model(model=model, options=options)
