"""The model of a GLIDER run in a form that travels: what rebuilds the local explainer anywhere.

:class:`ModelSpec` is the model (or adapter) and how to explain it; :func:`portable_spec` turns it
into a copy that pickles (ONNX bytes, TorchScript bytes, a :class:`ModelFactory` built once per
worker process) and gets a content token, so each worker builds the model once however many
chunks it runs (:mod:`.executors`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputTypeError, ModelLoadError
from ..explain.attribution import InteractionAttribution

__all__ = ["ModelFactory", "ModelSpec", "TorchScriptBytes", "portable_spec"]


#: Attributions built in this process, by spec token (workers build each model once).
_BUILT: dict[str, InteractionAttribution] = {}
_BUILT_MAX = 4


@dataclass
class ModelSpec:
    """What rebuilds the local explainer anywhere: the model (or adapter) and how to explain it.

    Picklable when the model is; the built :class:`InteractionAttribution` is cached per object
    and never pickled. A spec with a ``token`` (set by
    :func:`portable_spec`, a hash of its pickled content) is also cached
    per process, so an executor's worker builds the model (an ONNX session, a loaded module) once,
    however many chunks it runs. A model with a ``load()`` method
    (:class:`ModelFactory`,
    :class:`TorchScriptBytes`) is loaded on first use.
    """

    model: Any
    detector: Any = "auto"
    perturbation: Any = "binary"
    adapter_options: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    _cache: InteractionAttribution | None = field(default=None, repr=False, compare=False)

    def attribution(self) -> InteractionAttribution:
        """The :class:`InteractionAttribution` for this spec (built on first use)."""
        if self._cache is None and self.token is not None:
            self._cache = _BUILT.get(self.token)
        if self._cache is None:
            self._cache = InteractionAttribution(_loaded(self.model), self.detector, self.perturbation, **self.adapter_options)
            if self.token is not None:
                while len(_BUILT) >= _BUILT_MAX:
                    _BUILT.pop(next(iter(_BUILT)))
                _BUILT[self.token] = self._cache
        return self._cache

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}


def _loaded(model: Any) -> Any:
    """A portable model (ModelFactory, TorchScriptBytes) becomes the model; others pass through."""
    return model.load() if isinstance(model, (ModelFactory, TorchScriptBytes)) else model


@dataclass(frozen=True)
class ModelFactory:
    """A model that workers rebuild: ``build()`` is called once per worker process.

    Parameters
    ----------
    build : callable
        A picklable zero-argument callable (a top-level function, ``functools.partial`` of one, or
        a class) returning anything :func:`~glider_plugins.adapters.adapt` accepts.
    key : str, optional
        Names the model in checkpoint headers (default: the callable's qualified name).

    Examples
    --------
    >>> spec = ModelFactory(functools.partial(load_my_model, "weights.pt"))  # doctest: +SKIP
    >>> Glider(spec).detect(X, executor=client, seed=0)                     # doctest: +SKIP
    """

    build: Callable[[], Any]
    key: str | None = None

    def load(self) -> Any:
        """Build the model."""
        return self.build()

    def describe(self) -> str:
        return self.key or f"{getattr(self.build, '__module__', '')}.{getattr(self.build, '__qualname__', type(self.build).__name__)}"


@dataclass(frozen=True)
class TorchScriptBytes:
    """A TorchScript module as ``torch.jit.save`` bytes (ScriptModules do not pickle)."""

    data: bytes

    @classmethod
    def from_module(cls, module: Any) -> TorchScriptBytes:
        import torch

        buffer = io.BytesIO()
        torch.jit.save(module, buffer)
        return cls(buffer.getvalue())

    def load(self) -> Any:
        """The module, loaded on the CPU."""
        import torch

        return torch.jit.load(io.BytesIO(self.data), map_location="cpu")

    def describe(self) -> str:
        return f"torchscript:{len(self.data)} bytes"


def portable_spec(spec: ModelSpec) -> ModelSpec:
    """A copy of ``spec`` whose model can be pickled and sent to worker processes.

    ONNX paths and protos become bytes, TorchScript modules :class:`TorchScriptBytes`; the copy
    gets a content token so workers build the model once per process.

    Raises
    ------
    InputTypeError
        When the model (or an adapter option) cannot be pickled; the message says what to pass.
    """
    import hashlib
    import pickle

    model = spec.model
    kind = type(model).__module__.split(".")[0]
    if isinstance(model, (str, os.PathLike)) and str(model).lower().endswith(".onnx"):
        try:
            with open(model, "rb") as handle:
                model = handle.read()
        except OSError as exc:
            raise ModelLoadError(f"model: could not read the ONNX file '{model}' ({exc})") from exc
    elif kind == "onnx" and hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif kind == "onnxruntime":
        raise InputTypeError(
            "model: an onnxruntime.InferenceSession cannot be sent to workers; pass the ONNX file path, its bytes or the onnx.ModelProto instead"
        )
    elif _is_torchscript(model):
        model = TorchScriptBytes.from_module(model)
    portable = ModelSpec(model, spec.detector, spec.perturbation, dict(spec.adapter_options))
    try:
        blob = pickle.dumps(portable, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # pickle raises many types
        raise InputTypeError(
            f"model: cannot be sent to the executor's workers because it does not pickle ({type(exc).__name__}: {exc}); "
            "pass ONNX bytes/path, a torch.nn.Module, a top-level function, or a ModelFactory that builds the model on each worker"
        ) from exc
    portable.token = hashlib.sha256(blob).hexdigest()
    return portable


def _is_torchscript(model: Any) -> bool:
    if not type(model).__module__.startswith("torch"):
        return False
    import torch

    return isinstance(model, torch.jit.ScriptModule)
