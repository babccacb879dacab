"""Encoders: scikit-learn style transformers that build new feature columns (e.g. crosses).

:class:`~glider_plugins.encoders.base.Encoder` says what an encoder implements; encoders are
registered by name through the plugin hook ``glider_register_encoders`` and built with
:func:`glider_plugins.plugins.make_encoder`.
"""

from __future__ import annotations

from .base import Encoder, NotFittedError

__all__ = ["Encoder", "NotFittedError"]
