"""What the built package ships: its type hints (PEP 561), its licence, one version."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import glider_plugins

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once():
    """pyproject.toml reads ``glider_plugins.__version__``; the installed metadata says the same."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "glider_plugins.__version__"}
    assert importlib.metadata.version("glider-plugins") == glider_plugins.__version__


def test_the_citation_and_the_changelog_name_the_version():
    """CITATION.cff (read by GitHub, not by Python) carries a copy of the version: it must match,
    and the changelog has a section for it."""
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r'(?m)^version: "?([^"\s]+)"?$', citation).group(1) == glider_plugins.__version__
    assert "family-names: Tsang" in citation and "Neural Interaction Detection" in citation
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{glider_plugins.__version__}]" in changelog


def _source_copy(folder: Path) -> Path:
    """The project's files without build leftovers (``build/``, ``*.egg-info``, caches): a wheel
    built in the checkout itself would ship whatever an older build left in ``build/lib``."""
    leftovers = shutil.ignore_patterns(".git", ".tox", "build", "dist", "*.egg-info", "__pycache__", "_build", "glider-demo*")
    return Path(shutil.copytree(ROOT, folder / "source", ignore=leftovers))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    source = _source_copy(folder)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", str(source),
                           "-w", str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return next(folder.glob("glider_plugins-*.whl"))


def test_the_wheel_ships_type_hints_licence_and_the_version(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        fields = archive.read(metadata).decode()
        licence = archive.read(next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    assert "glider_plugins/py.typed" in names
    assert re.search(rf"(?m)^Version: {re.escape(glider_plugins.__version__)}$", fields)
    assert re.search(r"(?m)^License-Expression: Apache-2.0$", fields)
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert wheel.name.startswith(f"glider_plugins-{glider_plugins.__version__}-")


def test_the_package_is_silent_unless_the_application_configures_logging():
    """A library adds only a NullHandler to its logger; the application picks what is shown."""
    import logging

    handlers = logging.getLogger("glider_plugins").handlers
    assert handlers and all(isinstance(h, logging.NullHandler) for h in handlers)


def test_glider_shows_no_progress_bar_unless_asked(capsys):
    """Captum's default: ``show_progress=False``; ``True`` draws the chunk bar on stderr."""
    import numpy as np

    from glider_plugins import Glider

    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(6, 4))
    model = lambda rows: rows[:, 0] * rows[:, 1] + rows[:, 2]
    quiet = Glider(model).detect(x, n_samples=100, top_k=3, seed=0)
    assert "%|" not in capsys.readouterr().err  # no tqdm bar
    shown = Glider(model).detect(x, n_samples=100, top_k=3, seed=0, show_progress=True)
    assert "%|" in capsys.readouterr().err  # tqdm's bar
    assert quiet.counts == shown.counts
