"""Quick start: train a small click model with planted feature crosses, ship it as ONNX, and ask
glider-plugins which fields work together.

Run with ``python examples/quickstart.py --out out/quickstart`` (about 45 s on one core; the test
suite, ``tox``, runs it in seconds through ``tests/test_examples.py`` with ``--rows 3000 --epochs 2
--instances 4 --n-samples 200``). Everything is generated here: no download. Prints:

1. that the PyTorch model and its ONNX export answer identically through ``adapt``;
2. the top interactions of a few ad impressions, explained through the ONNX model (MADEX);
3. how often each field pair is among an impression's top interactions (a preview of GLIDER),
   next to the crosses that were planted in the data.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn

from glider_plugins import InteractionAttribution
from glider_plugins.adapters import adapt

FIELDS = ["user", "item", "hour", "device", "site", "ad_size"]
CARDINALITIES = [30, 40, 24, 4, 12, 6]
PLANTED = [("user", "item"), ("hour", "device", "site")]


def make_clicks(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Field ids (id 0 = missing) and click labels from a logistic model with planted crosses."""
    ids = np.stack([rng.integers(1, c, size=n) for c in CARDINALITIES], axis=1)
    main = [rng.normal(0, 0.3, size=c) for c in CARDINALITIES]
    logit = sum(main[f][ids[:, f]] for f in range(len(FIELDS)))
    cross2 = rng.normal(0, 1.5, size=(CARDINALITIES[0], CARDINALITIES[1]))
    cross3 = rng.normal(0, 1.5, size=(CARDINALITIES[2], CARDINALITIES[3], CARDINALITIES[4]))
    logit = logit + cross2[ids[:, 0], ids[:, 1]] + cross3[ids[:, 2], ids[:, 3], ids[:, 4]]
    clicks = rng.random(n) < 1 / (1 + np.exp(-logit))
    return ids.astype(np.int64), clicks.astype(np.float32)


class ClickModel(nn.Module):
    def __init__(self, cardinalities: list[int], dim: int = 8) -> None:
        super().__init__()
        offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]])
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.int64))
        self.embedding = nn.Embedding(sum(cardinalities), dim)
        self.mlp = nn.Sequential(nn.Linear(len(cardinalities) * dim, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.embedding(ids + self.offsets).flatten(1))


def train(ids: np.ndarray, clicks: np.ndarray, seed: int, epochs: int = 6) -> ClickModel:
    torch.manual_seed(seed)
    model = ClickModel(CARDINALITIES)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.as_tensor(ids), torch.as_tensor(clicks)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(1024):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[batch])[:, 0], y[batch])
            loss.backward()
            opt.step()
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/quickstart"))
    parser.add_argument("--instances", type=int, default=40, help="impressions explained")
    parser.add_argument("--rows", type=int, default=30_000, help="impressions generated to train the model on")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--n-samples", type=int, default=1000, help="perturbations per impression")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    ids, clicks = make_clicks(args.rows, rng)
    start = time.perf_counter()
    model = train(ids, clicks, args.seed, args.epochs)
    print(f"trained a click model on {len(ids):,} impressions in {time.perf_counter() - start:.1f} s (click rate {clicks.mean():.2f})")

    onnx_path = args.out / "click_model.onnx"
    torch.onnx.export(model, (torch.as_tensor(ids[:2]),), str(onnx_path), input_names=["ids"], output_names=["logit"], dynamic_axes={"ids": {0: "batch"}, "logit": {0: "batch"}}, dynamo=False)
    sample = ids[:5000]
    gap = np.abs(adapt(model)(sample) - adapt(onnx_path)(sample)).max()
    print(f"1. PyTorch and ONNX answer the same through adapt(): max |difference| = {gap:.2e} over {len(sample):,} rows")

    explained = ids[-args.instances:]
    ia = InteractionAttribution(onnx_path, detector="nid")
    res = ia.attribute_interactions(explained, baselines=0, n_samples=args.n_samples, seed=args.seed, feature_names=FIELDS, top_k=10, show_progress=True)
    meta = res.metadata
    print(f"2. explained {len(res)} impressions through ONNX: {meta['n_queries']:,} model queries in {meta['query_seconds']:.2f} s, detection {meta['detect_seconds']:.2f} s")
    for i in range(min(3, len(res))):
        top = ", ".join(f"{' x '.join(res[i].names_of(f))} ({s:.2f})" for f, s in res[i].interactions[:3])
        print(f"   impression {i}: {top}")

    counts = Counter(f for local in res for f, _ in local.top(3))
    print("3. interactions most often among an impression's top 3 (planted: " + "; ".join(" x ".join(p) for p in PLANTED) + "):")
    for feats, count in counts.most_common(5):
        print(f"   {count:3d} / {len(res)}  {' x '.join(FIELDS[f] for f in feats)}")
    res.to_json(args.out / "interactions.json")
    res.to_dataframe().to_csv(args.out / "interactions.csv", index=False)
    print(f"results written to {args.out}/interactions.json and interactions.csv")


if __name__ == "__main__":
    main()
