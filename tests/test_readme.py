"""The README is a landing page that cannot rot: its Python blocks run, in order, as a user would
paste them; it stays short; its links into the user guide resolve; its first lines are the two
set-up commands (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)  # the quick start writes res.json
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    res, g = namespace["res"], namespace["g"]
    assert [features for features, _ in res[0].interactions] == [(0, 1), (2, 3, 4)]
    assert {features for features, _ in g.top(2)} == {(0, 1), (2, 3, 4)}
    assert list(namespace["crosses"].columns) == ["x2_x_x3_x_x4", "x0_x_x1"]


def test_the_readme_is_short_starts_with_the_two_commands_and_links_resolve():
    lines = README.splitlines()
    assert len(lines) <= 250
    commands = [line for line in lines[:6] if line.startswith("python3 -m")]
    assert commands[0].startswith("python3 -m pip install tox && python3 -m tox -e demo")
    assert commands[1].startswith("python3 -m pip install tox && python3 -m tox ")
    links = re.findall(r"\]\(((?:docs|examples)/[^)#]+)\)", README)
    assert any(link.startswith("docs/guide/") for link in links)
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing
