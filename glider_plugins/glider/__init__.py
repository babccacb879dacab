"""GLIDER, the global stage: local detection on many instances, counted into global interactions.

Layers, top to bottom (each imports only those below it; ``tox`` checks it):

* :mod:`.glider`: :class:`Glider`, the run: format the data once, cut it into chunks, count;
* :mod:`.checkpoint` and :mod:`.executors`: chunk files a run resumes from; chunks run inline, on
  a ``concurrent.futures`` executor or a Dask ``Client``;
* :mod:`.chunks`: one chunk's local detection (a batched
  :meth:`~glider_plugins.InteractionAttribution.attribute_layout` call) and the counting;
* :mod:`.models`: the model in a form that travels to workers (:class:`ModelFactory`,
  :class:`TorchScriptBytes`).

The result, :class:`~glider_plugins.GlobalInteractions`, lives in :mod:`glider_plugins.results`
(below every stage: the encoders and pictures read it without importing GLIDER).
"""

from __future__ import annotations

from typing import Any

from ..results import GlobalInteractions
from . import glider as _glider
from .glider import Glider
from .models import ModelFactory, TorchScriptBytes

__all__ = ["Glider", "GlobalInteractions", "ModelFactory", "TorchScriptBytes"]


def __getattr__(name: str) -> Any:
    # 0.1's glider_plugins.glider was today's .glider module: its other names still resolve
    try:
        return getattr(_glider, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
