"""The plugin manager: finds plugins and isolates broken ones (names are resolved in :mod:`.registry`).

:func:`get_plugin_manager` builds one :class:`pluggy.PluginManager` per process, lazily:

1. adds the hook specifications (:mod:`glider_plugins.plugins.hookspecs`);
2. registers the built-ins (:mod:`glider_plugins.plugins.builtins`) as the plugin ``"builtins"``;
3. blocks the entry-point names listed in the environment variable ``GLIDER_PLUGINS_BLOCK``
   (comma-separated), then loads every other entry point of the group ``glider_plugins`` one by one.
   A plugin that fails to import or register only produces a :class:`PluginWarning` naming it;
4. checks that every hook implementation matches a specification (a plugin that implements an
   unknown ``glider_*`` hook is warned about and unregistered).

What the ``glider_register_*`` hooks return is gathered per plugin by :mod:`.registry` (each
plugin's hook is called on its own), so a plugin whose hook raises is skipped with a warning, and a
name claimed by two plugins is reported with both plugin names
(:class:`~glider_plugins.errors.PluginConflictError`). The gathered names are cached here, in the
manager's state, until the set of registered plugins changes.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pluggy

from .hookspecs import NAME

__all__ = [
    "BLOCK_ENV",
    "BUILTINS",
    "PluginWarning",
    "blocked_plugins",
    "get_plugin_manager",
    "plugin_distributions",
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

def plugin_distributions() -> dict[str, str]:
    """Plugin name -> the installed distribution (``"name version"``) it came from."""
    get_plugin_manager()
    return dict(_state.distributions)
