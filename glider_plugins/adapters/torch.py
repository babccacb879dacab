"""TorchAdapter: a ``torch.nn.Module`` or a callable on tensors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .base import Batch, InputSpec, ModelAdapter, Static
from .callable import _positional_arity

__all__ = ["TorchAdapter"]


class TorchAdapter(ModelAdapter):
    """Query a PyTorch model with numpy batches.

    The module is put in eval mode and called under ``torch.inference_mode()``. Numpy inputs become
    tensors on ``device``: integer arrays as ``int64`` (ids for embeddings), floating arrays as the
    module's floating dtype (``float32`` unless its parameters say otherwise), booleans stay bool.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Called as ``model(*tensors)`` (positional inputs) or ``model(**tensors)`` (dict inputs).
    device : str or torch.device, optional
        Where to run; default: the device of the module's first parameter, else CPU.
    input_dtypes : sequence or dict of dtypes, optional
        Declare each input's dtype (numpy/torch dtype or name, e.g. ``("int64", "float32")``), so
        that inputs are checked and cast before the model sees them (floats into id inputs raise).
    input_names : sequence of str, optional
        Names of the positional inputs (for dict inputs and messages); default: ``forward``'s
        parameter names.
    **options
        See :class:`~glider_plugins.adapters.base.ModelAdapter` (``batch_size``, ``target``, ...).
    """

    framework = "torch"

    def __init__(
        self,
        model: torch.nn.Module | Callable[..., Any],
        *,
        device: str | torch.device | None = None,
        input_dtypes: Sequence[Any] | Mapping[str, Any] | None = None,
        input_names: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        if not callable(model):
            raise TypeError(f"model: expected a torch.nn.Module or a callable on tensors, got {type(model).__name__}")
        super().__init__(**options)
        self.model = model
        params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
        self.device = torch.device(device) if device is not None else (params[0].device if params else torch.device("cpu"))
        floats = [p.dtype for p in params if p.is_floating_point()]
        self.float_dtype = floats[0] if floats else torch.float32
        if isinstance(model, torch.nn.Module):
            model.eval()
            if device is not None:
                model.to(self.device)
        forward = model.forward if isinstance(model, torch.nn.Module) else model
        self._arity = _positional_arity(forward)
        self._specs = _specs_from_dtypes(input_dtypes, input_names, forward)

    def input_specs(self) -> tuple[InputSpec, ...] | None:
        return self._specs

    def input_arity(self) -> tuple[int, int | None] | None:
        return self._arity

    def _to_tensor(self, array: np.ndarray | Static) -> Any:
        if isinstance(array, Static):
            return array.value
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if tensor.is_floating_point():
            tensor = tensor.to(self.float_dtype)
        elif tensor.dtype != torch.bool:
            tensor = tensor.to(torch.int64)
        return tensor.to(self.device)

    def _predict(self, batch: Batch) -> Any:
        with torch.inference_mode():
            if isinstance(batch, dict):
                out = self.model(**{k: self._to_tensor(v) for k, v in batch.items()})
            else:
                out = self.model(*(self._to_tensor(v) for v in batch))
        return _detach(out)


def _detach(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.detach().float().cpu().numpy() if out.dtype in (torch.float16, torch.bfloat16) else out.detach().cpu().numpy()
    if isinstance(out, Mapping):
        return {k: _detach(v) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return type(out)(_detach(v) for v in out)
    return out


def _specs_from_dtypes(
    input_dtypes: Sequence[Any] | Mapping[str, Any] | None,
    input_names: Sequence[str] | None,
    forward: Callable[..., Any],
) -> tuple[InputSpec, ...] | None:
    if input_dtypes is None:
        return None
    if isinstance(input_dtypes, Mapping):
        names = list(input_dtypes)
        dtypes = [input_dtypes[n] for n in names]
    else:
        dtypes = list(input_dtypes)
        names = list(input_names) if input_names is not None else _parameter_names(forward, len(dtypes))
    if len(names) != len(dtypes):
        raise ValueError(f"input_names: got {len(names)} names for {len(dtypes)} input_dtypes")
    return tuple(InputSpec(name=n, dtype=_numpy_dtype(d)) for n, d in zip(names, dtypes))


def _parameter_names(forward: Callable[..., Any], count: int) -> list[str]:
    import inspect

    try:
        params = [p.name for p in inspect.signature(forward).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:count] if len(params) >= count else [f"input_{k}" for k in range(count)]


def _numpy_dtype(dtype: Any) -> np.dtype:
    if isinstance(dtype, torch.dtype):
        return torch.empty((), dtype=dtype).numpy().dtype
    return np.dtype(dtype)
