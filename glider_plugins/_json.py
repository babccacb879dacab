"""JSON export and import shared by the result classes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["jsonable", "read_document", "write_document"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars turned into plain Python, recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_document(document: dict[str, Any], path: str | os.PathLike | None = None, indent: int | None = None) -> str:
    """Serialise ``document`` to JSON; also write it to ``path`` when given."""
    text = json.dumps(document, indent=indent)
    if path is not None:
        Path(path).write_text(text)
    return text


def read_document(source: str | os.PathLike, format_tag: str, what: str) -> tuple[dict[str, Any], str]:
    """Parse a JSON string or file written by ``what.to_json`` and check its format tag.

    Returns
    -------
    document : dict
    label : str
        How to name the source in later error messages.

    Raises
    ------
    InputError
        When ``source`` is neither a file nor JSON text, does not parse, or has another format.
    """
    is_file = _is_path(source)
    label = f"source {str(source)!r}" if is_file else "source"
    text = Path(source).read_text() if is_file else str(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if not is_file and not text.lstrip().startswith(("{", "[")):
            raise InputError(f"source: {text[:200]!r} is neither an existing file nor JSON text") from exc
        raise InputError(f"{label}: does not parse as JSON written by {what}.to_json ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != format_tag:
        raise InputError(f"{label}: not a {what} JSON document (expected format {format_tag!r})")
    return data, label


def _is_path(source: Any) -> bool:
    if isinstance(source, os.PathLike):
        return True
    text = str(source)
    return not text.lstrip().startswith(("{", "[")) and len(text) < 4096 and Path(text).is_file()
