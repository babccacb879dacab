"""The user guide and the API reference build without a single warning (as ``tox -e docs`` does).

Run in the test suite so that a docstring that breaks the reference fails CI, not only the docs env.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "glider-plugins" in index
    guide = (tmp_path / "html" / "guide" / "benchmarks.html").read_text()  # the user guide, from Markdown
    assert "Images and text: the indices a budget can identify" in guide and "<table" in guide
    api = (tmp_path / "html" / "api" / "core.html").read_text()
    for name in ("InteractionAttribution", "attribute_interactions", "Glider", "to_shapiq"):
        assert name in api, name
