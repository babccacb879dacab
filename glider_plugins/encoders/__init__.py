"""Encoders: scikit-learn style transformers that build new feature columns (e.g. crosses).

:class:`~glider_plugins.encoders.base.Encoder` says what an encoder implements; encoders are
registered by name through the plugin hook ``glider_register_encoders`` and built with
:func:`glider_plugins.plugins.make_encoder`.
"""

from __future__ import annotations

from typing import Any

from .base import Encoder, NotFittedError

__all__ = ["CrossFeatureEncoder", "Encoder", "NotFittedError"]


def __getattr__(name: str) -> Any:
    if name == "CrossFeatureEncoder":  # imported on first use, like the registry's LazyFactory
        from .cross import CrossFeatureEncoder

        return CrossFeatureEncoder
    raise AttributeError(f"module 'glider_plugins.encoders' has no attribute {name!r}")
