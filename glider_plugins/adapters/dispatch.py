"""``adapt()``: recognise what a model is and wrap it in the right adapter.

Recognition goes through the plugin hook ``glider_adapt_model`` (third-party plugins first, the
built-in recogniser :func:`builtin_adapter` last), so a plugin can teach ``adapt`` a new model type
without changes here. Frameworks are never imported just to recognise a model: a Keras model can
only exist once Keras was imported, so we look in ``sys.modules``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .base import ModelAdapter

__all__ = ["adapt", "builtin_adapter", "FRAMEWORKS"]

#: Names accepted by ``adapt(model, framework=...)``.
FRAMEWORKS = ("torch", "tensorflow", "onnx", "callable")
#: File suffixes loaded with ``torch.jit.load`` and ``keras.models.load_model``.
TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def adapt(model: Any, framework: str | None = None, **options: Any) -> ModelAdapter:
    """Wrap ``model`` behind the single query interface.

    Parameters
    ----------
    model : torch.nn.Module, keras.Model, tf.function, onnx.ModelProto, onnxruntime.InferenceSession, path, bytes or callable
        A ``.onnx`` path or bytes -> ONNX; a SavedModel directory -> TensorFlow; a TorchScript file
        (``.pt``, ``.pth``, ``.ts``, saved with ``torch.jit.save``) -> torch; a Keras file
        (``.keras``, ``.h5``, ``.hdf5``) -> TensorFlow; a plain callable -> numpy in, numpy out. An existing :class:`ModelAdapter` is returned unchanged (options
        then must be empty).
    framework : {"torch", "tensorflow", "onnx", "callable"}, optional
        Force an adapter, e.g. ``framework="torch"`` for a plain function on torch tensors.
    **options
        Passed to the adapter (``target``, ``output``, ``batch_size``, ``device``, ...), e.g.
        ``output_name`` for a model with several outputs (a name or position; default for an ONNX
        model: its first floating-point output, so a scikit-learn classifier's probabilities
        rather than its int64 label, logged and kept in ``adapter.output_used_``).

    Returns
    -------
    ModelAdapter
        ``adapter(batch)`` returns a numpy array of shape (N,).
    """
    if isinstance(model, ModelAdapter):
        if options or framework:
            raise InputError(f"model is already a {type(model).__name__}; options {sorted(options)} cannot be applied to it")
        return model
    if framework is not None:
        return _by_framework(model, framework, options)
    from ..plugins import adapt_model

    adapter = adapt_model(model, dict(options))
    if adapter is None:
        raise InputError(
            f"model: cannot tell how to query a {type(model).__module__}.{type(model).__name__}; pass a torch.nn.Module, "
            "a Keras model, an ONNX path/bytes/ModelProto/InferenceSession, a SavedModel directory or a callable, "
            f"or force one with framework= (one of {FRAMEWORKS})"
        )
    return adapter


def builtin_adapter(model: Any, options: dict[str, Any]) -> ModelAdapter | None:
    """The built-in recogniser (registered through the ``glider_adapt_model`` hook)."""
    kind = _recognise(model)
    return None if kind is None else _by_framework(model, kind, options)


def _by_framework(model: Any, framework: str, options: dict[str, Any]) -> ModelAdapter:
    if framework == "torch":
        from .torch import TorchAdapter as cls
    elif framework == "tensorflow":
        from .tensorflow import TensorFlowAdapter as cls
    elif framework == "onnx":
        from .onnx import OnnxAdapter as cls
    elif framework == "callable":
        from .callable import CallableAdapter as cls
    else:
        raise InputError(f"framework={framework!r} is unknown; expected one of {FRAMEWORKS}")
    model = _load_file(model, framework)
    unknown = sorted(set(options) - _adapter_options(cls))
    if unknown:
        raise InputError(
            f"unknown adapter option(s) {unknown} for a {framework} model; the {cls.__name__} takes "
            f"{sorted(_adapter_options(cls))} (detector options such as n_samples or fit_order go to attribute(...) / detect(...))"
        )
    return cls(model, **options)


def _load_file(model: Any, framework: str) -> Any:
    """A TorchScript or Keras file loaded (other models and paths are returned unchanged)."""
    if not isinstance(model, (str, os.PathLike)):
        return model
    path = Path(model)
    suffix = path.suffix.lower()
    if framework == "torch" and suffix in TORCHSCRIPT_SUFFIXES:
        return _load_with(path, "TorchScript", _torchscript, "save it with torch.jit.save(torch.jit.script(module), path) "
                          "(a torch.save'd module or state dict cannot be loaded without its Python class)")
    if framework == "tensorflow" and suffix in KERAS_SUFFIXES:
        return _load_with(path, "Keras", _keras, "save it with model.save(path) (Keras 3: .keras files)")
    return model


def _torchscript(path: Path) -> Any:
    import torch

    return torch.jit.load(str(path), map_location="cpu")


def _keras(path: Path) -> Any:
    import keras

    return keras.models.load_model(str(path), compile=False)


def _load_with(path: Path, kind: str, load: Any, hint: str) -> Any:
    from ..errors import ModelLoadError

    if not path.is_file():
        raise ModelLoadError(f"model: no {kind} file at '{path}'")
    try:
        return load(path)
    except ImportError as exc:
        raise ModelLoadError(f"model: loading the {kind} file '{path}' needs {exc.name or 'its framework'} installed") from exc
    except Exception as exc:  # each framework raises its own kinds for a bad file
        raise ModelLoadError(f"model: could not load '{path}' as a {kind} file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); {hint}") from exc


def _adapter_options(cls: type) -> set[str]:
    """The keyword arguments ``cls`` and the adapter classes it passes ``**options`` on to take."""
    import inspect

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        names |= {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names - {"model", "func", "module", "path"}


def _instance_of(model: Any, module: str, *names: str) -> bool:
    mod = sys.modules.get(module)
    if mod is None:
        return False
    for name in names:
        obj: Any = mod
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, type) and isinstance(model, obj):
            return True
    return False


def _recognise(model: Any) -> str | None:
    if _instance_of(model, "torch", "nn.Module", "jit.ScriptModule"):
        return "torch"
    if _instance_of(model, "onnxruntime", "InferenceSession") or _instance_of(model, "onnx", "ModelProto"):
        return "onnx"
    if isinstance(model, (bytes, bytearray)):
        return "onnx"
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir() and (path / "saved_model.pb").is_file():
            return "tensorflow"
        if path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
            return "torch"
        if path.suffix.lower() in KERAS_SUFFIXES:
            return "tensorflow"
        if path.suffix.lower() == ".onnx" or path.is_file():
            return "onnx"  # the ONNX adapter says clearly when the file is not ONNX
        return "onnx" if not path.exists() else None
    if _instance_of(model, "keras", "Model") or _instance_of(model, "tensorflow", "Module"):
        return "tensorflow"
    if type(model).__module__.startswith(("tensorflow", "keras")) and callable(model):
        return "tensorflow"
    if callable(model):
        return "callable"
    return None
