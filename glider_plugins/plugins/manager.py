"""The plugin manager: finds plugins, isolates broken ones, and builds things by name.

:func:`get_plugin_manager` builds one :class:`pluggy.PluginManager` per process, lazily:

1. adds the hook specifications (:mod:`glider_plugins.plugins.hookspecs`);
2. registers the built-ins (:mod:`glider_plugins.plugins.builtins`) as the plugin ``"builtins"``;
3. blocks the entry-point names listed in the environment variable ``GLIDER_PLUGINS_BLOCK``
   (comma-separated), then loads every other entry point of the group ``glider_plugins`` one by one.
   A plugin that fails to import or register only produces a :class:`PluginWarning` naming it;
4. checks that every hook implementation matches a specification (a plugin that implements an
   unknown ``glider_*`` hook is warned about and unregistered).

What the ``glider_register_*`` hooks return is gathered per plugin (each plugin's hook is called on
its own), so a plugin whose hook raises is skipped with a warning, and a name claimed by two plugins
is reported with both plugin names (:class:`~glider_plugins.errors.PluginConflictError`). The
gathered names are cached until the set of registered plugins changes.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from ..errors import InputError, InputTypeError, PluginConflictError, UnknownPluginError
from .builtins import LazyFactory
from .hookspecs import KINDS, NAME

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..adapters.base import ModelAdapter
    from ..detectors.base import Detector
    from ..encoders.base import Encoder
    from ..perturbations.base import PerturbationScheme

__all__ = [
    "BLOCK_ENV",
    "BUILTINS",
    "PluginWarning",
    "adapt_model",
    "available",
    "blocked_plugins",
    "get_factory",
    "get_plugin_manager",
    "make_detector",
    "make_encoder",
    "make_perturbation",
    "plugin_distributions",
    "registrations",
    "reset_plugin_manager",
]

#: Environment variable: comma-separated entry-point names of plugins not to load.
BLOCK_ENV = "GLIDER_PLUGINS_BLOCK"

#: The plugin name of the built-ins.
BUILTINS = "builtins"

_SINGULAR = {"perturbations": "perturbation", "detectors": "detector", "encoders": "encoder", "adapters": "adapter"}


class PluginWarning(UserWarning):
    """A plugin could not be loaded or registered; it is skipped and everything else keeps working.

    Silence it with ``warnings.filterwarnings("ignore", category=PluginWarning)``, or block the plugin
    with ``GLIDER_PLUGINS_BLOCK=<entry point name>``.
    """


class _State:
    """The cached manager, what it gathered, and where each plugin came from."""

    def __init__(self) -> None:
        self.pm: pluggy.PluginManager | None = None
        #: kind -> (fingerprint of the registered plugins, [(name, plugin name, factory), ...])
        self.entries: dict[str, tuple[tuple[tuple[str, int], ...], list[tuple[str, str, Callable[..., Any]]]]] = {}
        #: plugin name -> "distribution version"
        self.distributions: dict[str, str] = {}
        #: entry-point names blocked when the manager was built
        self.blocked: list[str] = []
        self.building = False


_state = _State()
_lock = threading.RLock()


def _warn(message: str) -> None:
    """Warn, attributing the warning to the first caller outside glider_plugins (the user's code)."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("glider_plugins"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, PluginWarning, stacklevel=level)


# ---------------------------------------------------------------------------------------- building
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use (see the module docstring).

    Returns
    -------
    pluggy.PluginManager
        Register further plugin objects with ``pm.register(obj, name=...)``; they are seen by
        :func:`available` and the ``make_*`` functions at once.
    """
    with _lock:
        if _state.pm is None:
            if _state.building:  # a plugin module asked for the manager while being imported
                raise RuntimeError("get_plugin_manager() was called while plugins are being loaded; call it inside hooks, not at import time")
            _state.entries.clear()
            _state.distributions.clear()
            _state.blocked.clear()
            _state.building = True
            try:
                _state.pm = _build(_state.distributions, _state.blocked)
            finally:
                _state.building = False
        return _state.pm


def reset_plugin_manager() -> None:
    """Forget the cached manager; the next call rebuilds it (re-reading ``GLIDER_PLUGINS_BLOCK``)."""
    with _lock:
        _state.pm = None
        _state.entries.clear()
        _state.distributions.clear()
        _state.blocked.clear()


def _build(distributions: dict[str, str], blocked: list[str]) -> pluggy.PluginManager:
    from . import builtins, hookspecs

    pm = pluggy.PluginManager(NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(builtins, name=BUILTINS)
    distributions[BUILTINS] = _own_distribution()
    for name in _blocked_from_env():
        if name == BUILTINS:
            _warn(f"{BLOCK_ENV} names {BUILTINS!r}, which cannot be blocked; to drop the built-ins call get_plugin_manager().unregister(name={BUILTINS!r})")
            continue
        pm.set_blocked(name)
        blocked.append(name)
    _load_entry_points(pm, distributions)
    _check_pending(pm, distributions)
    return pm


def blocked_plugins() -> list[str]:
    """The plugin names the manager blocked (from ``GLIDER_PLUGINS_BLOCK`` when it was built)."""
    get_plugin_manager()
    return list(_state.blocked)


def _blocked_from_env() -> list[str]:
    return [name.strip() for name in os.environ.get(BLOCK_ENV, "").split(",") if name.strip()]


def _own_distribution() -> str:
    try:
        return f"glider-plugins {importlib.metadata.version('glider-plugins')}"
    except importlib.metadata.PackageNotFoundError:  # running from a source checkout
        return "glider-plugins"


def _distribution_of(ep: importlib.metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    try:
        return f"{dist.metadata['Name']} {dist.version}"
    except Exception:  # a distribution with broken metadata
        return None


def _describe(ep: importlib.metadata.EntryPoint) -> str:
    dist = _distribution_of(ep)
    where = f" from distribution {dist}" if dist else ""
    return f"plugin {ep.name!r} (entry point {ep.name} = {ep.value}{where})"


def _load_entry_points(pm: pluggy.PluginManager, distributions: dict[str, str]) -> None:
    """Load the entry points of group NAME one at a time; a failure only warns."""
    eps = sorted(importlib.metadata.entry_points(group=NAME), key=lambda ep: (ep.name, ep.value))
    seen: dict[str, str] = {}
    for ep in eps:
        if pm.is_blocked(ep.name):
            continue
        if ep.name in seen:
            if seen[ep.name] != ep.value:  # the same distribution found twice on sys.path is fine
                _warn(f"two installed plugins use the entry-point name {ep.name!r} ({seen[ep.name]} and {ep.value}); only the first is loaded")
            continue
        seen[ep.name] = ep.value
        if pm.has_plugin(ep.name):
            _warn(f"{_describe(ep)} is skipped: the name {ep.name!r} is reserved")
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            _warn(f"could not load {_describe(ep)}: {type(exc).__name__}: {exc}; it is skipped, other plugins keep working")
            continue
        distributions[ep.name] = _distribution_of(ep) or "?"
        if not pm.get_hookcallers(plugin):
            _warn(f"{_describe(ep)} implements no glider_* hooks (are its functions decorated with glider_plugins.hookimpl?)")


def _check_pending(pm: pluggy.PluginManager, distributions: dict[str, str]) -> None:
    """Unregister (with a warning) plugins that implement hooks which do not exist."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            _warn(f"plugin {name!r} ({distributions.get(name, '?')}) is skipped: {exc}")
            pm.unregister(exc.plugin)
            distributions.pop(name, None)


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


def plugin_distributions() -> dict[str, str]:
    """Plugin name -> the installed distribution (``"name version"``) it came from."""
    get_plugin_manager()
    return dict(_state.distributions)


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
