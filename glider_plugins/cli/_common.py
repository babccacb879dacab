"""Small helpers shared by the subcommands."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["check_out"]


def check_out(path: str | None, arg: str = "--out", table: bool = False) -> None:
    """Fail before any work when ``path``'s folder does not exist (``table``: or when it is not a
    CSV/Parquet file name)."""
    if path is None:
        return
    if not Path(path).resolve().parent.is_dir():
        raise InputError(f"{arg}: the folder {str(Path(path).parent)!r} does not exist; create it first")
    if table:
        from ..pipeline.tabular import table_kind

        table_kind(Path(path), arg)
