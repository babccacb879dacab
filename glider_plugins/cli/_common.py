"""Small helpers shared by the subcommands."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["check_out"]


def check_out(path: str | None, arg: str = "--out") -> None:
    """Fail before any work when ``path``'s folder does not exist."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        raise InputError(f"{arg}: the folder {str(Path(path).parent)!r} does not exist; create it first")
