"""The layout of the package (issue 23): the layers are a contract a tool checks, 0.1's import paths
still work (with a DeprecationWarning where a module moved), and what 0.1 wrote still loads."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from glider_plugins import AttributionResult, Glider, GlobalInteractions, InteractionAttribution
from glider_plugins._moved import MOVED
from glider_plugins.detectors import NIDDetector
from glider_plugins.detectors.auto import MoebiusHandOver
from glider_plugins.detectors.moebius import MoebiusDetector
from glider_plugins.errors import InputError, InputTypeError
from glider_plugins.plugins import make_detector
from tests.groundtruth.planted import planted_function, planted_instances

ROOT = Path(__file__).resolve().parents[1]
OLD = ROOT / "tests" / "data" / "v0_1"  # written by 0.1.0 (make_fixtures.py there)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PUBLIC_NAMES = json.loads((OLD / "public_names.json").read_text())


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / ".importlinter")], cwd=package_parent,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is installed by the dev extra")
def test_the_layer_contracts_hold_and_break_on_an_import_upwards_or_in_a_circle(tmp_path):
    kept = _lint_imports(ROOT)
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert "6 kept, 0 broken" in kept.stdout
    # the same contracts on a copy with one import inside a function that goes up a layer and one
    # that closes a circle between two detector families: both are caught
    shutil.copytree(ROOT / "glider_plugins", tmp_path / "glider_plugins", ignore=shutil.ignore_patterns("__pycache__"))
    design = tmp_path / "glider_plugins" / "detectors" / "moebius" / "design.py"
    design.write_text(design.read_text() + "\n\ndef _hand_over():\n    from ..nid.refit import refit\n    from ...glider import Glider\n\n    return refit, Glider\n")
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "glider_plugins.detectors.moebius.design -> glider_plugins.glider" in broken.stdout
    assert "glider_plugins.detectors.moebius.design -> glider_plugins.detectors.nid.refit" in broken.stdout


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_every_public_name_of_0_1_still_imports_from_its_0_1_path(module):
    moved = module in MOVED
    if moved:
        sys.modules.pop(module, None)  # an alias warns when it is imported (real modules are never re-run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        __import__(module)  # as an import statement does it
        old = sys.modules[module]
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning) and module in str(w.message)]
    if moved:
        assert len(deprecations) == 1 and MOVED[module][0] in str(deprecations[0].message)
        assert deprecations[0].filename == __file__  # it names the importing line, not importlib
        homes = [importlib.import_module(home) for home in MOVED[module]]
    else:
        assert deprecations == []
    for name in PUBLIC_NAMES[module]:
        value = getattr(old, name)
        if moved:
            assert any(getattr(home, name, None) is value for home in homes), name


def test_an_alias_refuses_a_name_its_module_never_had():
    with pytest.warns(DeprecationWarning):
        sys.modules.pop("glider_plugins.chunking", None)
        chunking = importlib.import_module("glider_plugins.chunking")
    with pytest.raises(AttributeError, match="moved to 'glider_plugins.glider.chunks'.*no attribute 'nothing_here'"):
        chunking.nothing_here  # noqa: B018
    with pytest.raises(ImportError):
        importlib.import_module("glider_plugins.not_a_module")


def test_results_written_by_0_1_load_unchanged():
    result = AttributionResult.from_json(OLD / "attribution.json")
    again = InteractionAttribution(planted_function, detector=result[0].metadata["detector"]).attribute_interactions(
        planted_instances(12, seed=3)[:3], baselines=0.0, n_samples=300, seed=0, feature_names=[f"f{i}" for i in range(12)])
    assert [r.interactions for r in result] == [r.interactions for r in again]
    np.testing.assert_array_equal(result.pairwise(), again.pairwise())
    assert result.to_shapiq(0).dict_values == again.to_shapiq(0).dict_values
    for name in ("moebius", "nid", "auto"):
        assert GlobalInteractions.from_json(OLD / f"global_{name}.json").n_instances == 12


@pytest.mark.parametrize(("name", "detector"), [("moebius", MoebiusDetector(fit_order=3)),
                                                ("nid", NIDDetector(max_order=3, patience=0)), ("auto", "auto")])
def test_checkpoints_written_by_0_1_resume_without_a_new_query(tmp_path, name, detector):
    """The detector classes keep the module path 0.1 wrote into checkpoint headers (a header that
    differs is refused), so a 0.1 run resumes: both chunks are read back and the result is 0.1's."""
    folder = tmp_path / "checkpoint"
    shutil.copytree(OLD / f"checkpoint_{name}", folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a callable is fingerprinted by its code
        glider = Glider(planted_function, detector=detector)
        resumed = glider.detect(planted_instances(12, seed=3), checkpoint=folder, top_k=3, baselines=0.0, seed=5,
                                chunk_size=6, show_progress=False, n_samples=300)
    assert resumed.metadata["resumed_chunks"] == 2  # both chunks read back: nothing detected again
    assert resumed == GlobalInteractions.from_json(OLD / f"global_{name}.json")


def test_hand_overs_are_asked_for_by_name_and_decided_by_auto():
    handing = make_detector("moebius", fallback=True)
    assert type(handing) is MoebiusHandOver and isinstance(handing, MoebiusDetector)
    assert handing.get_params()["fallback"] is True and type(handing)(**handing.get_params()).get_params() == handing.get_params()
    assert type(make_detector("moebius")) is MoebiusDetector
    with pytest.raises(InputError, match="decided by AutoDetector.*detector='auto'"):
        MoebiusDetector(fallback=True)
    with pytest.raises(InputTypeError, match="fallback must be True or False"):
        make_detector("moebius", fallback="yes")
    assert isinstance(make_detector("auto").resolve(12, 1000), MoebiusHandOver)
    assert type(make_detector("auto", fallback=False).resolve(12, 1000)) is MoebiusDetector


def _map_block() -> str:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    return text.split("<!-- map:start -->")[1].split("<!-- map:end -->")[0]


def test_the_map_names_every_package_and_every_layered_module():
    """ARCHITECTURE.md's map (shown in the user guide) names each top-level package and module of
    glider_plugins, and the modules of the four packages with layers of their own."""
    block = _map_block()
    package = ROOT / "glider_plugins"
    top = [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()]
    top += [p.name for p in package.glob("*.py") if p.name != "__init__.py"]
    assert [name for name in sorted(top) if name not in block] == []
    inner = {"detectors": ["auto.py", "archdetect.py", "fourier/", "moebius/", "nid/", "pure_effects/", "base.py"],
             "glider": ["glider.py", "checkpoint.py", "executors.py", "chunks.py", "models.py"],
             "explain": ["attribution.py", "groups.py", "detection.py", "querying.py", "formatting.py", "calls.py", "reproducibility.py"],
             "results": ["attribution.py", "local.py", "global_interactions.py"]}
    for name, members in inner.items():
        present = sorted(f"{p.name}/" if p.is_dir() else p.name for p in (package / name).iterdir()
                         if p.name not in ("__init__.py", "__pycache__"))
        assert present == sorted(members), name
        assert all(member in block for member in members), name
