"""Sphinx configuration: the API reference, built from the numpy-style docstrings.

Build it with ``tox -e docs`` (warnings are errors), or by hand::

    python -m sphinx -E -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import glider_plugins  # noqa: E402

project = "glider-plugins"
author = "glider-plugins developers"
copyright = "2026, glider-plugins developers"
release = glider_plugins.__version__  # the one version source
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode", "myst_parser"]
# the user guide (docs/guide/*.md) is Markdown, read by MyST; headings get anchors for links
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []

# numpy-style docstrings (napoleon); the signature keeps the type hints, the text the numpydoc types
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# an "Attributes" entry that is also a property is one description, not two
napoleon_use_ivar = True
napoleon_preprocess_types = False
napoleon_use_admonition_for_examples = False
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_class_signature = "mixed"
# names in hints and numpydoc types (array-like, "N, p", torch.nn.Module) are prose, not references
nitpicky = False


# A shape written as Python unpacking, (N, *shape_k), is text: its star is not the start of an emphasis
_UNPACKING_STAR = re.compile(r"(?:(?<=\()|(?<=, ))\*(?=\w)")


def escape_unpacking_stars(app, what, name, obj, options, lines: list[str]) -> None:
    """``autodoc-process-docstring``: escape the stars of ``(N, *shape_k)`` outside ``literals``."""
    for i, line in enumerate(lines):
        parts = line.split("``")
        parts[::2] = [_UNPACKING_STAR.sub(r"\\*", part) for part in parts[::2]]
        lines[i] = "``".join(parts)


class CliHelp(SphinxDirective):
    """``.. glider-cli-help::``: the ``glider`` command's module text and ``--help``, and each
    subcommand's ``--help``, as literal blocks (the text is the terminal's, not reStructuredText)."""

    def run(self) -> list[nodes.Node]:
        import inspect

        import glider_plugins.cli
        from glider_plugins.cli import build_parser

        # as the terminal shows it: no ``literal`` quotes or :role:`...` markup
        overview = re.sub(r":\w+:`~?([^`]+)`", r"\1", (inspect.getdoc(glider_plugins.cli) or "").replace("``", ""))
        parser = build_parser()
        sections = [("Overview", overview), ("glider", parser.format_help())]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sections += [(f"glider {name}", command.format_help()) for name, command in sub.choices.items()]
        out: list[nodes.Node] = []
        for title, text in sections:
            section = nodes.section(ids=[nodes.make_id(title)], names=[nodes.fully_normalize_name(title)])
            section += nodes.title(text=title)
            section += nodes.literal_block(text, text)
            out.append(section)
        return out


def setup(app):  # noqa: D103 - Sphinx's hook
    os.environ["COLUMNS"] = "100"  # argparse wraps --help to this width, whatever the terminal
    app.add_directive("glider-cli-help", CliHelp)
    app.connect("autodoc-process-docstring", escape_unpacking_stars)
    return {"parallel_read_safe": True}
