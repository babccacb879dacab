"""Module paths of 0.1 that moved in 0.2 (issue 23's layout), kept as aliases for one release.

``import glider_plugins.chunking`` (any path below) still works: the alias module warns once with a
:class:`DeprecationWarning` naming the new home, then hands out the names of its new homes on
first use (nothing is imported before a name is asked for). The aliases go in 0.3. They are served
by an import hook installed with the package (``sys.meta_path``, tried after the real files), so
the tree holds no stub modules and no alias ever imports the library's layers out of order.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

__all__ = ["MOVED", "REMOVED_IN", "install"]

#: The release in which the aliases are removed.
REMOVED_IN = "0.3"

#: Old module path -> its new homes, the first the main one (names are looked up in order).
MOVED: dict[str, tuple[str, ...]] = {
    "glider_plugins.attribution": ("glider_plugins.explain.attribution",),
    "glider_plugins.formatting": ("glider_plugins.explain.formatting",),
    "glider_plugins.querying": ("glider_plugins.explain.querying",),
    "glider_plugins.reproducibility": ("glider_plugins.explain.reproducibility",),
    "glider_plugins.chunking": ("glider_plugins.glider.chunks", "glider_plugins.glider.models"),
    "glider_plugins.executors": ("glider_plugins.glider.executors", "glider_plugins.glider.models"),
    "glider_plugins.checkpoint": ("glider_plugins.glider.checkpoint",),
    "glider_plugins.global_results": ("glider_plugins.results.global_interactions",),
    "glider_plugins.shapiq_interop": ("glider_plugins.interop.shapiq",),
    "glider_plugins._captum_args": ("glider_plugins.interop.captum",),
    "glider_plugins.detectors.moebius_design": ("glider_plugins.detectors.moebius.design",),
    "glider_plugins.detectors.moebius_fit": ("glider_plugins.detectors.pure_effects.least_squares",),
    "glider_plugins.detectors.nid_network": ("glider_plugins.detectors.nid.network",),
    "glider_plugins.detectors.nid_training": ("glider_plugins.detectors.nid.training",),
    "glider_plugins.detectors.nid_stages": ("glider_plugins.detectors.nid.stages",),
    "glider_plugins.detectors.nid_decoding": ("glider_plugins.detectors.nid.decoding",),
    "glider_plugins.detectors.nid_crosses": ("glider_plugins.detectors.nid.crosses", "glider_plugins.detectors.pure_effects.sets"),
    "glider_plugins.detectors.nid_refit": ("glider_plugins.detectors.nid.refit",),
}


def _forward(old: str, homes: tuple[str, ...], name: str) -> Any:
    """``old.name``: the first home that has ``name`` (``__all__``: every home's, joined)."""
    if name == "__all__":
        return [n for home in homes for n in getattr(importlib.import_module(home), "__all__", ())]
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(f"module {old!r} has no attribute {name!r}")
    for home in homes:
        module = importlib.import_module(home)
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {old!r} (moved to {homes[0]!r}) has no attribute {name!r}")


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the paths of :data:`MOVED` (after the real files) and makes their alias modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=False)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        old, homes = module.__name__, MOVED[module.__name__]
        module.__doc__ = f"Moved to :mod:`{homes[0]}` in 0.2; this alias goes in {REMOVED_IN}."
        module.__getattr__ = lambda name: _forward(old, homes, name)  # type: ignore[attr-defined]
        module.__dir__ = lambda: sorted(_forward(old, homes, "__all__"))  # type: ignore[attr-defined]
        # stacklevel 2: the warnings module skips importlib's frames, so this names the importing line
        warnings.warn(f"{old} moved to {homes[0]} in glider-plugins 0.2; the old path goes in {REMOVED_IN}",
                      DeprecationWarning, stacklevel=2)


_FINDER = _AliasFinder()


def install() -> None:
    """Put the alias finder last on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.append(_FINDER)
