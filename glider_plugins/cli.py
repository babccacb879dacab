"""The ``glider`` command. Thin: every subcommand calls the public API and prints.

Subcommands register themselves in :data:`COMMANDS` (name -> ``(help, add_arguments, run)``), so a
new one is a function pair and a line, not a change to :func:`main`.

``glider plugins``
    Table of every registered perturbation scheme, detector, encoder and adapter, with the plugin
    (and installed distribution) that provides it.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

__all__ = ["COMMANDS", "build_parser", "main"]


# ------------------------------------------------------------------------------------ glider plugins
def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    from .plugins import KINDS

    parser.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable); default: all")


def _plugins_run(args: argparse.Namespace, out: TextIO) -> int:
    from .plugins import BLOCK_ENV, KINDS, blocked_plugins, plugin_distributions, registrations

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
}


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of :data:`COMMANDS`."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="glider", description="Feature-interaction detection (MADEX/GLIDER) with plugins.")
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
    from .errors import GliderError

    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            status = int(args.run(args, out or sys.stdout))
        except GliderError as exc:
            print(f"glider {args.command}: error: {exc}", file=sys.stderr)
            status = 2
    for warning in caught:  # one line each, without our source lines
        print(f"glider {args.command}: warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
