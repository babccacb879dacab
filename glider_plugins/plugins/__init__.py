"""Plugins: third-party perturbation schemes, detectors, encoders and adapters, on pluggy.

A plugin is a module (or object) with functions marked by :data:`hookimpl`, named after the hooks in
:mod:`glider_plugins.plugins.hookspecs`, and made known by an entry point in the group
``glider_plugins``::

    [project.entry-points.glider_plugins]
    example = "glider_plugin_example.plugin"

The built-ins are registered through the same hooks (:mod:`glider_plugins.plugins.builtins`).
Everything registered is then available by name::

    >>> from glider_plugins.plugins import available, make_detector
    >>> available("detectors")                      # doctest: +SKIP
    {'archdetect': 'builtins', 'nid': 'builtins'}

Set ``GLIDER_PLUGINS_BLOCK=name1,name2`` (entry-point names) to keep installed plugins from loading.
"""

from __future__ import annotations

from .builtins import LazyFactory
from .hookspecs import KINDS, NAME, hookimpl, hookspec
from .manager import (
    BLOCK_ENV,
    PluginWarning,
    blocked_plugins,
    get_plugin_manager,
    plugin_distributions,
    reset_plugin_manager,
)
from .registry import (
    adapt_model,
    available,
    get_factory,
    make_detector,
    make_encoder,
    make_perturbation,
    registrations,
)

__all__ = [
    "BLOCK_ENV",
    "KINDS",
    "NAME",
    "LazyFactory",
    "PluginWarning",
    "adapt_model",
    "available",
    "blocked_plugins",
    "get_factory",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "make_detector",
    "make_encoder",
    "make_perturbation",
    "plugin_distributions",
    "registrations",
    "reset_plugin_manager",
]
