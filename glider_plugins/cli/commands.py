"""The ``glider`` command's table of subcommands, its parser and :func:`main`; ``glider plugins``."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from .demo import demo_arguments, demo_run
from .encode import encode_arguments, encode_run
from .explain import explain_arguments, explain_run, global_arguments, global_run

__all__ = ["COMMANDS", "build_parser", "main"]


# ------------------------------------------------------------------------------------ glider plugins
def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    from ..plugins import KINDS

    parser.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable); default: all")


def _plugins_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..plugins import BLOCK_ENV, KINDS, blocked_plugins, plugin_distributions, registrations

    kinds = args.kind or list(KINDS)
    distributions = plugin_distributions()
    rows: list[tuple[str, ...]] = []
    conflicts = 0
    for kind in kinds:
        entries = registrations(kind)
        counts: dict[str, int] = {}
        for name, _ in entries:
            counts[name] = counts.get(name, 0) + 1
        for name, plugin in entries:
            note = "CONFLICT" if counts[name] > 1 else ""
            conflicts += counts[name] > 1
            rows.append((kind, name, plugin, distributions.get(plugin, "?"), note))
    header = ("KIND", "NAME", "PLUGIN", "DISTRIBUTION", "")
    _print_table(header, rows, out)
    blocked = blocked_plugins()
    if blocked:
        print(f"\nblocked by {BLOCK_ENV}: {', '.join(blocked)}", file=out)
    if conflicts:
        print("\nnames marked CONFLICT are registered by several plugins; uninstall or block all but one", file=out)
        return 1
    return 0


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)



#: Subcommands: name -> (help, add_arguments(parser), run(args, out) -> exit status).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace, TextIO], int]]] = {
    "plugins": ("list registered perturbations, detectors, encoders and adapters", _plugins_arguments, _plugins_run),
    "explain": ("top interactions of chosen rows of a table, for an ONNX, TorchScript or Keras model", explain_arguments, explain_run),
    "global": ("GLIDER global interactions of a model over a table, written as JSON", global_arguments, global_run),
    "encode": ("append cross-feature columns for the top interactions of an interactions JSON", encode_arguments, encode_run),
    "demo": ("the whole pipeline on MovieLens-100K (or the census table): AUC table and an HTML/PNG report", demo_arguments, demo_run),
}


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of :data:`COMMANDS`."""
    from .. import __version__
    from . import __doc__ as epilog

    parser = argparse.ArgumentParser(prog="glider", description="Feature-interaction detection (MADEX/GLIDER) with plugins.",
                                     epilog=_epilog(epilog or ""), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``glider`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    out : text stream, optional
        Where to print; default ``sys.stdout``.
    """
    from ..errors import GliderError

    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught, _library_log(args):
        warnings.simplefilter("default")
        try:
            status = int(args.run(args, out or sys.stdout))
        except GliderError as exc:
            print(f"glider {args.command}: error: {exc}", file=sys.stderr)
            status = 2
    for warning in caught:  # one line each, without our source lines
        print(f"glider {args.command}: warning: {warning.message}", file=sys.stderr)
    return status


@contextmanager
def _library_log(args: argparse.Namespace) -> Iterator[None]:
    """The library's log lines (the pipeline's steps) on stderr while a command runs, one line
    each (``--quiet``: warnings only); the logger is left as it was. The adapters' INFO lines
    (which ONNX output is explained) are left out of explain and global, whose header says it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"glider {args.command}: %(message)s"))
    if args.command in ("explain", "global"):  # their header names the output explained
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or not record.name.startswith("glider_plugins.adapters"))
    package = logging.getLogger("glider_plugins")
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(level)


def _epilog(doc: str) -> str:
    """The package docstring's part about models and columns, for ``glider --help``."""
    start = doc.find("MODEL is")
    return doc[start:].replace("``", "").strip() if start >= 0 else ""
