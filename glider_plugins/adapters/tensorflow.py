"""TensorFlowAdapter: a Keras model, a ``tf.function``/callable on tensors, or a SavedModel.

TensorFlow is imported only here, when a TensorFlow model is actually used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelLoadError
from .base import Batch, InputSpec, ModelAdapter
from .callable import _positional_arity

__all__ = ["TensorFlowAdapter", "is_saved_model_dir"]


class TensorFlowAdapter(ModelAdapter):
    """Query a TensorFlow/Keras model with numpy batches.

    Parameters
    ----------
    model : keras.Model, tf.function, callable on tensors, or str/os.PathLike
        A Keras model (its declared inputs give names, dtypes and shapes; called with
        ``training=False`` inside a ``tf.function``), a function on tensors (a ``tf.function`` with
        an ``input_signature`` declares its inputs), or the path of a SavedModel directory (its
        serving signature declares named inputs; positional inputs follow the model's own order
        where the SavedModel records it, as Keras' ``model.export`` does, else the names sorted).
    signature : str, default "serving_default"
        Which signature of a SavedModel to call.
    compile : bool, default True
        Wrap a Keras model's call in ``tf.function`` (faster on repeated batches).
    **options
        See :class:`~glider_plugins.adapters.base.ModelAdapter`.
    """

    framework = "tensorflow"

    def __init__(self, model: Any, *, signature: str = "serving_default", compile: bool = True, **options: Any) -> None:
        super().__init__(**options)
        import tensorflow as tf

        self._tf = tf
        self._named_call = False
        self._arity: tuple[int, int | None] | None = None
        if isinstance(model, (str, os.PathLike)):
            model = _load_saved_model(model, signature)
            self._named_call = True
        self.model = model
        self._specs = _specs_of(model)
        if _is_keras_model(model):
            struct = getattr(model, "input", None)
            self._named_call = isinstance(struct, dict)
            call = (lambda *xs: model(dict(zip(self._names(), xs)) if self._named_call else (list(xs) if len(xs) > 1 else xs[0]), training=False))
            self._call = tf.function(call, reduce_retracing=True) if compile else call
        elif self._named_call:
            self._call = lambda *xs: model(**dict(zip(self._names(), xs)))
        else:
            self._call = model
            if self._specs is None:
                self._arity = _positional_arity(getattr(model, "python_function", model))

    def _names(self) -> list[str]:
        return [s.name for s in self._specs or ()]

    def input_specs(self) -> tuple[InputSpec, ...] | None:
        return self._specs

    def input_arity(self) -> tuple[int, int | None] | None:
        return self._arity

    def _to_tensor(self, array: np.ndarray) -> Any:
        if self._specs is None and array.dtype == np.float64:
            array = array.astype(np.float32)
        return self._tf.convert_to_tensor(array)

    def _predict(self, batch: Batch) -> Any:
        if isinstance(batch, dict):  # only without declared specs
            return _to_numpy(self._call(**{k: self._to_tensor(v) for k, v in batch.items()}))
        return _to_numpy(self._call(*(self._to_tensor(v) for v in batch)))


def _to_numpy(out: Any) -> Any:
    if isinstance(out, dict):
        return {k: _to_numpy(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return type(out)(_to_numpy(v) for v in out)
    to_np = getattr(out, "numpy", None)
    return to_np() if callable(to_np) else out


def is_saved_model_dir(path: Any) -> bool:
    """True when ``path`` is a directory holding a TensorFlow SavedModel."""
    return isinstance(path, (str, os.PathLike)) and Path(path).is_dir() and (Path(path) / "saved_model.pb").is_file()


def _load_saved_model(path: str | os.PathLike, signature: str) -> Any:
    import tensorflow as tf

    if not is_saved_model_dir(path):
        raise ModelLoadError(f"model: '{path}' is not a TensorFlow SavedModel directory (no saved_model.pb in it)")
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as exc:
        raise ModelLoadError(f"model: could not load the SavedModel at '{path}': {exc}") from exc
    signatures = dict(getattr(loaded, "signatures", {}) or {})
    if signature not in signatures:
        raise ModelLoadError(f"signature={signature!r} is not in the SavedModel at '{path}'; it has {sorted(signatures)}")
    fn = signatures[signature]
    fn._glider_keepalive = loaded  # the signature needs its object alive
    fn._glider_input_order = _positional_order(loaded)
    return fn


def _positional_order(loaded: Any) -> list[str]:
    """Input names in the model's own positional order, read from a Keras export's ``serve``
    endpoint; empty when the SavedModel has none (inputs are then ordered by name)."""
    serve = getattr(loaded, "serve", None)
    for concrete in getattr(serve, "concrete_functions", ()) or ():
        args, _ = concrete.structured_input_signature
        flat = [s for a in args for s in (a if isinstance(a, (list, tuple)) else [a])]
        names = [getattr(s, "name", None) for s in flat]
        if names and all(names):
            return names
    return []


def _is_keras_model(model: Any) -> bool:
    import sys

    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def _spec(name: str, dtype: Any, shape: Any) -> InputSpec:
    dims = None if shape is None else tuple(None if d is None else int(d) for d in shape)
    np_dtype = None
    if dtype is not None:
        np_dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
    return InputSpec(name=name, dtype=np_dtype, shape=dims)


def _specs_of(model: Any) -> tuple[InputSpec, ...] | None:
    """Declared inputs of a Keras model, a signature function, or a tf.function with a signature."""
    if _is_keras_model(model):
        struct = getattr(model, "input", None) if getattr(model, "built", True) else None
        if struct is None:
            return None
        if isinstance(struct, dict):
            return tuple(_spec(k, t.dtype, t.shape) for k, t in struct.items())
        tensors = struct if isinstance(struct, (list, tuple)) else [struct]
        return tuple(_spec(t.name, t.dtype, t.shape) for t in tensors)
    structured = getattr(model, "structured_input_signature", None)
    if structured is not None:  # a concrete function (SavedModel signature)
        args, kwargs = structured
        if kwargs:
            order = [n for n in getattr(model, "_glider_input_order", []) if n in kwargs]
            names = order if len(order) == len(kwargs) else sorted(kwargs)
            return tuple(_spec(k, kwargs[k].dtype, kwargs[k].shape) for k in names)
        return tuple(_spec(s.name or f"input_{k}", s.dtype, s.shape) for k, s in enumerate(args))
    signature = getattr(model, "input_signature", None)
    if signature:
        return tuple(_spec(s.name or f"input_{k}", s.dtype, s.shape) for k, s in enumerate(signature))
    return None
