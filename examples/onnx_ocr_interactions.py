"""Which strokes act together in a real third-party ONNX model: PaddleOCR's text-direction classifier.

``rapidocr-onnxruntime`` ships ``models/ch_ppocr_mobile_v2.0_cls_infer.onnx``: given a line of
text (N, 3, 48, 192), it tells upright text (class "0") from text turned upside down ("180"). A
line rendered here with matplotlib, upright and turned, is explained as one batch through
onnxruntime: superpixels (SLIC) are the features, an "off" superpixel takes its mean colour
(``"segment_mean"``), and each image is explained for the class the model gives it. The model
ends in a softmax that saturates (p = 1.0000), so the explained score is that class's logit, the
softmax's input, exposed as an extra ONNX output. Padding to the model's width is one more
superpixel.

Needs (no download at run time)::

    pip install --no-deps rapidocr-onnxruntime   # only for its model file; never imported
    pip install onnxruntime scikit-image matplotlib

Run::

    python examples/onnx_ocr_interactions.py --out out/ocr --text "Hello GLIDER"

Writes ``ocr_overlay_upright.png``, ``ocr_overlay_turned.png`` and ``ocr_ranking_upright.png``
to ``--out`` and prints the top interactions.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

HEIGHT, WIDTH = 48, 192
LABELS = ["0", "180"]


def classifier_path() -> Path:
    """The direction classifier inside the rapidocr-onnxruntime wheel, found without importing it."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    path = Path(next(iter(spec.submodule_search_locations)), "models", "ch_ppocr_mobile_v2.0_cls_infer.onnx") if spec else None
    if path is None or not path.is_file():
        sys.exit("the OCR model is missing: pip install --no-deps rapidocr-onnxruntime")
    return path


def with_logits(path: Path) -> tuple[bytes, str]:
    """The model with the input of its final Softmax as an extra output, and that output's name.

    Its probabilities are 1.0000 for clear text lines, so their logarithm does not move under
    perturbation; the logits do.
    """
    import onnx

    model = onnx.load(str(path))
    softmax = next(node for node in reversed(model.graph.node) if node.op_type == "Softmax")
    model.graph.output.append(onnx.helper.make_tensor_value_info(softmax.input[0], onnx.TensorProto.FLOAT, None))
    return model.SerializeToString(), softmax.input[0]


def render_text(text: str, fontsize: int = 40) -> np.ndarray:
    """Black text on white, cropped to the ink with a small margin: (h, w, 3) uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.4 * fontsize * max(len(text), 4) / 40 + 1, 1.2), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.02, 0.5, text, fontsize=fontsize, va="center")
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    rows, cols = (np.flatnonzero((image < 128).any(axis=axes)) for axes in ((1, 2), (0, 2)))
    if rows.size == 0:
        sys.exit("--text: nothing to draw")
    return image[max(rows[0] - 6, 0): rows[-1] + 6, max(cols[0] - 6, 0): cols[-1] + 6]


def model_input(image: np.ndarray) -> tuple[np.ndarray, int]:
    """PaddleOCR's preprocessing: height 48, width by aspect ratio (at most 192), [-1, 1], zero padding.

    Returns the (3, 48, 192) float32 input and the width the text takes.
    """
    from skimage.transform import resize

    h, w = image.shape[:2]
    width = min(WIDTH, int(np.ceil(HEIGHT * w / h)))
    scaled = resize(image, (HEIGHT, width), anti_aliasing=True)  # floats in [0, 1]
    x = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    x[:, :, :width] = (scaled.transpose(2, 0, 1) - 0.5) / 0.5
    return x, width


def text_masks(x: np.ndarray, widths: list[int], n_segments: int) -> np.ndarray:
    """SLIC superpixels of each image's text part; the zero padding is one more superpixel."""
    from glider_plugins.features import superpixel_mask

    masks = np.zeros((len(x), 1, HEIGHT, WIDTH), dtype=np.int64)
    for i, width in enumerate(widths):
        text = superpixel_mask(x[i, :, :, :width], "slic", n_segments=n_segments)[0]
        masks[i, 0, :, :width] = text
        masks[i, 0, :, width:] = text.max() + 1
    return masks


def print_top(label: str, local, k: int = 5) -> None:
    print(f"top interactions ({label}):")
    for rank, (features, strength) in enumerate(local.top(k), start=1):
        print(f"  {rank}. {' x '.join(local.names_of(features)):<24} strength {strength:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/ocr"), help="folder for the pictures")
    parser.add_argument("--text", default="Hello GLIDER")
    parser.add_argument("--segments", type=int, default=40, help="SLIC superpixels asked for")
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="threads of the detector's MLP (1 is fastest on small, shared machines)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import matplotlib.pyplot as plt
    import torch

    from glider_plugins import InteractionAttribution
    from glider_plugins.adapters import adapt
    from glider_plugins.visualization import plot_image_interactions, plot_interactions

    torch.set_num_threads(args.torch_threads)
    path = classifier_path()
    line = render_text(args.text)
    (upright, width), (turned, _) = model_input(line), model_input(line[::-1, ::-1])
    x = np.stack([upright, turned])
    onnx_bytes, logits = with_logits(path)
    model = adapt(onnx_bytes, output_name=logits)
    probabilities = np.stack([adapt(path)(x, target=k) for k in range(2)], axis=1)
    targets = [int(k) for k in probabilities.argmax(axis=1)]
    for name, p, k in zip(("upright", "turned"), probabilities, targets):
        print(f"{name}: the model says {LABELS[k]} degrees (p = {p[k]:.4f})")

    masks = text_masks(x, [width, width], args.segments)
    print(f"{path.name}: explaining the logit '{logits}' over {[int(m.max()) + 1 for m in masks]} superpixels")
    start = time.perf_counter()
    names = [f"sp{i}" for i in range(int(masks.max()) + 1)]
    res = InteractionAttribution(model, perturbation="segment_mean").attribute_interactions(
        x, target=targets, feature_mask=masks, n_samples=args.n_samples, seed=args.seed, feature_names=names)
    print(f"  {res.metadata['n_queries']} onnxruntime queries and detection in {time.perf_counter() - start:.1f} s")

    for i, name in enumerate(("upright", "turned")):
        print_top(f"{name}, class {LABELS[targets[i]]}", res[i])
        path_i = args.out / f"ocr_overlay_{name}.png"
        fig, _ = plot_image_interactions(x[i], masks[i], res[i], top_k=3, title=f"{name}: strokes acting together for '{LABELS[targets[i]]}'", save=path_i)
        plt.close(fig)  # each picture is a pyplot figure: close it once written
        print(f"wrote {path_i}")
    plt.close(plot_interactions(res[0], top_k=8, save=args.out / "ocr_ranking_upright.png")[0])
    print(f"wrote {args.out / 'ocr_ranking_upright.png'}")


if __name__ == "__main__":
    main()
