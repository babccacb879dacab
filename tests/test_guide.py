"""Every code block of the user guide runs, so no example can rot (issue 27).

Each page of ``docs/guide`` runs top to bottom in a fresh folder and one namespace, as a reader
pasting its blocks in order would:

* ``python`` blocks are executed; a block whose first line is a file name (``# my_plugin/plugin.py``)
  is that file's content and is written there instead;
* hidden set-up blocks (``<!-- guide-setup ... -->``, invisible in the rendered guide) make the
  objects a block takes as given (``model``, ``inputs``, ...), built from small real models;
* ``console`` blocks are transcripts: each ``$ command`` runs in bash (``glider`` is the installed
  command) and must print exactly the lines shown (a line ``...`` stands for any lines);
* ``bash`` blocks are commands a reader types: ``glider ...`` lines must parse with the CLI's own
  parser (the demo itself is ``tox -e demo``'s job), ``pip install --no-deps`` pins must be the
  ones the test environment installs, ``python examples/...`` scripts must exist and take the
  options shown, ``tox -e`` environments must exist;
* ``toml`` blocks must parse (an entry-point table becomes the installed metadata of the page's
  plugin); ``text`` blocks are printed output: not run, but a hidden block after one may check it
  against what the code prints or raises (``__text__``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from glider_plugins.plugins import reset_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md"))
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\s*$|^<!-- guide-setup\n(.*?)^-->\s*$", re.S | re.M)
FILE_HEADER = re.compile(r"#\s*([\w./-]+\.py)\s*$")
ELLIPSIS = "..."
TEST_PLUGINS = "broken_import,broken_hook,example"


@dataclass(frozen=True)
class Block:
    kind: str  # "python", "setup", "console", "bash", "toml", "text", ...
    code: str
    line: int


def read_blocks(text: str) -> list[Block]:
    """The fenced blocks and hidden set-up blocks of a Markdown page, in order."""
    blocks = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match.group(3) is not None:
            blocks.append(Block("setup", match.group(3), line))
        else:
            blocks.append(Block(match.group(1) or "text", match.group(2), line))
    return blocks


# ------------------------------------------------------------------------------------- running


def run_python(block: Block, page: Path, namespace: dict) -> None:
    first = block.code.splitlines()[0]
    header = FILE_HEADER.fullmatch(first)
    if block.kind == "python" and header:
        target = Path(header.group(1))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code)
        return
    exec(compile(block.code, f"{page.name}:{block.line}", "exec"), namespace)


def run_console(block: Block, page: Path) -> None:
    """Run each ``$ command`` of a transcript in one bash session and compare its output."""
    commands, expected = parse_transcript(block.code)
    script = ["glider() { " + shlex.quote(sys.executable) + ' -m glider_plugins.cli "$@"; }']
    for command in commands:
        # the marker keeps the exit status of the previous command for `echo $?`
        script += ["__status=$?; echo '@@command@@'; (exit $__status)", command]
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="100", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(["bash", "-c", "\n".join(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env, timeout=600)
    outputs = done.stdout.split("@@command@@\n")[1:]
    assert len(outputs) == len(commands), done.stdout
    for command, want, got in zip(commands, expected, outputs):
        assert matches(want, got.splitlines()), f"{page.name}:{block.line}: `$ {command}` printed\n{got}\nthe guide shows\n" + "\n".join(want)


def parse_transcript(code: str) -> tuple[list[str], list[list[str]]]:
    commands: list[str] = []
    outputs: list[list[str]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
            outputs.append([])
        else:
            assert commands, f"a transcript starts with a `$ command`, got {line!r}"
            outputs[-1].append(line)
    return commands, outputs


def matches(want: list[str], got: list[str]) -> bool:
    """``got`` equals ``want`` line by line (trailing spaces ignored); a ``...`` line takes any lines."""
    if not want:
        return not got
    if want[0].rstrip() == ELLIPSIS:
        return any(matches(want[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and want[0].rstrip() == got[0].rstrip() and matches(want[1:], got[1:])


def check_commands(block: Block, page: Path) -> None:
    """The commands of a ``bash`` block are ones that work here (see the module's docstring)."""
    for line in block.code.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "pip"]:
            words = words[2:]
        where = f"{page.name}:{block.line}: {command}"
        if words[0] == "glider":
            check_glider_command(words[1:], where)
        elif words[:2] == ["pip", "install"]:
            check_pins(words[2:], where)
        elif words[0] == "python" and words[1].startswith("examples/"):
            check_example(words[1:], where)
        elif words[0] == "tox":
            check_tox(words[1:], where)
        else:
            raise AssertionError(f"{where}: no check for this command; add one to tests/test_guide.py")


def synopsis_to_argv(words: list[str]) -> list[str]:
    """``[--out DIR]`` -> ``--out DIR``; ``gbt|deepfm`` -> ``gbt``; ``...`` dropped."""
    argv = []
    for word in words:
        word = word.strip("[]")
        if word and word != ELLIPSIS:
            argv.append(word.split("|")[0])
    return argv


def check_glider_command(words: list[str], where: str) -> None:
    from glider_plugins.cli.commands import build_parser

    try:
        build_parser().parse_args(synopsis_to_argv(words))
    except SystemExit as exit_:
        raise AssertionError(f"{where}: the CLI does not take these arguments") from exit_


def check_pins(words: list[str], where: str) -> None:
    tox = (ROOT / "tox.ini").read_text()
    for word in words:
        if word.startswith("-"):
            continue
        if "==" in word:
            assert word in tox, f"{where}: {word} is not what tox.ini installs"
        else:
            assert f" {word}==" not in tox, f"{where}: pin {word} as tox.ini does"


def check_example(words: list[str], where: str) -> None:
    script = ROOT / words[0]
    assert script.exists(), f"{where}: no such example"
    source = script.read_text()
    for option in (w for w in words[1:] if w.startswith("--")):
        assert f'"{option}"' in source, f"{where}: {words[0]} takes no {option}"


def check_tox(words: list[str], where: str) -> None:
    tox = (ROOT / "tox.ini").read_text()
    if "-e" in words:
        env = words[words.index("-e") + 1]
        assert f"[testenv:{env}]" in tox, f"{where}: tox.ini has no environment {env}"


def install_entry_points(namespace: dict, distribution: str, version: str = "0.1.0") -> None:
    """Make the entry points of the page's last ``toml`` block installed metadata on ``sys.path``."""
    points = namespace["__toml__"]["project"]["entry-points"]
    info = Path(f"{distribution.replace('-', '_')}-{version}.dist-info")
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    lines = []
    for group, entries in points.items():
        lines += [f"[{group}]"] + [f"{name} = {value}" for name, value in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------- tests


def test_the_guide_has_pages_and_blocks():
    assert len(PAGES) >= 8
    kinds = {block.kind for page in PAGES for block in read_blocks(page.read_text())}
    assert {"python", "setup", "console", "bash"} <= kinds
    unknown = kinds - {"python", "setup", "console", "bash", "toml", "text"}
    assert not unknown, f"add a way to run {unknown} blocks"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_block_of_the_page_runs(page, tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # files a page writes (a plugin) import from here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the test environment's own plugins (a deliberately broken one, the example) stay out of the
    # guide's outputs and names, as on a reader's machine
    monkeypatch.setenv("GLIDER_PLUGINS_BLOCK", TEST_PLUGINS)
    reset_plugin_manager()
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__guide__", "install_entry_points": install_entry_points, "ROOT": ROOT}
    for block in read_blocks(page.read_text()):
        if block.kind in ("python", "setup"):
            run_python(block, page, namespace)
        elif block.kind == "console":
            run_console(block, page)
        elif block.kind == "bash":
            check_commands(block, page)
        elif block.kind == "text":
            namespace["__text__"] = block.code  # printed output: a hidden block after it may check it
        elif block.kind == "toml":
            namespace["__toml__"] = pytest.importorskip("tomllib").loads(block.code)  # Python 3.11+
    reset_plugin_manager()
