"""The built-in schemes, detectors, encoders and adapters, registered as an ordinary plugin.

The plugin manager registers this module under the plugin name ``"builtins"`` through the very same
hooks a third-party plugin implements; nothing else knows about built-ins. Unregister it
(``get_plugin_manager().unregister(name="builtins")``) and the names disappear.

Implementations are not imported here: each name maps to a :class:`LazyFactory` that imports its
class on first use, so listing what is available stays cheap (no torch, no TensorFlow).
"""

from __future__ import annotations

import importlib
from typing import Any

from .hookspecs import hookimpl

__all__ = ["LazyFactory"]


class LazyFactory:
    """A factory that imports its target (``"package.module:Attribute"``) on first use.

    Calling it calls the target (for a class: builds an instance); any other attribute is looked up
    on the target, so a lazily registered class behaves like the class for ``Cls(...)`` and
    ``Cls.some_classmethod(...)``. :meth:`resolve` returns the target itself.

    Parameters
    ----------
    path : str
        ``"module.path:attribute"``.

    Examples
    --------
    >>> factory = LazyFactory("fractions:Fraction")
    >>> factory(3, 6)
    Fraction(1, 2)
    """

    def __init__(self, path: str) -> None:
        module, sep, attribute = path.partition(":")
        if not sep or not module or not attribute:
            raise ValueError(f"LazyFactory path must look like 'package.module:Attribute', got {path!r}")
        self.path = path
        self._target: Any = None

    def resolve(self) -> Any:
        """Import and return the target (cached)."""
        if self._target is None:
            module, _, attribute = self.path.partition(":")
            target: Any = importlib.import_module(module)
            for part in attribute.split("."):
                target = getattr(target, part)
            self._target = target
        return self._target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("path", "_target"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return f"LazyFactory({self.path!r})"


@hookimpl
def glider_register_perturbations() -> dict[str, LazyFactory]:
    return {
        "binary": LazyFactory("glider_plugins.perturbations.binary:BinaryPerturbation"),
        "segment_mean": LazyFactory("glider_plugins.perturbations.segment_mean:SegmentMeanPerturbation"),
        "token": LazyFactory("glider_plugins.perturbations.token:TokenPerturbation"),
    }


@hookimpl
def glider_register_detectors() -> dict[str, LazyFactory]:
    return {
        "nid": LazyFactory("glider_plugins.detectors.nid:NIDDetector"),
        "archdetect": LazyFactory("glider_plugins.detectors.archdetect:ArchDetectDetector"),
        "moebius": LazyFactory("glider_plugins.detectors.auto:moebius_detector"),  # fallback=True: with hand-overs
        "auto": LazyFactory("glider_plugins.detectors.auto:AutoDetector"),
        "fourier": LazyFactory("glider_plugins.detectors.fourier:FourierDetector"),
    }


@hookimpl
def glider_register_encoders() -> dict[str, LazyFactory]:
    return {"cross": LazyFactory("glider_plugins.encoders.cross:CrossFeatureEncoder")}


@hookimpl
def glider_register_adapters() -> dict[str, LazyFactory]:
    return {
        "torch": LazyFactory("glider_plugins.adapters.torch:TorchAdapter"),
        "tensorflow": LazyFactory("glider_plugins.adapters.tensorflow:TensorFlowAdapter"),
        "onnx": LazyFactory("glider_plugins.adapters.onnx:OnnxAdapter"),
        "callable": LazyFactory("glider_plugins.adapters.callable:CallableAdapter"),
    }


@hookimpl(trylast=True)
def glider_adapt_model(model: Any, options: dict[str, Any]) -> Any:
    """The built-in recognisers (torch, Keras/SavedModel, ONNX, callables); asked last."""
    from ..adapters.dispatch import builtin_adapter

    return builtin_adapter(model, options)
