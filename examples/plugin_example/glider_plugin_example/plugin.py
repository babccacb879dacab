"""The plugin module named by the entry point: hook implementations only.

The implementations are registered as :class:`~glider_plugins.plugins.LazyFactory` paths, so
listing plugins (``glider plugins``, ``available()``) imports nothing but this module; the classes
are imported when first built.
"""

from __future__ import annotations

from glider_plugins.plugins import LazyFactory, hookimpl


@hookimpl
def glider_register_perturbations() -> dict[str, LazyFactory]:
    return {"gaussian": LazyFactory("glider_plugin_example.gaussian:GaussianPerturbation")}


@hookimpl
def glider_register_encoders() -> dict[str, LazyFactory]:
    return {"hashed_cross": LazyFactory("glider_plugin_example.hashed_cross:HashedCrossEncoder")}
